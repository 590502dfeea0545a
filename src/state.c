/* Stage `state`: the SQLite database (WAL) of delivered articles, HTTP validators and run
 * history, and the run lock (flock on "<db>.lock"). Ids, validators and counts in; answers and
 * a human-readable log out. Never fetches, parses or decides what is new. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state.h"

#define SCHEMA_VERSION 2
#define BUSY_TIMEOUT_MS 10000

struct state {
	char *path;
	char *lock_path;
	int lock_fd;
	sqlite3 *db;
};

static const char schema_v1[] = "CREATE TABLE books ("
                                "  id INTEGER PRIMARY KEY,"
                                "  path TEXT NOT NULL,"
                                "  written_at INTEGER NOT NULL);"
                                "CREATE TABLE delivered ("
                                "  feed_key TEXT NOT NULL,"
                                "  article_id TEXT NOT NULL,"
                                "  title TEXT,"
                                "  published INTEGER,"
                                "  first_seen INTEGER NOT NULL,"
                                "  delivered_at INTEGER NOT NULL,"
                                "  book_id INTEGER REFERENCES books(id) ON DELETE SET NULL,"
                                "  PRIMARY KEY (feed_key, article_id)) WITHOUT ROWID;"
                                "CREATE INDEX delivered_by_time ON delivered(delivered_at);"
                                "CREATE INDEX delivered_by_book ON delivered(book_id);"
                                "CREATE TABLE http_cache ("
                                "  url TEXT PRIMARY KEY,"
                                "  etag TEXT,"
                                "  last_modified TEXT,"
                                "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
                                "CREATE TABLE runs ("
                                "  id INTEGER PRIMARY KEY,"
                                "  start_at INTEGER NOT NULL,"
                                "  end_at INTEGER NOT NULL,"
                                "  exit_code INTEGER NOT NULL,"
                                "  summary TEXT,"
                                "  report_json TEXT);"
                                "CREATE INDEX runs_by_start ON runs(start_at);";

/* Version 2: a book between "written to a temporary file" and "in place (and mailed)". Its
 * deliveries wait here; state_confirm moves them into delivered, state_recover settles books
 * left behind by a killed run. */
static const char schema_v2[] = "CREATE TABLE pending_books ("
                                "  id INTEGER PRIMARY KEY,"
                                "  path TEXT NOT NULL,"
                                "  dev INTEGER NOT NULL,"
                                "  ino INTEGER NOT NULL,"
                                "  size INTEGER NOT NULL,"
                                "  needs_mail INTEGER NOT NULL,"
                                "  created_at INTEGER NOT NULL);"
                                "CREATE TABLE pending_items ("
                                "  pending_id INTEGER NOT NULL REFERENCES pending_books(id)"
                                "    ON DELETE CASCADE,"
                                "  feed_key TEXT NOT NULL,"
                                "  article_id TEXT NOT NULL,"
                                "  title TEXT,"
                                "  published INTEGER);"
                                "CREATE INDEX pending_items_by_book ON pending_items(pending_id);"
                                "CREATE TABLE pending_http ("
                                "  pending_id INTEGER NOT NULL REFERENCES pending_books(id)"
                                "    ON DELETE CASCADE,"
                                "  url TEXT NOT NULL,"
                                "  etag TEXT,"
                                "  last_modified TEXT);";

static int db_fail(struct state *s, struct err *e, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	int primary = rc & 0xff;
	if (primary == SQLITE_NOTADB)
		err_set(e, STATE_ERR_CORRUPT,
		        "state %s: not an SQLite database, or a damaged one; "
		        "move it away to start afresh",
		        s->path);
	else if (primary == SQLITE_CORRUPT)
		err_set(e, STATE_ERR_CORRUPT,
		        "state %s: %s: %s (the file is damaged; move it away "
		        "to start afresh)",
		        s->path, what, sqlite3_errmsg(s->db));
	else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		err_set(e, STATE_ERR_LOCKED, "state %s: %s: database is busy", s->path, what);
	else
		err_set(e, STATE_ERR_DB, "state %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return -1;
}

static int exec(struct state *s, const char *sql, const char *what, struct err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, e, what);
	return 0;
}

static int prepare(struct state *s, const char *sql, sqlite3_stmt **st, struct err *e)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(s, e, "prepare");
	return 0;
}

/* A missing parent folder (the XDG state folder on a first run) is created, like mkdir -p. */
static int make_parent_dirs(const char *path, struct err *e)
{
	char *dir = util_dirname(path);
	int rc = 0;
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			err_set(e, STATE_ERR_IO, "state %s: cannot create %s: %s", path, dir,
			        strerror(errno));
			rc = -1;
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(dir);
	return rc;
}

static int take_lock(struct state *s, int wait_s, struct err *e)
{
	s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		err_set(e, STATE_ERR_IO, "state %s: cannot open lock file %s: %s", s->path,
		        s->lock_path, strerror(errno));
		return -1;
	}
	double deadline = util_monotonic() + (wait_s > 0 ? wait_s : 0);
	for (;;) {
		if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err_set(e, STATE_ERR_IO, "state %s: lock %s: %s", s->path, s->lock_path,
			        strerror(errno));
			return -1;
		}
		if (util_monotonic() >= deadline)
			break;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (wait_s > 0)
		err_set(e, STATE_ERR_LOCKED,
		        "another inkdigest run holds the lock on %s "
		        "(waited %d s)",
		        s->path, wait_s);
	else
		err_set(e, STATE_ERR_LOCKED, "another inkdigest run holds the lock on %s", s->path);
	return -1;
}

static int migrate(struct state *s, struct err *e)
{
	sqlite3_stmt *st;
	if (prepare(s, "PRAGMA user_version", &st, e) < 0)
		return -1;
	int version = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version == SCHEMA_VERSION)
		return 0;
	if (version > SCHEMA_VERSION) {
		err_set(e, STATE_ERR_DB,
		        "state %s: schema version %d is newer than this inkdigest "
		        "knows (%d)",
		        s->path, version, SCHEMA_VERSION);
		return -1;
	}
	/* Version 0 is a new file; each later version adds its step, all in the same
	 * transaction as the user_version bump. */
	if (exec(s, "BEGIN IMMEDIATE", "create schema", e) < 0)
		return -1;
	char *sql = xasprintf("%s%sPRAGMA user_version = %d;", version < 1 ? schema_v1 : "",
	                      version < 2 ? schema_v2 : "", SCHEMA_VERSION);
	int rc = exec(s, sql, "create schema", e);
	free(sql);
	if (rc < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(s, "COMMIT", "create schema", e);
}

static int check_health(struct state *s, struct err *e)
{
	/* The first read of the header tells a damaged or foreign file apart. */
	sqlite3_stmt *st;
	if (prepare(s, "PRAGMA quick_check", &st, e) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(s, e, "check");
		sqlite3_finalize(st);
		return -1;
	}
	const char *verdict = (const char *)sqlite3_column_text(st, 0);
	if (!verdict || strcmp(verdict, "ok") != 0) {
		/* quick_check's report spans lines; messages are one line */
		char *one = xstrdup(verdict ? verdict : "?");
		for (char *p = one; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		err_set(e, STATE_ERR_CORRUPT,
		        "state %s: damaged (%s); move it away to start "
		        "afresh",
		        s->path, one);
		free(one);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int open_db(struct state *s, int flags, struct err *e)
{
	int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (!s->db)
			die_oom();
		if ((flags & SQLITE_OPEN_READONLY) && access(s->path, F_OK) != 0)
			err_set(e, STATE_ERR_IO, "state %s: %s", s->path, strerror(errno));
		else
			db_fail(s, e, "open");
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	return check_health(s, e);
}

int state_open(const char *path, int wait_s, struct state **out, struct err *e)
{
	*out = NULL;
	struct state *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->lock_path = xasprintf("%s.lock", path);
	s->lock_fd = -1;
	if (make_parent_dirs(path, e) < 0 || take_lock(s, wait_s, e) < 0 ||
	    open_db(s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, e) < 0)
		goto fail;
	sqlite3_stmt *st;
	if (prepare(s, "PRAGMA journal_mode = WAL", &st, e) < 0)
		goto fail;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		if (rc != SQLITE_ROW)
			db_fail(s, e, "journal_mode");
		else
			err_set(e, STATE_ERR_DB, "state %s: cannot switch to WAL mode", path);
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", "pragmas", e) < 0 ||
	    migrate(s, e) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	state_close(s);
	return -1;
}

int state_open_readonly(const char *path, struct state **out, struct err *e)
{
	*out = NULL;
	struct state *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->lock_fd = -1;
	if (open_db(s, SQLITE_OPEN_READONLY, e) < 0)
		goto fail;
	sqlite3_stmt *st;
	if (prepare(s, "PRAGMA user_version", &st, e) < 0)
		goto fail;
	int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version != SCHEMA_VERSION) {
		err_set(e, STATE_ERR_DB, "state %s: schema version %d, expected %d", path, version,
		        SCHEMA_VERSION);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	state_close(s);
	return -1;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock; the file stays, so no race on unlink */
	free(s->path);
	free(s->lock_path);
	free(s);
}

int state_is_delivered(struct state *s, const char *feed_key, const char *article_id, struct err *e)
{
	sqlite3_stmt *st;
	if (prepare(s, "SELECT 1 FROM delivered WHERE feed_key = ?1 AND article_id = ?2", &st, e) <
	    0)
		return -1;
	sqlite3_bind_text(st, 1, feed_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, article_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	if (result < 0)
		db_fail(s, e, "is_delivered");
	sqlite3_finalize(st);
	return result;
}

int state_http_get(struct state *s, const char *url, struct http_cache *c, struct err *e)
{
	c->etag = NULL;
	c->last_modified = NULL;
	sqlite3_stmt *st;
	if (prepare(s, "SELECT etag, last_modified FROM http_cache WHERE url = ?1", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->etag = xstrdup((const char *)sqlite3_column_text(st, 0));
		c->last_modified = xstrdup((const char *)sqlite3_column_text(st, 1));
	} else if (rc != SQLITE_DONE) {
		db_fail(s, e, "http_get");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

void http_cache_release(struct http_cache *c)
{
	if (!c)
		return;
	free(c->etag);
	free(c->last_modified);
	c->etag = NULL;
	c->last_modified = NULL;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int step_done(struct state *s, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, e, what);
	return 0;
}

/* For the crash tests: INKDIGEST_TEST_CRASH=state_commit kills the process with everything
 * inserted but before COMMIT, as kill -9 at the worst moment would. */
static void test_crash_point(const char *where)
{
	const char *v = getenv("INKDIGEST_TEST_CRASH");
	if (v && strcmp(v, where) == 0)
		raise(SIGKILL);
}

int state_commit(struct state *s, const char *book, int64_t when, const struct delivery_item *items,
                 size_t n_items, const struct http_update *http, size_t n_http, struct err *e)
{
	sqlite3_stmt *ins_book = NULL, *ins_item = NULL, *put_http = NULL, *del_http = NULL;
	int result = -1;
	int in_txn = 0;
	/* WAL with synchronous=FULL syncs the log at COMMIT: once this returns, the deliveries
	 * survive a power cut. */
	if (exec(s, "PRAGMA synchronous = FULL", "commit", e) < 0)
		return -1;
	if (exec(s, "BEGIN IMMEDIATE", "commit", e) < 0)
		goto out;
	in_txn = 1;
	if (prepare(s, "INSERT INTO books(path, written_at) VALUES (?1, ?2)", &ins_book, e) < 0 ||
	    prepare(s,
	            "INSERT INTO delivered(feed_key, article_id, title, published, first_seen, "
	            "delivered_at, book_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) "
	            "ON CONFLICT(feed_key, article_id) DO UPDATE SET title = excluded.title, "
	            "published = excluded.published, delivered_at = excluded.delivered_at, "
	            "book_id = excluded.book_id",
	            &ins_item, e) < 0 ||
	    prepare(s,
	            "INSERT INTO http_cache(url, etag, last_modified, updated_at) "
	            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
	            "last_modified = excluded.last_modified, updated_at = excluded.updated_at",
	            &put_http, e) < 0 ||
	    prepare(s, "DELETE FROM http_cache WHERE url = ?1", &del_http, e) < 0)
		goto out;

	sqlite3_int64 book_id = 0;
	if (book) {
		sqlite3_bind_text(ins_book, 1, book, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_book, 2, when);
		if (step_done(s, ins_book, "commit book", e) < 0)
			goto out;
		book_id = sqlite3_last_insert_rowid(s->db);
	}
	for (size_t i = 0; i < n_items; i++) {
		const struct delivery_item *it = &items[i];
		sqlite3_bind_text(ins_item, 1, it->feed_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_item, 2, it->article_id, -1, SQLITE_STATIC);
		bind_text_or_null(ins_item, 3, it->title);
		if (it->published >= 0)
			sqlite3_bind_int64(ins_item, 4, it->published);
		else
			sqlite3_bind_null(ins_item, 4);
		sqlite3_bind_int64(ins_item, 5, when);
		if (book)
			sqlite3_bind_int64(ins_item, 6, book_id);
		else
			sqlite3_bind_null(ins_item, 6);
		if (step_done(s, ins_item, "commit delivery", e) < 0)
			goto out;
	}
	for (size_t i = 0; i < n_http; i++) {
		const struct http_update *h = &http[i];
		/* A server that stopped sending validators gets no stale ones back. */
		if (!h->etag && !h->last_modified) {
			sqlite3_bind_text(del_http, 1, h->url, -1, SQLITE_STATIC);
			if (step_done(s, del_http, "commit http cache", e) < 0)
				goto out;
			continue;
		}
		sqlite3_bind_text(put_http, 1, h->url, -1, SQLITE_STATIC);
		bind_text_or_null(put_http, 2, h->etag);
		bind_text_or_null(put_http, 3, h->last_modified);
		sqlite3_bind_int64(put_http, 4, when);
		if (step_done(s, put_http, "commit http cache", e) < 0)
			goto out;
	}
	test_crash_point("state_commit");
	if (exec(s, "COMMIT", "commit", e) < 0)
		goto out;
	in_txn = 0;
	result = 0;
out:
	sqlite3_finalize(ins_book);
	sqlite3_finalize(ins_item);
	sqlite3_finalize(put_http);
	sqlite3_finalize(del_http);
	if (in_txn)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	return result;
}

int state_log_run(struct state *s, int64_t start, int64_t end, int exit_code, const char *summary,
                  const char *report_json, struct err *e)
{
	sqlite3_stmt *st;
	if (prepare(s,
	            "INSERT INTO runs(start_at, end_at, exit_code, summary, report_json) "
	            "VALUES (?1, ?2, ?3, ?4, ?5)",
	            &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, start);
	sqlite3_bind_int64(st, 2, end);
	sqlite3_bind_int(st, 3, exit_code);
	bind_text_or_null(st, 4, summary);
	bind_text_or_null(st, 5, report_json);
	int rc = step_done(s, st, "log run", e);
	sqlite3_finalize(st);
	return rc;
}

static void format_local(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(out, size, "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(out, size, "@%lld", (long long)t);
}

static void format_duration(int64_t secs, char *out, size_t size)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(out, size, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(out, size, "%lldm%02llds", (long long)(secs / 60), (long long)(secs % 60));
	else
		snprintf(out, size, "%lldh%02lldm", (long long)(secs / 3600),
		         (long long)(secs % 3600 / 60));
}

int state_print_log(struct state *s, int n, FILE *out, struct err *e)
{
	sqlite3_stmt *st;
	/* the newest n, printed oldest first so the latest run ends up next to the prompt */
	if (prepare(s,
	            "SELECT start_at, end_at, exit_code, summary FROM "
	            "(SELECT * FROM runs ORDER BY start_at DESC, id DESC LIMIT ?1) "
	            "ORDER BY start_at, id",
	            &st, e) < 0)
		return -1;
	sqlite3_bind_int(st, 1, n > 0 ? n : -1);
	int rc, rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t start = sqlite3_column_int64(st, 0);
		int64_t end = sqlite3_column_int64(st, 1);
		const char *summary = (const char *)sqlite3_column_text(st, 3);
		char when[64], dur[32];
		format_local(start, when, sizeof(when));
		format_duration(end - start, dur, sizeof(dur));
		fprintf(out, "%s  %6s  exit %-3d  %s\n", when, dur, sqlite3_column_int(st, 2),
		        summary ? summary : "");
		rows++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, e, "log");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (rows == 0)
		fprintf(out, "no runs recorded in %s yet\n", s->path);
	return 0;
}

long state_forget(struct state *s, const char *feed_key, struct err *e)
{
	sqlite3_stmt *st;
	if (exec(s, "BEGIN IMMEDIATE", "forget", e) < 0)
		return -1;
	long removed = -1;
	if (feed_key) {
		if (prepare(s, "DELETE FROM delivered WHERE feed_key = ?1", &st, e) < 0)
			goto out;
		sqlite3_bind_text(st, 1, feed_key, -1, SQLITE_STATIC);
	} else if (prepare(s, "DELETE FROM delivered", &st, e) < 0) {
		goto out;
	}
	if (step_done(s, st, "forget", e) < 0) {
		sqlite3_finalize(st);
		goto out;
	}
	removed = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	/* Without this a 304 would hide the forgotten articles from the next run. When the feed
	 * key is its URL this drops its validators; state_http_forget() takes any URL. */
	if (feed_key) {
		if (prepare(s, "DELETE FROM http_cache WHERE url = ?1", &st, e) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, feed_key, -1, SQLITE_STATIC);
	} else if (prepare(s, "DELETE FROM http_cache", &st, e) < 0) {
		goto fail;
	}
	int rc = step_done(s, st, "forget", e);
	sqlite3_finalize(st);
	if (rc < 0 || exec(s, "COMMIT", "forget", e) < 0)
		goto fail;
	return removed;
fail:
	removed = -1;
out:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return removed;
}

int state_http_forget(struct state *s, const char *url, struct err *e)
{
	sqlite3_stmt *st;
	if (prepare(s, "DELETE FROM http_cache WHERE url = ?1", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	int rc = step_done(s, st, "http_forget", e);
	sqlite3_finalize(st);
	return rc;
}

int state_prune(struct state *s, int days, int64_t now, struct err *e)
{
	if (days <= 0)
		return 0;
	int64_t cutoff = now - (int64_t)days * 86400;
	static const char *const sql[] = {
	    "DELETE FROM delivered WHERE delivered_at < ?1",
	    "DELETE FROM runs WHERE start_at < ?1",
	    "DELETE FROM http_cache WHERE updated_at < ?1",
	    ("DELETE FROM books WHERE written_at < ?1 AND NOT EXISTS "
	     "(SELECT 1 FROM delivered WHERE delivered.book_id = books.id)"),
	};
	if (exec(s, "BEGIN IMMEDIATE", "prune", e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *st;
		if (prepare(s, sql[i], &st, e) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, cutoff);
		int rc = step_done(s, st, "prune", e);
		sqlite3_finalize(st);
		if (rc < 0)
			goto fail;
	}
	if (exec(s, "COMMIT", "prune", e) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

long state_count_delivered(struct state *s, const char *feed_key, struct err *e)
{
	sqlite3_stmt *st;
	if (prepare(s,
	            feed_key ? "SELECT count(*) FROM delivered WHERE feed_key = ?1"
	                     : "SELECT count(*) FROM delivered",
	            &st, e) < 0)
		return -1;
	if (feed_key)
		sqlite3_bind_text(st, 1, feed_key, -1, SQLITE_STATIC);
	long n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	else
		db_fail(s, e, "count");
	sqlite3_finalize(st);
	return n;
}

int state_prepare(struct state *s, const struct pending_book *pb, int64_t when,
                  const struct delivery_item *items, size_t n_items,
                  const struct http_update *http, size_t n_http, int64_t *pending_id,
                  struct err *e)
{
	sqlite3_stmt *ins_book = NULL, *ins_item = NULL, *ins_http = NULL;
	int result = -1, in_txn = 0;
	if (exec(s, "PRAGMA synchronous = FULL", "prepare", e) < 0)
		return -1;
	if (exec(s, "BEGIN IMMEDIATE", "prepare", e) < 0)
		goto out;
	in_txn = 1;
	if (prepare(s,
	            "INSERT INTO pending_books(path, dev, ino, size, needs_mail, created_at) "
	            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	            &ins_book, e) < 0 ||
	    prepare(s,
	            "INSERT INTO pending_items(pending_id, feed_key, article_id, title, published) "
	            "VALUES (?1, ?2, ?3, ?4, ?5)",
	            &ins_item, e) < 0 ||
	    prepare(s,
	            "INSERT INTO pending_http(pending_id, url, etag, last_modified) "
	            "VALUES (?1, ?2, ?3, ?4)",
	            &ins_http, e) < 0)
		goto out;
	sqlite3_bind_text(ins_book, 1, pb->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins_book, 2, (sqlite3_int64)pb->dev);
	sqlite3_bind_int64(ins_book, 3, (sqlite3_int64)pb->ino);
	sqlite3_bind_int64(ins_book, 4, pb->size);
	sqlite3_bind_int(ins_book, 5, pb->needs_mail);
	sqlite3_bind_int64(ins_book, 6, when);
	if (step_done(s, ins_book, "prepare book", e) < 0)
		goto out;
	sqlite3_int64 id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i < n_items; i++) {
		sqlite3_bind_int64(ins_item, 1, id);
		sqlite3_bind_text(ins_item, 2, items[i].feed_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_item, 3, items[i].article_id, -1, SQLITE_STATIC);
		bind_text_or_null(ins_item, 4, items[i].title);
		if (items[i].published >= 0)
			sqlite3_bind_int64(ins_item, 5, items[i].published);
		else
			sqlite3_bind_null(ins_item, 5);
		if (step_done(s, ins_item, "prepare delivery", e) < 0)
			goto out;
	}
	for (size_t i = 0; i < n_http; i++) {
		sqlite3_bind_int64(ins_http, 1, id);
		sqlite3_bind_text(ins_http, 2, http[i].url, -1, SQLITE_STATIC);
		bind_text_or_null(ins_http, 3, http[i].etag);
		bind_text_or_null(ins_http, 4, http[i].last_modified);
		if (step_done(s, ins_http, "prepare http cache", e) < 0)
			goto out;
	}
	if (exec(s, "COMMIT", "prepare", e) < 0)
		goto out;
	in_txn = 0;
	*pending_id = id;
	result = 0;
out:
	sqlite3_finalize(ins_book);
	sqlite3_finalize(ins_item);
	sqlite3_finalize(ins_http);
	if (in_txn)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	return result;
}

int state_confirm(struct state *s, int64_t pending_id, int64_t when, struct err *e)
{
	static const char *const steps[] = {
		"INSERT INTO books(path, written_at) SELECT path, ?2 FROM pending_books WHERE id = ?1",
		/* ?3 is the new books row (last_insert_rowid() of the step above). */
		"INSERT INTO delivered(feed_key, article_id, title, published, first_seen, "
		"delivered_at, book_id) SELECT feed_key, article_id, title, published, ?2, ?2, ?3 "
		"FROM pending_items WHERE pending_id = ?1 AND true "
		"ON CONFLICT(feed_key, article_id) DO UPDATE SET title = excluded.title, "
		"published = excluded.published, delivered_at = excluded.delivered_at, "
		"book_id = excluded.book_id",
		"DELETE FROM http_cache WHERE url IN (SELECT url FROM pending_http WHERE "
		"pending_id = ?1 AND etag IS NULL AND last_modified IS NULL)",
		"INSERT INTO http_cache(url, etag, last_modified, updated_at) "
		"SELECT url, etag, last_modified, ?2 FROM pending_http WHERE pending_id = ?1 "
		"AND (etag IS NOT NULL OR last_modified IS NOT NULL) "
		"ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
		"last_modified = excluded.last_modified, updated_at = excluded.updated_at",
		"DELETE FROM pending_books WHERE id = ?1",
	};
	int result = -1, in_txn = 0;
	sqlite3_int64 book_id = 0;
	if (exec(s, "PRAGMA synchronous = FULL", "confirm", e) < 0)
		return -1;
	if (exec(s, "BEGIN IMMEDIATE", "confirm", e) < 0)
		goto out;
	in_txn = 1;
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		sqlite3_stmt *st;
		if (prepare(s, steps[i], &st, e) < 0)
			goto out;
		for (int p = 1; p <= sqlite3_bind_parameter_count(st); p++) {
			const char *name = sqlite3_bind_parameter_name(st, p);
			if (name && strcmp(name, "?1") == 0)
				sqlite3_bind_int64(st, p, pending_id);
			else if (name && strcmp(name, "?2") == 0)
				sqlite3_bind_int64(st, p, when);
			else if (name && strcmp(name, "?3") == 0)
				sqlite3_bind_int64(st, p, book_id);
		}
		int rc = step_done(s, st, "confirm", e);
		sqlite3_finalize(st);
		if (rc < 0)
			goto out;
		if (i == 0)
			book_id = sqlite3_last_insert_rowid(s->db);
	}
	test_crash_point("state_confirm");
	if (exec(s, "COMMIT", "confirm", e) < 0)
		goto out;
	in_txn = 0;
	result = 0;
out:
	if (in_txn)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	return result;
}

int state_discard(struct state *s, int64_t pending_id, struct err *e)
{
	sqlite3_stmt *st;
	if (prepare(s, "DELETE FROM pending_books WHERE id = ?1", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, pending_id);
	int rc = step_done(s, st, "discard", e);
	sqlite3_finalize(st);
	return rc;
}

int state_recover(struct state *s, int64_t now, int *confirmed, int *discarded, struct err *e)
{
	sqlite3_stmt *st;
	*confirmed = *discarded = 0;
	if (prepare(s, "SELECT id, path, dev, ino, size, needs_mail FROM pending_books ORDER BY id",
	            &st, e) < 0)
		return -1;
	struct pending {
		int64_t id;
		int ok;
	} *list = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			list = xrealloc(list, cap * sizeof(*list));
		}
		const char *path = (const char *)sqlite3_column_text(st, 1);
		struct stat sb;
		/* The book counts as delivered only if it is the very file this run put in place
		 * (same inode and size: rename keeps the inode) and no mail was still owed. */
		int ok = !sqlite3_column_int(st, 5) && path && stat(path, &sb) == 0 &&
		         (int64_t)sb.st_dev == sqlite3_column_int64(st, 2) &&
		         (int64_t)sb.st_ino == sqlite3_column_int64(st, 3) &&
		         (int64_t)sb.st_size == sqlite3_column_int64(st, 4);
		list[n].id = sqlite3_column_int64(st, 0);
		list[n].ok = ok;
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return db_fail(s, e, "recover");
	}
	int result = 0;
	for (size_t i = 0; i < n && result == 0; i++) {
		if (list[i].ok) {
			result = state_confirm(s, list[i].id, now, e);
			(*confirmed)++;
		} else {
			result = state_discard(s, list[i].id, e);
			(*discarded)++;
		}
	}
	free(list);
	return result;
}
