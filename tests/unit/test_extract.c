/* Unit tests for `extract`: saved pages of several kinds (news with sidebars and comments, a
 * blog, a WeChat article, a GBK-encoded page), each with the text that must be found and the
 * boilerplate that must not, plus the teaser heuristics. Offline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "extract.h"

static char *read_fixture(const char *name, size_t *len)
{
	struct buf b = BUF_INIT;
	struct err e;
	char *path = xasprintf("%s/extract/%s", FIXTURES, name);
	if (util_read_file(path, 0, &b, &e) < 0)
		fail_msg("%s", e.msg);
	free(path);
	*len = b.len;
	return buf_detach(&b, NULL);
}

static void extract_fixture(const char *name, const char *charset, struct extract_result *r)
{
	size_t len;
	char *page = read_fixture(name, &len);
	struct err e;
	if (extract_main(page, len, "https://example.org/article", charset, r, &e) != 0)
		fail_msg("extract_main %s: %s", name, e.msg);
	free(page);
	assert_non_null(r->html);
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

static void test_news(void **state)
{
	(void)state;
	struct extract_result r;
	extract_fixture("news.html", NULL, &r);
	assert_string_equal(r.title, "Harbour bridge reopens after two-year repair");
	static const char *const found[] = {
	    "The Harbour Bridge reopened to traffic on Wednesday morning",
	    "About 40,000 vehicles crossed the bridge each day",
	    "The first cars cross the bridge shortly after 6am.",
	    "/media/2026/11/bridge-reopening.jpg",
	    "replace every one of the 412 suspender ropes",
	    "Cyclists will have to wait until spring",
	    "publish the readings online every month."};
	for (size_t i = 0; i < ARRAY_SIZE(found); i++)
		assert_has(r.html, found[i]);
	static const char *const absent[] = {"Most popular",
	                                     "Subscribe to our newsletter",
	                                     "23 comments",
	                                     "harbourwatcher",
	                                     "My commute has been a nightmare",
	                                     "widespread pitting",
	                                     "All rights reserved",
	                                     "Share on Facebook",
	                                     "Bridge closure: what we know",
	                                     "Advertisement",
	                                     "Sport",
	                                     "window.dataLayer",
	                                     "Council votes"};
	for (size_t i = 0; i < ARRAY_SIZE(absent); i++)
		assert_lacks(r.html, absent[i]);
	assert_true(r.text_chars > 800 && r.text_chars < 1200);
	extract_result_release(&r);
}

static void test_blog(void **state)
{
	(void)state;
	struct extract_result r;
	extract_fixture("blog.html", NULL, &r);
	assert_string_equal(r.title, "Sourdough at altitude – Crumb & Co.");
	static const char *const found[] = {
	    "We moved to a village at 1,600 metres this summer",
	    "Water boils at about 95°C up here",
	    "https://crumb.example/wp-content/uploads/2026/11/loaf.jpg",
	    "Cut the starter from 20% to 12% of the flour weight.",
	    "as good as it was at sea level.",
	    "the comments are open below."};
	for (size_t i = 0; i < ARRAY_SIZE(found); i++)
		assert_has(r.html, found[i]);
	static const char *const absent[] = {"Great tips, thank you",
	                                     "lower oven temperature",
	                                     "Leave a Reply",
	                                     "Rye crackers",
	                                     "Cups lie",
	                                     "Archives",
	                                     "Powered by WordPress",
	                                     "Notes from a home bakery",
	                                     "Recipes"};
	for (size_t i = 0; i < ARRAY_SIZE(absent); i++)
		assert_lacks(r.html, absent[i]);
	extract_result_release(&r);
}

static void test_wechat(void **state)
{
	(void)state;
	struct extract_result r;
	extract_fixture("wechat_page.html", NULL, &r);
	assert_string_equal(r.title, "走访三座城市的独立书店");
	static const char *const found[] = {
	    "今年秋天，我们走访了三座城市的独立书店",
	    "成都的“读本屋”开在一条老巷子里",
	    "杭州的“晓风书屋”已经开了二十多年",
	    "南京的“先锋书店”把书店开进了地下停车场，如今已是城市的一张名片。",
	    "data-src=\"https://mmbiz.qpic.cn/mmbiz_jpg/Ab3Fk2xYtqZ/"
	    "640?wx_fmt=jpeg&amp;from=appmsg\"",
	    "id=\"js_content\""};
	for (size_t i = 0; i < ARRAY_SIZE(found); i++)
		assert_has(r.html, found[i]);
	static const char *const absent[] = {
	    "visibility", "喜欢此内容的人还喜欢", "北京最美的十家书店", "写得真好",
	    "微信扫一扫", "first_sceen__time",    "阅读原文",           "城市书房",
	    "2026-11-25"};
	for (size_t i = 0; i < ARRAY_SIZE(absent); i++)
		assert_lacks(r.html, absent[i]);
	/* Code points, not bytes: the four paragraphs hold 144 visible characters. */
	assert_int_equal(r.text_chars, 144);
	extract_result_release(&r);
}

static void test_charset(void **state)
{
	(void)state;
	/* The page declares gb2312 in a meta; the HTTP header may say it too, or lie. */
	static const char *const headers[] = {NULL, "gbk", "GB2312"};
	for (size_t i = 0; i < ARRAY_SIZE(headers); i++) {
		struct extract_result r;
		extract_fixture("gbk.html", headers[i], &r);
		assert_string_equal(r.title, "老城区改造计划公布");
		assert_has(r.html, "市政府昨天公布了老城区改造计划");
		assert_has(r.html, "尽量减少对居民生活和商户经营的影响。");
		assert_lacks(r.html, "版权所有");
		/* The heading that repeats the title is not part of the body. */
		assert_lacks(r.html, "<h1>");
		assert_lacks(r.html, "关于我们");
		extract_result_release(&r);
	}
	/* A UTF-8 header beats the page's own meta. */
	const char *utf8 = "<html><head><meta charset='gbk'></head><body><div><p>这是一个足够长的"
	                   "段落，用来测试编码的优先级，头部声明的字符集应当优先。</p></div></body>"
	                   "</html>";
	struct extract_result r;
	struct err e;
	assert_int_equal(extract_main(utf8, strlen(utf8), "u", "utf-8", &r, &e), 0);
	assert_has(r.html, "头部声明的字符集应当优先。");
	extract_result_release(&r);
}

static void test_no_content(void **state)
{
	(void)state;
	static const char *const pages[] = {"", "<html><head><title>x</title></head></html>",
	                                    "<script>only()</script>"};
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		struct extract_result r;
		struct err e = {0, ""};
		assert_int_equal(
		    extract_main(pages[i], strlen(pages[i]), "https://e.example/x", NULL, &r, &e),
		    -1);
		assert_non_null(strstr(e.msg, "https://e.example/x"));
		assert_null(r.html);
		extract_result_release(&r);
	}
}

static void test_article_body(void **state)
{
	(void)state;
	const char *page = "<html><body><div class='sidebar'><p>Sidebar text that is long enough, "
	                   "with commas, many, many commas, to score, quite well, really.</p></div>"
	                   "<div itemprop='articleBody'><p>Short body.</p></div></body></html>";
	struct extract_result r;
	struct err e;
	assert_int_equal(extract_main(page, strlen(page), "u", NULL, &r, &e), 0);
	assert_has(r.html, "Short body.");
	assert_lacks(r.html, "Sidebar");
	assert_int_equal(r.text_chars, 10);
	extract_result_release(&r);
}

static void test_siblings(void **state)
{
	(void)state;
	const char *page =
	    "<html><body><div id=x><div class=post><p>First paragraph of the post, with "
	    "commas, many commas, long enough to be scored well here.</p><p>Second paragraph "
	    "of the post, with commas, many commas, long enough to be scored well here.</p>"
	    "</div><p>Short end note.</p><p>Menu</p><p><a href=/a>Link only text that is "
	    "long enough to matter, really quite long, yes, very long indeed.</a></p>"
	    "</div></body></html>";
	struct extract_result r;
	struct err e;
	assert_int_equal(extract_main(page, strlen(page), "u", NULL, &r, &e), 0);
	assert_has(r.html, "Second paragraph");
	assert_has(r.html, "<p>Short end note.</p>");
	assert_lacks(r.html, "Menu");
	assert_lacks(r.html, "Link only");
	assert_null(r.title);
	extract_result_release(&r);
}

static void test_teaser(void **state)
{
	(void)state;
	static const char *const teasers[] = {
	    "<p>The council met on Tuesday to discuss the budget for next year and the "
	    "year after that&hellip;</p>",
	    "<p>The council met on Tuesday to discuss the budget for next year ...</p>",
	    "<p>The council met on Tuesday to discuss the budget. [&#8230;]</p>",
	    "<p>The council met on Tuesday. <a href='/x'>Read more &raquo;</a></p>",
	    "<p>The council met on Tuesday.</p><p><a href='/x'>Continue reading <span>"
	    "The budget</span></a></p>",
	    "<p>市议会周二开会讨论了明年的预算。</p><p><a href='/x'>阅读全文</a></p>",
	    "<p>市议会周二开会讨论了明年的预算。<a href='/x'>阅读原文</a></p>",
	    "<p>Short.</p>"};
	for (size_t i = 0; i < ARRAY_SIZE(teasers); i++)
		if (!extract_is_teaser(teasers[i], strlen(teasers[i]), 20))
			fail_msg("not taken for a teaser: %s", teasers[i]);

	struct buf full = BUF_INIT;
	buf_puts(&full, "<p>Read more books, the librarian said at the start.</p>");
	for (int i = 0; i < 30; i++)
		buf_puts(&full, "<p>The council met on Tuesday to discuss the budget, and the "
		                "debate went on late into the night.</p>");
	assert_int_equal(extract_is_teaser(full.data, full.len, 500), 0);
	/* The same article counts as short against a higher threshold. */
	assert_int_equal(extract_is_teaser(full.data, full.len, 100000), 1);
	buf_release(&full);
	/* Code points, not bytes: 12 CJK characters are 36 bytes. */
	const char *cjk = "<p>市议会周二开会讨论了预算</p>";
	assert_int_equal(extract_is_teaser(cjk, strlen(cjk), 13), 1);
	assert_int_equal(extract_is_teaser(cjk, strlen(cjk), 12), 0);
	assert_int_equal(extract_is_teaser("", 0, 0), 0);
	assert_int_equal(extract_is_teaser("", 0, 10), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_news),       cmocka_unit_test(test_blog),
	    cmocka_unit_test(test_wechat),     cmocka_unit_test(test_charset),
	    cmocka_unit_test(test_no_content), cmocka_unit_test(test_article_body),
	    cmocka_unit_test(test_siblings),   cmocka_unit_test(test_teaser),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
