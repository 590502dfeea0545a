/* Stage `extract`: a whole article page (bytes, any declared charset) in; the HTML of its main
 * content and its title out, by known containers first (WeChat's #js_content, articleBody)
 * and a readability-style scoring otherwise. Never does I/O or fetches; its output still goes
 * through `clean`, which alone decides what is safe. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/encoding.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "extract.h"

/* Paragraphs shorter than this say nothing about where the article is. */
#define MIN_PARA_CHARS 25
/* Below this, a result found after dropping "unlikely" blocks is retried without dropping. */
#define RETRY_CHARS 250

struct cand {
	xmlNode *node;
	double score;
};

struct scorer {
	struct cand *c;
	size_t n, cap;
};

/* ---- text helpers ---- */

static int is_space_cp(int32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == 0xA0 ||
	       cp == 0x3000 || cp == 0x200B || cp == 0xFEFF || (cp >= 0x2000 && cp <= 0x200A);
}

struct text_stats {
	size_t chars;  /* visible code points */
	size_t commas; /* , ， 、 */
	size_t link_chars;
};

static void count_text(const char *s, struct text_stats *st, int in_link)
{
	const char *end = s + strlen(s);
	while (s < end) {
		int32_t cp = util_utf8_next(&s, end);
		if (cp < 0) {
			s++;
			continue;
		}
		if (is_space_cp(cp))
			continue;
		st->chars++;
		if (in_link)
			st->link_chars++;
		if (cp == ',' || cp == 0xFF0C || cp == 0x3001)
			st->commas++;
	}
}

static int name_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *next_in_tree(xmlNode *n, xmlNode *top, int descend)
{
	if (descend && n->children)
		return n->children;
	while (n && n != top && !n->next)
		n = n->parent;
	return (!n || n == top) ? NULL : n->next;
}

static int is_invisible_el(const xmlNode *n)
{
	static const char *const skip[] = {"script",   "style", "template",
	                                   "noscript", "head",  "title"};
	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (name_is(n, skip[i]))
			return 1;
	return 0;
}

static void stats_of(xmlNode *top, struct text_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (top->type == XML_TEXT_NODE) {
		count_text((const char *)top->content, st, 0);
		return;
	}
	for (xmlNode *cur = top->children; cur;) {
		int descend = 1;
		if (cur->type == XML_TEXT_NODE && cur->content) {
			int in_link = 0;
			for (xmlNode *a = cur->parent; a && a != top->parent; a = a->parent)
				if (name_is(a, "a")) {
					in_link = 1;
					break;
				}
			count_text((const char *)cur->content, st, in_link);
		} else if (is_invisible_el(cur)) {
			descend = 0;
		}
		cur = next_in_tree(cur, top, descend);
	}
}

static double link_density(xmlNode *n)
{
	struct text_stats st;
	stats_of(n, &st);
	return st.chars ? (double)st.link_chars / (double)st.chars : 0;
}

static int has_img(xmlNode *top)
{
	for (xmlNode *cur = top->children; cur; cur = next_in_tree(cur, top, 1))
		if (name_is(cur, "img") || name_is(cur, "picture"))
			return 1;
	return 0;
}

/* ---- class and id hints ---- */

/* Words of a class or id value: split on anything not a letter or digit. */
static int has_word(const char *v, const char *const *words, size_t n_words, int prefix)
{
	const char *p = v;
	while (*p) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		const char *s = p;
		while (isalnum((unsigned char)*p))
			p++;
		size_t len = (size_t)(p - s);
		for (size_t i = 0; len && i < n_words; i++) {
			size_t wl = strlen(words[i]);
			if (prefix ? (len >= wl && strncasecmp(s, words[i], wl) == 0)
			           : (len == wl && strncasecmp(s, words[i], wl) == 0))
				return 1;
		}
	}
	return 0;
}

static const char *const positive_words[] = {"article", "content", "entry", "post", "main",
                                             "body",    "text",    "story", "blog", "hentry"};
static const char *const negative_prefix[] = {
    "comment", "sidebar",    "footer", "nav",      "menu",      "share",
    "related", "promo",      "widget", "sponsor",  "advert",    "banner",
    "popup",   "breadcrumb", "social", "masthead", "subscribe", "newsletter"};
static const char *const negative_exact[] = {"ad",   "ads",      "tags",   "meta",
                                             "foot", "outbrain", "taboola"};

static int class_weight_of(const char *v)
{
	if (!v || !*v)
		return 0;
	int w = 0;
	if (has_word(v, negative_prefix, ARRAY_SIZE(negative_prefix), 1) ||
	    has_word(v, negative_exact, ARRAY_SIZE(negative_exact), 0))
		w -= 25;
	if (has_word(v, positive_words, ARRAY_SIZE(positive_words), 0) ||
	    strstr(v, "rich_media") != NULL)
		w += 25;
	return w;
}

static int class_weight(const xmlNode *n)
{
	int w = 0;
	xmlChar *v = xmlGetProp(n, BAD_CAST "class");
	w += class_weight_of((const char *)v);
	xmlFree(v);
	v = xmlGetProp(n, BAD_CAST "id");
	w += class_weight_of((const char *)v);
	xmlFree(v);
	return w;
}

static int unlikely(const xmlNode *n)
{
	if (name_is(n, "html") || name_is(n, "body") || name_is(n, "article") ||
	    name_is(n, "main") || name_is(n, "a"))
		return 0;
	xmlChar *role = xmlGetProp(n, BAD_CAST "role");
	int bad_role = role && (xmlStrcasecmp(role, BAD_CAST "navigation") == 0 ||
	                        xmlStrcasecmp(role, BAD_CAST "complementary") == 0 ||
	                        xmlStrcasecmp(role, BAD_CAST "contentinfo") == 0 ||
	                        xmlStrcasecmp(role, BAD_CAST "banner") == 0);
	xmlFree(role);
	if (bad_role)
		return 1;
	int neg = 0, pos = 0;
	for (int i = 0; i < 2; i++) {
		xmlChar *v = xmlGetProp(n, BAD_CAST(i ? "id" : "class"));
		if (v) {
			const char *s = (const char *)v;
			neg |= has_word(s, negative_prefix, ARRAY_SIZE(negative_prefix), 1) ||
			       has_word(s, negative_exact, ARRAY_SIZE(negative_exact), 0);
			pos |= has_word(s, positive_words, ARRAY_SIZE(positive_words), 0) ||
			       strstr(s, "rich_media") != NULL;
		}
		xmlFree(v);
	}
	return neg && !pos;
}

/* ---- preparing the tree ---- */

static void drop(xmlNode *n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* Drops what never holds the article: scripts, navigation, and (when aggressive) blocks whose
 * class or id says comments, sidebar, share... */
static void prune(xmlNode *root, int aggressive)
{
	static const char *const junk[] = {"script",   "style",  "template", "canvas", "nav",
	                                   "aside",    "footer", "form",     "button", "select",
	                                   "textarea", "input",  "link",     "meta"};
	xmlNode *cur = root->children;
	while (cur) {
		int kill = 0;
		if (cur->type == XML_ELEMENT_NODE) {
			for (size_t i = 0; i < ARRAY_SIZE(junk) && !kill; i++)
				kill = name_is(cur, junk[i]);
			/* A form may wrap a whole ASP.NET page: only small ones go. */
			if (kill && name_is(cur, "form")) {
				struct text_stats st;
				stats_of(cur, &st);
				kill = st.chars < 200;
			}
			if (!kill && aggressive)
				kill = unlikely(cur);
		} else if (cur->type == XML_COMMENT_NODE) {
			kill = 1;
		}
		if (kill) {
			xmlNode *next = next_in_tree(cur, root, 0);
			drop(cur);
			cur = next;
			continue;
		}
		cur = next_in_tree(cur, root, 1);
	}
}

/* ---- scoring ---- */

static struct cand *cand_of(struct scorer *s, xmlNode *n)
{
	if (n->_private)
		return &s->c[(uintptr_t)n->_private - 1];
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->c = xrealloc(s->c, s->cap * sizeof(*s->c));
	}
	struct cand *c = &s->c[s->n++];
	n->_private = (void *)(uintptr_t)s->n;
	c->node = n;
	c->score = class_weight(n);
	const char *name = (const char *)n->name;
	if (strcmp(name, "div") == 0 || strcmp(name, "article") == 0 ||
	    strcmp(name, "section") == 0)
		c->score += 5;
	else if (strcmp(name, "pre") == 0 || strcmp(name, "td") == 0 ||
	         strcmp(name, "blockquote") == 0)
		c->score += 3;
	else if (strcmp(name, "address") == 0 || strcmp(name, "ol") == 0 ||
	         strcmp(name, "ul") == 0 || strcmp(name, "dl") == 0 || strcmp(name, "dd") == 0 ||
	         strcmp(name, "dt") == 0 || strcmp(name, "li") == 0 || strcmp(name, "form") == 0)
		c->score -= 3;
	else if ((name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) ||
	         strcmp(name, "th") == 0)
		c->score -= 5;
	return c;
}

static int is_block_name(const xmlNode *n)
{
	static const char *const blocks[] = {"p",  "div",    "section", "article",    "table",
	                                     "ul", "ol",     "pre",     "blockquote", "h1",
	                                     "h2", "h3",     "h4",      "h5",         "h6",
	                                     "dl", "figure", "main",    "header",     "aside"};
	for (size_t i = 0; i < ARRAY_SIZE(blocks); i++)
		if (name_is(n, blocks[i]))
			return 1;
	return 0;
}

/* A paragraph for scoring: p, pre, td, blockquote, or a div/section holding no blocks. */
static int is_paragraph(const xmlNode *n)
{
	if (name_is(n, "p") || name_is(n, "pre") || name_is(n, "td") || name_is(n, "blockquote"))
		return 1;
	if (!name_is(n, "div") && !name_is(n, "section"))
		return 0;
	for (const xmlNode *ch = n->children; ch; ch = ch->next)
		if (is_block_name(ch))
			return 0;
	return 1;
}

static void score_tree(struct scorer *s, xmlNode *root)
{
	for (xmlNode *cur = root; cur; cur = next_in_tree(cur, root, 1))
		if (cur->type == XML_ELEMENT_NODE)
			cur->_private = NULL;
	for (xmlNode *cur = root; cur; cur = next_in_tree(cur, root, 1)) {
		if (cur->type != XML_ELEMENT_NODE || !is_paragraph(cur))
			continue;
		struct text_stats st;
		stats_of(cur, &st);
		if (st.chars < MIN_PARA_CHARS)
			continue;
		double score =
		    1 + (double)st.commas + (double)(st.chars / 100 < 3 ? st.chars / 100 : 3);
		xmlNode *anc = cur->parent;
		for (int level = 0; anc && anc->type == XML_ELEMENT_NODE && level < 5;
		     level++, anc = anc->parent) {
			double div = level == 0 ? 1 : level == 1 ? 2 : level * 3;
			cand_of(s, anc)->score += score / div;
		}
	}
}

static double final_score(struct scorer *s, xmlNode *n)
{
	if (!n->_private)
		return 0;
	return cand_of(s, n)->score * (1 - link_density(n));
}

static char *collapse(const char *s);

/* The winner plus the siblings that look like more of the same article. */
static size_t pick(struct scorer *s, xmlNode *body, xmlNode ***out)
{
	xmlNode *top = NULL;
	double best = 0;
	for (size_t i = 0; i < s->n; i++) {
		double f = s->c[i].score * (1 - link_density(s->c[i].node));
		if (!top || f > best) {
			top = s->c[i].node;
			best = f;
		}
	}
	if (!top || name_is(top, "html")) {
		top = body;
	}
	size_t n = 0;
	*out = xmalloc(sizeof(**out));
	if (!top->parent || top == body || name_is(top, "body")) {
		(*out)[n++] = top;
		return n;
	}
	double threshold = best * 0.2 > 10 ? best * 0.2 : 10;
	size_t cap = 1;
	for (xmlNode *sib = top->parent->children; sib; sib = sib->next) {
		if (sib->type != XML_ELEMENT_NODE)
			continue;
		int take = sib == top;
		if (!take && sib->_private && final_score(s, sib) >= threshold)
			take = 1;
		if (!take && name_is(sib, "p")) {
			struct text_stats st;
			stats_of(sib, &st);
			double ld = st.chars ? (double)st.link_chars / (double)st.chars : 0;
			xmlChar *t = xmlNodeGetContent(sib);
			char *txt = t ? collapse((const char *)t) : NULL;
			size_t tl = txt ? strlen(txt) : 0;
			/* A short paragraph counts when it reads as a sentence. */
			if (st.chars > 80 && ld < 0.25)
				take = 1;
			else if (tl && ld == 0 &&
			         (strstr(txt, ". ") || txt[tl - 1] == '.' ||
			          strstr(txt, "\xE3\x80\x82")))
				take = 1;
			free(txt);
			xmlFree(t);
		}
		if (!take)
			continue;
		if (n == cap) {
			cap *= 2;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n++] = sib;
	}
	return n;
}

/* ---- charset and parsing ---- */

static char *encoding_for(const char *header, const char *page, size_t len)
{
	char *cs = header && *header ? xstrdup(header) : util_html_meta_charset(page, len);
	if (!cs)
		return NULL;
	util_trim(cs);
	/* GB18030 covers GB2312 and GBK: labels understate what pages use. */
	if (strcasecmp(cs, "gb2312") == 0 || strcasecmp(cs, "gbk") == 0 ||
	    strcasecmp(cs, "x-gbk") == 0) {
		free(cs);
		return xstrdup("GB18030");
	}
	if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0) {
		free(cs);
		return NULL;
	}
	xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(cs);
	if (!h) {
		free(cs);
		return NULL;
	}
	xmlCharEncCloseFunc(h);
	return cs;
}

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

/* Parses page as HTML in the charset given (NULL: UTF-8, repaired first). */
static htmlDocPtr parse_page(const char *page, size_t len, const char *enc)
{
	char *utf8 = NULL;
	if (!enc) {
		utf8 = sanitize(page, len);
		page = utf8;
		len = strlen(utf8);
	}
	if (len > INT_MAX) {
		free(utf8);
		return NULL;
	}
	htmlParserCtxtPtr p = htmlNewParserCtxt();
	if (!p)
		die_oom();
	int opts = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
	           HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT;
	htmlDocPtr d = htmlCtxtReadMemory(p, page, (int)len, NULL, enc ? enc : "UTF-8", opts);
	htmlFreeParserCtxt(p);
	free(utf8);
	return d;
}

/* ---- title ---- */

static char *collapse(const char *s)
{
	struct buf b = BUF_INIT;
	int sp = 1;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
			sp = 1;
			continue;
		}
		if (sp && b.len)
			buf_putc(&b, ' ');
		sp = 0;
		buf_putc(&b, *p);
	}
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static char *find_title(xmlNode *root)
{
	char *title = NULL;
	xmlNode *title_el = NULL, *h1 = NULL;
	for (xmlNode *cur = root; cur && !title; cur = next_in_tree(cur, root, 1)) {
		if (name_is(cur, "meta")) {
			xmlChar *p = xmlGetProp(cur, BAD_CAST "property");
			if (!p)
				p = xmlGetProp(cur, BAD_CAST "name");
			if (p && (xmlStrcasecmp(p, BAD_CAST "og:title") == 0 ||
			          xmlStrcasecmp(p, BAD_CAST "twitter:title") == 0)) {
				xmlChar *c = xmlGetProp(cur, BAD_CAST "content");
				if (c)
					title = collapse((const char *)c);
				xmlFree(c);
			}
			xmlFree(p);
		} else if (name_is(cur, "title") && !title_el) {
			title_el = cur;
		} else if (name_is(cur, "h1") && !h1) {
			h1 = cur;
		}
	}
	for (int i = 0; i < 2 && !title; i++) {
		xmlNode *n = i ? h1 : title_el;
		if (!n)
			continue;
		xmlChar *t = xmlNodeGetContent(n);
		if (t)
			title = collapse((const char *)t);
		xmlFree(t);
	}
	return title;
}

/* ---- known containers ---- */

static int attr_eq(const xmlNode *n, const char *attr, const char *value)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST attr);
	int eq = v && strcmp((const char *)v, value) == 0;
	xmlFree(v);
	return eq;
}

static xmlNode *known_container(xmlNode *root)
{
	xmlNode *body_prop = NULL, *article = NULL;
	int n_articles = 0;
	for (xmlNode *cur = root; cur; cur = next_in_tree(cur, root, 1)) {
		if (cur->type != XML_ELEMENT_NODE)
			continue;
		if (attr_eq(cur, "id", "js_content"))
			return cur;
		if (!body_prop && attr_eq(cur, "itemprop", "articleBody"))
			body_prop = cur;
		if (name_is(cur, "article")) {
			n_articles++;
			article = cur;
		}
	}
	if (body_prop)
		return body_prop;
	if (n_articles == 1) {
		struct text_stats st;
		stats_of(article, &st);
		if (st.chars >= RETRY_CHARS)
			return article;
	}
	return NULL;
}

/* ---- result ---- */

static void serialise(htmlDocPtr doc, xmlNode **nodes, size_t n, struct extract_result *r)
{
	struct buf b = BUF_INIT;
	xmlBuffer *xb = xmlBufferCreate();
	if (!xb)
		die_oom();
	buf_puts(&b, "<div>");
	for (size_t i = 0; i < n; i++) {
		struct text_stats st;
		/* WeChat hides #js_content until its script runs: the style must not come along. */
		xmlUnsetProp(nodes[i], BAD_CAST "style");
		stats_of(nodes[i], &st);
		r->text_chars += st.chars;
		xmlBufferEmpty(xb);
		htmlNodeDump(xb, doc, nodes[i]);
		buf_add(&b, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	}
	buf_puts(&b, "</div>");
	xmlBufferFree(xb);
	r->html = buf_detach(&b, NULL);
}

/* The reader shows the title above the article: a leading heading that repeats it goes. */
static void drop_title_heading(xmlNode *top, const char *title)
{
	if (!title)
		return;
	for (xmlNode *cur = top->children; cur; cur = next_in_tree(cur, top, 1)) {
		if (cur->type != XML_ELEMENT_NODE)
			continue;
		const char *nm = (const char *)cur->name;
		if (nm[0] != 'h' || nm[1] < '1' || nm[1] > '3' || nm[2]) {
			if (name_is(cur, "p") || name_is(cur, "img") || name_is(cur, "table"))
				return; /* the body has begun */
			continue;
		}
		xmlChar *t = xmlNodeGetContent(cur);
		char *h = t ? collapse((const char *)t) : NULL;
		xmlFree(t);
		size_t hl = h ? strlen(h) : 0;
		int same = hl && strncmp(title, h, hl) == 0 &&
		           (title[hl] == '\0' || title[hl] == ' ' || title[hl] == '|');
		free(h);
		if (same)
			drop(cur);
		return;
	}
}

static int extract_once(htmlDocPtr doc, int aggressive, struct extract_result *r)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root)
		return -1;
	prune(root, 0);
	xmlNode *known = known_container(root);
	if (known) {
		struct text_stats st;
		stats_of(known, &st);
		if (st.chars > 0 || has_img(known)) {
			drop_title_heading(known, r->title);
			serialise(doc, &known, 1, r);
			return 0;
		}
	}
	if (aggressive)
		prune(root, 1);
	xmlNode *body = root;
	for (xmlNode *cur = root; cur; cur = next_in_tree(cur, root, 1))
		if (name_is(cur, "body")) {
			body = cur;
			break;
		}
	struct scorer s = {NULL, 0, 0};
	score_tree(&s, root);
	xmlNode **nodes = NULL;
	size_t n = pick(&s, body, &nodes);
	drop_title_heading(nodes[0], r->title);
	serialise(doc, nodes, n, r);
	int found = r->text_chars > 0 || has_img(nodes[0]);
	for (xmlNode *cur = root; cur; cur = next_in_tree(cur, root, 1))
		cur->_private = NULL;
	free(nodes);
	free(s.c);
	return found ? 0 : -1;
}

int extract_main(const char *page, size_t len, const char *url, const char *charset,
                 struct extract_result *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	struct xml_quiet q;
	util_xml_quiet_begin(&q);
	char *enc = encoding_for(charset, page ? page : "", page ? len : 0);
	int rc = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		htmlDocPtr doc = parse_page(page ? page : "", page ? len : 0, enc);
		if (!doc)
			break;
		struct extract_result tmp = {NULL, NULL, 0};
		xmlNode *root = xmlDocGetRootElement(doc);
		if (root)
			tmp.title = find_title(root);
		/* First without the blocks whose names look like boilerplate; when that leaves
		 * little, again with them, keeping the richer result. */
		int ok = extract_once(doc, attempt == 0, &tmp);
		xmlFreeDoc(doc);
		if (ok == 0 && (rc < 0 || tmp.text_chars > r->text_chars)) {
			extract_result_release(r);
			*r = tmp;
			rc = 0;
		} else {
			extract_result_release(&tmp);
		}
		if (rc == 0 && r->text_chars >= RETRY_CHARS)
			break;
	}
	free(enc);
	util_xml_quiet_end(&q);
	if (rc < 0)
		err_set(e, 2, "extract %s: no main content found", url ? url : "(page)");
	return rc;
}

void extract_result_release(struct extract_result *r)
{
	if (!r)
		return;
	free(r->html);
	free(r->title);
	r->html = NULL;
	r->title = NULL;
	r->text_chars = 0;
}

/* ---- teasers ---- */

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);
	return n >= l && memcmp(s + n - l, suffix, l) == 0;
}

int extract_is_teaser(const char *html, size_t len, size_t min_chars)
{
	struct xml_quiet q;
	util_xml_quiet_begin(&q);
	htmlDocPtr doc = parse_page(html ? html : "", html ? len : 0, NULL);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	struct buf text = BUF_INIT;
	for (xmlNode *cur = root; cur;) {
		int descend = 1;
		if (cur->type == XML_TEXT_NODE && cur->content) {
			buf_puts(&text, (const char *)cur->content);
		} else if (is_invisible_el(cur)) {
			descend = 0;
		} else if (cur->type == XML_ELEMENT_NODE && !name_is(cur, "a") &&
		           !name_is(cur, "span") && !name_is(cur, "b") && !name_is(cur, "i") &&
		           !name_is(cur, "em") && !name_is(cur, "strong")) {
			buf_putc(&text, ' ');
		}
		cur = next_in_tree(cur, root, descend);
	}
	xmlFreeDoc(doc);
	util_xml_quiet_end(&q);

	int teaser = 0;
	struct text_stats st = {0, 0, 0};
	char *t = collapse(text.data ? text.data : "");
	buf_release(&text);
	if (!t)
		return min_chars > 0;
	count_text(t, &st, 0);
	size_t n = strlen(t);
	if (min_chars && st.chars < min_chars)
		teaser = 1;
	static const char *const endings[] = {
	    "\xE2\x80\xA6", "...", "[\xE2\x80\xA6]", "[...]", "(\xE2\x80\xA6)", "\xE2\x80\xA6]"};
	for (size_t i = 0; i < ARRAY_SIZE(endings) && !teaser; i++)
		teaser = ends_with(t, n, endings[i]);
	/* "Read more" links close a teaser; look only near the end so a long article that
	 * mentions them in passing is not taken for one. */
	static const char *const phrases[] = {"read more",
	                                      "continue reading",
	                                      "keep reading",
	                                      "read the full",
	                                      "\xE9\x98\x85\xE8\xAF\xBB\xE5\x85\xA8\xE6\x96\x87",
	                                      "\xE9\x98\x85\xE8\xAF\xBB\xE5\x8E\x9F\xE6\x96\x87",
	                                      "\xE6\x9F\xA5\xE7\x9C\x8B\xE5\x85\xA8\xE6\x96\x87"};
	size_t tail_start = n > 600 ? n - 600 : 0;
	for (size_t i = tail_start; i < n; i++)
		t[i] = (char)tolower((unsigned char)t[i]);
	for (size_t i = 0; i < ARRAY_SIZE(phrases) && !teaser; i++)
		teaser = strstr(t + tail_start, phrases[i]) != NULL;
	free(t);
	return teaser;
}
