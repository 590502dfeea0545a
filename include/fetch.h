/* Stage `fetch`: every download of a run goes through one libcurl multi loop with bounded
 * concurrency, a per-host cap, timeouts, size caps, redirects limited to http/https and retries.
 * Knows nothing of feeds, HTML or images: bytes in over the network, bytes out to callbacks.
 * Never writes to disk. */
#ifndef INKDIGEST_FETCH_H
#define INKDIGEST_FETCH_H

#include "util.h"

enum fetch_error {
	FETCH_OK = 0,
	FETCH_ERR_HTTP = 1,      /* an HTTP status that is not success (status holds it) */
	FETCH_ERR_NETWORK,       /* DNS, connect, TLS, reset */
	FETCH_ERR_TIMEOUT,       /* overall timeout or low-speed abort */
	FETCH_ERR_TOO_LARGE,     /* over max_bytes (also when a compressed body inflates past it) */
	FETCH_ERR_SCHEME,        /* scheme not allowed (e.g. file:// from remote content) */
	FETCH_ERR_REDIRECTS,     /* too many redirects */
	FETCH_ERR_BLOCKED,       /* private address refused (block_private_addresses) */
	FETCH_ERR_LOCAL          /* local file error for file:// or a path */
};

/* A zero field takes its default (so a zeroed struct is the defaults); a negative max_redirects,
 * max_retries or low_speed_bytes means none. A proxy of "" or "direct" means no proxy. */
struct fetch_opts {
	int max_total;           /* concurrent transfers (default 8) */
	int max_per_host;        /* default 2 */
	long connect_timeout_ms; /* default 15000 */
	long timeout_ms;         /* whole transfer; default 60000 */
	long low_speed_bytes;    /* abort below this many bytes/s ... (default 100) */
	long low_speed_time_s;   /* ... for this long (default 30) */
	int max_redirects;       /* default 5 */
	int max_retries;         /* for timeouts, 5xx and 429; default 2 */
	long retry_base_ms;      /* backoff base; default 1000; Retry-After honoured up to 60 s */
	const char *user_agent;  /* borrowed; default "inkdigest/VERSION (+feeds to e-ink)" */
	const char *proxy;       /* borrowed; global proxy URL or NULL */
	const char *ca_file;     /* borrowed; extra CA bundle or NULL */
	int block_private;       /* refuse loopback/private/link-local for requests that ask */
	int verbose;             /* log each transfer at debug level */
};

struct fetch_request {
	const char *url;         /* borrowed for the call only: fetch_add copies what it keeps */
	size_t max_bytes;        /* 0 = no cap */
	int allow_file;          /* 1 only for feeds named in the user's config: file:// and paths */
	int check_private;       /* apply block_private to this request (remote images/pages) */
	const char *etag;        /* conditional GET validators, or NULL */
	const char *last_modified;
	const char *referer;     /* Referer header value, or NULL for none */
	const struct strlist *headers;  /* extra "Name: value" headers, or NULL */
	const struct strlist *proxies;  /* proxies to try in order (falls back on failure), or NULL */
	int priority;            /* higher starts first (feeds before pages before images) */
};

struct fetch_response {
	const char *url;         /* the requested URL */
	const char *effective_url;  /* after redirects, without userinfo */
	long status;             /* HTTP status, 0 for file:// or no response */
	int not_modified;        /* 1 on 304 */
	char *data;              /* body (NUL-terminated); the callback may take it and set NULL */
	size_t len;
	const char *content_type;   /* or NULL */
	const char *etag;
	const char *last_modified;
	double seconds;          /* wall time, including retries */
	int attempts;
	enum fetch_error error;  /* FETCH_OK on success (2xx or 304) */
	const char *error_msg;   /* one line, no secrets (userinfo and headers never appear) */
};

struct fetcher;
/* Called from inside fetch_run, one response at a time, on the thread that called fetch_run.
 * It may call fetch_add to queue more work. Everything in r is freed after it returns except
 * data when the callback took it. */
typedef void (*fetch_done_fn)(void *user, struct fetch_response *r);

struct fetcher *fetch_new(const struct fetch_opts *o);  /* o may be NULL for defaults */
void fetch_add(struct fetcher *f, const struct fetch_request *req, fetch_done_fn done, void *user);
/* Runs until every queued request (including ones added by callbacks) is done. Between
 * transfers it calls idle(user) when set, so the caller can collect finished CPU work. */
int fetch_run(struct fetcher *f, void (*idle)(void *user), void *idle_user);
/* How many transfers are queued or running. */
size_t fetch_pending(const struct fetcher *f);
void fetch_free(struct fetcher *f);

/* url without its userinfo (user:password@), for logs and reports; a new string the caller
 * frees. An unparseable URL gives a placeholder, never the input. */
char *fetch_url_redact(const char *url);

/* Process-wide libcurl init/cleanup; call once from main. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

#endif
