/* Tests for stage `fetch`: the multi loop against the fixture server on 127.0.0.1 (started
 * here on an ephemeral port over a temporary root), plus local files. Never touches the
 * internet; every timeout is short so the whole file runs in seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"

static pid_t server_pid;
static int server_port;
static char root[64];
static char port_file[96];

struct result {
	int done;
	enum fetch_error error;
	long status;
	int not_modified;
	char *data;
	size_t len;
	int attempts;
	double seconds;
	char *error_msg;
	char *etag;
	char *last_modified;
	char *effective_url;
	char *content_type;
	int order; /* completion order, from a shared counter */
};

static int completion_counter;

static void result_release(struct result *r)
{
	free(r->data);
	free(r->error_msg);
	free(r->etag);
	free(r->last_modified);
	free(r->effective_url);
	free(r->content_type);
	memset(r, 0, sizeof(*r));
}

static void on_done(void *user, struct fetch_response *r)
{
	struct result *res = user;
	res->done++;
	res->error = r->error;
	res->status = r->status;
	res->not_modified = r->not_modified;
	res->data = r->data; /* taken */
	r->data = NULL;
	res->len = r->len;
	res->attempts = r->attempts;
	res->seconds = r->seconds;
	res->error_msg = xstrdup(r->error_msg);
	res->etag = xstrdup(r->etag);
	res->last_modified = xstrdup(r->last_modified);
	res->effective_url = xstrdup(r->effective_url);
	res->content_type = xstrdup(r->content_type);
	res->order = completion_counter++;
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", server_port, path);
}

static struct fetch_opts test_opts(void)
{
	struct fetch_opts o = {0};
	o.connect_timeout_ms = 2000;
	o.timeout_ms = 5000;
	o.retry_base_ms = 50;
	o.max_retries = 2;
	o.max_per_host = 8;
	return o;
}

/* Runs one request to completion on a fresh fetcher. */
static void fetch_one(const struct fetch_opts *o, const struct fetch_request *req,
                      struct result *res)
{
	memset(res, 0, sizeof(*res));
	struct fetcher *f = fetch_new(o);
	fetch_add(f, req, on_done, res);
	assert_int_equal(fetch_pending(f), 1);
	assert_int_equal(fetch_run(f, NULL, NULL), 0);
	assert_int_equal(fetch_pending(f), 0);
	fetch_free(f);
	assert_int_equal(res->done, 1);
}

static void fetch_path(const struct fetch_opts *o, const char *path, struct result *res)
{
	char *u = url(path);
	struct fetch_request req = {.url = u};
	fetch_one(o, &req, res);
	free(u);
}

/* Talks to the server's control routes with plain libcurl, independent of the code under test. */
static char *server_get(const char *path_and_query)
{
	char *u = url(path_and_query);
	struct buf b = BUF_INIT;
	CURL *e = curl_easy_init();
	assert_non_null(e);
	curl_easy_setopt(e, CURLOPT_URL, u);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, NULL);
	FILE *mem = NULL;
	char *text = NULL;
	size_t text_len = 0;
	mem = open_memstream(&text, &text_len);
	assert_non_null(mem);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, mem);
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	curl_easy_cleanup(e);
	fclose(mem);
	buf_add(&b, text, text_len);
	free(text);
	free(u);
	return buf_detach(&b, NULL);
}

static long server_hits(const char *path)
{
	char *esc = curl_easy_escape(NULL, path, 0);
	char *q = xasprintf("/hits?path=%s", esc);
	char *body = server_get(q);
	long n = -1;
	assert_int_equal(util_parse_long(util_trim(body), &n), 0);
	curl_free(esc);
	free(q);
	free(body);
	return n;
}

static int server_max_concurrency(const char *group)
{
	char *q = xasprintf("/concurrency?group=%s", group);
	char *body = server_get(q);
	cJSON *j = cJSON_Parse(body);
	assert_non_null(j);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "max");
	assert_true(cJSON_IsNumber(m));
	int v = m->valueint;
	cJSON_Delete(j);
	free(body);
	free(q);
	return v;
}

static void write_root_file(const char *name, const char *data, size_t len)
{
	char *p = xasprintf("%s/%s", root, name);
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	free(p);
}

/* Starts fixture_server.py on the temporary root (HTTPS when tls) and waits for its port. */
static int start_server(const char *pf, const char *tls, pid_t *pid, int *port)
{
	unlink(pf);
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		const char *script = INKDIGEST_SOURCE_DIR "/tests/integration/fixture_server.py";
		if (tls)
			execlp("python3", "python3", script, "--port-file", pf, "--root", root,
			       "--tls", FIXTURES "/fetch/tls-cert.pem",
			       FIXTURES "/fetch/tls-key.pem", (char *)NULL);
		else
			execlp("python3", "python3", script, "--port-file", pf, "--root", root,
			       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct buf b = BUF_INIT;
		struct err e;
		long n = 0;
		if (util_read_file(pf, 64, &b, &e) == 0 && b.len &&
		    util_parse_long(util_trim(b.data), &n) == 0 && n > 0) {
			*port = (int)n;
			buf_release(&b);
			return 0;
		}
		buf_release(&b);
		usleep(50 * 1000);
	}
	fprintf(stderr, "fixture server did not start\n");
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	return -1;
}

static void stop_server(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

static const char *root_files[] = {"hello.txt", "feed.xml", "lorem.txt"};

static int setup(void **state)
{
	if (fetch_global_init() != 0)
		return -1;
	snprintf(root, sizeof(root), "/tmp/inkdigest-fetch-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(port_file, sizeof(port_file), "%s.port", root);
	write_root_file("hello.txt", "hello, world\n", 13);
	const char *feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
	                   "</channel></rss>\n";
	write_root_file("feed.xml", feed, strlen(feed));
	struct buf lorem = BUF_INIT;
	while (lorem.len < 20000)
		buf_puts(&lorem, "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n");
	write_root_file("lorem.txt", lorem.data, lorem.len);
	buf_release(&lorem);

	return start_server(port_file, NULL, &server_pid, &server_port);
}

static int teardown(void **state)
{
	stop_server(server_pid);
	for (size_t i = 0; i < ARRAY_SIZE(root_files); i++) {
		char *p = xasprintf("%s/%s", root, root_files[i]);
		unlink(p);
		free(p);
	}
	unlink(port_file);
	rmdir(root);
	fetch_global_cleanup();
	return 0;
}

/* ---- basic answers ---- */

static void test_ok_200(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/hello.txt", &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.len, 13);
	assert_string_equal(r.data, "hello, world\n");
	assert_null(r.error_msg);
	assert_non_null(r.content_type);
	assert_true(util_starts_with_ci(r.content_type, "text/plain"));
	char *u = url("/hello.txt");
	assert_string_equal(r.effective_url, u);
	free(u);
	result_release(&r);
}

static void test_404_not_retried(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/status/404?id=a", &r);
	assert_int_equal(r.error, FETCH_ERR_HTTP);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(r.error_msg, "HTTP 404"));
	assert_int_equal(server_hits("/status/404?id=a"), 1);
	result_release(&r);

	fetch_path(&o, "/status/410?id=a", &r);
	assert_int_equal(r.error, FETCH_ERR_HTTP);
	assert_int_equal(r.status, 410);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(server_hits("/status/410?id=a"), 1);
	result_release(&r);
}

static void test_500_retried_then_error(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/status/500?id=b", &r);
	assert_int_equal(r.error, FETCH_ERR_HTTP);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(server_hits("/status/500?id=b"), 3);
	assert_non_null(strstr(r.error_msg, "HTTP 500"));
	/* Backoff 50 + 100 ms happened, without sleeping a whole second per retry. */
	assert_true(r.seconds >= 0.14);
	assert_true(r.seconds < 3.0);
	result_release(&r);

	o.max_retries = -1;
	fetch_path(&o, "/status/503?id=b", &r);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(server_hits("/status/503?id=b"), 1);
	result_release(&r);
}

static void test_429_retry_after(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/flaky/429-then-ok/hello.txt?n=1&retry_after=1", &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	assert_string_equal(r.data, "hello, world\n");
	/* The base backoff is 50 ms: only Retry-After explains a wait of a second. */
	assert_true(r.seconds >= 0.95);
	assert_true(r.seconds < 4.0);
	result_release(&r);
}

static void test_backoff_does_not_block(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_total = 1; /* one slot: a sleeping retry holding it would stall the rest */
	struct result res[4];
	memset(res, 0, sizeof(res));
	completion_counter = 0;
	struct fetcher *f = fetch_new(&o);
	double t0 = util_monotonic();
	for (int i = 0; i < 4; i++) {
		char *path = i == 0 ? xstrdup("/flaky/429-then-ok/hello.txt?n=1&retry_after=1&id=e")
		                    : xasprintf("/hello.txt?backoff=%d", i);
		char *u = url(path);
		struct fetch_request req = {.url = u, .priority = i == 0 ? 10 : 0};
		fetch_add(f, &req, on_done, &res[i]);
		free(u);
		free(path);
	}
	assert_int_equal(fetch_run(f, NULL, NULL), 0);
	fetch_free(f);
	double total = util_monotonic() - t0;
	assert_int_equal(res[0].error, FETCH_OK);
	assert_int_equal(res[0].attempts, 2);
	assert_int_equal(res[0].order, 3); /* the others finished during its backoff */
	for (int i = 1; i < 4; i++) {
		assert_int_equal(res[i].error, FETCH_OK);
		assert_true(res[i].order < 3);
	}
	assert_true(total >= 0.95 && total < 3.0);
	for (int i = 0; i < 4; i++)
		result_release(&res[i]);
}

static void test_retry_after_http_date(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/flaky/503-then-ok/hello.txt?n=1&retry_after=date%2B2", &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.attempts, 2);
	/* An HTTP-date two seconds ahead (whole seconds): at least one second of waiting. */
	assert_true(r.seconds >= 0.95);
	assert_true(r.seconds < 4.0);
	result_release(&r);
}

static void test_retry_after_beyond_budget(void **state)
{
	struct fetch_opts o = test_opts();
	o.timeout_ms = 1000;
	o.max_retries = 1; /* budget: 2 s */
	struct result r;
	fetch_path(&o, "/flaky/429-then-ok/hello.txt?n=1&retry_after=30&id=c", &r);
	assert_int_equal(r.error, FETCH_ERR_HTTP);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.attempts, 1);
	assert_true(r.seconds < 1.0);
	result_release(&r);
}

static void test_flaky_then_ok(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/flaky/500-then-ok/hello.txt?n=2", &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.attempts, 3);
	assert_string_equal(r.data, "hello, world\n");
	result_release(&r);
}

static void test_conditional_get(void **state)
{
	struct fetch_opts o = test_opts();
	struct result first, r;
	fetch_path(&o, "/etag/feed.xml", &first);
	assert_int_equal(first.error, FETCH_OK);
	assert_int_equal(first.status, 200);
	assert_int_equal(first.not_modified, 0);
	assert_non_null(first.etag);
	assert_non_null(first.last_modified);
	assert_true(first.len > 0);

	char *u = url("/etag/feed.xml");
	struct fetch_request req = {.url = u, .etag = first.etag};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.not_modified, 1);
	assert_int_equal(r.len, 0);
	result_release(&r);

	struct fetch_request by_date = {.url = u, .last_modified = first.last_modified};
	fetch_one(&o, &by_date, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.not_modified, 1);
	result_release(&r);

	struct fetch_request stale = {.url = u, .etag = "\"something-else\""};
	fetch_one(&o, &stale, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.not_modified, 0);
	assert_int_equal(r.len, first.len);
	result_release(&r);
	free(u);
	result_release(&first);
}

/* ---- limits ---- */

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_gzip_bomb(void **state)
{
	struct fetch_opts o = test_opts();
	long before = max_rss_kb();
	char *u = url("/gzip-bomb");
	struct fetch_request req = {.url = u, .max_bytes = 1 << 20};
	struct result r;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_TOO_LARGE);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.len, 0);
	assert_non_null(strstr(r.error_msg, "larger than"));
	/* The bomb inflates to 100 MB; peak memory must not come near it. */
	assert_true(max_rss_kb() - before < 30 * 1024);
	result_release(&r);
	free(u);
}

static void test_max_bytes(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	char *u = url("/big/2");
	struct fetch_request req = {.url = u, .max_bytes = 1 << 20};
	fetch_one(&o, &req, &r); /* refused on Content-Length */
	assert_int_equal(r.error, FETCH_ERR_TOO_LARGE);
	assert_int_equal(r.attempts, 1);
	result_release(&r);
	free(u);

	u = url("/big/2?nolength=1");
	req.url = u;
	fetch_one(&o, &req, &r); /* counted while receiving */
	assert_int_equal(r.error, FETCH_ERR_TOO_LARGE);
	result_release(&r);
	free(u);

	u = url("/big/1");
	req.url = u;
	req.max_bytes = 1 << 20; /* exactly at the cap is fine */
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.len, 1 << 20);
	assert_int_equal(r.data[0], 'x');
	result_release(&r);
	free(u);
}

static void test_redirects(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/redirect/3/hello.txt", &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_string_equal(r.data, "hello, world\n");
	char *u = url("/redirect/0/hello.txt");
	assert_string_equal(r.effective_url, u);
	free(u);
	result_release(&r);

	fetch_path(&o, "/redirect/6/hello.txt", &r);
	assert_int_equal(r.error, FETCH_ERR_REDIRECTS);
	assert_int_equal(r.attempts, 1);
	result_release(&r);

	fetch_path(&o, "/redirect-loop", &r);
	assert_int_equal(r.error, FETCH_ERR_REDIRECTS);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(server_hits("/redirect-loop"), 6);
	result_release(&r);

	o.max_redirects = -1; /* none at all */
	fetch_path(&o, "/redirect/1/hello.txt", &r);
	assert_int_equal(r.error, FETCH_ERR_REDIRECTS);
	result_release(&r);
}

static void test_redirect_to_file_refused(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	char *u = url("/redirect-file");
	for (int allow = 0; allow <= 1; allow++) {
		struct fetch_request req = {.url = u, .allow_file = allow};
		fetch_one(&o, &req, &r);
		assert_int_equal(r.error, FETCH_ERR_SCHEME);
		assert_int_equal(r.attempts, 1);
		assert_null(strstr(r.data, "root:"));
		assert_non_null(strstr(r.error_msg, "file:///etc/passwd"));
		result_release(&r);
	}
	free(u);

	fetch_path(&o, "/redirect-to?url=ftp://127.0.0.1/x", &r);
	assert_int_equal(r.error, FETCH_ERR_SCHEME);
	result_release(&r);
}

static void test_stall_timeout(void **state)
{
	struct fetch_opts o = test_opts();
	o.timeout_ms = 1000;
	o.max_retries = -1;
	struct result r;
	fetch_path(&o, "/stall/hello.txt", &r);
	assert_int_equal(r.error, FETCH_ERR_TIMEOUT);
	assert_true(r.seconds >= 0.9);
	assert_true(r.seconds < 2.5);
	result_release(&r);
}

static void test_slow_drip_aborted(void **state)
{
	struct fetch_opts o = test_opts();
	o.timeout_ms = 20000;
	o.low_speed_bytes = 1000;
	o.low_speed_time_s = 1;
	o.max_retries = -1;
	struct result r;
	fetch_path(&o, "/slow/100/lorem.txt", &r); /* 100 B/s of 20 kB would take 200 s */
	assert_int_equal(r.error, FETCH_ERR_TIMEOUT);
	assert_true(r.seconds < 4.0);
	assert_non_null(strstr(r.error_msg, "slow"));
	result_release(&r);

	o.low_speed_bytes = 100;
	fetch_path(&o, "/slow/20000/lorem.txt", &r); /* fast enough: completes */
	assert_int_equal(r.error, FETCH_OK);
	assert_true(r.len >= 20000);
	result_release(&r);
}

static void test_truncated_and_closed(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_retries = -1;
	struct result r;
	fetch_path(&o, "/truncated/lorem.txt", &r);
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	assert_non_null(r.error_msg);
	result_release(&r);

	o.max_retries = 1;
	fetch_path(&o, "/close?id=d", &r);
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	assert_int_equal(r.attempts, 2); /* a dropped connection is worth one more try */
	result_release(&r);

	char *refused = xstrdup("http://127.0.0.1:1/");
	struct fetch_request req = {.url = refused};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	result_release(&r);
	free(refused);
}

static void test_content_type(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	fetch_path(&o, "/ctype/text/html/feed.xml", &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_string_equal(r.content_type, "text/html");
	assert_non_null(strstr(r.data, "<rss"));
	result_release(&r);
}

/* ---- the loop ---- */

static void run_group(struct fetch_opts *o, const char *group, int n, struct result *res)
{
	struct fetcher *f = fetch_new(o);
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("/hold/250/hello.txt?group=%s&i=%d", group, i);
		char *u = url(path);
		struct fetch_request req = {.url = u};
		memset(&res[i], 0, sizeof(res[i]));
		fetch_add(f, &req, on_done, &res[i]);
		free(u);
		free(path);
	}
	assert_int_equal(fetch_pending(f), (size_t)n);
	assert_int_equal(fetch_run(f, NULL, NULL), 0);
	fetch_free(f);
	for (int i = 0; i < n; i++) {
		assert_int_equal(res[i].done, 1);
		assert_int_equal(res[i].error, FETCH_OK);
		assert_string_equal(res[i].data, "hello, world\n");
		result_release(&res[i]);
	}
}

static void test_per_host_cap(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_total = 8;
	o.max_per_host = 2;
	struct result res[6];
	double t0 = util_monotonic();
	run_group(&o, "cap", 6, res);
	assert_int_equal(server_max_concurrency("cap"), 2);
	assert_true(util_monotonic() - t0 >= 0.7); /* three rounds of 250 ms */
}

static void test_max_total(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_total = 3;
	o.max_per_host = 8;
	struct result res[7];
	run_group(&o, "total", 7, res);
	assert_int_equal(server_max_concurrency("total"), 3);
}

static void test_many_concurrent(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_total = 8;
	o.max_per_host = 8;
	enum { N = 80 };
	struct result *res = xcalloc(N, sizeof(*res));
	struct fetcher *f = fetch_new(&o);
	for (int i = 0; i < N; i++) {
		char *path = xasprintf(i % 2 ? "/hello.txt?i=%d" : "/feed.xml?i=%d", i);
		char *u = url(path);
		struct fetch_request req = {.url = u};
		fetch_add(f, &req, on_done, &res[i]);
		free(u);
		free(path);
	}
	assert_int_equal(fetch_run(f, NULL, NULL), 0);
	fetch_free(f);
	for (int i = 0; i < N; i++) {
		assert_int_equal(res[i].done, 1);
		assert_int_equal(res[i].error, FETCH_OK);
		if (i % 2)
			assert_string_equal(res[i].data, "hello, world\n");
		else
			assert_non_null(strstr(res[i].data, "<rss"));
		result_release(&res[i]);
	}
	free(res);
}

static void test_priority_order(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_total = 1;
	struct result res[4];
	memset(res, 0, sizeof(res));
	const int prio[4] = {0, 0, 5, 5};
	struct fetcher *f = fetch_new(&o);
	completion_counter = 0;
	for (int i = 0; i < 4; i++) {
		char *path = xasprintf("/hello.txt?prio=%d", i);
		char *u = url(path);
		struct fetch_request req = {.url = u, .priority = prio[i]};
		fetch_add(f, &req, on_done, &res[i]);
		free(u);
		free(path);
	}
	assert_int_equal(fetch_run(f, NULL, NULL), 0);
	fetch_free(f);
	/* Higher priority first, FIFO within a priority. */
	assert_int_equal(res[2].order, 0);
	assert_int_equal(res[3].order, 1);
	assert_int_equal(res[0].order, 2);
	assert_int_equal(res[1].order, 3);
	for (int i = 0; i < 4; i++)
		result_release(&res[i]);
}

struct chain {
	struct fetcher *f;
	int added;
	struct result res[3];
};

static void on_chain(void *user, struct fetch_response *r)
{
	struct chain *c = user;
	int i = c->added;
	on_done(&c->res[i], r);
	if (c->added < 2) {
		c->added++;
		char *u = url(c->added == 1 ? "/feed.xml" : "/redirect/1/hello.txt");
		struct fetch_request req = {.url = u};
		fetch_add(c->f, &req, on_chain, c);
		free(u);
	}
}

static void test_callback_adds_requests(void **state)
{
	struct fetch_opts o = test_opts();
	struct chain c;
	memset(&c, 0, sizeof(c));
	c.f = fetch_new(&o);
	char *u = url("/hello.txt");
	struct fetch_request req = {.url = u};
	fetch_add(c.f, &req, on_chain, &c);
	free(u);
	assert_int_equal(fetch_run(c.f, NULL, NULL), 0);
	assert_int_equal(fetch_pending(c.f), 0);
	fetch_free(c.f);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c.res[i].done, 1);
		assert_int_equal(c.res[i].error, FETCH_OK);
	}
	assert_non_null(strstr(c.res[1].data, "<rss"));
	assert_string_equal(c.res[2].data, "hello, world\n");
	for (int i = 0; i < 3; i++)
		result_release(&c.res[i]);
}

static void count_idle(void *user)
{
	(*(int *)user)++;
}

static void test_idle_called(void **state)
{
	struct fetch_opts o = test_opts();
	struct fetcher *f = fetch_new(&o);
	char *u = url("/hold/400/hello.txt?group=idle");
	struct fetch_request req = {.url = u};
	struct result r = {0};
	int idles = 0;
	fetch_add(f, &req, on_done, &r);
	assert_int_equal(fetch_run(f, count_idle, &idles), 0);
	fetch_free(f);
	free(u);
	assert_int_equal(r.error, FETCH_OK);
	/* Polls of at most 100 ms while the server holds the answer for 400 ms. */
	assert_true(idles >= 3);
	result_release(&r);
}

/* ---- local files and schemes ---- */

static void test_file_only_when_allowed(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	char *file_url = xasprintf("file://%s/hello.txt", root);
	char *path = xasprintf("%s/feed.xml", root);

	struct fetch_request req = {.url = file_url, .allow_file = 1};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.data, "hello, world\n");
	result_release(&r);

	req.allow_file = 0;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_SCHEME);
	assert_int_equal(r.len, 0);
	result_release(&r);

	struct fetch_request plain = {.url = path, .allow_file = 1};
	fetch_one(&o, &plain, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_non_null(strstr(r.data, "<rss"));
	result_release(&r);

	plain.max_bytes = 10;
	fetch_one(&o, &plain, &r);
	assert_int_equal(r.error, FETCH_ERR_TOO_LARGE);
	result_release(&r);

	plain.allow_file = 0;
	plain.max_bytes = 0;
	fetch_one(&o, &plain, &r);
	assert_int_equal(r.error, FETCH_ERR_SCHEME);
	result_release(&r);

	char *missing = xasprintf("%s/missing.xml", root);
	struct fetch_request gone = {.url = missing, .allow_file = 1};
	fetch_one(&o, &gone, &r);
	assert_int_equal(r.error, FETCH_ERR_LOCAL);
	assert_non_null(r.error_msg);
	result_release(&r);

	struct fetch_request ftp = {.url = "ftp://127.0.0.1/x", .allow_file = 1};
	fetch_one(&o, &ftp, &r);
	assert_int_equal(r.error, FETCH_ERR_SCHEME);
	result_release(&r);

	free(missing);
	free(file_url);
	free(path);
}

struct reuse {
	struct fetcher *f;
	struct result first, second;
};

static void on_reuse_second(void *user, struct fetch_response *r)
{
	struct reuse *c = user;
	on_done(&c->second, r);
}

static void on_reuse_first(void *user, struct fetch_response *r)
{
	struct reuse *c = user;
	on_done(&c->first, r);
	char *u = url("/hello.txt?reuse=2");
	struct fetch_request req = {.url = u, .check_private = 1};
	fetch_add(c->f, &req, on_reuse_second, c);
	free(u);
}

static void test_block_private(void **state)
{
	struct fetch_opts o = test_opts();
	o.block_private = 1;
	o.max_retries = 1;
	struct result r;
	char *u = url("/hello.txt?private=1");
	struct fetch_request req = {.url = u, .check_private = 1};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_BLOCKED);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(r.error_msg, "127.0.0.1"));
	assert_int_equal(server_hits("/hello.txt?private=1"), 0);
	result_release(&r);

	req.check_private = 0; /* a feed from the config may live on a private host */
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	result_release(&r);
	free(u);

	u = xasprintf("http://localhost:%d/hello.txt", server_port);
	struct fetch_request local = {.url = u, .check_private = 1};
	fetch_one(&o, &local, &r);
	assert_int_equal(r.error, FETCH_ERR_BLOCKED);
	result_release(&r);
	free(u);

	/* A connection opened for an allowed request and kept alive must not carry a checked one.
	 */
	struct reuse c;
	memset(&c, 0, sizeof(c));
	c.f = fetch_new(&o);
	u = url("/hello.txt?reuse=1");
	struct fetch_request first = {.url = u};
	fetch_add(c.f, &first, on_reuse_first, &c);
	free(u);
	assert_int_equal(fetch_run(c.f, NULL, NULL), 0);
	fetch_free(c.f);
	assert_int_equal(c.first.error, FETCH_OK);
	assert_int_equal(c.second.error, FETCH_ERR_BLOCKED);
	assert_int_equal(server_hits("/hello.txt?reuse=2"), 0);
	result_release(&c.first);
	result_release(&c.second);

	/* Without block_private in the options, check_private changes nothing. */
	o.block_private = 0;
	u = url("/hello.txt");
	struct fetch_request off = {.url = u, .check_private = 1};
	fetch_one(&o, &off, &r);
	assert_int_equal(r.error, FETCH_OK);
	result_release(&r);
	free(u);
}

/* ---- secrets and headers ---- */

static void assert_no_secret(const char *msg)
{
	assert_non_null(msg);
	assert_null(strstr(msg, "alice"));
	assert_null(strstr(msg, "s3cretpw"));
	assert_null(strstr(msg, "hunter22"));
	assert_null(strstr(msg, "tok-98765"));
}

static void test_no_secrets_in_messages(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_retries = -1;
	struct result r;
	struct strlist headers = {0};
	strlist_add(&headers, "X-Token: tok-98765");

	char *u = xasprintf("http://alice:s3cretpw@127.0.0.1:%d/status/404", server_port);
	struct fetch_request req = {.url = u, .headers = &headers};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_HTTP);
	assert_no_secret(r.error_msg);
	assert_no_secret(r.effective_url);
	result_release(&r);
	free(u);

	u = xstrdup("http://alice:s3cretpw@127.0.0.1:1/x");
	req.url = u;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	assert_no_secret(r.error_msg);
	result_release(&r);
	free(u);

	u = xasprintf("http://alice:s3cretpw@127.0.0.1:%d/redirect-to?url="
	              "ftp://bob:hunter22@127.0.0.1/x",
	              server_port);
	req.url = u;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_SCHEME);
	assert_no_secret(r.error_msg);
	assert_non_null(strstr(r.error_msg, "ftp://127.0.0.1/x"));
	assert_no_secret(r.effective_url);
	result_release(&r);
	free(u);

	u = xasprintf("http://alice:s3cretpw@127.0.0.1:%d/stall/hello.txt", server_port);
	req.url = u;
	o.timeout_ms = 500;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_TIMEOUT);
	assert_no_secret(r.error_msg);
	result_release(&r);
	free(u);

	struct strlist proxies = {0};
	strlist_add(&proxies, "http://alice:hunter22@127.0.0.1:1");
	u = url("/hello.txt");
	struct fetch_request via = {.url = u, .proxies = &proxies};
	fetch_one(&o, &via, &r);
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	assert_no_secret(r.error_msg);
	result_release(&r);
	free(u);
	strlist_release(&proxies);
	strlist_release(&headers);

	char *red = fetch_url_redact("https://alice:s3cretpw@example.org/a?b=c");
	assert_string_equal(red, "https://example.org/a?b=c");
	free(red);
	red = fetch_url_redact("::not a url::");
	assert_no_secret(red);
	free(red);
}

static void test_verbose_log_has_no_secrets(void **state)
{
	struct fetch_opts o = test_opts();
	o.verbose = 1;
	o.max_retries = 1;
	int old_level = log_get_level();
	log_set_level(LOG_DEBUG);
	char *log_path = xasprintf("%s.log", root);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	FILE *log = fopen(log_path, "w+");
	assert_non_null(log);
	assert_true(dup2(fileno(log), STDERR_FILENO) >= 0);

	struct strlist headers = {0}, proxies = {0};
	strlist_add(&headers, "Authorization: Bearer tok-98765");
	strlist_add(&proxies, "http://alice:hunter22@127.0.0.1:1");
	strlist_add(&proxies, "direct");
	char *u[3] = {
	    xasprintf("http://alice:s3cretpw@127.0.0.1:%d/status/500?v=1", server_port),
	    xasprintf("http://alice:s3cretpw@127.0.0.1:%d/hello.txt?v=1", server_port),
	    xasprintf("http://alice:s3cretpw@127.0.0.1:%d/redirect-to?url=http://alice:"
	              "hunter22@127.0.0.1:1/",
	              server_port),
	};
	struct result r[3];
	memset(r, 0, sizeof(r));
	struct fetcher *f = fetch_new(&o);
	for (int i = 0; i < 3; i++) {
		struct fetch_request req = {.url = u[i], .headers = &headers, .proxies = &proxies};
		fetch_add(f, &req, on_done, &r[i]);
	}
	assert_int_equal(fetch_run(f, NULL, NULL), 0);
	fetch_free(f);

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(log);
	log_set_level(old_level);
	struct buf text = BUF_INIT;
	struct err e;
	assert_int_equal(util_read_file(log_path, 0, &text, &e), 0);
	unlink(log_path);
	assert_int_equal(r[0].error, FETCH_ERR_HTTP);
	assert_int_equal(r[1].error, FETCH_OK);
	assert_int_equal(r[2].error, FETCH_ERR_NETWORK);
	/* Each transfer, each retry and each proxy fallback was logged, without a secret. */
	assert_non_null(strstr(text.data, "fetch: http://127.0.0.1:"));
	assert_non_null(strstr(text.data, "retry in"));
	assert_non_null(strstr(text.data, "next proxy"));
	assert_no_secret(text.data);
	buf_release(&text);
	for (int i = 0; i < 3; i++) {
		assert_no_secret(r[i].error_msg ? r[i].error_msg : "");
		result_release(&r[i]);
		free(u[i]);
	}
	strlist_release(&headers);
	strlist_release(&proxies);
	free(log_path);
}

static void test_headers_and_referer_sent(void **state)
{
	struct fetch_opts o = test_opts();
	o.user_agent = "inkdigest-test/1";
	struct strlist headers = {0};
	strlist_add(&headers, "X-Test: yes");
	strlist_add(&headers, "Cookie: session=abc");
	char *u = url("/header-echo");
	struct fetch_request req = {.url = u,
	                            .headers = &headers,
	                            .referer = "https://example.org/article",
	                            .etag = "\"v1\"",
	                            .last_modified = "Wed, 21 Oct 2015 07:28:00 GMT"};
	struct result r;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	cJSON *j = cJSON_Parse(r.data);
	assert_non_null(j);
	static const char *expect[][2] = {
	    {"referer", "https://example.org/article"},
	    {"x-test", "yes"},
	    {"cookie", "session=abc"},
	    {"user-agent", "inkdigest-test/1"},
	    {"if-none-match", "\"v1\""},
	    {"if-modified-since", "Wed, 21 Oct 2015 07:28:00 GMT"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(j, expect[i][0]);
		assert_true(cJSON_IsString(v));
		assert_string_equal(v->valuestring, expect[i][1]);
	}
	cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "accept-encoding");
	assert_true(cJSON_IsString(enc));
	assert_non_null(strstr(enc->valuestring, "gzip"));
	cJSON_Delete(j);
	result_release(&r);

	/* A Referer from remote content with a line break must not smuggle in a header. */
	struct fetch_request evil = {.url = u, .referer = "https://a.example/\r\nX-Evil: 1"};
	fetch_one(&o, &evil, &r);
	assert_int_equal(r.error, FETCH_OK);
	j = cJSON_Parse(r.data);
	assert_non_null(j);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "x-evil"));
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "referer"));
	cJSON_Delete(j);
	result_release(&r);

	struct fetch_request bare = {.url = u};
	o.user_agent = NULL;
	fetch_one(&o, &bare, &r);
	j = cJSON_Parse(r.data);
	assert_non_null(j);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "referer"));
	cJSON *ua = cJSON_GetObjectItemCaseSensitive(j, "user-agent");
	assert_true(cJSON_IsString(ua));
	assert_true(util_starts_with_ci(ua->valuestring, "inkdigest/"));
	cJSON_Delete(j);
	result_release(&r);
	free(u);
	strlist_release(&headers);
}

static void test_referer_policies(void **state)
{
	struct fetch_opts o = test_opts();
	struct result r;
	char *u = url("/no-referer/hello.txt");
	struct fetch_request req = {.url = u, .referer = "https://mp.weixin.qq.com/"};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_HTTP);
	assert_int_equal(r.status, 403);
	assert_int_equal(r.attempts, 1);
	result_release(&r);
	req.referer = NULL;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	result_release(&r);
	free(u);

	u = url("/referer-required/hello.txt");
	struct fetch_request need = {.url = u};
	fetch_one(&o, &need, &r);
	assert_int_equal(r.status, 403);
	result_release(&r);
	need.referer = "https://example.org/";
	fetch_one(&o, &need, &r);
	assert_int_equal(r.error, FETCH_OK);
	result_release(&r);
	free(u);
}

static void test_proxy_fallback(void **state)
{
	struct fetch_opts o = test_opts();
	o.max_retries = -1;
	struct result r;
	/* The fixture server answers absolute-form requests, so it doubles as an HTTP proxy. */
	char *good = xasprintf("http://127.0.0.1:%d", server_port);
	struct strlist proxies = {0};
	strlist_add(&proxies, "http://127.0.0.1:1");
	strlist_add(&proxies, good);
	char *u = url("/hello.txt?via=proxy");
	struct fetch_request req = {.url = u, .proxies = &proxies};
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.attempts, 2);
	assert_string_equal(r.data, "hello, world\n");
	assert_int_equal(server_hits("/hello.txt?via=proxy"), 1);
	result_release(&r);
	strlist_release(&proxies);

	strlist_add(&proxies, "http://127.0.0.1:1");
	strlist_add(&proxies, "direct");
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.attempts, 2);
	result_release(&r);
	strlist_release(&proxies);

	/* The global proxy applies when the request names none. */
	o.proxy = "http://127.0.0.1:1";
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	result_release(&r);
	free(u);
	free(good);
}

static void test_tls_verified(void **state)
{
	pid_t pid = 0;
	int port = 0;
	char *pf = xasprintf("%s.tls-port", root);
	assert_int_equal(start_server(pf, "tls", &pid, &port), 0);
	char *u = xasprintf("https://127.0.0.1:%d/hello.txt", port);
	struct fetch_request req = {.url = u};
	struct result r;

	struct fetch_opts o = test_opts();
	fetch_one(&o, &req, &r); /* self-signed: refused, and not worth a retry */
	assert_int_equal(r.error, FETCH_ERR_NETWORK);
	assert_int_equal(r.attempts, 1);
	result_release(&r);

	o.ca_file = FIXTURES "/fetch/tls-cert.pem";
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.data, "hello, world\n");
	result_release(&r);

	/* https cannot be redirected to file: either. */
	free(u);
	u = xasprintf("https://127.0.0.1:%d/redirect-file", port);
	req.url = u;
	fetch_one(&o, &req, &r);
	assert_int_equal(r.error, FETCH_ERR_SCHEME);
	result_release(&r);

	stop_server(pid);
	unlink(pf);
	free(pf);
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_200),
	    cmocka_unit_test(test_gzip_bomb),
	    cmocka_unit_test(test_404_not_retried),
	    cmocka_unit_test(test_500_retried_then_error),
	    cmocka_unit_test(test_429_retry_after),
	    cmocka_unit_test(test_backoff_does_not_block),
	    cmocka_unit_test(test_retry_after_http_date),
	    cmocka_unit_test(test_retry_after_beyond_budget),
	    cmocka_unit_test(test_flaky_then_ok),
	    cmocka_unit_test(test_conditional_get),
	    cmocka_unit_test(test_max_bytes),
	    cmocka_unit_test(test_redirects),
	    cmocka_unit_test(test_redirect_to_file_refused),
	    cmocka_unit_test(test_stall_timeout),
	    cmocka_unit_test(test_slow_drip_aborted),
	    cmocka_unit_test(test_truncated_and_closed),
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_per_host_cap),
	    cmocka_unit_test(test_max_total),
	    cmocka_unit_test(test_many_concurrent),
	    cmocka_unit_test(test_priority_order),
	    cmocka_unit_test(test_callback_adds_requests),
	    cmocka_unit_test(test_idle_called),
	    cmocka_unit_test(test_file_only_when_allowed),
	    cmocka_unit_test(test_block_private),
	    cmocka_unit_test(test_no_secrets_in_messages),
	    cmocka_unit_test(test_verbose_log_has_no_secrets),
	    cmocka_unit_test(test_headers_and_referer_sent),
	    cmocka_unit_test(test_referer_policies),
	    cmocka_unit_test(test_proxy_fallback),
	    cmocka_unit_test(test_tls_verified),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
