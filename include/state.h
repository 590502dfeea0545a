/* Stage `state`: the SQLite database (WAL) of delivered articles, the HTTP cache (ETag,
 * Last-Modified) and the history of runs, plus the run lock. Never fetches or parses; holds
 * nothing of a feed but ids, validators and counts. */
#ifndef INKDIGEST_STATE_H
#define INKDIGEST_STATE_H

#include "util.h"

struct state;

/* err.code values of this module, so the caller can pick an exit code. */
enum {
	STATE_ERR_DB = 1,       /* SQLite said no */
	STATE_ERR_LOCKED = 2,   /* another run holds the lock (or the database stayed busy) */
	STATE_ERR_CORRUPT = 3,  /* the file is not a (healthy) SQLite database */
	STATE_ERR_IO = 4,       /* the lock file or the folder */
};

/* Opens (creating) the database and takes the run lock. wait_s: how long to wait for another
 * run's lock (0 = fail at once with a clear message). */
int state_open(const char *path, int wait_s, struct state **out, struct err *e);
void state_close(struct state *s);
/* Opens an existing database read-only and without the run lock (WAL lets it read while a
 * run writes): for `inkdigest log`. */
int state_open_readonly(const char *path, struct state **out, struct err *e);

/* 1 if (feed_key, article_id) was delivered, 0 if not, -1 on error. */
int state_is_delivered(struct state *s, const char *feed_key, const char *article_id, struct err *e);

struct http_cache {
	char *etag;
	char *last_modified;
};
/* Fills c with copies the caller owns (NULLs when nothing is cached); http_cache_release()
 * frees them. */
int state_http_get(struct state *s, const char *url, struct http_cache *c, struct err *e);
void http_cache_release(struct http_cache *c);

/* What a run commits once its book is durably written (and mailed when mail is on):
 * the delivered articles and the validators of the feeds it read, in one transaction. */
struct delivery_item {
	const char *feed_key;
	const char *article_id;
	const char *title;
	int64_t published;
};
struct http_update {
	const char *url;
	const char *etag;
	const char *last_modified;
};
/* One transaction, synced to disk (synchronous=FULL) before it returns 0. An item delivered
 * before keeps its first_seen; an update with neither etag nor last_modified removes the URL's
 * validators. For crash tests, INKDIGEST_TEST_CRASH=state_commit in the environment makes the
 * process SIGKILL itself after the inserts and before COMMIT. */
int state_commit(struct state *s, const char *book, int64_t when,
		 const struct delivery_item *items, size_t n_items,
		 const struct http_update *http, size_t n_http, struct err *e);

/* Two-phase delivery, so a run killed at any moment neither loses nor resends an article:
 * 1. the book is written to a temporary file and synced; state_prepare records its deliveries
 *    as pending, with the identity of that file (device, inode, size);
 * 2. the file is renamed into place (and mailed); state_confirm then moves the deliveries
 *    into delivered and applies the HTTP validators, in one transaction.
 * At the next start, state_recover confirms a pending book whose file is in place (rename
 * keeps the inode) and needs no mail, and discards the others, whose articles are new again.
 * A book still owed a mail is discarded: a mail cut off mid-way is sent again (at least
 * once), never lost. */
struct pending_book {
	const char *path;        /* where the book will be renamed to */
	uint64_t dev, ino;       /* of the temporary file */
	int64_t size;
	int needs_mail;
};
int state_prepare(struct state *s, const struct pending_book *pb, int64_t when,
		  const struct delivery_item *items, size_t n_items,
		  const struct http_update *http, size_t n_http, int64_t *pending_id,
		  struct err *e);
/* INKDIGEST_TEST_CRASH=state_confirm kills the process just before this COMMIT. */
int state_confirm(struct state *s, int64_t pending_id, int64_t when, struct err *e);
int state_discard(struct state *s, int64_t pending_id, struct err *e);
int state_recover(struct state *s, int64_t now, int *confirmed, int *discarded, struct err *e);

/* Run history: report_json is the run report. */
int state_log_run(struct state *s, int64_t start, int64_t end, int exit_code,
		  const char *summary, const char *report_json, struct err *e);
/* Prints the last n runs, human-readable, to out. */
int state_print_log(struct state *s, int n, FILE *out, struct err *e);
/* Forgets deliveries of one feed (or all when feed_key is NULL); returns rows removed. */
long state_forget(struct state *s, const char *feed_key, struct err *e);
/* Drops deliveries, runs, validators and books older than days (days <= 0: nothing). */
int state_prune(struct state *s, int days, int64_t now, struct err *e);
/* Drops the validators of one URL, so its next fetch is unconditional (state_forget of a
 * feed should come with this for the feed's URL, or a 304 hides the forgotten articles;
 * state_forget(NULL) clears them all by itself). */
int state_http_forget(struct state *s, const char *url, struct err *e);
/* Delivered rows of one feed (all when feed_key is NULL); -1 on error. */
long state_count_delivered(struct state *s, const char *feed_key, struct err *e);

#endif
