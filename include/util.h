/* Small shared helpers every module may use: the error struct, growable byte buffers,
 * allocation that aborts on out-of-memory, logging to stderr and string lists.
 * Never does I/O beyond stderr logging; never knows about any pipeline stage. */
#ifndef INKDIGEST_UTIL_H
#define INKDIGEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* A failure: a code (module-specific, nonzero) and a one-line message that names the object
 * and the stage, e.g. `feed "HN": fetch: HTTP 503`. Filled only on failure. */
struct err {
	int code;
	char msg[512];
};

void err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to an already-set message (for adding context on the way up). */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation: out of memory aborts with a message; these never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);                /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_oom(void);

/* Growable byte buffer, always NUL-terminated after data[len] once anything was added. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
#define BUF_INIT {NULL, 0, 0}
void buf_init(struct buf *b);
void buf_release(struct buf *b);
/* Room for extra more bytes and a NUL; the contents stay NUL-terminated. */
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/* Hands the bytes to the caller (free() them) and leaves b empty. Never NULL. */
char *buf_detach(struct buf *b, size_t *len);

/* A list of owned strings. */
struct strlist {
	char **items;
	size_t n;
	size_t cap;
};
void strlist_add(struct strlist *l, const char *s);     /* copies s */
void strlist_add_owned(struct strlist *l, char *s);     /* takes s */
int strlist_contains(const struct strlist *l, const char *s);
void strlist_release(struct strlist *l);

/* Files. read_file caps at max_bytes (0 = no cap) and fails beyond it. */
int util_read_file(const char *path, size_t max_bytes, struct buf *out, struct err *e);
/* Writes data to path atomically: a temporary file beside it, fsync, rename, fsync the folder. */
int util_write_file_atomic(const char *path, const void *data, size_t len, struct err *e);
/* Writes a scratch file (mode 0600): no fsync, no rename; a failed write leaves no file. */
int util_write_file(const char *path, const void *data, size_t len, struct err *e);
/* All of len bytes at offset off of fd (off -1: at its position; path names it in errors),
 * or -1 with e set; EINTR and short transfers are retried, an early end of file is an error. */
int util_pwrite_all(int fd, const char *path, const void *data, size_t len, off_t off,
		    struct err *e);
int util_pread_all(int fd, const char *path, void *data, size_t len, off_t off, struct err *e);
/* fsync of the folder that holds path, so a rename into it is durable. */
int util_fsync_dir_of(const char *path, struct err *e);
/* "dir/name" with dir taken from a file path ("a/b.ini" -> "a"); returns a new string. */
char *util_dirname(const char *path);
/* Joins base and rel unless rel is absolute. */
char *util_path_join(const char *base, const char *rel);

/* Time: the build's notion of "now": SOURCE_DATE_EPOCH when set (reproducible builds),
 * else the clock. */
int64_t util_now(void);
int util_source_date_epoch(int64_t *out);  /* 1 when SOURCE_DATE_EPOCH is set and valid */
/* RFC 3339 UTC ("2026-11-26T06:00:00Z") into out (at least 21 bytes). */
void util_format_rfc3339(int64_t t, char *out, size_t size);
/* Monotonic seconds, for durations. */
double util_monotonic(void);

/* Parsing numbers without atoi: 0 on success, -1 on junk or overflow. */
int util_parse_long(const char *s, long *out);

/* libxml2 reports errors through thread-wide handlers and would print them; a stage parsing
 * untrusted markup silences them between begin and end (src/util_xml.c). */
struct xml_quiet {
	void (*serror)(void);
	void *sctx;
	void (*gerror)(void);
	void *gctx;
};
void util_xml_quiet_begin(struct xml_quiet *q);
void util_xml_quiet_end(struct xml_quiet *q);
/* The charset a <meta charset> or http-equiv Content-Type declares within the first 4 KB of an
 * HTML page, lower-cased, or NULL; the caller frees it. */
char *util_html_meta_charset(const char *page, size_t len);

/* Text. */
int util_is_valid_utf8(const char *s, size_t n);
/* Copies s, replacing invalid UTF-8 sequences with U+FFFD and dropping characters XML 1.0
 * forbids (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF). */
char *util_utf8_sanitize(const char *s, size_t n);
/* Decodes one UTF-8 code point at *p and advances *p past it; on an invalid or truncated
 * sequence returns -1 and leaves *p where it was (the caller decides how far to skip). */
int32_t util_utf8_next(const char **p, const char *end);
int util_has_cjk(const char *s);
char *util_trim(char *s);  /* in place; returns s */
int util_starts_with_ci(const char *s, const char *prefix);

/* Logging to stderr. Level: 0 quiet (errors only), 1 normal, 2 verbose. */
enum log_level { LOG_ERROR = 0, LOG_INFO = 1, LOG_DEBUG = 2 };
void log_set_level(int level);
/* On while a progress line is drawn on stderr: messages clear it first. */
void log_set_progress_line(int on);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"

#endif
