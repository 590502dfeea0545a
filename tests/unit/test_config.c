/* Unit tests of `config`: fixture INI files and generated ones in a temporary folder, checked
 * field by field and message by message ("FILE:LINE: message"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/inkdigest-test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Loads text as tmpdir/t.ini. */
static int load_text(const char *text, struct config *c, struct strlist *errs)
{
	char *p = tmp_path("t.ini");
	write_text(p, text);
	int rc = config_load(p, c, errs);
	free(p);
	return rc;
}

/* 1 when some error ends with ":LINE: " followed by text containing needle. */
static int has_error(const struct strlist *errs, int line, const char *needle)
{
	char tag[32];
	snprintf(tag, sizeof(tag), ":%d: ", line);
	for (size_t i = 0; i < errs->n; i++) {
		const char *t = strstr(errs->items[i], tag);
		if (t && strstr(t + strlen(tag), needle))
			return 1;
	}
	return 0;
}

static void print_errors(const struct strlist *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		print_message("  %s\n", errs->items[i]);
}

#define FEED_OK "[feed \"x\"]\nurl = https://example.org/feed.xml\n"

static void test_full_fixture(void **state)
{
	(void)state;
	struct config c;
	struct strlist errs = {0};
	const char *path = FIXTURES "/config/full.ini";
	int rc = config_load(path, &c, &errs);
	print_errors(&errs);
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(c.warnings.n, 0);
	const char *dir = FIXTURES "/config";
	char *want;

	assert_string_equal(c.path, path);
	assert_string_equal(c.dir, dir);
	assert_string_equal(c.title, "Morning Digest");
	assert_string_equal(c.language, "zh-CN");
	want = xasprintf("%s/out/digest-%%Y-%%m-%%d.epub", dir);
	assert_string_equal(c.output, want);
	free(want);
	want = xasprintf("%s/state/state.db", dir);
	assert_string_equal(c.state, want);
	free(want);
	want = xasprintf("%s/files/templates", dir);
	assert_string_equal(c.templates, want);
	free(want);
	want = xasprintf("%s/files/dummy-font.ttf#2", dir);
	assert_string_equal(c.font, want);
	free(want);
	want = xasprintf("%s/files/feeds.opml", dir);
	assert_string_equal(c.opml, want);
	free(want);
	assert_string_equal(c.timezone, "Asia/Shanghai");
	assert_int_equal(c.max_age_h, 72);
	assert_int_equal(c.max_articles_per_feed, 10);
	assert_string_equal(c.device, "kobo-libra");
	assert_int_equal(c.max_width, 1200);  /* set */
	assert_int_equal(c.max_height, 1680); /* from the profile */
	assert_int_equal(c.jpeg_quality, 80);
	assert_int_equal(c.max_size, 18L * 1024 * 1024);
	assert_int_equal(c.max_image_bytes, 5L * 1024 * 1024);
	assert_int_equal(c.max_image_pixels, 30L * 1000 * 1000);
	assert_int_equal(c.max_feed_bytes, 2097152);
	assert_int_equal(c.concurrency, 4);
	assert_int_equal(c.per_host, 1);
	assert_int_equal(c.timeout_s, 30);
	assert_int_equal(c.connect_timeout_s, 5);
	assert_int_equal(c.prune_days, 30);
	assert_string_equal(c.proxy, "socks5h://127.0.0.1:1080");
	assert_int_equal(c.block_private_addresses, 1);

	assert_int_equal(c.n_feeds, 3);
	struct feed_conf *f = &c.feeds[0];
	assert_string_equal(f->name, "新智元");
	assert_int_equal(f->line, 28);
	assert_string_equal(f->url, "https://example.org/feed.xml");
	assert_string_equal(f->group, "AI");
	assert_string_equal(f->lang, "zh");
	assert_int_equal(f->fulltext, FULLTEXT_AUTO);
	assert_int_equal(f->referer, REFERER_FIXED);
	assert_string_equal(f->referer_url, "https://mp.weixin.qq.com/");
	assert_int_equal(f->headers.n, 2);
	assert_string_equal(f->headers.items[0], "Cookie: a=1");
	assert_string_equal(f->headers.items[1], "X-Token: abc");
	assert_int_equal(f->proxies.n, 2);
	assert_string_equal(f->proxies.items[1], "socks5://127.0.0.1:1080");
	assert_int_equal(f->keep.n, 1);
	assert_string_equal(f->keep.items[0], "#js_content");
	assert_int_equal(f->remove.n, 3);
	assert_string_equal(f->remove.items[0], ".share");
	assert_string_equal(f->remove.items[1], "div[title=\"a,b\"]");
	assert_string_equal(f->remove.items[2], "footer");
	assert_int_equal(f->max_articles, 5);

	f = &c.feeds[1];
	assert_string_equal(f->name, "Local file");
	want = xasprintf("%s/feeds/local.xml", dir);
	assert_string_equal(f->url, want);
	free(want);
	assert_int_equal(f->fulltext, FULLTEXT_YES);
	assert_int_equal(f->referer, REFERER_ORIGIN);
	assert_null(f->referer_url);
	assert_int_equal(f->max_articles, -1);
	assert_null(f->group);

	f = &c.feeds[2];
	assert_string_equal(f->url, "file:///srv/feeds/x.xml");
	assert_int_equal(f->fulltext, FULLTEXT_NO);
	assert_int_equal(f->referer, REFERER_ARTICLE);

	struct mail_conf *m = &c.mail;
	assert_int_equal(m->enabled, 1);
	assert_int_equal(m->line, 53);
	assert_int_equal(m->to.n, 3);
	assert_string_equal(m->to.items[0], "kindle@kindle.com");
	assert_string_equal(m->to.items[1], "other@kindle.com");
	assert_string_equal(m->to.items[2], "third@kindle.com");
	assert_string_equal(m->from, "me@example.org");
	assert_string_equal(m->smtp_url, "smtp://127.0.0.1:587");
	assert_string_equal(m->tls, "required");
	assert_string_equal(m->user, "me");
	assert_string_equal(m->password_env, "INKDIGEST_SMTP_PASSWORD");
	assert_null(m->password_file);
	assert_null(m->password_command);
	want = xasprintf("%s/files/dummy-ca.pem", dir);
	assert_string_equal(m->ca_file, want);
	free(want);
	assert_string_equal(m->subject, "Digest %Y-%m-%d");
	assert_string_equal(m->body, "Your digest: {articles} articles");
	assert_int_equal(m->max_mail_size, 25L * 1024 * 1024);

	config_release(&c);
	assert_null(c.title);
	strlist_release(&errs);
}

/* Every problem of the file, in line order, each exactly once. */
static void test_errors_fixture(void **state)
{
	(void)state;
	static const char *const want[] = {
	    ":1: \"title\" outside of any section (put it under [digest])",
	    ":3: unknown key \"titel\" in [digest] (did you mean \"title\"?)",
	    ":4: language \"ko\" is not one Kindle accepts as dc:language (device "
	    "kindle-paperwhite); Kindle rejects such books",
	    ":5: max_age must be a whole number from 0 to 87840, not \"abc\"",
	    ":6: unknown device \"kindle-foo\" (inkdigest profiles lists them)",
	    ":7: max_size must be a size such as 45M, 800K or 1048576 (from 1 to 1073741824 "
	    "bytes), not \"12Q\"",
	    ":8: jpeg_quality must be a whole number from 1 to 100, not \"101\"",
	    ":9: max_width = 2000 is above 1440, the most Send to Kindle keeps (device "
	    "kindle-paperwhite)",
	    ":10: concurrency must be a whole number from 1 to 64, not \"0\"",
	    ":11: block_private_addresses must be yes or no, not \"maybe\"",
	    ":12: unknown time zone \"Mars/Olympus\" (e.g. Asia/Shanghai, UTC)",
	    ":14: title set twice in [digest] (first at line 13)",
	    ":15: feed \"a\": missing url",
	    ":17: duplicate feed name \"a\" (first at line 15)",
	    ":18: url \"ftp://example.org/x\": only http, https and file URLs are supported",
	    ":19: expected [feed \"NAME\"] with a non-empty quoted name",
	    ":20: unknown section [weird] (known: [digest], [feed \"NAME\"], [mail])",
	    ":21: expected NAME = VALUE, got \"not a pair\"",
	    ":24: fulltext must be no, yes or auto, not \"sometimes\"",
	    ":25: referer must be none, origin, article or an http(s) URL, not \"somewhere\"",
	    ":26: header must look like \"Name: value\"",
	    ":27: max_articles must be a whole number from 0 to 10000, not \"-1\"",
	    ":28: [mail]: from is required (an approved sender address)",
	    ":28: [mail]: smtp is required (smtps://HOST:465 or smtp://HOST:587)",
	    ":28: [mail]: user is set but no password_env, password_file or password_command",
	    ":29: to: \"bad\" is not an e-mail address",
	    ":30: tls must be required or none, not \"maybe\"",
	};
	struct config c;
	struct strlist errs = {0};
	const char *path = FIXTURES "/config/errors.ini";
	assert_int_equal(config_load(path, &c, &errs), -1);
	print_errors(&errs);
	assert_int_equal(errs.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char *line = xasprintf("%s%s", path, want[i]);
		assert_string_equal(errs.items[i], line);
		free(line);
	}
	/* valid keys around the bad ones still load */
	assert_string_equal(c.title, "first");
	assert_int_equal(c.n_feeds, 2);
	assert_string_equal(c.feeds[1].url, "https://example.org/c.xml");
	assert_int_equal(c.mail.to.n, 2);
	config_release(&c);
	strlist_release(&errs);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config c;
	struct strlist errs = {0};
	assert_int_equal(load_text(FEED_OK, &c, &errs), 0);
	assert_string_equal(c.title, "inkdigest");
	assert_string_equal(c.language, "en");
	assert_true(c.output[0] == '/');
	const char *tail = "/inkdigest-%Y-%m-%d.epub";
	assert_true(strlen(c.output) > strlen(tail));
	assert_string_equal(c.output + strlen(c.output) - strlen(tail), tail);
	/* the cli picks the XDG default */
	assert_null(c.state);
	assert_null(c.templates);
	assert_null(c.opml);
	assert_null(c.timezone);
	assert_null(c.proxy);
	assert_string_equal(c.font, "auto");
	assert_string_equal(c.device, "kindle-paperwhite");
	assert_int_equal(c.max_width, 1236);
	assert_int_equal(c.max_height, 1648);
	assert_int_equal(c.max_age_h, 48);
	assert_int_equal(c.max_articles_per_feed, 25);
	assert_int_equal(c.jpeg_quality, 75);
	assert_int_equal(c.max_size, 45L * 1024 * 1024);
	assert_int_equal(c.max_image_bytes, 15L * 1024 * 1024);
	assert_int_equal(c.max_image_pixels, 40000000);
	assert_int_equal(c.max_feed_bytes, 20L * 1024 * 1024);
	assert_int_equal(c.concurrency, 8);
	assert_int_equal(c.per_host, 2);
	assert_int_equal(c.timeout_s, 60);
	assert_int_equal(c.connect_timeout_s, 15);
	assert_int_equal(c.prune_days, 90);
	assert_int_equal(c.block_private_addresses, 0);
	assert_int_equal(c.mail.enabled, 0);
	assert_string_equal(c.mail.tls, "required");
	assert_int_equal(c.mail.max_mail_size, 50000000);
	assert_int_equal(c.n_feeds, 1);
	assert_int_equal(c.feeds[0].max_articles, -1);
	assert_string_equal(c.dir, tmpdir);
	config_release(&c);
	strlist_release(&errs);
}

/* Inline comments, a BOM, CRLF, indentation, quoted values, a line longer than inih's
 * 200-byte default and a section name longer than its 50-byte buffer. */
static void test_syntax_details(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_puts(&b, "\xEF\xBB\xBF[digest]\r\n");
	buf_puts(&b, "title = \"  Spaced ; title\"   ; quotes keep \" ;\"\r\n");
	buf_puts(&b, "language = zh            ; dc:language\r\n");
	buf_puts(&b, "  max_age = 12\r\n");
	buf_puts(&b, "\tjpeg_quality = 70\r\n");
	buf_puts(&b, "# a comment\n; another\n\n");
	buf_puts(&b, "[feed \"");
	for (int i = 0; i < 30; i++)
		buf_puts(&b, "长");
	buf_puts(&b, "\"]\n");
	buf_puts(&b, "url = https://example.org/feed.xml?token=");
	for (int i = 0; i < 400; i++)
		buf_putc(&b, 'a' + i % 26);
	buf_puts(&b, "\n");
	buf_puts(&b, "bogus = 1\n"); /* line 11: the line number must survive the long line */
	buf_puts(&b, "[feed \"with \\\"quotes\\\"\"]\nurl = a;b.xml\n");
	struct config c;
	struct strlist errs = {0};
	assert_int_equal(load_text(b.data, &c, &errs), -1);
	print_errors(&errs);
	assert_int_equal(errs.n, 1);
	assert_true(has_error(&errs, 11, "unknown key \"bogus\" in [feed]"));
	assert_string_equal(c.title, "  Spaced ; title");
	assert_string_equal(c.language, "zh");
	assert_int_equal(c.max_age_h, 12);
	assert_int_equal(c.jpeg_quality, 70);
	assert_int_equal(c.n_feeds, 2);
	assert_int_equal(strlen(c.feeds[0].name), 90);
	assert_int_equal(c.feeds[0].line, 9);
	assert_int_equal(strlen(c.feeds[0].url),
	                 strlen("https://example.org/feed.xml?token=") + 400);
	assert_string_equal(c.feeds[1].name, "with \"quotes\"");
	/* no whitespace before ';': part of the value */
	char *want = xasprintf("%s/a;b.xml", tmpdir);
	assert_string_equal(c.feeds[1].url, want);
	free(want);
	config_release(&c);
	strlist_release(&errs);
	buf_release(&b);
}

static void test_sizes_and_bools(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		long want;
	} sizes[] = {
	    {"45M", 45L << 20}, {"45MB", 45L << 20},  {"45 MiB", 45L << 20},
	    {"45m", 45L << 20}, {"800K", 800L << 10}, {"800kb", 800L << 10},
	    {"1G", 1L << 30},   {"123456", 123456},   {"100B", 100},
	};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *text = xasprintf("[digest]\nmax_size = %s\n" FEED_OK, sizes[i].text);
		struct config c;
		struct strlist errs = {0};
		assert_int_equal(load_text(text, &c, &errs), 0);
		assert_int_equal(c.max_size, sizes[i].want);
		config_release(&c);
		strlist_release(&errs);
		free(text);
	}
	static const char *const bad[] = {"45X", "-1", "M",   "45MBx", "99999999999999999999",
	                                  "0",   "2G", "1.5M"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = xasprintf("[digest]\nmax_size = %s\n" FEED_OK, bad[i]);
		struct config c;
		struct strlist errs = {0};
		assert_int_equal(load_text(text, &c, &errs), -1);
		assert_true(has_error(&errs, 2, "max_size must be a size"));
		config_release(&c);
		strlist_release(&errs);
		free(text);
	}
	static const struct {
		const char *text;
		int want;
	} bools[] = {
	    {"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"1", 1},
	    {"0", 0},   {"on", 1}, {"off", 0},  {"YES", 1},   {"Off", 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
		char *text =
		    xasprintf("[digest]\nblock_private_addresses = %s\n" FEED_OK, bools[i].text);
		struct config c;
		struct strlist errs = {0};
		assert_int_equal(load_text(text, &c, &errs), 0);
		assert_int_equal(c.block_private_addresses, bools[i].want);
		config_release(&c);
		strlist_release(&errs);
		free(text);
	}
	struct config c;
	struct strlist errs = {0};
	assert_int_equal(load_text("[digest]\nmax_image_pixels = 40K\n" FEED_OK, &c, &errs), 0);
	assert_int_equal(c.max_image_pixels, 40000);
	config_release(&c);
	strlist_release(&errs);
}

static void test_profiles(void **state)
{
	(void)state;
	const struct device_profile *p = config_profiles();
	size_t n = 0;
	for (; p[n].name; n++) {
		assert_true(p[n].width >= 100 && p[n].height >= 100);
		assert_true(p[n].width <= p[n].screen_width && p[n].height <= p[n].screen_height);
		assert_non_null(p[n].description);
		if (p[n].kindle) {
			assert_true(p[n].width <= 1440 && p[n].height <= 1920);
		} else {
			assert_int_equal(p[n].width, p[n].screen_width);
		}
		for (size_t j = 0; j < n; j++)
			assert_true(strcmp(p[j].name, p[n].name) != 0);
		assert_ptr_equal(config_find_profile(p[n].name), &p[n]);
	}
	assert_true(n >= 15);
	const struct device_profile *pw = config_find_profile("Kindle-Paperwhite");
	assert_non_null(pw);
	assert_int_equal(pw->width, 1236);
	assert_int_equal(pw->height, 1648);
	const struct device_profile *s = config_find_profile("kindle-scribe");
	assert_int_equal(s->width, 1440);
	assert_int_equal(s->screen_width, 1860);
	assert_int_equal(config_find_profile("pocketbook-verse")->width, 758);
	assert_int_equal(config_find_profile("kobo-clara")->height, 1448);
	assert_null(config_find_profile("kindle-9000"));
	assert_null(config_find_profile(NULL));

	/* a device sets the box; a non-Kindle may go above Kindle's cap */
	struct config c;
	struct strlist errs = {0};
	assert_int_equal(
	    load_text("[digest]\ndevice = remarkable-paper-pro\nmax_height = 2400\n" FEED_OK, &c,
	              &errs),
	    0);
	assert_int_equal(c.max_width, 1620);
	assert_int_equal(c.max_height, 2400);
	config_release(&c);
	strlist_release(&errs);
	assert_int_equal(
	    load_text("[digest]\ndevice = kindle-oasis\nmax_height = 1921\n" FEED_OK, &c, &errs),
	    -1);
	assert_true(has_error(&errs, 3, "max_height = 1921 is above 1920"));
	config_release(&c);
	strlist_release(&errs);
}

static void test_languages(void **state)
{
	(void)state;
	static const char *const ok[] = {"zh", "zh-CN", "zh-cn", "zh-TW", "zh-HK", "ja",
	                                 "en", "en-US", "de",    "fr",    "es",    "it",
	                                 "pt", "pt-BR", "nl",    "sv",    "eng",   "zho"};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		assert_true(config_kindle_language_ok(ok[i]));
	static const char *const no[] = {"ko", "ko-KR", "ru", "zz", "", "e"};
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		assert_false(config_kindle_language_ok(no[i]));
	assert_false(config_kindle_language_ok(NULL));

	struct config c;
	struct strlist errs = {0};
	/* Korean is fine for a Kobo, with a warning */
	assert_int_equal(
	    load_text("[digest]\nlanguage = ko\ndevice = kobo-sage\n" FEED_OK, &c, &errs), 0);
	assert_int_equal(c.warnings.n, 1);
	assert_non_null(strstr(c.warnings.items[0], ":2: language \"ko\""));
	config_release(&c);
	strlist_release(&errs);
	/* the order of device and language does not matter */
	assert_int_equal(
	    load_text("[digest]\ndevice = kindle-basic\nlanguage = ko\n" FEED_OK, &c, &errs), -1);
	assert_true(has_error(&errs, 3, "language \"ko\" is not one Kindle accepts"));
	config_release(&c);
	strlist_release(&errs);
	assert_int_equal(load_text("[digest]\nlanguage = zh_CN!\n" FEED_OK, &c, &errs), -1);
	assert_true(has_error(&errs, 2, "is not a language tag"));
	config_release(&c);
	strlist_release(&errs);
}

static void test_mail(void **state)
{
	(void)state;
	char *pw = tmp_path("pw");
	write_text(pw, "secret\n");
	assert_int_equal(chmod(pw, 0600), 0);
	struct config c;
	struct strlist errs = {0};
	const char *base = "[mail]\nto = k@kindle.com\nfrom = me@example.org\n"
	                   "smtp = smtps://smtp.example.org:465\nuser = me\n";
	char *text = xasprintf("%spassword_file = pw\n" FEED_OK, base);
	assert_int_equal(load_text(text, &c, &errs), 0);
	assert_string_equal(c.mail.password_file, pw);
	assert_int_equal(c.mail.enabled, 1);
	config_release(&c);
	strlist_release(&errs);

	assert_int_equal(chmod(pw, 0644), 0);
	assert_int_equal(load_text(text, &c, &errs), -1);
	assert_true(has_error(&errs, 6, "can be read by others: chmod 600 it"));
	config_release(&c);
	strlist_release(&errs);
	free(text);

	text = xasprintf(
	    "%spassword_env = PW\npassword_command = pass show x\ntls = none\n" FEED_OK, base);
	assert_int_equal(load_text(text, &c, &errs), -1);
	assert_true(has_error(&errs, 1, "use only one of password_env"));
	assert_true(has_error(&errs, 1, "tls = none contradicts smtps://"));
	assert_int_equal(errs.n, 2);
	config_release(&c);
	strlist_release(&errs);
	free(text);

	/* sixteen recipients: one too many */
	struct buf b = BUF_INIT;
	buf_puts(&b, "[mail]\nenabled = no\nto = ");
	for (int i = 0; i < 16; i++)
		buf_printf(&b, "%sr%d@kindle.com", i ? ", " : "", i);
	buf_puts(&b, "\nsmtp = ftp://x\n" FEED_OK);
	assert_int_equal(load_text(b.data, &c, &errs), -1);
	assert_true(has_error(&errs, 3, "more than 15 recipients"));
	assert_true(has_error(&errs, 4, "smtp must be smtps://HOST:465"));
	/* disabled: from is not required */
	assert_int_equal(errs.n, 2);
	assert_int_equal(c.mail.enabled, 0);
	assert_int_equal(c.mail.to.n, 15);
	config_release(&c);
	strlist_release(&errs);
	buf_release(&b);
	free(pw);
}

static void test_file_level_errors(void **state)
{
	(void)state;
	struct config c;
	struct strlist errs = {0};
	char *missing = tmp_path("missing.ini");
	assert_int_equal(config_load(missing, &c, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.items[0], missing));
	assert_non_null(strstr(errs.items[0], "No such file"));
	config_release(&c);
	strlist_release(&errs);
	free(missing);

	assert_int_equal(load_text("[digest]\ntitle = t\n", &c, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.items[0], "t.ini: no feeds"));
	config_release(&c);
	strlist_release(&errs);

	/* opml alone is enough */
	char *opml = tmp_path("f.opml");
	write_text(opml, "<opml version=\"2.0\"><body/></opml>\n");
	assert_int_equal(load_text("[digest]\nopml = f.opml\n", &c, &errs), 0);
	assert_string_equal(c.opml, opml);
	config_release(&c);
	strlist_release(&errs);
	free(opml);

	/* the downloads' CA file is the digest's own, resolved and checked like any path */
	char *ca = tmp_path("ca.pem");
	write_text(ca, "-----BEGIN CERTIFICATE-----\n");
	assert_int_equal(load_text("[digest]\nca_file = ca.pem\n" FEED_OK, &c, &errs), 0);
	assert_string_equal(c.ca_file, ca);
	assert_null(c.mail.ca_file);
	config_release(&c);
	strlist_release(&errs);
	free(ca);
	assert_int_equal(load_text("[digest]\nca_file = none.pem\n" FEED_OK, &c, &errs), -1);
	assert_true(has_error(&errs, 2, "none.pem"));
	config_release(&c);
	strlist_release(&errs);

	/* pruning before max_age ends would bring articles back */
	assert_int_equal(load_text("[digest]\nmax_age = 240\nprune_days = 10\n" FEED_OK, &c, &errs),
	                 -1);
	assert_true(has_error(&errs, 3, "prune_days = 10 must be longer than max_age"));
	config_release(&c);
	strlist_release(&errs);
	assert_int_equal(load_text("[digest]\nmax_age = 0\n" FEED_OK, &c, &errs), 0);
	assert_int_equal(c.warnings.n, 1);
	config_release(&c);
	strlist_release(&errs);

	/* binary junk and invalid UTF-8 */
	char *bin = tmp_path("t.ini");
	FILE *f = fopen(bin, "wb");
	assert_non_null(f);
	fwrite("[digest]\ntitle = a\0b\n[feed \"\xff\"]\nurl = x\n", 1, 40, f);
	fclose(f);
	assert_int_equal(config_load(bin, &c, &errs), -1);
	assert_true(has_error(&errs, 2, "NUL byte"));
	assert_true(has_error(&errs, 3, "invalid UTF-8"));
	config_release(&c);
	strlist_release(&errs);
	free(bin);
}

/* Values are quoted in messages, but never a URL's password, a header or broken UTF-8. */
static void test_no_secrets_in_messages(void **state)
{
	(void)state;
	struct config c;
	struct strlist errs = {0};
	assert_int_equal(load_text("[digest]\nproxy = ftp://user:hunter2@proxy.example:21\n"
	                           "[feed \"x\"]\nurl = gopher://me:hunter2@h/feed\n"
	                           "header = Authorization Bearer hunter2\n"
	                           "referer = \xe4\xb8\n",
	                           &c, &errs),
	                 -1);
	print_errors(&errs);
	assert_int_equal(errs.n, 6); /* 3 values, missing url, invalid UTF-8, its referer */
	for (size_t i = 0; i < errs.n; i++) {
		assert_null(strstr(errs.items[i], "hunter2"));
		assert_true(util_is_valid_utf8(errs.items[i], strlen(errs.items[i])));
	}
	assert_true(has_error(&errs, 2, "proxy \"ftp://***@proxy.example:21\""));
	assert_true(has_error(&errs, 4, "url \"gopher://***@h/feed\""));
	assert_true(has_error(&errs, 5, "header must look like"));
	config_release(&c);
	strlist_release(&errs);
}

static void test_paths(void **state)
{
	(void)state;
	struct config c;
	struct strlist errs = {0};
	char *old_home = xstrdup(getenv("HOME"));
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(load_text("[digest]\noutput = ~/books/d.epub\nstate = /var/x.db\n"
	                           "font = none\ntemplates = nowhere\n"
	                           "[feed \"rel\"]\nurl = ../feeds/a.xml\n",
	                           &c, &errs),
	                 -1);
	assert_string_equal(c.output, "/home/someone/books/d.epub");
	assert_string_equal(c.state, "/var/x.db");
	assert_string_equal(c.font, "none");
	char *want = xasprintf("%s/../feeds/a.xml", tmpdir);
	assert_string_equal(c.feeds[0].url, want);
	free(want);
	assert_true(has_error(&errs, 5, "templates "));
	assert_true(has_error(&errs, 5, "No such file or directory"));
	config_release(&c);
	strlist_release(&errs);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_fixture),
		cmocka_unit_test(test_errors_fixture),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_syntax_details),
		cmocka_unit_test(test_sizes_and_bools),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_languages),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_file_level_errors),
		cmocka_unit_test(test_no_secrets_in_messages),
		cmocka_unit_test(test_paths),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, setup, teardown);
}
