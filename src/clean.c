/* Stage `clean`: article HTML bytes in (any charset, fragment, page or plain text); a safe,
 * well-formed XHTML fragment, its image URLs in document order and its visible-text length out.
 * An allow-list walk over libxml2's HTML tree into a fresh xmlDoc. Never does I/O, never
 * fetches or executes anything, and nothing executable (scripts, handlers, styles) survives. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include "clean.h"

#define DEFAULT_DEVICE_WIDTH 1236
/* Past this input depth a subtree keeps only its text: bounds the recursion of the walk and
 * the depth of the output. */
#define MAX_DEPTH 96

enum kind {
	K_INLINE_UNWRAP = 0, /* unknown elements: text kept, no block break */
	K_DROP,              /* dropped with everything inside */
	K_BLOCK_UNWRAP,      /* div-like: text kept, a block break around it */
	K_PARA,              /* phrasing content only: p, h1-h6, pre, dt */
	K_BOX,               /* flow content: blockquote, figure */
	K_ITEM,              /* only valid under a particular parent: li, dd, td, th, caption... */
	K_LIST,
	K_DL,
	K_TABLE,
	K_TSECTION,
	K_TR,
	K_INLINE,
	K_BR,
	K_HR,
	K_IMG,
	K_PICTURE,
	K_MEDIA,
	K_NOSCRIPT,
};

struct tag {
	const char *name;
	enum kind kind;
	const char *out; /* output name when it differs */
};

static const struct tag tags[] = {
    {"a", K_INLINE, NULL},
    {"abbr", K_INLINE, NULL},
    {"acronym", K_INLINE, "abbr"},
    {"address", K_BLOCK_UNWRAP, NULL},
    {"applet", K_DROP, NULL},
    {"area", K_DROP, NULL},
    {"article", K_BLOCK_UNWRAP, NULL},
    {"aside", K_BLOCK_UNWRAP, NULL},
    {"audio", K_MEDIA, NULL},
    {"b", K_INLINE, NULL},
    {"base", K_DROP, NULL},
    {"basefont", K_DROP, NULL},
    {"bdi", K_INLINE, NULL},
    {"blockquote", K_BOX, NULL},
    {"body", K_BLOCK_UNWRAP, NULL},
    {"br", K_BR, NULL},
    {"button", K_DROP, NULL},
    {"canvas", K_DROP, NULL},
    {"caption", K_ITEM, NULL},
    {"center", K_BLOCK_UNWRAP, NULL},
    {"cite", K_INLINE, NULL},
    {"code", K_INLINE, NULL},
    {"col", K_DROP, NULL},
    {"colgroup", K_DROP, NULL},
    {"datalist", K_DROP, NULL},
    {"dd", K_ITEM, NULL},
    {"del", K_INLINE, NULL},
    {"details", K_BLOCK_UNWRAP, NULL},
    {"dfn", K_INLINE, NULL},
    {"dialog", K_DROP, NULL},
    {"dir", K_LIST, "ul"},
    {"div", K_BLOCK_UNWRAP, NULL},
    {"dl", K_DL, NULL},
    {"dt", K_ITEM, NULL},
    {"em", K_INLINE, NULL},
    {"embed", K_DROP, NULL},
    {"fieldset", K_BLOCK_UNWRAP, NULL},
    {"figcaption", K_ITEM, NULL},
    {"figure", K_BOX, NULL},
    {"footer", K_BLOCK_UNWRAP, NULL},
    {"form", K_BLOCK_UNWRAP, NULL},
    {"frame", K_DROP, NULL},
    {"frameset", K_DROP, NULL},
    {"h1", K_PARA, NULL},
    {"h2", K_PARA, NULL},
    {"h3", K_PARA, NULL},
    {"h4", K_PARA, NULL},
    {"h5", K_PARA, NULL},
    {"h6", K_PARA, NULL},
    {"head", K_DROP, NULL},
    {"header", K_BLOCK_UNWRAP, NULL},
    {"hgroup", K_BLOCK_UNWRAP, NULL},
    {"hr", K_HR, NULL},
    {"html", K_BLOCK_UNWRAP, NULL},
    {"i", K_INLINE, NULL},
    {"iframe", K_MEDIA, NULL},
    {"image", K_IMG, NULL},
    {"img", K_IMG, NULL},
    {"input", K_DROP, NULL},
    {"ins", K_INLINE, NULL},
    {"kbd", K_INLINE, NULL},
    {"keygen", K_DROP, NULL},
    {"legend", K_BLOCK_UNWRAP, NULL},
    {"li", K_ITEM, NULL},
    {"link", K_DROP, NULL},
    {"listing", K_PARA, "pre"},
    {"main", K_BLOCK_UNWRAP, NULL},
    {"map", K_DROP, NULL},
    {"mark", K_INLINE, NULL},
    {"math", K_DROP, NULL},
    {"menu", K_LIST, "ul"},
    {"menuitem", K_DROP, NULL},
    {"meta", K_DROP, NULL},
    {"meter", K_DROP, NULL},
    {"mpcps", K_DROP, NULL},
    {"mpprofile", K_DROP, NULL},
    {"mpvideosnap", K_DROP, NULL},
    {"mpvoice", K_DROP, NULL},
    {"nav", K_BLOCK_UNWRAP, NULL},
    {"noembed", K_DROP, NULL},
    {"noframes", K_DROP, NULL},
    {"noscript", K_NOSCRIPT, NULL},
    {"object", K_DROP, NULL},
    {"ol", K_LIST, NULL},
    {"optgroup", K_DROP, NULL},
    {"option", K_DROP, NULL},
    {"output", K_DROP, NULL},
    {"p", K_PARA, NULL},
    {"param", K_DROP, NULL},
    {"picture", K_PICTURE, NULL},
    {"plaintext", K_PARA, "pre"},
    {"portal", K_DROP, NULL},
    {"pre", K_PARA, NULL},
    {"progress", K_DROP, NULL},
    {"q", K_INLINE, NULL},
    {"qqmusic", K_DROP, NULL},
    {"rp", K_DROP, NULL},
    {"s", K_INLINE, NULL},
    {"samp", K_INLINE, NULL},
    {"script", K_DROP, NULL},
    {"section", K_BLOCK_UNWRAP, NULL},
    {"select", K_DROP, NULL},
    {"slot", K_DROP, NULL},
    {"small", K_INLINE, NULL},
    {"source", K_DROP, NULL},
    {"strike", K_INLINE, "s"},
    {"strong", K_INLINE, NULL},
    {"style", K_DROP, NULL},
    {"sub", K_INLINE, NULL},
    {"summary", K_BLOCK_UNWRAP, NULL},
    {"sup", K_INLINE, NULL},
    {"svg", K_DROP, NULL},
    {"table", K_TABLE, NULL},
    {"tbody", K_TSECTION, NULL},
    {"td", K_ITEM, NULL},
    {"template", K_DROP, NULL},
    {"textarea", K_DROP, NULL},
    {"tfoot", K_TSECTION, NULL},
    {"th", K_ITEM, NULL},
    {"thead", K_TSECTION, NULL},
    {"title", K_DROP, NULL},
    {"tr", K_TR, NULL},
    {"track", K_DROP, NULL},
    {"tt", K_INLINE, "code"},
    {"u", K_INLINE, NULL},
    {"ul", K_LIST, NULL},
    {"var", K_INLINE, NULL},
    {"video", K_MEDIA, NULL},
    {"wbr", K_DROP, NULL},
    {"xmp", K_PARA, "pre"},
};

static const struct tag *tag_of(const xmlNode *n)
{
	static const struct tag unknown = {"", K_INLINE_UNWRAP, NULL};
	if (n->type != XML_ELEMENT_NODE || !n->name)
		return &unknown;
	const char *name = (const char *)n->name;
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
		if (strcmp(tags[i].name, name) == 0)
			return &tags[i];
	/* WeChat's custom elements (mp-miniprogram, mp-common-profile, ...) are widgets. */
	static const struct tag wechat = {"", K_DROP, NULL};
	if (strncmp(name, "mp-", 3) == 0)
		return &wechat;
	return &unknown;
}

static const char *out_name(const xmlNode *n)
{
	const struct tag *t = tag_of(n);
	return t->out ? t->out : (const char *)n->name;
}

/* Output-side classes: which output elements hold phrasing, which are inline. */
static int out_is_inline(const xmlNode *n)
{
	static const char *const inl[] = {"a",     "abbr",   "b",    "bdi", "br", "cite",
	                                  "code",  "del",    "dfn",  "em",  "i",  "img",
	                                  "ins",   "kbd",    "mark", "q",   "s",  "samp",
	                                  "small", "strong", "sub",  "sup", "u",  "var"};
	if (n->type != XML_ELEMENT_NODE)
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(inl); i++)
		if (strcmp(inl[i], (const char *)n->name) == 0)
			return 1;
	return 0;
}

static int name_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* ---- the walk's state ---- */

struct ctx {
	const struct clean_opts *o;
	struct clean_result *r;  /* for the images left out on purpose */
	xmlDoc *out;
	int device_width;
	struct clean_selector *remove;
	struct clean_selector *keep;
};

/* A flow container being filled: loose inline content goes into an automatic <p>. */
struct flow {
	xmlNode *parent;
	xmlNode *open;     /* the automatic <p> collecting inline content, or NULL */
	const char *lang;  /* language in force in the input here */
	const char *plang; /* language the output parent already declares */
	int in_figure;
};

enum { PHR_PRE = 1, PHR_IN_A = 2 };

/* Input nodes carry flags in _private (the HTML parser leaves it unused). */
enum { IN_HAS_BLOCK = 1 };
/* Output automatic paragraphs are marked through _private too. */
static char auto_mark;

static void walk_flow(struct ctx *c, xmlNode *n, struct flow *f, int depth);
static void walk_children_flow(struct ctx *c, xmlNode *in, struct flow *f, int depth);
static void walk_children_phr(struct ctx *c, xmlNode *in, xmlNode *out, int flags, int depth);

/* ---- small string helpers ---- */

/* buf_detach leaves reserved-but-empty buffers unterminated: never hand those out. */
static char *buf_take(struct buf *b)
{
	if (b->len == 0) {
		buf_release(b);
		return xstrdup("");
	}
	return buf_detach(b, NULL);
}

/* util_utf8_sanitize with a guaranteed terminator, even when nothing survives. */
static char *sanitize(const char *s, size_t n)
{
	char *tmp = xmalloc(n + 2);
	memcpy(tmp, s, n);
	tmp[n] = '.';
	tmp[n + 1] = '\0';
	char *r = util_utf8_sanitize(tmp, n + 1);
	free(tmp);
	r[strlen(r) - 1] = '\0';
	return r;
}

static char *prop(const xmlNode *n, const char *name)
{
	return (char *)xmlGetProp(n, BAD_CAST name);
}

static int is_space_cp(int32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == 0xA0 ||
	       cp == 0x3000 || cp == 0x200B || cp == 0xFEFF || (cp >= 0x2000 && cp <= 0x200A);
}

/* Visible (non-space) code points of s. */
static size_t visible_chars(const char *s)
{
	size_t n = 0;
	const char *end = s + strlen(s);
	while (s < end) {
		int32_t cp = util_utf8_next(&s, end);
		if (cp < 0) {
			s++;
			continue;
		}
		if (!is_space_cp(cp))
			n++;
	}
	return n;
}

static int has_visible(const char *s)
{
	const char *end = s + strlen(s);
	while (s < end) {
		int32_t cp = util_utf8_next(&s, end);
		if (cp < 0)
			return 1;
		if (!is_space_cp(cp))
			return 1;
	}
	return 0;
}

static int ascii_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Bytes a URL may carry as they are; everything else is percent-encoded. */
static int url_byte_ok(unsigned char b)
{
	return b > 0x20 && b < 0x7F && !strchr("<>\"{}|\\^`", b);
}

/* Trims, drops tab/CR/LF (as browsers do before reading a scheme) and percent-encodes what
 * may not appear in a URI; already-encoded input is left as it is. */
static char *url_tidy(const char *raw)
{
	struct buf b = BUF_INIT;
	const unsigned char *p = (const unsigned char *)raw;
	while (*p && *p <= 0x20)
		p++;
	size_t n = strlen((const char *)p);
	while (n && p[n - 1] <= 0x20)
		n--;
	int data = util_starts_with_ci((const char *)p, "data:");
	int seen_hash = 0;
	buf_reserve(&b, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (data && ch == ' ')
			continue;
		/* What RFC 3986 (and so epubcheck) refuses: a stray %, brackets outside a host,
		 * a second #. */
		int encode = 0;
		if (!data && ch == '%')
			encode = !(i + 2 < n && isxdigit(p[i + 1]) && isxdigit(p[i + 2]));
		else if (!data && (ch == '[' || ch == ']'))
			encode = 1;
		else if (!data && ch == '#')
			encode = seen_hash++ > 0;
		if (encode)
			buf_printf(&b, "%%%02X", ch);
		else if (url_byte_ok(ch))
			buf_putc(&b, (char)ch);
		else
			buf_printf(&b, "%%%02X", ch);
	}
	return buf_take(&b);
}

static int scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(url, scheme, n) == 0 && url[n] == ':';
}

/* A web URL must name a plain host (LDH labels, or a dotted IPv4 address; an optional port):
 * no userinfo, no percent signs, nothing a URL parser (and so epubcheck) would refuse. */
static int host_ok(const char *url)
{
	const char *p = strchr(url, ':');
	if (!p || strncmp(p, "://", 3) != 0)
		return 0;
	p += 3;
	size_t n = strcspn(p, "/?#");
	const char *colon = memchr(p, ':', n);
	size_t hn = colon ? (size_t)(colon - p) : n;
	if (hn && p[hn - 1] == '.')
		hn--; /* a fully qualified name's trailing dot */
	if (hn == 0)
		return 0;
	int labels = 0, numeric_labels = 0, last_numeric = 0;
	for (size_t i = 0; i < hn;) {
		size_t j = i;
		int digits = 1;
		long value = 0;
		while (j < hn && p[j] != '.') {
			char ch = p[j];
			if (!isalnum((unsigned char)ch) && ch != '-')
				return 0;
			if (!isdigit((unsigned char)ch))
				digits = 0;
			else if (value < 1000)
				value = value * 10 + (ch - '0');
			j++;
		}
		if (j == i || p[i] == '-' || p[j - 1] == '-' || j - i > 63)
			return 0;
		labels++;
		last_numeric = digits && value <= 255;
		numeric_labels += last_numeric;
		if (digits && value > 255 && j == hn)
			return 0;
		i = j + 1;
		if (j < hn && i >= hn)
			return 0;
	}
	/* A numeric last label makes the whole host an IPv4 address. */
	if (last_numeric && (labels != 4 || numeric_labels != 4))
		return 0;
	if (colon) {
		size_t pn = n - (size_t)(colon - p) - 1;
		long port = 0;
		if (pn == 0 || pn > 5)
			return 0;
		for (size_t i = 0; i < pn; i++) {
			if (!isdigit((unsigned char)colon[1 + i]))
				return 0;
			port = port * 10 + (colon[1 + i] - '0');
		}
		if (port > 65535)
			return 0;
	}
	return 1;
}

/* An absolute URL for ref, or NULL. Relative references need a base. */
static char *resolve(const struct ctx *c, const char *ref)
{
	if (!ref)
		return NULL;
	char *t = url_tidy(ref);
	if (!*t) {
		free(t);
		return NULL;
	}
	if (scheme_is(t, "data"))
		return t;
	xmlChar *abs = NULL;
	const char *base = c->o->base_url;
	if (strncmp(t, "//", 2) == 0 && (!base || !*base)) {
		char *with_scheme = xasprintf("https:%s", t);
		free(t);
		t = with_scheme;
	} else if (base && *base) {
		char *tb = url_tidy(base);
		abs = xmlBuildURI(BAD_CAST t, BAD_CAST tb);
		free(tb);
	}
	char *r = NULL;
	if (abs) {
		r = url_tidy((const char *)abs);
		xmlFree(abs);
	} else {
		r = xstrdup(t);
	}
	free(t);
	/* Without a scheme the reference stayed relative: nothing to point at. */
	const char *q = r;
	while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
		q++;
	if (*q != ':' || q == r ||
	    ((scheme_is(r, "http") || scheme_is(r, "https")) && !host_ok(r))) {
		free(r);
		return NULL;
	}
	return r;
}

/* host and path of an absolute URL (lower-case host), via libxml2's URI parser. */
static int url_parts(const char *url, char **host, char **path)
{
	xmlURI *u = xmlParseURI(url);
	if (!u)
		return -1;
	*host = xstrdup(u->server ? u->server : "");
	for (char *h = *host; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	*path = xstrdup(u->path ? u->path : "");
	xmlFreeURI(u);
	return 0;
}

/* ---- noise ---- */

static int host_is(const char *host, const char *want)
{
	size_t hl = strlen(host), wl = strlen(want);
	if (hl == wl)
		return strcmp(host, want) == 0;
	return hl > wl && host[hl - wl - 1] == '.' && strcmp(host + hl - wl, want) == 0;
}

struct host_path {
	const char *host;
	const char *path; /* prefix, "" for any */
};

static int url_matches(const char *url, const struct host_path *list, size_t n)
{
	char *host, *path;
	if (!scheme_is(url, "http") && !scheme_is(url, "https"))
		return 0;
	if (url_parts(url, &host, &path) < 0)
		return 0;
	int hit = 0;
	for (size_t i = 0; i < n && !hit; i++)
		hit = host_is(host, list[i].host) &&
		      strncmp(path, list[i].path, strlen(list[i].path)) == 0;
	free(host);
	free(path);
	return hit;
}

static int is_tracker_url(const char *url)
{
	static const struct host_path trackers[] = {
	    {"feeds.feedburner.com", "/~r/"},
	    {"feeds.feedburner.com", "/~ff/"},
	    {"feedproxy.google.com", "/~r/"},
	    {"pixel.wp.com", ""},
	    {"stats.wordpress.com", ""},
	    {"google-analytics.com", ""},
	    {"stats.g.doubleclick.net", ""},
	    {"ad.doubleclick.net", ""},
	    {"pixel.quantserve.com", ""},
	    {"scorecardresearch.com", ""},
	    {"www.facebook.com", "/tr"},
	    {"mp.weixin.qq.com", "/mp/"},
	    {"eotrx.substackcdn.com", ""},
	    {"pixel.mathtag.com", ""},
	    {"bat.bing.com", ""},
	    {"ct.pinterest.com", ""},
	    {"www.assoc-amazon.com", ""},
	    {"api.mixpanel.com", ""},
	    {"feeds.wordpress.com", "/1.0/"},
	    {"pixel.substack.com", ""},
	};
	return url_matches(url, trackers, ARRAY_SIZE(trackers));
}

static int is_share_url(const char *url)
{
	static const struct host_path share[] = {
	    {"facebook.com", "/sharer"},
	    {"twitter.com", "/intent/"},
	    {"twitter.com", "/share"},
	    {"x.com", "/intent/"},
	    {"linkedin.com", "/shareArticle"},
	    {"reddit.com", "/submit"},
	    {"pinterest.com", "/pin/create"},
	    {"service.weibo.com", "/share"},
	    {"t.me", "/share"},
	    {"api.whatsapp.com", "/send"},
	    {"news.ycombinator.com", "/submitlink"},
	};
	return url_matches(url, share, ARRAY_SIZE(share));
}

/* class/id words that mark a share or social widget. */
static int has_share_token(const char *v)
{
	static const char *const words[] = {"share",     "sharing",      "sharethis", "sharedaddy",
	                                    "addtoany",  "social",       "socials",   "a2a",
	                                    "subscribe", "subscription", "button"};
	const char *p = v;
	while (*p) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		const char *s = p;
		while (isalnum((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - s);
		for (size_t i = 0; n && i < ARRAY_SIZE(words); i++)
			if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
				return 1;
	}
	return 0;
}

static int style_hides(const char *style)
{
	struct buf b = BUF_INIT;
	for (const char *p = style; *p; p++)
		if (!ascii_ws(*p))
			buf_putc(&b, (char)tolower((unsigned char)*p));
	int hidden = b.len && strstr(b.data, "display:none") != NULL;
	buf_release(&b);
	return hidden;
}

static int is_noise(const xmlNode *n)
{
	int noise = 0;
	char *v;
	if (xmlHasProp(n, BAD_CAST "hidden"))
		return 1;
	if ((v = prop(n, "style"))) {
		noise = style_hides(v);
		xmlFree(v);
		if (noise)
			return 1;
	}
	for (int i = 0; i < 2 && !noise; i++) {
		v = prop(n, i ? "id" : "class");
		if (v && has_share_token(v)) {
			/* Only small blocks: an article about "social" media keeps its body. */
			xmlChar *text = xmlNodeGetContent(n);
			noise = !text || visible_chars((const char *)text) <= 200;
			xmlFree(text);
		}
		xmlFree(v);
	}
	return noise;
}

/* ---- output helpers ---- */

static xmlNode *new_el(struct ctx *c, const char *name)
{
	return xmlNewDocNode(c->out, NULL, BAD_CAST name, NULL);
}

static void add_text(struct ctx *c, xmlNode *parent, const char *s)
{
	if (!s || !*s)
		return;
	char *clean = sanitize(s, strlen(s));
	/* One newline form: the parser hands \r through and XML would keep it as &#13;. */
	char *w = clean;
	for (char *r = clean; *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	if (*clean)
		xmlAddChild(parent, xmlNewDocText(c->out, BAD_CAST clean));
	free(clean);
}

static int has_content(const xmlNode *n)
{
	const xmlNode *cur = n->children;
	while (cur) {
		if (cur->type == XML_TEXT_NODE && cur->content &&
		    has_visible((const char *)cur->content))
			return 1;
		if (name_is(cur, "img"))
			return 1;
		if (cur->children) {
			cur = cur->children;
			continue;
		}
		while (cur && cur != n && !cur->next)
			cur = cur->parent;
		if (!cur || cur == n)
			break;
		cur = cur->next;
	}
	return 0;
}

static void drop(xmlNode *n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

static int lang_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 35 || !isalpha((unsigned char)v[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-')
			return 0;
	return 1;
}

/* The input element's own language (lang, or xml:lang), or NULL; caller frees. */
static char *own_lang(const xmlNode *n)
{
	char *v = prop(n, "lang");
	if (!v)
		v = prop(n, "xml:lang");
	if (!v) {
		v = (char *)xmlGetNsProp(n, BAD_CAST "lang", XML_XML_NAMESPACE);
	}
	if (v && !lang_ok(v)) {
		xmlFree(v);
		v = NULL;
	}
	return v;
}

/* Puts a block child into the flow, closing the automatic paragraph. */
static void flow_close(struct flow *f)
{
	if (f->open && !has_content(f->open))
		drop(f->open);
	f->open = NULL;
}

static void set_lang(xmlNode *el, const char *lang, const char *plang)
{
	if (lang && (!plang || strcmp(lang, plang) != 0))
		xmlSetProp(el, BAD_CAST "lang", BAD_CAST lang);
}

static void flow_add_block(struct flow *f, xmlNode *el)
{
	flow_close(f);
	if (!xmlHasProp(el, BAD_CAST "lang") && !name_is(el, "hr"))
		set_lang(el, f->lang, f->plang);
	xmlAddChild(f->parent, el);
}

static xmlNode *flow_inline_parent(struct ctx *c, struct flow *f)
{
	if (!f->open) {
		f->open = new_el(c, "p");
		f->open->_private = &auto_mark;
		set_lang(f->open, f->lang, f->plang);
		xmlAddChild(f->parent, f->open);
	}
	return f->open;
}

/* An inline element joins its parent if it shows something; whitespace alone stays a space. */
static void add_inline(struct ctx *c, xmlNode *parent, xmlNode *el)
{
	if (has_content(el)) {
		xmlAddChild(parent, el);
		return;
	}
	xmlChar *t = xmlNodeGetContent(el);
	if (t && *t)
		add_text(c, parent, " ");
	xmlFree(t);
	xmlFreeNode(el);
}

static void flow_init_child(struct flow *inner, const struct flow *outer, xmlNode *parent,
                            const char *own)
{
	memset(inner, 0, sizeof(*inner));
	inner->parent = parent;
	inner->lang = own ? own : outer->lang;
	inner->plang = own ? own : (outer->plang);
	if (!own && outer->lang && (!outer->plang || strcmp(outer->lang, outer->plang) != 0))
		inner->plang = outer->lang; /* flow_add_block sets it on parent */
}

/* A box (li, td, blockquote...) whose only child is an automatic paragraph holds its inline
 * content directly; a figcaption may only open or close a figure. */
/* A figcaption that neither opens nor closes its figure becomes ordinary blocks. */
static void dissolve_caption(xmlNode *fc)
{
	int has_block = 0;
	for (xmlNode *ch = fc->children; ch; ch = ch->next)
		has_block |= ch->type == XML_ELEMENT_NODE && !out_is_inline(ch);
	if (!has_block) {
		xmlNodeSetName(fc, BAD_CAST "p");
		fc->_private = &auto_mark;
		return;
	}
	xmlNode *run = NULL;
	for (xmlNode *ch = fc->children, *next; ch; ch = next) {
		next = ch->next;
		xmlUnlinkNode(ch);
		if (ch->type == XML_ELEMENT_NODE && !out_is_inline(ch)) {
			run = NULL;
			xmlAddPrevSibling(fc, ch);
			continue;
		}
		if (!run) {
			run = xmlNewDocNode(fc->doc, NULL, BAD_CAST "p", NULL);
			run->_private = &auto_mark;
			xmlAddPrevSibling(fc, run);
		}
		xmlAddChild(run, ch);
	}
	for (xmlNode *ch = fc->parent->children, *next; ch; ch = next) {
		next = ch->next;
		if (ch->_private == &auto_mark && !has_content(ch))
			drop(ch);
	}
	drop(fc);
}

/* A box (li, td, blockquote...) whose only child is an automatic paragraph holds its inline
 * content directly; a figcaption may only open or close a figure, and images stand in a
 * figure as they are. */
static void box_finish(xmlNode *box)
{
	int figure = name_is(box, "figure");
	if (figure) {
		for (xmlNode *ch = box->children, *next; ch; ch = next) {
			next = ch->next;
			if (name_is(ch, "figcaption") && ch != box->last &&
			    (ch != box->children || name_is(box->last, "figcaption")))
				dissolve_caption(ch);
		}
	}
	xmlNode *p = box->children;
	if (p && p == box->last && p->_private == &auto_mark && !xmlHasProp(p, BAD_CAST "lang")) {
		xmlNode *ch = p->children;
		while (ch) {
			xmlNode *next = ch->next;
			xmlUnlinkNode(ch);
			xmlAddChild(box, ch);
			ch = next;
		}
		drop(p);
	}
	if (!figure)
		return;
	for (xmlNode *ch = box->children, *next; ch; ch = next) {
		next = ch->next;
		if (ch->_private != &auto_mark || xmlHasProp(ch, BAD_CAST "lang"))
			continue;
		int only_img = 1;
		for (xmlNode *g = ch->children; g && only_img; g = g->next)
			only_img = name_is(g, "img") || (g->type == XML_TEXT_NODE &&
			                                 !has_visible((const char *)g->content));
		if (!only_img)
			continue;
		for (xmlNode *g = ch->children, *gn; g; g = gn) {
			gn = g->next;
			xmlUnlinkNode(g);
			if (g->type == XML_TEXT_NODE)
				xmlFreeNode(g);
			else
				xmlAddPrevSibling(ch, g);
		}
		drop(ch);
	}
}

/* Builds a flow box from input element n's children (or n itself when whole is set). */
static xmlNode *build_box(struct ctx *c, xmlNode *n, const char *name, struct flow *outer,
                          int whole, int depth)
{
	xmlNode *box = new_el(c, name);
	char *own = whole ? NULL : own_lang(n);
	struct flow inner;
	if (own)
		xmlSetProp(box, BAD_CAST "lang", BAD_CAST own);
	flow_init_child(&inner, outer, box, own);
	inner.in_figure = strcmp(name, "figure") == 0;
	if (whole)
		walk_flow(c, n, &inner, depth + 1);
	else
		walk_children_flow(c, n, &inner, depth + 1);
	flow_close(&inner);
	box_finish(box);
	xmlFree(own);
	return box;
}

/* ---- images ---- */

static int is_placeholder(const char *v)
{
	while (*v && (unsigned char)*v <= 0x20)
		v++;
	if (!*v || *v == '#' || util_starts_with_ci(v, "about:") ||
	    util_starts_with_ci(v, "javascript:"))
		return 1;
	if (util_starts_with_ci(v, "data:")) {
		if (!util_starts_with_ci(v, "data:image/") ||
		    util_starts_with_ci(v, "data:image/svg"))
			return 1;
		return strlen(v) < 200; /* a spacer GIF or a 1x1 pixel */
	}
	/* Judge the last path segment only: WeChat's query carries "wx_lazy=1". */
	size_t end = strcspn(v, "?#");
	size_t start = end;
	while (start > 0 && v[start - 1] != '/')
		start--;
	char *seg = xstrndup(v + start, end - start);
	for (char *s = seg; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	static const char *const marks[] = {
	    "blank.gif",   "grey.gif", "gray.gif",    "spacer.gif", "pixel.gif", "transparent.",
	    "placeholder", "lazy",     "loading.gif", "1x1.",       "spinner"};
	int hit = 0;
	for (size_t i = 0; i < ARRAY_SIZE(marks) && !hit; i++)
		hit = strstr(seg, marks[i]) != NULL;
	free(seg);
	return hit;
}

/* Picks from a srcset the narrowest candidate at least device_width wide, else the widest;
 * density-only sets give their densest. Returns a copy or NULL. */
static char *srcset_pick(const char *set, int device_width)
{
	char *best = NULL;
	double best_v = 0;
	int best_above = 0, best_w = 0;
	const char *p = set;
	while (*p) {
		while (*p && (ascii_ws(*p) || *p == ','))
			p++;
		if (!*p)
			break;
		const char *u = p;
		while (*p && !ascii_ws(*p))
			p++;
		const char *ue = p;
		int bare_comma = ue > u && ue[-1] == ',';
		while (ue > u && ue[-1] == ',')
			ue--;
		double v = 1;
		int is_w = 0;
		if (!bare_comma) {
			while (*p && ascii_ws(*p))
				p++;
			const char *d = p;
			while (*p && *p != ',')
				p++;
			char *desc = xstrndup(d, (size_t)(p - d));
			util_trim(desc);
			char *endp;
			double x = strtod(desc, &endp);
			if (endp != desc && x > 0 && x < 1e6) {
				if (*endp == 'w') {
					v = x;
					is_w = 1;
				} else if (*endp == 'x') {
					v = x;
				}
			}
			free(desc);
		}
		char *url = xstrndup(u, (size_t)(ue - u));
		if (!*url || is_placeholder(url)) {
			free(url);
			continue;
		}
		int above = is_w && v >= device_width;
		int better;
		if (!best)
			better = 1;
		else if (is_w != best_w)
			better = is_w;
		else if (is_w && above != best_above)
			better = above;
		else if (is_w && above)
			better = v < best_v;
		else
			better = v > best_v;
		if (better) {
			free(best);
			best = url;
			best_v = v;
			best_w = is_w;
			best_above = above;
		} else {
			free(url);
		}
	}
	return best;
}

/* The real source of an <img>, whichever attribute the page's lazy loader put it in. */
static char *img_source(const struct ctx *c, const xmlNode *n)
{
	static const char *const sets[] = {"data-srcset", "data-lazy-srcset", "srcset"};
	static const char *const lazy[] = {"data-src",        "data-original", "data-lazy-src",
	                                   "data-actualsrc",  "data-lazyload", "data-original-src",
	                                   "data-hi-res-src", "data-url",      "src"};
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		char *v = prop(n, sets[i]);
		if (v) {
			char *pick = srcset_pick(v, c->device_width);
			xmlFree(v);
			if (pick)
				return pick;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(lazy); i++) {
		char *v = prop(n, lazy[i]);
		if (v && !is_placeholder(v)) {
			char *r = xstrdup(v);
			xmlFree(v);
			return r;
		}
		xmlFree(v);
	}
	return NULL;
}

/* Notes an image left out on purpose, once per URL, so the report can say why it is missing. */
static void note_dropped(struct ctx *c, const char *url, const char *why)
{
	if (!url || strlist_contains(&c->r->dropped, url))
		return;
	strlist_add(&c->r->dropped, url);
	strlist_add(&c->r->dropped_why, why);
}

/* The same for an <img> element: its real source, else its plain src (a tracking pixel's
 * file name often looks like a lazy loader's placeholder). data: URIs are not worth naming. */
static void note_dropped_img(struct ctx *c, const xmlNode *n, const char *why)
{
	char *src = img_source(c, n);
	if (!src) {
		char *v = prop(n, "src");
		src = xstrdup(v);
		xmlFree(v);
	}
	char *url = src && !util_starts_with_ci(src, "data:") ? resolve(c, src) : NULL;
	note_dropped(c, url, why);
	free(url);
	free(src);
}

static int tiny_dimension(const xmlNode *n)
{
	for (int i = 0; i < 2; i++) {
		char *v = prop(n, i ? "height" : "width");
		long x;
		int tiny = 0;
		if (v) {
			char *t = xstrdup(v);
			util_trim(t);
			size_t l = strlen(t);
			if (l > 2 && strcmp(t + l - 2, "px") == 0)
				t[l - 2] = '\0';
			tiny = util_parse_long(t, &x) == 0 && x <= 2;
			free(t);
		}
		xmlFree(v);
		if (tiny)
			return 1;
	}
	return 0;
}

static char *collapse_ws(const char *s)
{
	struct buf b = BUF_INIT;
	int sp = 1;
	for (const char *p = s; *p; p++) {
		if (ascii_ws(*p)) {
			if (!sp)
				buf_putc(&b, ' ');
			sp = 1;
		} else {
			buf_putc(&b, *p);
			sp = 0;
		}
	}
	if (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	return buf_take(&b);
}

/* <img src="abs" alt="..."/> for a raw source, or NULL when it is not an image we can fetch. */
static xmlNode *make_img(struct ctx *c, const char *raw, const char *alt)
{
	char *url = resolve(c, raw);
	if (!url)
		return NULL;
	/* file: only inside a page that is itself local (the offline demo): a remote page never
	 * gets to name a local file. */
	int local = scheme_is(url, "file") && c->o->base_url && scheme_is(c->o->base_url, "file");
	int tracker = is_tracker_url(url);
	int ok = (scheme_is(url, "http") || scheme_is(url, "https") || local ||
	          (util_starts_with_ci(url, "data:image/") && !is_placeholder(url))) &&
	         !tracker;
	if (tracker)
		note_dropped(c, url, "tracker: a known tracking host");
	if (!ok) {
		free(url);
		return NULL;
	}
	xmlNode *img = new_el(c, "img");
	char *a = collapse_ws(alt ? alt : "");
	char *sa = sanitize(a, strlen(a));
	xmlSetProp(img, BAD_CAST "src", BAD_CAST url);
	xmlSetProp(img, BAD_CAST "alt", BAD_CAST sa);
	free(sa);
	free(a);
	free(url);
	return img;
}

static xmlNode *find_img(xmlNode *n)
{
	for (xmlNode *ch = n->children; ch; ch = ch->next) {
		if (name_is(ch, "img"))
			return ch;
		if (ch->type == XML_ELEMENT_NODE) {
			xmlNode *r = find_img(ch);
			if (r)
				return r;
		}
	}
	return NULL;
}

static htmlDocPtr parse_html(const char *data, size_t len, const char *enc);

/* A lazy loader's <noscript> next to an empty <img> holds the real one. */
static xmlNode *noscript_img(struct ctx *c, const xmlNode *n, const char *alt)
{
	const xmlNode *s = n->next;
	for (int hops = 0; s && hops < 4; s = s->next, hops++) {
		if (s->type == XML_TEXT_NODE)
			continue;
		if (name_is(s, "noscript"))
			break;
		return NULL;
	}
	if (!s)
		return NULL;
	xmlNode *img = NULL;
	xmlNode *in = find_img((xmlNode *)s);
	if (in) {
		char *src = img_source(c, in);
		char *a = prop(in, "alt");
		img = src ? make_img(c, src, a ? a : alt) : NULL;
		free(src);
		xmlFree(a);
		return img;
	}
	/* Parsed as raw text: read it as HTML. */
	xmlChar *text = xmlNodeGetContent(s);
	if (text && strstr((const char *)text, "<img")) {
		htmlDocPtr d = parse_html((const char *)text, strlen((const char *)text), "UTF-8");
		xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
		xmlNode *di = root ? (name_is(root, "img") ? root : find_img(root)) : NULL;
		if (di) {
			char *src = img_source(c, di);
			char *a = prop(di, "alt");
			img = src ? make_img(c, src, a ? a : alt) : NULL;
			free(src);
			xmlFree(a);
		}
		xmlFreeDoc(d);
	}
	xmlFree(text);
	return img;
}

/* is_noise, and a hidden <img> is noted as dropped on purpose (typically a tracking pixel). */
static int noise_noted(struct ctx *c, xmlNode *n)
{
	if (!is_noise(n))
		return 0;
	if (name_is(n, "img"))
		note_dropped_img(c, n, "tracker: hidden (display:none or hidden attribute)");
	return 1;
}

static xmlNode *handle_img(struct ctx *c, xmlNode *n)
{
	if (tiny_dimension(n)) {
		note_dropped_img(c, n, "tracker: declared 1 or 2 pixels (tracking pixel or spacer)");
		return NULL;
	}
	char *src = img_source(c, n);
	char *alt = prop(n, "alt");
	xmlNode *img = src ? make_img(c, src, alt) : noscript_img(c, n, alt);
	free(src);
	xmlFree(alt);
	return img;
}

static int type_rank(const char *type)
{
	if (!type || !*type)
		return 2;
	if (util_starts_with_ci(type, "image/jpeg") || util_starts_with_ci(type, "image/jpg") ||
	    util_starts_with_ci(type, "image/png"))
		return 3;
	if (util_starts_with_ci(type, "image/gif") || util_starts_with_ci(type, "image/webp"))
		return 1;
	return 0; /* avif, jxl, svg: the image stage cannot use them */
}

static xmlNode *handle_picture(struct ctx *c, xmlNode *n)
{
	char *best = NULL;
	int best_rank = 0;
	xmlNode *inner = find_img(n);
	char *alt = inner ? prop(inner, "alt") : NULL;
	for (xmlNode *ch = n->children; ch; ch = ch->next) {
		if (!name_is(ch, "source"))
			continue;
		char *type = prop(ch, "type");
		int rank = type_rank(type);
		xmlFree(type);
		if (rank <= best_rank)
			continue;
		char *pick = NULL;
		for (int i = 0; i < 2 && !pick; i++) {
			char *v = prop(ch, i ? "srcset" : "data-srcset");
			if (v)
				pick = srcset_pick(v, c->device_width);
			xmlFree(v);
		}
		if (pick) {
			free(best);
			best = pick;
			best_rank = rank;
		}
	}
	xmlNode *img = NULL;
	/* The fallback <img> is usually a JPEG: it beats a WebP-only <source>. */
	if (inner && best_rank < 3)
		img = handle_img(c, inner);
	if (!img && best)
		img = make_img(c, best, alt);
	free(best);
	xmlFree(alt);
	return img;
}

/* WeChat puts some images only in style="background-image:url(...)". */
static xmlNode *background_img(struct ctx *c, const xmlNode *n)
{
	char *style = prop(n, "style");
	if (!style)
		return NULL;
	xmlNode *img = NULL;
	const char *bg = strstr(style, "background");
	const char *u = bg ? strstr(bg, "url(") : NULL;
	if (u) {
		u += 4;
		while (ascii_ws(*u))
			u++;
		char q = (*u == '"' || *u == '\'') ? *u++ : 0;
		const char *e = q ? strchr(u, q) : strchr(u, ')');
		if (e) {
			char *raw = xstrndup(u, (size_t)(e - u));
			if (!is_placeholder(raw))
				img = make_img(c, raw, "");
			free(raw);
		}
	}
	xmlFree(style);
	return img;
}

/* ---- links and embedded media ---- */

/* An <a href> for an http/https/mailto target, or NULL (the link is then unwrapped). */
static xmlNode *make_link(struct ctx *c, const xmlNode *n)
{
	char *href = prop(n, "href");
	char *url = href ? resolve(c, href) : NULL;
	xmlFree(href);
	if (!url)
		return NULL;
	if (!scheme_is(url, "http") && !scheme_is(url, "https") && !scheme_is(url, "mailto")) {
		free(url);
		return NULL;
	}
	xmlNode *a = new_el(c, "a");
	xmlSetProp(a, BAD_CAST "href", BAD_CAST url);
	free(url);
	return a;
}

static char *media_url(struct ctx *c, const xmlNode *n)
{
	static const char *const attrs[] = {"src", "data-src"};
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		char *v = prop(n, attrs[i]);
		char *u = v ? resolve(c, v) : NULL;
		xmlFree(v);
		if (u && (scheme_is(u, "http") || scheme_is(u, "https")))
			return u;
		free(u);
	}
	for (xmlNode *ch = n->children; ch; ch = ch->next) {
		if (!name_is(ch, "source"))
			continue;
		char *v = prop(ch, "src");
		char *u = v ? resolve(c, v) : NULL;
		xmlFree(v);
		if (u && (scheme_is(u, "http") || scheme_is(u, "https")))
			return u;
		free(u);
	}
	return NULL;
}

/* "Video: <a href=URL>URL</a>" appended to parent, or nothing. */
static int add_media_line(struct ctx *c, const xmlNode *n, xmlNode *parent, int in_a)
{
	char *url = media_url(c, n);
	if (!url)
		return 0;
	const char *label = name_is(n, "video")   ? "Video: "
	                    : name_is(n, "audio") ? "Audio: "
	                                          : "Embedded content: ";
	add_text(c, parent, label);
	if (in_a) {
		add_text(c, parent, url);
	} else {
		xmlNode *a = new_el(c, "a");
		xmlSetProp(a, BAD_CAST "href", BAD_CAST url);
		add_text(c, a, url);
		xmlAddChild(parent, a);
	}
	free(url);
	return 1;
}

/* ---- the walk: phrasing context ---- */

static void add_flat_text(struct ctx *c, xmlNode *n, xmlNode *parent)
{
	xmlChar *t = xmlNodeGetContent(n);
	if (t)
		add_text(c, parent, (const char *)t);
	xmlFree(t);
}

static void walk_phr(struct ctx *c, xmlNode *n, xmlNode *out, int flags, int depth)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		add_text(c, out, (const char *)n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE)
		return;
	if (noise_noted(c, n))
		return;
	if (depth > MAX_DEPTH) {
		add_flat_text(c, n, out);
		return;
	}
	xmlNode *bg = background_img(c, n);
	if (bg)
		xmlAddChild(out, bg);
	const struct tag *t = tag_of(n);
	xmlNode *el;
	switch (t->kind) {
	case K_DROP:
	case K_NOSCRIPT:
		return;
	case K_INLINE_UNWRAP:
		walk_children_phr(c, n, out, flags, depth + 1);
		return;
	case K_INLINE:
		if (name_is(n, "a")) {
			el = (flags & PHR_IN_A) ? NULL : make_link(c, n);
			if (el) {
				char *href = prop(el, "href");
				int share = is_share_url(href);
				xmlFree(href);
				if (share) {
					xmlFreeNode(el);
					return;
				}
			}
		} else {
			el = new_el(c, out_name(n));
			/* WeChat writes one <code> per line of a snippet, with no newline between.
			 */
			if ((flags & PHR_PRE) && name_is(n, "code") && name_is(n->prev, "code"))
				add_text(c, out, "\n");
		}
		if (!el) {
			walk_children_phr(c, n, out, flags, depth + 1);
			return;
		}
		{
			char *own = own_lang(n);
			if (own)
				xmlSetProp(el, BAD_CAST "lang", BAD_CAST own);
			xmlFree(own);
		}
		walk_children_phr(c, n, el, flags | (name_is(el, "a") ? PHR_IN_A : 0), depth + 1);
		add_inline(c, out, el);
		return;
	case K_BR:
		xmlAddChild(out, new_el(c, "br"));
		return;
	case K_HR:
		add_text(c, out, " ");
		return;
	case K_IMG:
		if ((el = handle_img(c, n)))
			xmlAddChild(out, el);
		return;
	case K_PICTURE:
		if ((el = handle_picture(c, n)))
			xmlAddChild(out, el);
		return;
	case K_MEDIA:
		add_text(c, out, " ");
		add_media_line(c, n, out, flags & PHR_IN_A);
		add_text(c, out, " ");
		return;
	default:
		/* A block inside phrasing content: its text joins the line. */
		add_text(c, out, " ");
		walk_children_phr(c, n, out, flags, depth + 1);
		add_text(c, out, " ");
		return;
	}
}

static void walk_children_phr(struct ctx *c, xmlNode *in, xmlNode *out, int flags, int depth)
{
	for (xmlNode *ch = in->children; ch; ch = ch->next)
		walk_phr(c, ch, out, flags, depth);
}

/* ---- the walk: flow context ---- */

static int in_flags(const xmlNode *n)
{
	return (int)(uintptr_t)n->_private;
}

static void build_list(struct ctx *c, xmlNode *n, struct flow *f, int depth)
{
	xmlNode *list = new_el(c, out_name(n));
	if (name_is(n, "ol")) {
		char *v = prop(n, "start");
		long start;
		if (v && util_parse_long(v, &start) == 0 && start > -1000000 && start < 1000000) {
			char num[24];
			snprintf(num, sizeof(num), "%ld", start);
			xmlSetProp(list, BAD_CAST "start", BAD_CAST num);
		}
		xmlFree(v);
	}
	char *own = own_lang(n);
	if (own)
		xmlSetProp(list, BAD_CAST "lang", BAD_CAST own);
	struct flow lf;
	flow_init_child(&lf, f, list, own);
	xmlNode *loose = NULL;
	struct flow loose_flow;
	for (xmlNode *ch = n->children; ch; ch = ch->next) {
		if (name_is(ch, "li")) {
			if (loose) {
				flow_close(&loose_flow);
				box_finish(loose);
				loose = NULL;
			}
			if (is_noise(ch))
				continue;
			xmlAddChild(list, build_box(c, ch, "li", &lf, 0, depth));
			continue;
		}
		if (ch->type == XML_TEXT_NODE && !has_visible((const char *)ch->content))
			continue;
		if (ch->type != XML_TEXT_NODE && ch->type != XML_ELEMENT_NODE)
			continue;
		if (!loose) {
			loose = new_el(c, "li");
			xmlAddChild(list, loose);
			flow_init_child(&loose_flow, &lf, loose, NULL);
		}
		walk_flow(c, ch, &loose_flow, depth + 1);
	}
	if (loose) {
		flow_close(&loose_flow);
		box_finish(loose);
	}
	for (xmlNode *li = list->children, *next; li; li = next) {
		next = li->next;
		if (!has_content(li))
			drop(li);
	}
	xmlFree(own);
	if (list->children)
		flow_add_block(f, list);
	else
		xmlFreeNode(list);
}

/* dt and dd in HTML order (groups of dt+ then dd+); anything else becomes plain blocks. */
static int dl_valid(const xmlNode *dl)
{
	int state = 0; /* 0 start, 1 after dt, 2 after dd */
	for (const xmlNode *ch = dl->children; ch; ch = ch->next) {
		if (name_is(ch, "dt"))
			state = 1;
		else if (name_is(ch, "dd") && state != 0)
			state = 2;
		else
			return 0;
	}
	return state == 2;
}

static void build_dl(struct ctx *c, xmlNode *n, struct flow *f, int depth)
{
	xmlNode *dl = new_el(c, "dl");
	char *own = own_lang(n);
	if (own)
		xmlSetProp(dl, BAD_CAST "lang", BAD_CAST own);
	struct flow df;
	flow_init_child(&df, f, dl, own);
	for (xmlNode *ch = n->children; ch; ch = ch->next) {
		xmlNode *el;
		if (name_is(ch, "dt")) {
			el = new_el(c, "dt");
			walk_children_phr(c, ch, el, 0, depth + 1);
		} else if (name_is(ch, "dd")) {
			el = build_box(c, ch, "dd", &df, 0, depth);
		} else if (ch->type == XML_ELEMENT_NODE ||
		           (ch->type == XML_TEXT_NODE && has_visible((const char *)ch->content))) {
			el = build_box(c, ch, "dd", &df, 1, depth);
		} else {
			continue;
		}
		if (has_content(el))
			xmlAddChild(dl, el);
		else
			xmlFreeNode(el);
	}
	if (!dl->children || dl_valid(dl)) {
		if (dl->children)
			flow_add_block(f, dl);
		else
			xmlFreeNode(dl);
		xmlFree(own);
		return;
	}
	for (xmlNode *ch = dl->children, *next; ch; ch = next) {
		next = ch->next;
		xmlUnlinkNode(ch);
		if (name_is(ch, "dd"))
			xmlNodeSetName(ch, BAD_CAST "blockquote");
		else
			xmlNodeSetName(ch, BAD_CAST "p");
		if (own && !xmlHasProp(ch, BAD_CAST "lang"))
			xmlSetProp(ch, BAD_CAST "lang", BAD_CAST own);
		flow_add_block(f, ch);
	}
	xmlFreeNode(dl);
	xmlFree(own);
}

/* Walks the rows of an input table: tr elements, looking through row groups and wrappers
 * (forms, divs), and stray content as one-cell rows. Counts cells only while table is NULL. */
struct row_walk {
	struct ctx *c;
	xmlNode *table; /* output, or NULL when only counting */
	struct flow *f;
	int depth;
	int max_cells;
	int n_rows;
	xmlNode *caption_in;
};

static void row_visit(struct row_walk *w, xmlNode *n, int depth);

static void cell_content(struct row_walk *w, xmlNode *tr_out, xmlNode *cell_in, int whole)
{
	const char *name = whole ? "td" : (const char *)cell_in->name;
	xmlNode *cell = build_box(w->c, cell_in, name, w->f, whole, w->depth);
	if (!whole) {
		static const char *const spans[] = {"colspan", "rowspan"};
		for (size_t i = 0; i < ARRAY_SIZE(spans); i++) {
			char *v = prop(cell_in, spans[i]);
			long x;
			if (v && util_parse_long(v, &x) == 0 && x >= 2 && x <= 1000) {
				char num[16];
				snprintf(num, sizeof(num), "%ld", x);
				xmlSetProp(cell, BAD_CAST spans[i], BAD_CAST num);
			}
			xmlFree(v);
		}
	}
	xmlAddChild(tr_out, cell);
}

static void row_of(struct row_walk *w, xmlNode *tr)
{
	int cells = 0;
	xmlNode *out = w->table ? new_el(w->c, "tr") : NULL;
	for (xmlNode *ch = tr->children; ch; ch = ch->next) {
		if (name_is(ch, "td") || name_is(ch, "th")) {
			cells++;
			if (out)
				cell_content(w, out, ch, 0);
		} else if (ch->type == XML_ELEMENT_NODE ||
		           (ch->type == XML_TEXT_NODE && has_visible((const char *)ch->content))) {
			if (tag_of(ch)->kind == K_DROP)
				continue;
			cells++;
			if (out)
				cell_content(w, out, ch, 1);
		}
	}
	if (cells > w->max_cells)
		w->max_cells = cells;
	if (!out)
		return;
	if (out->children)
		xmlAddChild(w->table, out);
	else
		xmlFreeNode(out);
}

static void row_visit(struct row_walk *w, xmlNode *n, int depth)
{
	for (xmlNode *ch = n->children; ch; ch = ch->next) {
		if (name_is(ch, "tr")) {
			row_of(w, ch);
			continue;
		}
		if (name_is(ch, "caption")) {
			if (!w->caption_in)
				w->caption_in = ch;
			continue;
		}
		if (ch->type == XML_TEXT_NODE && !has_visible((const char *)ch->content))
			continue;
		if (ch->type != XML_TEXT_NODE && ch->type != XML_ELEMENT_NODE)
			continue;
		enum kind k = tag_of(ch)->kind;
		if (k == K_DROP)
			continue;
		if ((k == K_TSECTION || k == K_BLOCK_UNWRAP || k == K_INLINE_UNWRAP) && depth < 8 &&
		    ch->type == XML_ELEMENT_NODE) {
			row_visit(w, ch, depth + 1);
			continue;
		}
		/* Stray content (the HTML parser does no foster parenting): a one-cell row. */
		if (w->max_cells < 1)
			w->max_cells = 1;
		if (w->table) {
			xmlNode *tr = new_el(w->c, "tr");
			cell_content(w, tr, ch, 1);
			xmlAddChild(w->table, tr);
		}
	}
}

static void build_table(struct ctx *c, xmlNode *n, struct flow *f, int depth)
{
	char *own = own_lang(n);
	struct flow tf = *f;
	flow_close(f);
	tf.open = NULL;
	if (own)
		tf.lang = own;
	struct row_walk w = {c, NULL, &tf, depth, 0, 0, NULL};
	row_visit(&w, n, 0);
	if (w.max_cells <= 1) {
		/* A one-column table is layout (newsletters): its cells read as blocks. */
		walk_children_flow(c, n, &tf, depth + 1);
		flow_close(&tf);
		xmlFree(own);
		return;
	}
	xmlNode *table = new_el(c, "table");
	if (own) {
		xmlSetProp(table, BAD_CAST "lang", BAD_CAST own);
		tf.plang = own;
	}
	if (w.caption_in) {
		xmlNode *cap = build_box(c, w.caption_in, "caption", &tf, 0, depth);
		if (has_content(cap))
			xmlAddChild(table, cap);
		else
			xmlFreeNode(cap);
	}
	w.table = table;
	row_visit(&w, n, 0);
	if (has_content(table))
		flow_add_block(f, table);
	else
		xmlFreeNode(table);
	xmlFree(own);
}

static void walk_flow(struct ctx *c, xmlNode *n, struct flow *f, int depth)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		const char *s = (const char *)n->content;
		if (!s)
			return;
		if (has_visible(s) || f->open)
			add_text(c, flow_inline_parent(c, f), s);
		return;
	}
	if (n->type != XML_ELEMENT_NODE || noise_noted(c, n))
		return;
	if (depth > MAX_DEPTH) {
		add_flat_text(c, n, flow_inline_parent(c, f));
		return;
	}
	xmlNode *el = background_img(c, n);
	if (el)
		xmlAddChild(flow_inline_parent(c, f), el);
	const struct tag *t = tag_of(n);
	enum kind k = t->kind;
	if (k == K_INLINE && (in_flags(n) & IN_HAS_BLOCK))
		k = K_INLINE_UNWRAP;
	if (k == K_ITEM) {
		if (name_is(n, "figcaption") && f->in_figure) {
			el = build_box(c, n, "figcaption", f, 0, depth);
			if (has_content(el))
				flow_add_block(f, el);
			else
				xmlFreeNode(el);
			return;
		}
		if (name_is(n, "dt")) {
			k = K_PARA; /* outside a dl a term is a paragraph */
		} else {
			k = K_BLOCK_UNWRAP;
		}
	}
	char *own = NULL;
	struct flow sub;
	switch (k) {
	case K_DROP:
	case K_NOSCRIPT:
	case K_ITEM:
		return;
	case K_TSECTION:
	case K_TR:
		/* Rows outside a table: their cells read as blocks. */
		flow_close(f);
		walk_children_flow(c, n, f, depth + 1);
		flow_close(f);
		return;
	case K_INLINE_UNWRAP:
	case K_BLOCK_UNWRAP:
		own = own_lang(n);
		if (k == K_BLOCK_UNWRAP)
			flow_close(f);
		if (own && (!f->lang || strcmp(own, f->lang) != 0) && k == K_BLOCK_UNWRAP) {
			sub = *f;
			sub.lang = own;
			walk_children_flow(c, n, &sub, depth + 1);
			flow_close(&sub);
		} else {
			walk_children_flow(c, n, f, depth + 1);
		}
		if (k == K_BLOCK_UNWRAP)
			flow_close(f);
		xmlFree(own);
		return;
	case K_PARA: {
		const char *name = name_is(n, "dt") ? "p" : out_name(n);
		el = new_el(c, name);
		own = own_lang(n);
		if (own)
			xmlSetProp(el, BAD_CAST "lang", BAD_CAST own);
		xmlFree(own);
		walk_children_phr(c, n, el, strcmp(name, "pre") == 0 ? PHR_PRE : 0, depth + 1);
		if (has_content(el))
			flow_add_block(f, el);
		else
			xmlFreeNode(el);
		return;
	}
	case K_BOX:
		el = build_box(c, n, out_name(n), f, 0, depth);
		if (has_content(el))
			flow_add_block(f, el);
		else
			xmlFreeNode(el);
		return;
	case K_LIST:
		build_list(c, n, f, depth);
		return;
	case K_DL:
		build_dl(c, n, f, depth);
		return;
	case K_TABLE:
		build_table(c, n, f, depth);
		return;
	case K_INLINE: {
		xmlNode *parent = flow_inline_parent(c, f);
		if (name_is(n, "a")) {
			el = make_link(c, n);
			if (el) {
				char *href = prop(el, "href");
				int share = is_share_url(href);
				xmlFree(href);
				if (share) {
					xmlFreeNode(el);
					return;
				}
			}
		} else {
			el = new_el(c, out_name(n));
		}
		if (!el) {
			walk_children_phr(c, n, parent, 0, depth + 1);
			return;
		}
		own = own_lang(n);
		if (own)
			xmlSetProp(el, BAD_CAST "lang", BAD_CAST own);
		xmlFree(own);
		walk_children_phr(c, n, el, name_is(el, "a") ? PHR_IN_A : 0, depth + 1);
		add_inline(c, parent, el);
		return;
	}
	case K_BR:
		if (f->open) {
			/* Two line breaks in a row end a paragraph (old blogs write them so). */
			xmlNode *last = f->open->last;
			while (last && last->type == XML_TEXT_NODE &&
			       !has_visible((const char *)last->content))
				last = last->prev;
			if (name_is(last, "br")) {
				drop(last);
				flow_close(f);
			} else {
				xmlAddChild(f->open, new_el(c, "br"));
			}
		}
		return;
	case K_HR:
		flow_add_block(f, new_el(c, "hr"));
		return;
	case K_IMG:
	case K_PICTURE:
		el = k == K_IMG ? handle_img(c, n) : handle_picture(c, n);
		if (el)
			xmlAddChild(flow_inline_parent(c, f), el);
		return;
	case K_MEDIA:
		el = new_el(c, "p");
		if (add_media_line(c, n, el, 0))
			flow_add_block(f, el);
		else
			xmlFreeNode(el);
		return;
	}
}

static void walk_children_flow(struct ctx *c, xmlNode *in, struct flow *f, int depth)
{
	for (xmlNode *ch = in->children; ch; ch = ch->next)
		walk_flow(c, ch, f, depth);
}

/* ---- input preparation ---- */

static xmlNode *next_in_tree(xmlNode *n, xmlNode *top, int descend)
{
	if (descend && n->children)
		return n->children;
	while (n && n != top && !n->next)
		n = n->parent;
	return (!n || n == top) ? NULL : n->next;
}

static int is_block_kind(enum kind k)
{
	return k == K_BLOCK_UNWRAP || k == K_PARA || k == K_BOX || k == K_ITEM || k == K_LIST ||
	       k == K_DL || k == K_TABLE || k == K_TSECTION || k == K_TR || k == K_HR;
}

/* Marks each input element that holds a block-level descendant, in one pass. */
static void mark_blocks(xmlNode *root)
{
	size_t n = 0, cap = 0;
	xmlNode **all = NULL;
	for (xmlNode *cur = root; cur; cur = next_in_tree(cur, root, 1)) {
		if (cur->type != XML_ELEMENT_NODE)
			continue;
		cur->_private = NULL;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			all = xrealloc(all, cap * sizeof(*all));
		}
		all[n++] = cur;
	}
	for (size_t i = n; i-- > 0;) {
		xmlNode *el = all[i];
		xmlNode *p = el->parent;
		if (!p || p->type != XML_ELEMENT_NODE || el == root)
			continue;
		if ((in_flags(el) & IN_HAS_BLOCK) || is_block_kind(tag_of(el)->kind))
			p->_private = (void *)(uintptr_t)(in_flags(p) | IN_HAS_BLOCK);
	}
	free(all);
}

static int parse_selectors(const struct strlist *l, struct clean_selector **out, struct err *e)
{
	*out = NULL;
	if (!l || l->n == 0)
		return 0;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_puts(&b, l->items[i]);
	}
	int rc = clean_selector_parse(b.data, out, e);
	buf_release(&b);
	return rc;
}

static void apply_remove(struct ctx *c, xmlNode *root)
{
	xmlNode *cur = root->children;
	while (cur) {
		if (cur->type == XML_ELEMENT_NODE && clean_selector_matches(c->remove, cur)) {
			xmlNode *next = next_in_tree(cur, root, 0);
			drop(cur);
			cur = next;
			continue;
		}
		cur = next_in_tree(cur, root, 1);
	}
}

static void collect_keep(struct ctx *c, xmlNode *root, xmlNode ***out, size_t *n)
{
	size_t cap = 0;
	xmlNode *cur = root;
	while (cur) {
		if (cur->type == XML_ELEMENT_NODE && clean_selector_matches(c->keep, cur)) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			(*out)[(*n)++] = cur;
			cur = next_in_tree(cur, root, 0);
			continue;
		}
		cur = next_in_tree(cur, root, 1);
	}
}

/* ---- output finishing ---- */

static int is_format_root(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && !out_is_inline(n) && !name_is(n, "pre") &&
	       !name_is(n, "hr");
}

static void trim_trailing(xmlNode *t)
{
	if (!t || !t->content)
		return;
	size_t l = strlen((char *)t->content);
	if (l && t->content[l - 1] == ' ') {
		t->content[l - 1] = '\0';
	}
}

/* Collapses whitespace runs to one space and trims it at line starts and ends, across the
 * inline content of one block. */
static void normalize_block(xmlNode *blk)
{
	int prev_space = 1;
	xmlNode *last_text = NULL;
	xmlNode *cur = blk->children;
	while (cur) {
		int descend = 1;
		if (cur->type == XML_TEXT_NODE && cur->content) {
			char *s = (char *)cur->content;
			char *w = s;
			for (char *r = s; *r; r++) {
				if (ascii_ws(*r)) {
					if (!prev_space)
						*w++ = ' ';
					prev_space = 1;
				} else {
					*w++ = *r;
					prev_space = 0;
				}
			}
			*w = '\0';
			if (w > s)
				last_text = cur;
		} else if (name_is(cur, "br")) {
			trim_trailing(last_text);
			last_text = NULL;
			prev_space = 1;
		} else if (name_is(cur, "img")) {
			prev_space = 0;
			last_text = NULL;
		} else if (cur->type == XML_ELEMENT_NODE && !out_is_inline(cur)) {
			trim_trailing(last_text);
			last_text = NULL;
			prev_space = 1;
			descend = 0;
		}
		cur = next_in_tree(cur, blk, descend);
	}
	trim_trailing(last_text);
}

static void strip_pre(xmlNode *pre)
{
	xmlNode *first = pre->children;
	if (first && first->type == XML_TEXT_NODE && first->content) {
		char *s = (char *)first->content;
		size_t k = strspn(s, "\n");
		memmove(s, s + k, strlen(s + k) + 1);
	}
	xmlNode *last = pre->last;
	if (last && last->type == XML_TEXT_NODE && last->content) {
		char *s = (char *)last->content;
		size_t l = strlen(s);
		while (l && ascii_ws(s[l - 1]))
			s[--l] = '\0';
	}
}

static void collect_elements(xmlNode *root, xmlNode ***out, size_t *n)
{
	size_t cap = 0;
	for (xmlNode *cur = root->children; cur; cur = next_in_tree(cur, root, 1)) {
		if (cur->type != XML_ELEMENT_NODE)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = cur;
	}
}

static void finish_output(xmlNode *root, int heading_base)
{
	xmlNode **els = NULL;
	size_t n = 0;
	collect_elements(root, &els, &n);
	for (size_t i = 0; i < n; i++)
		if (name_is(els[i], "pre"))
			strip_pre(els[i]);
	for (size_t i = 0; i < n; i++)
		if (is_format_root(els[i]))
			normalize_block(els[i]);
	/* Empty text goes; then inline elements left empty, innermost first (reverse order). */
	for (xmlNode *cur = root->children, *next; cur; cur = next) {
		next = next_in_tree(cur, root, 1);
		if (cur->type == XML_TEXT_NODE && (!cur->content || !*cur->content)) {
			next = next_in_tree(cur, root, 0);
			drop(cur);
		}
	}
	for (size_t i = n; i-- > 0;) {
		xmlNode *el = els[i];
		if (!el->children && out_is_inline(el) && !name_is(el, "img") &&
		    !name_is(el, "br")) {
			drop(el);
		}
	}
	free(els);
	els = NULL;
	n = 0;
	/* Line breaks that open or close a block show nothing. */
	collect_elements(root, &els, &n);
	xmlNode **brs = NULL;
	size_t n_brs = 0, cap_brs = 0;
	for (size_t i = 0; i < n; i++) {
		xmlNode *el = els[i];
		if (!is_format_root(el))
			continue;
		xmlNode *first = el->children, *last = el->last;
		while (first && name_is(first, "br"))
			first = first->next;
		while (last && last != first && name_is(last, "br"))
			last = last->prev;
		for (int side = 0; side < (first ? 2 : 1); side++) {
			xmlNode *stop = side ? last : first;
			for (xmlNode *b = side ? el->last : el->children; b && b != stop;
			     b = side ? b->prev : b->next) {
				if (n_brs == cap_brs) {
					cap_brs = cap_brs ? cap_brs * 2 : 16;
					brs = xrealloc(brs, cap_brs * sizeof(*brs));
				}
				brs[n_brs++] = b;
			}
		}
	}
	for (size_t i = 0; i < n_brs; i++)
		drop(brs[i]);
	free(brs);
	free(els);
	els = NULL;
	n = 0;
	collect_elements(root, &els, &n);
	int min_level = 7;
	for (size_t i = 0; i < n; i++) {
		const char *nm = (const char *)els[i]->name;
		if (nm[0] == 'h' && nm[1] >= '1' && nm[1] <= '6' && !nm[2] &&
		    nm[1] - '0' < min_level)
			min_level = nm[1] - '0';
	}
	for (size_t i = 0; i < n; i++) {
		xmlNode *el = els[i];
		const char *nm = (const char *)el->name;
		if (min_level < 7 && nm[0] == 'h' && nm[1] >= '1' && nm[1] <= '6' && !nm[2]) {
			int lvl = nm[1] - '0' + heading_base - min_level;
			char h[3] = {'h', (char)('0' + (lvl < 1 ? 1 : lvl > 6 ? 6 : lvl)), 0};
			xmlNodeSetName(el, BAD_CAST h);
		}
		/* "<td/>" would read back as an open element in HTML: write "<td></td>". */
		if (!el->children && !name_is(el, "img") && !name_is(el, "br") &&
		    !name_is(el, "hr"))
			xmlAddChild(el, xmlNewDocText(el->doc, BAD_CAST ""));
		el->_private = NULL;
	}
	free(els);
}

static void collect_result(xmlNode *root, struct clean_result *r)
{
	for (xmlNode *cur = root->children; cur; cur = next_in_tree(cur, root, 1)) {
		if (cur->type == XML_TEXT_NODE && cur->content)
			r->text_chars += visible_chars((const char *)cur->content);
		if (name_is(cur, "img")) {
			char *src = prop(cur, "src");
			if (src && !strlist_contains(&r->images, src))
				strlist_add(&r->images, src);
			xmlFree(src);
		}
	}
}

/* ---- parsing ---- */

static htmlDocPtr parse_html(const char *data, size_t len, const char *enc)
{
	if (len > INT_MAX)
		return NULL;
	htmlParserCtxtPtr p = htmlNewParserCtxt();
	if (!p)
		die_oom();
	int opts = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
	           HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT;
	htmlDocPtr d = htmlCtxtReadMemory(p, data ? data : "", (int)len, NULL, enc, opts);
	htmlFreeParserCtxt(p);
	return d;
}

/* Text without a single tag: paragraphs from blank lines, line breaks kept. */
static int looks_plain(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '<' && (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/' ||
		                    s[i + 1] == '!' || s[i + 1] == '?'))
			return 0;
	return 1;
}

static char *plain_to_html(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<p>");
	size_t i = 0;
	while (i < n) {
		if (s[i] == '\n' || s[i] == '\r') {
			size_t j = i, lines = 0;
			while (j < n && ascii_ws(s[j])) {
				if (s[j] == '\n')
					lines++;
				j++;
			}
			buf_puts(&b, lines >= 2 ? "</p>\n<p>" : "<br>\n");
			i = j;
			continue;
		}
		if (s[i] == '<')
			buf_puts(&b, "&lt;");
		else
			buf_putc(&b, s[i]);
		i++;
	}
	buf_puts(&b, "</p>");
	return buf_take(&b);
}

static int encoding_known(const char *enc)
{
	xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(enc);
	if (!h)
		return 0;
	xmlCharEncCloseFunc(h);
	return 1;
}

static const char *libxml_encoding(const char *cs)
{
	if (!cs || !*cs)
		return NULL;
	/* GB18030 is a superset of both: pages labelled gb2312 often use GBK characters. */
	if (strcasecmp(cs, "gb2312") == 0 || strcasecmp(cs, "gbk") == 0 ||
	    strcasecmp(cs, "x-gbk") == 0)
		return "GB18030";
	return cs;
}

int clean_html(const char *html, size_t len, const struct clean_opts *o, struct clean_result *r,
               struct err *e)
{
	static const struct clean_opts defaults;
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.o = o ? o : &defaults;
	c.r = r;
	c.device_width = c.o->device_width > 0 ? c.o->device_width : DEFAULT_DEVICE_WIDTH;
	int heading_base = c.o->heading_base > 0 ? c.o->heading_base : 2;
	if (heading_base > 6)
		heading_base = 6;
	if (parse_selectors(c.o->remove, &c.remove, e) < 0)
		return -1;
	if (parse_selectors(c.o->keep, &c.keep, e) < 0) {
		clean_selector_free(c.remove);
		return -1;
	}

	struct xml_quiet q;
	util_xml_quiet_begin(&q);
	/* Feed content arrives as UTF-8; only bytes that are not UTF-8 make a meta worth
	 * reading. */
	char *sniffed = NULL;
	const char *cs = c.o->charset;
	if ((!cs || !*cs) && html && !util_is_valid_utf8(html, len))
		cs = sniffed = util_html_meta_charset(html, len);
	const char *enc = libxml_encoding(cs);
	int utf8 = !enc || strcasecmp(enc, "utf-8") == 0 || strcasecmp(enc, "utf8") == 0 ||
	           !encoding_known(enc);
	char *input = NULL;
	size_t input_len = len;
	if (utf8) {
		input = sanitize(html ? html : "", html ? len : 0);
		input_len = strlen(input);
		if (looks_plain(input, input_len)) {
			char *h = plain_to_html(input, input_len);
			free(input);
			input = h;
			input_len = strlen(h);
		}
		enc = "UTF-8";
	}
	htmlDocPtr in = parse_html(input ? input : html, input_len, enc);
	free(input);
	free(sniffed);

	c.out = xmlNewDoc(BAD_CAST "1.0");
	if (!c.out)
		die_oom();
	xmlNode *root = new_el(&c, "div");
	xmlDocSetRootElement(c.out, root);

	xmlNode *top = in ? xmlDocGetRootElement(in) : NULL;
	if (top) {
		mark_blocks(top);
		if (c.remove)
			apply_remove(&c, top);
		struct flow f;
		memset(&f, 0, sizeof(f));
		f.parent = root;
		xmlNode **keep = NULL;
		size_t n_keep = 0;
		if (c.keep)
			collect_keep(&c, top, &keep, &n_keep);
		if (n_keep) {
			for (size_t i = 0; i < n_keep; i++) {
				flow_close(&f);
				walk_flow(&c, keep[i], &f, 0);
			}
		} else {
			walk_flow(&c, top, &f, 0);
		}
		flow_close(&f);
		free(keep);
		finish_output(root, heading_base);
	}

	struct buf out = BUF_INIT;
	xmlBuffer *xb = xmlBufferCreate();
	if (!xb)
		die_oom();
	for (xmlNode *ch = root->children; ch; ch = ch->next) {
		xmlBufferEmpty(xb);
		xmlNodeDump(xb, c.out, ch, 0, 0);
		buf_add(&out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	}
	xmlBufferFree(xb);
	collect_result(root, r);
	r->xhtml = out.data ? buf_detach(&out, NULL) : xstrdup("");

	xmlFreeDoc(c.out);
	xmlFreeDoc(in);
	util_xml_quiet_end(&q);
	clean_selector_free(c.remove);
	clean_selector_free(c.keep);
	return 0;
}

void clean_result_release(struct clean_result *r)
{
	if (!r)
		return;
	free(r->xhtml);
	r->xhtml = NULL;
	strlist_release(&r->images);
	strlist_release(&r->dropped);
	strlist_release(&r->dropped_why);
	r->text_chars = 0;
}
