/* Tests for stage `mail` against a real SMTP server (tests/integration/smtp_server.py, Debian's
 * python3-aiosmtpd) on 127.0.0.1 with a certificate made here by openssl: the received message
 * is parsed by Python's email package, failures are classified, and no secret leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail.h"

#define PYTHON "/usr/bin/python3"
#define SERVER_PY FIXTURES "/../integration/smtp_server.py"
#define CHECK_EML FIXTURES "/mail/check_eml.py"

#define USER "reader"
#define PASSWORD "Pa55-w\xc3\xb6rd!secret"
/* base64 of the credentials as AUTH PLAIN and AUTH LOGIN carry them. */
#define PLAIN_BLOB "AHJlYWRlcgBQYTU1LXfDtnJkIXNlY3JldA=="
#define PLAIN_BLOB_AUTHZ "cmVhZGVyAHJlYWRlcgBQYTU1LXfDtnJkIXNlY3JldA=="
#define LOGIN_BLOB "UGE1NS13w7ZyZCFzZWNyZXQ="

#define CJK_NAME "\xe6\x99\xa8\xe6\x8a\xa5 2026-11-26.epub" /* 晨报 2026-11-26.epub */
#define CJK_SUBJECT                                                                                \
	"\xe6\x99\xa8\xe6\x8a\xa5 2026-11-26: 12 \xe7\xaf\x87\xe6\x96\x87\xe7\xab\xa0"             \
	" \xe2\x80\x94 a long subject that has to be folded over several encoded words"
#define CJK_BODY "\xe4\xbb\x8a\xe5\xa4\xa9\xe7\x9a\x84\xe6\x96\x87\xe7\xab\xa0 (today's articles)"

static char tmp[64];
static char cert[128], key[128];
static char book[160]; /* random bytes under a CJK name */
static size_t book_size = 150 * 1024 + 7;

struct server {
	pid_t pid;
	int port;
	char save_dir[160];
	char url[64];
};

/* Servers still running: a failed assertion jumps past server_stop, so the per-test teardown
 * stops whatever is left. */
static pid_t live[8];

/* --- helpers --- */

static void write_bytes(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int run_quiet(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void server_start(struct server *s, const char *const *extra)
{
	static int serial;
	char port_file[192];
	serial++;
	snprintf(s->save_dir, sizeof(s->save_dir), "%s/srv%d", tmp, serial);
	assert_int_equal(mkdir(s->save_dir, 0700), 0);
	snprintf(port_file, sizeof(port_file), "%s/port", s->save_dir);

	const char *argv[32];
	size_t n = 0;
	argv[n++] = PYTHON;
	argv[n++] = SERVER_PY;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--save-dir";
	argv[n++] = s->save_dir;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	assert_true(n < ARRAY_SIZE(argv));

	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execv(PYTHON, (char *const *)argv);
		_exit(127);
	}
	for (size_t i = 0; i < ARRAY_SIZE(live); i++)
		if (!live[i]) {
			live[i] = s->pid;
			break;
		}
	/* The server writes the port file (atomically) once it listens. */
	for (int i = 0; i < 400; i++) {
		struct buf b = BUF_INIT;
		struct err e;
		if (util_read_file(port_file, 64, &b, &e) == 0) {
			long port;
			assert_int_equal(util_parse_long(util_trim(b.data), &port), 0);
			buf_release(&b);
			s->port = (int)port;
			return;
		}
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			fail_msg("smtp_server.py exited early (status %d)", st);
		struct timespec ts = {0, 25 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fail_msg("smtp_server.py did not start within 10 s");
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		for (size_t i = 0; i < ARRAY_SIZE(live); i++)
			if (live[i] == s->pid)
				live[i] = 0;
		s->pid = 0;
	}
}

static int stop_leftover_servers(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(live); i++)
		if (live[i]) {
			kill(live[i], SIGTERM);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
	return 0;
}

static void server_url(struct server *s, const char *scheme)
{
	snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%d", scheme, s->port);
}

static int count_eml(const struct server *s)
{
	int n = 0;
	for (int i = 1; i < 100; i++) {
		char p[200];
		snprintf(p, sizeof(p), "%s/%03d.eml", s->save_dir, i);
		if (access(p, F_OK) == 0)
			n++;
	}
	return n;
}

/* A port nothing listens on: bound once by us, then closed. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static struct strlist to_one;

static struct mail_settings settings(const char *url)
{
	return (struct mail_settings){
	    .smtp_url = url,
	    .user = USER,
	    .password = PASSWORD,
	    .ca_file = cert,
	    .from = "inkdigest <digest@example.org>",
	    .to = &to_one,
	    .subject = "Daily digest",
	    .body = "Your digest is attached.",
	    .max_mail_size = 50L * 1024 * 1024,
	    .max_attempts = 3,
	    .retry_base_ms = 10,
	};
}

static int send_book(const struct mail_settings *m, const char *name, struct err *e)
{
	const char *paths[] = {book};
	const char *names[] = {name};
	memset(e, 0, sizeof(*e));
	return mail_send(m, paths, names, 1, e);
}

/* Runs check_eml.py on message nr of the server; returns its key=value output. */
static char *parse_eml(const struct server *s, int nr, char *att_prefix, size_t size)
{
	char cmd[600];
	snprintf(att_prefix, size, "%s/att%03d", s->save_dir, nr);
	snprintf(cmd, sizeof(cmd), PYTHON " " CHECK_EML " %s/%03d.eml %s", s->save_dir, nr,
	         att_prefix);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t r;
	while ((r = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(&b, chunk, r);
	assert_int_equal(pclose(p), 0);
	return buf_detach(&b, NULL);
}

static void assert_has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle))
		fail_msg("did not expect \"%s\" in:\n%s", needle, haystack);
}

static void assert_no_secret(const char *s)
{
	assert_lacks(s, PASSWORD);
	assert_lacks(s, PLAIN_BLOB);
	assert_lacks(s, PLAIN_BLOB_AUTHZ);
	assert_lacks(s, LOGIN_BLOB);
}

static void assert_same_file(const char *a, const char *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	struct err e;
	assert_int_equal(util_read_file(a, 0, &x, &e), 0);
	assert_int_equal(util_read_file(b, 0, &y, &e), 0);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.data, y.data, x.len);
	buf_release(&x);
	buf_release(&y);
}

/* Redirects stderr into a file for the duration of a verbose send. */
struct capture {
	int saved;
	char path[192];
};

static void capture_begin(struct capture *c, const char *name)
{
	snprintf(c->path, sizeof(c->path), "%s/%s", tmp, name);
	fflush(stderr);
	c->saved = dup(2);
	int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
}

static char *capture_end(struct capture *c)
{
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	struct buf b = BUF_INIT;
	struct err e;
	assert_int_equal(util_read_file(c->path, 0, &b, &e), 0);
	return buf_detach(&b, NULL);
}

/* --- setup --- */

static int group_setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_mail.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", tmp);
	snprintf(key, sizeof(key), "%s/key.pem", tmp);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
	         "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout %s -out %s "
	         ">/dev/null 2>&1",
	         key, cert);
	if (run_quiet(cmd) != 0)
		return -1;
	snprintf(book, sizeof(book), "%s/%s", tmp, CJK_NAME);
	unsigned char *bytes = xmalloc(book_size);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < book_size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		bytes[i] = (unsigned char)x;
	}
	/* An EPUB starts with its mimetype entry; the rest is noise on purpose. */
	memcpy(bytes, "PK\x03\x04", 4);
	write_bytes(book, bytes, book_size, 0644);
	free(bytes);
	strlist_add(&to_one, "kindle@example.com");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	run_quiet(cmd);
	strlist_release(&to_one);
	return 0;
}

/* --- sending --- */

static void test_starttls_auth_message(void **state)
{
	struct server s;
	const char *args[] = {"--starttls", cert, key, "--auth", USER ":" PASSWORD, NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	m.subject = CJK_SUBJECT;
	m.body = CJK_BODY;
	struct err e;
	int rc = send_book(&m, CJK_NAME, &e);
	server_stop(&s);
	if (rc != 0)
		fail_msg("mail_send: %s", e.msg);
	assert_int_equal(count_eml(&s), 1);

	char att[200];
	char *out = parse_eml(&s, 1, att, sizeof(att));
	assert_has(out, "defects=0\n");
	assert_has(out, "content_type=multipart/mixed\n");
	assert_has(out, "mime_version=1.0\n");
	assert_has(out, "from=inkdigest <digest@example.org>\n");
	assert_has(out, "to=kindle@example.com\n");
	assert_has(out, "subject=" CJK_SUBJECT "\n");
	assert_has(out, "date_fresh=1\n");
	assert_has(out, "message_id=<");
	assert_has(out, "@example.org>\n");
	assert_has(out, "bare_lf=0\n");
	assert_has(out, "n_parts=2\n");
	assert_has(out, "part1_type=text/plain\n");
	assert_has(out, "part1_charset=utf-8\n");
	assert_has(out, "part1_text=" CJK_BODY);
	assert_has(out, "part2_type=application/epub+zip\n");
	assert_has(out, "part2_cte=base64\n");
	assert_has(out, "part2_disposition=attachment\n");
	assert_has(out, "part2_filename=" CJK_NAME "\n");
	/* RFC 2231, not raw UTF-8 in the header. */
	assert_has(out, "filename*=UTF-8''%E6%99%A8%E6%8A%A5%202026-11-26.epub");
	assert_has(out, "n_attachments=1\n");
	/* RFC 5322: no line over 998; our folded headers and the base64 stay within 78 (only
	 * libcurl's own multipart Content-Type line is a little longer). */
	const char *ml = strstr(out, "max_line=");
	assert_non_null(ml);
	long max_line;
	char num[16];
	snprintf(num, sizeof(num), "%.*s", (int)strcspn(ml + 9, "\n"), ml + 9);
	assert_int_equal(util_parse_long(num, &max_line), 0);
	assert_true(max_line <= 998);
	assert_lacks(out, "long_line=Subject");
	assert_lacks(out, "long_line=To");
	assert_lacks(out, "long_line=Content-Disposition");
	assert_lacks(out, "long_line= ");
	free(out);

	char path[220];
	snprintf(path, sizeof(path), "%s.1", att);
	assert_same_file(book, path);

	/* The envelope: addr-specs, the login, and TLS. */
	struct buf j = BUF_INIT;
	snprintf(path, sizeof(path), "%s/001.json", s.save_dir);
	assert_int_equal(util_read_file(path, 0, &j, &e), 0);
	assert_has(j.data, "\"mail_from\": \"digest@example.org\"");
	assert_has(j.data, "\"rcpt_tos\": [\"kindle@example.com\"]");
	assert_has(j.data, "\"login\": \"" USER "\"");
	assert_has(j.data, "\"tls\": true");
	buf_release(&j);

	/* The size estimate covers the real message without overshooting by much. */
	struct stat st;
	snprintf(path, sizeof(path), "%s/001.eml", s.save_dir);
	assert_int_equal(stat(path, &st), 0);
	size_t est = mail_encoded_size(book_size);
	assert_true(est >= (size_t)st.st_size);
	assert_true(est - (size_t)st.st_size < 12 * 1024);
}

static void test_implicit_tls_two_books_ascii_name(void **state)
{
	struct server s;
	const char *args[] = {"--implicit-tls", cert, key, "--auth", USER ":" PASSWORD, NULL};
	server_start(&s, args);
	server_url(&s, "smtps");
	struct strlist to = {0};
	strlist_add(&to, "a@example.com");
	strlist_add(&to, "Reader B <b@example.com>");
	struct mail_settings m = settings(s.url);
	m.to = &to;
	m.body = NULL;
	const char *paths[] = {book, book};
	const char *names[] = {"digest-1.epub", "digest \"2\".epub"};
	struct err e = {0};
	int rc = mail_send(&m, paths, names, 2, &e);
	server_stop(&s);
	strlist_release(&to);
	if (rc != 0)
		fail_msg("mail_send: %s", e.msg);
	assert_int_equal(count_eml(&s), 1);
	char att[200];
	char *out = parse_eml(&s, 1, att, sizeof(att));
	assert_has(out, "defects=0\n");
	assert_has(out, "n_parts=3\n");
	/* A default text part, since Amazon ignores mails without one. */
	assert_has(out, "part1_text=Sent by inkdigest.");
	assert_has(out, "part2_filename=digest-1.epub\n");
	assert_has(out, "part2_disposition_raw=attachment; filename=\"digest-1.epub\"\n");
	assert_has(out, "part3_filename=digest \"2\".epub\n");
	assert_has(out, "part3_type=application/epub+zip\n");
	assert_has(out, "n_attachments=2\n");
	free(out);
	char path[220];
	snprintf(path, sizeof(path), "%s.2", att);
	assert_same_file(book, path);

	struct buf j = BUF_INIT;
	snprintf(path, sizeof(path), "%s/001.json", s.save_dir);
	assert_int_equal(util_read_file(path, 0, &j, &e), 0);
	assert_has(j.data, "\"rcpt_tos\": [\"a@example.com\", \"b@example.com\"]");
	buf_release(&j);
}

static void test_plain_when_tls_none(void **state)
{
	struct server s;
	const char *args[] = {"--no-starttls", NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	m.tls_none = 1;
	m.user = NULL;
	m.password = NULL;
	struct err e;
	int rc = send_book(&m, "a.epub", &e);
	server_stop(&s);
	if (rc != 0)
		fail_msg("mail_send: %s", e.msg);
	assert_int_equal(count_eml(&s), 1);
}

/* --- failures --- */

static void test_starttls_not_offered(void **state)
{
	struct server s;
	const char *args[] = {"--no-starttls", "--auth", USER ":" PASSWORD, NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	struct err e;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	server_stop(&s);
	assert_int_equal(e.code, MAIL_ERR_PERMANENT);
	print_message("%s\n", e.msg);
	assert_has(e.msg, s.url);
	assert_has(e.msg, "STARTTLS");
	assert_no_secret(e.msg);
	assert_int_equal(count_eml(&s), 0);
}

static void test_untrusted_certificate(void **state)
{
	struct server s;
	const char *args[] = {"--starttls", cert, key, "--auth", USER ":" PASSWORD, NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	m.ca_file = NULL; /* the system store does not know our test CA */
	struct err e;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_PERMANENT);
	print_message("%s\n", e.msg);
	assert_no_secret(e.msg);

	server_url(&s, "smtps"); /* a TLS client meeting a plain server */
	m = settings(s.url);
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	server_stop(&s);
	assert_int_equal(count_eml(&s), 0);
}

static void test_refused_connection_retried(void **state)
{
	char url[64];
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", closed_port());
	struct mail_settings m = settings(url);
	m.retry_base_ms = 40;
	struct err e;
	double t0 = util_monotonic();
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	double dt = util_monotonic() - t0;
	assert_int_equal(e.code, MAIL_ERR_TEMPORARY);
	print_message("%s\n", e.msg);
	assert_has(e.msg, url);
	assert_has(e.msg, "gave up after 3 attempts");
	/* Backoff: 40 ms, then 80 ms. */
	assert_true(dt >= 0.115);
	assert_true(dt < 5.0);
}

static void test_421_then_success(void **state)
{
	struct server s;
	const char *args[] = {"--starttls",     cert, key, "--auth", USER ":" PASSWORD,
	                      "--fail-first-n", "2",  NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	struct err e;
	int rc = send_book(&m, CJK_NAME, &e);
	server_stop(&s);
	if (rc != 0)
		fail_msg("mail_send: %s", e.msg);
	assert_int_equal(count_eml(&s), 1);
}

static void test_421_after_data_then_success(void **state)
{
	struct server s;
	const char *args[] = {
	    "--starttls", cert,           key,    "--auth", USER ":" PASSWORD, "--fail-first-n",
	    "1",          "--fail-stage", "data", NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	struct err e;
	int rc = send_book(&m, CJK_NAME, &e);
	server_stop(&s);
	if (rc != 0)
		fail_msg("mail_send: %s", e.msg);
	assert_int_equal(count_eml(&s), 1);
}

static void test_421_exhausts_attempts(void **state)
{
	struct server s;
	const char *args[] = {"--starttls", cert, key, "--fail-first-n", "9", NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	m.max_attempts = 2;
	struct err e;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	server_stop(&s);
	assert_int_equal(e.code, MAIL_ERR_TEMPORARY);
	print_message("%s\n", e.msg);
	assert_has(e.msg, "gave up after 2 attempts");
	assert_has(e.msg, "\"421 4.3.2 Too many connections, try again later\"");
	assert_int_equal(count_eml(&s), 0);
}

/* A silent server (no greeting, or no answer to the message) is a temporary failure after
 * response_timeout_s, retried. */
static void test_stalled_server(void **state)
{
	static const char *const stages[] = {"greeting", "data"};
	static const int attempts[] = {2, 1};
	for (size_t i = 0; i < ARRAY_SIZE(stages); i++) {
		struct server s;
		const char *args[] = {"--starttls",      cert,      key,       "--auth",
		                      USER ":" PASSWORD, "--stall", stages[i], NULL};
		server_start(&s, args);
		server_url(&s, "smtp");
		struct mail_settings m = settings(s.url);
		m.max_attempts = attempts[i];
		m.response_timeout_s = 1;
		struct err e;
		double t0 = util_monotonic();
		assert_int_equal(send_book(&m, "a.epub", &e), -1);
		double dt = util_monotonic() - t0;
		server_stop(&s);
		assert_int_equal(e.code, MAIL_ERR_TEMPORARY);
		print_message("%s\n", e.msg);
		assert_has(e.msg, "timeout");
		if (attempts[i] > 1)
			assert_has(e.msg, "gave up after 2 attempts");
		assert_true(dt >= 0.95 * attempts[i]);
		/* Bounded by the 1 s response timeout, not the default 120 s; generous, so that a
		 * loaded machine (ASan, parallel tests) does not fail it. */
		assert_true(dt < 30.0);
	}
}

static void test_535_bad_password(void **state)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN"};
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++) {
		struct server s;
		const char *args[] = {"--starttls",      cert,           key,      "--auth",
		                      USER ":right-one", "--auth-mechs", mechs[i], NULL};
		server_start(&s, args);
		server_url(&s, "smtp");
		struct mail_settings m = settings(s.url);
		m.verbose = 1;
		m.retry_base_ms = 20000; /* a retry would show as 20 s */
		struct err e;
		struct capture cap;
		double t0 = util_monotonic();
		capture_begin(&cap, "stderr-535.txt");
		int rc = send_book(&m, "a.epub", &e);
		char *log = capture_end(&cap);
		server_stop(&s);
		assert_int_equal(rc, -1);
		assert_int_equal(e.code, MAIL_ERR_PERMANENT);
		print_message("%s\n", e.msg);
		/* Permanent: no retry, no backoff wait. */
		assert_true(util_monotonic() - t0 < 15.0);
		assert_has(e.msg, s.url);
		assert_has(e.msg, "\"535 5.7.8 Authentication credentials invalid\"");
		assert_no_secret(e.msg);
		assert_no_secret(log);
		assert_has(log, "> AUTH ");
		assert_has(log, mechs[i]);
		assert_has(log, "[redacted]");
		assert_has(log, "< 535");
		free(log);
		assert_int_equal(count_eml(&s), 0);
	}
}

static void test_552_too_big(void **state)
{
	struct server s;
	const char *args[] = {"--starttls",      cert,         key,     "--auth",
	                      USER ":" PASSWORD, "--max-size", "20000", NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	struct err e;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	server_stop(&s);
	assert_int_equal(e.code, MAIL_ERR_PERMANENT);
	print_message("%s\n", e.msg);
	assert_has(e.msg, "\"552 ");
	assert_no_secret(e.msg);
	assert_int_equal(count_eml(&s), 0);
}

static void test_554_rejected_data(void **state)
{
	struct server s;
	const char *args[] = {"--starttls",
	                      cert,
	                      key,
	                      "--auth",
	                      USER ":" PASSWORD,
	                      "--reject-data",
	                      "554 5.7.1 Message rejected as spam",
	                      NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	struct err e;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	server_stop(&s);
	assert_int_equal(e.code, MAIL_ERR_PERMANENT);
	print_message("%s\n", e.msg);
	assert_has(e.msg, "\"554 5.7.1 Message rejected as spam\"");
}

static void test_too_big_refused_before_connecting(void **state)
{
	char url[64];
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", closed_port());
	struct mail_settings m = settings(url);
	m.max_mail_size = (long)book_size; /* base64 makes it a third larger */
	m.retry_base_ms = 20000; /* an attempt on the closed port would be retried after 20 s */
	struct err e;
	double t0 = util_monotonic();
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	/* CONFIG, not TEMPORARY: the closed port was never tried. */
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_true(util_monotonic() - t0 < 15.0);
	assert_has(e.msg, "max_mail_size");

	/* The estimate of mail_encoded_size passes the check: the send is then attempted. */
	m.max_mail_size = (long)mail_encoded_size(book_size);
	m.retry_base_ms = 10;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_TEMPORARY);
	print_message("%s\n", e.msg);
}

static void test_verbose_dialogue_redacted(void **state)
{
	struct server s;
	const char *args[] = {"--starttls",      cert,           key,     "--auth",
	                      USER ":" PASSWORD, "--auth-mechs", "LOGIN", NULL};
	server_start(&s, args);
	server_url(&s, "smtp");
	struct mail_settings m = settings(s.url);
	m.verbose = 1;
	m.body = "BODY-MARKER text";
	struct err e;
	struct capture cap;
	capture_begin(&cap, "stderr-ok.txt");
	int rc = send_book(&m, CJK_NAME, &e);
	char *log = capture_end(&cap);
	server_stop(&s);
	if (rc != 0)
		fail_msg("mail_send: %s", e.msg);
	assert_has(log, "> STARTTLS");
	assert_has(log, "> AUTH LOGIN");
	assert_has(log, "> [redacted]");
	assert_has(log, "< 235");
	assert_has(log, "> MAIL FROM:<digest@example.org>");
	assert_has(log, "< 250 2.0.0 Message accepted");
	assert_no_secret(log);
	/* Neither the message headers nor its body. */
	assert_lacks(log, "BODY-MARKER");
	assert_lacks(log, "application/epub+zip");
	assert_lacks(log, "Subject:");
	free(log);
	assert_int_equal(count_eml(&s), 1);
}

/* --- settings checked before any network use --- */

static void test_settings_refused(void **state)
{
	struct err e;
	char url[64];
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", closed_port());

	struct mail_settings m = settings("smtps://127.0.0.1:465");
	m.tls_none = 1;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_has(e.msg, "tls = none");

	m = settings("http://127.0.0.1/");
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);

	m = settings("smtp://user:" PASSWORD "@");
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_no_secret(e.msg);

	m = settings(url);
	m.password = NULL;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);

	m = settings(url);
	m.subject = "Hi\r\nBcc: victim@example.com";
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);

	m = settings(url);
	assert_int_equal(send_book(&m, "a\n.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_int_equal(send_book(&m, "a\t.epub", &e), -1);
	assert_int_equal(send_book(&m, "bad \xff.epub", &e), -1);
	char long_name[260];
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(send_book(&m, long_name, &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);

	m = settings(url);
	m.from = "\xe6\x99\xa8 <a@example.org>";
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);

	struct strlist many = {0};
	for (int i = 0; i < 16; i++) {
		char a[32];
		snprintf(a, sizeof(a), "k%d@example.com", i);
		strlist_add(&many, a);
	}
	m = settings(url);
	m.to = &many;
	assert_int_equal(send_book(&m, "a.epub", &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	strlist_release(&many);

	m = settings(url);
	const char *paths[] = {"/nonexistent/book.epub"};
	const char *names[] = {"book.epub"};
	assert_int_equal(mail_send(&m, paths, names, 1, &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_has(e.msg, "/nonexistent/book.epub");
}

static void test_encoded_size(void **state)
{
	assert_true(mail_encoded_size(0) > 0);
	/* 57 bytes make one 76-character line plus CRLF. */
	assert_int_equal(mail_encoded_size(57 * 1000) - mail_encoded_size(0), 78 * 1000);
	/* The 18 MB rule of thumb fits Gmail's 25 MB once encoded. */
	assert_true(mail_encoded_size(18u * 1000 * 1000) < 25u * 1000 * 1000);
	assert_true(mail_encoded_size(19u * 1024 * 1024) > 25u * 1024 * 1024);
}

/* --- password sources --- */

static void test_password_env(void **state)
{
	char *pw = NULL;
	struct err e;
	setenv("INKDIGEST_TEST_PW", PASSWORD, 1);
	assert_int_equal(mail_resolve_password("INKDIGEST_TEST_PW", NULL, NULL, &pw, &e), 0);
	assert_string_equal(pw, PASSWORD);
	free(pw);

	unsetenv("INKDIGEST_TEST_PW");
	assert_int_equal(mail_resolve_password("INKDIGEST_TEST_PW", NULL, NULL, &pw, &e), -1);
	assert_null(pw);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_has(e.msg, "INKDIGEST_TEST_PW");

	setenv("INKDIGEST_TEST_PW", "", 1);
	assert_int_equal(mail_resolve_password("INKDIGEST_TEST_PW", NULL, NULL, &pw, &e), -1);
	unsetenv("INKDIGEST_TEST_PW");

	/* No source: no authentication. */
	assert_int_equal(mail_resolve_password(NULL, NULL, NULL, &pw, &e), 0);
	assert_null(pw);

	assert_int_equal(mail_resolve_password("X", "/y", NULL, &pw, &e), -1);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
}

static void test_password_file(void **state)
{
	char path[192];
	char *pw = NULL;
	struct err e;
	snprintf(path, sizeof(path), "%s/pw-open", tmp);
	write_bytes(path, PASSWORD "\n", strlen(PASSWORD "\n"), 0644);
	assert_int_equal(mail_resolve_password(NULL, path, NULL, &pw, &e), -1);
	assert_null(pw);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	print_message("%s\n", e.msg);
	assert_has(e.msg, path);
	assert_has(e.msg, "0644");
	assert_no_secret(e.msg);

	write_bytes(path, PASSWORD "\n", strlen(PASSWORD "\n"), 0640);
	assert_int_equal(mail_resolve_password(NULL, path, NULL, &pw, &e), -1);
	assert_has(e.msg, "0640");

	snprintf(path, sizeof(path), "%s/pw-private", tmp);
	write_bytes(path, PASSWORD "\r\n", strlen(PASSWORD "\r\n"), 0600);
	assert_int_equal(mail_resolve_password(NULL, path, NULL, &pw, &e), 0);
	assert_string_equal(pw, PASSWORD);
	free(pw);

	write_bytes(path, PASSWORD, strlen(PASSWORD), 0400);
	assert_int_equal(mail_resolve_password(NULL, path, NULL, &pw, &e), 0);
	assert_string_equal(pw, PASSWORD);
	free(pw);

	write_bytes(path, "\n", 1, 0600);
	assert_int_equal(mail_resolve_password(NULL, path, NULL, &pw, &e), -1);

	snprintf(path, sizeof(path), "%s/pw-missing", tmp);
	assert_int_equal(mail_resolve_password(NULL, path, NULL, &pw, &e), -1);
	assert_has(e.msg, path);

	/* A folder is not a password file. */
	assert_int_equal(mail_resolve_password(NULL, tmp, NULL, &pw, &e), -1);
}

static void test_password_command(void **state)
{
	char *pw = NULL;
	struct err e;
	assert_int_equal(mail_resolve_password(
	                     NULL, NULL, "printf '%s\\nsecond line\\n' '" PASSWORD "'", &pw, &e),
	                 0);
	assert_string_equal(pw, PASSWORD);
	free(pw);

	assert_int_equal(mail_resolve_password(NULL, NULL, "echo '" PASSWORD "'; exit 3", &pw, &e),
	                 -1);
	assert_null(pw);
	assert_int_equal(e.code, MAIL_ERR_CONFIG);
	assert_has(e.msg, "status 3");
	assert_no_secret(e.msg);

	assert_int_equal(mail_resolve_password(NULL, NULL, "true", &pw, &e), -1);
	assert_has(e.msg, "no password");

	assert_int_equal(mail_resolve_password(NULL, NULL, "kill -9 $$", &pw, &e), -1);
	assert_has(e.msg, "signal 9");
}

static void test_templates(void **state)
{
	(void)state;
	struct err e = {0};
	struct mail_vars v = {.title = "早报", .date = "2026-11-27", .articles = "12",
	                      .feeds = "3", .books = "1"};
	char *s = mail_expand("{title} {date}: {articles} from {feeds} in {books} {{x}}", &v, &e);
	assert_string_equal(s, "早报 2026-11-27: 12 from 3 in 1 {x}");
	free(s);
	/* Unknown values expand to nothing; validation needs no values. */
	s = mail_expand("[{articles}]", NULL, &e);
	assert_string_equal(s, "[]");
	free(s);
	assert_null(mail_expand("{count}", &v, &e));
	assert_has(e.msg, "{count}");
	assert_null(mail_expand("open {title", &v, &e));
	assert_has(e.msg, "unknown placeholder {");
	assert_null(mail_expand("a } b", &v, &e));
	assert_has(e.msg, "unmatched }");
	s = mail_expand(MAIL_DEFAULT_BODY_TEMPLATE, &v, &e);
	assert_string_equal(s, "12 new articles from 3 feeds, sent by inkdigest.");
	free(s);
}

#define TEST(f) cmocka_unit_test_teardown(f, stop_leftover_servers)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_starttls_auth_message),
	    TEST(test_implicit_tls_two_books_ascii_name),
	    TEST(test_plain_when_tls_none),
	    TEST(test_starttls_not_offered),
	    TEST(test_untrusted_certificate),
	    TEST(test_refused_connection_retried),
	    TEST(test_421_then_success),
	    TEST(test_421_after_data_then_success),
	    TEST(test_421_exhausts_attempts),
	    TEST(test_stalled_server),
	    TEST(test_535_bad_password),
	    TEST(test_552_too_big),
	    TEST(test_554_rejected_data),
	    TEST(test_too_big_refused_before_connecting),
	    TEST(test_verbose_dialogue_redacted),
	    TEST(test_settings_refused),
	    TEST(test_encoded_size),
	    TEST(test_password_env),
	    TEST(test_password_file),
	    TEST(test_password_command),
	    TEST(test_templates),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
