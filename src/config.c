/* Stage `config`: the INI file (parsed by inih) in, a validated struct config out, with every
 * problem reported as "FILE:LINE: message". Never touches the network or the state database;
 * the only file access beyond reading the config is stat() of the files it names. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"

/* Configs are small; a cap keeps a wrong path (a disk image, /dev/zero) from being slurped. */
#define CONFIG_MAX_BYTES (1024 * 1024)
#define MAX_RECIPIENTS 15
#define KINDLE_MAX_W 1440
#define KINDLE_MAX_H 1920
#define MIB (1024L * 1024L)

static const struct device_profile profiles[] = {
    {"kindle-paperwhite", 1236, 1648, "Kindle Paperwhite 5 (2021), 6.8\", 300 ppi", 1236, 1648, 1},
    {"kindle-paperwhite-6", 1272, 1696, "Kindle Paperwhite 6 (2024), 7\", 300 ppi", 1272, 1696, 1},
    {"kindle-basic", 1072, 1448, "Kindle (basic) 2022/2024, 6\", 300 ppi", 1072, 1448, 1},
    {"kindle-colorsoft", 1272, 1696, "Kindle Colorsoft, 300 ppi mono", 1272, 1696, 1},
    {"kindle-oasis", 1264, 1680, "Kindle Oasis 2/3, 300 ppi", 1264, 1680, 1},
    {"kindle-scribe", 1440, 1920, "Kindle Scribe 1/2 (panel 1860x2480; Kindle keeps 1440x1920)",
     1860, 2480, 1},
    {"kindle-scribe-3", 1440, 1920,
     "Kindle Scribe 3 / Scribe Colorsoft (panel 1986x2648; Kindle keeps 1440x1920)", 1986, 2648, 1},
    {"kobo-clara", 1072, 1448, "Kobo Clara HD/2E/BW/Colour, 300 ppi", 1072, 1448, 0},
    {"kobo-libra", 1264, 1680, "Kobo Libra 2 / Libra Colour, 300 ppi", 1264, 1680, 0},
    {"kobo-sage", 1440, 1920, "Kobo Sage, 300 ppi", 1440, 1920, 0},
    {"kobo-elipsa", 1404, 1872, "Kobo Elipsa / Elipsa 2E, 227 ppi", 1404, 1872, 0},
    {"remarkable", 1404, 1872, "reMarkable 1/2, 226 ppi", 1404, 1872, 0},
    {"remarkable-paper-pro", 1620, 2160, "reMarkable Paper Pro, 229 ppi", 1620, 2160, 0},
    {"remarkable-move", 954, 1696, "reMarkable Paper Pro Move, 264 ppi", 954, 1696, 0},
    {"pocketbook-verse", 758, 1024, "PocketBook Verse, 212 ppi", 758, 1024, 0},
    {"pocketbook-verse-pro", 1072, 1448, "PocketBook Verse Pro, 300 ppi", 1072, 1448, 0},
    {"pocketbook-era", 1264, 1680, "PocketBook Era / Era Color, 300 ppi", 1264, 1680, 0},
    {"pocketbook-inkpad", 1404, 1872, "PocketBook InkPad 4 / InkPad Color 3, 300 ppi", 1404, 1872,
     0},
    {"generic", 1264, 1680, "any 7\" reader (the default box)", 1264, 1680, 0},
    {"generic-6", 1072, 1448, "any 6\" reader", 1072, 1448, 0},
    {"generic-10", 1404, 1872, "any 10\" reader", 1404, 1872, 0},
    {NULL, 0, 0, NULL, 0, 0, 0},
};

const struct device_profile *config_profiles(void)
{
	return profiles;
}

const struct device_profile *config_find_profile(const char *name)
{
	if (!name)
		return NULL;
	for (const struct device_profile *p = profiles; p->name; p++)
		if (strcasecmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* KDP's supported languages (ISO 639-1 and 639-2), as innocenat/kindle-epub-fix lists them. */
static const char *const kindle_languages[] = {
    "af",  "gsw", "ar",  "eu",  "nb",  "br",  "ca",  "zh",  "kw",  "co",  "da",  "nl",  "stq",
    "en",  "fi",  "fr",  "fy",  "gl",  "de",  "gu",  "hi",  "is",  "ga",  "it",  "ja",  "lb",
    "mr",  "ml",  "gv",  "frr", "nn",  "pl",  "pt",  "oc",  "rm",  "sco", "gd",  "es",  "sv",
    "ta",  "cy",  "afr", "ara", "eus", "baq", "nob", "bre", "cat", "zho", "chi", "cor", "cos",
    "dan", "nld", "dut", "eng", "fin", "fra", "fre", "fry", "glg", "deu", "ger", "guj", "hin",
    "isl", "ice", "gle", "ita", "jpn", "ltz", "mar", "mal", "glv", "nor", "nno", "por", "oci",
    "roh", "gla", "spa", "swe", "tam", "cym", "wel",
};

int config_kindle_language_ok(const char *lang)
{
	if (!lang)
		return 0;
	size_t n = strcspn(lang, "-_");
	for (size_t i = 0; i < ARRAY_SIZE(kindle_languages); i++)
		if (strlen(kindle_languages[i]) == n &&
		    strncasecmp(kindle_languages[i], lang, n) == 0)
			return 1;
	return 0;
}

/* BCP 47 shape only: a 2-3 letter primary subtag, then 1-8 alphanumeric subtags. */
static int language_tag_ok(const char *s)
{
	size_t n = 0;
	while (isalpha((unsigned char)s[n]))
		n++;
	if (n < 2 || n > 3)
		return 0;
	s += n;
	while (*s) {
		if (*s != '-')
			return 0;
		s++;
		n = 0;
		while (isalnum((unsigned char)s[n]))
			n++;
		if (n < 1 || n > 8)
			return 0;
		s += n;
	}
	return 1;
}

enum section { SEC_NONE, SEC_DIGEST, SEC_FEED, SEC_MAIL, SEC_BAD };

#define MAX_KEYS 32

struct loader {
	const char *path;
	struct config *c;
	struct strlist *errors;
	const char *text;
	size_t len, pos;
	int lineno;
	enum section sec;
	/* the current feed: an index into c->feeds (which may move), or the scratch feed that
	 * takes the keys of a duplicate section so they are still checked */
	size_t feed_idx;
	int feed_is_scratch;
	struct feed_conf scratch;
	int digest_seen[MAX_KEYS], mail_seen[MAX_KEYS], feed_seen[MAX_KEYS];
	int width_line, height_line, language_line, device_line, prune_line, max_age_line;
	int mail_section;
	int *error_lines; /* line of each error added by this load, for sorting */
	size_t n_error_lines;
};

static void vnote(struct loader *l, struct strlist *to, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void vnote(struct loader *l, struct strlist *to, int line, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	if (line > 0)
		buf_printf(&b, "%s:%d: ", l->path, line);
	else
		buf_printf(&b, "%s: ", l->path);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Messages quote values: never a password in a URL (user:pw@host), and never a cut
	 * UTF-8 sequence or a control character from a truncated or binary line. */
	for (const char *p = msg; *p;) {
		const char *sep = strstr(p, "://");
		if (!sep) {
			buf_puts(&b, p);
			break;
		}
		const char *auth = sep + 3;
		size_t auth_len = strcspn(auth, "/?#\" ");
		const char *at = memchr(auth, '@', auth_len);
		if (at) {
			while (memchr(at + 1, '@', auth_len - (size_t)(at + 1 - auth)))
				at = memchr(at + 1, '@', auth_len - (size_t)(at + 1 - auth));
			buf_add(&b, p, (size_t)(auth - p));
			buf_puts(&b, "***");
			p = at;
		} else {
			buf_add(&b, p, (size_t)(auth - p));
			p = auth;
		}
	}
	strlist_add_owned(to, util_utf8_sanitize(b.data, b.len));
	buf_release(&b);
}

static void problem(struct loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(struct loader *l, int line, const char *fmt, ...)
{
	l->error_lines = xrealloc(l->error_lines, (l->n_error_lines + 1) * sizeof(int));
	l->error_lines[l->n_error_lines++] = line;
	va_list ap;
	va_start(ap, fmt);
	vnote(l, l->errors, line, fmt, ap);
	va_end(ap);
}

static void warning(struct loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warning(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(l, &l->c->warnings, line, fmt, ap);
	va_end(ap);
}

static struct feed_conf *cur_feed(struct loader *l)
{
	return l->feed_is_scratch ? &l->scratch : &l->c->feeds[l->feed_idx];
}

static void feed_init(struct feed_conf *f, const char *name, int line)
{
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->line = line;
	f->fulltext = FULLTEXT_NO;
	f->referer = REFERER_NONE;
	f->max_articles = -1;
}

/* The name inside [feed "NAME"]: quotes required, \" and \\ escape, as in git's config. */
static char *parse_feed_name(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '"')
		return NULL;
	s++;
	struct buf b = BUF_INIT;
	for (; *s && *s != '"'; s++) {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		buf_putc(&b, *s);
	}
	if (*s != '"' || s[1] != '\0' || b.len == 0) {
		buf_release(&b);
		return NULL;
	}
	char *name = buf_detach(&b, NULL);
	util_trim(name);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*name = '\0';
	if (!*name) {
		free(name);
		return NULL;
	}
	return name;
}

static void start_section(struct loader *l, char *name)
{
	util_trim(name);
	if (l->feed_is_scratch) {
		feed_conf_release(&l->scratch);
		l->feed_is_scratch = 0;
	}
	if (strcasecmp(name, "digest") == 0) {
		l->sec = SEC_DIGEST;
		return;
	}
	if (strcasecmp(name, "mail") == 0) {
		l->sec = SEC_MAIL;
		if (!l->mail_section) {
			l->mail_section = l->lineno;
			l->c->mail.line = l->lineno;
			l->c->mail.enabled = 1;
		}
		return;
	}
	if (strncasecmp(name, "feed", 4) == 0 &&
	    (name[4] == ' ' || name[4] == '\t' || name[4] == '"' || name[4] == '\0')) {
		char *fname = parse_feed_name(name + 4);
		if (!fname) {
			problem(l, l->lineno,
			        "expected [feed \"NAME\"] with a non-empty quoted name");
			l->sec = SEC_BAD;
			return;
		}
		memset(l->feed_seen, 0, sizeof(l->feed_seen));
		l->sec = SEC_FEED;
		struct config *c = l->c;
		for (size_t i = 0; i < c->n_feeds; i++) {
			if (strcmp(c->feeds[i].name, fname) == 0) {
				problem(l, l->lineno,
				        "duplicate feed name \"%s\" (first at line %d)", fname,
				        c->feeds[i].line);
				feed_init(&l->scratch, fname, l->lineno);
				l->feed_is_scratch = 1;
				free(fname);
				return;
			}
		}
		c->feeds = xrealloc(c->feeds, (c->n_feeds + 1) * sizeof(*c->feeds));
		feed_init(&c->feeds[c->n_feeds], fname, l->lineno);
		l->feed_idx = c->n_feeds++;
		free(fname);
		return;
	}
	problem(l, l->lineno, "unknown section [%s] (known: [digest], [feed \"NAME\"], [mail])",
	        name);
	l->sec = SEC_BAD;
}

/* inih's rule for where a name ends (inline comments are off, so only '=' or ':'). */
static const char *find_separator(const char *s)
{
	return strpbrk(s, "=:");
}

/* Sees each physical line before inih does: tracks the line number and the section (inih
 * truncates section names to 49 bytes and never reports an empty section), and reports the
 * syntax errors inih would only count. */
static void scan_line(struct loader *l, const char *raw, size_t n)
{
	if (memchr(raw, '\0', n)) {
		problem(l, l->lineno, "NUL byte in line (not a text file?)");
		return;
	}
	if (!util_is_valid_utf8(raw, n))
		problem(l, l->lineno, "invalid UTF-8");
	char *line = xstrndup(raw, n);
	char *s = util_trim(line);
	if (!*s || *s == ';' || *s == '#')
		goto out;
	if (*s == '[') {
		char *end = strchr(s, ']');
		if (!end) {
			problem(l, l->lineno, "section header without closing ']'");
			l->sec = SEC_BAD;
			goto out;
		}
		const char *rest = end + 1;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest && *rest != ';' && *rest != '#')
			problem(l, l->lineno, "unexpected text after section header: \"%s\"", rest);
		*end = '\0';
		start_section(l, s + 1);
		goto out;
	}
	if (!find_separator(s))
		problem(l, l->lineno, "expected NAME = VALUE, got \"%s\"", s);
out:
	free(line);
}

/* An fgets() for inih over the file in memory. One call = one physical line, so lineno is
 * exact even when inih itself would have split a long line. */
static char *read_line(char *str, int num, void *stream)
{
	struct loader *l = stream;
	if (l->pos >= l->len || num < 2)
		return NULL;
	const char *start = l->text + l->pos;
	const char *nl = memchr(start, '\n', l->len - l->pos);
	size_t n = nl ? (size_t)(nl - start) + 1 : l->len - l->pos;
	l->lineno++;
	scan_line(l, start, nl ? n - 1 : n);
	size_t copy = n < (size_t)num - 1 ? n : (size_t)num - 1;
	memcpy(str, start, copy);
	str[copy] = '\0';
	l->pos += n;
	return str;
}

/* ---- values ---- */

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "1", "on"};
	static const char *const no[] = {"no", "false", "0", "off"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A whole number with an optional unit suffix (unit_k = 1024 for bytes, 1000 for counts). */
static int parse_scaled(const char *v, long unit_k, long *out)
{
	const char *p = v;
	if (!isdigit((unsigned char)*p))
		return -1;
	long n = 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (LONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	while (*p == ' ' || *p == '\t')
		p++;
	long mult = 1;
	if (*p) {
		char u = (char)toupper((unsigned char)*p);
		if (u == 'K')
			mult = unit_k;
		else if (u == 'M')
			mult = unit_k * unit_k;
		else if (u == 'G')
			mult = unit_k * unit_k * unit_k;
		else if (u != 'B' || unit_k != 1024)
			return -1;
		p++;
		if (mult > 1 && unit_k == 1024) {
			if (*p == 'i' || *p == 'I')
				p++;
			if (*p == 'B' || *p == 'b')
				p++;
		}
		if (*p)
			return -1;
	}
	if (n > LONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static char *expand_path(struct loader *l, const char *v)
{
	if (v[0] == '~' && v[1] == '/') {
		const char *home = getenv("HOME");
		if (home && *home)
			return xasprintf("%s/%s", home, v + 2);
	}
	return util_path_join(l->c->dir, v);
}

static int is_url_with_scheme(const char *v, const char *const *schemes, size_t n)
{
	const char *sep = strstr(v, "://");
	if (!sep)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(schemes[i]) == (size_t)(sep - v) &&
		    strncasecmp(v, schemes[i], (size_t)(sep - v)) == 0)
			return sep[3] != '\0';
	return 0;
}

static int has_space_or_ctl(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v <= 0x20 || *v == 0x7f)
			return 1;
	return 0;
}

static int http_url_ok(const char *v)
{
	static const char *const http[] = {"http", "https"};
	return is_url_with_scheme(v, http, 2) && !has_space_or_ctl(v);
}

static int proxy_ok(const char *v)
{
	static const char *const schemes[] = {"http",    "https",  "socks4",
	                                      "socks4a", "socks5", "socks5h"};
	if (has_space_or_ctl(v))
		return 0;
	if (strstr(v, "://"))
		return is_url_with_scheme(v, schemes, ARRAY_SIZE(schemes));
	return 1; /* host:port, which libcurl takes as an HTTP proxy */
}

static int address_ok(const char *v)
{
	const char *at = strchr(v, '@');
	if (!at || at == v || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || strchr("<>()[],;:\"\\", *p))
			return 0;
	return 1;
}

static int tz_ok(const char *tz)
{
	if (!*tz || tz[0] == '/' || strstr(tz, "..") || has_space_or_ctl(tz))
		return 0;
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0)
		return 1;
	const char *dir = getenv("TZDIR");
	char *p = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	struct stat st;
	int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	if (ok)
		return 1;
	/* POSIX TZ such as "CST-8" or "EST5EDT": at least 3 letters, then an offset. */
	size_t n = 0;
	while (isalpha((unsigned char)tz[n]))
		n++;
	const char *q = tz + n;
	if (*q == '+' || *q == '-')
		q++;
	return n >= 3 && isdigit((unsigned char)*q);
}

/* Levenshtein distance, for "did you mean" on unknown keys. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t row[41];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost =
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
			        ? 0
			        : 1;
			size_t best = diag + cost;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* ---- keys ---- */

enum kind { K_TEXT, K_PATH, K_NUM, K_SIZE, K_COUNT, K_BOOL, K_SPECIAL };

struct key_spec {
	const char *name;
	enum kind kind;
	size_t off;
	long min, max;
	int repeat;
};

#define D(f) offsetof(struct config, f)
static const struct key_spec digest_keys[] = {
    {"title", K_TEXT, D(title), 0, 0, 0},
    {"language", K_SPECIAL, D(language), 0, 0, 0},
    {"output", K_PATH, D(output), 0, 0, 0},
    {"state", K_PATH, D(state), 0, 0, 0},
    {"templates", K_PATH, D(templates), 0, 0, 0},
    {"font", K_SPECIAL, D(font), 0, 0, 0},
    {"opml", K_PATH, D(opml), 0, 0, 0},
    {"ca_file", K_PATH, D(ca_file), 0, 0, 0},
    {"timezone", K_SPECIAL, D(timezone), 0, 0, 0},
    {"max_age", K_NUM, D(max_age_h), 0, 24L * 366 * 10, 0},
    {"max_articles_per_feed", K_NUM, D(max_articles_per_feed), 0, 10000, 0},
    {"device", K_SPECIAL, D(device), 0, 0, 0},
    {"max_width", K_NUM, D(max_width), 100, 10000, 0},
    {"max_height", K_NUM, D(max_height), 100, 10000, 0},
    {"jpeg_quality", K_NUM, D(jpeg_quality), 1, 100, 0},
    {"max_size", K_SIZE, D(max_size), 1, 1024L * MIB, 0},
    {"max_image_bytes", K_SIZE, D(max_image_bytes), 1, 1024L * MIB, 0},
    {"max_image_pixels", K_COUNT, D(max_image_pixels), 1, 1000L * 1000 * 1000, 0},
    {"max_feed_bytes", K_SIZE, D(max_feed_bytes), 1, 1024L * MIB, 0},
    {"concurrency", K_NUM, D(concurrency), 1, 64, 0},
    {"per_host", K_NUM, D(per_host), 1, 16, 0},
    {"timeout", K_NUM, D(timeout_s), 1, 3600, 0},
    {"connect_timeout", K_NUM, D(connect_timeout_s), 1, 600, 0},
    {"prune_days", K_NUM, D(prune_days), 0, 36500, 0},
    {"proxy", K_SPECIAL, D(proxy), 0, 0, 0},
    {"block_private_addresses", K_BOOL, D(block_private_addresses), 0, 0, 0},
    {NULL, K_TEXT, 0, 0, 0, 0},
};

#define M(f) offsetof(struct mail_conf, f)
static const struct key_spec mail_keys[] = {
    {"enabled", K_BOOL, M(enabled), 0, 0, 0},
    {"to", K_SPECIAL, 0, 0, 0, 1},
    {"from", K_SPECIAL, M(from), 0, 0, 0},
    {"smtp", K_SPECIAL, M(smtp_url), 0, 0, 0},
    {"tls", K_SPECIAL, M(tls), 0, 0, 0},
    {"user", K_TEXT, M(user), 0, 0, 0},
    {"password_env", K_SPECIAL, M(password_env), 0, 0, 0},
    {"password_file", K_PATH, M(password_file), 0, 0, 0},
    {"password_command", K_TEXT, M(password_command), 0, 0, 0},
    {"ca_file", K_PATH, M(ca_file), 0, 0, 0},
    {"subject", K_TEXT, M(subject), 0, 0, 0},
    {"body", K_TEXT, M(body), 0, 0, 0},
    {"max_mail_size", K_SIZE, M(max_mail_size), 1024, 1024L * MIB, 0},
    {NULL, K_TEXT, 0, 0, 0, 0},
};

static const struct key_spec feed_keys[] = {
    {"url", K_SPECIAL, 0, 0, 0, 0},     {"group", K_SPECIAL, 0, 0, 0, 0},
    {"lang", K_SPECIAL, 0, 0, 0, 0},    {"fulltext", K_SPECIAL, 0, 0, 0, 0},
    {"referer", K_SPECIAL, 0, 0, 0, 0}, {"header", K_SPECIAL, 0, 0, 0, 1},
    {"proxy", K_SPECIAL, 0, 0, 0, 1},   {"keep", K_SPECIAL, 0, 0, 0, 1},
    {"remove", K_SPECIAL, 0, 0, 0, 1},  {"max_articles", K_SPECIAL, 0, 0, 10000, 0},
    {NULL, K_TEXT, 0, 0, 0, 0},
};

/* Finds key in the table; on an unknown key reports it (with a suggestion) and returns NULL. */
static const struct key_spec *lookup(struct loader *l, const struct key_spec *keys,
                                     const char *secname, const char *key, int *seen)
{
	for (const struct key_spec *k = keys; k->name; k++) {
		if (strcasecmp(k->name, key) != 0)
			continue;
		int i = (int)(k - keys);
		if (!k->repeat) {
			if (seen[i]) {
				problem(l, l->lineno, "%s set twice in %s (first at line %d)",
				        k->name, secname, seen[i]);
				return NULL;
			}
			seen[i] = l->lineno;
		}
		return k;
	}
	const char *best = NULL;
	size_t best_d = 3;
	for (const struct key_spec *k = keys; k->name; k++) {
		size_t d = edit_distance(key, k->name);
		if (d < best_d) {
			best_d = d;
			best = k->name;
		}
	}
	if (best)
		problem(l, l->lineno, "unknown key \"%s\" in %s (did you mean \"%s\"?)", key,
		        secname, best);
	else
		problem(l, l->lineno, "unknown key \"%s\" in %s", key, secname);
	return NULL;
}

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

/* The generic kinds; returns 0 when stored, -1 after reporting a problem. */
static int apply_generic(struct loader *l, const struct key_spec *k, void *base, const char *v)
{
	char *p = (char *)base + k->off;
	long n;
	switch (k->kind) {
	case K_TEXT:
		set_str((char **)(void *)p, v);
		return 0;
	case K_PATH:
		if (!*v) {
			problem(l, l->lineno, "%s needs a path", k->name);
			return -1;
		}
		free(*(char **)(void *)p);
		*(char **)(void *)p = expand_path(l, v);
		return 0;
	case K_BOOL: {
		int b;
		if (parse_bool(v, &b) < 0) {
			problem(l, l->lineno, "%s must be yes or no, not \"%s\"", k->name, v);
			return -1;
		}
		*(int *)(void *)p = b;
		return 0;
	}
	case K_NUM:
		if (util_parse_long(v, &n) < 0 || n < k->min || n > k->max) {
			problem(l, l->lineno,
			        "%s must be a whole number from %ld to %ld, not \"%s\"", k->name,
			        k->min, k->max, v);
			return -1;
		}
		*(long *)(void *)p = n;
		return 0;
	case K_SIZE:
	case K_COUNT:
		if (parse_scaled(v, k->kind == K_SIZE ? 1024 : 1000, &n) < 0 || n < k->min ||
		    n > k->max) {
			if (k->kind == K_SIZE)
				problem(
				    l, l->lineno,
				    "%s must be a size such as 45M, 800K or 1048576 (from %ld to "
				    "%ld bytes), not \"%s\"",
				    k->name, k->min, k->max, v);
			else
				problem(
				    l, l->lineno,
				    "%s must be a count such as 40M or 40000000 (from %ld to %ld), "
				    "not \"%s\"",
				    k->name, k->min, k->max, v);
			return -1;
		}
		*(long *)(void *)p = n;
		return 0;
	case K_SPECIAL:
		break;
	}
	return -1;
}

static int check_file(struct loader *l, const char *key, const char *path, int want_dir)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		problem(l, l->lineno, "%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	if (want_dir && !S_ISDIR(st.st_mode)) {
		problem(l, l->lineno, "%s %s: not a folder", key, path);
		return -1;
	}
	if (!want_dir && !S_ISREG(st.st_mode)) {
		problem(l, l->lineno, "%s %s: not a regular file", key, path);
		return -1;
	}
	return 0;
}

static void set_digest(struct loader *l, const char *key, const char *v)
{
	struct config *c = l->c;
	const struct key_spec *k = lookup(l, digest_keys, "[digest]", key, l->digest_seen);
	if (!k)
		return;
	const char *name = k->name;
	if (k->kind != K_SPECIAL) {
		if (strcmp(name, "title") == 0 && !*v) {
			problem(l, l->lineno, "title must not be empty");
			return;
		}
		if (apply_generic(l, k, c, v) < 0)
			return;
		if (strcmp(name, "templates") == 0)
			check_file(l, name, c->templates, 1);
		else if (strcmp(name, "opml") == 0)
			check_file(l, name, c->opml, 0);
		else if (strcmp(name, "ca_file") == 0)
			check_file(l, name, c->ca_file, 0);
		else if (strcmp(name, "max_width") == 0)
			l->width_line = l->lineno;
		else if (strcmp(name, "max_height") == 0)
			l->height_line = l->lineno;
		else if (strcmp(name, "prune_days") == 0)
			l->prune_line = l->lineno;
		else if (strcmp(name, "max_age") == 0)
			l->max_age_line = l->lineno;
		return;
	}
	if (strcmp(name, "language") == 0) {
		if (!language_tag_ok(v)) {
			problem(l, l->lineno,
			        "language \"%s\" is not a language tag such as zh, "
			        "zh-TW, ja or en",
			        v);
			return;
		}
		set_str(&c->language, v);
		l->language_line = l->lineno;
	} else if (strcmp(name, "device") == 0) {
		const struct device_profile *p = config_find_profile(v);
		if (!p) {
			problem(l, l->lineno,
			        "unknown device \"%s\" (inkdigest profiles lists them)", v);
			return;
		}
		set_str(&c->device, p->name);
		l->device_line = l->lineno;
	} else if (strcmp(name, "font") == 0) {
		if (strcasecmp(v, "auto") == 0 || strcasecmp(v, "none") == 0) {
			set_str(&c->font, v);
			for (char *q = c->font; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			return;
		}
		if (!*v) {
			problem(l, l->lineno, "font must be auto, none or a font file");
			return;
		}
		/* PATH#INDEX picks a face of a collection; the index must be a number. */
		char *file = xstrdup(v);
		char *hash = strrchr(file, '#');
		long idx = 0;
		if (hash) {
			*hash = '\0';
			if (util_parse_long(hash + 1, &idx) < 0 || idx < 0 || idx > 255) {
				problem(l, l->lineno,
				        "font face index \"%s\" is not a number from 0 "
				        "to 255",
				        hash + 1);
				free(file);
				return;
			}
		}
		char *abs = expand_path(l, file);
		if (check_file(l, name, abs, 0) == 0) {
			free(c->font);
			c->font = hash ? xasprintf("%s#%ld", abs, idx) : xstrdup(abs);
		}
		free(abs);
		free(file);
	} else if (strcmp(name, "timezone") == 0) {
		if (!tz_ok(v)) {
			problem(l, l->lineno, "unknown time zone \"%s\" (e.g. Asia/Shanghai, UTC)",
			        v);
			return;
		}
		set_str(&c->timezone, v);
	} else if (strcmp(name, "proxy") == 0) {
		if (!*v) {
			free(c->proxy);
			c->proxy = NULL;
			return;
		}
		if (!proxy_ok(v)) {
			problem(l, l->lineno,
			        "proxy \"%s\" is not a proxy URL such as "
			        "http://host:3128 or socks5h://host:1080",
			        v);
			return;
		}
		set_str(&c->proxy, v);
	}
}

/* Splits a selector list on commas outside quotes, brackets and parentheses. */
static void add_selectors(struct loader *l, struct strlist *to, const char *key, const char *v)
{
	struct buf cur = BUF_INIT;
	int depth = 0;
	char quote = 0;
	for (const char *p = v;; p++) {
		if (*p == '\0' || (*p == ',' && !depth && !quote)) {
			char *sel = xstrndup(cur.data ? cur.data : "", cur.len);
			util_trim(sel);
			if (*sel)
				strlist_add_owned(to, sel);
			else {
				problem(l, l->lineno, "%s: empty selector in \"%s\"", key, v);
				free(sel);
			}
			buf_reset(&cur);
			if (*p == '\0')
				break;
			continue;
		}
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '[' || *p == '(') {
			depth++;
		} else if ((*p == ']' || *p == ')') && depth > 0) {
			depth--;
		}
		buf_putc(&cur, *p);
	}
	if (quote || depth)
		problem(l, l->lineno, "%s: unbalanced quotes or brackets in \"%s\"", key, v);
	buf_release(&cur);
}

static int header_ok(const char *v)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v)
		return 0;
	for (const char *p = v; p < colon; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return 0;
	for (const char *p = colon + 1; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\0')
			return 0;
	return 1;
}

static void set_feed(struct loader *l, const char *key, const char *v)
{
	const struct key_spec *k = lookup(l, feed_keys, "[feed]", key, l->feed_seen);
	if (!k)
		return;
	struct feed_conf *f = cur_feed(l);
	const char *name = k->name;
	if (strcmp(name, "url") == 0) {
		static const char *const ok[] = {"http", "https", "file"};
		if (!*v || has_space_or_ctl(v)) {
			problem(l, l->lineno,
			        "url must be an http(s) or file URL or a path, not \"%s\"", v);
		} else if (strstr(v, "://")) {
			if (!is_url_with_scheme(v, ok, ARRAY_SIZE(ok)))
				problem(l, l->lineno,
				        "url \"%s\": only http, https and file URLs are "
				        "supported",
				        v);
			else
				set_str(&f->url, v);
		} else {
			free(f->url);
			f->url = expand_path(l, v);
		}
	} else if (strcmp(name, "group") == 0) {
		if (*v)
			set_str(&f->group, v);
	} else if (strcmp(name, "lang") == 0) {
		if (!language_tag_ok(v))
			problem(l, l->lineno, "lang \"%s\" is not a language tag such as zh or en",
			        v);
		else
			set_str(&f->lang, v);
	} else if (strcmp(name, "fulltext") == 0) {
		int b;
		if (strcasecmp(v, "auto") == 0)
			f->fulltext = FULLTEXT_AUTO;
		else if (parse_bool(v, &b) == 0)
			f->fulltext = b ? FULLTEXT_YES : FULLTEXT_NO;
		else
			problem(l, l->lineno, "fulltext must be no, yes or auto, not \"%s\"", v);
	} else if (strcmp(name, "referer") == 0) {
		free(f->referer_url);
		f->referer_url = NULL;
		if (strcasecmp(v, "none") == 0) {
			f->referer = REFERER_NONE;
		} else if (strcasecmp(v, "origin") == 0) {
			f->referer = REFERER_ORIGIN;
		} else if (strcasecmp(v, "article") == 0) {
			f->referer = REFERER_ARTICLE;
		} else if (http_url_ok(v)) {
			f->referer = REFERER_FIXED;
			f->referer_url = xstrdup(v);
		} else {
			problem(l, l->lineno,
			        "referer must be none, origin, article or an http(s) "
			        "URL, not \"%s\"",
			        v);
		}
	} else if (strcmp(name, "header") == 0) {
		if (!header_ok(v))
			/* not echoed: a header is where tokens and cookies live */
			problem(l, l->lineno, "header must look like \"Name: value\"");
		else
			strlist_add(&f->headers, v);
	} else if (strcmp(name, "proxy") == 0) {
		if (!*v || !proxy_ok(v))
			problem(l, l->lineno,
			        "proxy \"%s\" is not a proxy URL such as "
			        "http://host:3128 or socks5h://host:1080",
			        v);
		else
			strlist_add(&f->proxies, v);
	} else if (strcmp(name, "keep") == 0) {
		add_selectors(l, &f->keep, name, v);
	} else if (strcmp(name, "remove") == 0) {
		add_selectors(l, &f->remove, name, v);
	} else if (strcmp(name, "max_articles") == 0) {
		long n;
		if (util_parse_long(v, &n) < 0 || n < 0 || n > k->max)
			problem(l, l->lineno,
			        "max_articles must be a whole number from 0 to %ld, "
			        "not \"%s\"",
			        k->max, v);
		else
			f->max_articles = (int)n;
	}
}

static void add_recipients(struct loader *l, const char *v)
{
	struct strlist *to = &l->c->mail.to;
	char *copy = xstrdup(v);
	char *p = copy;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		char *addr = util_trim(p);
		if (!*addr)
			problem(l, l->lineno, "to: empty address");
		else if (!address_ok(addr))
			problem(l, l->lineno, "to: \"%s\" is not an e-mail address", addr);
		else if (to->n >= MAX_RECIPIENTS)
			problem(l, l->lineno,
			        "to: more than %d recipients (Send to Kindle's limit)",
			        MAX_RECIPIENTS);
		else if (!strlist_contains(to, addr))
			strlist_add(to, addr);
		if (!comma)
			break;
		p = comma + 1;
	}
	free(copy);
}

static void set_mail(struct loader *l, const char *key, const char *v)
{
	struct mail_conf *m = &l->c->mail;
	const struct key_spec *k = lookup(l, mail_keys, "[mail]", key, l->mail_seen);
	if (!k)
		return;
	const char *name = k->name;
	if (k->kind != K_SPECIAL) {
		if (apply_generic(l, k, m, v) < 0)
			return;
		if (strcmp(name, "ca_file") == 0) {
			check_file(l, name, m->ca_file, 0);
		} else if (strcmp(name, "password_file") == 0) {
			struct stat st;
			if (check_file(l, name, m->password_file, 0) == 0 &&
			    stat(m->password_file, &st) == 0 && (st.st_mode & 077))
				problem(l, l->lineno,
				        "password_file %s can be read by others: "
				        "chmod 600 it",
				        m->password_file);
		}
		return;
	}
	if (strcmp(name, "to") == 0) {
		add_recipients(l, v);
	} else if (strcmp(name, "from") == 0) {
		if (!address_ok(v))
			problem(l, l->lineno, "from: \"%s\" is not an e-mail address", v);
		else
			set_str(&m->from, v);
	} else if (strcmp(name, "smtp") == 0) {
		static const char *const ok[] = {"smtp", "smtps"};
		if (!is_url_with_scheme(v, ok, 2) || has_space_or_ctl(v))
			problem(l, l->lineno,
			        "smtp must be smtps://HOST:465 or smtp://HOST:587, "
			        "not \"%s\"",
			        v);
		else
			set_str(&m->smtp_url, v);
	} else if (strcmp(name, "tls") == 0) {
		if (strcasecmp(v, "required") == 0)
			set_str(&m->tls, "required");
		else if (strcasecmp(v, "none") == 0)
			set_str(&m->tls, "none");
		else
			problem(l, l->lineno, "tls must be required or none, not \"%s\"", v);
	} else if (strcmp(name, "password_env") == 0) {
		int ok = isalpha((unsigned char)v[0]) || v[0] == '_';
		for (const char *p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_')
				ok = 0;
		if (!ok)
			problem(l, l->lineno,
			        "password_env must name an environment variable, "
			        "not \"%s\"",
			        v);
		else
			set_str(&m->password_env, v);
	}
}

/* Inline comments are stripped here rather than by inih so that a "quoted value" may hold
 * " ;" and keep its leading spaces. Unquoted, a ';' after whitespace starts a comment. */
static char *clean_value(const char *value)
{
	if (value[0] == '"') {
		const char *end = strchr(value + 1, '"');
		if (end) {
			const char *rest = end + 1;
			while (isspace((unsigned char)*rest))
				rest++;
			if (!*rest || *rest == ';')
				return xstrndup(value + 1, (size_t)(end - value - 1));
		}
	}
	char *v = xstrdup(value);
	for (char *p = v; *p; p++) {
		if (*p == ';' && p > v && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	util_trim(v);
	return v;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	(void)section; /* inih truncates it; scan_line tracked the real one */
	char *v = clean_value(value ? value : "");
	switch (l->sec) {
	case SEC_NONE:
		problem(l, l->lineno, "\"%s\" outside of any section (put it under [digest])",
		        name);
		break;
	case SEC_DIGEST:
		set_digest(l, name, v);
		break;
	case SEC_FEED:
		set_feed(l, name, v);
		break;
	case SEC_MAIL:
		set_mail(l, name, v);
		break;
	case SEC_BAD:
		break;
	}
	free(v);
	return 1;
}

/* ---- whole-file checks ---- */

static void finish(struct loader *l)
{
	struct config *c = l->c;
	const struct device_profile *p = config_find_profile(c->device);
	if (!p)
		p = config_find_profile("kindle-paperwhite");
	if (!l->width_line)
		c->max_width = p->width;
	if (!l->height_line)
		c->max_height = p->height;
	if (p->kindle && c->max_width > KINDLE_MAX_W)
		problem(l, l->width_line,
		        "max_width = %ld is above %d, the most Send to Kindle "
		        "keeps (device %s)",
		        c->max_width, KINDLE_MAX_W, p->name);
	if (p->kindle && c->max_height > KINDLE_MAX_H)
		problem(l, l->height_line,
		        "max_height = %ld is above %d, the most Send to Kindle "
		        "keeps (device %s)",
		        c->max_height, KINDLE_MAX_H, p->name);

	if (!config_kindle_language_ok(c->language)) {
		if (p->kindle)
			problem(l, l->language_line,
			        "language \"%s\" is not one Kindle accepts as "
			        "dc:language (device %s); Kindle rejects such books",
			        c->language, p->name);
		else
			warning(l, l->language_line,
			        "language \"%s\" is not one Kindle accepts; "
			        "fine for %s, but not for a Kindle",
			        c->language, p->name);
	}

	for (size_t i = 0; i < c->n_feeds; i++)
		if (!c->feeds[i].url)
			problem(l, c->feeds[i].line, "feed \"%s\": missing url", c->feeds[i].name);
	if (c->n_feeds == 0 && !c->opml)
		problem(l, 0, "no feeds: add a [feed \"NAME\"] section with a url, or opml = FILE");

	if (c->prune_days > 0 && c->max_age_h > 0 && c->prune_days * 24 <= c->max_age_h)
		problem(l, l->prune_line ? l->prune_line : l->max_age_line,
		        "prune_days = %ld must be longer than max_age = %ld hours, or pruned "
		        "articles would be delivered again",
		        c->prune_days, c->max_age_h);
	else if (c->prune_days > 0 && c->max_age_h == 0)
		warning(
		    l, l->prune_line ? l->prune_line : l->max_age_line,
		    "max_age = 0 with prune_days = %ld: an article a feed keeps for longer than "
		    "%ld days is delivered again",
		    c->prune_days, c->prune_days);

	struct mail_conf *m = &c->mail;
	if (l->mail_section && m->enabled) {
		if (m->to.n == 0)
			problem(l, m->line, "[mail]: to is required (the Kindle address)");
		if (!m->from)
			problem(l, m->line,
			        "[mail]: from is required (an approved sender address)");
		if (!m->smtp_url)
			problem(l, m->line,
			        "[mail]: smtp is required (smtps://HOST:465 or "
			        "smtp://HOST:587)");
	}
	int n_pw = !!m->password_env + !!m->password_file + !!m->password_command;
	if (n_pw > 1)
		problem(l, m->line,
		        "[mail]: use only one of password_env, password_file and "
		        "password_command");
	if (n_pw && !m->user)
		problem(l, m->line, "[mail]: a password is set but no user");
	if (m->user && !n_pw)
		problem(l, m->line,
		        "[mail]: user is set but no password_env, password_file or "
		        "password_command");
	if (m->smtp_url && m->tls && strcmp(m->tls, "none") == 0 &&
	    util_starts_with_ci(m->smtp_url, "smtps://"))
		problem(l, m->line, "[mail]: tls = none contradicts %s (implicit TLS)",
		        m->smtp_url);
}

/* Whole-file checks come last; present everything in file order (stable, by line). */
static void sort_errors(struct loader *l, size_t first)
{
	if (l->n_error_lines == 0)
		return;
	char **items = l->errors->items + first;
	int *lines = l->error_lines;
	for (size_t i = 1; i < l->n_error_lines; i++) {
		char *item = items[i];
		int line = lines[i];
		size_t j = i;
		for (; j > 0 && lines[j - 1] > line; j--) {
			items[j] = items[j - 1];
			lines[j] = lines[j - 1];
		}
		items[j] = item;
		lines[j] = line;
	}
	free(l->error_lines);
	l->error_lines = NULL;
	l->n_error_lines = 0;
}

static void set_defaults(struct config *c, const char *cwd)
{
	c->title = xstrdup("inkdigest");
	c->language = xstrdup("en");
	c->output = util_path_join(cwd, "inkdigest-%Y-%m-%d.epub");
	c->font = xstrdup("auto");
	c->max_age_h = 48;
	c->max_articles_per_feed = 25;
	c->device = xstrdup("kindle-paperwhite");
	c->jpeg_quality = 75;
	c->max_size = 45 * MIB;
	c->max_image_bytes = 15 * MIB;
	c->max_image_pixels = 40L * 1000 * 1000;
	c->max_feed_bytes = 20 * MIB;
	c->concurrency = 8;
	c->per_host = 2;
	c->timeout_s = 60;
	c->connect_timeout_s = 15;
	c->prune_days = 90;
	c->mail.tls = xstrdup("required");
	/* Amazon's 50 MB read as decimal: the safe side of an ambiguous limit. */
	c->mail.max_mail_size = 50L * 1000 * 1000;
}

/* Debian's inih exposes its compile-time options as variables; parse with a heap line buffer
 * larger than the file (so no line is ever split) and no multi-line values (so an indented
 * key is a key, not a continuation of the previous value). */
static void parse_with_inih(struct loader *l)
{
	bool s_stack = ini_use_stack, s_realloc = ini_allow_realloc;
	bool s_multi = ini_allow_multiline, s_inline = ini_allow_inline_comments;
	bool s_bom = ini_allow_bom, s_stop = ini_stop_on_first_error;
	int s_max = ini_max_line, s_init = ini_initial_alloc;
	char *s_inl_prefix = ini_inline_comment_prefixes, *s_start = ini_start_comment_prefixes;
	static char inline_prefix[] = ";";
	static char start_prefix[] = ";#";

	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_allow_multiline = false;
	ini_allow_inline_comments = false; /* clean_value() does it, quote-aware */
	ini_inline_comment_prefixes = inline_prefix;
	ini_start_comment_prefixes = start_prefix;
	ini_allow_bom = false; /* stripped before */
	ini_stop_on_first_error = false;
	ini_max_line = (int)l->len + 16;
	ini_initial_alloc = ini_max_line;

	int rc = ini_parse_stream(read_line, l, on_pair, l);

	ini_use_stack = s_stack;
	ini_allow_realloc = s_realloc;
	ini_allow_multiline = s_multi;
	ini_allow_inline_comments = s_inline;
	ini_inline_comment_prefixes = s_inl_prefix;
	ini_start_comment_prefixes = s_start;
	ini_allow_bom = s_bom;
	ini_stop_on_first_error = s_stop;
	ini_max_line = s_max;
	ini_initial_alloc = s_init;
	if (rc == -2)
		die_oom();
}

int config_load(const char *path, struct config *c, struct strlist *errors)
{
	struct strlist own = {0};
	if (!errors)
		errors = &own;
	size_t n_before = errors->n;
	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);

	char *cwd = realpath(".", NULL);
	set_defaults(c, cwd ? cwd : ".");
	free(cwd);

	char *dir = util_dirname(path);
	c->dir = realpath(dir, NULL);
	if (!c->dir)
		c->dir = xstrdup(dir);
	free(dir);

	struct buf text = BUF_INIT;
	struct err e;
	if (util_read_file(path, CONFIG_MAX_BYTES, &text, &e) < 0) {
		strlist_add(errors, e.msg);
		buf_release(&text);
		goto out;
	}

	struct loader l;
	memset(&l, 0, sizeof(l));
	l.path = path;
	l.c = c;
	l.errors = errors;
	l.text = text.data;
	l.len = text.len;
	if (l.len >= 3 && memcmp(l.text, "\xEF\xBB\xBF", 3) == 0)
		l.pos = 3;
	/* inih's own count of bad lines is ignored: scan_line reported each of them already,
	 * with its reason. */
	parse_with_inih(&l);
	if (l.feed_is_scratch)
		feed_conf_release(&l.scratch);
	finish(&l);
	sort_errors(&l, n_before);
	buf_release(&text);
out:;
	int failed = errors->n > n_before;
	strlist_release(&own);
	return failed ? -1 : 0;
}

void config_release(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->dir);
	free(c->title);
	free(c->language);
	free(c->output);
	free(c->state);
	free(c->templates);
	free(c->font);
	free(c->opml);
	free(c->ca_file);
	free(c->timezone);
	free(c->device);
	free(c->proxy);
	for (size_t i = 0; i < c->n_feeds; i++)
		feed_conf_release(&c->feeds[i]);
	free(c->feeds);
	struct mail_conf *m = &c->mail;
	strlist_release(&m->to);
	free(m->from);
	free(m->smtp_url);
	free(m->tls);
	free(m->user);
	free(m->password_env);
	free(m->password_file);
	free(m->password_command);
	free(m->ca_file);
	free(m->subject);
	free(m->body);
	strlist_release(&c->warnings);
	memset(c, 0, sizeof(*c));
}
