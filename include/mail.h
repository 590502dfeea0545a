/* Stage `mail`: sends finished books by SMTP with libcurl's MIME API (multipart/mixed, a short
 * text part, the EPUB as application/epub+zip, base64). Reads the book files it is given and
 * the password source; never logs or reports a secret. */
#ifndef INKDIGEST_MAIL_H
#define INKDIGEST_MAIL_H

#include "util.h"

enum mail_error {
	MAIL_ERR_TEMPORARY = 1,  /* connection refused, timeout, 4xx: try again later */
	MAIL_ERR_PERMANENT,      /* 5xx: auth, size, recipient */
	MAIL_ERR_CONFIG,         /* password source unusable, message too big before sending */
};

struct mail_settings {
	const char *smtp_url;
	int tls_none;            /* plain SMTP explicitly allowed */
	const char *user;
	const char *password;    /* resolved secret, or NULL */
	const char *ca_file;
	const char *from;
	const struct strlist *to;
	const char *subject;
	const char *body;
	long max_mail_size;
	int max_attempts;        /* default 3 */
	long retry_base_ms;      /* default 2000 */
	int verbose;             /* SMTP dialogue to stderr with AUTH redacted */
	long response_timeout_s; /* a server silent this long fails the attempt; 0 = 120 */
};

/* What the subject and body templates can name, as text; NULL expands to nothing (e.g. the
 * counts in `inkdigest send`, which mails books it did not build). */
struct mail_vars {
	const char *title;       /* {title}: the digest's title */
	const char *date;        /* {date}: YYYY-MM-DD in the digest's time zone */
	const char *articles;    /* {articles}: articles in the attached books */
	const char *feeds;       /* {feeds}: feeds those articles come from */
	const char *books;       /* {books}: books attached */
};
#define MAIL_DEFAULT_SUBJECT "{title} {date}"
#define MAIL_DEFAULT_BODY_TEMPLATE "{articles} new articles from {feeds} feeds, sent by inkdigest."
/* Expands {name} placeholders in tmpl ({{ and }} are literal braces). Returns a new string, or
 * NULL with e set naming the unknown placeholder or the unmatched brace. v may be NULL to only
 * validate. */
char *mail_expand(const char *tmpl, const struct mail_vars *v, struct err *e);

/* Resolves the password from env, file (must be mode 0600) or command. */
int mail_resolve_password(const char *env_name, const char *file, const char *command,
			  char **password, struct err *e);
/* The encoded size of a message carrying these files (for the size budget). */
size_t mail_encoded_size(size_t attachment_bytes);
/* Sends one message with the given attachments (paths, and the names the reader sees). */
int mail_send(const struct mail_settings *m, const char *const *paths, const char *const *names,
	      size_t n, struct err *e);

#endif
