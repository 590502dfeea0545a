/* Stage `report`: collects what happened in a run (per run, feed, article and image) and writes
 * it as JSON with cJSON. Plain records in, JSON out; never decides anything. */
#ifndef INKDIGEST_REPORT_H
#define INKDIGEST_REPORT_H

#include "util.h"

struct report;

struct report_feed {
	const char *name;
	const char *url;
	long http_status;
	size_t bytes;
	double seconds;
	int not_modified;
	const char *error;       /* NULL when fine */
	const char *format;
	int articles_total, articles_new;
	int skipped_delivered, skipped_old, skipped_limit;
	const struct strlist *warnings;
};

struct report_article {
	const char *feed;
	const char *id;
	const char *title;
	const char *link;
	const char *content_source;
	const char *fulltext_error;  /* why the page was not used, or NULL */
	int n_images;
};

struct report_image {
	const char *url;
	const char *article_id;
	long http_status;
	size_t bytes_in, bytes_out;
	int width_in, height_in, width_out, height_out;
	const char *format;
	double seconds;
	const char *dropped;     /* reason, or NULL when delivered */
};

struct report *report_new(int64_t start);
void report_free(struct report *r);
void report_add_feed(struct report *r, const struct report_feed *f);
void report_add_article(struct report *r, const struct report_article *a);
void report_add_image(struct report *r, const struct report_image *i);
void report_add_warning(struct report *r, const char *stage, const char *msg);
void report_set_stage_time(struct report *r, const char *stage, double seconds);
void report_add_book(struct report *r, const char *path, size_t bytes);
void report_set_mail(struct report *r, const char *outcome, const char *detail);
void report_finish(struct report *r, int64_t end, int exit_code, const char *summary);
/* The report as JSON text (caller frees). Schema: docs/report.md, docs/report.schema.json. */
char *report_to_json(const struct report *r);
/* The same on one line, for keeping in the state (state_log_run). */
char *report_to_json_compact(const struct report *r);
int report_write(const struct report *r, const char *path, struct err *e);

#endif
