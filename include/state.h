/* Stage `state`: the SQLite database (WAL) of delivered articles, the HTTP cache (ETag,
 * Last-Modified) and the history of runs, plus the run lock. Never fetches or parses; holds
 * nothing of a feed but ids, validators and counts. */
#ifndef INKDIGEST_STATE_H
#define INKDIGEST_STATE_H

#include "util.h"

struct state;

/* Opens (creating) the database and takes the run lock. wait_s: how long to wait for another
 * run's lock (0 = fail at once with a clear message). */
int state_open(const char *path, int wait_s, struct state **out, struct err *e);
void state_close(struct state *s);

/* 1 if (feed_key, article_id) was delivered, 0 if not, -1 on error. */
int state_is_delivered(struct state *s, const char *feed_key, const char *article_id, struct err *e);

struct http_cache {
	char *etag;
	char *last_modified;
};
/* Fills c (NULLs when nothing is cached). */
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
int state_commit(struct state *s, const char *book, int64_t when,
		 const struct delivery_item *items, size_t n_items,
		 const struct http_update *http, size_t n_http, struct err *e);

/* Run history: report_json is the run report. */
int state_log_run(struct state *s, int64_t start, int64_t end, int exit_code,
		  const char *summary, const char *report_json, struct err *e);
/* Prints the last n runs, human-readable, to out. */
int state_print_log(struct state *s, int n, FILE *out, struct err *e);
/* Forgets deliveries of one feed (or all when feed_key is NULL); returns rows removed. */
long state_forget(struct state *s, const char *feed_key, struct err *e);
/* Drops deliveries and runs older than days. */
int state_prune(struct state *s, int days, int64_t now, struct err *e);

#endif
