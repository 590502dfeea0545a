/* Unit tests of util: growable buffers (always NUL-terminated, even when empty), string lists,
 * UTF-8 decoding and repair, number parsing, paths and atomic file writes. Writes only inside a
 * temporary folder it creates and removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/xmlerror.h>

#include "util.h"

static void test_buf_terminated(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_reserve(&b, 100);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	size_t n = 7;
	char *s = buf_detach(&b, &n);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);
	assert_null(b.data);

	s = buf_detach(&b, NULL);  /* never NULL, even unallocated */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);

	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 2000);
	assert_int_equal(strlen(b.data), 2000);
	assert_memory_equal(b.data, "0,1,2,", 6);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_putc(&b, 'x');
	buf_add(&b, "yz", 2);
	assert_string_equal(b.data, "xyz");
	buf_release(&b);
}

static void test_strlist(void **state)
{
	(void)state;
	struct strlist l = {0};
	char name[16];
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "s%d", i);
		strlist_add(&l, name);
	}
	strlist_add_owned(&l, xstrdup("owned"));
	assert_int_equal(l.n, 21);
	assert_true(strlist_contains(&l, "s19"));
	assert_true(strlist_contains(&l, "owned"));
	assert_false(strlist_contains(&l, "s20"));
	strlist_release(&l);
	assert_int_equal(l.n, 0);
}

static void test_utf8_next(void **state)
{
	(void)state;
	const char *s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
	const char *end = s + strlen(s);
	assert_int_equal(util_utf8_next(&s, end), 'a');
	assert_int_equal(util_utf8_next(&s, end), 0xE9);
	assert_int_equal(util_utf8_next(&s, end), 0x4E2D);
	assert_int_equal(util_utf8_next(&s, end), 0x1F600);
	assert_ptr_equal(s, end);
	assert_int_equal(util_utf8_next(&s, end), -1);

	/* Invalid: stray continuation, overlong, surrogate, truncated. *p stays put. */
	static const char *const bad[] = {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xE4\xB8", "\xFF"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *p = bad[i];
		assert_int_equal(util_utf8_next(&p, p + strlen(p)), -1);
		assert_ptr_equal(p, bad[i]);
	}
	assert_true(util_is_valid_utf8("中文 text", strlen("中文 text")));
	assert_false(util_is_valid_utf8("\xE4\xB8", 2));
}

static void test_utf8_sanitize(void **state)
{
	(void)state;
	char *s = util_utf8_sanitize("ok\x01\x80z\tx\xEF\xBF\xBEy", 12);
	assert_string_equal(s, "ok\xEF\xBF\xBDz\txy");
	free(s);
	/* Nothing valid at all (the fuzzer's case): still a terminated string. */
	s = util_utf8_sanitize("\x01\x02\x03", 3);
	assert_string_equal(s, "");
	free(s);
	s = util_utf8_sanitize("", 0);
	assert_string_equal(s, "");
	free(s);
	/* A truncated sequence at the end becomes one U+FFFD per byte. */
	s = util_utf8_sanitize("a\xE4\xB8", 3);
	assert_string_equal(s, "a\xEF\xBF\xBD\xEF\xBF\xBD");
	free(s);
}

static void test_text_helpers(void **state)
{
	(void)state;
	assert_true(util_has_cjk("mixed 中文"));
	assert_true(util_has_cjk("한국어"));
	assert_false(util_has_cjk("plain café"));
	char t[] = "  \t padded \n";
	assert_string_equal(util_trim(t), "padded");
	assert_true(util_starts_with_ci("HTTPS://x", "https:"));
	assert_false(util_starts_with_ci("http", "https"));

	long v = 0;
	assert_int_equal(util_parse_long(" 42 ", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(util_parse_long("-7", &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(util_parse_long("4x", &v), -1);
	assert_int_equal(util_parse_long("", &v), -1);
	assert_int_equal(util_parse_long("99999999999999999999999", &v), -1);

	char ts[32];
	util_format_rfc3339(1795680000, ts, sizeof ts);
	assert_string_equal(ts, "2026-11-26T08:00:00Z");
}

static void test_paths(void **state)
{
	(void)state;
	char *p = util_path_join("conf", "state.db");
	assert_string_equal(p, "conf/state.db");
	free(p);
	p = util_path_join("conf", "/abs/state.db");
	assert_string_equal(p, "/abs/state.db");
	free(p);
	p = util_path_join(".", "x");
	assert_string_equal(p, "x");
	free(p);
	p = util_dirname("a/b.ini");
	assert_string_equal(p, "a");
	free(p);
	p = util_dirname("b.ini");
	assert_string_equal(p, ".");
	free(p);
}

static void test_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/inkdigest-util-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/out.bin", dir);
	struct err e = {0};
	assert_int_equal(util_write_file_atomic(path, "hello", 5, &e), 0);
	assert_int_equal(util_write_file_atomic(path, "hello, world", 12, &e), 0);

	struct buf b = BUF_INIT;
	assert_int_equal(util_read_file(path, 0, &b, &e), 0);
	assert_int_equal(b.len, 12);
	assert_string_equal(b.data, "hello, world");
	buf_release(&b);
	/* Over the cap is an error that names the file. */
	assert_int_equal(util_read_file(path, 4, &b, &e), -1);
	assert_non_null(strstr(e.msg, "out.bin"));
	buf_release(&b);
	/* A missing file names itself too. */
	char *missing = xasprintf("%s/missing", dir);
	assert_int_equal(util_read_file(missing, 0, &b, &e), -1);
	assert_non_null(strstr(e.msg, "missing"));
	buf_release(&b);
	/* Into a folder that does not exist: an error, nothing written. */
	char *nowhere = xasprintf("%s/no/such/dir/f", dir);
	assert_int_equal(util_write_file_atomic(nowhere, "x", 1, &e), -1);

	/* A scratch file: written whole, private; a failed one leaves nothing. */
	char *scratch = xasprintf("%s/scratch", dir);
	assert_int_equal(util_write_file(scratch, "abc", 3, &e), 0);
	struct stat st;
	assert_int_equal(stat(scratch, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(scratch);
	free(scratch);
	assert_int_equal(util_write_file(nowhere, "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "no/such/dir"));

	/* Positioned writes and reads: appended pieces read back in place; reading past the end
	 * is an error naming the file. */
	char *packed = xasprintf("%s/pack", dir);
	int fd = open(packed, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_pwrite_all(fd, packed, "hello", 5, 0, &e), 0);
	assert_int_equal(util_pwrite_all(fd, packed, "world", 5, 5, &e), 0);
	char got[6] = {0};
	assert_int_equal(util_pread_all(fd, packed, got, 5, 5, &e), 0);
	assert_string_equal(got, "world");
	assert_int_equal(util_pread_all(fd, packed, got, 5, 8, &e), -1);
	assert_non_null(strstr(e.msg, "pack"));
	close(fd);
	unlink(packed);
	free(packed);

	/* No temporary file is left beside the target. */
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	free(nowhere);
	free(missing);
	free(path);
}

/* The handlers libxml2 had before are back after a quiet parse. */
static int custom_calls;
static void custom_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
	custom_calls++;
}

static void test_xml_quiet(void **state)
{
	(void)state;
	xmlSetGenericErrorFunc(NULL, custom_generic);
	struct xml_quiet q;
	util_xml_quiet_begin(&q);
	assert_true(xmlGenericError != custom_generic);
	xmlGenericError(xmlGenericErrorContext, "swallowed\n");
	util_xml_quiet_end(&q);
	assert_int_equal(custom_calls, 0);
	assert_true(xmlGenericError == custom_generic);
	xmlGenericError(xmlGenericErrorContext, "counted\n");
	assert_int_equal(custom_calls, 1);
	xmlSetGenericErrorFunc(NULL, NULL);
}

static void test_html_meta_charset(void **state)
{
	(void)state;
	static const char a[] = "<html><HEAD><Meta Charset=\"GBK\"></head>";
	static const char b[] = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">";
	static const char none[] = "<meta name=\"x\" content=\"y\"><p>charset=utf-8</p>";
	char *cs = util_html_meta_charset(a, sizeof a - 1);
	assert_string_equal(cs, "gbk");
	free(cs);
	cs = util_html_meta_charset(b, sizeof b - 1);
	assert_string_equal(cs, "big5");
	free(cs);
	assert_null(util_html_meta_charset(none, sizeof none - 1));
	/* Only the first 4 KB are read. */
	struct buf far = BUF_INIT;
	for (int i = 0; i < 5000; i++)
		buf_putc(&far, ' ');
	buf_puts(&far, a);
	assert_null(util_html_meta_charset(far.data, far.len));
	buf_release(&far);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_terminated), cmocka_unit_test(test_strlist),
	    cmocka_unit_test(test_utf8_next),      cmocka_unit_test(test_utf8_sanitize),
	    cmocka_unit_test(test_text_helpers),   cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_files),         cmocka_unit_test(test_xml_quiet),
	    cmocka_unit_test(test_html_meta_charset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
