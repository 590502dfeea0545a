/* Stage `epub`: article fragment import. Input: the XHTML fragment the clean/extract stages made
 * (trusted to be well-formed, but not to be valid XHTML5). Output: nodes that epubcheck accepts
 * (known elements in allowed places, safe attributes, images only when embedded in the book).
 * Never fetches anything and never fails: what does not parse falls back to text. */
#include "epub_frag.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "util.h"

#define MAX_DEPTH 120
#define WIDE_IMAGE_PX 480

enum kind {
	K_DROP = 0, /* element and content go */
	K_UNWRAP,   /* element goes, content stays */
	K_PHRASE,   /* phrasing content (may sit inside <p>) */
	K_PHRASE_VOID,
	K_BLOCK, /* flow content that needs a flow parent */
	K_BLOCK_VOID,
	K_TEXTBLOCK, /* block whose children must be phrasing (p, h1-h6, pre) */
	K_LIST,      /* ul, ol: children li only */
	K_LI,
	K_DL,
	K_DTDD,
	K_TABLE,
	K_TSECT, /* thead, tbody, tfoot */
	K_TR,
	K_TCELL,
	K_CAPTION,
	K_FIGCAPTION,
	K_A,
	K_IMG,
};

struct elem {
	const char *name;
	const char *out; /* output name when it differs (center -> div) */
	enum kind kind;
};

static const struct elem elems[] = {
    {"a", NULL, K_A},
    {"abbr", NULL, K_PHRASE},
    {"address", "div", K_BLOCK},
    {"article", "div", K_BLOCK},
    {"aside", NULL, K_BLOCK},
    {"audio", NULL, K_DROP},
    {"b", NULL, K_PHRASE},
    {"bdi", NULL, K_PHRASE},
    {"big", "span", K_PHRASE},
    {"blockquote", NULL, K_BLOCK},
    {"body", NULL, K_UNWRAP},
    {"br", NULL, K_PHRASE_VOID},
    {"button", NULL, K_DROP},
    {"canvas", NULL, K_DROP},
    {"caption", NULL, K_CAPTION},
    {"center", "div", K_BLOCK},
    {"cite", NULL, K_PHRASE},
    {"code", NULL, K_PHRASE},
    {"col", NULL, K_DROP},
    {"colgroup", NULL, K_DROP},
    {"dd", NULL, K_DTDD},
    {"del", NULL, K_PHRASE},
    {"details", "div", K_BLOCK},
    {"dfn", NULL, K_PHRASE},
    {"div", NULL, K_BLOCK},
    {"dl", NULL, K_DL},
    {"dt", NULL, K_DTDD},
    {"em", NULL, K_PHRASE},
    {"embed", NULL, K_DROP},
    {"figcaption", NULL, K_FIGCAPTION},
    {"figure", NULL, K_BLOCK},
    {"font", "span", K_PHRASE},
    {"footer", NULL, K_BLOCK},
    {"form", NULL, K_DROP},
    {"h1", NULL, K_TEXTBLOCK},
    {"h2", NULL, K_TEXTBLOCK},
    {"h3", NULL, K_TEXTBLOCK},
    {"h4", NULL, K_TEXTBLOCK},
    {"h5", NULL, K_TEXTBLOCK},
    {"h6", NULL, K_TEXTBLOCK},
    {"head", NULL, K_DROP},
    {"header", NULL, K_BLOCK},
    {"hgroup", "div", K_BLOCK},
    {"hr", NULL, K_BLOCK_VOID},
    {"html", NULL, K_UNWRAP},
    {"i", NULL, K_PHRASE},
    {"iframe", NULL, K_DROP},
    {"img", NULL, K_IMG},
    {"input", NULL, K_DROP},
    {"ins", NULL, K_PHRASE},
    {"kbd", NULL, K_PHRASE},
    {"li", NULL, K_LI},
    {"link", NULL, K_DROP},
    {"main", "div", K_BLOCK},
    {"map", NULL, K_DROP},
    {"mark", NULL, K_PHRASE},
    {"math", NULL, K_DROP},
    {"meta", NULL, K_DROP},
    {"mp-miniprogram", NULL, K_DROP},
    {"mpvoice", NULL, K_DROP},
    {"nav", "div", K_BLOCK},
    {"noscript", NULL, K_DROP},
    {"object", NULL, K_DROP},
    {"ol", NULL, K_LIST},
    {"p", NULL, K_TEXTBLOCK},
    {"picture", NULL, K_UNWRAP},
    {"pre", NULL, K_TEXTBLOCK},
    {"q", NULL, K_PHRASE},
    {"rp", NULL, K_PHRASE},
    {"rt", NULL, K_PHRASE},
    {"ruby", NULL, K_PHRASE},
    {"s", NULL, K_PHRASE},
    {"samp", NULL, K_PHRASE},
    {"script", NULL, K_DROP},
    {"section", NULL, K_BLOCK},
    {"select", NULL, K_DROP},
    {"small", NULL, K_PHRASE},
    {"source", NULL, K_DROP},
    {"span", NULL, K_PHRASE},
    {"strike", "s", K_PHRASE},
    {"strong", NULL, K_PHRASE},
    {"style", NULL, K_DROP},
    {"sub", NULL, K_PHRASE},
    {"summary", "p", K_TEXTBLOCK},
    {"sup", NULL, K_PHRASE},
    {"svg", NULL, K_DROP},
    {"table", NULL, K_TABLE},
    {"tbody", NULL, K_TSECT},
    {"td", NULL, K_TCELL},
    {"template", NULL, K_DROP},
    {"textarea", NULL, K_DROP},
    {"tfoot", NULL, K_TSECT},
    {"th", NULL, K_TCELL},
    {"thead", NULL, K_TSECT},
    {"time", NULL, K_PHRASE},
    {"title", NULL, K_DROP},
    {"tr", NULL, K_TR},
    {"tt", "code", K_PHRASE},
    {"u", NULL, K_PHRASE},
    {"ul", NULL, K_LIST},
    {"var", NULL, K_PHRASE},
    {"video", NULL, K_DROP},
    {"wbr", NULL, K_PHRASE_VOID},
};

/* What the output parent accepts. */
enum ctx {
	C_FLOW,   /* any flow content */
	C_PHRASE, /* phrasing only */
	C_LIST,   /* li only */
	C_DL,     /* dt/dd only */
	C_TABLE,  /* caption, thead/tbody/tfoot, tr */
	C_TSECT,  /* tr only */
	C_TR,     /* td/th only */
};

struct imp {
	xmlDoc *doc;
	const struct frag_images *im;
};

static int cmp_elem(const void *key, const void *e)
{
	return strcmp(key, ((const struct elem *)e)->name);
}

static const struct elem *find_elem(const char *name)
{
	char low[32];
	size_t n = strlen(name);

	if (n >= sizeof(low))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	return bsearch(low, elems, ARRAY_SIZE(elems), sizeof(elems[0]), cmp_elem);
}

static int is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

int epub_valid_lang(const char *s)
{
	size_t run = 0, total = 0;

	if (!s || !isalpha((unsigned char)*s))
		return 0;
	for (; *s; s++, total++) {
		if (*s == '-') {
			if (run == 0)
				return 0;
			run = 0;
		} else if (isalnum((unsigned char)*s) && run < 8) {
			run++;
		} else {
			return 0;
		}
	}
	return run > 0 && total <= 35;
}

char *epub_safe_url(const char *url)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	int seen_hash = 0;

	if (!url)
		return NULL;
	while (isspace((unsigned char)*url))
		url++;
	if (!util_starts_with_ci(url, "http://") && !util_starts_with_ci(url, "https://") &&
	    !util_starts_with_ci(url, "mailto:"))
		return NULL;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		int bad = *p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p) ||
		          (*p == '#' && seen_hash) ||
		          (*p == '%' && !(isxdigit(p[1]) && isxdigit(p[2])));
		if (*p == '#')
			seen_hash = 1;
		if (bad) {
			buf_putc(&b, '%');
			buf_putc(&b, hex[*p >> 4]);
			buf_putc(&b, hex[*p & 15]);
		} else {
			buf_putc(&b, (char)*p);
		}
	}
	/* Trailing whitespace was encoded above; a URL ending in "%20" is still valid. */
	return buf_detach(&b, NULL);
}

/* Valid UTF-8 with only the characters XML allows. */
static char *sanitize(const char *s)
{
	return util_utf8_sanitize(s, strlen(s));
}

static char *clean_text(const xmlChar *s)
{
	if (!s)
		return xstrdup("");
	return sanitize((const char *)s);
}

static xmlNode *new_elem(struct imp *ip, xmlNode *parent, const char *name)
{
	xmlNode *n = xmlNewDocNode(ip->doc, NULL, BAD_CAST name, NULL);

	if (!n)
		die_oom();
	xmlAddChild(parent, n);
	return n;
}

static void add_text(struct imp *ip, xmlNode *parent, const char *text)
{
	xmlNode *t = xmlNewDocText(ip->doc, BAD_CAST text);

	if (!t)
		die_oom();
	if (!xmlAddChild(parent, t))
		xmlFreeNode(t); /* merged into a neighbouring text node, which freed nothing */
}

static char *get_attr(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns && a->ns->prefix && strcmp((const char *)a->ns->prefix, "xml") != 0)
			continue;
		if (strcasecmp((const char *)a->name, name) == 0) {
			xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
			char *s = clean_text(v);
			xmlFree(v);
			return s;
		}
	}
	return NULL;
}

static void copy_common_attrs(xmlNode *src, xmlNode *dst)
{
	char *v = get_attr(src, "lang");

	if (v && epub_valid_lang(v)) {
		xmlSetProp(dst, BAD_CAST "lang", BAD_CAST v);
		xmlNodeSetLang(dst, BAD_CAST v);
	}
	free(v);
	v = get_attr(src, "dir");
	if (v && (strcmp(v, "ltr") == 0 || strcmp(v, "rtl") == 0))
		xmlSetProp(dst, BAD_CAST "dir", BAD_CAST v);
	free(v);
	v = get_attr(src, "title");
	if (v && *v)
		xmlSetProp(dst, BAD_CAST "title", BAD_CAST v);
	free(v);
}

static void copy_digits_attr(xmlNode *src, xmlNode *dst, const char *name)
{
	char *v = get_attr(src, name);
	long n;

	if (v && util_parse_long(v, &n) == 0 && n > 0 && n < 1000)
		xmlSetProp(dst, BAD_CAST name, BAD_CAST v);
	free(v);
}

static void import_children(struct imp *ip, xmlNode *src, xmlNode *dst, enum ctx c, int in_a,
                            int depth);

static enum ctx ctx_of(enum kind k)
{
	switch (k) {
	case K_PHRASE:
	case K_TEXTBLOCK:
	case K_A:
	case K_DTDD:
	case K_CAPTION:
		return C_PHRASE;
	case K_LIST:
		return C_LIST;
	case K_DL:
		return C_DL;
	case K_TABLE:
		return C_TABLE;
	case K_TSECT:
		return C_TSECT;
	case K_TR:
		return C_TR;
	default:
		return C_FLOW;
	}
}

/* An <img>: kept when the book embeds it, else its alt text (never a broken image). */
static void import_img(struct imp *ip, xmlNode *src, xmlNode *dst)
{
	const struct frag_images *im = ip->im;
	char *url = get_attr(src, "src");
	char *alt = get_attr(src, "alt");
	const struct book_image *bi = NULL;

	if (!url || !*url || strncmp(url, "data:", 5) == 0) {
		free(url);
		url = get_attr(src, "data-src");
	}
	if (url && im && im->book)
		bi = book_find_image(im->book, url);
	if (bi && im->usable[bi - im->book->images]) {
		xmlNode *img = new_elem(ip, dst, "img");
		char *href = xasprintf("%s%s", im->prefix, bi->href);
		xmlSetProp(img, BAD_CAST "src", BAD_CAST href);
		xmlSetProp(img, BAD_CAST "alt", BAD_CAST(alt ? alt : ""));
		if (bi->width >= WIDE_IMAGE_PX)
			xmlSetProp(img, BAD_CAST "class", BAD_CAST "wide");
		if (!strlist_contains(im->used, bi->href))
			strlist_add(im->used, bi->href);
		free(href);
	} else if (alt && !is_blank(alt)) {
		xmlNode *span = new_elem(ip, dst, "span");
		xmlSetProp(span, BAD_CAST "class", BAD_CAST "img-alt");
		add_text(ip, span, alt);
	}
	free(url);
	free(alt);
}

/* Wraps what a container cannot hold directly into the child it needs (text in <ul> -> <li>). */
static xmlNode *wrapper_for(struct imp *ip, xmlNode *dst, enum ctx c, enum kind k, enum ctx *inner)
{
	switch (c) {
	case C_LIST:
		if (k == K_LI)
			return NULL;
		*inner = C_FLOW;
		return new_elem(ip, dst, "li");
	case C_DL:
		if (k == K_DTDD)
			return NULL;
		*inner = C_FLOW;
		return new_elem(ip, dst, "dd");
	case C_TABLE:
		if (k == K_CAPTION || k == K_TSECT || k == K_TR)
			return NULL;
		/* fall through */
	case C_TSECT:
		if (k == K_TR)
			return NULL;
		if (k == K_TCELL) {
			*inner = C_TR;
			return new_elem(ip, dst, "tr");
		}
		*inner = C_FLOW;
		return new_elem(ip, new_elem(ip, dst, "tr"), "td");
	case C_TR:
		if (k == K_TCELL)
			return NULL;
		*inner = C_FLOW;
		return new_elem(ip, dst, "td");
	default:
		return NULL;
	}
}

/* Rows of a table all go into one <tbody> (after an optional caption): the order rules of
 * thead/tbody/tfoot are not worth keeping on an e-reader. */
static xmlNode *table_body(struct imp *ip, xmlNode *table)
{
	xmlNode *last = xmlGetLastChild(table);

	if (last && last->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)last->name, "tbody") == 0)
		return last;
	return new_elem(ip, table, "tbody");
}

static int is_named(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static void fix_table(xmlNode *table)
{
	int rows = 0;

	for (xmlNode *c = table->children, *next; c; c = next) {
		next = c->next;
		if (is_named(c, "tbody") && !c->children) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (is_named(c, "tbody")) {
			rows++;
		}
	}
	if (!rows) {
		xmlUnlinkNode(table);
		xmlFreeNode(table);
	}
}

/* <dl> must be groups of dt+ dd+; anything else becomes plain blocks. */
static void fix_dl(xmlNode *dl)
{
	int state = 0; /* 0 start, 1 after dt, 2 after dd */
	int ok = 1;

	for (xmlNode *c = dl->children; c; c = c->next) {
		if (is_named(c, "dt")) {
			state = 1;
		} else if (is_named(c, "dd")) {
			if (state == 0)
				ok = 0;
			state = 2;
		} else if (c->type == XML_ELEMENT_NODE ||
		           (c->type == XML_TEXT_NODE && !is_blank((const char *)c->content))) {
			ok = 0;
		}
	}
	if (ok && state == 2)
		return;
	xmlNodeSetName(dl, BAD_CAST "div");
	for (xmlNode *c = dl->children; c; c = c->next)
		if (is_named(c, "dt") || is_named(c, "dd"))
			xmlNodeSetName(c, BAD_CAST "div");
}

static void import_node(struct imp *ip, xmlNode *n, xmlNode *dst, enum ctx c, int in_a, int depth)
{
	const struct elem *el;
	enum kind k;
	xmlNode *out, *wrap;
	enum ctx inner = c;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		char *t = clean_text(n->content);
		if (c != C_FLOW && c != C_PHRASE) {
			if (!is_blank(t)) {
				if (c == C_TABLE) {
					dst = table_body(ip, dst);
					c = C_TSECT;
				}
				wrap = wrapper_for(ip, dst, c, K_PHRASE, &inner);
				if (wrap)
					add_text(ip, wrap, t);
			}
		} else {
			add_text(ip, dst, t);
		}
		free(t);
		return;
	}
	if (n->type != XML_ELEMENT_NODE)
		return;
	el = find_elem((const char *)n->name);
	k = el ? el->kind : K_UNWRAP;
	if (k == K_DROP)
		return;
	if (depth > MAX_DEPTH) {
		xmlChar *t = xmlNodeGetContent(n);
		char *s = clean_text(t);
		xmlFree(t);
		if (c == C_FLOW || c == C_PHRASE)
			add_text(ip, dst, s);
		free(s);
		return;
	}
	if (k == K_UNWRAP) {
		import_children(ip, n, dst, c, in_a, depth + 1);
		return;
	}
	if (c == C_TABLE && !(k == K_CAPTION && !dst->children)) {
		xmlNode *body = table_body(ip, dst);
		if (k == K_TSECT)
			import_children(ip, n, body, C_TSECT, in_a, depth + 1);
		else
			import_node(ip, n, body, C_TSECT, in_a, depth + 1);
		return;
	}
	/* Put the node into something its parent may hold. */
	if (c != C_FLOW && c != C_PHRASE) {
		wrap = wrapper_for(ip, dst, c, k, &inner);
		if (wrap) {
			import_node(ip, n, wrap, inner, in_a, depth + 1);
			return;
		}
	}
	if (c == C_PHRASE && k != K_PHRASE && k != K_PHRASE_VOID && k != K_A && k != K_IMG) {
		/* A block inside phrasing: keep its content, lose the block. */
		if (k == K_BLOCK_VOID)
			return;
		import_children(ip, n, dst, c, in_a, depth + 1);
		return;
	}
	/* Elements that exist only inside a particular parent. */
	if ((k == K_LI && c != C_LIST) || (k == K_DTDD && c != C_DL) ||
	    (k == K_TR && c != C_TABLE && c != C_TSECT) || (k == K_TCELL && c != C_TR) ||
	    (k == K_TSECT && c != C_TABLE) || (k == K_CAPTION && c != C_TABLE) ||
	    k == K_FIGCAPTION) {
		if (k == K_LI || k == K_TCELL || k == K_FIGCAPTION) {
			out = new_elem(
			    ip, dst,
			    k == K_FIGCAPTION &&
			            (!dst->name || strcmp((const char *)dst->name, "figure") == 0)
			        ? "figcaption"
			        : "div");
			copy_common_attrs(n, out);
			import_children(ip, n, out, C_FLOW, in_a, depth + 1);
		} else if (k == K_DTDD || k == K_CAPTION) {
			out = new_elem(ip, dst, "p");
			import_children(ip, n, out, C_PHRASE, in_a, depth + 1);
		} else {
			import_children(ip, n, dst, C_FLOW, in_a, depth + 1);
		}
		return;
	}
	if (k == K_IMG) {
		import_img(ip, n, dst);
		return;
	}
	if (k == K_A) {
		char *href = get_attr(n, "href");
		char *safe = epub_safe_url(href);
		free(href);
		if (in_a || !safe) {
			/* No nested links, no links into pages the book does not have. */
			out = new_elem(ip, dst, "span");
		} else {
			out = new_elem(ip, dst, "a");
			xmlSetProp(out, BAD_CAST "href", BAD_CAST safe);
		}
		free(safe);
		copy_common_attrs(n, out);
		import_children(ip, n, out, c, 1, depth + 1);
		return;
	}
	out = new_elem(ip, dst, el->out ? el->out : el->name);
	copy_common_attrs(n, out);
	if (k == K_TCELL) {
		copy_digits_attr(n, out, "colspan");
		copy_digits_attr(n, out, "rowspan");
	}
	if (k == K_LIST && strcmp(el->name, "ol") == 0)
		copy_digits_attr(n, out, "start");
	if (k == K_PHRASE_VOID || k == K_BLOCK_VOID)
		return;
	import_children(ip, n, out, ctx_of(k), in_a, depth + 1);
	if (k == K_TABLE) {
		fix_table(out);
	} else if ((k == K_LIST || k == K_DL || k == K_TSECT || k == K_TR) && !out->children) {
		/* A list or row left empty would be invalid. */
		xmlUnlinkNode(out);
		xmlFreeNode(out);
	} else if (k == K_DL) {
		fix_dl(out);
	}
}

static void import_children(struct imp *ip, xmlNode *src, xmlNode *dst, enum ctx c, int in_a,
                            int depth)
{
	for (xmlNode *n = src->children; n; n = n->next)
		import_node(ip, n, dst, c, in_a, depth);
}

static void silent_error(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static void import_text(struct imp *ip, xmlNode *parent, const char *text)
{
	char *clean = sanitize(text);
	char *line = clean;

	/* One paragraph per non-empty line. */
	while (line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!is_blank(line))
			add_text(ip, new_elem(ip, parent, "p"), util_trim(line));
		line = nl ? nl + 1 : NULL;
	}
	free(clean);
}

int epub_frag_import(xmlDoc *doc, xmlNode *parent, const char *frag, const struct frag_images *im)
{
	struct imp ip = {doc, im};
	struct buf wrapped = BUF_INIT;
	xmlParserCtxt *ctxt;
	xmlDoc *src = NULL;
	char *clean;
	int rc = 0;

	if (!frag)
		return 0;
	clean = sanitize(frag);
	/* The fragment is a sequence of elements; a wrapper makes it a document to parse. */
	buf_puts(&wrapped, "<div>");
	buf_puts(&wrapped, clean);
	buf_puts(&wrapped, "</div>");
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		die_oom();
	ctxt->sax->serror = silent_error;
	src = xmlCtxtReadMemory(ctxt, wrapped.data, (int)wrapped.len, NULL, "utf-8",
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                            XML_PARSE_NOCDATA);
	xmlFreeParserCtxt(ctxt);
	if (src && xmlDocGetRootElement(src)) {
		import_children(&ip, xmlDocGetRootElement(src), parent, C_FLOW, 0, 0);
		goto out;
	}
	xmlFreeDoc(src);
	src = NULL;
	rc = 1;
	ctxt = (xmlParserCtxt *)htmlNewParserCtxt();
	if (!ctxt)
		die_oom();
	ctxt->sax->serror = silent_error;
	src = htmlCtxtReadMemory(ctxt, clean, (int)strlen(clean), NULL, "utf-8",
	                         HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                             HTML_PARSE_RECOVER | HTML_PARSE_NOIMPLIED);
	htmlFreeParserCtxt(ctxt);
	if (src && xmlDocGetRootElement(src)) {
		for (xmlNode *n = src->children; n; n = n->next)
			import_node(&ip, n, parent, C_FLOW, 0, 0);
	} else {
		import_text(&ip, parent, clean);
	}
out:
	xmlFreeDoc(src);
	buf_release(&wrapped);
	free(clean);
	return rc;
}
