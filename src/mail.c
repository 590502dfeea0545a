/* Stage `mail`: sends finished books by SMTP through libcurl's MIME API and resolves the SMTP
 * password from env, a private file or a command. Inputs: settings, book paths; output: sent or
 * a classified error. Never logs, prints or reports a secret; never disables TLS verification. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail.h"

/* Send to Kindle limits (EREADER.md §1). */
#define MAIL_MAX_RECIPIENTS 15
#define MAIL_MAX_ATTACHMENTS 25
/* Message headers, the text part and the boundaries, for a body of ordinary length. */
#define MAIL_MESSAGE_OVERHEAD 8192
#define MAIL_BODY_INCLUDED 1024
/* Part headers of one attachment, a long RFC 2231 file name included (mail_encoded_size). */
#define MAIL_PART_OVERHEAD 2048
/* Part headers without the file name, for the exact-ish budget of mail_send. */
#define MAIL_PART_HEADERS 256
#define MAIL_SECRET_MAX 4096
#define MAIL_NAME_MAX 200
#define MAIL_DEFAULT_BODY "Sent by inkdigest."
#define MAIL_EPUB_TYPE "application/epub+zip"

/* --- subject and body templates --- */

char *mail_expand(const char *tmpl, const struct mail_vars *v, struct err *e)
{
	static const struct mail_vars none;
	if (!v)
		v = &none;
	const struct {
		const char *name;
		const char *value;
	} names[] = {{"title", v->title},       {"date", v->date},   {"articles", v->articles},
	             {"feeds", v->feeds},       {"books", v->books}};
	struct buf b = BUF_INIT;
	buf_reserve(&b, strlen(tmpl));
	for (const char *p = tmpl; *p; p++) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			buf_putc(&b, *p++);
			continue;
		}
		if (*p == '}') {
			err_set(e, MAIL_ERR_CONFIG, "mail: template \"%s\": unmatched }", tmpl);
			goto fail;
		}
		if (*p != '{') {
			buf_putc(&b, *p);
			continue;
		}
		const char *close = strchr(p, '}');
		size_t len = close ? (size_t)(close - p - 1) : 0;
		size_t i = 0;
		while (close && i < ARRAY_SIZE(names) &&
		       !(strlen(names[i].name) == len && strncmp(names[i].name, p + 1, len) == 0))
			i++;
		if (!close || i == ARRAY_SIZE(names)) {
			err_set(e, MAIL_ERR_CONFIG,
			        "mail: template \"%s\": unknown placeholder %.*s (known: {title}, "
			        "{date}, {articles}, {feeds}, {books})",
			        tmpl, close ? (int)(len + 2) : 1, p);
			goto fail;
		}
		if (names[i].value)
			buf_puts(&b, names[i].value);
		p = close;
	}
	return buf_detach(&b, NULL);
fail:
	buf_release(&b);
	return NULL;
}

/* --- password sources --- */

static int password_from_env(const char *name, char **out, struct err *e)
{
	const char *v = getenv(name);
	if (!v) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_env %s is not set", name);
		return -1;
	}
	if (!*v) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_env %s is empty", name);
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

/* Keeps only the first line; a password never contains a line break. */
static char *first_line(const char *s, size_t n)
{
	size_t len = 0;
	while (len < n && s[len] != '\n' && s[len] != '\r' && s[len] != '\0')
		len++;
	return xstrndup(s, len);
}

static int password_from_file(const char *path, char **out, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_file %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = -1;
	char data[MAIL_SECRET_MAX + 1];
	size_t n = 0;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_file %s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err_set(
		    e, MAIL_ERR_CONFIG,
		    "mail: password_file %s: owned by uid %lu, not by the user running inkdigest",
		    path, (unsigned long)st.st_uid);
		goto out;
	}
	if (st.st_mode & 077) {
		err_set(e, MAIL_ERR_CONFIG,
		        "mail: password_file %s: mode %04o lets others read it; chmod 600 it", path,
		        (unsigned)(st.st_mode & 07777));
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, data + n, sizeof(data) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, MAIL_ERR_CONFIG, "mail: password_file %s: %s", path,
			        strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == sizeof(data)) {
			err_set(e, MAIL_ERR_CONFIG, "mail: password_file %s: larger than %d bytes",
			        path, MAIL_SECRET_MAX);
			goto out;
		}
	}
	*out = first_line(data, n);
	if (!**out) {
		free(*out);
		*out = NULL;
		err_set(e, MAIL_ERR_CONFIG, "mail: password_file %s: empty first line", path);
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(data, sizeof(data));
	close(fd);
	return rc;
}

/* Like msmtp's passwordeval. The command text is not quoted in messages: it may embed a
 * secret itself. */
static int password_from_command(const char *command, char **out, struct err *e)
{
	fflush(NULL);
	FILE *p = popen(command, "r");
	if (!p) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_command: cannot run: %s",
		        strerror(errno));
		return -1;
	}
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t r;
	while ((r = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		/* Drain everything so the command never dies of SIGPIPE, keep only a bounded head.
		 */
		if (b.len < MAIL_SECRET_MAX)
			buf_add(&b, chunk, r);
	}
	explicit_bzero(chunk, sizeof(chunk));
	int status = pclose(p);
	int rc = -1;
	if (status == -1) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_command: %s", strerror(errno));
	} else if (WIFSIGNALED(status)) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_command: killed by signal %d",
		        WTERMSIG(status));
	} else if (WEXITSTATUS(status) != 0) {
		err_set(e, MAIL_ERR_CONFIG, "mail: password_command: exited with status %d",
		        WEXITSTATUS(status));
	} else {
		*out = first_line(b.data ? b.data : "", b.len);
		if (**out) {
			rc = 0;
		} else {
			free(*out);
			*out = NULL;
			err_set(e, MAIL_ERR_CONFIG, "mail: password_command: printed no password");
		}
	}
	if (b.data)
		explicit_bzero(b.data, b.cap);
	buf_release(&b);
	return rc;
}

int mail_resolve_password(const char *env_name, const char *file, const char *command,
                          char **password, struct err *e)
{
	*password = NULL;
	int sources = (env_name && *env_name) + (file && *file) + (command && *command);
	if (sources > 1) {
		err_set(e, MAIL_ERR_CONFIG,
		        "mail: set only one of password_env, password_file "
		        "and password_command");
		return -1;
	}
	if (env_name && *env_name)
		return password_from_env(env_name, password, e);
	if (file && *file)
		return password_from_file(file, password, e);
	if (command && *command)
		return password_from_command(command, password, e);
	return 0;
}

/* --- message size --- */

/* Base64 as libcurl's encoder writes it: 76 characters a line, CRLF after each. */
static size_t base64_lines_size(size_t n)
{
	size_t chars = (n + 2) / 3 * 4;
	size_t lines = (chars + 75) / 76;
	return chars + 2 * lines;
}

size_t mail_encoded_size(size_t attachment_bytes)
{
	return base64_lines_size(attachment_bytes) + MAIL_PART_OVERHEAD + MAIL_MESSAGE_OVERHEAD;
}

/* --- headers --- */

static int has_line_break(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* The addr-spec of "Name <a@b>" or "a@b", for the SMTP envelope. */
static char *addr_spec(const char *addr)
{
	const char *lt = strchr(addr, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (gt)
			return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	}
	char *s = xstrdup(addr);
	char *t = util_trim(s);
	char *r = xstrdup(t);
	free(s);
	return r;
}

/* RFC 5322 date-time in UTC; day and month names are fixed English, whatever the locale. */
static void format_date(time_t t, struct buf *out)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	gmtime_r(&t, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void format_message_id(const char *from_addr, struct buf *out)
{
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* Uniqueness, not secrecy, is what a Message-ID needs. */
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, sizeof(t));
		double m = util_monotonic();
		memcpy(rnd + 8, &m, sizeof(m));
	}
	const char *at = strrchr(from_addr, '@');
	const char *host = at && at[1] ? at + 1 : "inkdigest.invalid";
	buf_puts(out, "Message-ID: <");
	for (size_t i = 0; i < sizeof(rnd); i++)
		buf_printf(out, "%02x", rnd[i]);
	buf_printf(out, ".inkdigest@%s>", host);
}

#define Q_WORD_OPEN "=?UTF-8?Q?"
#define Q_WORD_CLOSE "?="

/* RFC 2047 "Q" encoded words, none longer than 75 characters, folded onto continuation
 * lines; a UTF-8 sequence is never split across two words. */
static void encode_subject(const char *subject, struct buf *out)
{
	char *clean = util_utf8_sanitize(subject, strlen(subject));
	const char *p = clean, *end = clean + strlen(clean);
	/* Words are at most 75 characters, lines at most 78: the first line also holds
	 * "Subject: ". */
	const size_t wrap = strlen(Q_WORD_OPEN Q_WORD_CLOSE);
	size_t max_payload = 78 - strlen("Subject: ") - wrap;
	struct buf word = BUF_INIT;
	int first = 1;
	buf_puts(out, "Subject:");
	while (p < end) {
		const char *start = p;
		util_utf8_next(&p, end);
		struct buf enc = BUF_INIT;
		for (const char *q = start; q < p; q++) {
			unsigned char c = (unsigned char)*q;
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("!*+-/", c))
				buf_putc(&enc, (char)c);
			else if (c == ' ')
				buf_putc(&enc, '_');
			else
				buf_printf(&enc, "=%02X", c);
		}
		if (word.len + enc.len > max_payload) {
			buf_printf(out, "%s" Q_WORD_OPEN "%s" Q_WORD_CLOSE, first ? " " : "\r\n ",
			           word.data);
			buf_reset(&word);
			first = 0;
			max_payload = 75 - wrap;
		}
		buf_add(&word, enc.data, enc.len);
		buf_release(&enc);
	}
	if (word.len)
		buf_printf(out, "%s" Q_WORD_OPEN "%s" Q_WORD_CLOSE, first ? " " : "\r\n ",
		           word.data);
	buf_release(&word);
	free(clean);
}

/* The top-level headers; libcurl adds MIME-Version and the multipart Content-Type. */
static struct curl_slist *message_headers(const struct mail_settings *m, const char *from_addr)
{
	struct curl_slist *h = NULL;
	struct buf b = BUF_INIT;

	format_date(time(NULL), &b);
	h = curl_slist_append(h, b.data);
	buf_reset(&b);
	buf_printf(&b, "From: %s", m->from);
	h = curl_slist_append(h, b.data);
	buf_reset(&b);
	buf_puts(&b, "To: ");
	for (size_t i = 0; i < m->to->n; i++)
		buf_printf(&b, "%s%s", i ? ",\r\n " : "", m->to->items[i]);
	h = curl_slist_append(h, b.data);
	buf_reset(&b);
	if (m->subject && *m->subject) {
		/* Encoded words also fold a long ASCII subject within the line limit. */
		if (is_ascii(m->subject) && strlen(m->subject) <= 78 - strlen("Subject: "))
			buf_printf(&b, "Subject: %s", m->subject);
		else
			encode_subject(m->subject, &b);
		h = curl_slist_append(h, b.data);
		buf_reset(&b);
	}
	format_message_id(from_addr, &b);
	h = curl_slist_append(h, b.data);
	buf_release(&b);
	if (!h)
		die_oom();
	return h;
}

/* --- the SMTP dialogue --- */

struct dialogue {
	int verbose;
	int after_challenge; /* the last server line was 334: the next client line is a secret */
	const char *secret;
	char last_reply[256]; /* the server's last line outside the AUTH exchange */
	char stage[32];       /* what that line answered: "greeting", "AUTH", "RCPT TO"... */
};

/* Replaces each occurrence of secret in s (in place, s has room for size bytes). */
static void scrub(char *s, size_t size, const char *secret)
{
	if (!secret || !*secret)
		return;
	size_t n = strlen(secret);
	if (!strstr(s, secret))
		return;
	/* One pass: the replacement itself may contain the secret (a password "d"). */
	struct buf b = BUF_INIT;
	const char *p = s, *hit;
	while ((hit = strstr(p, secret)) != NULL) {
		buf_add(&b, p, (size_t)(hit - p));
		buf_puts(&b, "[redacted]");
		p = hit + n;
	}
	buf_puts(&b, p);
	size_t len = b.len < size - 1 ? b.len : size - 1;
	memcpy(s, b.data, len);
	s[len] = '\0';
	buf_release(&b);
}

static void print_line(struct dialogue *d, char dir, const char *line)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", line);
	scrub(copy, sizeof(copy), d->secret);
	fprintf(stderr, "mail: %c %s\n", dir, copy);
}

/* One protocol line from libcurl: remembers server replies, prints the dialogue when verbose
 * with every credential replaced. */
static void dialogue_line(struct dialogue *d, curl_infotype type, const char *line)
{
	if (type == CURLINFO_HEADER_IN) {
		if (strncmp(line, "354", 3) == 0)
			snprintf(d->stage, sizeof(d->stage), "end of message");
		d->after_challenge = strncmp(line, "334", 3) == 0;
		if (!d->after_challenge) {
			size_t k = 0;
			for (const char *p = line; *p && k < sizeof(d->last_reply) - 1; p++)
				d->last_reply[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
			d->last_reply[k] = '\0';
		}
		if (d->verbose)
			print_line(d, '<', line);
		return;
	}
	if (type == CURLINFO_HEADER_OUT) {
		if (d->after_challenge || util_starts_with_ci(line, "AUTH"))
			snprintf(d->stage, sizeof(d->stage), "AUTH");
		else
			snprintf(d->stage, sizeof(d->stage), "%.*s", (int)strcspn(line, ":<"),
			         line);
	}
	if (!d->verbose)
		return;
	if (type == CURLINFO_TEXT) {
		print_line(d, '*', line);
	} else if (util_starts_with_ci(line, "AUTH ")) {
		/* "AUTH PLAIN <initial response>": keep the mechanism, drop the rest. */
		const char *mech = line + 5;
		size_t mech_len = strcspn(mech, " ");
		char shown[64];
		snprintf(shown, sizeof(shown), "AUTH %.*s%s", (int)(mech_len < 32 ? mech_len : 32),
		         mech, mech[mech_len] ? " [redacted]" : "");
		print_line(d, '>', shown);
	} else if (d->after_challenge) {
		print_line(d, '>', "[redacted]");
	} else {
		print_line(d, '>', line);
	}
}

static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *userp)
{
	struct dialogue *d = userp;
	/* Body bytes (DATA_OUT) and TLS records never reach the log. */
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT && type != CURLINFO_TEXT)
		return 0;
	const char *p = data, *end = data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t len = (size_t)(stop - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len) {
			char *line = xstrndup(p, len);
			dialogue_line(d, type, line);
			free(line);
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* --- sending --- */

struct attachment {
	const char *path;
	const char *name;
	size_t size;
};

struct message {
	const struct mail_settings *m;
	char *shown_url; /* scheme://host:port, never userinfo */
	char *from_addr;
	struct curl_slist *headers;
	struct curl_slist *rcpts;
	struct attachment *att;
	size_t n_att;
};

enum attempt_result { SENT, FAILED_TEMPORARY, FAILED_PERMANENT };

/* Content-Disposition with an RFC 2231 file name: libcurl quotes file names but never
 * encodes them, and a raw UTF-8 header is not valid MIME. */
static struct curl_slist *disposition_2231(CURL *c, const char *name)
{
	char *pct = curl_easy_escape(c, name, 0);
	if (!pct)
		die_oom();
	char *h = xasprintf("Content-Disposition: attachment;\r\n filename*=UTF-8''%s", pct);
	curl_free(pct);
	struct curl_slist *l = curl_slist_append(NULL, h);
	free(h);
	if (!l)
		die_oom();
	return l;
}

static int build_mime(CURL *c, const struct message *msg, curl_mime **out, struct err *e)
{
	curl_mime *mime = curl_mime_init(c);
	if (!mime)
		die_oom();
	const char *body = msg->m->body && *msg->m->body ? msg->m->body : MAIL_DEFAULT_BODY;
	/* Amazon treats a mail without a text part as empty (EREADER.md §1): text goes first. */
	curl_mimepart *part = curl_mime_addpart(mime);
	CURLcode rc = part ? CURLE_OK : CURLE_OUT_OF_MEMORY;
	if (!rc)
		rc = curl_mime_data(part, body, CURL_ZERO_TERMINATED);
	if (!rc)
		rc = curl_mime_type(part, "text/plain; charset=utf-8");
	if (!rc)
		rc = curl_mime_encoder(part, "quoted-printable");
	for (size_t i = 0; !rc && i < msg->n_att; i++) {
		const struct attachment *a = &msg->att[i];
		part = curl_mime_addpart(mime);
		if (!part) {
			rc = CURLE_OUT_OF_MEMORY;
			break;
		}
		rc = curl_mime_filedata(part, a->path);
		if (!rc)
			rc = curl_mime_type(part, MAIL_EPUB_TYPE);
		if (!rc)
			rc = curl_mime_encoder(part, "base64");
		if (rc)
			break;
		if (is_ascii(a->name)) {
			rc = curl_mime_filename(part, a->name);
		} else {
			rc = curl_mime_filename(part, NULL);
			if (!rc)
				rc = curl_mime_headers(part, disposition_2231(c, a->name), 1);
		}
	}
	if (rc) {
		curl_mime_free(mime);
		err_set(e, MAIL_ERR_CONFIG, "building the message: %s", curl_easy_strerror(rc));
		return -1;
	}
	*out = mime;
	return 0;
}

static int is_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

/* The code of a reply line such as "552 5.3.4 Message too big", or 0. */
static long reply_code(const char *line)
{
	for (int i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9')
			return 0;
	if (line[3] != '\0' && line[3] != ' ' && line[3] != '-')
		return 0;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* One connection and one try; fills e (without the "mail URL" prefix) unless SENT. */
static enum attempt_result send_once(const struct message *msg, struct err *e)
{
	const struct mail_settings *m = msg->m;
	struct dialogue d = {.verbose = m->verbose, .secret = m->password, .stage = "greeting"};
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_mime *mime = NULL;
	enum attempt_result result = FAILED_PERMANENT;
	CURL *c = curl_easy_init();
	if (!c) {
		err_set(e, MAIL_ERR_TEMPORARY, "cannot start libcurl");
		return FAILED_TEMPORARY;
	}
	if (build_mime(c, msg, &mime, e) != 0)
		goto out;

	curl_easy_setopt(c, CURLOPT_URL, m->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* A stalled server fails the attempt (and is retried) instead of hanging the cron job:
	 * silence after a command, or an upload that stops moving. */
	long quiet_s = m->response_timeout_s > 0 ? m->response_timeout_s : 120;
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, quiet_s < 30 ? quiet_s : 30L);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, quiet_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, quiet_s);
	curl_easy_setopt(c, CURLOPT_USE_SSL,
	                 m->tls_none ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (m->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, m->ca_file);
	if (m->user)
		curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
	if (m->password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, msg->from_addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, msg->rcpts);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, msg->headers);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	/* The debug callback only runs in verbose mode; it is also how the server's reply is
	 * captured, so it is always on and prints only when asked to. */
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &d);

	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		result = SENT;
		goto out;
	}
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 400)
		code = reply_code(d.last_reply);
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	if (code >= 400 && code < 600) {
		result = code < 500 ? FAILED_TEMPORARY : FAILED_PERMANENT;
		/* The server's words say more than libcurl's summary of them. */
		err_set(e, code < 500 ? MAIL_ERR_TEMPORARY : MAIL_ERR_PERMANENT,
		        "%s: server replied \"%s\"", d.stage, d.last_reply);
	} else {
		const char *hint = "";
		if (rc == CURLE_USE_SSL_FAILED)
			hint = " (use smtps://, or tls = none for a trusted local relay only)";
		else if (rc == CURLE_PEER_FAILED_VERIFICATION)
			hint = " (set ca_file for a private CA)";
		result = is_transient(rc) ? FAILED_TEMPORARY : FAILED_PERMANENT;
		err_set(e, result == FAILED_TEMPORARY ? MAIL_ERR_TEMPORARY : MAIL_ERR_PERMANENT,
		        "%s%s", detail, hint);
	}
out:
	curl_easy_cleanup(c);
	curl_mime_free(mime);
	return result;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Checks the URL and gives the form shown in messages: scheme://host:port, without any
 * userinfo, which may hold a password. */
static int check_url(const struct mail_settings *m, char **shown, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;
	if (!u)
		die_oom();
	if (!m->smtp_url || curl_url_set(u, CURLUPART_URL, m->smtp_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		err_set(e, MAIL_ERR_CONFIG,
		        "mail: smtp is not a valid URL (smtps://host:465 or "
		        "smtp://host:587)");
		goto out;
	}
	if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0) {
		err_set(e, MAIL_ERR_CONFIG, "mail: smtp URL scheme %s: use smtps:// or smtp://",
		        scheme);
		goto out;
	}
	if (m->tls_none && strcmp(scheme, "smtp") != 0) {
		err_set(e, MAIL_ERR_CONFIG, "mail: tls = none only goes with an smtp:// URL");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	*shown = xasprintf("%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* A file name goes into a header: printable, valid UTF-8, and short enough that its
 * percent-encoded form stays far below the 998-character line limit. */
static int usable_name(const char *name)
{
	if (!name || !*name || strlen(name) > MAIL_NAME_MAX ||
	    !util_is_valid_utf8(name, strlen(name)))
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int check_settings(const struct mail_settings *m, const char *const *names, size_t n,
                          struct err *e)
{
	/* Raw UTF-8 in headers needs SMTPUTF8, which Send to Kindle gives no reason to use. */
	if (!m->from || !*m->from || has_line_break(m->from) || !is_ascii(m->from)) {
		err_set(e, MAIL_ERR_CONFIG, "mail: from must be one ASCII address");
		return -1;
	}
	if (!m->to || m->to->n == 0 || m->to->n > MAIL_MAX_RECIPIENTS) {
		err_set(e, MAIL_ERR_CONFIG, "mail: to needs 1 to %d addresses, not %zu",
		        MAIL_MAX_RECIPIENTS, m->to ? m->to->n : 0);
		return -1;
	}
	for (size_t i = 0; i < m->to->n; i++)
		if (!*m->to->items[i] || has_line_break(m->to->items[i]) ||
		    !is_ascii(m->to->items[i])) {
			err_set(e, MAIL_ERR_CONFIG,
			        "mail: to: address %zu is empty, spans lines or is not ASCII",
			        i + 1);
			return -1;
		}
	if (has_line_break(m->subject)) {
		err_set(e, MAIL_ERR_CONFIG, "mail: subject spans several lines");
		return -1;
	}
	if (m->user && *m->user && !m->password) {
		err_set(e, MAIL_ERR_CONFIG,
		        "mail: user %s has no password (set password_env, "
		        "password_file or password_command)",
		        m->user);
		return -1;
	}
	if (n == 0 || n > MAIL_MAX_ATTACHMENTS) {
		err_set(e, MAIL_ERR_CONFIG, "mail: %zu attachments; a mail carries 1 to %d", n,
		        MAIL_MAX_ATTACHMENTS);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!usable_name(names[i])) {
			err_set(e, MAIL_ERR_CONFIG, "mail: attachment %zu: unusable file name",
			        i + 1);
			return -1;
		}
	return 0;
}

static int prepare(struct message *msg, const char *const *paths, const char *const *names,
                   size_t n, struct err *e)
{
	const struct mail_settings *m = msg->m;
	if (check_url(m, &msg->shown_url, e) != 0 || check_settings(m, names, n, e) != 0)
		return -1;
	msg->att = xcalloc(n, sizeof(*msg->att));
	msg->n_att = n;
	size_t body_len = m->body ? strlen(m->body) : 0;
	/* Quoted-printable triples a byte at worst; the overhead covers a short body. */
	size_t total = MAIL_MESSAGE_OVERHEAD;
	if (body_len > MAIL_BODY_INCLUDED)
		total += 3 * (body_len - MAIL_BODY_INCLUDED);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) != 0) {
			err_set(e, MAIL_ERR_CONFIG, "mail: %s: %s", paths[i], strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			err_set(e, MAIL_ERR_CONFIG, "mail: %s: not a regular file", paths[i]);
			return -1;
		}
		if (access(paths[i], R_OK) != 0) {
			err_set(e, MAIL_ERR_CONFIG, "mail: %s: %s", paths[i], strerror(errno));
			return -1;
		}
		msg->att[i] = (struct attachment){paths[i], names[i], (size_t)st.st_size};
		/* Percent-encoding triples a non-ASCII name. */
		total += base64_lines_size((size_t)st.st_size) + MAIL_PART_HEADERS +
		         3 * strlen(names[i]);
	}
	if (m->max_mail_size > 0 && total > (size_t)m->max_mail_size) {
		err_set(e, MAIL_ERR_CONFIG,
		        "mail: the message would be %zu bytes encoded, over "
		        "max_mail_size %ld; split the book (smaller volumes) or raise the limit",
		        total, m->max_mail_size);
		return -1;
	}
	char *from = addr_spec(m->from);
	msg->headers = message_headers(m, from);
	msg->from_addr = xasprintf("<%s>", from);
	free(from);
	for (size_t i = 0; i < m->to->n; i++) {
		char *a = addr_spec(m->to->items[i]);
		char *r = xasprintf("<%s>", a);
		msg->rcpts = curl_slist_append(msg->rcpts, r);
		free(r);
		free(a);
		if (!msg->rcpts)
			die_oom();
	}
	return 0;
}

int mail_send(const struct mail_settings *m, const char *const *paths, const char *const *names,
              size_t n, struct err *e)
{
	struct message msg = {.m = m};
	int rc = -1;
	if (prepare(&msg, paths, names, n, e) != 0)
		goto out;
	int max_attempts = m->max_attempts > 0 ? m->max_attempts : 3;
	long delay_ms = m->retry_base_ms > 0 ? m->retry_base_ms : 2000;
	for (int attempt = 1;; attempt++) {
		enum attempt_result r = send_once(&msg, e);
		if (r == SENT) {
			rc = 0;
			break;
		}
		if (r == FAILED_PERMANENT) {
			err_prefix(e, "mail %s", msg.shown_url);
			break;
		}
		if (attempt >= max_attempts) {
			if (attempt > 1)
				err_prefix(e, "gave up after %d attempts", attempt);
			err_prefix(e, "mail %s", msg.shown_url);
			break;
		}
		sleep_ms(delay_ms);
		if (delay_ms < 5 * 60 * 1000L)
			delay_ms *= 2;
	}
out:
	/* Last line of defence: whatever produced the message, the password never leaves. */
	if (rc != 0 && e)
		scrub(e->msg, sizeof(e->msg), m->password);
	free(msg.shown_url);
	free(msg.from_addr);
	free(msg.att);
	curl_slist_free_all(msg.headers);
	curl_slist_free_all(msg.rcpts);
	return rc;
}
