/* Shared helpers: errors, buffers, aborting allocation, atomic file writes, time, UTF-8 and
 * stderr logging. Knows nothing of feeds, images or books; never touches the network. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int log_level = LOG_INFO;
static int log_clear_line;

void err_set(struct err *e, int code, const char *fmt, ...)
{
	if (!e)
		return;
	va_list ap;
	va_start(ap, fmt);
	e->code = code ? code : 1;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char head[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s: %s", head, e->msg);
	size_t n = b.len < sizeof(e->msg) - 1 ? b.len : sizeof(e->msg) - 1;
	memcpy(e->msg, b.data, n);
	e->msg[n] = '\0';
	buf_release(&b);
}

_Noreturn void die_oom(void)
{
	fputs("inkdigest: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom();
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die_oom();
	buf_reserve(&b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.data;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		die_oom();
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	if (!b->data)
		buf_reserve(b, 0);
	char *p = b->data;
	if (len)
		*len = b->len;
	buf_init(b);
	return p;
}

void strlist_add_owned(struct strlist *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n++] = s;
}

void strlist_add(struct strlist *l, const char *s)
{
	strlist_add_owned(l, xstrdup(s));
}

int strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return 1;
	return 0;
}

void strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

int util_read_file(const char *path, size_t max_bytes, struct buf *out, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, errno, "%s: %s", path, strerror(errno));
		return -1;
	}
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, errno, "%s: read: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (max_bytes && out->len + (size_t)n > max_bytes) {
			err_set(e, EFBIG, "%s: larger than %zu bytes", path, max_bytes);
			close(fd);
			return -1;
		}
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	if (!out->data)
		buf_reserve(out, 0), out->data[0] = '\0';
	return 0;
}

char *util_dirname(const char *path)
{
	char *copy = xstrdup(path);
	char *d = xstrdup(dirname(copy));
	free(copy);
	return d;
}

char *util_path_join(const char *base, const char *rel)
{
	if (!rel)
		return NULL;
	if (rel[0] == '/' || !base || !base[0] || strcmp(base, ".") == 0)
		return xstrdup(rel);
	return xasprintf("%s/%s", base, rel);
}

int util_fsync_dir_of(const char *path, struct err *e)
{
	char *dir = util_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, errno, "%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	if (rc != 0 && saved != EINVAL) {
		err_set(e, saved, "%s: fsync: %s", dir, strerror(saved));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

int util_pwrite_all(int fd, const char *path, const void *data, size_t len, off_t off,
		    struct err *e)
{
	const char *p = data;
	while (len) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, errno, "%s: write: %s", path, strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

/* Writes all of data at fd's position; errors name path. */
static int write_all_fd(int fd, const char *path, const void *data, size_t len, struct err *e)
{
	return util_pwrite_all(fd, path, data, len, -1, e);
}

int util_pread_all(int fd, const char *path, void *data, size_t len, off_t off, struct err *e)
{
	char *p = data;
	while (len) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_set(e, n < 0 ? errno : EIO, "%s: read: %s", path,
				n < 0 ? strerror(errno) : "unexpected end of file");
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int util_write_file(const char *path, const void *data, size_t len, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(e, errno, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = write_all_fd(fd, path, data, len, e);
	if (close(fd) != 0 && rc == 0) {
		err_set(e, errno, "%s: close: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(path);
	return rc;
}

int util_write_file_atomic(const char *path, const void *data, size_t len, struct err *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;
	if (fd < 0) {
		err_set(e, errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all_fd(fd, tmp, data, len, e) != 0)
		goto out;
	if (fsync(fd) != 0) {
		err_set(e, errno, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(e, errno, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err_set(e, errno, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	rc = util_fsync_dir_of(path, e);
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int util_source_date_epoch(int64_t *out)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	long v;
	if (!s || !*s || util_parse_long(s, &v) != 0 || v < 0)
		return 0;
	*out = v;
	return 1;
}

int64_t util_now(void)
{
	int64_t t;
	if (util_source_date_epoch(&t))
		return t;
	return (int64_t)time(NULL);
}

void util_format_rfc3339(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, size, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double util_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int util_parse_long(const char *s, long *out)
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int32_t util_utf8_next(const char **pp, const char *end)
{
	const unsigned char *p = (const unsigned char *)*pp;
	const unsigned char *e = (const unsigned char *)end;
	if (p >= e)
		return -1;
	unsigned c = p[0];
	int n;
	uint32_t cp, min;
	if (c < 0x80) {
		*pp += 1;
		return (int32_t)c;
	} else if ((c & 0xE0) == 0xC0) {
		n = 1, cp = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 2, cp = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (e - p <= n)
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*pp += n + 1;
	return (int32_t)cp;
}

int util_is_valid_utf8(const char *s, size_t n)
{
	const char *end = s + n;
	while (s < end)
		if (util_utf8_next(&s, end) < 0)
			return 0;
	return 1;
}

static int xml_char_ok(int32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

char *util_utf8_sanitize(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	const char *end = s + n;
	buf_reserve(&b, n);
	while (s < end) {
		const char *start = s;
		int32_t c = util_utf8_next(&s, end);
		if (c < 0) {
			buf_add(&b, "\xEF\xBF\xBD", 3);
			s = start + 1;
			continue;
		}
		if (xml_char_ok(c))
			buf_add(&b, start, (size_t)(s - start));
	}
	return buf_detach(&b, NULL);
}

int util_has_cjk(const char *s)
{
	const char *end = s + strlen(s);
	while (s < end) {
		int32_t c = util_utf8_next(&s, end);
		if (c < 0) {
			s++;
			continue;
		}
		if ((c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) ||
		    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF00 && c <= 0xFFEF) ||
		    (c >= 0x20000 && c <= 0x3FFFF))
			return 1;
	}
	return 0;
}

char *util_trim(char *s)
{
	if (!s)
		return s;
	char *p = s;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	memmove(s, p, n);
	s[n] = '\0';
	return s;
}

int util_starts_with_ci(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

void log_set_progress_line(int on)
{
	log_clear_line = on;
}

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A progress line may be drawn on the terminal: a message replaces it, and the next
	 * redraw puts it back below. */
	fprintf(stderr, "%sinkdigest: %s\n", log_clear_line ? "\r\033[K" : "", line);
}
