/* libFuzzer target for `clean`: any bytes (up to 256 KB) in; aborts unless the fragment is
 * well-formed XML, carries no script, handler, style, javascript: URL or named entity, and
 * cleaning it again changes nothing. Never writes files or touches the network. */
#include <libxml/parser.h>

#include "clean.h"

#define MAX_INPUT_BYTES (256 * 1024)

static void quiet(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static void fail(const char *what, const char *frag)
{
	fprintf(stderr, "fuzz_clean: %s\n--- fragment ---\n%s\n", what, frag);
	abort();
}

/* Only allow-listed elements and attributes, links and images on safe schemes. */
static void check_tree(xmlNode *n, const char *frag)
{
	static const char *const els[] = {
	    "div",    "p",          "h1",    "h2",      "h3",  "h4",  "h5",   "h6",
	    "pre",    "ul",         "ol",    "li",      "dl",  "dt",  "dd",   "blockquote",
	    "figure", "figcaption", "table", "caption", "tr",  "td",  "th",   "hr",
	    "br",     "img",        "a",     "abbr",    "b",   "bdi", "cite", "code",
	    "del",    "dfn",        "em",    "i",       "ins", "kbd", "mark", "q",
	    "s",      "samp",       "small", "strong",  "sub", "sup", "u",    "var"};
	static const char *const attrs[] = {"href",    "src",  "alt",  "colspan",
	                                    "rowspan", "lang", "start"};
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		int ok = 0;
		for (size_t i = 0; i < ARRAY_SIZE(els) && !ok; i++)
			ok = strcmp((const char *)n->name, els[i]) == 0;
		if (!ok)
			fail("element outside the allow-list", frag);
		for (xmlAttr *a = n->properties; a; a = a->next) {
			ok = 0;
			for (size_t i = 0; i < ARRAY_SIZE(attrs) && !ok; i++)
				ok = strcmp((const char *)a->name, attrs[i]) == 0;
			if (!ok)
				fail("attribute outside the allow-list", frag);
			if (strcmp((const char *)a->name, "href") == 0 ||
			    strcmp((const char *)a->name, "src") == 0) {
				xmlChar *v = xmlNodeGetContent((xmlNode *)a);
				const char *s = v ? (const char *)v : "";
				ok = util_starts_with_ci(s, "http:") ||
				     util_starts_with_ci(s, "https:") ||
				     util_starts_with_ci(s, "mailto:") ||
				     util_starts_with_ci(s, "data:image/");
				xmlFree(v);
				if (!ok)
					fail("URL on an unsafe scheme", frag);
			}
		}
		check_tree(n->children, frag);
	}
}

static void check_entities(const char *frag)
{
	for (const char *p = strchr(frag, '&'); p; p = strchr(p + 1, '&'))
		if (strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) && strncmp(p, "&amp;", 5) &&
		    strncmp(p, "&quot;", 6) && strncmp(p, "&#", 2))
			fail("named entity in output", frag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT_BYTES)
		return 0;
	xmlSetStructuredErrorFunc(NULL, quiet);
	struct clean_opts o;
	memset(&o, 0, sizeof(o));
	o.base_url = "https://example.org/a/b.html";
	/* The last byte picks options, so selectors, heading levels and widths get fuzzed too. */
	static const char *const selectors[] = {
	    "p",        ".share",    "div p",        "#main",
	    "[data-x]", "[lang=fr]", "section .a b", "ul li, table"};
	uint8_t mode = size ? data[size - 1] : 0;
	struct strlist keep = {0}, rm = {0};
	if (mode & 1)
		strlist_add(&rm, selectors[(mode >> 1) & 7]);
	if (mode & 16)
		strlist_add(&keep, selectors[(mode >> 5) & 7]);
	o.remove = &rm;
	o.keep = &keep;
	o.heading_base = 1 + mode % 6;
	o.device_width = (mode & 32) ? 320 : 0;
	o.base_url = (mode & 64) ? NULL : o.base_url;
	struct clean_result r, r2;
	struct err e;
	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	if (clean_html((const char *)data, size, &o, &r, &e) != 0)
		fail("clean_html failed", e.msg);
	char *wrapped = xasprintf("<div>%s</div>", r.xhtml);
	xmlDoc *d = xmlReadMemory(wrapped, (int)strlen(wrapped), NULL, "UTF-8",
	                          XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d)
		fail("output is not well-formed XML", r.xhtml);
	check_tree(xmlDocGetRootElement(d), r.xhtml);
	xmlFreeDoc(d);
	free(wrapped);
	check_entities(r.xhtml);
	/* Selectors describe the source page, not the clean fragment: the fixed point is
	 * checked without them. */
	o.keep = NULL;
	o.remove = NULL;
	if (clean_html(r.xhtml, strlen(r.xhtml), &o, &r2, &e) != 0)
		fail("second clean_html failed", e.msg);
	if (strcmp(r.xhtml, r2.xhtml) != 0) {
		fprintf(stderr, "--- second pass ---\n%s\n", r2.xhtml);
		fail("not idempotent", r.xhtml);
	}
	if (r.images.n != r2.images.n || r.text_chars != r2.text_chars)
		fail("image list or text length changed on the second pass", r.xhtml);
	clean_result_release(&r);
	clean_result_release(&r2);
	strlist_release(&keep);
	strlist_release(&rm);
	return 0;
}
