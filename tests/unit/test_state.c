/* Unit tests of `state`: a real SQLite file in a temporary folder; the lock and the crash
 * cases use forked children (a child holding the lock, a child killed inside a commit). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "state.h"

static char tmpdir[64];
static int counter;

static int setup(void **st)
{
	(void)st;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/inkdigest-test-state-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* A fresh database path per test, in a subfolder that does not exist yet. */
static char *fresh_path(void)
{
	return xasprintf("%s/t%d/sub/state.db", tmpdir, ++counter);
}

static struct state *open_ok(const char *path)
{
	struct state *s = NULL;
	struct err e = {0};
	int rc = state_open(path, 0, &s, &e);
	if (rc != 0)
		print_message("state_open: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

static const struct delivery_item items_ab[] = {
    {"A", "a1", "First of A", 1764000000},
    {"A", "a2", "Second of A", -1},
    {"B", "b1", "Only of B", 1764000100},
};

static void test_commit_then_delivered(void **st)
{
	(void)st;
	char *path = fresh_path();
	struct state *s = open_ok(path);
	struct err e = {0};
	assert_int_equal(state_is_delivered(s, "A", "a1", &e), 0);
	assert_int_equal(state_commit(s, "/books/d1.epub", 1764100000, items_ab, 3, NULL, 0, &e),
	                 0);
	assert_int_equal(state_is_delivered(s, "A", "a1", &e), 1);
	assert_int_equal(state_is_delivered(s, "A", "a2", &e), 1);
	assert_int_equal(state_is_delivered(s, "B", "b1", &e), 1);
	/* the key is the pair */
	assert_int_equal(state_is_delivered(s, "B", "a1", &e), 0);
	assert_int_equal(state_is_delivered(s, "A", "zz", &e), 0);
	assert_int_equal(state_count_delivered(s, NULL, &e), 3);
	assert_int_equal(state_count_delivered(s, "A", &e), 2);
	/* committing the same item again is not an error and adds no row */
	assert_int_equal(state_commit(s, NULL, 1764200000, items_ab, 1, NULL, 0, &e), 0);
	assert_int_equal(state_count_delivered(s, NULL, &e), 3);
	state_close(s);

	/* persisted across close and open; the folder was created */
	s = open_ok(path);
	assert_int_equal(state_is_delivered(s, "B", "b1", &e), 1);
	state_close(s);

	/* the schema: what a reader of the file finds */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(
	    sqlite3_prepare_v2(db,
	                       "SELECT d.title, d.published, d.first_seen, d.delivered_at, b.path "
	                       "FROM delivered d LEFT JOIN books b ON b.id = d.book_id "
	                       "WHERE d.feed_key = 'A' ORDER BY d.article_id",
	                       -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "First of A");
	assert_int_equal(sqlite3_column_int64(q, 1), 1764000000);
	assert_int_equal(sqlite3_column_int64(q, 2), 1764100000); /* first_seen kept */
	assert_int_equal(sqlite3_column_int64(q, 3), 1764200000); /* delivered again */
	assert_int_equal(sqlite3_column_type(q, 4), SQLITE_NULL); /* second commit: no book */
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(q, 1), SQLITE_NULL); /* published -1 */
	assert_string_equal((const char *)sqlite3_column_text(q, 4), "/books/d1.epub");
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 2);
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(path);
}

static void test_http_cache(void **st)
{
	(void)st;
	char *path = fresh_path();
	struct state *s = open_ok(path);
	struct err e = {0};
	struct http_cache c;
	assert_int_equal(state_http_get(s, "https://x/feed", &c, &e), 0);
	assert_null(c.etag);
	assert_null(c.last_modified);

	struct http_update up[] = {
	    {"https://x/feed", "\"abc\"", "Wed, 25 Nov 2026 06:00:00 GMT"},
	    {"https://y/feed", NULL, "Tue, 24 Nov 2026 06:00:00 GMT"},
	};
	assert_int_equal(state_commit(s, NULL, 1000, NULL, 0, up, 2, &e), 0);
	assert_int_equal(state_http_get(s, "https://x/feed", &c, &e), 0);
	assert_string_equal(c.etag, "\"abc\"");
	assert_string_equal(c.last_modified, "Wed, 25 Nov 2026 06:00:00 GMT");
	http_cache_release(&c);
	assert_null(c.etag);
	assert_int_equal(state_http_get(s, "https://y/feed", &c, &e), 0);
	assert_null(c.etag);
	assert_string_equal(c.last_modified, "Tue, 24 Nov 2026 06:00:00 GMT");
	http_cache_release(&c);

	/* an update replaces; no validators at all removes */
	struct http_update up2[] = {
	    {"https://x/feed", "\"def\"", NULL},
	    {"https://y/feed", NULL, NULL},
	};
	assert_int_equal(state_commit(s, NULL, 2000, NULL, 0, up2, 2, &e), 0);
	assert_int_equal(state_http_get(s, "https://x/feed", &c, &e), 0);
	assert_string_equal(c.etag, "\"def\"");
	assert_null(c.last_modified);
	http_cache_release(&c);
	assert_int_equal(state_http_get(s, "https://y/feed", &c, &e), 0);
	assert_null(c.etag);
	assert_null(c.last_modified);

	assert_int_equal(state_http_forget(s, "https://x/feed", &e), 0);
	assert_int_equal(state_http_get(s, "https://x/feed", &c, &e), 0);
	assert_null(c.etag);
	state_close(s);
	free(path);
}

static double now_s(void)
{
	return util_monotonic();
}

static void test_lock_contention(void **st)
{
	(void)st;
	char *path = fresh_path();
	/* create it first, so the child only has to open */
	state_close(open_ok(path));
	int ready[2], release[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *s = NULL;
		struct err e;
		char c = state_open(path, 0, &s, &e) == 0 ? 'L' : 'F';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(release[0], &c, 1) != 1)
			_exit(3);
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL);
		state_close(s);
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'L');

	struct state *s = NULL;
	struct err e = {0};
	double t0 = now_s();
	assert_int_equal(state_open(path, 0, &s, &e), -1);
	assert_null(s);
	assert_int_equal(e.code, STATE_ERR_LOCKED);
	char *want = xasprintf("another inkdigest run holds the lock on %s", path);
	assert_non_null(strstr(e.msg, want));
	free(want);
	assert_true(now_s() - t0 < 0.5);

	t0 = now_s();
	assert_int_equal(state_open(path, 1, &s, &e), -1);
	double waited = now_s() - t0;
	assert_true(waited >= 0.9 && waited < 3.0);
	assert_non_null(strstr(e.msg, "(waited 1 s)"));

	/* the child lets go 0.3 s after this: a waiting open gets the lock */
	assert_int_equal(write(release[1], "R", 1), 1);
	t0 = now_s();
	assert_int_equal(state_open(path, 5, &s, &e), 0);
	waited = now_s() - t0;
	assert_true(waited >= 0.1 && waited < 4.0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* a reader does not need the lock */
	struct state *r = NULL;
	assert_int_equal(state_open_readonly(path, &r, &e), 0);
	assert_int_equal(state_is_delivered(r, "A", "a1", &e), 0);
	state_close(r);
	state_close(s);
	close(ready[0]);
	close(ready[1]);
	close(release[0]);
	close(release[1]);
	free(path);
}

static void test_forget(void **st)
{
	(void)st;
	char *path = fresh_path();
	struct state *s = open_ok(path);
	struct err e = {0};
	struct http_update up[] = {{"A", "\"e\"", NULL}, {"https://b/feed", "\"f\"", NULL}};
	assert_int_equal(state_commit(s, "/b.epub", 1000, items_ab, 3, up, 2, &e), 0);
	assert_int_equal(state_forget(s, "A", &e), 2);
	assert_int_equal(state_is_delivered(s, "A", "a1", &e), 0);
	assert_int_equal(state_is_delivered(s, "A", "a2", &e), 0);
	assert_int_equal(state_is_delivered(s, "B", "b1", &e), 1);
	struct http_cache c;
	/* a feed key that is a URL takes its validators along */
	assert_int_equal(state_http_get(s, "A", &c, &e), 0);
	assert_null(c.etag);
	assert_int_equal(state_http_get(s, "https://b/feed", &c, &e), 0);
	assert_string_equal(c.etag, "\"f\"");
	http_cache_release(&c);
	assert_int_equal(state_forget(s, "nobody", &e), 0);
	assert_int_equal(state_forget(s, NULL, &e), 1);
	assert_int_equal(state_count_delivered(s, NULL, &e), 0);
	assert_int_equal(state_http_get(s, "https://b/feed", &c, &e), 0);
	assert_null(c.etag);
	state_close(s);
	free(path);
}

static char *log_text(struct state *s, int n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	struct err e = {0};
	assert_int_equal(state_print_log(s, n, f, &e), 0);
	fclose(f);
	return text;
}

static void test_prune_and_log(void **st)
{
	(void)st;
	setenv("TZ", "UTC", 1);
	tzset();
	char *path = fresh_path();
	struct state *s = open_ok(path);
	struct err e = {0};
	const int64_t day = 86400;
	const int64_t now = 1764136800; /* 2025-11-26 06:00:00 UTC */
	char *text = log_text(s, 10);
	assert_non_null(strstr(text, "no runs recorded"));
	free(text);

	struct delivery_item old_item = {"A", "old", "Old", -1};
	struct delivery_item new_item = {"A", "new", "New", -1};
	struct http_update old_http = {"https://old/feed", "\"o\"", NULL};
	assert_int_equal(
	    state_commit(s, "/old.epub", now - 100 * day, &old_item, 1, &old_http, 1, &e), 0);
	assert_int_equal(state_commit(s, "/new.epub", now - 1 * day, &new_item, 1, NULL, 0, &e), 0);
	assert_int_equal(
	    state_log_run(s, now - 100 * day, now - 100 * day + 65, 0, "old run", "{}", &e), 0);
	assert_int_equal(
	    state_log_run(s, now - day, now - day + 7, 75, "mail: 421 try later", NULL, &e), 0);
	assert_int_equal(
	    state_log_run(s, now, now + 3725, 0, "3 feeds, 12 new articles", "{\"version\":1}", &e),
	    0);

	text = log_text(s, 10);
	print_message("%s", text);
	const char *l1 = strstr(text, "2025-08-18 06:00:00 +0000   1m05s  exit 0    old run\n");
	const char *l2 = strstr(text, "2025-11-25 06:00:00 +0000      7s  exit 75   mail: 421 "
	                              "try later\n");
	const char *l3 = strstr(text, "2025-11-26 06:00:00 +0000   1h02m  exit 0    3 feeds, 12 "
	                              "new articles\n");
	assert_non_null(l1);
	assert_non_null(l2);
	assert_non_null(l3);
	assert_true(l1 < l2 && l2 < l3);
	free(text);
	text = log_text(s, 1);
	assert_null(strstr(text, "old run"));
	assert_non_null(strstr(text, "12 new articles"));
	free(text);

	assert_int_equal(state_prune(s, 0, now, &e), 0); /* 0: keep everything */
	assert_int_equal(state_is_delivered(s, "A", "old", &e), 1);
	assert_int_equal(state_prune(s, 90, now, &e), 0);
	assert_int_equal(state_is_delivered(s, "A", "old", &e), 0);
	assert_int_equal(state_is_delivered(s, "A", "new", &e), 1);
	struct http_cache c;
	assert_int_equal(state_http_get(s, "https://old/feed", &c, &e), 0);
	assert_null(c.etag);
	text = log_text(s, 10);
	assert_null(strstr(text, "old run"));
	assert_non_null(strstr(text, "try later"));
	free(text);
	state_close(s);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT group_concat(path) FROM books", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "/new.epub");
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(path);
}

static void write_bytes(const char *path, long offset, const void *data, size_t n)
{
	FILE *f = fopen(path, offset < 0 ? "wb" : "r+b");
	assert_non_null(f);
	if (offset > 0)
		assert_int_equal(fseek(f, offset, SEEK_SET), 0);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_corrupt_file(void **st)
{
	(void)st;
	/* not a database at all */
	char *path = fresh_path();
	struct state *s = open_ok(path);
	state_close(s);
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_bytes(path, -1, junk, sizeof(junk));
	char *wal = xasprintf("%s-wal", path);
	unlink(wal);
	free(wal);
	struct err e = {0};
	assert_int_equal(state_open(path, 0, &s, &e), -1);
	print_message("%s\n", e.msg);
	assert_int_equal(e.code, STATE_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "move it away"));
	free(path);

	/* a real database with a damaged page */
	path = fresh_path();
	s = open_ok(path);
	struct delivery_item items[200];
	char ids[200][16];
	for (int i = 0; i < 200; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id-%d", i);
		items[i] = (struct delivery_item){"feed", ids[i],
		                                  "a title long enough to fill "
		                                  "pages of the database file",
		                                  i};
	}
	assert_int_equal(state_commit(s, "/x.epub", 1000, items, 200, NULL, 0, &e), 0);
	state_close(s); /* the last close checkpoints the WAL into the file */
	char garbage[512];
	memset(garbage, 0xA5, sizeof(garbage));
	write_bytes(path, 4096 * 3, garbage, sizeof(garbage));
	assert_int_equal(state_open(path, 0, &s, &e), -1);
	print_message("%s\n", e.msg);
	assert_int_equal(e.code, STATE_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, path));
	assert_null(strchr(e.msg, '\n'));
	free(path);

	/* a newer schema than this build knows */
	path = fresh_path();
	state_close(open_ok(path));
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_open(path, 0, &s, &e), -1);
	assert_non_null(strstr(e.msg, "schema version 99 is newer"));
	free(path);
}

/* A run killed inside state_commit (everything inserted, COMMIT not reached) leaves nothing:
 * no delivery, no validator, no book; the lock goes with the process. */
static void test_crash_leaves_nothing(void **st)
{
	(void)st;
	char *path = fresh_path();
	struct state *s = open_ok(path);
	struct err e = {0};
	struct delivery_item before = {"A", "before", "Committed earlier", -1};
	assert_int_equal(state_commit(s, "/0.epub", 500, &before, 1, NULL, 0, &e), 0);
	state_close(s);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *cs = NULL;
		struct err ce;
		if (state_open(path, 0, &cs, &ce) != 0)
			_exit(2);
		setenv("INKDIGEST_TEST_CRASH", "state_commit", 1);
		struct http_update up = {"https://x/feed", "\"e\"", NULL};
		state_commit(cs, "/1.epub", 1000, items_ab, 3, &up, 1, &ce);
		_exit(0); /* not reached: the commit kills the process */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	s = open_ok(path);
	assert_int_equal(state_is_delivered(s, "A", "before", &e), 1);
	assert_int_equal(state_is_delivered(s, "A", "a1", &e), 0);
	assert_int_equal(state_is_delivered(s, "B", "b1", &e), 0);
	assert_int_equal(state_count_delivered(s, NULL, &e), 1);
	struct http_cache c;
	assert_int_equal(state_http_get(s, "https://x/feed", &c, &e), 0);
	assert_null(c.etag);
	/* and the same commit, uninterrupted, then works */
	assert_int_equal(state_commit(s, "/1.epub", 1000, items_ab, 3, NULL, 0, &e), 0);
	assert_int_equal(state_count_delivered(s, NULL, &e), 4);
	state_close(s);
	free(path);
}

static int delivered(struct state *s, const char *feed, const char *id)
{
	struct err e = {0};
	int d = state_is_delivered(s, feed, id, &e);
	assert_true(d >= 0);
	return d;
}

static struct pending_book pending_for(const char *tmp, const char *final, int needs_mail)
{
	FILE *f = fopen(tmp, "wb");
	assert_non_null(f);
	fputs("a finished book", f);
	fclose(f);
	struct stat sb;
	assert_int_equal(stat(tmp, &sb), 0);
	return (struct pending_book){final, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino,
				     (int64_t)sb.st_size, needs_mail};
}

/* Two-phase delivery: pending rows are not delivered; confirm makes them so; recover keeps a
 * book that reached its place and drops one that did not (or still owed a mail). */
static void test_pending_confirm_recover(void **st)
{
	(void)st;
	char *path = fresh_path();
	struct state *s = open_ok(path);
	struct err e = {0};
	char *dir = util_dirname(path);
	char *tmp1 = xasprintf("%s/one.epub.part", dir), *fin1 = xasprintf("%s/one.epub", dir);
	char *tmp2 = xasprintf("%s/two.epub.part", dir), *fin2 = xasprintf("%s/two.epub", dir);
	char *tmp3 = xasprintf("%s/three.epub.part", dir), *fin3 = xasprintf("%s/three.epub", dir);
	const struct delivery_item one[] = {{"A", "a1", "t", 1}};
	const struct delivery_item two[] = {{"A", "a2", "t", 2}};
	const struct delivery_item three[] = {{"B", "b1", "t", 3}};
	const struct http_update http[] = {{"A", "\"etag-a\"", NULL}};
	int64_t id1, id2, id3;

	/* 1: prepared, renamed, confirmed. */
	struct pending_book pb1 = pending_for(tmp1, fin1, 0);
	assert_int_equal(state_prepare(s, &pb1, 100, one, 1, http, 1, &id1, &e), 0);
	assert_int_equal(delivered(s, "A", "a1"), 0);
	struct http_cache hc = {0};
	assert_int_equal(state_http_get(s, "A", &hc, &e), 0);
	assert_null(hc.etag); /* validators wait for the confirmation too */
	assert_int_equal(rename(tmp1, fin1), 0);
	assert_int_equal(state_confirm(s, id1, 100, &e), 0);
	assert_int_equal(delivered(s, "A", "a1"), 1);
	assert_int_equal(state_http_get(s, "A", &hc, &e), 0);
	assert_string_equal(hc.etag, "\"etag-a\"");
	http_cache_release(&hc);

	/* 2: renamed into place, then the run died before confirming. */
	struct pending_book pb2 = pending_for(tmp2, fin2, 0);
	assert_int_equal(state_prepare(s, &pb2, 200, two, 1, NULL, 0, &id2, &e), 0);
	assert_int_equal(rename(tmp2, fin2), 0);
	/* 3: died before the rename; an older file of the same name is not this book. */
	struct pending_book pb3 = pending_for(tmp3, fin3, 0);
	assert_int_equal(state_prepare(s, &pb3, 300, three, 1, NULL, 0, &id3, &e), 0);
	FILE *f = fopen(fin3, "wb");
	fputs("an older book", f);
	fclose(f);
	state_close(s);

	s = open_ok(path);
	int confirmed = -1, discarded = -1;
	assert_int_equal(state_recover(s, 400, &confirmed, &discarded, &e), 0);
	assert_int_equal(confirmed, 1);
	assert_int_equal(discarded, 1);
	assert_int_equal(delivered(s, "A", "a2"), 1);
	assert_int_equal(delivered(s, "B", "b1"), 0);
	/* Settled once: a second recovery finds nothing. */
	assert_int_equal(state_recover(s, 500, &confirmed, &discarded, &e), 0);
	assert_int_equal(confirmed + discarded, 0);

	/* A book still owed a mail is never taken as delivered. */
	char *tmp4 = xasprintf("%s/four.epub.part", dir), *fin4 = xasprintf("%s/four.epub", dir);
	const struct delivery_item four[] = {{"C", "c1", "t", 4}};
	struct pending_book pb4 = pending_for(tmp4, fin4, 1);
	int64_t id4;
	assert_int_equal(state_prepare(s, &pb4, 600, four, 1, NULL, 0, &id4, &e), 0);
	assert_int_equal(rename(tmp4, fin4), 0);
	assert_int_equal(state_recover(s, 700, &confirmed, &discarded, &e), 0);
	assert_int_equal(discarded, 1);
	assert_int_equal(delivered(s, "C", "c1"), 0);

	state_close(s);
	free(tmp1), free(fin1), free(tmp2), free(fin2), free(tmp3), free(fin3), free(tmp4),
		free(fin4), free(dir), free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commit_then_delivered), cmocka_unit_test(test_http_cache),
	    cmocka_unit_test(test_lock_contention),       cmocka_unit_test(test_forget),
	    cmocka_unit_test(test_prune_and_log),         cmocka_unit_test(test_corrupt_file),
	    cmocka_unit_test(test_crash_leaves_nothing),
	    cmocka_unit_test(test_pending_confirm_recover),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
