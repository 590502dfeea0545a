/* Unit tests of `report`: records in, JSON out, parsed back with cJSON and checked field by
 * field, including the counts, redaction of URL userinfo and repair of invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "report.h"

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!j)
		print_message("missing key \"%s\"\n", key);
	assert_non_null(j);
	return j;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *j = get(o, key);
	assert_true(cJSON_IsString(j));
	return j->valuestring;
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *j = get(o, key);
	assert_true(cJSON_IsNumber(j));
	return j->valuedouble;
}

static void assert_null_key(const cJSON *o, const char *key)
{
	assert_true(cJSON_IsNull(get(o, key)));
}

static struct report *sample(void)
{
	struct report *r = report_new(1764136800); /* 2025-11-26T06:00:00Z */
	struct strlist w = {0};
	strlist_add(&w, "item 3: unreadable date, used the fetch time");
	struct report_feed f1 = {
	    .name = "新智元",
	    .url = "https://user:secret@example.org/feed.xml",
	    .http_status = 200,
	    .bytes = 12345,
	    .seconds = 0.12345,
	    .format = "rss2",
	    .articles_total = 20,
	    .articles_new = 3,
	    .skipped_delivered = 15,
	    .skipped_old = 1,
	    .skipped_limit = 1,
	    .warnings = &w,
	};
	report_add_feed(r, &f1);
	struct report_feed f2 = {
	    .name = "HN",
	    .url = "https://news.example/rss",
	    .http_status = 503,
	    .seconds = 2.5,
	    .error = "feed \"HN\": fetch: HTTP 503",
	};
	report_add_feed(r, &f2);
	struct report_feed f3 = {
	    .name = "Blog",
	    .url = "https://blog.example/atom.xml",
	    .http_status = 304,
	    .not_modified = 1,
	    .format = NULL,
	};
	report_add_feed(r, &f3);
	strlist_release(&w);

	struct report_article a = {
	    .feed = "新智元",
	    .id = "https://mp.weixin.qq.com/s/abc",
	    .title = "标题 \xff bad",
	    .link = "https://mp.weixin.qq.com/s/abc",
	    .content_source = "fulltext",
	    .fulltext_error = NULL,
	    .n_images = 2,
	};
	report_add_article(r, &a);
	struct report_image i1 = {
	    .url = "https://mmbiz.qpic.cn/a/640?wx_fmt=png",
	    .article_id = a.id,
	    .http_status = 200,
	    .bytes_in = 400000,
	    .bytes_out = 100000,
	    .width_in = 2000,
	    .height_in = 1500,
	    .width_out = 1236,
	    .height_out = 927,
	    .format = "png",
	    .seconds = 0.0456,
	};
	report_add_image(r, &i1);
	struct report_image i2 = {
	    .url = "https://t.example/pixel.gif",
	    .article_id = a.id,
	    .http_status = 200,
	    .bytes_in = 43,
	    .width_in = 1,
	    .height_in = 1,
	    .format = "gif",
	    .dropped = "spacer: under 16 px",
	};
	report_add_image(r, &i2);
	report_add_warning(r, "image", "image https://x/y.webp: decode: truncated");
	report_set_stage_time(r, "fetch", 9.0);
	report_set_stage_time(r, "fetch", 3.25); /* set, not add */
	report_set_stage_time(r, "images", 1.5);
	report_add_book(r, "/out/inkdigest-2025-11-26.epub", 2345678);
	report_set_mail(r, "sent", "250 2.0.0 OK queued");
	report_finish(r, 1764136812, 0, "3 feeds (1 failed), 1 new article, 1 image");
	return r;
}

static void check_sample(const cJSON *root)
{
	assert_int_equal(get_num(root, "version"), 1);
	assert_string_equal(get_str(root, "generator"), "inkdigest " INKDIGEST_VERSION);
	assert_string_equal(get_str(root, "start"), "2025-11-26T06:00:00Z");
	assert_string_equal(get_str(root, "end"), "2025-11-26T06:00:12Z");
	assert_int_equal(get_num(root, "duration_s"), 12);
	assert_int_equal(get_num(root, "exit_code"), 0);
	assert_string_equal(get_str(root, "summary"), "3 feeds (1 failed), 1 new article, 1 image");

	const cJSON *c = get(root, "counts");
	assert_int_equal(get_num(c, "feeds"), 3);
	assert_int_equal(get_num(c, "feeds_ok"), 2);
	assert_int_equal(get_num(c, "feeds_failed"), 1);
	assert_int_equal(get_num(c, "feeds_not_modified"), 1);
	assert_int_equal(get_num(c, "feed_bytes"), 12345);
	assert_int_equal(get_num(c, "articles_total"), 20);
	assert_int_equal(get_num(c, "articles_new"), 3);
	assert_int_equal(get_num(c, "articles_in_book"), 1);
	assert_int_equal(get_num(c, "skipped_delivered"), 15);
	assert_int_equal(get_num(c, "skipped_old"), 1);
	assert_int_equal(get_num(c, "skipped_limit"), 1);
	assert_int_equal(get_num(c, "images"), 2);
	assert_int_equal(get_num(c, "images_delivered"), 1);
	assert_int_equal(get_num(c, "images_dropped"), 1);
	assert_int_equal(get_num(c, "image_bytes_in"), 400043);
	assert_int_equal(get_num(c, "image_bytes_out"), 100000);
	assert_int_equal(get_num(c, "books"), 1);
	assert_int_equal(get_num(c, "book_bytes"), 2345678);
	assert_int_equal(get_num(c, "warnings"), 1);

	const cJSON *st = get(root, "stages");
	assert_int_equal(cJSON_GetArraySize(st), 2);
	assert_true(get_num(st, "fetch_s") == 3.25);
	assert_true(get_num(st, "images_s") == 1.5);

	const cJSON *books = get(root, "books");
	assert_int_equal(cJSON_GetArraySize(books), 1);
	assert_string_equal(get_str(cJSON_GetArrayItem(books, 0), "path"),
	                    "/out/inkdigest-2025-11-26.epub");
	assert_int_equal(get_num(cJSON_GetArrayItem(books, 0), "bytes"), 2345678);

	const cJSON *m = get(root, "mail");
	assert_string_equal(get_str(m, "outcome"), "sent");
	assert_string_equal(get_str(m, "detail"), "250 2.0.0 OK queued");

	const cJSON *feeds = get(root, "feeds");
	assert_int_equal(cJSON_GetArraySize(feeds), 3);
	const cJSON *f = cJSON_GetArrayItem(feeds, 0);
	assert_string_equal(get_str(f, "name"), "新智元");
	assert_string_equal(get_str(f, "url"), "https://***@example.org/feed.xml");
	assert_int_equal(get_num(f, "http_status"), 200);
	assert_int_equal(get_num(f, "bytes"), 12345);
	assert_true(get_num(f, "seconds") == 0.123);
	assert_true(cJSON_IsFalse(get(f, "not_modified")));
	assert_null_key(f, "error");
	assert_string_equal(get_str(f, "format"), "rss2");
	assert_int_equal(get_num(f, "articles_total"), 20);
	assert_int_equal(get_num(f, "articles_new"), 3);
	assert_int_equal(get_num(f, "skipped_delivered"), 15);
	assert_int_equal(get_num(f, "skipped_old"), 1);
	assert_int_equal(get_num(f, "skipped_limit"), 1);
	const cJSON *fw = get(f, "warnings");
	assert_int_equal(cJSON_GetArraySize(fw), 1);
	assert_string_equal(cJSON_GetArrayItem(fw, 0)->valuestring,
	                    "item 3: unreadable date, used the fetch time");
	f = cJSON_GetArrayItem(feeds, 1);
	assert_string_equal(get_str(f, "error"), "feed \"HN\": fetch: HTTP 503");
	assert_int_equal(get_num(f, "http_status"), 503);
	assert_null_key(f, "format");
	assert_int_equal(cJSON_GetArraySize(get(f, "warnings")), 0);
	f = cJSON_GetArrayItem(feeds, 2);
	assert_true(cJSON_IsTrue(get(f, "not_modified")));

	const cJSON *arts = get(root, "articles");
	assert_int_equal(cJSON_GetArraySize(arts), 1);
	const cJSON *a = cJSON_GetArrayItem(arts, 0);
	assert_string_equal(get_str(a, "feed"), "新智元");
	assert_string_equal(get_str(a, "id"), "https://mp.weixin.qq.com/s/abc");
	assert_string_equal(get_str(a, "title"), "标题 \xEF\xBF\xBD bad"); /* U+FFFD */
	assert_string_equal(get_str(a, "link"), "https://mp.weixin.qq.com/s/abc");
	assert_string_equal(get_str(a, "content_source"), "fulltext");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "fulltext_error")));
	assert_int_equal(get_num(a, "n_images"), 2);

	const cJSON *imgs = get(root, "images");
	assert_int_equal(cJSON_GetArraySize(imgs), 2);
	const cJSON *i = cJSON_GetArrayItem(imgs, 0);
	assert_string_equal(get_str(i, "url"), "https://mmbiz.qpic.cn/a/640?wx_fmt=png");
	assert_string_equal(get_str(i, "article_id"), "https://mp.weixin.qq.com/s/abc");
	assert_int_equal(get_num(i, "http_status"), 200);
	assert_int_equal(get_num(i, "bytes_in"), 400000);
	assert_int_equal(get_num(i, "bytes_out"), 100000);
	assert_int_equal(get_num(i, "width_in"), 2000);
	assert_int_equal(get_num(i, "height_in"), 1500);
	assert_int_equal(get_num(i, "width_out"), 1236);
	assert_int_equal(get_num(i, "height_out"), 927);
	assert_true(get_num(i, "compression_ratio") == 4.0);
	assert_string_equal(get_str(i, "format"), "png");
	assert_true(get_num(i, "seconds") == 0.046);
	assert_null_key(i, "dropped");
	i = cJSON_GetArrayItem(imgs, 1);
	assert_string_equal(get_str(i, "dropped"), "spacer: under 16 px");
	assert_null_key(i, "compression_ratio");

	const cJSON *w = get(root, "warnings");
	assert_int_equal(cJSON_GetArraySize(w), 1);
	assert_string_equal(get_str(cJSON_GetArrayItem(w, 0), "stage"), "image");
	assert_string_equal(get_str(cJSON_GetArrayItem(w, 0), "message"),
	                    "image https://x/y.webp: decode: truncated");
}

static void test_round_trip(void **st)
{
	(void)st;
	struct report *r = sample();
	char *json = report_to_json(r);
	assert_null(strstr(json, "secret"));
	cJSON *root = cJSON_Parse(json);
	assert_non_null(root);
	check_sample(root);
	cJSON_Delete(root);
	/* printing twice gives the same text: the report is not consumed */
	char *again = report_to_json(r);
	assert_string_equal(json, again);
	free(again);

	char *compact = report_to_json_compact(r);
	assert_null(strchr(compact, '\n'));
	root = cJSON_Parse(compact);
	assert_non_null(root);
	check_sample(root);
	cJSON_Delete(root);
	free(compact);
	free(json);
	report_free(r);
	report_free(NULL);
}

static void test_unfinished_and_empty(void **st)
{
	(void)st;
	struct report *r = report_new(0);
	char *json = report_to_json(r);
	cJSON *root = cJSON_Parse(json);
	assert_non_null(root);
	assert_string_equal(get_str(root, "start"), "1970-01-01T00:00:00Z");
	assert_null_key(root, "end");
	assert_null_key(root, "exit_code");
	assert_null_key(root, "duration_s");
	assert_null_key(root, "summary");
	assert_null_key(root, "mail");
	static const char *const arrays[] = {"books", "feeds", "articles", "images", "warnings"};
	for (size_t i = 0; i < ARRAY_SIZE(arrays); i++) {
		assert_true(cJSON_IsArray(get(root, arrays[i])));
		assert_int_equal(cJSON_GetArraySize(get(root, arrays[i])), 0);
	}
	assert_true(cJSON_IsObject(get(root, "stages")));
	assert_int_equal(get_num(get(root, "counts"), "feeds"), 0);
	cJSON_Delete(root);
	free(json);

	/* a failed run: exit code and mail failure */
	report_set_mail(r, "failed", "535 5.7.8 authentication failed");
	report_finish(r, 30, 75, NULL);
	json = report_to_json(r);
	root = cJSON_Parse(json);
	assert_int_equal(get_num(root, "exit_code"), 75);
	assert_null_key(root, "summary");
	assert_string_equal(get_str(get(root, "mail"), "outcome"), "failed");
	cJSON_Delete(root);
	free(json);
	report_free(r);
}

static void test_write(void **st)
{
	(void)st;
	char dir[] = "/tmp/inkdigest-test-report-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/run.json", dir);
	struct report *r = sample();
	struct err e = {0};
	assert_int_equal(report_write(r, path, &e), 0);
	struct buf b = BUF_INIT;
	assert_int_equal(util_read_file(path, 0, &b, &e), 0);
	assert_true(b.len > 2 && b.data[b.len - 1] == '\n');
	cJSON *root = cJSON_Parse(b.data);
	assert_non_null(root);
	check_sample(root);
	cJSON_Delete(root);
	buf_release(&b);

	/* a folder that does not exist: an error naming the report */
	char *bad = xasprintf("%s/no/such/run.json", dir);
	assert_int_equal(report_write(r, bad, &e), -1);
	assert_non_null(strstr(e.msg, "report"));
	free(bad);
	report_free(r);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_redaction_shapes(void **st)
{
	(void)st;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"https://a:b@h/p", "https://***@h/p"},
	    {"https://h/p?x=a@b", "https://h/p?x=a@b"}, /* '@' after the host is data */
	    {"http://tok@h:8080", "http://***@h:8080"},
	    {"file:///srv/x.xml", "file:///srv/x.xml"},
	    {"not a url", "not a url"},
	};
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		struct report *r = report_new(0);
		struct report_image im = {.url = cases[k].in};
		report_add_image(r, &im);
		char *json = report_to_json_compact(r);
		cJSON *root = cJSON_Parse(json);
		assert_non_null(root);
		const cJSON *i = cJSON_GetArrayItem(get(root, "images"), 0);
		assert_string_equal(get_str(i, "url"), cases[k].out);
		assert_null_key(i, "http_status");
		cJSON_Delete(root);
		free(json);
		report_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_unfinished_and_empty),
	    cmocka_unit_test(test_write),
	    cmocka_unit_test(test_redaction_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
