/* Unit tests for `clean`: fixture articles (WeChat, WordPress, Substack, tables and code, XSS
 * vectors, plain text) and small cases. Every output is checked to be well-formed XML, inside
 * the allow-list, free of named entities, and unchanged by a second clean. Offline. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "clean.h"

#define BASE "https://garden.example.net/shed/"

static char *read_fixture(const char *name, size_t *len)
{
	struct buf b = BUF_INIT;
	struct err e;
	char *path = xasprintf("%s/clean/%s", FIXTURES, name);
	if (util_read_file(path, 0, &b, &e) < 0)
		fail_msg("%s", e.msg);
	free(path);
	*len = b.len;
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

static void quiet(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static const char *const allowed_elements[] = {
    "div",    "p",          "h1",    "h2",      "h3",  "h4",  "h5",   "h6",
    "pre",    "ul",         "ol",    "li",      "dl",  "dt",  "dd",   "blockquote",
    "figure", "figcaption", "table", "caption", "tr",  "td",  "th",   "hr",
    "br",     "img",        "a",     "abbr",    "b",   "bdi", "cite", "code",
    "del",    "dfn",        "em",    "i",       "ins", "kbd", "mark", "q",
    "s",      "samp",       "small", "strong",  "sub", "sup", "u",    "var"};
static const char *const allowed_attrs[] = {"href",    "src",  "alt",  "colspan",
                                            "rowspan", "lang", "start"};

static int in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static size_t count_visible(const char *s)
{
	size_t n = 0;
	const char *end = s + strlen(s);
	while (s < end) {
		int32_t c = util_utf8_next(&s, end);
		assert_true(c >= 0);
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != 0xA0 && c != 0x3000 &&
		    c != 0x200B && c != 0xFEFF && !(c >= 0x2000 && c <= 0x200A))
			n++;
	}
	return n;
}

/* Set while checking the output for a page that is itself a local file: only then may an
 * image be a file: URL. */
static int local_page;

static void check_tree(xmlNode *n, size_t *chars)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE) {
			*chars += count_visible((const char *)n->content);
			continue;
		}
		assert_int_equal(n->type, XML_ELEMENT_NODE);
		if (!in_list((const char *)n->name, allowed_elements, ARRAY_SIZE(allowed_elements)))
			fail_msg("element <%s> in output", n->name);
		for (xmlAttr *a = n->properties; a; a = a->next) {
			if (!in_list((const char *)a->name, allowed_attrs,
			             ARRAY_SIZE(allowed_attrs)))
				fail_msg("attribute %s on <%s> in output", a->name, n->name);
			if (strcmp((const char *)a->name, "href") &&
			    strcmp((const char *)a->name, "src"))
				continue;
			xmlChar *v = xmlNodeGetContent((xmlNode *)a);
			const char *s = (const char *)v;
			if (!util_starts_with_ci(s, "https:") && !util_starts_with_ci(s, "http:") &&
			    !util_starts_with_ci(s, "mailto:") &&
			    !(strcmp((const char *)a->name, "src") == 0 &&
			      (util_starts_with_ci(s, "data:image/") ||
			       (local_page && util_starts_with_ci(s, "file:")))))
				fail_msg("unsafe URL %s", s);
			xmlFree(v);
		}
		check_tree(n->children, chars);
	}
}

/* The properties every output must have: well-formed, allow-listed, numeric entities only,
 * the right visible length and image list, and a fixed point of clean. */
static void check_output(const struct clean_result *r, const struct clean_opts *o)
{
	xmlSetStructuredErrorFunc(NULL, quiet);
	local_page = o && o->base_url && util_starts_with_ci(o->base_url, "file:");
	char *wrapped = xasprintf("<div>%s</div>", r->xhtml);
	xmlDoc *d = xmlReadMemory(wrapped, (int)strlen(wrapped), NULL, "UTF-8",
	                          XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d)
		fail_msg("not well-formed XML: %s", r->xhtml);
	size_t chars = 0;
	check_tree(xmlDocGetRootElement(d), &chars);
	assert_int_equal(chars, r->text_chars);
	xmlFreeDoc(d);
	free(wrapped);
	for (const char *p = strchr(r->xhtml, '&'); p; p = strchr(p + 1, '&'))
		if (strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) && strncmp(p, "&amp;", 5) &&
		    strncmp(p, "&quot;", 6) && strncmp(p, "&#", 2))
			fail_msg("named entity at %.12s", p);
	for (size_t i = 0; i < r->images.n; i++) {
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(r->images.items[i], r->images.items[j]);
	}

	struct clean_result again = {0};
	struct err e;
	assert_int_equal(clean_html(r->xhtml, strlen(r->xhtml), o, &again, &e), 0);
	if (strcmp(again.xhtml, r->xhtml) != 0)
		fail_msg("not idempotent:\n%s\n---\n%s", r->xhtml, again.xhtml);
	assert_int_equal(again.images.n, r->images.n);
	for (size_t i = 0; i < r->images.n; i++)
		assert_string_equal(again.images.items[i], r->images.items[i]);
	assert_int_equal(again.text_chars, r->text_chars);
	clean_result_release(&again);
}

static void clean_str(const char *html, const struct clean_opts *o, struct clean_result *r)
{
	struct err e;
	memset(r, 0, sizeof(*r));
	if (clean_html(html, strlen(html), o, r, &e) != 0)
		fail_msg("clean_html: %s", e.msg);
	check_output(r, o);
}

static void clean_fixture(const char *name, const struct clean_opts *o, struct clean_result *r)
{
	size_t len;
	char *html = read_fixture(name, &len);
	struct err e;
	memset(r, 0, sizeof(*r));
	if (clean_html(html, len, o, r, &e) != 0)
		fail_msg("clean_html: %s", e.msg);
	free(html);
	check_output(r, o);
}

#define assert_has(hay, needle)                                                                    \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("missing \"%s\" in:\n%s", (needle), (hay));                       \
	} while (0)
#define assert_lacks(hay, needle)                                                                  \
	do {                                                                                       \
		if (strstr((hay), (needle)))                                                       \
			fail_msg("unexpected \"%s\" in:\n%s", (needle), (hay));                    \
	} while (0)

static void assert_images(const struct clean_result *r, const char *const *want, size_t n)
{
	if (r->images.n != n)
		fail_msg("%zu images, want %zu:\n%s", r->images.n, n, r->xhtml);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->images.items[i], want[i]);
}

static void test_wechat(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = "https://mp.weixin.qq.com/s/abc"};
	struct clean_result r;
	clean_fixture("wechat.html", &o, &r);
	static const char *const want[] = {
	    "https://mmbiz.qpic.cn/mmbiz_png/Ab3Fk2xYtqZ/640?wx_fmt=png&from=appmsg",
	    "https://mmbiz.qpic.cn/mmbiz_jpg/Ab3Fk2xYtqZ/640?wx_fmt=jpeg&from=appmsg&tp=webp&"
	    "wxfrom=5&wx_lazy=1&wx_co=1",
	    "https://mmbiz.qpic.cn/sz_mmbiz_gif/Xy7Qp9/640?wx_fmt=gif"};
	assert_images(&r, want, ARRAY_SIZE(want));
	assert_has(r.xhtml,
	           "<p>今年秋天，我们走访了三座城市的独立书店，和店主们聊了聊实体书店的现状。</p>");
	assert_has(r.xhtml, "<p><strong>一、</strong>成都的");
	assert_has(r.xhtml,
	           "<p>三、南京的“先锋书店”把书店开进了地下停车场，如今已是城市的一张名片。</p>");
	assert_has(r.xhtml, "<p>Embedded content: <a href=\"https://v.qq.com/iframe/preview.html?");
	assert_lacks(r.xhtml, "隐藏的统计文字");
	assert_lacks(r.xhtml, "appmsgreport");
	assert_lacks(r.xhtml, "店主的录音");
	assert_lacks(r.xhtml, "书店地图");
	assert_lacks(r.xhtml, "visibility");
	assert_lacks(r.xhtml, "grey.gif");
	assert_lacks(r.xhtml, "svg");
	assert_lacks(r.xhtml, "<p></p>");
	/* Code points, not bytes. */
	assert_true(r.text_chars > 100 && r.text_chars < strlen(r.xhtml) / 3);
	clean_result_release(&r);
}

static void test_wordpress(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = BASE};
	struct clean_result r;
	clean_fixture("wordpress.html", &o, &r);
	static const char *const want[] = {
	    "https://garden.example.net/wp-content/uploads/2026/11/shed-1536x1024.jpg",
	    "https://garden.example.net/wp-content/uploads/2026/11/floor.png",
	    "https://garden.example.net/img/walls-1280.jpg"};
	assert_images(&r, want, ARRAY_SIZE(want));
	assert_has(r.xhtml,
	           "<figure><img src=\"https://garden.example.net/wp-content/uploads/"
	           "2026/11/shed-1536x1024.jpg\" alt=\"The old shed\"/><figcaption>The shed "
	           "<em>before</em> the work.</figcaption></figure>");
	assert_has(r.xhtml, "<h2>Materials</h2>");
	assert_has(r.xhtml, "<h3>The floor</h3>");
	assert_has(r.xhtml, "<li>Pressure-treated 2×4s</li>");
	assert_has(r.xhtml, "<a href=\"https://example.com/saw\">good saw</a>");
	assert_lacks(r.xhtml, "pixel.wp.com");
	assert_lacks(r.xhtml, "feedburner");
	assert_lacks(r.xhtml, "Share this");
	assert_lacks(r.xhtml, "Facebook");
	assert_lacks(r.xhtml, "lazy_placeholder");
	assert_lacks(r.xhtml, "data:image/gif");
	clean_result_release(&r);

	/* The srcset choice follows the device: the narrowest candidate at least as wide. */
	o.device_width = 600;
	clean_fixture("wordpress.html", &o, &r);
	assert_string_equal(
	    r.images.items[0],
	    "https://garden.example.net/wp-content/uploads/2026/11/shed-1024x683.jpg");
	assert_string_equal(r.images.items[2], "https://garden.example.net/img/walls-640.jpg");
	clean_result_release(&r);
	o.device_width = 4000;
	clean_fixture("wordpress.html", &o, &r);
	assert_string_equal(r.images.items[0],
	                    "https://garden.example.net/wp-content/uploads/2026/11/shed.jpg");
	clean_result_release(&r);
}

static void test_substack(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = "https://example.substack.com/p/batteries"};
	struct clean_result r;
	clean_fixture("substack.html", &o, &r);
	static const char *const want[] = {
	    "https://substackcdn.com/image/fetch/w_1272,c_limit,f_auto,q_auto:good,"
	    "fl_progressive:steep/https%3A%2F%2Fsubstack-post-media.s3.amazonaws.com%2Fpublic"
	    "%2Fimages%2Fb1c2.png"};
	assert_images(&r, want, ARRAY_SIZE(want));
	assert_has(r.xhtml, "alt=\"Battery pack prices, 2013-2023\"/><figcaption>Pack prices");
	assert_has(r.xhtml, "<h2>Three reasons</h2>");
	assert_has(r.xhtml, "<blockquote><p>“The cheapest battery is the one you already "
	                    "built.”</p></blockquote>");
	assert_has(r.xhtml, "<li><p><strong>Scale.</strong> Factories got bigger.</p></li>");
	assert_lacks(r.xhtml, "This week: why");
	assert_lacks(r.xhtml, "eotrx");
	assert_lacks(r.xhtml, "Subscribe now");
	assert_lacks(r.xhtml, "Type your email");
	assert_lacks(r.xhtml, "polyline");
	clean_result_release(&r);
}

static void test_tables_code(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = BASE};
	struct clean_result r;
	clean_fixture("tables_code.html", &o, &r);
	assert_has(r.xhtml, "<h2>Benchmarks</h2>");
	assert_has(r.xhtml, "<h3>Code</h3>");
	assert_has(r.xhtml, "<table><caption>Throughput (MB/s)</caption><tr><th>Parser</th>"
	                    "<th colspan=\"2\">Input</th></tr><tr><th></th><th>small</th>");
	assert_has(r.xhtml, "<td rowspan=\"2\">libxml2</td>");
	assert_has(r.xhtml, "<tr><td>html5ever</td><td>180</td><td>—</td></tr>");
	assert_has(r.xhtml,
	           "\n\tif (a &lt; b &amp;&amp; c &gt; d)\n\t\tprintf(\"%s\\n\", \"hi\");");
	assert_has(r.xhtml, "<p>Inline <code>x &lt;= y</code> and <kbd>Ctrl</kbd>+<kbd>C</kbd>, "
	                    "H<sub>2</sub>O, E=mc<sup>2</sup>.</p>");
	assert_has(r.xhtml, "<dl><dt>Term</dt><dd>Definition of the term.</dd><dt>Other</dt>"
	                    "<dd><p>Para one.</p><p>Para two.</p></dd></dl>");
	assert_has(r.xhtml, "<ul><li><p>Outer</p><ul><li>Inner one</li><li>Inner two</li></ul>"
	                    "</li><li>Last</li></ul>");
	/* A one-column layout table reads as paragraphs. */
	assert_has(r.xhtml, "<p>single column layout table</p><p>second row</p>");
	assert_lacks(r.xhtml, "abc");
	assert_lacks(r.xhtml, "border");
	clean_result_release(&r);
}

static void test_xss(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = BASE};
	struct clean_result r;
	clean_fixture("xss.html", &o, &r);
	struct buf low = BUF_INIT;
	for (const char *p = r.xhtml; *p; p++)
		buf_putc(&low, (char)tolower((unsigned char)*p));
	static const char *const banned[] = {"javascript",    "vbscript",
	                                     "evil.example",  "expression(",
	                                     "<svg",          "<script",
	                                     "<object",       "<embed",
	                                     "<iframe",       "<form",
	                                     "<input",        "<button",
	                                     "<base",         "<meta",
	                                     "<link",         "<style",
	                                     "<math",         "<template",
	                                     "<textarea",     "srcdoc",
	                                     "data:text",     "hidden in comment",
	                                     "noscript text", " onerror=",
	                                     " onload=",      " onmouseover=",
	                                     " ontoggle=",    "alert('ie')",
	                                     "alert('tpl')",  "alert('ta')",
	                                     "alert(2)",      "svg text"};
	for (size_t i = 0; i < ARRAY_SIZE(banned); i++)
		assert_lacks(low.data, banned[i]);
	buf_release(&low);
	assert_has(r.xhtml, "<p>Safe text one.</p>");
	assert_has(r.xhtml, "<p>Handler paragraph.</p>");
	assert_has(r.xhtml, "<p>Safe text two.</p>");
	assert_has(r.xhtml, " js link case link tab link newline link entity link space link vbs "
	                    "link data link <a href=\"https://good.example/page?a=1&amp;b=2\">good "
	                    "link</a>");
	assert_has(r.xhtml, "<p>&lt;script&gt;alert('escaped')&lt;/script&gt; stays text</p>");
	assert_has(r.xhtml, "<p>Named: © \xC2\xA0 … é &amp;unknown; &amp;</p>");
	assert_has(r.xhtml, "<p>Unclosed <b>bold <i>italic</i></b> text and</p>");
	assert_has(r.xhtml, "<p>Block inside link</p>");
	clean_result_release(&r);
}

static void test_plain_text(void **state)
{
	(void)state;
	struct clean_result r;
	size_t len;
	char *txt = read_fixture("plain.txt", &len);
	clean_str(txt, NULL, &r);
	free(txt);
	assert_string_equal(r.xhtml, "<p>First paragraph of a plain text post.<br/>Still the first "
	                             "paragraph.</p><p>Second paragraph: 1 &lt; 2 &amp; 3 &gt; "
	                             "2.</p><p>Third paragraph.</p>");
	clean_result_release(&r);
}

static void test_empty(void **state)
{
	(void)state;
	static const char *const empties[] = {"",
	                                      "   \n\t",
	                                      "<p></p>",
	                                      "<div><p>&nbsp;</p><p><br>"
	                                      "</p></div>",
	                                      "<script>x()</script>",
	                                      "<!-- c -->"};
	for (size_t i = 0; i < ARRAY_SIZE(empties); i++) {
		struct clean_result r;
		clean_str(empties[i], NULL, &r);
		assert_string_equal(r.xhtml, "");
		assert_int_equal(r.images.n, 0);
		assert_int_equal(r.text_chars, 0);
		clean_result_release(&r);
	}
	struct clean_result r = {0};
	struct err e;
	assert_int_equal(clean_html(NULL, 0, NULL, &r, &e), 0);
	assert_string_equal(r.xhtml, "");
	clean_result_release(&r);
}

static void test_text_hygiene(void **state)
{
	(void)state;
	struct clean_result r;
	clean_str("<p>a\xff\xfe"
	          "b\x01"
	          "c&#1;d&#xFFFF;e</p>",
	          NULL, &r);
	assert_string_equal(r.xhtml, "<p>a\xEF\xBF\xBD\xEF\xBF\xBD"
	                             "bcde</p>");
	clean_result_release(&r);
	clean_str("<p>中文 ab\r\n c</p>", NULL, &r);
	assert_string_equal(r.xhtml, "<p>中文 ab c</p>");
	assert_int_equal(r.text_chars, 5);
	clean_result_release(&r);
	clean_str("<p>  lots   of\n\n space <b> here </b> end </p>", NULL, &r);
	assert_string_equal(r.xhtml, "<p>lots of space <b>here </b>end</p>");
	clean_result_release(&r);
}

static void test_headings(void **state)
{
	(void)state;
	struct clean_result r;
	clean_str("<h3>A</h3><h4>B</h4><h6>C</h6><h4></h4>", NULL, &r);
	assert_string_equal(r.xhtml, "<h2>A</h2><h3>B</h3><h5>C</h5>");
	clean_result_release(&r);
	struct clean_opts o = {.heading_base = 4};
	clean_str("<h1>A</h1><h2>B</h2><h5>C</h5>", &o, &r);
	assert_string_equal(r.xhtml, "<h4>A</h4><h5>B</h5><h6>C</h6>");
	clean_result_release(&r);
}

static void test_selectors(void **state)
{
	(void)state;
	struct strlist rm = {0}, keep = {0};
	strlist_add(&rm, ".ad");
	strlist_add(&rm, "#promo, [data-track]");
	strlist_add(&rm, "div.box p.note");
	strlist_add(&rm, "[role=note]");
	struct clean_opts o = {.remove = &rm};
	const char *html = "<div class='x ad'>AD</div><p id=promo>PROMO</p><p data-track=1>T</p>"
	                   "<div class=box><p class=note>NOTE</p><p>KEEP1</p></div>"
	                   "<p class=note>KEEP2</p><aside role=note>ROLE</aside>";
	struct clean_result r;
	clean_str(html, &o, &r);
	assert_string_equal(r.xhtml, "<p>KEEP1</p><p>KEEP2</p>");
	clean_result_release(&r);

	strlist_add(&keep, "article .body");
	o.keep = &keep;
	clean_str("<p>nav</p><article><h1>T</h1><div class=body><p>one</p><div class=ad>x</div>"
	          "</div><div class=body><p>two</p></div></article><div class=body>out</div>",
	          &o, &r);
	assert_string_equal(r.xhtml, "<p>one</p><p>two</p>");
	clean_result_release(&r);
	/* A keep selector that matches nothing keeps everything. */
	strlist_release(&keep);
	strlist_add(&keep, "#nothing");
	clean_str("<p>all</p>", &o, &r);
	assert_string_equal(r.xhtml, "<p>all</p>");
	clean_result_release(&r);

	struct err e;
	assert_int_equal(clean_selector_check("div > p", &e), -1);
	assert_non_null(strstr(e.msg, "div > p"));
	assert_int_equal(clean_selector_check("[x", &e), -1);
	assert_int_equal(clean_selector_check("a,", &e), -1);
	assert_int_equal(clean_selector_check("div.a#b[c=\"d e\"] span", &e), 0);
	strlist_release(&keep);
	strlist_add(&keep, "p >");
	struct clean_result bad = {0};
	assert_int_equal(clean_html("<p>x</p>", 8, &o, &bad, &e), -1);
	strlist_release(&keep);
	strlist_release(&rm);
}

static void test_links(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = "https://a.example/dir/page.html"};
	struct clean_result r;
	clean_str("<p><a href='mailto:x@a.example'>m</a> <a href='ftp://a.example/f'>f</a> "
	          "<a href='../up?q=a b#x'>rel</a> <a href='//cdn.example/x'>proto</a> "
	          "<a href='https://a.example/é'>utf</a> <a href='#top'>frag</a></p>",
	          &o, &r);
	assert_string_equal(r.xhtml, "<p><a href=\"mailto:x@a.example\">m</a> f <a "
	                             "href=\"https://a.example/up?q=a%20b#x\">rel</a> <a "
	                             "href=\"https://cdn.example/x\">proto</a> <a "
	                             "href=\"https://a.example/%C3%A9\">utf</a> <a "
	                             "href=\"https://a.example/dir/page.html#top\">frag</a></p>");
	clean_result_release(&r);
	/* Hosts and URLs a URL parser (and epubcheck) would refuse are not links. */
	clean_str(
	    "<p><a href='https://exa mple.com/'>sp</a> <a href='https://u:p@a.example/'>ui</a> "
	    "<a href='https://a.example:99999/'>port</a> <a href='http://a..b/'>dots</a> "
	    "<a href='https://a.example/x[1]%zz#a#b'>ok</a> <a href='//cdn.example/p'>pr</a> "
	    "<a href='https://www.facebook.-clock/'>lbl</a> <a href='https://a.123/'>num</a> "
	    "<a href='http:s://a.example/'>s</a> <a href='http://10.0.0.1:8080/'>ip</a> <a "
	    "href='https://a.example./'>fq</a> "
	    "<img src='https://%E4%BE%8B.example/i.png'></p>",
	    &o, &r);
	assert_string_equal(r.xhtml, "<p>sp ui port dots <a "
	                             "href=\"https://a.example/x%5B1%5D%25zz#a%23b\">ok</a> <a "
	                             "href=\"https://cdn.example/p\">pr</a> lbl num s <a "
	                             "href=\"http://10.0.0.1:8080/\">ip</a> <a "
	                             "href=\"https://a.example./\">fq</a></p>");
	clean_result_release(&r);
	/* Without a base, a relative link points nowhere: its text stays. */
	clean_str("<p><a href='/x'>rel</a> <img src='/i.png'></p>", NULL, &r);
	assert_string_equal(r.xhtml, "<p>rel</p>");
	assert_int_equal(r.images.n, 0);
	clean_result_release(&r);
}

static void test_media(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = "https://a.example/"};
	struct clean_result r;
	clean_str("<video src='/v.mp4' poster='/p.jpg'></video><audio><source src='a.mp3'>"
	          "</audio><p>see <iframe src='https://player.example/e/1'></iframe></p>"
	          "<iframe src='javascript:alert(1)'></iframe>",
	          &o, &r);
	assert_string_equal(
	    r.xhtml, "<p>Video: <a href=\"https://a.example/v.mp4\">https://a.example/v.mp4</a></p>"
	             "<p>Audio: <a href=\"https://a.example/a.mp3\">https://a.example/a.mp3</a></p>"
	             "<p>see Embedded content: <a href=\"https://player.example/e/1\">"
	             "https://player.example/e/1</a></p>");
	clean_result_release(&r);
}

static void test_lang(void **state)
{
	(void)state;
	struct clean_result r;
	clean_str("<div lang='fr'><p>Bonjour</p>loose</div><p xml:lang='de'>Hallo <span "
	          "lang='en'>x</span> <em lang='en-GB'>y</em></p><p lang='bad value'>z</p>",
	          NULL, &r);
	assert_string_equal(r.xhtml, "<p lang=\"fr\">Bonjour</p><p lang=\"fr\">loose</p><p "
	                             "lang=\"de\">Hallo x <em lang=\"en-GB\">y</em></p><p>z</p>");
	clean_result_release(&r);
}

static void test_images(void **state)
{
	(void)state;
	struct clean_opts o = {.base_url = "https://a.example/post/"};
	struct buf big = BUF_INIT;
	buf_puts(&big, "data:image/png;base64,");
	for (int i = 0; i < 100; i++)
		buf_puts(&big, "iVBORw0KGgo=");
	char *html = xasprintf(
	    "<p><img src='a.jpg' width='1' height='1'><img src='b.jpg' width=1px>"
	    "<img src='https://stats.wordpress.com/b.gif?x'>"
	    "<img src='https://mmbiz.qpic.cn/mmbiz_jpg/x/640?wx_fmt=jpeg'>"
	    "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
	    "<img src='%s' alt=' inline\n png '>"
	    "<img data-original='/orig.jpg' src='/blank.gif'>"
	    "<img data-actualsrc='/zhihu.jpg' src='data:image/svg+xml;utf8,&lt;svg/&gt;'>"
	    "<img src='/dup.jpg'><img src='/dup.jpg'></p>"
	    "<picture><source type='image/avif' srcset='x.avif'><source type='image/webp' "
	    "srcset='x.webp'><img src='x.jpg' alt='jpeg fallback'></picture>"
	    "<picture><source type='image/webp' data-srcset='only.webp 800w, only2.webp 1600w'>"
	    "<img src='/lazy-placeholder.png'></picture>"
	    "<picture><source type='image/png' srcset='p.png'><img src='p.jpg'></picture>"
	    "<section style='background-image:url(\"/bg.png\")'>t</section>",
	    big.data);
	struct clean_result r;
	clean_str(html, &o, &r);
	static const char *const want[] = {"https://mmbiz.qpic.cn/mmbiz_jpg/x/640?wx_fmt=jpeg",
	                                   NULL,
	                                   "https://a.example/orig.jpg",
	                                   "https://a.example/zhihu.jpg",
	                                   "https://a.example/dup.jpg",
	                                   "https://a.example/post/x.jpg",
	                                   "https://a.example/post/only2.webp",
	                                   "https://a.example/post/p.png",
	                                   "https://a.example/bg.png"};
	assert_int_equal(r.images.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(r.images.items[i], want[i] ? want[i] : big.data);
	assert_has(r.xhtml, "alt=\"inline png\"");
	assert_has(r.xhtml, "alt=\"jpeg fallback\"");
	free(html);
	buf_release(&big);
	clean_result_release(&r);
}

static void test_charset(void **state)
{
	(void)state;
	/* "中文" in GBK, and a meta that must not override the declared charset. */
	const char gbk[] = "<meta charset='iso-8859-1'><p>\xD6\xD0\xCE\xC4</p>";
	struct clean_opts o = {.charset = "gb2312"};
	struct clean_result r = {0};
	struct err e;
	assert_int_equal(clean_html(gbk, sizeof(gbk) - 1, &o, &r, &e), 0);
	assert_string_equal(r.xhtml, "<p>中文</p>");
	assert_int_equal(r.text_chars, 2);
	clean_result_release(&r);

	/* Without a declared charset, bytes that are not UTF-8 make the meta count. */
	const char gbk_meta[] = "<meta charset='gbk'><p>\xD6\xD0\xCE\xC4</p>";
	assert_int_equal(clean_html(gbk_meta, sizeof(gbk_meta) - 1, NULL, &r, &e), 0);
	assert_string_equal(r.xhtml, "<p>中文</p>");
	clean_result_release(&r);
	/* An unknown charset falls back to repaired UTF-8. */
	o.charset = "x-no-such-charset";
	assert_int_equal(clean_html(gbk, sizeof(gbk) - 1, &o, &r, &e), 0);
	assert_string_equal(r.xhtml, "<p>\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD</p>");
	clean_result_release(&r);
}

static void test_structure(void **state)
{
	(void)state;
	struct clean_result r;
	clean_str("text <b>bold</b><div>block</div>after<br><br>split<ul>loose<li>item</li></ul>"
	          "<a href='https://a.example/'><h2>head link</h2></a>"
	          "<span><p>para in span</p></span><li>stray item</li><td>stray cell</td>"
	          "<blockquote>q1<p>q2</p></blockquote><figure><figcaption>c1</figcaption>"
	          "<img src='https://a.example/i.png'><figcaption>c2</figcaption></figure>",
	          NULL, &r);
	assert_string_equal(r.xhtml, "<p>text <b>bold</b></p><p>block</p><p>after</p><p>split</p>"
	                             "<ul><li>loose</li><li>item</li></ul><h2>head link</h2>"
	                             "<p>para in span</p><p>stray item</p><p>stray cell</p>"
	                             "<blockquote><p>q1</p><p>q2</p></blockquote><figure><p>c1</p>"
	                             "<img src=\"https://a.example/i.png\" alt=\"\"/>"
	                             "<figcaption>c2</figcaption></figure>");
	clean_result_release(&r);
}

static void test_wechat_code(void **state)
{
	(void)state;
	struct clean_result r;
	clean_str("<section class='code-snippet__fix'><pre class='code-snippet__js' "
	          "data-lang='c'><code><span leaf=''>int main(void)</span></code><code><span "
	          "leaf=''>{</span></code><code><span leaf=''>\treturn 0;</span></code><code>"
	          "<span leaf=''>}</span></code></pre></section>",
	          NULL, &r);
	assert_string_equal(r.xhtml, "<pre><code>int main(void)</code>\n<code>{</code>\n<code>"
	                             "\treturn 0;</code>\n<code>}</code></pre>");
	clean_result_release(&r);
}

/* Inputs the fuzzer once found not idempotent. */
static void test_regressions(void **state)
{
	(void)state;
	static const char *const inputs[] = {
	    "<dl><dt>T<dd><p>of the term.</p><dt>Other<p>x</p></dl>",
	    "<figure><img src='https://a.example/i.png'><figcaption><p>a</p><h2>b</h2>"
	    "<ul><li>c</ul></figcaption><p>tail</p><figcaption>d</figcaption></figure>",
	    "<div lang=de><table><tr><td>a<td>b</table><hr><dl><dd>x</dl></div>",
	    "<div lang=fr><table><tr><td>one column</table></div>",
	};
	struct clean_opts o = {.base_url = "https://a.example/"};
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		struct clean_result r;
		clean_str(inputs[i], &o, &r);
		clean_result_release(&r);
	}
	struct clean_result r;
	clean_str(inputs[2], &o, &r);
	assert_string_equal(r.xhtml, "<table lang=\"de\"><tr><td>a</td><td>b</td></tr></table>"
	                             "<hr/><blockquote lang=\"de\">x</blockquote>");
	clean_result_release(&r);
}

/* Property test: deterministic pseudo-random tag soup must always come out well-formed,
 * allow-listed and idempotent. */
static uint32_t rng_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static void test_generated(void **state)
{
	(void)state;
	static const char *const tags[] = {
	    "p",       "div",     "span",       "b",          "i",      "a",      "ul",
	    "ol",      "li",      "table",      "tr",         "td",     "th",     "thead",
	    "h1",      "h3",      "pre",        "code",       "img",    "br",     "hr",
	    "section", "figure",  "figcaption", "blockquote", "dl",     "dt",     "dd",
	    "sub",     "script",  "style",      "noscript",   "iframe", "video",  "picture",
	    "source",  "caption", "center",     "font",       "em",     "strong", "svg",
	    "form"};
	static const char *const attrs[] = {" href='https://x.example/a'",
	                                    " href='javascript:x()'",
	                                    " src='/i.png'",
	                                    " data-src='https://img.example/l.jpg'",
	                                    " srcset='a.jpg 100w, b.jpg 2000w'",
	                                    " style='display:none'",
	                                    " style='background-image:url(bg.png)'",
	                                    " class='share'",
	                                    " lang='fr'",
	                                    " colspan='2'",
	                                    " onclick='x()'",
	                                    " width='1'",
	                                    ""};
	static const char *const texts[] = {"hello",   " ",      "\n",  "中文，",
	                                    "a&amp;b", "&nbsp;", "x<y", "  two  words "};
	struct clean_opts o = {.base_url = "https://base.example/p/"};
	for (int round = 0; round < 400; round++) {
		struct buf b = BUF_INIT;
		int n = 5 + (int)rnd(40);
		for (int i = 0; i < n; i++) {
			uint32_t k = rnd(10);
			const char *tag = tags[rnd(ARRAY_SIZE(tags))];
			if (k < 4)
				buf_printf(&b, "<%s%s>", tag, attrs[rnd(ARRAY_SIZE(attrs))]);
			else if (k < 7)
				buf_printf(&b, "</%s>", tag);
			else
				buf_puts(&b, texts[rnd(ARRAY_SIZE(texts))]);
		}
		struct clean_result r;
		clean_str(b.data, &o, &r);
		clean_result_release(&r);
		buf_release(&b);
	}
}

/* file: images survive only in a page that is itself local (the offline demo). */
static void test_file_images_only_in_local_pages(void **state)
{
	(void)state;
	static const char html[] = "<p>x<img src=\"img/a.jpg\"><img src=\"file:///etc/shadow\"></p>";
	struct clean_opts o = {.base_url = "file:///home/u/demo/feed.xml"};
	struct clean_result r;
	clean_str(html, &o, &r);
	assert_int_equal(r.images.n, 2);
	assert_string_equal(r.images.items[0], "file:///home/u/demo/img/a.jpg");
	clean_result_release(&r);

	o.base_url = BASE;
	clean_str(html, &o, &r);
	assert_int_equal(r.images.n, 1);
	assert_string_equal(r.images.items[0], BASE "img/a.jpg");
	assert_null(strstr(r.xhtml, "file:"));
	clean_result_release(&r);
}

/* Images left out on purpose are named with a reason, once each; kept ones are not. */
static void test_dropped_images_named(void **state)
{
	(void)state;
	static const char html[] =
	    "<p>text<img src=\"a.jpg\"></p>"
	    "<img src=\"images/pixel.gif\" width=\"1\" height=\"1\">"
	    "<img src=\"hidden.png\" style=\"display: none\">"
	    "<img src=\"https://www.google-analytics.com/collect?v=1\">"
	    "<img src=\"images/pixel.gif\" width=\"1\" height=\"1\">";
	struct clean_opts o = {.base_url = BASE};
	struct clean_result r;
	clean_str(html, &o, &r);
	assert_int_equal(r.images.n, 1);
	assert_int_equal(r.dropped.n, 3);
	assert_int_equal(r.dropped_why.n, 3);
	assert_string_equal(r.dropped.items[0], BASE "images/pixel.gif");
	assert_has(r.dropped_why.items[0], "declared 1 or 2 pixels");
	assert_string_equal(r.dropped.items[1], BASE "hidden.png");
	assert_has(r.dropped_why.items[1], "hidden");
	assert_has(r.dropped.items[2], "google-analytics.com");
	assert_has(r.dropped_why.items[2], "tracking host");
	clean_result_release(&r);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	/* Deeper than the walk's limit, within the parser's (256). */
	for (int i = 0; i < 200; i++)
		buf_puts(&b, i % 2 ? "<section>" : "<b>");
	buf_puts(&b, "deep text");
	struct clean_result r;
	clean_str(b.data, NULL, &r);
	assert_has(r.xhtml, "deep text");
	buf_release(&b);
	clean_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wechat),      cmocka_unit_test(test_wordpress),
	    cmocka_unit_test(test_substack),    cmocka_unit_test(test_tables_code),
	    cmocka_unit_test(test_xss),         cmocka_unit_test(test_plain_text),
	    cmocka_unit_test(test_empty),       cmocka_unit_test(test_text_hygiene),
	    cmocka_unit_test(test_headings),    cmocka_unit_test(test_selectors),
	    cmocka_unit_test(test_links),       cmocka_unit_test(test_media),
	    cmocka_unit_test(test_lang),        cmocka_unit_test(test_images),
	    cmocka_unit_test(test_charset),     cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_generated),   cmocka_unit_test(test_regressions),
	    cmocka_unit_test(test_wechat_code), cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_file_images_only_in_local_pages),
	    cmocka_unit_test(test_dropped_images_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
