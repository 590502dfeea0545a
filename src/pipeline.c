/* The run of `inkdigest run`: state → fetch → feed → extract/clean → image → font → cover →
 * epub → mail → state, with per-feed and per-image failures recorded and the rest carried on.
 * The only module besides cli that knows every stage; it never parses, decodes or writes XML
 * itself, and it advances the state only after the book is durably written (and mailed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <search.h>
#include <signal.h>
#include <dirent.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "clean.h"
#include "cli.h"
#include "cover.h"
#include "epub.h"
#include "extract.h"
#include "feed.h"
#include "fetch.h"
#include "font.h"
#include "image.h"
#include "mail.h"
#include "pipeline.h"
#include "report.h"
#include "state.h"

#define MAX_IMAGES 10000            /* per digest: everything is bounded */
#define MAX_PAGE_BYTES (5u << 20)   /* an article page for full text */
#define TEASER_MIN_CHARS 400
#define PRIORITY_FEED 100
#define PRIORITY_PAGE 50
#define PRIORITY_IMAGE 10

enum image_state { IMG_PENDING = 0, IMG_CONVERTING, IMG_DONE, IMG_FAILED };

struct run_image {
	char *url;
	int stored;              /* the converted JPEG is in the pack: bytes_out at pack_off */
	off_t pack_off;
	enum image_state st;
	char *reason;            /* why it was dropped */
	long http_status;
	size_t bytes_in, bytes_out;
	int w_in, h_in, w_out, h_out;
	const char *format;
	double seconds;
	char *referer_alt;       /* the other referer to try once on 403, or NULL */
	int referer_tried;
	const char *first_article_id;  /* borrowed, for the report */
	unsigned vol_mark;       /* last volume that listed it (build_book) */
	int step;                /* shrink step of the converted file; -1 = configured settings */
};

struct run_feed {
	const struct feed_conf *conf;
	char *key;               /* the feed's URL without userinfo: its name in state and report */
	struct feed_doc doc;
	int fetched;             /* response arrived */
	int failed;
	char *error;
	int not_modified;
	long status;
	size_t bytes;
	double seconds;
	char *etag, *last_modified;
	struct article **fresh;  /* new articles, newest first (point into doc.items) */
	size_t n_fresh;
	int skipped_delivered, skipped_old, skipped_limit;
};

struct run;

struct art_ref {
	struct run_feed *rf;
	struct article *a;
};

struct page_job {
	struct run *run;
	struct article *article;
	struct run_feed *feed;
};

struct image_job {
	struct run *run;
	size_t index;
	int retry;               /* this is the 403 retry */
};

/* Work for the converter threads: bytes in, file out. */
struct convert_task {
	size_t index;
	char *data;
	size_t len;
	int store;               /* write the result to the pack (not for trial encodes) */
	/* results */
	off_t off;               /* where the result went in the pack */
	int write_failed;        /* the conversion worked, writing it to the pack did not */
	int rc;
	struct err e;
	struct image_result res;
	double seconds;
	int reencode;            /* a smaller copy of an already converted image */
	const struct image_opts *opts;  /* NULL: those of the run's current step, set at dequeue */
	int step;                /* the shrink step opts belong to; -1 = the configured settings */
	size_t *probe_bytes;     /* a trial encode: its size is added here, nothing is kept */
	struct convert_task *next;
};

/* The quality steps tried before a digest is split; the last is the floor. */
static const struct {
	int quality;
	int box_percent;
} shrink_steps[] = {{60, 85}, {50, 70}, {40, 60}};
#define N_STEPS ARRAY_SIZE(shrink_steps)

struct run {
	const struct pipeline_opts *o;
	const struct config *cfg;
	struct state *state;
	struct fetcher *fetcher;
	struct report *report;
	struct run_feed *feeds;
	size_t n_feeds;
	struct run_image *images;
	size_t n_images, cap_images;
	struct hsearch_data image_index;
	char *tmpdir;
	/* Every converted image goes into one scratch file, appended at pack_len under mu: no file
	 * per image (ext4 inode work was a tenth of the CPU), and the book reads them from it. */
	char *pack_path;
	int pack_fd;
	off_t pack_len;
	char *scratch_error;     /* the first failed write to the pack (disk full): fatal */
	int64_t now;
	struct image_opts img_opts;
	struct image_opts step_opts[N_STEPS];
	size_t images_dropped_limit;
	/* Early budget decision: once enough images are converted to project the book's size,
	 * trial encodes pick the step new conversions use (cur_step, under mu; -1 = none). */
	int cur_step;
	int probing;             /* 1 while trial encodes are out, 2 once decided */
	size_t probes_left, probe_before, probe_after[N_STEPS];

	/* the new articles in book order, and the size budget's work */
	struct art_ref *refs;
	size_t n_refs;
	unsigned vol_mark;
	struct strlist budget_notes;

	/* converter pool */
	pthread_t *workers;
	int n_workers;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	struct convert_task *todo_head, *todo_tail, *done_head;
	size_t n_todo, n_busy;
	int stopping;

	/* progress */
	size_t feeds_done, images_done;
	double t0;
};

/* ---- small helpers ---- */

static char *content_type_charset(const char *ct)
{
	if (!ct)
		return NULL;
	const char *p = strcasestr(ct, "charset=");
	if (!p)
		return NULL;
	p += 8;
	if (*p == '"')
		p++;
	size_t n = strcspn(p, "\"; \t");
	return n ? xstrndup(p, n) : NULL;
}

/* The origin of a URL ("https://host/") through libcurl's URL API, or NULL. */
static char *url_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https"))) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			out = xasprintf("%s://%s:%s/", scheme, host, port);
		else
			out = xasprintf("%s://%s/", scheme, host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

static int is_http_url(const char *url)
{
	return util_starts_with_ci(url, "http://") || util_starts_with_ci(url, "https://");
}

static char *referer_for(const struct feed_conf *fc, const struct run_feed *rf,
			 const struct article *a, enum referer_policy policy)
{
	switch (policy) {
	case REFERER_NONE:
		return NULL;
	case REFERER_ORIGIN: {
		const char *from = a && a->link ? a->link : rf->doc.link ? rf->doc.link : fc->url;
		return from ? url_origin(from) : NULL;
	}
	case REFERER_ARTICLE:
		return a && a->link && is_http_url(a->link) ? xstrdup(a->link) : NULL;
	case REFERER_FIXED:
		return xstrdup(fc->referer_url);
	}
	return NULL;
}

/* Decodes a data:image/...;base64, URI with libcrypto. */
static int decode_data_uri(const char *uri, char **out, size_t *out_len, size_t max_bytes)
{
	const char *comma = strchr(uri, ',');
	if (!comma || !strstr(uri, ";base64"))
		return -1;
	const char *src = comma + 1;
	struct buf clean = BUF_INIT;
	for (const char *p = src; *p; p++)
		if (!strchr(" \t\r\n", *p))
			buf_putc(&clean, *p);
	if (!clean.len || clean.len % 4 || clean.len / 4 * 3 > max_bytes) {
		buf_release(&clean);
		return -1;
	}
	unsigned char *dst = xmalloc(clean.len / 4 * 3 + 1);
	int n = EVP_DecodeBlock(dst, (const unsigned char *)clean.data, (int)clean.len);
	if (n < 0) {
		free(dst);
		buf_release(&clean);
		return -1;
	}
	/* EVP_DecodeBlock counts padding as output; take it back off. */
	if (clean.len >= 1 && clean.data[clean.len - 1] == '=')
		n--;
	if (clean.len >= 2 && clean.data[clean.len - 2] == '=')
		n--;
	buf_release(&clean);
	*out = (char *)dst;
	*out_len = (size_t)n;
	return 0;
}

/* ---- converter pool: the only threads; they share nothing but the two queues ---- */

static void *worker_main(void *arg)
{
	struct run *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->todo_head && !r->stopping)
			pthread_cond_wait(&r->cv_work, &r->mu);
		if (!r->todo_head)
			break;
		struct convert_task *t = r->todo_head;
		r->todo_head = t->next;
		if (!r->todo_head)
			r->todo_tail = NULL;
		r->n_todo--;
		r->n_busy++;
		if (!t->opts) {
			t->step = r->cur_step;
			t->opts = t->step < 0 ? &r->img_opts : &r->step_opts[t->step];
		}
		pthread_mutex_unlock(&r->mu);

		double t0 = util_monotonic();
		t->rc = image_convert((const unsigned char *)t->data, t->len, t->opts, &t->res,
				      &t->e);
		free(t->data);
		t->data = NULL;
		if (t->rc == 0 && !t->probe_bytes) {
			pthread_mutex_lock(&r->mu);
			t->off = r->pack_len;
			r->pack_len += (off_t)t->res.jpeg.len;
			pthread_mutex_unlock(&r->mu);
			struct err we = {0};
			if (util_pwrite_all(r->pack_fd, r->pack_path, t->res.jpeg.data,
					    t->res.jpeg.len, t->off, &we) != 0) {
				t->rc = -1;
				t->e = we;
				t->write_failed = 1;
			}
		}
		t->seconds = util_monotonic() - t0;

		pthread_mutex_lock(&r->mu);
		r->n_busy--;
		t->next = r->done_head;
		r->done_head = t;
		pthread_cond_broadcast(&r->cv_done);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void pool_start(struct run *r)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	r->n_workers = cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv_work, NULL);
	pthread_cond_init(&r->cv_done, NULL);
	r->workers = xcalloc((size_t)r->n_workers, sizeof(*r->workers));
	for (int i = 0; i < r->n_workers; i++)
		if (pthread_create(&r->workers[i], NULL, worker_main, r) != 0)
			die_oom();
}

static void pool_submit(struct run *r, struct convert_task *t)
{
	pthread_mutex_lock(&r->mu);
	/* Back-pressure: never hold more than a few downloaded images in memory. */
	while (r->n_todo >= (size_t)r->n_workers * 2)
		pthread_cond_wait(&r->cv_done, &r->mu);
	t->next = NULL;
	if (r->todo_tail)
		r->todo_tail->next = t;
	else
		r->todo_head = t;
	r->todo_tail = t;
	r->n_todo++;
	pthread_cond_signal(&r->cv_work);
	pthread_mutex_unlock(&r->mu);
}

static void progress_draw(struct run *r, int final);

static void pool_collect(struct run *r, int wait_all)
{
	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (wait_all)
			while (!r->done_head && (r->n_todo || r->n_busy))
				pthread_cond_wait(&r->cv_done, &r->mu);
		struct convert_task *t = r->done_head;
		r->done_head = NULL;
		pthread_mutex_unlock(&r->mu);
		if (!t)
			return;
		while (t) {
			struct convert_task *next = t->next;
			struct run_image *im = &r->images[t->index];
			if (t->probe_bytes) {
				/* A failed trial counts as no saving at all. */
				*t->probe_bytes += t->rc == 0 ? t->res.jpeg.len : im->bytes_out;
				if (r->probes_left)
					r->probes_left--;
				image_result_release(&t->res);
				free(t);
				t = next;
				continue;
			}
			im->seconds += t->seconds;
			if (!t->reencode) {
				im->format = image_format_name(t->res.format_in);
				im->w_in = t->res.width_in;
				im->h_in = t->res.height_in;
			}
			if (t->rc == 0) {
				im->st = IMG_DONE;
				im->step = t->step;
				im->stored = 1;
				im->pack_off = t->off;
				im->w_out = t->res.width_out;
				im->h_out = t->res.height_out;
				im->bytes_out = t->res.jpeg.len;
			} else {
				im->st = IMG_FAILED;
				im->reason = xstrdup(t->e.msg);
				if (t->write_failed && !r->scratch_error)
					r->scratch_error = xstrdup(t->e.msg);
				log_debug("image %s: %s", im->url, t->e.msg);
			}
			if (!t->reencode)
				r->images_done++;
			image_result_release(&t->res);
			free(t);
			t = next;
		}
		progress_draw(r, 0);
		if (!wait_all)
			return;
	}
}

static void pool_stop(struct run *r)
{
	if (!r->workers)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	pthread_cond_broadcast(&r->cv_work);
	pthread_mutex_unlock(&r->mu);
	for (int i = 0; i < r->n_workers; i++)
		pthread_join(r->workers[i], NULL);
	free(r->workers);
	r->workers = NULL;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv_work);
	pthread_cond_destroy(&r->cv_done);
}

static void budget_watch(struct run *r);

static void idle_cb(void *user)
{
	pool_collect(user, 0);
	budget_watch(user);
}

/* ---- progress ---- */

static void progress_draw(struct run *r, int final)
{
	if (!r->o->progress)
		return;
	static double last;
	double now = util_monotonic();
	if (!final && now - last < 0.1)
		return;
	last = now;
	size_t articles = 0, bytes_in = 0, bytes_out = 0;
	for (size_t i = 0; i < r->n_feeds; i++)
		articles += r->feeds[i].n_fresh;
	for (size_t i = 0; i < r->n_images; i++) {
		bytes_in += r->images[i].bytes_in;
		bytes_out += r->images[i].bytes_out;
	}
	size_t total = r->n_feeds + r->n_images, done = r->feeds_done + r->images_done;
	int width = 20, filled = total ? (int)(done * (size_t)width / total) : width;
	char bar[32];
	for (int i = 0; i < width; i++)
		bar[i] = i < filled ? '#' : '-';
	bar[width] = '\0';
	fprintf(stderr,
		"\r\033[K[%s] feeds %zu/%zu  %zu new articles  images %zu/%zu (%.1f MB -> %.1f MB)"
		"  %.1fs",
		bar, r->feeds_done, r->n_feeds, articles, r->images_done, r->n_images,
		(double)bytes_in / 1e6, (double)bytes_out / 1e6, now - r->t0);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* "2 too small, 1 fetch: HTTP 404": why images were dropped, most common first. */
static char *drop_reasons(const struct run *r)
{
	struct strlist kinds = {0};
	size_t *counts = xcalloc(r->n_images ? r->n_images : 1, sizeof(*counts));
	for (size_t i = 0; i < r->n_images; i++) {
		const struct run_image *im = &r->images[i];
		if (im->st == IMG_DONE)
			continue;
		const char *why = im->reason ? im->reason : "not fetched";
		size_t k = 0;
		while (k < kinds.n && strcmp(kinds.items[k], why) != 0)
			k++;
		if (k == kinds.n)
			strlist_add(&kinds, why);
		counts[k]++;
	}
	struct buf b = BUF_INIT;
	for (size_t shown = 0; shown < kinds.n && shown < 4; shown++) {
		size_t best = 0;
		for (size_t k = 1; k < kinds.n; k++)
			if (counts[k] > counts[best])
				best = k;
		buf_printf(&b, "%s%zu %s", shown ? ", " : "", counts[best], kinds.items[best]);
		counts[best] = 0;
	}
	if (kinds.n > 4)
		buf_puts(&b, ", …");
	free(counts);
	strlist_release(&kinds);
	return buf_detach(&b, NULL);
}

/* ---- images ---- */

static void image_fetched(void *user, struct fetch_response *resp);

static void queue_image_fetch(struct run *r, size_t idx, const char *referer)
{
	struct run_image *im = &r->images[idx];
	struct image_job *job = xcalloc(1, sizeof(*job));
	job->run = r;
	job->index = idx;
	struct fetch_request req = {
		.url = im->url,
		.max_bytes = r->img_opts.max_bytes,
		.check_private = 1,
		.referer = referer,
		.priority = PRIORITY_IMAGE,
	};
	fetch_add(r->fetcher, &req, image_fetched, job);
}

static void convert_bytes(struct run *r, size_t idx, char *data, size_t len)
{
	struct convert_task *t = xcalloc(1, sizeof(*t));
	t->index = idx;
	t->data = data;
	t->len = len;
	r->images[idx].st = IMG_CONVERTING;
	r->images[idx].bytes_in = len;
	/* Images read in a burst (local files, data: URIs) never reach the fetch loop's idle
	 * callback in between: look at the finished ones and the budget here too. */
	pool_collect(r, 0);
	budget_watch(r);
	pool_submit(r, t);
}

static void image_fetched(void *user, struct fetch_response *resp)
{
	struct image_job *job = user;
	struct run *r = job->run;
	struct run_image *im = &r->images[job->index];
	im->http_status = resp->status;
	im->seconds += resp->seconds;
	if (resp->error == FETCH_OK && resp->data) {
		char *data = resp->data;
		resp->data = NULL;
		convert_bytes(r, job->index, data, resp->len);
	} else if (resp->status == 403 && !im->referer_tried) {
		/* Hotlink protection: try once more with the other referer policy. */
		im->referer_tried = 1;
		char *alt = im->referer_alt;
		im->referer_alt = NULL;
		queue_image_fetch(r, job->index, alt);
		free(alt);
	} else {
		im->st = IMG_FAILED;
		im->reason = xasprintf("fetch: %s", resp->error_msg ? resp->error_msg : "failed");
		r->images_done++;
	}
	free(job);
}

/* The file behind a file:// URL or a plain path; a query or fragment (WeChat's ?wx_fmt=…) is
 * not part of the file name. */
static char *local_image_path(const char *url)
{
	if (!util_starts_with_ci(url, "file:")) {
		size_t n = strcspn(url, "?#");
		return xstrndup(url, n);
	}
	CURLU *u = curl_url();
	char *path = NULL, *out = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK)
		out = xstrdup(path);
	curl_free(path);
	curl_url_cleanup(u);
	return out;
}

/* Registers an image URL once per digest and starts its download. */
/* A new entry for url in r->images, or -1 when the URL is known already or over the limit. */
static long add_image(struct run *r, struct article *a, const char *url)
{
	ENTRY key = {.key = (char *)url}, *found = NULL;
	if (hsearch_r(key, FIND, &found, &r->image_index) && found)
		return -1;
	if (r->n_images >= MAX_IMAGES) {
		r->images_dropped_limit++;
		return -1;
	}
	if (r->n_images == r->cap_images) {
		r->cap_images = r->cap_images ? r->cap_images * 2 : 64;
		r->images = xrealloc(r->images, r->cap_images * sizeof(*r->images));
	}
	size_t idx = r->n_images++;
	struct run_image *im = &r->images[idx];
	memset(im, 0, sizeof(*im));
	im->step = -1;
	im->url = xstrdup(url);
	im->first_article_id = a->id;
	key.key = im->url;
	key.data = (void *)(uintptr_t)idx;
	if (!hsearch_r(key, ENTER, &found, &r->image_index))
		die_oom();
	return (long)idx;
}

/* An image the cleaner left out on purpose: never fetched, reported with its reason. */
static void note_dropped_image(struct run *r, struct article *a, const char *url,
			       const char *why)
{
	long idx = add_image(r, a, url);
	if (idx < 0)
		return;
	r->images[idx].st = IMG_FAILED;
	r->images[idx].reason = xstrdup(why);
	r->images_done++;
}

static void want_image(struct run *r, struct run_feed *rf, struct article *a, const char *url)
{
	long found_idx = add_image(r, a, url);
	if (found_idx < 0)
		return;
	size_t idx = (size_t)found_idx;
	struct run_image *im = &r->images[idx];

	if (util_starts_with_ci(url, "data:")) {
		char *data;
		size_t len;
		if (decode_data_uri(url, &data, &len, r->img_opts.max_bytes) == 0) {
			convert_bytes(r, idx, data, len);
		} else {
			im->st = IMG_FAILED;
			im->reason = xstrdup("decode: unreadable data: URI");
			r->images_done++;
		}
		return;
	}
	if (!is_http_url(url)) {
		/* Local images are allowed only when the feed itself is local (the demo corpus). */
		int local_feed = !is_http_url(rf->conf->url);
		if (!local_feed) {
			im->st = IMG_FAILED;
			im->reason = xstrdup("fetch: only http and https images are fetched");
			r->images_done++;
			return;
		}
		char *path = local_image_path(url);
		struct buf b = BUF_INIT;
		struct err e = {0};
		if (path && util_read_file(path, r->img_opts.max_bytes, &b, &e) == 0) {
			size_t len;
			char *data = buf_detach(&b, &len);
			convert_bytes(r, idx, data, len);
		} else {
			im->st = IMG_FAILED;
			im->reason = path ? xasprintf("read: %s", e.msg)
					  : xstrdup("read: not a local file URL");
			r->images_done++;
			buf_release(&b);
		}
		free(path);
		return;
	}
	enum referer_policy policy = rf->conf->referer;
	char *ref = referer_for(rf->conf, rf, a, policy);
	im->referer_alt = referer_for(rf->conf, rf, a,
				      policy == REFERER_NONE ? REFERER_ARTICLE : REFERER_NONE);
	if (!ref && !im->referer_alt)
		im->referer_alt = referer_for(rf->conf, rf, a, REFERER_ORIGIN);
	queue_image_fetch(r, idx, ref);
	free(ref);
}

/* ---- articles ---- */

/* fragment + <p><img src="url" alt=""/></p>, serialised by libxml2 so the URL is escaped. */
static char *append_lead_image(const char *fragment, const char *url)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr p = xmlNewNode(NULL, BAD_CAST "p");
	xmlDocSetRootElement(doc, p);
	xmlNodePtr img = xmlNewChild(p, NULL, BAD_CAST "img", NULL);
	xmlNewProp(img, BAD_CAST "src", BAD_CAST url);
	xmlNewProp(img, BAD_CAST "alt", BAD_CAST "");
	xmlBufferPtr xb = xmlBufferCreate();
	if (!doc || !p || !img || !xb)
		die_oom();
	xmlNodeDump(xb, doc, p, 0, 0);
	char *out = xasprintf("%s%s", fragment ? fragment : "", (const char *)xmlBufferContent(xb));
	xmlBufferFree(xb);
	xmlFreeDoc(doc);
	return out;
}

static void article_take_clean(struct run *r, struct run_feed *rf, struct article *a,
			       struct clean_result *cr, const char *source)
{
	free(a->xhtml);
	strlist_release(&a->images);
	a->xhtml = cr->xhtml;
	cr->xhtml = NULL;
	a->images = cr->images;
	memset(&cr->images, 0, sizeof(cr->images));
	a->content_source = source;
	if (!a->images.n && a->lead_image) {
		/* The feed's lead image stands in when the content has none. */
		strlist_add(&a->images, a->lead_image);
		char *with_lead = append_lead_image(a->xhtml, a->lead_image);
		free(a->xhtml);
		a->xhtml = with_lead;
	}
	for (size_t i = 0; i < a->images.n; i++)
		want_image(r, rf, a, a->images.items[i]);
	for (size_t i = 0; i < cr->dropped.n; i++)
		note_dropped_image(r, a, cr->dropped.items[i], cr->dropped_why.items[i]);
}

static int clean_article_html(struct run *r, struct run_feed *rf, const char *html, size_t len,
			      const char *base, const char *charset, struct clean_result *cr,
			      struct err *e)
{
	struct clean_opts co = {
		.base_url = base,
		.charset = charset,
		.device_width = (int)r->cfg->max_width,
		.heading_base = 2,
		.keep = rf->conf->keep.n ? &rf->conf->keep : NULL,
		.remove = rf->conf->remove.n ? &rf->conf->remove : NULL,
	};
	return clean_html(html, len, &co, cr, e);
}

static void clean_from_feed(struct run *r, struct run_feed *rf, struct article *a)
{
	struct clean_result cr = {0};
	struct err e = {0};
	const char *html = a->content ? a->content : "";
	const char *base = a->base_url ? a->base_url : a->link ? a->link : rf->conf->url;
	if (clean_article_html(r, rf, html, strlen(html), base, NULL, &cr, &e) != 0) {
		char *msg = xasprintf("feed \"%s\": article \"%s\": %s", rf->conf->name,
				      a->title, e.msg);
		report_add_warning(r->report, "clean", msg);
		free(msg);
		clean_result_release(&cr);
		cr.xhtml = xstrdup("");
	}
	article_take_clean(r, rf, a, &cr, "feed");
	clean_result_release(&cr);
}

static void page_fetched(void *user, struct fetch_response *resp)
{
	struct page_job *job = user;
	struct run *r = job->run;
	struct article *a = job->article;
	struct run_feed *rf = job->feed;
	int used = 0;
	if (resp->error == FETCH_OK && resp->data) {
		char *charset = content_type_charset(resp->content_type);
		struct extract_result xr = {0};
		struct err e = {0};
		const char *base = resp->effective_url ? resp->effective_url : a->link;
		if (extract_main(resp->data, resp->len, base, charset, &xr, &e) == 0) {
			struct clean_result full = {0}, fromfeed = {0};
			struct err ce = {0}, fe = {0};
			const char *feedhtml = a->content ? a->content : "";
			clean_article_html(r, rf, feedhtml, strlen(feedhtml),
					   a->base_url ? a->base_url : base, NULL, &fromfeed, &ce);
			/* The page is already decoded to UTF-8 by the extractor. */
			if (clean_article_html(r, rf, xr.html, strlen(xr.html), base, NULL, &full,
					       &fe) == 0 &&
			    full.text_chars > fromfeed.text_chars) {
				article_take_clean(r, rf, a, &full, "fulltext");
				used = 1;
			} else {
				a->fulltext_error =
				    fe.msg[0] ? xasprintf("clean: %s", fe.msg)
					      : xstrdup("the page has less text than the feed");
			}
			clean_result_release(&full);
			clean_result_release(&fromfeed);
		} else {
			a->fulltext_error = xasprintf("extract: %s", e.msg);
			log_debug("article %s: extract: %s", a->link, e.msg);
		}
		extract_result_release(&xr);
		free(charset);
	} else {
		a->fulltext_error = xasprintf("fetch: %s", resp->error_msg ? resp->error_msg : "failed");
		log_debug("article %s: fetch: %s", a->link, resp->error_msg ? resp->error_msg : "?");
	}
	if (!used)
		clean_from_feed(r, rf, a);
	free(job);
}

static int wants_fulltext(const struct feed_conf *fc, const struct article *a)
{
	if (!a->link || !is_http_url(a->link))
		return 0;
	if (fc->fulltext == FULLTEXT_YES)
		return 1;
	if (fc->fulltext == FULLTEXT_AUTO) {
		const char *c = a->content ? a->content : "";
		return extract_is_teaser(c, strlen(c), TEASER_MIN_CHARS);
	}
	return 0;
}

/* ---- feeds ---- */

static int cmp_newest_first(const void *pa, const void *pb)
{
	const struct article *a = *(struct article *const *)pa;
	const struct article *b = *(struct article *const *)pb;
	if (a->published != b->published)
		return a->published > b->published ? -1 : 1;
	return 0;
}

static void select_fresh(struct run *r, struct run_feed *rf)
{
	const struct config *cfg = r->cfg;
	long limit = rf->conf->max_articles >= 0 ? rf->conf->max_articles
						 : cfg->max_articles_per_feed;
	rf->fresh = xcalloc(rf->doc.n_items ? rf->doc.n_items : 1, sizeof(*rf->fresh));
	for (size_t i = 0; i < rf->doc.n_items; i++) {
		struct article *a = &rf->doc.items[i];
		struct err e = {0};
		int d = state_is_delivered(r->state, rf->key, a->id, &e);
		if (d < 0) {
			report_add_warning(r->report, "state", e.msg);
			d = 0;
		}
		if (d) {
			rf->skipped_delivered++;
			continue;
		}
		if (cfg->max_age_h > 0 && a->published >= 0 && !a->date_guessed &&
		    a->published < r->now - cfg->max_age_h * 3600) {
			rf->skipped_old++;
			continue;
		}
		rf->fresh[rf->n_fresh++] = a;
	}
	/* Stable newest-first: qsort is not stable, so break ties by document order. */
	for (size_t i = 1; i < rf->n_fresh; i++) {
		struct article *x = rf->fresh[i];
		size_t j = i;
		while (j > 0 && cmp_newest_first(&x, &rf->fresh[j - 1]) < 0) {
			rf->fresh[j] = rf->fresh[j - 1];
			j--;
		}
		rf->fresh[j] = x;
	}
	if (limit > 0 && rf->n_fresh > (size_t)limit) {
		rf->skipped_limit = (int)(rf->n_fresh - (size_t)limit);
		rf->n_fresh = (size_t)limit;
	}
}

static void feed_fetched(void *user, struct fetch_response *resp)
{
	struct run_feed *rf = user;
	rf->fetched = 1;
	rf->status = resp->status;
	rf->seconds = resp->seconds;
	rf->bytes = resp->len;
	if (resp->error != FETCH_OK) {
		rf->failed = 1;
		rf->error = xasprintf("fetch: %s", resp->error_msg ? resp->error_msg : "failed");
		return;
	}
	rf->etag = xstrdup(resp->etag);
	rf->last_modified = xstrdup(resp->last_modified);
	if (resp->not_modified) {
		rf->not_modified = 1;
		return;
	}
	char *charset = content_type_charset(resp->content_type);
	char *base = pipeline_feed_key(resp->effective_url ? resp->effective_url : rf->conf->url);
	struct feed_parse_opts po = {
		/* Links resolve against the URL without its userinfo: the feed's credentials never
		 * travel into the book or to other hosts. */
		.url = base,
		.http_charset = charset,
		.fetch_time = util_now(),
	};
	struct err e = {0};
	if (feed_parse(resp->data ? resp->data : "", resp->len, &po, &rf->doc, &e) != 0) {
		rf->failed = 1;
		rf->error = xasprintf("parse: %s", e.msg);
		feed_doc_release(&rf->doc);
	}
	free(base);
	free(charset);
}

struct feed_job {
	struct run *run;
	struct run_feed *feed;
};

static void feed_done(void *user, struct fetch_response *resp)
{
	struct feed_job *job = user;
	struct run *r = job->run;
	struct run_feed *rf = job->feed;
	free(job);
	feed_fetched(rf, resp);
	r->feeds_done++;
	if (rf->failed) {
		log_error("feed \"%s\": %s", rf->conf->name, rf->error);
	} else if (!rf->not_modified) {
		select_fresh(r, rf);
		log_debug("feed \"%s\": %zu items, %zu new", rf->conf->name, rf->doc.n_items,
			  rf->n_fresh);
		for (size_t i = 0; i < rf->n_fresh; i++) {
			struct article *a = rf->fresh[i];
			if (wants_fulltext(rf->conf, a)) {
				struct page_job *pj = xcalloc(1, sizeof(*pj));
				pj->run = r;
				pj->article = a;
				pj->feed = rf;
				char *ref = referer_for(rf->conf, rf, a, REFERER_ORIGIN);
				struct fetch_request req = {
					.url = a->link,
					.max_bytes = MAX_PAGE_BYTES,
					.check_private = 1,
					.referer = ref,
					.headers = rf->conf->headers.n ? &rf->conf->headers : NULL,
					.proxies = rf->conf->proxies.n ? &rf->conf->proxies : NULL,
					.priority = PRIORITY_PAGE,
				};
				fetch_add(r->fetcher, &req, page_fetched, pj);
				free(ref);
			} else {
				clean_from_feed(r, rf, a);
			}
		}
	} else {
		log_debug("feed \"%s\": not modified", rf->conf->name);
	}
	progress_draw(r, 0);
}

/* ---- book ---- */

static int cmp_book_image(const void *a, const void *b)
{
	return strcmp(((const struct book_image *)a)->url, ((const struct book_image *)b)->url);
}

static const char *section_lang(const struct run_feed *rf, const char *book_lang)
{
	const char *l = rf->conf->lang ? rf->conf->lang : rf->doc.lang;
	if (!l || !*l)
		return NULL;
	/* Only the primary subtag decides whether the pages need their own language. */
	size_t n = strcspn(l, "-_");
	size_t m = strcspn(book_lang, "-_");
	if (n == m && strncasecmp(l, book_lang, n) == 0)
		return NULL;
	return l;
}

/* A stable urn:uuid (version 5 layout over SHA-256) of the book's content. */
static char *book_uuid(const struct book *b)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (!ctx)
		die_oom();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, b->title, strlen(b->title));
	for (size_t s = 0; s < b->n_sections; s++)
		for (size_t i = 0; i < b->sections[s].n_articles; i++) {
			const char *id = b->sections[s].articles[i].article->id;
			EVP_DigestUpdate(ctx, "\n", 1);
			EVP_DigestUpdate(ctx, id, strlen(id));
		}
	EVP_DigestFinal_ex(ctx, md, &md_len);
	EVP_MD_CTX_free(ctx);
	md[6] = (unsigned char)((md[6] & 0x0F) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3F) | 0x80);
	return xasprintf("urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x%02x%02x%02x%02x",
			 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9],
			 md[10], md[11], md[12], md[13], md[14], md[15]);
}

static void collect_text(struct codepoints *cp, const struct book *b)
{
	codepoints_add_utf8(cp, b->title);
	for (size_t s = 0; s < b->n_sections; s++) {
		codepoints_add_utf8(cp, b->sections[s].title);
		for (size_t i = 0; i < b->sections[s].n_articles; i++) {
			const struct article *a = b->sections[s].articles[i].article;
			codepoints_add_utf8(cp, a->title);
			if (a->author)
				codepoints_add_utf8(cp, a->author);
			if (a->xhtml)
				codepoints_add_utf8(cp, a->xhtml);
		}
	}
}

static int book_has_cjk(const struct book *b)
{
	if (util_has_cjk(b->title))
		return 1;
	for (size_t s = 0; s < b->n_sections; s++) {
		if (util_has_cjk(b->sections[s].title))
			return 1;
		for (size_t i = 0; i < b->sections[s].n_articles; i++) {
			const struct article *a = b->sections[s].articles[i].article;
			if (util_has_cjk(a->title) || (a->xhtml && util_has_cjk(a->xhtml)))
				return 1;
		}
	}
	return 0;
}

static void local_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;
	if (!localtime_r(&tt, tm))
		memset(tm, 0, sizeof(*tm));
}

static char *expand_output(const char *pattern, int64_t t)
{
	struct tm tm;
	local_tm(t, &tm);
	char out[4096];
	/* The pattern is the user's own output setting; strftime cannot overflow out. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	size_t n = strftime(out, sizeof(out), pattern, &tm);
#pragma GCC diagnostic pop
	return n ? xstrdup(out) : xstrdup(pattern);
}

/* Font and cover: both optional, both degrade to nothing with a warning. */
static void add_font_and_cover(struct run *r, struct book *b, const int *counts)
{
	const struct config *cfg = r->cfg;
	struct font_choice fc = {0};
	struct err e = {0};
	int have_font = 0;
	const char *spec = cfg->font ? cfg->font : "auto";
	int cjk = book_has_cjk(b);
	if (strcmp(spec, "none") != 0 && (cjk || strcmp(spec, "auto") != 0)) {
		if (font_resolve(spec, cfg->dir, &fc, &e) == 0)
			have_font = 1;
		else
			report_add_warning(r->report, "font", e.msg), log_error("font: %s", e.msg);
	}
	if (have_font) {
		struct codepoints cp = {0}, missing = {0};
		collect_text(&cp, b);
		struct buf sub = BUF_INIT;
		const char *ext = "ttf";
		if (font_subset(&fc, &cp, &sub, &ext, &e) == 0) {
			char *path = xasprintf("%s/font.%s", r->tmpdir, ext);
			if (util_write_file(path, sub.data, sub.len, &e) == 0) {
				b->font_path = path;
				b->font_media_type = strcmp(ext, "otf") == 0 ? "font/otf" : "font/ttf";
			} else {
				free(path);
			}
		} else {
			report_add_warning(r->report, "font", e.msg);
			log_error("font: %s", e.msg);
		}
		if (font_missing(&fc, &cp, &missing, &e) == 0 && missing.n) {
			struct buf list = BUF_INIT;
			for (size_t i = 0; i < missing.n && i < 50; i++)
				buf_printf(&list, "%sU+%04X", i ? " " : "", (unsigned)missing.cp[i]);
			char *msg = xasprintf("%s lacks %zu characters of the book: %s%s", fc.family
					      ? fc.family : fc.path, missing.n, list.data,
					      missing.n > 50 ? " …" : "");
			report_add_warning(r->report, "font", msg);
			log_info("font: %s", msg);
			free(msg);
			buf_release(&list);
		}
		buf_release(&sub);
		codepoints_release(&cp);
		codepoints_release(&missing);
	}

	struct cover_feed *cf = xcalloc(b->n_sections ? b->n_sections : 1, sizeof(*cf));
	int total = 0;
	for (size_t s = 0; s < b->n_sections; s++) {
		cf[s].name = b->sections[s].title;
		cf[s].n_articles = counts[s];
		total += counts[s];
	}
	struct tm tm;
	local_tm(b->date, &tm);
	char date_text[64];
	strftime(date_text, sizeof(date_text), "%A, %-d %B %Y", &tm);
	struct cover_spec cs = {
		.title = cfg->title,
		.date_text = date_text,
		.volume_label = b->volume_label,
		.feeds = cf,
		.n_feeds = b->n_sections,
		.total_articles = total,
		.font_path = have_font ? fc.path : NULL,
		.font_index = have_font ? fc.index : 0,
		.width = (int)cfg->max_width,
		.height = (int)cfg->max_height,
		.quality = (int)cfg->jpeg_quality,
	};
	struct buf jpeg = BUF_INIT;
	if (cover_render(&cs, &jpeg, &e) == 0) {
		char *path = xasprintf("%s/cover.jpg", r->tmpdir);
		if (util_write_file(path, jpeg.data, jpeg.len, &e) == 0)
			b->cover_path = path;
		else
			free(path);
	} else {
		report_add_warning(r->report, "cover", e.msg);
		log_error("cover: %s", e.msg);
	}
	buf_release(&jpeg);
	free(cf);
	font_choice_release(&fc);
}

/* The date of t in the digest's zone, as the book's title shows it. */
static void day_of(int64_t t, char *out, size_t size)
{
	struct tm tm;
	local_tm(t, &tm);
	strftime(out, size, "%Y-%m-%d", &tm);
}

/* How many articles refs[from, to) holds, and from how many feeds, as text for the mail. */
static void mail_counts(const struct run *r, size_t from, size_t to, char n_art[24],
			char n_feeds[24])
{
	size_t feeds = 0;
	for (size_t i = from; i < to; i++)
		if (i == from || r->refs[i].rf != r->refs[i - 1].rf)
			feeds++;
	snprintf(n_art, 24, "%zu", to - from);
	snprintf(n_feeds, 24, "%zu", feeds);
}

/* Builds the book of articles refs[from, to) (a volume when label is set). counts[s] gets each
 * section's article count. */
static void build_book(struct run *r, struct book *b, int **counts_out, size_t from, size_t to,
		       const char *label)
{
	const struct config *cfg = r->cfg;
	memset(b, 0, sizeof(*b));
	b->date = r->now;
	struct tm tm;
	local_tm(r->now, &tm);
	b->tz_offset_s = (int)tm.tm_gmtoff;
	char day[32];
	day_of(r->now, day, sizeof day);
	b->title = label ? xasprintf("%s %s (%s)", cfg->title, day, label)
			 : xasprintf("%s %s", cfg->title, day);
	b->volume_label = xstrdup(label);
	b->language = xstrdup(cfg->language);
	b->templates_dir = xstrdup(r->o->templates_dir);
	b->sections = xcalloc(r->n_feeds ? r->n_feeds : 1, sizeof(*b->sections));
	int *counts = xcalloc(r->n_feeds ? r->n_feeds : 1, sizeof(*counts));
	for (size_t i = from; i < to; i++) {
		struct run_feed *rf = r->refs[i].rf;
		struct book_section *s = b->n_sections ? &b->sections[b->n_sections - 1] : NULL;
		if (!s || i == from || r->refs[i - 1].rf != rf) {
			s = &b->sections[b->n_sections];
			s->title = xstrdup(rf->conf->name);
			s->lang = xstrdup(section_lang(rf, cfg->language));
			s->articles = xcalloc(rf->n_fresh, sizeof(*s->articles));
			strlist_add(&b->subjects, rf->conf->name);
			b->n_sections++;
		}
		s->articles[s->n_articles].article = r->refs[i].a;
		s->articles[s->n_articles].feed_name = rf->conf->name;
		s->n_articles++;
		counts[b->n_sections - 1]++;
	}
	/* Image files are numbered in reading order, so the book does not depend on the order
	 * in which downloads happened to finish. */
	r->vol_mark++;
	b->images = xcalloc(r->n_images ? r->n_images : 1, sizeof(*b->images));
	size_t seq = 0;
	for (size_t i = from; i < to; i++) {
		const struct article *a = r->refs[i].a;
		for (size_t j = 0; j < a->images.n; j++) {
			ENTRY key = {.key = a->images.items[j]}, *found = NULL;
			if (!hsearch_r(key, FIND, &found, &r->image_index) || !found)
				continue;
			struct run_image *im = &r->images[(uintptr_t)found->data];
			if (im->vol_mark == r->vol_mark)
				continue;
			im->vol_mark = r->vol_mark;
			struct book_image *bi = &b->images[b->n_images++];
			bi->url = xstrdup(im->url);
			if (im->st == IMG_DONE) {
				bi->href = xasprintf("images/%04zu.jpg", ++seq);
				bi->path = xstrdup(r->pack_path);
				bi->offset = (int64_t)im->pack_off;
				bi->length = im->bytes_out;
				bi->width = im->w_out;
				bi->height = im->h_out;
			}
		}
	}
	qsort(b->images, b->n_images, sizeof(*b->images), cmp_book_image);
	b->identifier = book_uuid(b);
	*counts_out = counts;
}

/* ---- the run ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* The PID a leftover's name carries after prefix ("inkdigest.", ".part-"), when that process
 * is gone; 0 when it runs (or cannot be told), or the name is not one of ours. */
static long dead_pid_in(const char *name, const char *prefix)
{
	const char *p = strstr(name, prefix);
	if (!p)
		return 0;
	p += strlen(prefix);
	char *end;
	errno = 0;
	long pid = strtol(p, &end, 10);
	if (errno || end == p || (*end && *end != '.') || pid <= 0 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH ? pid : 0;
}

/* Removes what runs killed with kill -9 left behind (nothing else can clean up after them):
 * folders "inkdigest.PID.XXXXXX" in tmpbase and files "NAME.epub.part-PID" in out_dir, of a
 * PID that no longer runs, owned by this user. Best effort: a leftover that resists stays. */
static void sweep_leftovers(const char *tmpbase, const char *out_dir)
{
	const char *dirs[] = {tmpbase, out_dir};
	for (size_t k = 0; k < ARRAY_SIZE(dirs); k++) {
		DIR *d = dirs[k] ? opendir(dirs[k]) : NULL;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			int tmp = k == 0;
			if (tmp ? strncmp(de->d_name, "inkdigest.", 10) != 0
				: !strstr(de->d_name, ".epub.part-"))
				continue;
			if (!dead_pid_in(de->d_name, tmp ? "inkdigest." : ".epub.part-"))
				continue;
			char *path = xasprintf("%s/%s", dirs[k], de->d_name);
			struct stat st;
			if (lstat(path, &st) == 0 && st.st_uid == geteuid() &&
			    (tmp ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) {
				if (tmp)
					nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
				else
					unlink(path);
				log_debug("removed %s, left by a run that was killed", path);
			}
			free(path);
		}
		if (d)
			closedir(d);
	}
}

static int fsync_path(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		err_set(e, errno, "%s: fsync: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void report_everything(struct run *r)
{
	for (size_t i = 0; i < r->n_feeds; i++) {
		struct run_feed *rf = &r->feeds[i];
		struct report_feed f = {
			.name = rf->conf->name,
			.url = rf->key,
			.http_status = rf->status,
			.bytes = rf->bytes,
			.seconds = rf->seconds,
			.not_modified = rf->not_modified,
			.error = rf->error,
			.format = rf->doc.format,
			.articles_total = (int)rf->doc.n_items,
			.articles_new = (int)rf->n_fresh,
			.skipped_delivered = rf->skipped_delivered,
			.skipped_old = rf->skipped_old,
			.skipped_limit = rf->skipped_limit,
			.warnings = &rf->doc.warnings,
		};
		report_add_feed(r->report, &f);
		for (size_t k = 0; k < rf->n_fresh; k++) {
			const struct article *a = rf->fresh[k];
			struct report_article ra = {
				.feed = rf->conf->name,
				.id = a->id,
				.title = a->title,
				.link = a->link,
				.content_source = a->content_source ? a->content_source : "feed",
				.fulltext_error = a->fulltext_error,
				.n_images = (int)a->images.n,
			};
			report_add_article(r->report, &ra);
		}
	}
	for (size_t i = 0; i < r->n_images; i++) {
		struct run_image *im = &r->images[i];
		struct report_image ri = {
			.url = util_starts_with_ci(im->url, "data:") ? "data:…" : im->url,
			.article_id = im->first_article_id,
			.http_status = im->http_status,
			.bytes_in = im->bytes_in,
			.bytes_out = im->bytes_out,
			.width_in = im->w_in,
			.height_in = im->h_in,
			.width_out = im->w_out,
			.height_out = im->h_out,
			.format = im->format,
			.seconds = im->seconds,
			.dropped = im->st == IMG_DONE ? NULL : im->reason ? im->reason : "not fetched",
		};
		report_add_image(r->report, &ri);
	}
	if (r->images_dropped_limit) {
		char *msg = xasprintf("%zu images over the limit of %d per digest were dropped",
				      r->images_dropped_limit, MAX_IMAGES);
		report_add_warning(r->report, "image", msg);
		free(msg);
	}
}

static void start_fetches(struct run *r)
{
	for (size_t i = 0; i < r->n_feeds; i++) {
		struct run_feed *rf = &r->feeds[i];
		struct http_cache hc = {0};
		struct err e = {0};
		if (state_http_get(r->state, rf->key, &hc, &e) != 0)
			report_add_warning(r->report, "state", e.msg);
		struct feed_job *job = xcalloc(1, sizeof(*job));
		job->run = r;
		job->feed = rf;
		struct fetch_request req = {
			.url = rf->conf->url,
			.max_bytes = (size_t)r->cfg->max_feed_bytes,
			.allow_file = 1,
			.etag = hc.etag,
			.last_modified = hc.last_modified,
			.headers = rf->conf->headers.n ? &rf->conf->headers : NULL,
			.proxies = rf->conf->proxies.n ? &rf->conf->proxies : NULL,
			.priority = PRIORITY_FEED,
		};
		fetch_add(r->fetcher, &req, feed_done, job);
		http_cache_release(&hc);
	}
}

/* Without a book: commits the validators only. With one: records the deliveries of refs[from,
 * to) as pending (state_prepare), to be confirmed once the book is in place and mailed; the
 * feeds' validators go with the last volume, so a feed is only marked read once all of it is. */
static int commit_state(struct run *r, const struct pending_book *pb, size_t from, size_t to,
			int with_http, int64_t *pending_id, struct err *e)
{
	size_t n_items = 0, n_http = 0;
	struct delivery_item *items = xcalloc(to > from ? to - from : 1, sizeof(*items));
	struct http_update *http = xcalloc(r->n_feeds ? r->n_feeds : 1, sizeof(*http));
	for (size_t i = from; i < to; i++) {
		const struct article *a = r->refs[i].a;
		items[n_items].feed_key = r->refs[i].rf->key;
		items[n_items].article_id = a->id;
		items[n_items].title = a->title;
		items[n_items].published = a->published;
		n_items++;
	}
	for (size_t i = 0; with_http && i < r->n_feeds; i++) {
		struct run_feed *rf = &r->feeds[i];
		if (!rf->failed && rf->fetched && (rf->etag || rf->last_modified)) {
			http[n_http].url = rf->key;
			http[n_http].etag = rf->etag;
			http[n_http].last_modified = rf->last_modified;
			n_http++;
		}
	}
	int rc = pb ? state_prepare(r->state, pb, r->now, items, n_items, http, n_http, pending_id,
				    e)
		    : state_commit(r->state, NULL, r->now, items, 0, http, n_http, e);
	free(items);
	free(http);
	return rc;
}

/* Mails the books; the subject and body templates are filled from v. */
static int send_books(const struct config *cfg, const char *const *paths, const char *const *names,
		      size_t n, const struct mail_vars *v, struct err *e)
{
	const struct mail_conf *m = &cfg->mail;
	char *subject = mail_expand(m->subject ? m->subject : MAIL_DEFAULT_SUBJECT, v, e);
	char *body = subject ? mail_expand(m->body ? m->body : MAIL_DEFAULT_BODY_TEMPLATE, v, e)
			     : NULL;
	char *password = NULL;
	if (!body || ((m->password_env || m->password_file || m->password_command) &&
		      mail_resolve_password(m->password_env, m->password_file,
					    m->password_command, &password, e) != 0)) {
		free(subject);
		free(body);
		return -1;
	}
	struct mail_settings ms = {
		.smtp_url = m->smtp_url,
		.tls_none = m->tls && strcmp(m->tls, "none") == 0,
		.user = m->user,
		.password = password,
		.ca_file = m->ca_file,
		.from = m->from,
		.to = &m->to,
		.subject = subject,
		.body = body,
		.max_mail_size = m->max_mail_size,
		.verbose = log_get_level() >= LOG_DEBUG,
	};
	int rc = mail_send(&ms, paths, names, n, e);
	free(subject);
	free(body);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}

/* ---- volumes and the size budget ---- */

struct volume {
	size_t from, to;         /* articles refs[from, to) */
	char *out_path, *tmp_path;
	size_t bytes;
	int64_t pending_id;
	int prepared, placed, confirmed;
};

/* Does a book of this many bytes fit the budget (counting base64 when it is mailed)? */
static int fits_budget(const struct run *r, size_t bytes)
{
	const struct config *cfg = r->cfg;
	int mail_on = cfg->mail.enabled && !r->o->no_mail;
	size_t counted = mail_on ? mail_encoded_size(bytes) : bytes;
	if (cfg->max_size > 0 && counted > (size_t)cfg->max_size)
		return 0;
	if (mail_on && cfg->mail.max_mail_size > 0 && counted > (size_t)cfg->mail.max_mail_size)
		return 0;
	return 1;
}

/* Writes the book of v's articles to v->tmp_path, synced. Returns an exit code. */
static int write_volume(struct run *r, struct volume *v, const char *label, struct err *e)
{
	struct book book = {0};
	int *counts = NULL;
	build_book(r, &book, &counts, v->from, v->to, label);
	add_font_and_cover(r, &book, counts);
	int rc = EXIT_OK_;
	struct stat st;
	if (epub_write(&book, v->tmp_path, e) != 0) {
		err_prefix(e, "book %s", v->out_path);
		rc = EXIT_CANTCREAT;
	} else if (fsync_path(v->tmp_path, e) != 0 || stat(v->tmp_path, &st) != 0) {
		if (!e->code)
			err_set(e, errno, "book %s: %s", v->tmp_path, strerror(errno));
		rc = EXIT_CANTCREAT;
	} else {
		v->bytes = (size_t)st.st_size;
	}
	if (rc != EXIT_OK_)
		unlink(v->tmp_path);
	book_release(&book);
	free(counts);
	return rc;
}

/* The bytes of a converted image, when it has them; 0, or -1 (b left empty). */
static int read_converted(const struct run *r, const struct run_image *im, struct buf *b)
{
	struct err e = {0};
	if (im->st != IMG_DONE || !im->stored)
		return -1;
	buf_reserve(b, im->bytes_out);
	if (util_pread_all(r->pack_fd, r->pack_path, b->data, im->bytes_out, im->pack_off, &e) !=
	    0) {
		buf_release(b);
		return -1;
	}
	b->len = im->bytes_out;
	b->data[b->len] = '\0';
	return 0;
}

/* Re-encodes every converted image that is not yet at shrink step `step` at that step, from
 * the converted JPEG itself: the originals are not kept, and gray-to-gray costs little. */
static void shrink_images(struct run *r, int step)
{
	for (size_t i = 0; i < r->n_images; i++) {
		struct run_image *im = &r->images[i];
		struct buf b = BUF_INIT;
		if (im->step >= step || read_converted(r, im, &b) != 0)
			continue;
		struct convert_task *t = xcalloc(1, sizeof(*t));
		t->index = i;
		t->data = buf_detach(&b, &t->len);
		t->reencode = 1;
		t->opts = &r->step_opts[step];
		t->step = step;
		im->stored = 0;
		im->st = IMG_CONVERTING;
		pool_submit(r, t);
	}
	pool_collect(r, 1);
}

/* What one article adds to a book, roughly: its text (deflated about by half) and the images
 * it is the first to use. */
static size_t article_cost(struct run *r, size_t i)
{
	const struct article *a = r->refs[i].a;
	size_t cost = a->xhtml ? strlen(a->xhtml) / 2 : 0;
	for (size_t j = 0; j < a->images.n; j++) {
		ENTRY key = {.key = a->images.items[j]}, *found = NULL;
		if (!hsearch_r(key, FIND, &found, &r->image_index) || !found)
			continue;
		struct run_image *im = &r->images[(uintptr_t)found->data];
		if (im->st == IMG_DONE && im->vol_mark != r->vol_mark) {
			im->vol_mark = r->vol_mark;
			cost += im->bytes_out;
		}
	}
	return cost;
}

static char *volume_path(const char *out_path, size_t k, size_t n)
{
	if (n == 1)
		return xstrdup(out_path);
	const char *slash = strrchr(out_path, '/');
	const char *dot = strrchr(out_path, '.');
	if (!dot || (slash && dot < slash))
		return xasprintf("%s-%zu", out_path, k + 1);
	return xasprintf("%.*s-%zu%s", (int)(dot - out_path), out_path, k + 1, dot);
}


/* The image settings of shrink step k: its quality (never above the configured one) and box. */
static struct image_opts make_step_opts(const struct run *r, size_t k)
{
	struct image_opts o = r->img_opts;
	o.quality = shrink_steps[k].quality < r->cfg->jpeg_quality ? shrink_steps[k].quality
								   : (int)r->cfg->jpeg_quality;
	o.max_width = (int)(r->cfg->max_width * shrink_steps[k].box_percent / 100);
	o.max_height = (int)(r->cfg->max_height * shrink_steps[k].box_percent / 100);
	return o;
}

/* Queues trial encodes of a sample of the converted images (about `sample`, evenly spread) at
 * every shrink step; their sizes add up in probe_after[k], the sample's own in probe_before. */
static void probe_sample(struct run *r, size_t sample)
{
	size_t n_done = 0;
	for (size_t i = 0; i < r->n_images; i++)
		n_done += r->images[i].st == IMG_DONE && r->images[i].stored;
	size_t stride = n_done / sample > 1 ? n_done / sample : 1;
	r->probe_before = 0;
	memset(r->probe_after, 0, sizeof(r->probe_after));
	for (size_t i = 0, seen = 0; i < r->n_images; i++) {
		struct run_image *im = &r->images[i];
		struct buf b = BUF_INIT;
		if (im->st != IMG_DONE || !im->stored || seen++ % stride ||
		    read_converted(r, im, &b) != 0)
			continue;
		r->probe_before += im->bytes_out;
		for (size_t k = 0; k < N_STEPS; k++) {
			struct convert_task *t = xcalloc(1, sizeof(*t));
			t->index = i;
			t->len = b.len;
			t->data = xmalloc(b.len ? b.len : 1);
			memcpy(t->data, b.data, b.len);
			t->reencode = 1;
			t->opts = &r->step_opts[k];
			t->step = (int)k;
			t->probe_bytes = &r->probe_after[k];
			r->probes_left++;
			pool_submit(r, t);
		}
		buf_release(&b);
	}
}

/* The first shrink step at which `other` bytes plus images of img_bytes, shrinking as the
 * probed sample did, fit the budget with a little headroom; the last step when none does. */
static int pick_step(const struct run *r, double other, double img_bytes)
{
	if (!r->probe_before)
		return 0;
	for (size_t k = 0; k + 1 < N_STEPS; k++) {
		double ratio = (double)r->probe_after[k] / (double)r->probe_before;
		if (fits_budget(r, (size_t)((other + img_bytes * ratio) * 1.03)))
			return (int)k;
	}
	return (int)N_STEPS - 1;
}

/* The first shrink step a written book of book_bytes is predicted to fit at. */
static int predict_shrink_step(struct run *r, size_t book_bytes)
{
	size_t img_bytes = 0;
	for (size_t i = 0; i < r->n_images; i++)
		if (r->images[i].st == IMG_DONE && r->images[i].stored)
			img_bytes += r->images[i].bytes_out;
	if (!img_bytes || img_bytes >= book_bytes)
		return 0;
	probe_sample(r, 48);
	pool_collect(r, 1);
	return pick_step(r, (double)(book_bytes - img_bytes), (double)img_bytes);
}

static int budget_limited(const struct run *r)
{
	int mail_on = r->cfg->mail.enabled && !r->o->no_mail;
	return r->cfg->max_size > 0 || (mail_on && r->cfg->mail.max_mail_size > 0);
}

/* While images still arrive: once a tenth of them (at least 48) is converted, project the
 * book's size; when it will not fit, probe a sample and have the remaining conversions use
 * the step predicted to fit, so that few images are encoded twice. write_books checks the
 * result and shrinks further when the projection was short. */
static void budget_watch(struct run *r)
{
	int64_t sde;
	/* Which images convert before the decision depends on timing: a reproducible build
	 * (SOURCE_DATE_EPOCH) takes the slower path that does not. */
	if (r->probing == 2 || !budget_limited(r) || util_source_date_epoch(&sde))
		return;
	size_t n_done = 0, n_expected = 0, img_bytes = 0, text = 0;
	for (size_t i = 0; i < r->n_images; i++) {
		const struct run_image *im = &r->images[i];
		n_expected += im->st != IMG_FAILED;
		if (im->st == IMG_DONE && im->stored) {
			n_done++;
			img_bytes += im->bytes_out;
		}
	}
	if (n_done < 48 || n_done * 10 < n_expected)
		return;
	for (size_t f = 0; f < r->n_feeds; f++)
		for (size_t k = 0; k < r->feeds[f].n_fresh; k++) {
			const struct article *a = r->feeds[f].fresh[k];
			text += a->xhtml ? strlen(a->xhtml) / 3 : 0;
		}
	/* Cover, navigation and a CJK font subset: a generous guess. */
	double other = (double)text + 2e6;
	double projected = (double)img_bytes / (double)n_done * (double)n_expected;
	if (r->probing == 0) {
		if (fits_budget(r, (size_t)((other + projected) * 1.1)))
			return;
		probe_sample(r, 32);
		r->probing = 1;
		return;
	}
	if (r->probes_left)
		return;
	int step = fits_budget(r, (size_t)((other + projected) * 1.03))
			   ? -1
			   : pick_step(r, other, projected);
	pthread_mutex_lock(&r->mu);
	r->cur_step = step;
	pthread_mutex_unlock(&r->mu);
	r->probing = 2;
	if (step >= 0) {
		const struct image_opts *so = &r->step_opts[step];
		char *note = xasprintf("%zu images projected at %.1f MB, over the budget: images "
				       "converted at quality %d in %dx%d",
				       n_expected, projected / 1e6, so->quality, so->max_width,
				       so->max_height);
		log_info("%s", note);
		strlist_add_owned(&r->budget_notes, note);
	}
}

/* Plans and writes the books: one when it fits the budget, else with smaller images, else in
 * volumes at article boundaries. On success vols/n_vols hold the written temporary files. */
static int write_books(struct run *r, const char *out_path, struct volume **vols_out,
		       size_t *n_vols_out, struct err *e)
{
	struct volume *vols = xcalloc(1, sizeof(*vols));
	size_t n_vols = 1;
	vols[0].from = 0;
	vols[0].to = r->n_refs;
	vols[0].out_path = xstrdup(out_path);
	vols[0].tmp_path = xasprintf("%s.part-%ld", out_path, (long)getpid());
	int rc = write_volume(r, &vols[0], NULL, e);
	/* Straight to the step decided while converting, or predicted now; the next ones stay
	 * as the fallback. */
	int step = 0;
	if (rc == EXIT_OK_ && !fits_budget(r, vols[0].bytes))
		step = r->cur_step >= 0 ? r->cur_step : predict_shrink_step(r, vols[0].bytes);
	while (rc == EXIT_OK_ && !fits_budget(r, vols[0].bytes) && step < (int)N_STEPS) {
		const struct image_opts *so = &r->step_opts[step];
		char *note = xasprintf("%.1f MB is over the budget: images re-encoded at quality %d in "
				       "%dx%d",
				       (double)vols[0].bytes / 1e6, so->quality, so->max_width,
				       so->max_height);
		log_info("%s", note);
		strlist_add_owned(&r->budget_notes, note);
		shrink_images(r, step);
		unlink(vols[0].tmp_path);
		rc = write_volume(r, &vols[0], NULL, e);
		step++;
	}
	if (rc == EXIT_OK_ && !fits_budget(r, vols[0].bytes) && r->n_refs > 1) {
		/* Still too big at the floor: split at article boundaries. The overhead of a book
		 * (cover, font, navigation) is what the whole book weighs beyond its articles. */
		size_t whole = vols[0].bytes, sum = 0;
		r->vol_mark++;
		size_t *cost = xcalloc(r->n_refs, sizeof(*cost));
		for (size_t i = 0; i < r->n_refs; i++)
			sum += cost[i] = article_cost(r, i);
		size_t overhead = whole > sum ? whole - sum : 0;
		if (overhead < 200000)
			overhead = 200000;
		size_t budget = whole;
		while (budget > 0 && !fits_budget(r, budget))
			budget -= budget / 50 + 1;
		size_t target = budget > overhead ? (budget - overhead) * 9 / 10 : budget / 2;
		unlink(vols[0].tmp_path);
		free(vols[0].out_path);
		free(vols[0].tmp_path);
		free(vols);
		vols = xcalloc(r->n_refs, sizeof(*vols));
		n_vols = 0;
		size_t acc = 0;
		for (size_t i = 0; i < r->n_refs; i++) {
			if (n_vols == 0 || (acc + cost[i] > target && vols[n_vols - 1].to > vols[n_vols - 1].from)) {
				vols[n_vols].from = i;
				vols[n_vols].to = i;
				n_vols++;
				acc = 0;
			}
			vols[n_vols - 1].to = i + 1;
			acc += cost[i];
		}
		free(cost);
		/* Write them; a volume that still does not fit is halved until it does. */
		for (size_t k = 0; rc == EXIT_OK_ && k < n_vols; k++) {
			for (;;) {
				char label[64];
				snprintf(label, sizeof(label), "%zu of %zu", k + 1, n_vols);
				free(vols[k].out_path);
				free(vols[k].tmp_path);
				vols[k].out_path = volume_path(out_path, k, n_vols);
				vols[k].tmp_path = xasprintf("%s.part-%ld", vols[k].out_path,
							     (long)getpid());
				rc = write_volume(r, &vols[k], label, e);
				if (rc != EXIT_OK_ || fits_budget(r, vols[k].bytes) ||
				    vols[k].to - vols[k].from < 2)
					break;
				unlink(vols[k].tmp_path);
				memmove(&vols[k + 2], &vols[k + 1], (n_vols - k - 1) * sizeof(*vols));
				memset(&vols[k + 1], 0, sizeof(*vols));
				size_t mid = vols[k].from + (vols[k].to - vols[k].from) / 2;
				vols[k + 1].from = mid;
				vols[k + 1].to = vols[k].to;
				vols[k].to = mid;
				n_vols++;
				/* Labels and names change with the count: rewrite the earlier ones. */
				for (size_t j = 0; j < k; j++) {
					unlink(vols[j].tmp_path);
					k = 0;
				}
				if (k == 0 && n_vols > 1)
					continue;
			}
		}
		char *note = xasprintf("split into %zu volumes", n_vols);
		log_info("%s", note);
		strlist_add_owned(&r->budget_notes, note);
	}
	if (rc == EXIT_OK_ && n_vols == 1 && !fits_budget(r, vols[0].bytes)) {
		char *note = xasprintf("%.1f MB is still over the budget with one article",
				       (double)vols[0].bytes / 1e6);
		report_add_warning(r->report, "budget", note);
		free(note);
	}
	if (rc != EXIT_OK_) {
		for (size_t k = 0; k < n_vols; k++) {
			if (vols[k].tmp_path)
				unlink(vols[k].tmp_path);
			free(vols[k].out_path);
			free(vols[k].tmp_path);
		}
		free(vols);
		return rc;
	}
	for (size_t i = 0; i < r->budget_notes.n; i++)
		report_add_warning(r->report, "budget", r->budget_notes.items[i]);
	*vols_out = vols;
	*n_vols_out = n_vols;
	return EXIT_OK_;
}

/* Puts the volumes in place: pending in the state, renamed, mailed, confirmed. Returns an
 * exit code; on failure what is not confirmed is discarded (its articles stay new). */
static int deliver_books(struct run *r, struct volume *vols, size_t n_vols, struct err *e)
{
	const struct config *cfg = r->cfg;
	int mail_on = cfg->mail.enabled && !r->o->no_mail;
	int rc = EXIT_OK_;
	for (size_t k = 0; k < n_vols && rc == EXIT_OK_; k++) {
		struct volume *v = &vols[k];
		struct stat st;
		if (stat(v->tmp_path, &st) != 0) {
			err_set(e, errno, "book %s: %s", v->tmp_path, strerror(errno));
			rc = EXIT_CANTCREAT;
			break;
		}
		/* Pending before the rename, with the file's identity: a run killed from here on
		 * is settled by the next run's state_recover (delivered if the file made it into
		 * place and owed no mail, new again if not). */
		struct pending_book pb = {
			.path = v->out_path,
			.dev = (uint64_t)st.st_dev,
			.ino = (uint64_t)st.st_ino,
			.size = (int64_t)st.st_size,
			.needs_mail = mail_on,
		};
		if (commit_state(r, &pb, v->from, v->to, k == n_vols - 1, &v->pending_id, e) != 0) {
			rc = EXIT_IOERR;
			break;
		}
		v->prepared = 1;
		if (rename(v->tmp_path, v->out_path) != 0) {
			err_set(e, errno, "book %s: rename: %s", v->out_path, strerror(errno));
			rc = EXIT_CANTCREAT;
			break;
		}
		v->placed = 1;
		if (util_fsync_dir_of(v->out_path, e) != 0) {
			rc = EXIT_CANTCREAT;
			break;
		}
		report_add_book(r->report, v->out_path, v->bytes);
	}
	if (rc == EXIT_OK_ && mail_on) {
		/* Together when they fit one mail, else one mail per volume. */
		size_t total = 0;
		for (size_t k = 0; k < n_vols; k++)
			total += mail_encoded_size(vols[k].bytes);
		int together = n_vols <= 25 && (cfg->mail.max_mail_size <= 0 ||
						total <= (size_t)cfg->mail.max_mail_size);
		size_t per = together ? n_vols : 1;
		for (size_t k = 0; k < n_vols && rc == EXIT_OK_; k += per) {
			const char **paths = xcalloc(per, sizeof(*paths));
			const char **names = xcalloc(per, sizeof(*names));
			for (size_t j = 0; j < per; j++) {
				paths[j] = vols[k + j].out_path;
				const char *slash = strrchr(paths[j], '/');
				names[j] = slash ? slash + 1 : paths[j];
			}
			struct mail_vars mv;
			char day[32], n_art[24], n_feeds[24], n_books[24];
			day_of(r->now, day, sizeof day);
			mail_counts(r, vols[k].from, vols[k + per - 1].to, n_art, n_feeds);
			snprintf(n_books, sizeof n_books, "%zu", per);
			mv = (struct mail_vars){cfg->title, day, n_art, n_feeds, n_books};
			if (send_books(cfg, paths, names, per, &mv, e) != 0) {
				report_set_mail(r->report,
						e->code == MAIL_ERR_TEMPORARY ? "temporary failure"
									      : "failed",
						e->msg);
				err_prefix(e, "%s", "");
				memmove(e->msg, e->msg + 2, strlen(e->msg + 2) + 1);
				rc = e->code == MAIL_ERR_TEMPORARY ? EXIT_TEMPFAIL
				     : e->code == MAIL_ERR_CONFIG  ? EXIT_CONFIG
								   : EXIT_UNAVAILABLE;
			} else {
				for (size_t j = 0; j < per && rc == EXIT_OK_; j++) {
					if (state_confirm(r->state, vols[k + j].pending_id, r->now,
							  e) != 0)
						rc = EXIT_IOERR;
					else
						vols[k + j].confirmed = 1;
				}
			}
			free(paths);
			free(names);
		}
		if (rc == EXIT_OK_)
			report_set_mail(r->report, "sent", NULL);
	} else {
		for (size_t k = 0; k < n_vols && rc == EXIT_OK_; k++) {
			if (state_confirm(r->state, vols[k].pending_id, r->now, e) != 0)
				rc = EXIT_IOERR;
			else
				vols[k].confirmed = 1;
		}
	}
	for (size_t k = 0; k < n_vols; k++) {
		if (rc != EXIT_OK_ && vols[k].prepared && !vols[k].confirmed)
			state_discard(r->state, vols[k].pending_id, NULL);
		if (!vols[k].placed)
			unlink(vols[k].tmp_path);
	}
	return rc;
}

char *pipeline_feed_key(const char *url)
{
	return is_http_url(url) ? fetch_url_redact(url) : xstrdup(url);
}

int pipeline_send(const struct config *cfg, const char *const *paths, size_t n)
{
	const char **names = xcalloc(n ? n : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(paths[i], '/');
		names[i] = slash ? slash + 1 : paths[i];
	}
	struct err e = {0};
	char day[32], n_books[24];
	day_of(util_now(), day, sizeof day);
	snprintf(n_books, sizeof n_books, "%zu", n);
	/* A resend does not know what the books hold: the counts stay empty. */
	struct mail_vars mv = {.title = cfg->title, .date = day, .books = n_books};
	int rc = send_books(cfg, paths, names, n, &mv, &e);
	free(names);
	if (rc != 0) {
		log_error("%s", e.msg);
		return e.code == MAIL_ERR_TEMPORARY ? EXIT_TEMPFAIL
		       : e.code == MAIL_ERR_CONFIG ? EXIT_CONFIG
						   : EXIT_UNAVAILABLE;
	}
	log_info("mail: sent %zu book(s) to %zu recipient(s)", n, cfg->mail.to.n);
	return EXIT_OK_;
}

int pipeline_run(const struct pipeline_opts *o)
{
	const struct config *cfg = o->cfg;
	struct run r = {0};
	struct book book = {0};
	int *counts = NULL;
	char *out_path = NULL, *tmp_out = NULL;
	int rc = EXIT_SOFTWARE;
	struct err e = {0};
	int mail_on = cfg->mail.enabled && !o->no_mail;
	char summary[1024] = "failed before fetching";

	r.o = o;
	r.cfg = cfg;
	r.pack_fd = -1;
	r.now = util_now();
	r.t0 = util_monotonic();
	r.report = report_new(r.now);
	r.img_opts = (struct image_opts){
		.max_width = (int)cfg->max_width,
		.max_height = (int)cfg->max_height,
		.quality = (int)cfg->jpeg_quality,
		.max_bytes = (size_t)cfg->max_image_bytes,
		.max_pixels = (uint64_t)cfg->max_image_pixels,
		.min_side = 16,
	};
	r.cur_step = -1;
	for (size_t k = 0; k < N_STEPS; k++)
		r.step_opts[k] = make_step_opts(&r, k);
	if (!hcreate_r(MAX_IMAGES * 2, &r.image_index))
		die_oom();

	if (state_open(o->state_path, o->lock_wait_s, &r.state, &e) != 0) {
		log_error("state: %s", e.msg);
		rc = e.code == STATE_ERR_LOCKED ? EXIT_TEMPFAIL : EXIT_IOERR;
		goto out;
	}
	int n_confirmed = 0, n_discarded = 0;
	if (state_recover(r.state, r.now, &n_confirmed, &n_discarded, &e) != 0) {
		log_error("%s", e.msg);
		rc = EXIT_IOERR;
		goto out;
	}
	if (n_confirmed || n_discarded)
		log_info("state: settled an interrupted run: %d book(s) delivered, %d not",
			 n_confirmed, n_discarded);
	const char *tmpbase = getenv("TMPDIR");
	if (!tmpbase || !*tmpbase)
		tmpbase = "/tmp";
	sweep_leftovers(tmpbase, NULL);
	char *tmpl = xasprintf("%s/inkdigest.%ld.XXXXXX", tmpbase, (long)getpid());
	if (!mkdtemp(tmpl)) {
		log_error("temporary folder %s: %s", tmpl, strerror(errno));
		free(tmpl);
		rc = EXIT_CANTCREAT;
		goto out;
	}
	r.tmpdir = tmpl;
	r.pack_path = xasprintf("%s/images.pack", r.tmpdir);
	r.pack_fd = open(r.pack_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r.pack_fd < 0) {
		log_error("temporary file %s: %s", r.pack_path, strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}

	r.n_feeds = cfg->n_feeds;
	r.feeds = xcalloc(r.n_feeds ? r.n_feeds : 1, sizeof(*r.feeds));
	for (size_t i = 0; i < r.n_feeds; i++) {
		r.feeds[i].conf = &cfg->feeds[i];
		r.feeds[i].key = pipeline_feed_key(cfg->feeds[i].url);
	}

	struct fetch_opts fo = {
		.max_total = (int)cfg->concurrency,
		.max_per_host = (int)cfg->per_host,
		.connect_timeout_ms = cfg->connect_timeout_s * 1000,
		.timeout_ms = cfg->timeout_s * 1000,
		.max_redirects = 5,
		.max_retries = 2,
		.proxy = cfg->proxy,
		.ca_file = cfg->ca_file,
		.block_private = cfg->block_private_addresses,
		.verbose = log_get_level() >= LOG_DEBUG,
	};
	r.fetcher = fetch_new(&fo);
	pool_start(&r);
	log_set_progress_line(o->progress);
	double t_stage = util_monotonic();
	start_fetches(&r);
	fetch_run(r.fetcher, idle_cb, &r);
	pool_collect(&r, 1);
	report_set_stage_time(r.report, "fetch_convert", util_monotonic() - t_stage);
	progress_draw(&r, 1);
	log_set_progress_line(0);
	if (r.scratch_error) {
		/* A full disk: a book without its images would pass for a good one. */
		err_set(&e, EFBIG, "temporary file %s", r.scratch_error);
		log_error("%s", e.msg);
		rc = EXIT_CANTCREAT;
		goto out;
	}

	size_t n_ok = 0, n_failed = 0, n_new = 0;
	for (size_t i = 0; i < r.n_feeds; i++) {
		if (r.feeds[i].failed)
			n_failed++;
		else
			n_ok++;
		n_new += r.feeds[i].n_fresh;
	}
	report_everything(&r);

	if (n_new == 0) {
		if (commit_state(&r, NULL, 0, 0, 1, NULL, &e) != 0) {
			log_error("state: %s", e.msg);
			rc = EXIT_IOERR;
			goto out;
		}
		if (n_failed && !n_ok) {
			snprintf(summary, sizeof(summary), "every feed failed (%zu): no book", n_failed);
			log_error("every feed failed: no book written");
			rc = EXIT_UNAVAILABLE;
		} else {
			snprintf(summary, sizeof(summary), "nothing new from %zu feeds%s", n_ok,
				 n_failed ? ", some failed" : "");
			log_info("nothing new: no book written");
			rc = EXIT_OK_;
		}
		goto out;
	}

	/* The new articles in book order: feeds as configured, each newest first. */
	r.refs = xcalloc(n_new, sizeof(*r.refs));
	for (size_t i = 0; i < r.n_feeds; i++)
		for (size_t k = 0; k < r.feeds[i].n_fresh; k++)
			r.refs[r.n_refs++] = (struct art_ref){&r.feeds[i], r.feeds[i].fresh[k]};

	t_stage = util_monotonic();
	out_path = o->output ? xstrdup(o->output) : expand_output(cfg->output, r.now);
	{
		/* Shown to the user and kept in the state: "/a/examples/../out/x" as "/a/out/x". */
		char *dir = util_dirname(out_path), *real = realpath(dir, NULL);
		const char *slash = strrchr(out_path, '/');
		if (real) {
			char *canon = xasprintf("%s/%s", real, slash ? slash + 1 : out_path);
			free(out_path);
			out_path = canon;
		}
		free(real);
		free(dir);
	}
	{
		char *out_dir = util_dirname(out_path);
		sweep_leftovers(NULL, out_dir);
		free(out_dir);
	}
	struct volume *vols = NULL;
	size_t n_vols = 0;
	rc = write_books(&r, out_path, &vols, &n_vols, &e);
	report_set_stage_time(r.report, "book", util_monotonic() - t_stage);
	if (rc != EXIT_OK_) {
		log_error("%s", e.msg);
		goto out;
	}
	rc = deliver_books(&r, vols, n_vols, &e);
	size_t book_bytes = 0;
	for (size_t k = 0; k < n_vols; k++)
		book_bytes += vols[k].bytes;
	if (rc != EXIT_OK_) {
		if (rc == EXIT_TEMPFAIL || rc == EXIT_UNAVAILABLE || rc == EXIT_CONFIG)
			log_error("%s (the book stays at %s; its articles will be sent again)",
				  e.msg, vols[0].out_path);
		else
			log_error("%s", e.msg);
	}
	struct strlist paths = {0};
	for (size_t k = 0; k < n_vols; k++) {
		if (vols[k].placed)
			strlist_add(&paths, vols[k].out_path);
		free(vols[k].out_path);
		free(vols[k].tmp_path);
	}
	free(vols);
	if (rc != EXIT_OK_) {
		strlist_release(&paths);
		goto out;
	}
	if (state_prune(r.state, (int)cfg->prune_days, r.now, &e) != 0)
		report_add_warning(r.report, "state", e.msg);
	size_t delivered = 0, dropped = 0;
	for (size_t i = 0; i < r.n_images; i++)
		r.images[i].st == IMG_DONE ? delivered++ : dropped++;
	size_t n_sections = 0;
	for (size_t i = 0; i < r.n_feeds; i++)
		n_sections += r.feeds[i].n_fresh > 0;
	snprintf(summary, sizeof(summary),
		 "%zu articles from %zu feeds (%zu failed), %zu images (%zu dropped), %.1f MB%s%s",
		 n_new, n_sections, n_failed, delivered, dropped, (double)book_bytes / 1e6,
		 paths.n > 1 ? " in volumes" : "", mail_on ? ", mailed" : "");
	log_info("wrote %s%s: %s, %.1f s", paths.items[0], paths.n > 1 ? " …" : "", summary,
		 util_monotonic() - r.t0);
	if (dropped) {
		char *why = drop_reasons(&r);
		log_info("images dropped: %s", why);
		free(why);
	}
	/* The books' paths on stdout, for scripts (`book=$(inkdigest run)`); nothing under -q. */
	for (size_t k = 0; k < paths.n && log_get_level() > LOG_ERROR; k++)
		printf("%s\n", paths.items[k]);
	strlist_release(&paths);
	rc = EXIT_OK_;

out:
	if (r.fetcher)
		fetch_free(r.fetcher);
	pool_stop(&r);
	if (r.report) {
		if (rc != EXIT_OK_ && e.msg[0])
			snprintf(summary, sizeof(summary), "failed (exit %d): %s", rc, e.msg);
		report_finish(r.report, util_now(), rc, summary);
		if (o->report_path && report_write(r.report, o->report_path, &e) != 0)
			log_error("report: %s", e.msg);
		if (r.state) {
			char *json = report_to_json_compact(r.report);
			state_log_run(r.state, r.now, util_now(), rc, summary, json, &e);
			free(json);
		}
		report_free(r.report);
	}
	if (r.state)
		state_close(r.state);
	if (r.pack_fd >= 0)
		close(r.pack_fd);
	free(r.pack_path);
	free(r.scratch_error);
	if (r.tmpdir) {
		nftw(r.tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(r.tmpdir);
	}
	book_release(&book);
	free(counts);
	for (size_t i = 0; i < r.n_feeds; i++) {
		feed_doc_release(&r.feeds[i].doc);
		free(r.feeds[i].key);
		free(r.feeds[i].fresh);
		free(r.feeds[i].error);
		free(r.feeds[i].etag);
		free(r.feeds[i].last_modified);
	}
	free(r.feeds);
	free(r.refs);
	strlist_release(&r.budget_notes);
	for (size_t i = 0; i < r.n_images; i++) {
		free(r.images[i].url);
		free(r.images[i].reason);
		free(r.images[i].referer_alt);
	}
	free(r.images);
	hdestroy_r(&r.image_index);
	free(out_path);
	free(tmp_out);
	return rc;
}
