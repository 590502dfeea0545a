/* Unit tests of `feed`: fixture feeds of every dialect and encoding in tests/fixtures/feed,
 * each checked field by field; malformed and hostile documents (XXE, entity bombs) generated
 * or read from fixtures; dates; OPML. Offline: the only socket is a listener on 127.0.0.1 that
 * must never be contacted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "feed.h"

#define CN_TZ (8 * 3600)

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

static void load(const char *name, struct buf *b)
{
	char *path = xasprintf("%s/feed/%s", FIXTURES, name);
	struct err e = {0};
	buf_init(b);
	if (util_read_file(path, 0, b, &e) != 0)
		fail_msg("%s", e.msg);
	free(path);
}

/* Parses a fixture; fails the test on a parse error. */
static void parse_fixture(const char *name, const char *url, const char *charset,
                          struct feed_doc *d)
{
	struct buf b;
	load(name, &b);
	struct feed_parse_opts o = {.url = url, .http_charset = charset, .fetch_time = 1000};
	struct err e = {0};
	memset(d, 0, sizeof(*d));
	if (feed_parse(b.data, b.len, &o, d, &e) != 0)
		fail_msg("%s: %s", name, e.msg);
	buf_release(&b);
}

static int parse_str(const char *s, size_t max_items, struct feed_doc *d, struct err *e)
{
	struct feed_parse_opts o = {
	    .url = "https://gen.example.org/feed", .fetch_time = 1000, .max_items = max_items};
	memset(d, 0, sizeof(*d));
	return feed_parse(s, strlen(s), &o, d, e);
}

static int has_warning(const struct feed_doc *d, const char *needle)
{
	for (size_t i = 0; i < d->warnings.n; i++)
		if (strstr(d->warnings.items[i], needle))
			return 1;
	return 0;
}

static void assert_str(const char *got, const char *want)
{
	if (!want) {
		if (got)
			fail_msg("expected NULL, got \"%s\"", got);
		return;
	}
	if (!got)
		fail_msg("expected \"%s\", got NULL", want);
	assert_string_equal(got, want);
}

/* ---- dialects --------------------------------------------------------------------------- */

/* A local feed may link local files (the offline demo); a remote one never. */
static void test_file_links_only_in_local_feeds(void **state)
{
	(void)state;
	static const char rss[] =
	    "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title>"
	    "<link>pages/a.html</link><enclosure url=\"img/a.jpg\" type=\"image/jpeg\"/>"
	    "<description>x</description></item><item><title>b</title>"
	    "<link>file:///etc/passwd</link><description>y</description></item>"
	    "</channel></rss>";
	struct feed_doc d = {0};
	struct err e = {0};
	struct feed_parse_opts o = {.url = "file:///home/u/demo/feed.xml", .fetch_time = 1000};
	assert_int_equal(feed_parse(rss, sizeof rss - 1, &o, &d, &e), 0);
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[0].link, "file:///home/u/demo/pages/a.html");
	assert_str(d.items[0].lead_image, "file:///home/u/demo/img/a.jpg");
	feed_doc_release(&d);

	o.url = "https://remote.example.org/feed.xml";
	memset(&d, 0, sizeof d);
	assert_int_equal(feed_parse(rss, sizeof rss - 1, &o, &d, &e), 0);
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[0].link, "https://remote.example.org/pages/a.html");
	assert_str(d.items[1].link, NULL);
	feed_doc_release(&d);
}

static void test_rss2(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("rss2.xml", "https://blog.example.org/feed.xml", NULL, &d);
	assert_string_equal(d.format, "rss2");
	assert_str(d.title, "Example Blog & Co");
	assert_str(d.link, "https://blog.example.org/");
	assert_str(d.lang, "en-us");
	assert_int_equal(d.n_recovered, 0);
	/* five items, one a duplicate of the first */
	assert_int_equal(d.n_items, 4);

	struct article *a = &d.items[0];
	assert_str(a->id, "tag:blog.example.org,2024:1");
	assert_str(a->title, "First post");
	assert_str(a->link, "https://blog.example.org/2024/first");
	assert_str(a->author, "Ada Lovelace");
	assert_int_equal(a->published, utc(2024, 5, 1, 15, 30, 0));
	assert_int_equal(a->date_guessed, 0);
	assert_str(a->content, "<p>Full <a href=\"/about\">content</a> &nbsp;here.</p>");
	assert_str(a->lead_image, "https://cdn.example.org/a.jpg");
	assert_str(a->base_url, "https://blog.example.org/2024/first");
	assert_str(a->lang, "en-us");

	a = &d.items[1];
	assert_str(a->title, "Second post");
	assert_str(a->link, "https://blog.example.org/2024/second");
	assert_str(a->id, "https://blog.example.org/2024/second");
	assert_str(a->author, "Bob Builder");
	assert_int_equal(a->published, utc(2024, 5, 2, 10, 0, 0));
	assert_str(a->content, "<p>Escaped once</p>");
	assert_str(a->lead_image, "https://blog.example.org/thumbs/second.png");

	a = &d.items[2];
	assert_str(a->title, "Third: no guid, no link");
	assert_null(a->link);
	assert_int_equal(a->published, -1);
	/* FNV-1a 64 of "Third: no guid, no link\nJust text" */
	assert_int_equal(strlen(a->id), 16);
	assert_str(a->content, "<p>Just text</p>");
	assert_str(a->base_url, "https://blog.example.org/feed.xml");

	a = &d.items[3];
	assert_str(a->id, "https://blog.example.org/2024/podcast");
	assert_str(a->link, "https://blog.example.org/2024/podcast");
	assert_str(a->lead_image, "https://cdn.example.org/cover.png");
	assert_int_equal(a->published, utc(2024, 5, 3, 12, 0, 0));
	assert_null(a->content);
	feed_doc_release(&d);
}

static void test_hash_id_is_stable(void **state)
{
	(void)state;
	struct feed_doc d1, d2;
	struct err e = {0};
	const char *f = "<rss version=\"2.0\"><channel><item><title>T</title><description>"
	                "&lt;b&gt;C&lt;/b&gt;</description></item></channel></rss>";
	assert_int_equal(parse_str(f, 0, &d1, &e), 0);
	assert_int_equal(parse_str(f, 0, &d2, &e), 0);
	assert_int_equal(d1.n_items, 1);
	assert_string_equal(d1.items[0].id, d2.items[0].id);
	/* FNV-1a 64-bit of title "\n" content, computed independently */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *s = "T\n<b>C</b>"; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	char want[17];
	snprintf(want, sizeof(want), "%016llx", (unsigned long long)h);
	assert_string_equal(d1.items[0].id, want);
	feed_doc_release(&d1);
	feed_doc_release(&d2);
}

static void test_duplicates_merged(void **state)
{
	(void)state;
	struct feed_doc d;
	struct err e = {0};
	const char *f = "<rss version=\"2.0\"><channel>"
	                "<item><guid>a</guid><title>First</title></item>"
	                "<item><guid>b</guid><title>Other</title></item>"
	                "<item><guid>a</guid><title>Later title</title><link>https://x.org/a</link>"
	                "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>"
	                "</channel></rss>";
	assert_int_equal(parse_str(f, 0, &d, &e), 0);
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[0].id, "a");
	assert_str(d.items[0].title, "First");
	assert_str(d.items[0].link, "https://x.org/a");
	assert_int_equal(d.items[0].published, utc(2024, 1, 1, 0, 0, 0));
	assert_str(d.items[1].id, "b");
	feed_doc_release(&d);
}

static void test_rss091(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("rss091.xml", NULL, NULL, &d);
	assert_string_equal(d.format, "rss0.9x");
	/* the Netscape DTD is never loaded: its entities come from the HTML table */
	assert_str(d.title, "Old Café News");
	assert_str(d.lang, "fr");
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[0].title, "Crème brûlée & more");
	assert_str(d.items[0].link, "http://old.example.com/1.html");
	assert_str(d.items[0].id, "http://old.example.com/1.html");
	assert_str(d.items[0].content, "<p>Recipe © 1999</p>");
	assert_str(d.items[1].title, "Second");
	assert_true(d.n_recovered > 0);
	assert_true(has_warning(&d, "HTML entit"));
	feed_doc_release(&d);
}

static void test_rss1(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("rss1.rdf", NULL, NULL, &d);
	assert_string_equal(d.format, "rss1");
	assert_str(d.title, "RDF Site");
	assert_str(d.lang, "de");
	assert_int_equal(d.n_items, 2);
	struct article *a = &d.items[0];
	assert_str(a->id, "https://rdf.example.net/a");
	assert_str(a->title, "Erster Artikel");
	assert_str(a->author, "Grete");
	assert_int_equal(a->published, utc(2024, 3, 5, 13, 15, 16));
	/* content:encoded wins over description; escaped HTML stays HTML */
	assert_str(a->content, "<p>Lang &amp; ausführlich</p>");
	assert_str(a->lang, "de");
	/* W3C-DTF year-month */
	assert_int_equal(d.items[1].published, utc(2024, 3, 1, 0, 0, 0));
	feed_doc_release(&d);
}

static void test_rss090(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("rss090.rdf", NULL, NULL, &d);
	assert_string_equal(d.format, "rss0.9x");
	assert_str(d.title, "Mozilla Dot Org");
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[1].title, "Bugzilla Reorganized");
	assert_str(d.items[1].link, "http://www.mozilla.org/bugs/");
	feed_doc_release(&d);
}

static void test_atom1(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("atom1.xml", "https://atom.example.com/feed", NULL, &d);
	assert_string_equal(d.format, "atom1");
	assert_str(d.title, "Atom & Eve");
	assert_str(d.link, "https://atom.example.com/blog/");
	assert_str(d.lang, "en");
	assert_int_equal(d.n_items, 3);

	struct article *a = &d.items[0];
	assert_str(a->id, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
	assert_str(a->title, "HTML content");
	assert_str(a->link, "https://atom.example.com/blog/posts/one");
	assert_str(a->lead_image, "https://atom.example.com/img/one.png");
	assert_str(a->author, "Feed Author");
	/* published, not updated */
	assert_int_equal(a->published, utc(2024, 6, 1, 8, 20, 30));
	assert_str(a->content, "<p>Hello <img src=\"pic.jpg\"/></p>");
	assert_str(a->base_url, "https://atom.example.com/blog/");

	a = &d.items[1];
	assert_str(a->title, "An XHTML title");
	/* xml:base on the entry replaces the feed's */
	assert_str(a->link, "https://other.example.com/x/two");
	assert_str(a->author, "Entry Author");
	assert_int_equal(a->published, utc(2024, 6, 3, 0, 0, 0));
	/* xhtml: the div is dropped, prefixes too */
	assert_str(a->content, "<p>Para <a href=\"rel\">link</a> &amp; more</p>");
	/* xml:base on the content element, resolved against the entry's */
	assert_str(a->base_url, "https://other.example.com/deep/");

	a = &d.items[2];
	assert_int_equal(a->published, utc(2024, 6, 4, 13, 0, 0));
	/* a text summary becomes escaped HTML paragraphs */
	assert_str(a->content,
	           "<p>Line one &lt;not a tag&gt;<br />\nLine two</p>\n<p>Para two</p>");
	feed_doc_release(&d);
}

static void test_atom03(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("atom03.xml", NULL, NULL, &d);
	assert_string_equal(d.format, "atom0.3");
	assert_str(d.title, "Atom Zero Three");
	assert_str(d.link, "http://old-atom.example.org/");
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[0].content, "<p>Escaped <i>HTML</i></p>");
	assert_str(d.items[0].author, "Mark");
	assert_int_equal(d.items[0].published, utc(2005, 7, 31, 12, 29, 29));
	assert_str(d.items[0].id, "tag:old-atom.example.org,2005:1");
	assert_str(d.items[1].content, "<p>Inline <b>XHTML</b></p>");
	assert_int_equal(d.items[1].published, utc(2005, 7, 30, 12, 0, 0));
	feed_doc_release(&d);
}

static void test_json11(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("jsonfeed11.json", NULL, NULL, &d);
	assert_string_equal(d.format, "json");
	assert_str(d.title, "JSON Blog");
	assert_str(d.link, "https://json.example.org/");
	assert_str(d.lang, "en");
	assert_int_equal(d.n_items, 2);
	struct article *a = &d.items[0];
	assert_str(a->id, "1");
	assert_str(a->title, "Hello & welcome");
	assert_str(a->author, "Jay Son");
	assert_int_equal(a->published, utc(2024, 3, 1, 7, 59, 59));
	assert_str(a->lead_image, "https://json.example.org/lead.jpg");
	assert_str(a->content, "<p>Hi <img src=\"/a.png\"></p>");
	a = &d.items[1];
	assert_str(a->id, "2");
	/* relative to feed_url, since the caller gave no URL */
	assert_str(a->link, "https://json.example.org/posts/2");
	assert_str(a->author, "Guest");
	assert_int_equal(a->published, utc(2024, 3, 1, 0, 0, 0));
	assert_str(a->content, "<p>a &lt; b</p>\n<p>second</p>");
	assert_str(a->lead_image, "https://json.example.org/x.webp");
	feed_doc_release(&d);
}

static void test_json1(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("jsonfeed1.json", NULL, NULL, &d);
	assert_string_equal(d.format, "json");
	assert_int_equal(d.n_items, 1);
	assert_str(d.items[0].author, "Single");
	assert_str(d.items[0].content, "<p>x</p>");
	assert_int_equal(d.items[0].published, utc(2020, 1, 2, 3, 4, 5));
	feed_doc_release(&d);
}

/* ---- encodings -------------------------------------------------------------------------- */

static void test_encodings(void **state)
{
	(void)state;
	static const struct {
		const char *file, *charset, *title, *item_title, *link;
	} cases[] = {
	    {"zh-gbk.xml", NULL, "中文新闻", "你好，世界", "https://zh.example.cn/a/1"},
	    {"zh-gb18030.xml", NULL, "罕见字𠀀", "€ 欧元 𠀀", "https://zh.example.cn/b/1"},
	    {"zh-big5.xml", NULL, "繁體中文", "臺灣新聞", "https://tw.example.tw/n/1"},
	    {"ja-sjis.xml", NULL, "日本語のブログ", "①番目の記事", "https://jp.example.jp/1"},
	    {"ko-euckr.xml", NULL, "한국어 뉴스", "안녕하세요", "https://kr.example.kr/1"},
	    {"utf16le-bom.xml", NULL, "UTF-16 Ünïcödé", "Zwölf Boxkämpfer",
	     "https://u16.example.org/1"},
	    {"utf16be.xml", NULL, "UTF-16 Ünïcödé", "Zwölf Boxkämpfer",
	     "https://u16.example.org/1"},
	    {"latin1-mislabelled.xml", NULL, "Café “quotes” — €5", "Naïve “smart” quotes",
	     "https://latin.example.org/1"},
	    /* the HTTP charset wins over the document's (wrong) declaration */
	    {"http-charset.xml", "GB2312", "标题来自HTTP", "条目", "https://http.example.cn/1"},
	    /* a UTF-16 BOM wins over any HTTP charset */
	    {"utf16le-bom.xml", "iso-8859-1", "UTF-16 Ünïcödé", "Zwölf Boxkämpfer",
	     "https://u16.example.org/1"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct feed_doc d;
		parse_fixture(cases[i].file, NULL, cases[i].charset, &d);
		if (!d.title || strcmp(d.title, cases[i].title) != 0)
			fail_msg("%s: title \"%s\"", cases[i].file, d.title ? d.title : "(null)");
		assert_true(d.n_items >= 1);
		assert_str(d.items[0].title, cases[i].item_title);
		assert_str(d.items[0].link, cases[i].link);
		assert_int_equal(d.n_recovered, 0);
		feed_doc_release(&d);
	}
}

static void test_zh_dates_and_author(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("zh-gbk.xml", NULL, NULL, &d);
	assert_str(d.lang, "zh-cn");
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[0].author, "张三");
	assert_str(d.items[0].content, "<p>正文内容</p>");
	/* "2024-05-01 08:30:00" in a zh feed is China time */
	assert_int_equal(d.items[0].published, utc(2024, 5, 1, 0, 30, 0));
	/* and "CST" there is China Standard Time, not US Central */
	assert_int_equal(d.items[1].published, utc(2024, 5, 1, 12, 0, 0));
	feed_doc_release(&d);

	parse_fixture("ja-sjis.xml", NULL, NULL, &d);
	assert_int_equal(d.items[0].published, utc(2024, 4, 30, 23, 30, 0));
	feed_doc_release(&d);
	parse_fixture("zh-big5.xml", NULL, NULL, &d);
	assert_int_equal(d.items[0].published, utc(2024, 5, 1, 0, 30, 0));
	feed_doc_release(&d);
}

static void test_invalid_bytes_repaired(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("utf8-bom-invalid.xml", NULL, NULL, &d);
	assert_int_equal(d.n_items, 2);
	assert_str(d.items[1].title, "Bad \xEF\xBF\xBD bytes \xEF\xBF\xBD");
	assert_true(has_warning(&d, "2 invalid byte sequences"));
	feed_doc_release(&d);

	/* invalid bytes in a multi-byte legacy charset, a NUL and a control character */
	struct buf b = BUF_INIT;
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"gbk\"?><rss version=\"2.0\"><channel>"
	             "<item><title>A\xFF\xFF");
	buf_add(&b, "\0\x01", 2);
	buf_puts(&b, "B</title><guid>1</guid></item></channel></rss>");
	struct feed_parse_opts o = {0};
	struct err e = {0};
	memset(&d, 0, sizeof(d));
	assert_int_equal(feed_parse(b.data, b.len, &o, &d, &e), 0);
	assert_int_equal(d.n_items, 1);
	assert_true(util_is_valid_utf8(d.items[0].title, strlen(d.items[0].title)));
	assert_non_null(strstr(d.items[0].title, "\xEF\xBF\xBD"));
	assert_int_equal(d.items[0].title[0], 'A');
	assert_int_equal(d.items[0].title[strlen(d.items[0].title) - 1], 'B');
	feed_doc_release(&d);
	buf_release(&b);
}

static void test_to_utf8(void **state)
{
	(void)state;
	struct strlist w = {0};
	size_t n;
	/* ISO-8859-1 label read as windows-1252: 0x80 is the euro sign */
	char *s = feed_to_utf8("<a>\x80\xE9</a>", 9, "ISO-8859-1", &n, &w);
	assert_string_equal(s, "<a>€é</a>");
	assert_int_equal(n, strlen(s));
	free(s);
	/* a server's Latin-1 default does not override a UTF-8 document that says so */
	const char *u8 = "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>é</a>";
	s = feed_to_utf8(u8, strlen(u8), "iso-8859-1", NULL, &w);
	assert_string_equal(s, u8);
	free(s);
	/* a UTF-16 label on bytes that cannot be UTF-16 */
	const char *fake16 = "<?xml version=\"1.0\" encoding=\"utf-16\"?><a>é</a>";
	s = feed_to_utf8(fake16, strlen(fake16), NULL, NULL, &w);
	assert_string_equal(s, fake16);
	free(s);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.items[0], "not UTF-16"));
	strlist_release(&w);
	/* an unknown charset is reported and read as UTF-8 */
	s = feed_to_utf8("<a>x</a>", 8, "x-no-such-charset", NULL, &w);
	assert_string_equal(s, "<a>x</a>");
	free(s);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.items[0], "unknown charset"));
	strlist_release(&w);
}

/* ---- malformed and hostile input -------------------------------------------------------- */

static void test_malformed(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("malformed.xml", NULL, NULL, &d);
	assert_string_equal(d.format, "rss2");
	assert_str(d.title, "Broken Feed — Tom & Jerry");
	assert_int_equal(d.n_items, 2);
	struct article *a = &d.items[0];
	assert_str(a->title, "Fish & Chips … &unknownentity; AT&T");
	assert_str(a->link, "https://broken.example.org/1?a=1&b=2");
	assert_str(a->content, "<p>ok</p>");
	/* an unreadable date becomes the fetch time, flagged */
	assert_int_equal(a->published, 1000);
	assert_int_equal(a->date_guessed, 1);
	assert_true(has_warning(&d, "sometime last week"));
	a = &d.items[1];
	/* the unclosed <b> swallowed the rest of the item; it is found anyway */
	assert_str(a->title, "Unclosed bold");
	assert_str(a->link, "https://broken.example.org/2");
	assert_str(a->content, "<p>text with a &lt; lone bracket</p>");
	assert_true(d.n_recovered >= 8);
	assert_true(has_warning(&d, "recovered from"));
	assert_true(has_warning(&d, "HTML entit"));
	feed_doc_release(&d);
}

/* libxml2 nests everything after an unclosed item inside it; each is still an item */
static void test_unclosed_items(void **state)
{
	(void)state;
	static const char *const files[] = {"unclosed-items.xml", "unclosed-entries.xml"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct feed_doc d;
		parse_fixture(files[i], NULL, NULL, &d);
		assert_int_equal(d.n_items, 3);
		assert_str(d.items[0].title, "a");
		assert_str(d.items[1].title, "b");
		assert_str(d.items[2].title, "c");
		assert_true(d.n_recovered > 0);
		feed_doc_release(&d);
	}
}

static void test_leading_junk(void **state)
{
	(void)state;
	struct feed_doc d;
	struct err e = {0};
	const char *ws =
	    "\n\n  <?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>WS</title><item><title>a</title><guid>1</guid></item></channel></rss>";
	assert_int_equal(parse_str(ws, 0, &d, &e), 0);
	assert_int_equal(d.n_recovered, 0);
	assert_int_equal(d.n_items, 1);
	feed_doc_release(&d);
	const char *php = "Warning: something in feed.php on line 3\n<?xml version=\"1.0\"?>"
	                  "<rss version=\"2.0\"><channel><title>PHP</title><item><title>a</title>"
	                  "<guid>1</guid></item></channel></rss>";
	assert_int_equal(parse_str(php, 0, &d, &e), 0);
	assert_str(d.title, "PHP");
	assert_int_equal(d.n_items, 1);
	assert_int_equal(d.n_recovered, 1);
	assert_true(has_warning(&d, "skipped 41 bytes"));
	feed_doc_release(&d);
}

static void test_escaping(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("double-escaped.xml", NULL, NULL, &d);
	assert_int_equal(d.n_items, 5);
	assert_str(d.items[0].title, "Twice & done");
	assert_str(d.items[0].content, "<p>Twice &amp; escaped</p>");
	assert_str(d.items[1].content, "<p>Once</p> wait this is twice too");
	/* real tags present: the escaped ones are text and stay escaped */
	assert_str(d.items[2].content, "<p>Shows &lt;b&gt; literally</p>");
	assert_str(d.items[3].title, "CDATA title & more");
	assert_str(d.items[3].content, "<p>CDATA &amp; body</p>");
	assert_str(d.items[4].content, "<p>Unescaped <b>inline</b> html</p>");
	feed_doc_release(&d);
}

/* A listener on 127.0.0.1 that must see no connection while hostile documents are parsed. */
static int listen_local(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(listen(fd, 4), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_xxe(void **state)
{
	(void)state;
	struct feed_doc d;
	parse_fixture("xxe.xml", NULL, NULL, &d);
	assert_int_equal(d.n_items, 1);
	assert_null(strstr(d.title, "root:"));
	assert_str(d.title, "XXE end");
	/* internal entities still work */
	assert_str(d.items[0].title, "Item internal text");
	assert_null(d.items[0].content);
	feed_doc_release(&d);

	/* external DTD, parameter entity and general entity on a local port: never fetched */
	int port;
	int fd = listen_local(&port);
	char *doc = xasprintf("<?xml version=\"1.0\"?>\n"
	                      "<!DOCTYPE rss SYSTEM \"http://127.0.0.1:%d/a.dtd\" [\n"
	                      "<!ENTITY %% p SYSTEM \"http://127.0.0.1:%d/p.dtd\"> %%p;\n"
	                      "<!ENTITY e SYSTEM \"http://127.0.0.1:%d/e.txt\">\n"
	                      "<!ENTITY f SYSTEM \"file:///etc/passwd\">]>\n"
	                      "<rss version=\"2.0\"><channel><title>N&e;&f;</title>"
	                      "<item><title>&e;&f;t</title><guid>1</guid></item>"
	                      "</channel></rss>",
	                      port, port, port);
	struct err e = {0};
	assert_int_equal(parse_str(doc, 0, &d, &e), 0);
	assert_str(d.title, "N");
	assert_str(d.items[0].title, "t");
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 50), 0);
	feed_doc_release(&d);
	free(doc);
	close(fd);

	/* a local DTD as parameter entity is never read either: if it were, its declaration of
	 * "ok" would come first and win */
	char dtd[] = "/tmp/inkdigest-test-feed-dtd-XXXXXX";
	int dfd = mkstemp(dtd);
	assert_true(dfd >= 0);
	const char *decl = "<!ENTITY ok \"LEAKED\">\n";
	assert_int_equal(write(dfd, decl, strlen(decl)), (ssize_t)strlen(decl));
	close(dfd);
	doc = xasprintf("<!DOCTYPE rss [<!ENTITY %% p SYSTEM \"file://%s\">"
	                " %%p; <!ENTITY ok \"fine\">]><rss version=\"2.0\"><channel>"
	                "<title>a&ok;b</title><item><title>&ok;t</title><guid>1</guid></item>"
	                "</channel></rss>",
	                dtd);
	assert_int_equal(parse_str(doc, 0, &d, &e), 0);
	unlink(dtd);
	free(doc);
	assert_str(d.title, "afineb");
	assert_str(d.items[0].title, "finet");
	feed_doc_release(&d);
}

static void test_billion_laughs(void **state)
{
	(void)state;
	double t0 = util_monotonic();
	struct feed_doc d;
	parse_fixture("billion-laughs.xml", NULL, NULL, &d);
	/* Expanded, it would take minutes and gigabytes; the bound is loose for loaded machines. */
	assert_true(util_monotonic() - t0 < 10.0);
	for (size_t i = 0; i < d.n_items; i++) {
		assert_true(strlen(d.items[i].title) < 2000000);
		assert_null(d.items[i].lead_image);
	}
	assert_true(d.n_recovered > 0);
	feed_doc_release(&d);
}

/* Quadratic blowup: no loop for libxml2 to detect, just many references to a big entity. */
static void test_entity_budget(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_puts(&b, "<!DOCTYPE rss [<!ENTITY a \"");
	for (int i = 0; i < 50000; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\">]><rss version=\"2.0\"><channel><item><guid>1</guid><title>");
	for (int i = 0; i < 4000; i++)
		buf_puts(&b, "&a;");
	buf_puts(&b, "</title><enclosure type=\"image/png\" url=\"");
	for (int i = 0; i < 4000; i++)
		buf_puts(&b, "&a;");
	buf_puts(&b, "\"/></item></channel></rss>");
	double t0 = util_monotonic();
	struct feed_doc d;
	struct err e = {0};
	int rc = parse_str(b.data, 0, &d, &e);
	assert_true(util_monotonic() - t0 < 15.0);
	if (rc == 0) {
		/* 200 MB if expanded; the walker stops at its budget */
		for (size_t i = 0; i < d.n_items; i++)
			assert_true(strlen(d.items[i].title) <= (1u << 20) + 50000);
		assert_true(d.n_items == 0 || has_warning(&d, "entity"));
		feed_doc_release(&d);
	} else {
		assert_int_equal(e.code, FEED_ERR_UNREADABLE);
	}
	buf_release(&b);
}

static void test_not_a_feed(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		int code;
		const char *msg;
	} cases[] = {
	    {"html-page.html", FEED_ERR_NOT_A_FEED, "parse: not a feed (HTML page)"},
	    {"html-xhtml.xml", FEED_ERR_NOT_A_FEED, "parse: not a feed (HTML page)"},
	    {"not-a-feed.xml", FEED_ERR_NOT_A_FEED, "parse: not a feed (root element <svg>)"},
	    {"opml.xml", FEED_ERR_NOT_A_FEED, "parse: not a feed (an OPML subscription list)"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf b;
		load(cases[i].file, &b);
		struct feed_doc d = {0};
		struct err e = {0};
		assert_int_equal(feed_parse(b.data, b.len, NULL, &d, &e), -1);
		assert_int_equal(e.code, cases[i].code);
		assert_string_equal(e.msg, cases[i].msg);
		assert_int_equal(d.n_items, 0);
		assert_null(d.items);
		buf_release(&b);
	}

	static const struct {
		const char *doc;
		int code;
	} strs[] = {
	    {"", FEED_ERR_EMPTY},
	    {" \n\t ", FEED_ERR_EMPTY},
	    {"\xEF\xBB\xBF  ", FEED_ERR_EMPTY},
	    {"just some text", FEED_ERR_UNREADABLE},
	    {"{\"a\": 1}", FEED_ERR_NOT_A_FEED},
	    {"{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [",
	     FEED_ERR_UNREADABLE},
	    {"{\"version\": \"x\", \"items\": []}", FEED_ERR_NOT_A_FEED},
	    {"<html><body>hi</body></html>", FEED_ERR_NOT_A_FEED},
	};
	/* only characters XML forbids: nothing left */
	struct feed_doc d0 = {0};
	struct err e0 = {0};
	assert_int_equal(feed_parse("\0\x01\0\x02", 4, NULL, &d0, &e0), -1);
	assert_int_equal(e0.code, FEED_ERR_EMPTY);
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		struct feed_doc d;
		struct err e = {0};
		if (parse_str(strs[i].doc, 0, &d, &e) != -1)
			fail_msg("case %zu parsed", i);
		if (e.code != strs[i].code)
			fail_msg("case %zu: code %d (%s)", i, e.code, e.msg);
		assert_true(strncmp(e.msg, "parse: ", 7) == 0);
	}
}

static void test_max_items(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_puts(&b, "<rss version=\"2.0\"><channel><title>Many</title>");
	for (int i = 0; i < 10050; i++)
		buf_printf(&b, "<item><guid>g%d</guid><title>t%d</title></item>", i, i);
	buf_puts(&b, "</channel></rss>");
	struct feed_doc d;
	struct err e = {0};
	assert_int_equal(parse_str(b.data, 25, &d, &e), 0);
	assert_int_equal(d.n_items, 25);
	assert_str(d.items[24].id, "g24");
	assert_true(has_warning(&d, "10025 more than the cap of 25"));
	feed_doc_release(&d);
	/* the default cap */
	assert_int_equal(parse_str(b.data, 0, &d, &e), 0);
	assert_int_equal(d.n_items, 10000);
	assert_str(d.items[9999].title, "t9999");
	assert_true(has_warning(&d, "50 more than the cap of 10000"));
	feed_doc_release(&d);
	buf_release(&b);
}

static void test_relative_urls(void **state)
{
	(void)state;
	struct feed_doc d;
	struct err e = {0};
	const char *f = "<rss version=\"2.0\" xml:base=\"https://base.example.org/dir/\"><channel>"
	                "<link>/home</link>"
	                "<item><title>a</title><link>../up?q=1#frag</link></item>"
	                "<item xml:base=\"sub/\"><title>b</title><link>x y.html</link></item>"
	                "<item><title>c</title><link>javascript:alert(1)</link>"
	                "<enclosure type=\"image/gif\" url=\"//cdn.example.org/i.gif\"/></item>"
	                "<item xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">"
	                "<title>d</title><itunes:image href=\"ep.jpg\"/></item>"
	                "</channel></rss>";
	assert_int_equal(parse_str(f, 0, &d, &e), 0);
	assert_str(d.link, "https://base.example.org/home");
	assert_int_equal(d.n_items, 4);
	assert_str(d.items[3].lead_image, "https://base.example.org/dir/ep.jpg");
	assert_str(d.items[0].link, "https://base.example.org/up?q=1#frag");
	assert_str(d.items[1].link, "https://base.example.org/dir/sub/x%20y.html");
	/* only http(s) links survive */
	assert_null(d.items[2].link);
	assert_str(d.items[2].lead_image, "https://cdn.example.org/i.gif");
	assert_true(has_warning(&d, "not http(s)"));
	feed_doc_release(&d);
}

static void test_libxml2_is_silent(void **state)
{
	(void)state;
	fflush(stderr);
	int saved = dup(2);
	char path[] = "/tmp/inkdigest-test-feed-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	static const char *const files[] = {"malformed.xml",  "xxe.xml",    "billion-laughs.xml",
	                                    "html-page.html", "rss091.xml", "opml-broken.xml"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct buf b;
		load(files[i], &b);
		struct feed_doc d = {0};
		struct err e = {0};
		feed_parse(b.data, b.len, NULL, &d, &e);
		feed_doc_release(&d);
		struct feed_conf *fc = NULL;
		size_t n = 0;
		if (feed_parse_opml(b.data, b.len, &fc, &n, &e) == 0) {
			for (size_t k = 0; k < n; k++)
				feed_conf_release(&fc[k]);
			free(fc);
		}
		buf_release(&b);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	unlink(path);
	assert_int_equal(size, 0);
}

/* ---- dates ------------------------------------------------------------------------------ */

static void test_dates(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int tz;
		int y, mo, d, h, mi, sec;
	} ok[] = {
	    {"Wed, 01 May 2024 08:30:00 GMT", 0, 2024, 5, 1, 8, 30, 0},
	    {"Wed, 01 May 2024 08:30:00 EST", 0, 2024, 5, 1, 13, 30, 0},
	    {"Wed, 1 May 2024 08:30:00 +0800", 0, 2024, 5, 1, 0, 30, 0},
	    {"Wed, 01 May 2024 08:30:00 +08:00", 0, 2024, 5, 1, 0, 30, 0},
	    {"01 May 2024 08:30 UT", 0, 2024, 5, 1, 8, 30, 0},
	    {"Wednesday, 01-May-24 08:30:00 GMT", 0, 2024, 5, 1, 8, 30, 0},
	    {"Wed May  1 08:30:00 2024", 0, 2024, 5, 1, 8, 30, 0},
	    {"Wed, 01 May 2024 08:30:00 XYZT", 0, 2024, 5, 1, 8, 30, 0},
	    {"Wed, 01 May 2024 20:00:00 CST", CN_TZ, 2024, 5, 1, 12, 0, 0},
	    {"2024-05-01T08:30:00Z", 0, 2024, 5, 1, 8, 30, 0},
	    {"2024-05-01T08:30:00.123456-07:00", 0, 2024, 5, 1, 15, 30, 0},
	    {"2024-05-01t08:30:00+0530", 0, 2024, 5, 1, 3, 0, 0},
	    {"2024-05-01T08:30Z", 0, 2024, 5, 1, 8, 30, 0},
	    {"2024-05-01", 0, 2024, 5, 1, 0, 0, 0},
	    {"2024-05", 0, 2024, 5, 1, 0, 0, 0},
	    {"2024", 0, 2024, 1, 1, 0, 0, 0},
	    {"  2024-02-29 23:59:59  ", 0, 2024, 2, 29, 23, 59, 59},
	    {"2024-05-01 08:30:00", CN_TZ, 2024, 5, 1, 0, 30, 0},
	    {"2024-05-01 08:30:00 +0000", CN_TZ, 2024, 5, 1, 8, 30, 0},
	    {"2024/5/1 8:30", 0, 2024, 5, 1, 8, 30, 0},
	    {"2024年5月1日 08:30", CN_TZ, 2024, 5, 1, 0, 30, 0},
	    {"2024年05月01日", 0, 2024, 5, 1, 0, 0, 0},
	    {"1969-12-31T23:59:59Z", 0, 1969, 12, 31, 23, 59, 59},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int64_t t = 0;
		if (feed_parse_date(ok[i].s, ok[i].tz, &t) != 0)
			fail_msg("\"%s\" unreadable", ok[i].s);
		int64_t want = utc(ok[i].y, ok[i].mo, ok[i].d, ok[i].h, ok[i].mi, ok[i].sec);
		if (t != want)
			fail_msg("\"%s\": %lld, want %lld", ok[i].s, (long long)t, (long long)want);
	}
	static const char *const bad[] = {"",
	                                  "   ",
	                                  "yesterday",
	                                  "12",
	                                  "2024-13-01",
	                                  "2024-02-30",
	                                  "2024-05-01T25:00:00Z",
	                                  "2024-05-01T08:30:00+99:00",
	                                  "Wed, 99 Foo 2024",
	                                  "2024-05-01 junk",
	                                  NULL};
	for (size_t i = 0; bad[i]; i++) {
		int64_t t = 42;
		if (feed_parse_date(bad[i], 0, &t) != -1)
			fail_msg("\"%s\" read as %lld", bad[i], (long long)t);
	}
	int64_t t;
	assert_int_equal(feed_parse_date(NULL, 0, &t), -1);
}

/* ---- OPML ------------------------------------------------------------------------------- */

static void free_confs(struct feed_conf *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed_conf_release(&f[i]);
	free(f);
}

static void test_opml(void **state)
{
	(void)state;
	struct buf b;
	load("opml.xml", &b);
	struct feed_conf *f = NULL;
	size_t n = 0;
	struct err e = {0};
	assert_int_equal(feed_parse_opml(b.data, b.len, &f, &n, &e), 0);
	static const struct {
		const char *name, *url, *group;
	} want[] = {
	    {"Top Feed", "https://top.example.org/feed.xml", NULL},
	    {"Hacker News", "https://news.ycombinator.com/rss", "Tech"},
	    {"LWN & co", "https://lwn.net/headlines/rss", "Tech"},
	    {"Deep Feed", "https://deep.example.org/atom", "Deeper"},
	    /* unique names (they become config sections); a repeated URL is skipped */
	    {"Hacker News (2)", "https://hn.example.cn/rss", "中文"},
	    {"https://nameless.example.org/rss", "https://nameless.example.org/rss", NULL},
	};
	assert_int_equal(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		assert_str(f[i].name, want[i].name);
		assert_str(f[i].url, want[i].url);
		assert_str(f[i].group, want[i].group);
		assert_int_equal(f[i].max_articles, -1);
	}
	free_confs(f, n);
	buf_release(&b);

	load("opml-broken.xml", &b);
	assert_int_equal(feed_parse_opml(b.data, b.len, &f, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_str(f[0].name, "Café & Bar");
	assert_str(f[0].url, "https://cafe.example.org/rss?a=1&b=2");
	free_confs(f, n);
	buf_release(&b);

	load("rss2.xml", &b);
	assert_int_equal(feed_parse_opml(b.data, b.len, &f, &n, &e), -1);
	assert_int_equal(e.code, FEED_ERR_NOT_A_FEED);
	assert_null(f);
	assert_int_equal(n, 0);
	buf_release(&b);

	assert_int_equal(feed_parse_opml("", 0, &f, &n, &e), -1);
	assert_int_equal(e.code, FEED_ERR_EMPTY);
	assert_int_equal(feed_parse_opml("garbage", 7, &f, &n, &e), -1);
	assert_int_equal(e.code, FEED_ERR_UNREADABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rss2),
	    cmocka_unit_test(test_file_links_only_in_local_feeds),
	    cmocka_unit_test(test_hash_id_is_stable),
	    cmocka_unit_test(test_duplicates_merged),
	    cmocka_unit_test(test_rss091),
	    cmocka_unit_test(test_rss1),
	    cmocka_unit_test(test_rss090),
	    cmocka_unit_test(test_atom1),
	    cmocka_unit_test(test_atom03),
	    cmocka_unit_test(test_json11),
	    cmocka_unit_test(test_json1),
	    cmocka_unit_test(test_encodings),
	    cmocka_unit_test(test_zh_dates_and_author),
	    cmocka_unit_test(test_invalid_bytes_repaired),
	    cmocka_unit_test(test_to_utf8),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_unclosed_items),
	    cmocka_unit_test(test_leading_junk),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_xxe),
	    cmocka_unit_test(test_billion_laughs),
	    cmocka_unit_test(test_entity_budget),
	    cmocka_unit_test(test_not_a_feed),
	    cmocka_unit_test(test_max_items),
	    cmocka_unit_test(test_relative_urls),
	    cmocka_unit_test(test_libxml2_is_silent),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_opml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
