/* Stage `feed`: the bytes of a feed (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) or of an OPML
 * file in, a feed_doc or a list of feed_conf out. Recovers from malformed XML and reports what
 * it papered over. Never does I/O: libxml2 runs without network, DTD loading or entity
 * substitution, and DTD entities are expanded only by our own walker, under a byte budget. */
#include <limits.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <libxml/HTMLparser.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include "feed.h"

#define DEFAULT_MAX_ITEMS 10000
/* Bytes of internal-subset entity text our walker may expand per document: generous for the
 * odd feed that defines &copy; itself, and far too small for a billion laughs. */
#define ENTITY_BUDGET (1u << 20)
#define MAX_DEPTH 200
#define CN_TZ_S (8 * 3600)

#define NS_ATOM10 "http://www.w3.org/2005/Atom"
#define NS_ATOM03 "http://purl.org/atom/ns#"
#define NS_RSS10 "http://purl.org/rss/1.0/"
#define NS_RSS090 "http://my.netscape.com/rdf/simple/0.9/"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_MEDIA "http://search.yahoo.com/mrss/"
#define NS_ITUNES "http://www.itunes.com/dtds/podcast-1.0.dtd"

/* libxml2's parse errors of one document: counted, the first kept for the report. */
struct xml_errors {
	int n;
	char first[160];
};

struct parse {
	const struct feed_parse_opts *o;
	struct feed_doc *doc;
	struct xml_errors xerr;
	size_t entity_budget;
	int entity_budget_hit;
	size_t max_items;
	size_t n_dropped;
	size_t *slots; /* open-addressing table of item index + 1, keyed by id */
	size_t n_slots;
	size_t cap_items;
	int n_bad_dates;
	char first_bad_date[64];
	int n_bad_links;
	int n_empty;
	char *json_base; /* JSON Feed: the URL relative URLs resolve against */
};

/* ---- libxml2 plumbing ---------------------------------------------------------------- */

static void note_xml_error(struct xml_errors *x, const xmlError *err)
{
	if (!x || !err || err->level < XML_ERR_ERROR)
		return;
	if (x->n++ == 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s", err->message ? err->message : "error");
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		snprintf(x->first, sizeof(x->first), "line %d: %s", err->line, msg);
	}
}

/* Per parser context: libxml2 passes the context, which carries our error record. */
static void on_ctxt_error(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxt *ctxt = ctx;
	note_xml_error(ctxt ? ctxt->_private : NULL, err);
}

/* Errors raised outside a parser context (URI building, encoding handlers) go to libxml2's
 * thread-wide handlers, silenced around each parse (util_xml_quiet_begin): libxml2 must never
 * print on its own. */

/* No NOENT (entities stay references), no DTDLOAD/DTDATTR, no HUGE (size and depth limits and
 * the entity amplification checks stay on), no network. The text is already UTF-8. */
#define XML_OPTS                                                                                   \
	(XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_IGNORE_ENC | XML_PARSE_NOERROR |          \
	 XML_PARSE_NOWARNING)

static xmlDoc *xml_read(const char *s, size_t n, struct xml_errors *xe)
{
	if (n > INT_MAX)
		return NULL;
	xmlParserCtxt *ctxt = xmlCreateMemoryParserCtxt(s, (int)n);
	if (!ctxt)
		return NULL;
	ctxt->sax->serror = on_ctxt_error;
	ctxt->_private = xe;
	xmlCtxtUseOptions(ctxt, XML_OPTS);
	xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
	xmlParseDocument(ctxt);
	xmlDoc *doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	if (doc && !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

/* ---- pre-pass: HTML entities and stray ampersands -------------------------------------- */

struct prepass {
	int n_html; /* &nbsp; and friends turned into character references */
	int n_amp;  /* a lone & turned into a character reference */
	int n_lt;   /* a '<' that starts no markup, likewise */
};

static int is_name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

static int is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Copies s[*i..] through the end marker (or to the end of the input) into b. */
static void copy_through(struct buf *b, const char *s, size_t n, size_t *i, const char *end)
{
	size_t el = strlen(end);
	size_t j = *i;
	while (j + el <= n && memcmp(s + j, end, el) != 0)
		j++;
	j = j + el <= n ? j + el : n;
	buf_add(b, s + *i, j - *i);
	*i = j;
}

/* The DOCTYPE, internal subset included; records the general entities it declares so their
 * references are left alone. */
static void copy_doctype(struct buf *b, const char *s, size_t n, size_t *i, struct strlist *decl)
{
	size_t j = *i + 9;
	int depth = 0;
	char quote = 0;
	while (j < n) {
		char c = s[j];
		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '[') {
			depth++;
		} else if (c == ']') {
			depth--;
		} else if (c == '>' && depth <= 0) {
			j++;
			break;
		} else if (c == '<' && j + 8 < n && memcmp(s + j, "<!ENTITY", 8) == 0) {
			size_t k = j + 8;
			while (k < n &&
			       (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
				k++;
			size_t st = k;
			while (k < n && is_name_char((unsigned char)s[k]))
				k++;
			if (k > st && s[st] != '%' && decl->n < 256)
				strlist_add_owned(decl, xstrndup(s + st, k - st));
		}
		j++;
	}
	buf_add(b, s + *i, j - *i);
	*i = j;
}

/* Not-well-formed feeds use HTML's named entities without a DTD and write bare '&'. Both are
 * fixed before libxml2 sees them, outside CDATA, comments, PIs and the DOCTYPE; the names are
 * looked up in libxml2's HTML entity table. */
static char *prepass_entities(const char *s, size_t n, struct prepass *pp, size_t *out_len)
{
	struct buf b = BUF_INIT;
	struct strlist decl = {0};
	buf_reserve(&b, n + 64);
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '<') {
			if (i + 9 <= n && memcmp(s + i, "<![CDATA[", 9) == 0)
				copy_through(&b, s, n, &i, "]]>");
			else if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0)
				copy_through(&b, s, n, &i, "-->");
			else if (i + 2 <= n && s[i + 1] == '?')
				copy_through(&b, s, n, &i, "?>");
			else if (i + 9 <= n && strncasecmp(s + i, "<!DOCTYPE", 9) == 0)
				copy_doctype(&b, s, n, &i, &decl);
			else if (i + 1 < n && (is_name_start((unsigned char)s[i + 1]) ||
			                       (unsigned char)s[i + 1] >= 0x80 || s[i + 1] == '/' ||
			                       s[i + 1] == '!'))
				buf_putc(&b, s[i++]);
			else {
				/* "a < b" in text: a '<' that cannot start markup */
				buf_puts(&b, "&#60;");
				pp->n_lt++;
				i++;
			}
			continue;
		}
		if (c != '&') {
			size_t j = i;
			while (j < n && s[j] != '&' && s[j] != '<')
				j++;
			buf_add(&b, s + i, j - i);
			i = j;
			continue;
		}
		size_t j = i + 1;
		if (j < n && s[j] == '#') {
			j++;
			int hex = j < n && (s[j] == 'x' || s[j] == 'X');
			j += hex;
			size_t st = j;
			while (j < n &&
			       (hex ? ((s[j] >= '0' && s[j] <= '9') ||
			               (s[j] >= 'a' && s[j] <= 'f') || (s[j] >= 'A' && s[j] <= 'F'))
			            : (s[j] >= '0' && s[j] <= '9')))
				j++;
			if (j > st && j < n && s[j] == ';' && j - st <= 8) {
				buf_add(&b, s + i, j + 1 - i);
				i = j + 1;
				continue;
			}
		} else if (j < n && is_name_start((unsigned char)s[j])) {
			size_t st = j;
			while (j < n && is_name_char((unsigned char)s[j]) && j - st < 40)
				j++;
			if (j < n && s[j] == ';') {
				char name[48];
				memcpy(name, s + st, j - st);
				name[j - st] = '\0';
				/* The five predefined entities as character references: once a
				 * document is not well-formed, libxml2's recovery drops entity
				 * references from the text but still honours character references.
				 */
				static const struct {
					const char *name;
					const char *ref;
				} predef[] = {{"lt", "&#60;"},
				              {"gt", "&#62;"},
				              {"amp", "&#38;"},
				              {"quot", "&#34;"},
				              {"apos", "&#39;"}};
				size_t k;
				for (k = 0; k < ARRAY_SIZE(predef); k++)
					if (!strcmp(name, predef[k].name))
						break;
				if (k < ARRAY_SIZE(predef)) {
					buf_puts(&b, predef[k].ref);
					i = j + 1;
					continue;
				}
				if (strlist_contains(&decl, name)) {
					buf_add(&b, s + i, j + 1 - i);
					i = j + 1;
					continue;
				}
				const htmlEntityDesc *ent = htmlEntityLookup((const xmlChar *)name);
				if (ent) {
					buf_printf(&b, "&#%u;", ent->value);
					pp->n_html++;
					i = j + 1;
					continue;
				}
			}
		}
		buf_puts(&b, "&#38;");
		pp->n_amp++;
		i++;
	}
	strlist_release(&decl);
	return buf_detach(&b, out_len);
}

/* ---- node helpers --------------------------------------------------------------------- */

static int local_is(const xmlNode *n, const char *local)
{
	if (!n || n->type != XML_ELEMENT_NODE || !n->name)
		return 0;
	return strcmp((const char *)n->name, local) == 0;
}

static int ns_is(const xmlNode *n, const char *href)
{
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, href) == 0;
}

/* An element of an extension namespace (dc:, content:, media:). Feeds get the namespace URI
 * wrong (media without its slash) or never declare it, so the usual prefix counts too. */
static int ext_is(const xmlNode *n, const char *href, const char *prefix, const char *local)
{
	if (!n || n->type != XML_ELEMENT_NODE || !n->name)
		return 0;
	if (n->ns) {
		if (strcmp((const char *)n->name, local) != 0)
			return 0;
		if (ns_is(n, href))
			return 1;
		return n->ns->prefix && strcmp((const char *)n->ns->prefix, prefix) == 0;
	}
	size_t pl = strlen(prefix);
	const char *name = (const char *)n->name;
	return strncmp(name, prefix, pl) == 0 && name[pl] == ':' &&
	       strcmp(name + pl + 1, local) == 0;
}

/* A core RSS element: no namespace, RSS 1.0's or 0.90's, or an unprefixed default. */
static int rss_is(const xmlNode *n, const char *local)
{
	if (!local_is(n, local))
		return 0;
	if (!n->ns)
		return 1;
	if (ns_is(n, NS_RSS10) || ns_is(n, NS_RSS090))
		return 1;
	return !n->ns->prefix && !ns_is(n, NS_ATOM10) && !ns_is(n, NS_ATOM03);
}

static int atom_is(const xmlNode *n, const char *local)
{
	if (!local_is(n, local))
		return 0;
	return !n->ns || ns_is(n, NS_ATOM10) || ns_is(n, NS_ATOM03);
}

static void collect_text(struct parse *p, const xmlNode *n, struct buf *out, int depth);

/* The children of an internal entity a reference points at, charged against the budget. */
static const xmlNode *entity_children(struct parse *p, const xmlNode *ref)
{
	if (!ref->doc || !ref->name)
		return NULL;
	xmlEntity *ent = xmlGetDocEntity(ref->doc, ref->name);
	if (!ent || ent->etype != XML_INTERNAL_GENERAL_ENTITY)
		return NULL;
	size_t cost = ent->length > 0 ? (size_t)ent->length : 1;
	if (cost > p->entity_budget) {
		p->entity_budget_hit = 1;
		p->entity_budget = 0;
		return NULL;
	}
	p->entity_budget -= cost;
	return ent->children;
}

static void collect_node(struct parse *p, const xmlNode *c, struct buf *out, int depth)
{
	switch (c->type) {
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		if (c->content)
			buf_puts(out, (const char *)c->content);
		break;
	case XML_ELEMENT_NODE:
		collect_text(p, c->children, out, depth + 1);
		break;
	case XML_ENTITY_REF_NODE:
		collect_text(p, entity_children(p, c), out, depth + 1);
		break;
	default:
		break;
	}
}

/* Text of a node list (element content or attribute value), DTD entities expanded within
 * the budget. Never xmlNodeGetContent: that expands entities without limit. */
static void collect_text(struct parse *p, const xmlNode *n, struct buf *out, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (const xmlNode *c = n; c; c = c->next)
		collect_node(p, c, out, depth);
}

/* The raw text of an element, or NULL when it is absent; caller frees. */
static char *text_of(struct parse *p, const xmlNode *n)
{
	if (!n)
		return NULL;
	struct buf b = BUF_INIT;
	collect_text(p, n->children, &b, 0);
	return buf_detach(&b, NULL);
}

static const xmlAttr *find_attr(const xmlNode *n, const char *name, const char *ns_href)
{
	for (const xmlAttr *a = n ? n->properties : NULL; a; a = a->next) {
		if (!a->name || strcmp((const char *)a->name, name) != 0)
			continue;
		if (ns_href ? (a->ns && a->ns->href && !strcmp((const char *)a->ns->href, ns_href))
		            : !a->ns || !a->ns->prefix)
			return a;
	}
	return NULL;
}

/* An attribute's value (trimmed), or NULL; caller frees. */
static char *attr_of(struct parse *p, const xmlNode *n, const char *name, const char *ns_href)
{
	const xmlAttr *a = find_attr(n, name, ns_href);
	if (!a)
		return NULL;
	struct buf b = BUF_INIT;
	collect_text(p, a->children, &b, 0);
	char *s = buf_detach(&b, NULL);
	util_trim(s);
	return s;
}

static char *trimmed_text(struct parse *p, const xmlNode *n)
{
	char *s = text_of(p, n);
	if (s && !*util_trim(s)) {
		free(s);
		return NULL;
	}
	return s;
}

static void escape_html(struct buf *out, const char *s, int attr)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(out, "&amp;");
			break;
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '"':
			if (attr) {
				buf_puts(out, "&quot;");
				break;
			}
			/* fallthrough */
		default:
			buf_putc(out, *s);
		}
	}
}

/* Inline markup (Atom xhtml content, or HTML that a feed put into <description> unescaped)
 * serialised as HTML with local names, so prefixes like xhtml:p do not leak out. */
static void serialize_html(struct parse *p, const xmlNode *n, struct buf *out, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (const xmlNode *c = n; c; c = c->next) {
		switch (c->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (c->content)
				escape_html(out, (const char *)c->content, 0);
			break;
		case XML_ENTITY_REF_NODE:
			serialize_html(p, entity_children(p, c), out, depth + 1);
			break;
		case XML_ELEMENT_NODE: {
			buf_printf(out, "<%s", (const char *)c->name);
			for (const xmlAttr *a = c->properties; a; a = a->next) {
				struct buf v = BUF_INIT;
				collect_text(p, a->children, &v, depth + 1);
				buf_printf(out, " %s=\"", (const char *)a->name);
				escape_html(out, v.data ? v.data : "", 1);
				buf_putc(out, '"');
				buf_release(&v);
			}
			if (!c->children) {
				buf_puts(out, " />");
				break;
			}
			buf_putc(out, '>');
			serialize_html(p, c->children, out, depth + 1);
			buf_printf(out, "</%s>", (const char *)c->name);
			break;
		}
		default:
			break;
		}
	}
}

static int has_element_child(const xmlNode *n)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

/* xml:lang in force at n, or NULL. */
static char *lang_of(struct parse *p, const xmlNode *n)
{
	for (; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
		char *l = attr_of(p, n, "lang", (const char *)XML_XML_NAMESPACE);
		if (l && *l)
			return l;
		free(l);
	}
	return NULL;
}

/* ---- URLs ----------------------------------------------------------------------------- */

static int is_http_url(const char *s)
{
	return s && (util_starts_with_ci(s, "http://") || util_starts_with_ci(s, "https://"));
}

/* A link the book may point at: http(s), or file: inside a feed that is itself a local file
 * (the offline demo); a remote feed never gets to name a local file. */
static int link_ok(const struct parse *p, const char *u)
{
	if (is_http_url(u))
		return 1;
	return u && util_starts_with_ci(u, "file:") && p->o->url &&
	       util_starts_with_ci(p->o->url, "file:");
}

/* ref resolved against base (either may be NULL) with libxml2's RFC 3986 resolver; a ref with
 * spaces or other unescaped bytes is escaped first. Returns a new string or NULL. */
static char *resolve_url(const char *ref, const char *base)
{
	if (!ref)
		return NULL;
	char *r = xstrdup(ref);
	util_trim(r);
	if (!*r) {
		free(r);
		return NULL;
	}
	if (!base || !*base)
		return r;
	xmlChar *u = xmlBuildURI((const xmlChar *)r, (const xmlChar *)base);
	if (!u) {
		xmlChar *esc =
		    xmlURIEscapeStr((const xmlChar *)r, (const xmlChar *)":/?#[]@!$&'()*+,;=%~");
		if (esc)
			u = xmlBuildURI(esc, (const xmlChar *)base);
		xmlFree(esc);
	}
	free(r);
	if (!u)
		return NULL;
	char *s = xstrdup((const char *)u);
	xmlFree(u);
	return s;
}

/* Whether n or an ancestor carries xml:base. */
static int has_xml_base(const xmlNode *n)
{
	for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
		if (find_attr(n, "base", (const char *)XML_XML_NAMESPACE))
			return 1;
	return 0;
}

/* The base URL in force at n: the feed URL, then each xml:base from the root down.
 * Our own walk instead of xmlNodeGetBase, whose attribute reads expand entities unbounded. */
static char *base_of(struct parse *p, const xmlNode *n)
{
	const xmlNode *chain[32];
	int k = 0;
	for (; n && n->type == XML_ELEMENT_NODE && k < (int)ARRAY_SIZE(chain); n = n->parent)
		if (find_attr(n, "base", (const char *)XML_XML_NAMESPACE))
			chain[k++] = n;
	/* without the feed's URL, its home page is the next best base */
	char *base = xstrdup(p->o->url ? p->o->url : p->doc->link);
	while (k-- > 0) {
		char *v = attr_of(p, chain[k], "base", (const char *)XML_XML_NAMESPACE);
		char *nb = resolve_url(v, base);
		free(v);
		if (nb) {
			free(base);
			base = nb;
		}
	}
	return base;
}

/* A URL from the feed, made absolute against n's base; NULL unless it ends up http(s). */
static char *abs_url(struct parse *p, const xmlNode *n, const char *ref)
{
	if (!ref || !*ref)
		return NULL;
	char *base = base_of(p, n);
	char *u = resolve_url(ref, base);
	free(base);
	if (u && !link_ok(p, u)) {
		p->n_bad_links++;
		free(u);
		u = NULL;
	}
	return u;
}

/* ---- text and HTML conversions -------------------------------------------------------- */

static int has_tag(const char *s)
{
	for (const char *q = strchr(s, '<'); q; q = strchr(q + 1, '<')) {
		char c = q[1];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!')
			return 1;
	}
	return 0;
}

/* "&lt;p" (escaped once too often) or "&amp;lt;p" (twice). */
static int has_escaped_tag(const char *s)
{
	for (const char *q = strstr(s, "&lt;"); q; q = strstr(q + 1, "&lt;")) {
		char c = q[4];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!')
			return 1;
	}
	for (const char *q = strstr(s, "&amp;lt;"); q; q = strstr(q + 1, "&amp;lt;")) {
		char c = q[8];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!')
			return 1;
	}
	return 0;
}

static int has_entity(const char *s)
{
	for (const char *q = strchr(s, '&'); q; q = strchr(q + 1, '&')) {
		const char *r = q + 1;
		if (*r == '#')
			r++;
		const char *st = r;
		while ((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') ||
		       (*r >= '0' && *r <= '9'))
			r++;
		if (r > st && *r == ';')
			return 1;
	}
	return 0;
}

/* Undoes one round of escaping: the five XML entities and their numeric forms only, so that
 * what was escaped HTML comes back exactly. */
static char *unescape_once(const char *s)
{
	static const struct {
		const char *e;
		char c;
	} map[] = {{"&lt;", '<'},   {"&gt;", '>'},    {"&quot;", '"'}, {"&apos;", '\''},
	           {"&#39;", '\''}, {"&#x27;", '\''}, {"&#34;", '"'},  {"&#60;", '<'},
	           {"&#62;", '>'},  {"&amp;", '&'},   {"&#38;", '&'}};
	struct buf b = BUF_INIT;
	while (*s) {
		size_t k;
		for (k = 0; k < ARRAY_SIZE(map); k++) {
			size_t l = strlen(map[k].e);
			if (strncmp(s, map[k].e, l) == 0) {
				buf_putc(&b, map[k].c);
				s += l;
				break;
			}
		}
		if (k == ARRAY_SIZE(map))
			buf_putc(&b, *s++);
	}
	return buf_detach(&b, NULL);
}

/* HTML from a feed whose publisher escaped it once or twice more than the format asks. */
static char *fix_escaped_html(char *s)
{
	for (int round = 0; s && round < 2 && !has_tag(s) && has_escaped_tag(s); round++) {
		char *u = unescape_once(s);
		free(s);
		s = u;
	}
	return s;
}

/* Runs of whitespace (and no-break spaces) become one space; trims. In place. */
static char *collapse_ws(char *s)
{
	char *w = s;
	int space = 1;
	for (const char *r = s; *r;) {
		int ws =
		    *r == ' ' || *r == '\t' || *r == '\n' || *r == '\r' || *r == '\f' || *r == '\v';
		size_t adv = 1;
		if ((unsigned char)r[0] == 0xC2 && (unsigned char)r[1] == 0xA0)
			ws = 1, adv = 2;
		if (ws) {
			if (!space)
				*w++ = ' ';
			space = 1;
			r += adv;
			continue;
		}
		*w++ = *r++;
		space = 0;
	}
	if (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
	return s;
}

static int is_block(const char *name)
{
	static const char *const blocks[] = {"p",  "br", "div",        "li",  "tr",
	                                     "td", "h1", "h2",         "h3",  "h4",
	                                     "h5", "h6", "blockquote", "pre", "hr"};
	for (size_t i = 0; i < ARRAY_SIZE(blocks); i++)
		if (strcasecmp(name, blocks[i]) == 0)
			return 1;
	return 0;
}

static void html_text_walk(const xmlNode *n, struct buf *out, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (const xmlNode *c = n; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content)
				buf_puts(out, (const char *)c->content);
		} else if (c->type == XML_ELEMENT_NODE && c->name) {
			const char *name = (const char *)c->name;
			if (!strcasecmp(name, "script") || !strcasecmp(name, "style"))
				continue;
			if (is_block(name))
				buf_putc(out, ' ');
			html_text_walk(c->children, out, depth + 1);
		}
	}
}

/* The text a reader sees in an HTML fragment: libxml2's HTML parser decodes the entities and
 * the tags are dropped. Returns a new string. */
static char *html_to_text(const char *s)
{
	struct buf b = BUF_INIT;
	htmlParserCtxt *ctxt = htmlNewParserCtxt();
	if (!ctxt)
		die_oom();
	ctxt->sax->serror = on_ctxt_error;
	ctxt->_private = NULL;
	size_t n = strlen(s);
	htmlDocPtr doc = NULL;
	if (n > 0 && n < INT_MAX)
		doc = htmlCtxtReadMemory(ctxt, s, (int)n, NULL, "UTF-8",
		                         HTML_PARSE_RECOVER | HTML_PARSE_NONET |
		                             HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	if (doc)
		html_text_walk(xmlDocGetRootElement(doc), &b, 0);
	else
		buf_puts(&b, s);
	xmlFreeDoc(doc);
	htmlFreeParserCtxt(ctxt);
	return buf_detach(&b, NULL);
}

/* A title: plain text. Markup and entities (once or twice escaped) are decoded and dropped,
 * whitespace collapsed. Takes s. */
static char *plain_title(char *s)
{
	if (!s)
		return NULL;
	for (int round = 0; round < 2 && (has_tag(s) || has_entity(s)); round++) {
		char *t = html_to_text(s);
		free(s);
		s = t;
	}
	return collapse_ws(s);
}

/* Plain text as HTML: escaped, blank lines separate paragraphs, single newlines break. */
static char *text_to_html(const char *s)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<p>");
	for (const char *q = s; *q; q++) {
		if (*q == '\r')
			continue;
		if (*q == '\n') {
			const char *r = q + 1;
			while (*r == ' ' || *r == '\t' || *r == '\r')
				r++;
			if (*r == '\n') {
				while (*r == '\n' || *r == ' ' || *r == '\t' || *r == '\r')
					r++;
				q = r - 1;
				if (*r)
					buf_puts(&b, "</p>\n<p>");
			} else {
				buf_puts(&b, "<br />\n");
			}
			continue;
		}
		char one[2] = {*q, 0};
		escape_html(&b, one, 0);
	}
	buf_puts(&b, "</p>");
	return buf_detach(&b, NULL);
}

/* Content that a feed carries as HTML text, or as inline elements. Returns NULL when empty. */
static char *html_content(struct parse *p, const xmlNode *n)
{
	if (!n)
		return NULL;
	char *s;
	if (has_element_child(n)) {
		struct buf b = BUF_INIT;
		serialize_html(p, n->children, &b, 0);
		s = buf_detach(&b, NULL);
	} else {
		s = fix_escaped_html(text_of(p, n));
	}
	char *t = xstrdup(s);
	if (!*util_trim(t)) {
		free(s);
		s = NULL;
	} else if (!has_tag(t) && !has_entity(t)) {
		/* plain text (no markup at all): its line breaks are worth keeping */
		free(s);
		s = text_to_html(t);
	}
	free(t);
	return s;
}

/* ---- items ---------------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Identity when the feed gives neither guid/id nor link: 64-bit FNV-1a of title "\n" content,
 * in hex. Stable across runs, which is all the state needs. */
static char *hash_id(const char *title, const char *content)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = fnv1a(h, title);
	h = fnv1a(h, "\n");
	h = fnv1a(h, content);
	return xasprintf("%016llx", (unsigned long long)h);
}

static size_t *slot_for(struct parse *p, const char *id)
{
	size_t mask = p->n_slots - 1;
	size_t i = (size_t)fnv1a(0xcbf29ce484222325ULL, id) & mask;
	for (;;) {
		size_t *s = &p->slots[i];
		if (*s == 0 || strcmp(p->doc->items[*s - 1].id, id) == 0)
			return s;
		i = (i + 1) & mask;
	}
}

static void grow_table(struct parse *p)
{
	size_t n = p->n_slots ? p->n_slots * 2 : 64;
	free(p->slots);
	p->slots = xcalloc(n, sizeof(*p->slots));
	p->n_slots = n;
	for (size_t i = 0; i < p->doc->n_items; i++)
		*slot_for(p, p->doc->items[i].id) = i + 1;
}

static void fill(char **dst, char **src)
{
	if ((!*dst || !**dst) && *src && **src) {
		free(*dst);
		*dst = *src;
		*src = NULL;
	}
}

/* Takes the fields of a (and releases it): a new item, or missing fields of an earlier item
 * with the same id. */
static void add_item(struct parse *p, struct article *a)
{
	if (!a->title)
		a->title = xstrdup("");
	if (!*a->title && !a->link && !a->content) {
		/* nothing a reader could see: what recovery leaves of a broken item */
		p->n_empty++;
		article_release(a);
		return;
	}
	if (!a->id || !*a->id) {
		free(a->id);
		a->id = a->link ? xstrdup(a->link) : hash_id(a->title, a->content);
	}
	if ((p->doc->n_items + 1) * 2 > p->n_slots)
		grow_table(p);
	size_t *slot = slot_for(p, a->id);
	if (*slot) {
		struct article *old = &p->doc->items[*slot - 1];
		fill(&old->title, &a->title);
		fill(&old->link, &a->link);
		fill(&old->author, &a->author);
		fill(&old->content, &a->content);
		fill(&old->base_url, &a->base_url);
		fill(&old->lang, &a->lang);
		fill(&old->lead_image, &a->lead_image);
		if ((old->published < 0 || old->date_guessed) && a->published >= 0 &&
		    !a->date_guessed) {
			old->published = a->published;
			old->date_guessed = 0;
		}
		article_release(a);
		return;
	}
	if (p->doc->n_items >= p->max_items) {
		p->n_dropped++;
		article_release(a);
		return;
	}
	if (p->doc->n_items == p->cap_items) {
		p->cap_items = p->cap_items ? p->cap_items * 2 : 16;
		p->doc->items = xrealloc(p->doc->items, p->cap_items * sizeof(*p->doc->items));
	}
	p->doc->items[p->doc->n_items++] = *a;
	*slot = p->doc->n_items;
	memset(a, 0, sizeof(*a));
}

static int tz_for(const char *lang)
{
	return lang && util_starts_with_ci(lang, "zh") ? CN_TZ_S : 0;
}

/* Sets published from a date string; unreadable -> the fetch time, flagged and counted. */
static void set_date(struct parse *p, struct article *a, const char *s)
{
	a->published = -1;
	if (!s)
		return;
	char *t = xstrdup(s);
	collapse_ws(t);
	if (!*t) {
		free(t);
		return;
	}
	int64_t v;
	if (feed_parse_date(t, tz_for(a->lang), &v) == 0) {
		a->published = v;
	} else {
		a->published = p->o->fetch_time;
		a->date_guessed = 1;
		if (p->n_bad_dates++ == 0)
			snprintf(p->first_bad_date, sizeof(p->first_bad_date), "%s", t);
	}
	free(t);
}

static int is_image_type(const char *type)
{
	return type && util_starts_with_ci(type, "image/");
}

/* media:content / media:thumbnail / media:group: the first image URL, or NULL. */
static char *media_image(struct parse *p, const xmlNode *n, int depth)
{
	if (depth > 4)
		return NULL;
	char *thumb = NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (ext_is(c, NS_MEDIA, "media", "content")) {
			char *medium = attr_of(p, c, "medium", NULL);
			char *type = attr_of(p, c, "type", NULL);
			int img = (medium && !strcasecmp(medium, "image")) || is_image_type(type);
			free(medium);
			free(type);
			char *url = img ? attr_of(p, c, "url", NULL) : NULL;
			char *u = abs_url(p, c, url);
			free(url);
			if (u) {
				free(thumb);
				return u;
			}
			if (!thumb)
				thumb = media_image(p, c, depth + 1);
		} else if (ext_is(c, NS_MEDIA, "media", "thumbnail") && !thumb) {
			char *url = attr_of(p, c, "url", NULL);
			thumb = abs_url(p, c, url);
			free(url);
		} else if (ext_is(c, NS_MEDIA, "media", "group")) {
			char *u = media_image(p, c, depth + 1);
			if (u && !thumb)
				thumb = u;
			else
				free(u);
		}
	}
	return thumb;
}

/* "jo@example.org (Jo Bloggs)" -> "Jo Bloggs"; anything else as it is. Takes s. */
static char *rss_author(char *s)
{
	if (!s)
		return NULL;
	char *open = strchr(s, '(');
	char *close = open ? strrchr(open, ')') : NULL;
	if (open && close && close > open + 1 && strchr(s, '@') && strchr(s, '@') < open) {
		char *name = xstrndup(open + 1, (size_t)(close - open - 1));
		free(s);
		s = name;
	}
	s = plain_title(s);
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* ---- RSS 0.9x / 1.0 / 2.0 ------------------------------------------------------------- */

struct rss_fields {
	const xmlNode *title, *desc, *encoded, *date, *dcdate;
	char *guid, *link, *alt_link, *author, *image;
	int guid_permalink;
};

/* An element that belongs to the item itself rather than to its title's text. */
static int rss_item_field(const xmlNode *c)
{
	static const char *const core[] = {"link",     "guid",     "description",
	                                   "pubDate",  "author",   "enclosure",
	                                   "category", "comments", "source"};
	for (size_t i = 0; i < ARRAY_SIZE(core); i++)
		if (rss_is(c, core[i]))
			return 1;
	return ext_is(c, NS_CONTENT, "content", "encoded") || ext_is(c, NS_DC, "dc", "creator") ||
	       ext_is(c, NS_DC, "dc", "date");
}

/* The item's fields among parent's children. A title left open by a stray tag swallows the
 * item's other elements when libxml2 recovers; they are looked for inside it too. */
static void rss_scan(struct parse *p, const xmlNode *parent, struct rss_fields *f, int depth)
{
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (rss_is(c, "title") && !f->title) {
			f->title = c;
			if (depth < 2 && has_element_child(c))
				rss_scan(p, c, f, depth + 1);
		} else if (rss_is(c, "link") && !f->link) {
			char *t = trimmed_text(p, c);
			f->link = abs_url(p, c, t);
			free(t);
		} else if (rss_is(c, "guid") && !f->guid) {
			f->guid = trimmed_text(p, c);
			char *pl = attr_of(p, c, "isPermaLink", NULL);
			f->guid_permalink = !pl || strcasecmp(pl, "false") != 0;
			free(pl);
		} else if (rss_is(c, "description") && !f->desc) {
			f->desc = c;
		} else if (ext_is(c, NS_CONTENT, "content", "encoded") && !f->encoded) {
			f->encoded = c;
		} else if ((rss_is(c, "author") || ext_is(c, NS_DC, "dc", "creator")) &&
		           !f->author) {
			f->author = rss_author(text_of(p, c));
		} else if (rss_is(c, "pubDate") && !f->date) {
			f->date = c;
		} else if ((ext_is(c, NS_DC, "dc", "date") ||
		            ext_is(c, NS_ATOM10, "atom", "published") ||
		            ext_is(c, NS_ATOM10, "atom", "updated")) &&
		           !f->dcdate) {
			f->dcdate = c;
		} else if (rss_is(c, "enclosure") && !f->image) {
			char *type = attr_of(p, c, "type", NULL);
			if (is_image_type(type)) {
				char *url = attr_of(p, c, "url", NULL);
				f->image = abs_url(p, c, url);
				free(url);
			}
			free(type);
		} else if (ext_is(c, NS_ATOM10, "atom", "link") && !f->alt_link) {
			char *rel = attr_of(p, c, "rel", NULL);
			if (!rel || !strcmp(rel, "alternate")) {
				char *href = attr_of(p, c, "href", NULL);
				f->alt_link = abs_url(p, c, href);
				free(href);
			}
			free(rel);
		}
	}
}

/* A title's text, up to the first element that belongs to the item (see rss_scan). */
static char *rss_title_text(struct parse *p, const xmlNode *title)
{
	if (!title)
		return NULL;
	struct buf b = BUF_INIT;
	for (const xmlNode *c = title->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && rss_item_field(c))
			break;
		collect_node(p, c, &b, 0);
	}
	return buf_detach(&b, NULL);
}

static void rss_item(struct parse *p, const xmlNode *item, const char *feed_lang)
{
	struct article a = {0};
	struct rss_fields f = {.guid_permalink = 1};
	a.published = -1;
	a.lang = lang_of(p, item);
	if (!a.lang)
		a.lang = xstrdup(feed_lang);
	rss_scan(p, item, &f, 0);
	if (!f.image)
		f.image = media_image(p, item, 0);
	for (const xmlNode *c = item->children; c && !f.image; c = c->next)
		if (ext_is(c, NS_ITUNES, "itunes", "image")) {
			char *href = attr_of(p, c, "href", NULL);
			f.image = abs_url(p, c, href);
			free(href);
		}
	if (!f.link)
		f.link = f.alt_link, f.alt_link = NULL;
	/* RSS 2.0: a guid that is a permalink is the item's URL */
	if (!f.link && f.guid && f.guid_permalink && is_http_url(f.guid))
		f.link = abs_url(p, item, f.guid);
	if (!f.guid) {
		char *about = attr_of(p, item, "about", NS_RDF);
		if (about && *about)
			f.guid = about;
		else
			free(about);
	}
	a.id = f.guid;
	a.link = f.link;
	a.author = f.author;
	a.lead_image = f.image;
	a.title = plain_title(rss_title_text(p, f.title));
	a.content = html_content(p, f.encoded);
	if (!a.content)
		a.content = html_content(p, f.desc);
	char *d = text_of(p, f.date ? f.date : f.dcdate);
	set_date(p, &a, d);
	free(d);
	const xmlNode *body = f.encoded ? f.encoded : f.desc ? f.desc : item;
	a.base_url = has_xml_base(body) ? base_of(p, body) : xstrdup(a.link);
	if (!a.base_url)
		a.base_url = xstrdup(p->o->url);
	free(f.alt_link);
	add_item(p, &a);
}

static void rss_channel_meta(struct parse *p, const xmlNode *ch)
{
	for (const xmlNode *c = ch ? ch->children : NULL; c; c = c->next) {
		if (rss_is(c, "title") && !p->doc->title) {
			p->doc->title = plain_title(text_of(p, c));
		} else if (rss_is(c, "link") && !p->doc->link) {
			char *t = trimmed_text(p, c);
			p->doc->link = abs_url(p, c, t);
			free(t);
		} else if ((rss_is(c, "language") || ext_is(c, NS_DC, "dc", "language")) &&
		           !p->doc->lang) {
			p->doc->lang = trimmed_text(p, c);
		}
	}
	if (!p->doc->lang && ch)
		p->doc->lang = lang_of(p, ch);
}

/* The items among parent's children, and the ones nested in them: libxml2's recovery puts
 * everything after an unclosed <item> inside it. */
static void rss_items(struct parse *p, const xmlNode *parent, int depth)
{
	for (const xmlNode *c = parent->children; c; c = c->next)
		if (rss_is(c, "item")) {
			rss_item(p, c, p->doc->lang);
			if (depth < MAX_DEPTH)
				rss_items(p, c, depth + 1);
		}
}

static void parse_rss(struct parse *p, const xmlNode *root)
{
	const xmlNode *channel = NULL;
	for (const xmlNode *c = root->children; c; c = c->next)
		if (rss_is(c, "channel")) {
			channel = c;
			break;
		}
	rss_channel_meta(p, channel);
	/* items live in <channel> (RSS 0.9x/2.0) or beside it (RSS 1.0); broken feeds put
	 * them under the root of either */
	const xmlNode *parents[2] = {channel, root};
	for (int k = 0; k < 2; k++)
		if (parents[k])
			rss_items(p, parents[k], 0);
}

/* ---- Atom 1.0 / 0.3 ------------------------------------------------------------------- */

enum text_kind { KIND_TEXT, KIND_HTML, KIND_XHTML, KIND_OTHER };

static enum text_kind atom_kind(struct parse *p, const xmlNode *n)
{
	char *type = attr_of(p, n, "type", NULL);
	char *mode = attr_of(p, n, "mode", NULL);
	enum text_kind k = KIND_TEXT;
	if (!type || !*type || !strcasecmp(type, "text") || !strcasecmp(type, "text/plain"))
		k = KIND_TEXT;
	else if (!strcasecmp(type, "html") || !strcasecmp(type, "text/html"))
		k = KIND_HTML;
	else if (!strcasecmp(type, "xhtml") || !strcasecmp(type, "application/xhtml+xml"))
		k = KIND_XHTML;
	else if (util_starts_with_ci(type, "text/"))
		k = KIND_TEXT;
	else
		k = KIND_OTHER;
	/* Atom 0.3: mode="escaped" is HTML text; mode="xml" (the default) inline markup */
	if (mode && !strcasecmp(mode, "escaped") && k != KIND_OTHER)
		k = KIND_HTML;
	else if (mode && !strcasecmp(mode, "xml") && k == KIND_HTML && has_element_child(n))
		k = KIND_XHTML;
	free(type);
	free(mode);
	return k;
}

/* Children of an xhtml text construct: the div wrapper is not content. */
static const xmlNode *xhtml_body(const xmlNode *n)
{
	const xmlNode *only = NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (only)
				return n->children;
			only = c;
		} else if (c->type == XML_TEXT_NODE && c->content) {
			for (const char *s = (const char *)c->content; *s; s++)
				if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r')
					return n->children;
		}
	}
	return only && local_is(only, "div") ? only->children : n->children;
}

/* An Atom text construct as plain text (titles). */
static char *atom_plain(struct parse *p, const xmlNode *n)
{
	if (!n)
		return NULL;
	enum text_kind k = atom_kind(p, n);
	char *s = text_of(p, n);
	if (k == KIND_HTML || k == KIND_XHTML || has_element_child(n))
		return plain_title(s);
	return collapse_ws(s);
}

/* An Atom text construct (content, summary) as HTML, or NULL. */
static char *atom_html(struct parse *p, const xmlNode *n)
{
	if (!n)
		return NULL;
	enum text_kind k = atom_kind(p, n);
	char *s = NULL;
	if (k == KIND_XHTML || (k != KIND_OTHER && has_element_child(n))) {
		struct buf b = BUF_INIT;
		serialize_html(p, xhtml_body(n), &b, 0);
		s = buf_detach(&b, NULL);
	} else if (k == KIND_HTML) {
		s = fix_escaped_html(text_of(p, n));
	} else if (k == KIND_TEXT) {
		char *t = text_of(p, n);
		util_trim(t);
		s = *t ? text_to_html(t) : NULL;
		free(t);
	}
	if (s) {
		char *t = xstrdup(s);
		if (!*util_trim(t)) {
			free(s);
			s = NULL;
		}
		free(t);
	}
	return s;
}

static char *atom_author(struct parse *p, const xmlNode *parent)
{
	for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
		if (!atom_is(c, "author"))
			continue;
		for (const xmlNode *d = c->children; d; d = d->next)
			if (atom_is(d, "name")) {
				char *s = collapse_ws(text_of(p, d));
				if (*s)
					return s;
				free(s);
			}
	}
	return NULL;
}

/* The entry's or feed's link: rel="alternate" (or none), text/html preferred. */
static char *atom_link(struct parse *p, const xmlNode *parent, char **image)
{
	char *best = NULL;
	int best_html = 0;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!atom_is(c, "link"))
			continue;
		char *rel = attr_of(p, c, "rel", NULL);
		char *type = attr_of(p, c, "type", NULL);
		char *href = attr_of(p, c, "href", NULL);
		if (image && !*image && rel && !strcmp(rel, "enclosure") && is_image_type(type)) {
			*image = abs_url(p, c, href);
		} else if (!rel || !*rel || !strcmp(rel, "alternate")) {
			int html = !type || !strcasecmp(type, "text/html") ||
			           !strcasecmp(type, "application/xhtml+xml");
			if (!best || (html && !best_html)) {
				char *u = abs_url(p, c, href);
				if (u) {
					free(best);
					best = u;
					best_html = html;
				}
			}
		}
		free(rel);
		free(type);
		free(href);
	}
	return best;
}

static void atom_entry(struct parse *p, const xmlNode *entry, const char *feed_author)
{
	struct article a = {0};
	a.published = -1;
	const xmlNode *title = NULL, *content = NULL, *summary = NULL, *published = NULL,
	              *updated = NULL;
	a.lang = lang_of(p, entry);
	if (!a.lang)
		a.lang = xstrdup(p->doc->lang);
	for (const xmlNode *c = entry->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (atom_is(c, "title") && !title)
			title = c;
		else if (atom_is(c, "id") && !a.id)
			a.id = trimmed_text(p, c);
		else if (atom_is(c, "content") && !content)
			content = c;
		else if (atom_is(c, "summary") && !summary)
			summary = c;
		else if ((atom_is(c, "published") || atom_is(c, "issued")) && !published)
			published = c;
		else if ((atom_is(c, "updated") || atom_is(c, "modified") ||
		          atom_is(c, "created")) &&
		         !updated)
			updated = c;
		else if (ext_is(c, NS_DC, "dc", "date") && !updated)
			updated = c;
	}
	a.link = atom_link(p, entry, &a.lead_image);
	if (!a.lead_image)
		a.lead_image = media_image(p, entry, 0);
	a.author = atom_author(p, entry);
	if (!a.author)
		a.author = xstrdup(feed_author);
	a.title = atom_plain(p, title);
	a.content = atom_html(p, content);
	const xmlNode *body = a.content ? content : summary;
	if (!a.content)
		a.content = atom_html(p, summary);
	if (!a.link && content) {
		char *src = attr_of(p, content, "src", NULL);
		a.link = abs_url(p, content, src);
		free(src);
	}
	char *d = text_of(p, published ? published : updated);
	set_date(p, &a, d);
	free(d);
	if (!body)
		body = entry;
	a.base_url = has_xml_base(body) ? base_of(p, body) : xstrdup(a.link);
	if (!a.base_url)
		a.base_url = xstrdup(p->o->url);
	add_item(p, &a);
}

/* Entries, and entries nested in an unclosed one (see rss_items). */
static void atom_entries(struct parse *p, const xmlNode *parent, const char *feed_author, int depth)
{
	for (const xmlNode *c = parent->children; c; c = c->next)
		if (atom_is(c, "entry")) {
			atom_entry(p, c, feed_author);
			if (depth < MAX_DEPTH)
				atom_entries(p, c, feed_author, depth + 1);
		}
}

static void parse_atom(struct parse *p, const xmlNode *root)
{
	p->doc->lang = lang_of(p, root);
	for (const xmlNode *c = root->children; c; c = c->next)
		if (atom_is(c, "title") && !p->doc->title)
			p->doc->title = atom_plain(p, c);
	p->doc->link = atom_link(p, root, NULL);
	char *feed_author = atom_author(p, root);
	atom_entries(p, root, feed_author, 0);
	free(feed_author);
}

/* ---- JSON Feed 1.0 / 1.1 -------------------------------------------------------------- */

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static char *json_url(struct parse *p, const char *s)
{
	if (!s || !*s)
		return NULL;
	char *u = resolve_url(s, p->json_base);
	if (u && !link_ok(p, u)) {
		p->n_bad_links++;
		free(u);
		u = NULL;
	}
	return u;
}

static char *json_author(const cJSON *o)
{
	const cJSON *authors = cJSON_GetObjectItemCaseSensitive(o, "authors");
	const cJSON *author = cJSON_IsArray(authors)
	                          ? cJSON_GetArrayItem(authors, 0)
	                          : cJSON_GetObjectItemCaseSensitive(o, "author");
	const char *name = cJSON_IsObject(author) ? json_str(author, "name") : NULL;
	if (!name)
		return NULL;
	char *s = collapse_ws(xstrdup(name));
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

static void json_item(struct parse *p, const cJSON *it, const char *feed_author)
{
	struct article a = {0};
	a.published = -1;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
	if (cJSON_IsString(id) && id->valuestring)
		a.id = collapse_ws(xstrdup(id->valuestring));
	else if (cJSON_IsNumber(id))
		a.id = xasprintf("%.17g", id->valuedouble);
	a.link = json_url(p, json_str(it, "url"));
	if (!a.link)
		a.link = json_url(p, json_str(it, "external_url"));
	const char *lang = json_str(it, "language");
	a.lang = xstrdup(lang ? lang : p->doc->lang);
	a.title = plain_title(xstrdup(json_str(it, "title")));
	const char *html = json_str(it, "content_html");
	const char *text = json_str(it, "content_text");
	const char *summary = json_str(it, "summary");
	if (html && *html)
		a.content = fix_escaped_html(xstrdup(html));
	else if (text && *text)
		a.content = text_to_html(text);
	else if (summary && *summary)
		a.content = text_to_html(summary);
	a.author = json_author(it);
	if (!a.author)
		a.author = xstrdup(feed_author);
	a.lead_image = json_url(p, json_str(it, "image"));
	if (!a.lead_image)
		a.lead_image = json_url(p, json_str(it, "banner_image"));
	const cJSON *att, *atts = cJSON_GetObjectItemCaseSensitive(it, "attachments");
	if (!cJSON_IsArray(atts))
		atts = NULL;
	cJSON_ArrayForEach(att, atts)
	{
		if (a.lead_image)
			break;
		if (cJSON_IsObject(att) && is_image_type(json_str(att, "mime_type")))
			a.lead_image = json_url(p, json_str(att, "url"));
	}
	const char *d = json_str(it, "date_published");
	set_date(p, &a, d ? d : json_str(it, "date_modified"));
	a.base_url = xstrdup(a.link ? a.link : p->o->url);
	add_item(p, &a);
}

static int parse_json(struct parse *p, const char *s, size_t n, struct err *e)
{
	cJSON *root = cJSON_ParseWithLength(s, n);
	if (!root) {
		err_set(e, FEED_ERR_UNREADABLE, "parse: invalid JSON");
		return -1;
	}
	const char *version = cJSON_IsObject(root) ? json_str(root, "version") : NULL;
	const cJSON *items =
	    cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "items") : NULL;
	if (!cJSON_IsArray(items) ||
	    (version && !util_starts_with_ci(version, "https://jsonfeed.org/version/") &&
	     !util_starts_with_ci(version, "http://jsonfeed.org/version/"))) {
		err_set(e, FEED_ERR_NOT_A_FEED, "parse: not a feed (JSON but not a JSON Feed)");
		cJSON_Delete(root);
		return -1;
	}
	if (!version)
		strlist_add(&p->doc->warnings, "parse: JSON Feed without a version, read as 1.1");
	p->doc->format = "json";
	p->doc->title = plain_title(xstrdup(json_str(root, "title")));
	const char *feed_url = json_str(root, "feed_url");
	const char *home = json_str(root, "home_page_url");
	p->json_base = xstrdup(p->o->url ? p->o->url : feed_url ? feed_url : home);
	p->doc->link = json_url(p, home);
	p->doc->lang = xstrdup(json_str(root, "language"));
	char *feed_author = json_author(root);
	const cJSON *it;
	cJSON_ArrayForEach(it, items)
	{
		if (cJSON_IsObject(it))
			json_item(p, it, feed_author);
	}
	free(feed_author);
	free(p->json_base);
	p->json_base = NULL;
	cJSON_Delete(root);
	return 0;
}

/* ---- entry points --------------------------------------------------------------------- */

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	return s;
}

/* An HTML page by its first markup (after the XML declaration and comments). */
static int looks_like_html(const char *s, size_t n)
{
	const char *end = s + n;
	for (int guard = 0; guard < 16; guard++) {
		s = skip_ws(s, end);
		if (end - s >= 4 && !memcmp(s, "<!--", 4)) {
			const char *c = strstr(s, "-->");
			if (!c)
				return 0;
			s = c + 3;
		} else if (end - s >= 2 && !memcmp(s, "<?", 2)) {
			const char *c = strstr(s, "?>");
			if (!c)
				return 0;
			s = c + 2;
		} else {
			break;
		}
	}
	return (end - s >= 14 && !strncasecmp(s, "<!DOCTYPE html", 14)) ||
	       (end - s >= 5 && !strncasecmp(s, "<html", 5) &&
	        (s[5] == '>' || s[5] == ' ' || s[5] == '\n' || s[5] == '\r' || s[5] == '\t'));
}

/* Decoding, pre-pass and recovering XML parse shared by feeds and OPML. Notes go to
 * warnings; *n_recovered counts what was papered over. NULL when nothing was readable. */
static xmlDoc *read_xml(const char *utf8, size_t n, struct xml_errors *xe, struct strlist *warnings,
                        int *n_recovered)
{
	/* Whitespace or a script's error message before the first tag: an XML declaration is
	 * only allowed at the very start, and libxml2 gives up on text before the root. */
	const char *lt = memchr(utf8, '<', n);
	if (lt && lt > utf8) {
		size_t skip = (size_t)(lt - utf8);
		int junk = 0;
		for (size_t i = 0; i < skip && !junk; i++)
			junk = !strchr(" \t\r\n", utf8[i]);
		if (junk) {
			(*n_recovered)++;
			strlist_add_owned(warnings, xasprintf("parse: skipped %zu bytes of text "
			                                      "before the first tag",
			                                      skip));
		}
		utf8 = lt;
		n -= skip;
	}
	struct prepass pp = {0};
	size_t fixed_len;
	char *fixed = prepass_entities(utf8, n, &pp, &fixed_len);
	if (pp.n_html || pp.n_amp || pp.n_lt) {
		*n_recovered += pp.n_html + pp.n_amp + pp.n_lt;
		strlist_add_owned(warnings,
		                  xasprintf("parse: repaired %d HTML entit%s, %d bare '&' and %d "
		                            "bare '<'",
		                            pp.n_html, pp.n_html == 1 ? "y" : "ies", pp.n_amp,
		                            pp.n_lt));
	}
	xmlDoc *doc = xml_read(fixed, fixed_len, xe);
	free(fixed);
	if (doc && xe->n) {
		*n_recovered += xe->n;
		strlist_add_owned(warnings,
		                  xasprintf("parse: recovered from %d XML error%s (first: %s)",
		                            xe->n, xe->n == 1 ? "" : "s", xe->first));
	}
	return doc;
}

static int parse_xml_feed(struct parse *p, const char *s, size_t n, struct err *e)
{
	xmlDoc *doc = read_xml(s, n, &p->xerr, &p->doc->warnings, &p->doc->n_recovered);
	if (!doc) {
		err_set(e, FEED_ERR_UNREADABLE, "parse: unreadable (%s)",
		        p->xerr.n ? p->xerr.first : "no XML element");
		return -1;
	}
	int rc = 0;
	const xmlNode *root = xmlDocGetRootElement(doc);
	const char *name = (const char *)root->name;
	if (!strcasecmp(name, "rss")) {
		char *v = attr_of(p, root, "version", NULL);
		p->doc->format = v && !strncmp(v, "0.9", 3) ? "rss0.9x" : "rss2";
		free(v);
		parse_rss(p, root);
	} else if (local_is(root, "RDF")) {
		p->doc->format = "rss1";
		for (const xmlNode *c = root->children; c; c = c->next)
			if (local_is(c, "channel") && ns_is(c, NS_RSS090))
				p->doc->format = "rss0.9x";
		parse_rss(p, root);
	} else if (!strcmp(name, "feed")) {
		p->doc->format = ns_is(root, NS_ATOM03) ? "atom0.3" : "atom1";
		parse_atom(p, root);
	} else if (!strcasecmp(name, "html")) {
		err_set(e, FEED_ERR_NOT_A_FEED, "parse: not a feed (HTML page)");
		rc = -1;
	} else if (!strcasecmp(name, "opml")) {
		err_set(e, FEED_ERR_NOT_A_FEED, "parse: not a feed (an OPML subscription list)");
		rc = -1;
	} else {
		err_set(e, FEED_ERR_NOT_A_FEED, "parse: not a feed (root element <%.40s>)", name);
		rc = -1;
	}
	xmlFreeDoc(doc);
	return rc;
}

int feed_parse(const char *data, size_t len, const struct feed_parse_opts *o, struct feed_doc *out,
               struct err *e)
{
	struct feed_parse_opts none = {0};
	if (!o)
		o = &none;
	if (!data || len == 0) {
		err_set(e, FEED_ERR_EMPTY, "parse: empty document");
		return -1;
	}
	struct parse p = {0};
	p.o = o;
	p.doc = out;
	p.entity_budget = ENTITY_BUDGET;
	p.max_items = o->max_items ? o->max_items : DEFAULT_MAX_ITEMS;

	size_t n;
	char *s = feed_to_utf8(data, len, o->http_charset, &n, &out->warnings);
	const char *first = skip_ws(s, s + n);
	int rc;
	struct xml_quiet q;
	util_xml_quiet_begin(&q);
	if (first == s + n) {
		err_set(e, FEED_ERR_EMPTY, "parse: empty document (only whitespace)");
		rc = -1;
	} else if (*first == '{' || *first == '[') {
		rc = parse_json(&p, first, (size_t)(s + n - first), e);
	} else if (looks_like_html(first, (size_t)(s + n - first))) {
		err_set(e, FEED_ERR_NOT_A_FEED, "parse: not a feed (HTML page)");
		rc = -1;
	} else {
		rc = parse_xml_feed(&p, s, n, e);
	}
	util_xml_quiet_end(&q);
	free(s);
	free(p.slots);

	if (rc == 0) {
		if (p.n_dropped)
			strlist_add_owned(&out->warnings,
			                  xasprintf("items: %zu more than the cap of %zu dropped",
			                            p.n_dropped, p.max_items));
		if (p.n_bad_dates)
			strlist_add_owned(
			    &out->warnings,
			    xasprintf("dates: %d unreadable (first \"%s\"), the fetch "
			              "time used instead",
			              p.n_bad_dates, p.first_bad_date));
		if (p.n_empty)
			strlist_add_owned(
			    &out->warnings,
			    xasprintf("items: %d without title, link or content skipped",
			              p.n_empty));
		if (p.n_bad_links)
			strlist_add_owned(
			    &out->warnings,
			    xasprintf("links: %d not http(s) after resolving, dropped",
			              p.n_bad_links));
		if (p.entity_budget_hit) {
			out->n_recovered++;
			strlist_add(&out->warnings, "parse: DTD entity expansion limit reached, "
			                            "the rest left unexpanded");
		}
	} else {
		feed_doc_release(out);
	}
	return rc;
}

/* ---- OPML ----------------------------------------------------------------------------- */

struct opml {
	struct parse *p;
	struct feed_conf *feeds;
	size_t n, cap;
	struct strlist urls;
	struct strlist names;
};

static char *outline_label(struct parse *p, const xmlNode *n)
{
	char *s = attr_of(p, n, "title", NULL);
	if (!s || !*s) {
		free(s);
		s = attr_of(p, n, "text", NULL);
	}
	if (s)
		collapse_ws(s);
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	return s;
}

static void opml_walk(struct opml *w, const xmlNode *n, const char *group, int depth)
{
	if (depth > 32)
		return;
	for (const xmlNode *c = n; c; c = c->next) {
		if (!local_is(c, "outline"))
			continue;
		char *url = attr_of(w->p, c, "xmlUrl", NULL);
		if (!url || !*url) {
			free(url);
			char *text = attr_of(w->p, c, "text", NULL);
			if (!text || !*text) {
				free(text);
				text = outline_label(w->p, c);
			} else {
				collapse_ws(text);
			}
			opml_walk(w, c->children, text ? text : group, depth + 1);
			free(text);
			continue;
		}
		if (strlist_contains(&w->urls, url)) {
			free(url);
			continue;
		}
		char *name = outline_label(w->p, c);
		if (!name)
			name = xstrdup(url);
		/* names become config section names, which must be unique */
		for (int k = 2; strlist_contains(&w->names, name) && k < 1000; k++) {
			char *alt = xasprintf("%s (%d)", name, k);
			if (!strlist_contains(&w->names, alt)) {
				free(name);
				name = alt;
				break;
			}
			free(alt);
		}
		strlist_add(&w->urls, url);
		strlist_add(&w->names, name);
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 16;
			w->feeds = xrealloc(w->feeds, w->cap * sizeof(*w->feeds));
		}
		struct feed_conf *f = &w->feeds[w->n++];
		memset(f, 0, sizeof(*f));
		f->name = name;
		f->url = url;
		f->group = xstrdup(group);
		f->max_articles = -1;
		opml_walk(w, c->children, group, depth + 1);
	}
}

int feed_parse_opml(const char *data, size_t len, struct feed_conf **feeds, size_t *n_feeds,
                    struct err *e)
{
	*feeds = NULL;
	*n_feeds = 0;
	if (!data || len == 0) {
		err_set(e, FEED_ERR_EMPTY, "opml: empty document");
		return -1;
	}
	struct feed_parse_opts o = {0};
	struct parse p = {0};
	struct feed_doc scratch = {0};
	p.o = &o;
	p.doc = &scratch;
	p.entity_budget = ENTITY_BUDGET;
	size_t n;
	char *s = feed_to_utf8(data, len, NULL, &n, &scratch.warnings);
	struct xml_quiet q;
	util_xml_quiet_begin(&q);
	int rc = -1;
	xmlDoc *doc = read_xml(s, n, &p.xerr, &scratch.warnings, &scratch.n_recovered);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!doc) {
		err_set(e, FEED_ERR_UNREADABLE, "opml: unreadable (%s)",
		        p.xerr.n ? p.xerr.first : "no XML element");
	} else if (!local_is(root, "opml")) {
		err_set(e, FEED_ERR_NOT_A_FEED, "opml: not an OPML document (root element <%.40s>)",
		        (const char *)root->name);
	} else {
		struct opml w = {.p = &p};
		for (const xmlNode *c = root->children; c; c = c->next)
			if (local_is(c, "body"))
				opml_walk(&w, c->children, NULL, 0);
		strlist_release(&w.urls);
		strlist_release(&w.names);
		*feeds = w.feeds;
		*n_feeds = w.n;
		rc = 0;
	}
	xmlFreeDoc(doc);
	util_xml_quiet_end(&q);
	free(s);
	feed_doc_release(&scratch);
	return rc;
}
