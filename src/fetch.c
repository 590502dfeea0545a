/* Stage `fetch`: one libcurl multi loop runs every download of a run, bounded and prioritised.
 * In: requests (URL, size cap, validators, headers, proxies); out: one response per request,
 * handed to its callback on the fetch_run thread. Never writes to disk, never lets a remote
 * response reach file: (redirects are http/https only), never puts a secret in a message. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include "fetch.h"

#define RETRY_AFTER_MAX_S 60
#define BACKOFF_MAX_MS 60000L
#define IDLE_POLL_MS 100
#define MAX_POLL_MS 1000
#define NO_HOST ((size_t)-1)

enum transfer_kind {
	KIND_HTTP,   /* through curl */
	KIND_LOCAL,  /* a path or file:// of a configured feed, read directly */
	KIND_REFUSED /* refused before any I/O (scheme, malformed URL) */
};

struct transfer {
	struct fetcher *f;
	char *url; /* as requested */
	enum transfer_kind kind;
	char *path;                    /* KIND_LOCAL */
	enum fetch_error refuse_error; /* KIND_REFUSED */
	char *refuse_msg;
	size_t host; /* index into f->hosts, NO_HOST for local */
	size_t max_bytes;
	int check_private;
	char *etag;
	char *last_modified;
	char *referer;
	struct strlist headers;
	struct strlist proxies; /* the request's, else the global proxy, else empty */
	struct strlist secrets; /* strings no message may contain */
	size_t proxy_idx;
	int priority;
	uint64_t seq;
	fetch_done_fn done;
	void *user;

	double first_start; /* monotonic time of the first attempt, 0 before */
	double not_before;  /* backoff: not started again before this monotonic time */
	int attempts;
	int retries;

	/* The current attempt. */
	CURL *easy;
	struct curl_slist *hdrs;
	struct buf body;
	int using_proxy;
	int too_large;
	int blocked;
	char blocked_addr[INET6_ADDRSTRLEN + 16];
	char errbuf[CURL_ERROR_SIZE];
};

struct host_count {
	char *name;
	int running;
};

struct fetcher {
	struct fetch_opts o;
	char *user_agent;
	char *proxy;
	char *ca_file;
	CURLM *multi;
	struct transfer **queue;
	size_t n_queue, cap_queue;
	struct transfer **running;
	size_t n_running, cap_running;
	struct host_count *hosts;
	size_t n_hosts, cap_hosts;
	uint64_t next_seq;
};

/* ---- URLs ---- */

/* url without userinfo, or NULL when curl cannot parse it. */
static char *redact_or_null(const char *url)
{
	char *out = NULL;
	CURLU *u = curl_url();
	if (!u)
		die_oom();
	if (url && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK) {
		char *s = NULL;
		if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
			out = xstrdup(s);
			curl_free(s);
		}
	}
	curl_url_cleanup(u);
	return out;
}

char *fetch_url_redact(const char *url)
{
	char *out = redact_or_null(url);
	return out ? out : xstrdup("(unparseable URL)");
}

/* 1 when s begins with an RFC 3986 scheme and a colon; anything else is a local path. */
static int has_scheme(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (s++; *s; s++) {
		if (*s == ':')
			return 1;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
			return 0;
	}
	return 0;
}

/* Remembers the userinfo parts of a URL (and a proxy URL) as secrets to scrub. */
static void add_url_secrets(struct strlist *secrets, const char *url)
{
	CURLU *u = curl_url();
	if (!u)
		die_oom();
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME) ==
	    CURLUE_OK) {
		static const CURLUPart parts[] = {CURLUPART_USER, CURLUPART_PASSWORD,
		                                  CURLUPART_OPTIONS};
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
			char *s = NULL;
			if (curl_url_get(u, parts[i], &s, 0) == CURLUE_OK && s && *s)
				strlist_add(secrets, s);
			curl_free(s);
			s = NULL;
			if (curl_url_get(u, parts[i], &s, CURLU_URLDECODE) == CURLUE_OK && s && *s)
				strlist_add(secrets, s);
			curl_free(s);
		}
	}
	curl_url_cleanup(u);
}

/* ---- private addresses ---- */

static int ipv4_is_private(uint32_t a)
{
	return (a >> 24) == 0 ||                 /* 0.0.0.0/8 "this network" */
	       (a >> 24) == 10 ||                /* 10/8 */
	       (a >> 22) == (100u << 2 | 1) ||   /* 100.64/10 carrier-grade NAT */
	       (a >> 24) == 127 ||               /* loopback */
	       (a >> 16) == (169u << 8 | 254) || /* link-local, cloud metadata */
	       (a >> 20) == (172u << 4 | 1) ||   /* 172.16/12 */
	       (a >> 16) == (192u << 8 | 168) || /* 192.168/16 */
	       (a >> 28) >= 14;                  /* multicast, reserved, broadcast */
}

static int ipv6_is_private(const unsigned char *b)
{
	static const unsigned char zero[16];
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
		return 1; /* :: and ::1 */
	if ((b[0] & 0xfe) == 0xfc)
		return 1; /* fc00::/7 unique local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return 1; /* fe80::/10 link-local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return 1; /* fec0::/10 old site-local */
	if (b[0] == 0xff)
		return 1; /* multicast */
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0) {
		uint32_t a =
		    (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
		return ipv4_is_private(a); /* ::ffff:a.b.c.d and ::a.b.c.d */
	}
	return 0;
}

/* 1 when the text is a private IP literal (or localhost); 0 for anything else. */
static int literal_is_private(const char *host)
{
	if (!host || !*host)
		return 0;
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		char *pct = strchr(tmp, '%'); /* zone id */
		if (pct)
			*pct = '\0';
		host = tmp;
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ipv4_is_private(ntohl(a4.s_addr));
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return ipv6_is_private(a6.s6_addr);
	n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	       (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

static int sockaddr_is_private(int family, const struct sockaddr *sa, char *text, size_t size)
{
	if (family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)size);
		return ipv4_is_private(ntohl(in->sin_addr.s_addr));
	}
	if (family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)size);
		return ipv6_is_private(in6->sin6_addr.s6_addr);
	}
	/* Unix sockets and anything unknown: not an address we can vouch for. */
	snprintf(text, size, "address family %d", family);
	return 1;
}

/* Refuses the connect itself, so a private host never even sees a SYN. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = ud;
	if (purpose == CURLSOCKTYPE_IPCXN &&
	    sockaddr_is_private(a->family, &a->addr, t->blocked_addr, sizeof(t->blocked_addr))) {
		t->blocked = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* Runs before every request, including redirects and requests on a reused connection (which
 * never pass through on_open_socket). Behind a proxy the peer is the proxy, so only the URL's
 * host can be judged: refuse private literals and localhost there. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct transfer *t = ud;
	if (t->using_proxy) {
		char *eff = NULL;
		int bad = 0;
		curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
		CURLU *u = curl_url();
		if (!u)
			die_oom();
		char *host = NULL;
		if (eff && curl_url_set(u, CURLUPART_URL, eff, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
			bad = literal_is_private(host);
			if (bad)
				snprintf(t->blocked_addr, sizeof(t->blocked_addr), "%s", host);
		}
		curl_free(host);
		curl_url_cleanup(u);
		if (bad) {
			t->blocked = 1;
			return CURL_PREREQFUNC_ABORT;
		}
		return CURL_PREREQFUNC_OK;
	}
	if (!primary_ip || literal_is_private(primary_ip)) {
		snprintf(t->blocked_addr, sizeof(t->blocked_addr), "%s",
		         primary_ip ? primary_ip : "unknown");
		t->blocked = 1;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* ---- messages ---- */

/* One line, secrets replaced by "***", control characters turned into spaces. */
static char *clean_message(const struct transfer *t, const char *msg)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, msg);
	for (size_t i = 0; i < t->secrets.n; i++) {
		const char *s = t->secrets.items[i];
		size_t n = strlen(s);
		/* Very short values would blank out ordinary words; they are no secret anyway. */
		if (n < 3)
			continue;
		char *hit;
		size_t from = 0;
		while ((hit = strstr(b.data + from, s))) {
			size_t at = (size_t)(hit - b.data);
			struct buf nb = BUF_INIT;
			buf_add(&nb, b.data, at);
			buf_puts(&nb, "***");
			buf_puts(&nb, hit + n);
			buf_release(&b);
			b = nb;
			from = at + 3;
		}
	}
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = ' ';
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

/* One debug line per transfer event, "fetch: URL: what", through the same scrubbing as
 * messages (the URL without userinfo). */
static void log_transfer(const struct transfer *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_transfer(const struct transfer *t, const char *fmt, ...)
{
	if (!t->f->o.verbose || log_get_level() < LOG_DEBUG)
		return;
	struct buf b = BUF_INIT;
	char *red = fetch_url_redact(t->url);
	buf_printf(&b, "fetch: %s: ", red);
	free(red);
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	buf_puts(&b, what);
	char *line = clean_message(t, b.data);
	log_debug("%s", line);
	free(line);
	buf_release(&b);
}

/* ---- queue and hosts ---- */

static size_t host_index(struct fetcher *f, const char *name)
{
	for (size_t i = 0; i < f->n_hosts; i++)
		if (strcmp(f->hosts[i].name, name) == 0)
			return i;
	if (f->n_hosts == f->cap_hosts) {
		f->cap_hosts = f->cap_hosts ? f->cap_hosts * 2 : 16;
		f->hosts = xrealloc(f->hosts, f->cap_hosts * sizeof(*f->hosts));
	}
	f->hosts[f->n_hosts].name = xstrdup(name);
	f->hosts[f->n_hosts].running = 0;
	return f->n_hosts++;
}

static void queue_push(struct fetcher *f, struct transfer *t)
{
	if (f->n_queue == f->cap_queue) {
		f->cap_queue = f->cap_queue ? f->cap_queue * 2 : 64;
		f->queue = xrealloc(f->queue, f->cap_queue * sizeof(*f->queue));
	}
	f->queue[f->n_queue++] = t;
}

static void running_push(struct fetcher *f, struct transfer *t)
{
	if (f->n_running == f->cap_running) {
		f->cap_running = f->cap_running ? f->cap_running * 2 : 16;
		f->running = xrealloc(f->running, f->cap_running * sizeof(*f->running));
	}
	f->running[f->n_running++] = t;
}

static void running_remove(struct fetcher *f, struct transfer *t)
{
	for (size_t i = 0; i < f->n_running; i++)
		if (f->running[i] == t) {
			f->running[i] = f->running[--f->n_running];
			return;
		}
}

/* Ends the current attempt's curl state; the transfer itself lives on. */
static void attempt_release(struct fetcher *f, struct transfer *t)
{
	if (!t->easy)
		return;
	curl_multi_remove_handle(f->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
	curl_slist_free_all(t->hdrs);
	t->hdrs = NULL;
	running_remove(f, t);
	if (t->host != NO_HOST)
		f->hosts[t->host].running--;
}

static void transfer_free(struct fetcher *f, struct transfer *t)
{
	if (!t)
		return;
	attempt_release(f, t);
	free(t->url);
	free(t->path);
	free(t->refuse_msg);
	free(t->etag);
	free(t->last_modified);
	free(t->referer);
	strlist_release(&t->headers);
	strlist_release(&t->proxies);
	strlist_release(&t->secrets);
	buf_release(&t->body);
	free(t);
}

/* ---- public: setup ---- */

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

struct fetcher *fetch_new(const struct fetch_opts *o)
{
	struct fetcher *f = xcalloc(1, sizeof(*f));
	if (o)
		f->o = *o;
	if (f->o.max_total <= 0)
		f->o.max_total = 8;
	if (f->o.max_per_host <= 0)
		f->o.max_per_host = 2;
	if (f->o.connect_timeout_ms <= 0)
		f->o.connect_timeout_ms = 15000;
	if (f->o.timeout_ms <= 0)
		f->o.timeout_ms = 60000;
	if (f->o.low_speed_bytes == 0)
		f->o.low_speed_bytes = 100;
	if (f->o.low_speed_time_s <= 0)
		f->o.low_speed_time_s = 30;
	if (f->o.max_redirects == 0)
		f->o.max_redirects = 5;
	else if (f->o.max_redirects < 0)
		f->o.max_redirects = 0;
	if (f->o.max_retries == 0)
		f->o.max_retries = 2;
	else if (f->o.max_retries < 0)
		f->o.max_retries = 0;
	if (f->o.retry_base_ms <= 0)
		f->o.retry_base_ms = 1000;
	f->user_agent =
	    xstrdup(f->o.user_agent ? f->o.user_agent
	                            : "inkdigest/" INKDIGEST_VERSION " (+feeds to e-ink)");
	f->proxy = xstrdup(f->o.proxy);
	f->ca_file = xstrdup(f->o.ca_file);
	f->o.user_agent = f->user_agent;
	f->o.proxy = f->proxy;
	f->o.ca_file = f->ca_file;
	f->multi = curl_multi_init();
	if (!f->multi)
		die_oom();
	return f;
}

/* Sorts a request into http(s), a local read, or a refusal, before any I/O. */
static void transfer_classify(struct fetcher *f, struct transfer *t, int allow_file)
{
	t->host = NO_HOST;
	if (!t->url || !*t->url) {
		t->kind = KIND_REFUSED;
		t->refuse_error = FETCH_ERR_SCHEME;
		t->refuse_msg = xstrdup("empty URL");
		return;
	}
	if (!has_scheme(t->url)) {
		if (allow_file) {
			t->kind = KIND_LOCAL;
			t->path = xstrdup(t->url);
		} else {
			t->kind = KIND_REFUSED;
			t->refuse_error = FETCH_ERR_SCHEME;
			t->refuse_msg = xstrdup("not an http or https URL");
		}
		return;
	}
	CURLU *u = curl_url();
	if (!u)
		die_oom();
	char *scheme = NULL, *host = NULL, *path = NULL;
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, t->url, CURLU_NON_SUPPORT_SCHEME);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	t->kind = KIND_REFUSED;
	t->refuse_error = FETCH_ERR_SCHEME;
	if (rc != CURLUE_OK) {
		t->refuse_msg = xasprintf("malformed URL: %s", curl_url_strerror(rc));
	} else if (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) {
		if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host) {
			for (char *p = host; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			t->kind = KIND_HTTP;
			t->host = host_index(f, host);
		} else {
			t->refuse_msg = xstrdup("malformed URL: no host");
		}
	} else if (strcasecmp(scheme, "file") == 0) {
		if (!allow_file) {
			t->refuse_msg = xstrdup("file:// is allowed only for feeds in the config");
		} else if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK &&
		           path && *path) {
			t->kind = KIND_LOCAL;
			t->path = xstrdup(path);
		} else {
			t->refuse_msg = xstrdup("malformed file:// URL");
		}
	} else {
		t->refuse_msg = xasprintf("scheme \"%s\" is not allowed", scheme);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
}

/* Values that end up in request headers may come from remote content (an article's URL as
 * Referer, a server's ETag): one with a line break would smuggle in headers of its own. */
static char *header_value(const char *v)
{
	return v && !strpbrk(v, "\r\n") ? xstrdup(v) : NULL;
}

void fetch_add(struct fetcher *f, const struct fetch_request *req, fetch_done_fn done, void *user)
{
	struct transfer *t = xcalloc(1, sizeof(*t));
	t->f = f;
	t->url = xstrdup(req->url);
	t->max_bytes = req->max_bytes;
	t->check_private = req->check_private && f->o.block_private;
	t->etag = header_value(req->etag);
	t->last_modified = header_value(req->last_modified);
	t->referer = header_value(req->referer);
	t->priority = req->priority;
	t->seq = f->next_seq++;
	t->done = done;
	t->user = user;
	if (t->url)
		add_url_secrets(&t->secrets, t->url);
	for (size_t i = 0; req->headers && i < req->headers->n; i++) {
		const char *h = req->headers->items[i];
		if (strpbrk(h, "\r\n"))
			continue;
		strlist_add(&t->headers, h);
		const char *colon = strchr(h, ':');
		if (colon) {
			char *v = xstrdup(colon + 1);
			if (*util_trim(v))
				strlist_add(&t->secrets, util_trim(v));
			free(v);
		}
	}
	if (req->proxies && req->proxies->n) {
		for (size_t i = 0; i < req->proxies->n; i++)
			strlist_add(&t->proxies, req->proxies->items[i]);
	} else if (f->proxy) {
		strlist_add(&t->proxies, f->proxy);
	}
	for (size_t i = 0; i < t->proxies.n; i++)
		if (*t->proxies.items[i])
			add_url_secrets(&t->secrets, t->proxies.items[i]);
	transfer_classify(f, t, req->allow_file);
	queue_push(f, t);
}

size_t fetch_pending(const struct fetcher *f)
{
	return f ? f->n_queue + f->n_running : 0;
}

void fetch_free(struct fetcher *f)
{
	if (!f)
		return;
	while (f->n_running)
		transfer_free(f, f->running[0]);
	for (size_t i = 0; i < f->n_queue; i++)
		transfer_free(f, f->queue[i]);
	free(f->queue);
	free(f->running);
	for (size_t i = 0; i < f->n_hosts; i++)
		free(f->hosts[i].name);
	free(f->hosts);
	curl_multi_cleanup(f->multi);
	free(f->user_agent);
	free(f->proxy);
	free(f->ca_file);
	free(f);
}

/* ---- one attempt ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;
	/* Counted after decoding, so a small gzip body that inflates past the cap stops here. */
	if (t->max_bytes && t->body.len + len > t->max_bytes) {
		t->too_large = 1;
		return 0;
	}
	buf_add(&t->body, p, len);
	return len;
}

static void slist_add_owned(struct curl_slist **l, char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);
	free(line);
	if (!n)
		die_oom();
	*l = n;
}

static const char *current_proxy(const struct transfer *t)
{
	return t->proxy_idx < t->proxies.n ? t->proxies.items[t->proxy_idx] : NULL;
}

/* Starts the next curl attempt; returns -1 (with a message in errbuf) when the protocol
 * restriction could not be applied, which must never be ignored. */
static int attempt_start(struct fetcher *f, struct transfer *t)
{
	const struct fetch_opts *o = &f->o;
	CURL *e = curl_easy_init();
	if (!e)
		die_oom();
	t->easy = e;
	t->errbuf[0] = '\0';
	t->too_large = 0;
	t->blocked = 0;
	t->blocked_addr[0] = '\0';
	buf_reset(&t->body);
	if (curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		snprintf(t->errbuf, sizeof(t->errbuf), "libcurl cannot restrict protocols");
		curl_easy_cleanup(e);
		t->easy = NULL;
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)o->max_redirects);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->low_speed_bytes > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	}
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (f->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	const char *proxy = current_proxy(t);
	t->using_proxy = 0;
	if (proxy && (!*proxy || strcmp(proxy, "direct") == 0)) {
		curl_easy_setopt(e, CURLOPT_PROXY, ""); /* also ignores *_proxy variables */
	} else if (proxy) {
		curl_easy_setopt(e, CURLOPT_PROXY, proxy);
		t->using_proxy = 1;
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	if (t->max_bytes)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_bytes);
	if (t->referer)
		curl_easy_setopt(e, CURLOPT_REFERER, t->referer);
	if (t->etag)
		slist_add_owned(&t->hdrs, xasprintf("If-None-Match: %s", t->etag));
	if (t->last_modified)
		slist_add_owned(&t->hdrs, xasprintf("If-Modified-Since: %s", t->last_modified));
	for (size_t i = 0; i < t->headers.n; i++)
		slist_add_owned(&t->hdrs, xstrdup(t->headers.items[i]));
	if (t->hdrs)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs);
	if (t->check_private) {
		if (!t->using_proxy) {
			curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
			curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
		}
		curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
	}
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK)
		die_oom();
	running_push(f, t);
	if (t->host != NO_HOST)
		f->hosts[t->host].running++;
	t->attempts++;
	if (!t->first_start)
		t->first_start = util_monotonic();
	return 0;
}

/* ---- completion ---- */

struct outcome {
	enum fetch_error error;
	long status;
	int retryable;
	int proxy_failed; /* worth trying the next proxy */
	char *msg;        /* raw, cleaned later */
};

static const char *curl_text(const struct transfer *t, CURLcode rc)
{
	return t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
}

static void classify_result(struct transfer *t, CURLcode rc, struct outcome *out)
{
	long status = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	out->status = status;
	out->retryable = 0;
	out->proxy_failed = 0;
	out->msg = NULL;
	if (rc == CURLE_OK) {
		if ((status >= 200 && status < 300) || status == 304) {
			out->error = FETCH_OK;
			return;
		}
		out->error = FETCH_ERR_HTTP;
		out->retryable = status == 429 || status >= 500;
		out->proxy_failed = status == 407;
		out->msg = xasprintf("HTTP %ld", status);
		return;
	}
	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		out->error = FETCH_ERR_TOO_LARGE;
		out->msg = xasprintf("larger than %zu bytes", t->max_bytes);
		return;
	}
	if (t->blocked) {
		out->error = FETCH_ERR_BLOCKED;
		out->msg = xasprintf("%s is a private address (block_private_addresses)",
		                     t->blocked_addr[0] ? t->blocked_addr : "host");
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		out->error = FETCH_ERR_TIMEOUT;
		out->retryable = 1;
		out->proxy_failed = t->using_proxy;
		out->msg = xasprintf("timed out: %s", curl_text(t, rc));
		return;
	case CURLE_TOO_MANY_REDIRECTS:
		out->error = FETCH_ERR_REDIRECTS;
		out->msg = xasprintf("too many redirects (limit %d)", t->f->o.max_redirects);
		return;
	case CURLE_UNSUPPORTED_PROTOCOL: {
		char *target = NULL;
		out->error = FETCH_ERR_SCHEME;
		/* A refused redirect leaves its target as the effective URL. */
		curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &target);
		if (target && strcmp(target, t->url) != 0) {
			char *red = fetch_url_redact(target);
			out->msg = xasprintf("redirect to %s refused: only http and https", red);
			free(red);
		} else {
			out->msg = xasprintf("scheme not allowed: %s", curl_text(t, rc));
		}
		return;
	}
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_PROXY:
		out->error = FETCH_ERR_NETWORK;
		out->proxy_failed = 1;
		out->msg = xasprintf("proxy: %s", curl_text(t, rc));
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		out->error = FETCH_ERR_NETWORK;
		out->retryable = 1;
		out->proxy_failed = t->using_proxy;
		out->msg = xasprintf("%s", curl_text(t, rc));
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		out->error = FETCH_ERR_NETWORK;
		out->proxy_failed = t->using_proxy;
		out->msg = xasprintf("%s", curl_text(t, rc));
		return;
	default:
		out->error = FETCH_ERR_NETWORK;
		out->msg = xasprintf("%s", curl_text(t, rc));
		return;
	}
}

/* Milliseconds to wait before the next attempt, or -1 when it would overrun the budget. */
static long retry_delay_ms(const struct fetcher *f, const struct transfer *t, long status)
{
	long ms = 0;
	curl_off_t after = -1;
	if (status == 429 || status >= 500)
		curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after);
	if (after > 0) {
		ms = (after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)after) * 1000L;
	} else {
		ms = f->o.retry_base_ms;
		for (int i = 0; i < t->retries && ms < BACKOFF_MAX_MS; i++)
			ms *= 2;
		if (ms > BACKOFF_MAX_MS)
			ms = BACKOFF_MAX_MS;
	}
	/* The whole request, retries included, gets (retries + 1) overall timeouts. */
	double budget_s = (double)f->o.timeout_ms / 1000.0 * (f->o.max_retries + 1);
	if (util_monotonic() + (double)ms / 1000.0 > t->first_start + budget_s)
		return -1;
	return ms;
}

static void response_header(CURL *e, const char *name, char **out)
{
	struct curl_header *h = NULL;
	if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value)
		*out = xstrdup(h->value);
}

static void deliver(struct fetcher *f, struct transfer *t, const struct outcome *oc)
{
	struct fetch_response r = {0};
	char *effective = NULL, *ctype = NULL, *etag = NULL, *lm = NULL, *msg = NULL;
	r.url = t->url;
	r.status = oc->status;
	r.not_modified = oc->error == FETCH_OK && oc->status == 304;
	r.error = oc->error;
	r.attempts = t->attempts;
	r.seconds = t->first_start ? util_monotonic() - t->first_start : 0.0;
	if (t->easy) {
		char *s = NULL;
		/* Without userinfo: it becomes the base of every link in the article, and those
		 * links end up in the book. */
		if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
			effective = redact_or_null(s);
		s = NULL;
		if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
			ctype = xstrdup(s);
		response_header(t->easy, "ETag", &etag);
		response_header(t->easy, "Last-Modified", &lm);
	}
	if (!effective && t->kind == KIND_HTTP)
		effective = redact_or_null(t->url);
	if (!effective && t->kind == KIND_LOCAL && t->path) {
		/* A local feed's base is its file:// URL (of its absolute path), so relative links
		 * in it resolve the way a browser would resolve them. */
		char *abs = t->path[0] == '/' ? xstrdup(t->path) : realpath(t->path, NULL);
		CURLU *u = curl_url();
		char *full = NULL;
		if (abs && u && curl_url_set(u, CURLUPART_SCHEME, "file", 0) == CURLUE_OK &&
		    curl_url_set(u, CURLUPART_PATH, abs, CURLU_URLENCODE) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
			effective = xstrdup(full);
		curl_free(full);
		curl_url_cleanup(u);
		free(abs);
	}
	r.effective_url = effective ? effective : t->url;
	r.content_type = ctype;
	r.etag = etag;
	r.last_modified = lm;
	if (oc->error != FETCH_OK && oc->error != FETCH_ERR_HTTP)
		buf_release(&t->body); /* a partial body is of no use and may be large */
	r.data = buf_detach(&t->body, &r.len);
	if (oc->error != FETCH_OK) {
		struct buf m = BUF_INIT;
		buf_puts(&m, oc->msg ? oc->msg : "failed");
		if (t->attempts > 1)
			buf_printf(&m, " (after %d attempts)", t->attempts);
		msg = clean_message(t, m.data);
		buf_release(&m);
	}
	r.error_msg = msg;
	if (oc->error == FETCH_OK)
		log_transfer(t, "%s%ld, %zu bytes, %.2f s, %d attempt(s)",
		             t->kind == KIND_HTTP ? "HTTP " : "status ", r.status, r.len, r.seconds,
		             r.attempts);
	else
		log_transfer(t, "%s", msg);
	attempt_release(f, t);
	if (t->done)
		t->done(t->user, &r);
	free(r.data);
	free(effective);
	free(ctype);
	free(etag);
	free(lm);
	free(msg);
	transfer_free(f, t);
}

static void attempt_finished(struct fetcher *f, struct transfer *t, CURLcode rc)
{
	struct outcome oc;
	classify_result(t, rc, &oc);
	if (oc.error != FETCH_OK && oc.proxy_failed && t->proxy_idx + 1 < t->proxies.n) {
		log_transfer(t, "%s; trying the next proxy", oc.msg);
		t->proxy_idx++;
		t->not_before = 0;
		attempt_release(f, t);
		free(oc.msg);
		queue_push(f, t);
		return;
	}
	if (oc.error != FETCH_OK && oc.retryable && t->retries < f->o.max_retries) {
		long ms = retry_delay_ms(f, t, oc.status);
		if (ms >= 0) {
			log_transfer(t, "%s; retry in %ld ms", oc.msg, ms);
			t->retries++;
			t->not_before = util_monotonic() + (double)ms / 1000.0;
			attempt_release(f, t);
			free(oc.msg);
			queue_push(f, t);
			return;
		}
	}
	deliver(f, t, &oc);
	free(oc.msg);
}

/* Paths and file:// of configured feeds: read here with the cap, never through curl, so no
 * remote response can ever be routed to a file. */
static void run_local(struct fetcher *f, struct transfer *t)
{
	struct outcome oc = {0};
	struct err e = {0};
	t->first_start = util_monotonic();
	t->attempts = 1;
	if (t->kind == KIND_REFUSED) {
		oc.error = t->refuse_error;
		oc.msg = xstrdup(t->refuse_msg);
	} else if (util_read_file(t->path, t->max_bytes, &t->body, &e) != 0) {
		oc.error = e.code == EFBIG ? FETCH_ERR_TOO_LARGE : FETCH_ERR_LOCAL;
		oc.msg = xstrdup(e.msg);
	}
	deliver(f, t, &oc);
	free(oc.msg);
}

/* Best queued transfer that may start now: highest priority, then oldest; a transfer whose host
 * is at its cap or whose backoff has not expired stays queued. Returns its index or -1. */
static long pick_next(const struct fetcher *f, double now)
{
	long best = -1;
	int full = f->n_running >= (size_t)f->o.max_total;
	for (size_t i = 0; i < f->n_queue; i++) {
		const struct transfer *t = f->queue[i];
		if (t->kind == KIND_HTTP) {
			if (full || t->not_before > now ||
			    f->hosts[t->host].running >= f->o.max_per_host)
				continue;
		}
		if (best < 0 || t->priority > f->queue[best]->priority ||
		    (t->priority == f->queue[best]->priority && t->seq < f->queue[best]->seq))
			best = (long)i;
	}
	return best;
}

static void start_ready(struct fetcher *f)
{
	double now = util_monotonic();
	long i;
	while ((i = pick_next(f, now)) >= 0) {
		struct transfer *t = f->queue[i];
		f->queue[i] = f->queue[--f->n_queue];
		if (t->kind != KIND_HTTP) {
			run_local(f, t); /* may call back into fetch_add: rescan after */
			continue;
		}
		if (attempt_start(f, t) != 0) {
			struct outcome oc = {FETCH_ERR_SCHEME, 0, 0, 0, xstrdup(t->errbuf)};
			deliver(f, t, &oc);
			free(oc.msg);
		}
	}
}

static void drain_messages(struct fetcher *f)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(f->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		char *priv = NULL;
		CURLcode rc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		struct transfer *t = (struct transfer *)(void *)priv;
		if (t)
			attempt_finished(f, t, rc);
	}
}

/* Milliseconds until the earliest backoff expires, at most cap. */
static long next_wake_ms(const struct fetcher *f, long cap)
{
	double now = util_monotonic();
	long ms = cap;
	for (size_t i = 0; i < f->n_queue; i++) {
		double d = (f->queue[i]->not_before - now) * 1000.0;
		if (d <= 0)
			continue;
		if ((long)d + 1 < ms)
			ms = (long)d + 1;
	}
	return ms;
}

/* Every transfer left gets its callback, so no caller waits for a response that never comes. */
static void fail_all(struct fetcher *f, const char *why)
{
	while (f->n_running || f->n_queue) {
		struct transfer *t;
		if (f->n_running) {
			t = f->running[0];
		} else {
			t = f->queue[--f->n_queue];
		}
		struct outcome oc = {FETCH_ERR_NETWORK, 0, 0, 0, xstrdup(why)};
		deliver(f, t, &oc);
		free(oc.msg);
	}
}

int fetch_run(struct fetcher *f, void (*idle)(void *user), void *idle_user)
{
	for (;;) {
		start_ready(f);
		if (!f->n_running && !f->n_queue)
			break;
		int still = 0;
		CURLMcode mc = curl_multi_perform(f->multi, &still);
		if (mc != CURLM_OK) {
			char *why = xasprintf("libcurl: %s", curl_multi_strerror(mc));
			fail_all(f, why);
			free(why);
			return -1;
		}
		drain_messages(f);
		start_ready(f);
		if (!f->n_running && !f->n_queue)
			break;
		long wait = next_wake_ms(f, idle ? IDLE_POLL_MS : MAX_POLL_MS);
		mc = curl_multi_poll(f->multi, NULL, 0, (int)wait, NULL);
		if (mc != CURLM_OK) {
			char *why = xasprintf("libcurl: %s", curl_multi_strerror(mc));
			fail_all(f, why);
			free(why);
			return -1;
		}
		if (idle)
			idle(idle_user);
	}
	return 0;
}
