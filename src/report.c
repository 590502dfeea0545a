/* Stage `report`: plain records of a run (feeds, articles, images, warnings, stage times,
 * books, mail) in, JSON text out (cJSON; schema in docs/report.md). Never decides anything and
 * never lets a secret through: userinfo in URLs is masked, text is made valid UTF-8. */
#include <math.h>

#include <cjson/cJSON.h>

#include "report.h"

#define REPORT_VERSION 1

struct report {
	int64_t start, end;
	int finished;
	int exit_code;
	char *summary;
	char *mail_outcome, *mail_detail;
	cJSON *stages, *books, *feeds, *articles, *images, *warnings;
	/* running totals for "counts" */
	long feeds_ok, feeds_failed, feeds_not_modified;
	long articles_total, articles_new, skipped_delivered, skipped_old, skipped_limit;
	long images_delivered, images_dropped;
	double image_bytes_in, image_bytes_out, feed_bytes, book_bytes;
};

static void *check(void *p)
{
	if (!p)
		die_oom();
	return p;
}

/* Every string goes through here: NULL stays null, bytes become valid UTF-8. */
static cJSON *json_str(const char *s)
{
	if (!s)
		return check(cJSON_CreateNull());
	char *clean = util_utf8_sanitize(s, strlen(s));
	cJSON *j = check(cJSON_CreateString(clean));
	free(clean);
	return j;
}

/* Masks the userinfo of a URL (what precedes "@" in the authority) with three asterisks. */
static char *redact_url(const char *url)
{
	if (!url)
		return NULL;
	const char *sep = strstr(url, "://");
	if (!sep)
		return xstrdup(url);
	const char *auth = sep + 3;
	size_t auth_len = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + auth_len; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(auth - url), url, at);
}

static cJSON *json_url(const char *url)
{
	char *r = redact_url(url);
	cJSON *j = json_str(r);
	free(r);
	return j;
}

static void add(cJSON *obj, const char *key, cJSON *item)
{
	check(item);
	if (!cJSON_AddItemToObject(obj, key, item))
		die_oom();
}

static void add_str(cJSON *obj, const char *key, const char *s)
{
	add(obj, key, json_str(s));
}

static void add_num(cJSON *obj, const char *key, double v)
{
	add(obj, key, cJSON_CreateNumber(v));
}

static void add_bool(cJSON *obj, const char *key, int v)
{
	add(obj, key, cJSON_CreateBool(v));
}

static double ms_round(double seconds)
{
	if (!isfinite(seconds) || seconds < 0)
		return 0;
	return round(seconds * 1000.0) / 1000.0;
}

static void add_time(cJSON *obj, const char *key, int64_t t)
{
	char buf[40];
	util_format_rfc3339(t, buf, sizeof(buf));
	add_str(obj, key, buf);
}

struct report *report_new(int64_t start)
{
	struct report *r = xcalloc(1, sizeof(*r));
	r->start = start;
	r->stages = check(cJSON_CreateObject());
	r->books = check(cJSON_CreateArray());
	r->feeds = check(cJSON_CreateArray());
	r->articles = check(cJSON_CreateArray());
	r->images = check(cJSON_CreateArray());
	r->warnings = check(cJSON_CreateArray());
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	cJSON_Delete(r->stages);
	cJSON_Delete(r->books);
	cJSON_Delete(r->feeds);
	cJSON_Delete(r->articles);
	cJSON_Delete(r->images);
	cJSON_Delete(r->warnings);
	free(r->summary);
	free(r->mail_outcome);
	free(r->mail_detail);
	free(r);
}

void report_add_feed(struct report *r, const struct report_feed *f)
{
	cJSON *o = check(cJSON_CreateObject());
	add_str(o, "name", f->name);
	add(o, "url", json_url(f->url));
	if (f->http_status > 0)
		add_num(o, "http_status", (double)f->http_status);
	else
		add(o, "http_status", cJSON_CreateNull());
	add_num(o, "bytes", (double)f->bytes);
	add_num(o, "seconds", ms_round(f->seconds));
	add_bool(o, "not_modified", f->not_modified);
	add_str(o, "error", f->error);
	add_str(o, "format", f->format);
	add_num(o, "articles_total", f->articles_total);
	add_num(o, "articles_new", f->articles_new);
	add_num(o, "skipped_delivered", f->skipped_delivered);
	add_num(o, "skipped_old", f->skipped_old);
	add_num(o, "skipped_limit", f->skipped_limit);
	cJSON *w = check(cJSON_CreateArray());
	if (f->warnings)
		for (size_t i = 0; i < f->warnings->n; i++)
			cJSON_AddItemToArray(w, json_str(f->warnings->items[i]));
	add(o, "warnings", w);
	cJSON_AddItemToArray(r->feeds, o);

	if (f->error)
		r->feeds_failed++;
	else
		r->feeds_ok++;
	if (f->not_modified)
		r->feeds_not_modified++;
	r->articles_total += f->articles_total;
	r->articles_new += f->articles_new;
	r->skipped_delivered += f->skipped_delivered;
	r->skipped_old += f->skipped_old;
	r->skipped_limit += f->skipped_limit;
	r->feed_bytes += (double)f->bytes;
}

void report_add_article(struct report *r, const struct report_article *a)
{
	cJSON *o = check(cJSON_CreateObject());
	add_str(o, "feed", a->feed);
	add_str(o, "id", a->id);
	add_str(o, "title", a->title);
	add(o, "link", json_url(a->link));
	add_str(o, "content_source", a->content_source);
	add_str(o, "fulltext_error", a->fulltext_error);
	add_num(o, "n_images", a->n_images);
	cJSON_AddItemToArray(r->articles, o);
}

void report_add_image(struct report *r, const struct report_image *i)
{
	cJSON *o = check(cJSON_CreateObject());
	add(o, "url", json_url(i->url));
	add_str(o, "article_id", i->article_id);
	if (i->http_status > 0)
		add_num(o, "http_status", (double)i->http_status);
	else
		add(o, "http_status", cJSON_CreateNull());
	add_num(o, "bytes_in", (double)i->bytes_in);
	add_num(o, "bytes_out", (double)i->bytes_out);
	add_num(o, "width_in", i->width_in);
	add_num(o, "height_in", i->height_in);
	add_num(o, "width_out", i->width_out);
	add_num(o, "height_out", i->height_out);
	if (!i->dropped && i->bytes_in > 0 && i->bytes_out > 0)
		add_num(o, "compression_ratio",
		        round((double)i->bytes_in / (double)i->bytes_out * 1000.0) / 1000.0);
	else
		add(o, "compression_ratio", cJSON_CreateNull());
	add_str(o, "format", i->format);
	add_num(o, "seconds", ms_round(i->seconds));
	add_str(o, "dropped", i->dropped);
	cJSON_AddItemToArray(r->images, o);

	if (i->dropped)
		r->images_dropped++;
	else
		r->images_delivered++;
	r->image_bytes_in += (double)i->bytes_in;
	if (!i->dropped)
		r->image_bytes_out += (double)i->bytes_out;
}

void report_add_warning(struct report *r, const char *stage, const char *msg)
{
	cJSON *o = check(cJSON_CreateObject());
	add_str(o, "stage", stage ? stage : "run");
	add_str(o, "message", msg ? msg : "");
	cJSON_AddItemToArray(r->warnings, o);
}

void report_set_stage_time(struct report *r, const char *stage, double seconds)
{
	char *key = xasprintf("%s_s", stage);
	cJSON_DeleteItemFromObjectCaseSensitive(r->stages, key);
	add_num(r->stages, key, ms_round(seconds));
	free(key);
}

void report_add_book(struct report *r, const char *path, size_t bytes)
{
	cJSON *o = check(cJSON_CreateObject());
	add_str(o, "path", path);
	add_num(o, "bytes", (double)bytes);
	cJSON_AddItemToArray(r->books, o);
	r->book_bytes += (double)bytes;
}

void report_set_mail(struct report *r, const char *outcome, const char *detail)
{
	free(r->mail_outcome);
	free(r->mail_detail);
	r->mail_outcome = xstrdup(outcome);
	r->mail_detail = xstrdup(detail);
}

void report_finish(struct report *r, int64_t end, int exit_code, const char *summary)
{
	r->end = end;
	r->exit_code = exit_code;
	r->finished = 1;
	free(r->summary);
	r->summary = xstrdup(summary);
}

static cJSON *build(const struct report *r)
{
	cJSON *root = check(cJSON_CreateObject());
	add_num(root, "version", REPORT_VERSION);
	add_str(root, "generator", "inkdigest " INKDIGEST_VERSION);
	add_time(root, "start", r->start);
	if (r->finished) {
		add_time(root, "end", r->end);
		add_num(root, "duration_s", (double)(r->end - r->start));
		add_num(root, "exit_code", r->exit_code);
	} else {
		add(root, "end", cJSON_CreateNull());
		add(root, "duration_s", cJSON_CreateNull());
		add(root, "exit_code", cJSON_CreateNull());
	}
	add_str(root, "summary", r->summary);

	cJSON *counts = check(cJSON_CreateObject());
	add_num(counts, "feeds", r->feeds_ok + r->feeds_failed);
	add_num(counts, "feeds_ok", r->feeds_ok);
	add_num(counts, "feeds_failed", r->feeds_failed);
	add_num(counts, "feeds_not_modified", r->feeds_not_modified);
	add_num(counts, "feed_bytes", r->feed_bytes);
	add_num(counts, "articles_total", r->articles_total);
	add_num(counts, "articles_new", r->articles_new);
	add_num(counts, "articles_in_book", cJSON_GetArraySize(r->articles));
	add_num(counts, "skipped_delivered", r->skipped_delivered);
	add_num(counts, "skipped_old", r->skipped_old);
	add_num(counts, "skipped_limit", r->skipped_limit);
	add_num(counts, "images", r->images_delivered + r->images_dropped);
	add_num(counts, "images_delivered", r->images_delivered);
	add_num(counts, "images_dropped", r->images_dropped);
	add_num(counts, "image_bytes_in", r->image_bytes_in);
	add_num(counts, "image_bytes_out", r->image_bytes_out);
	add_num(counts, "books", cJSON_GetArraySize(r->books));
	add_num(counts, "book_bytes", r->book_bytes);
	add_num(counts, "warnings", cJSON_GetArraySize(r->warnings));
	add(root, "counts", counts);

	/* References: the arrays stay owned by r, so this works on a const report and the
	 * delete of root below leaves them alone. */
	if (!cJSON_AddItemReferenceToObject(root, "stages", r->stages) ||
	    !cJSON_AddItemReferenceToObject(root, "books", r->books))
		die_oom();
	if (r->mail_outcome) {
		cJSON *m = check(cJSON_CreateObject());
		add_str(m, "outcome", r->mail_outcome);
		add_str(m, "detail", r->mail_detail);
		add(root, "mail", m);
	} else {
		add(root, "mail", cJSON_CreateNull());
	}
	if (!cJSON_AddItemReferenceToObject(root, "feeds", r->feeds) ||
	    !cJSON_AddItemReferenceToObject(root, "articles", r->articles) ||
	    !cJSON_AddItemReferenceToObject(root, "images", r->images) ||
	    !cJSON_AddItemReferenceToObject(root, "warnings", r->warnings))
		die_oom();
	return root;
}

static char *render(const struct report *r, int formatted)
{
	cJSON *root = build(r);
	char *text = check(formatted ? cJSON_Print(root) : cJSON_PrintUnformatted(root));
	cJSON_Delete(root);
	/* hand back memory the caller can free() whatever cJSON's allocator is */
	char *out = xstrdup(text);
	cJSON_free(text);
	return out;
}

char *report_to_json(const struct report *r)
{
	return render(r, 1);
}

char *report_to_json_compact(const struct report *r)
{
	return render(r, 0);
}

int report_write(const struct report *r, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	char *json = report_to_json(r);
	buf_puts(&b, json);
	buf_putc(&b, '\n');
	free(json);
	int rc = util_write_file_atomic(path, b.data, b.len, e);
	if (rc < 0)
		err_prefix(e, "report");
	buf_release(&b);
	return rc;
}
