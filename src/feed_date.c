/* Stage `feed`, dates: a date string from a feed -> Unix seconds UTC. Reads RFC 3339, W3C-DTF
 * and the ISO-like forms Chinese feeds write; everything else goes to libcurl's curl_getdate
 * (RFC 822/850/asctime with named zones). Pure: no clock, no locale, no time zone database. */
#include <curl/curl.h>

#include "feed.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

/* One or two digits (W3C-DTF wants two; Chinese feeds write "2024-5-1 8:30"). */
static int digits12(const char **p, int *v)
{
	if (**p < '0' || **p > '9')
		return -1;
	int x = *(*p)++ - '0';
	if (**p >= '0' && **p <= '9')
		x = x * 10 + (*(*p)++ - '0');
	*v = x;
	return 0;
}

/* YYYY[-MM[-DD[(T| )hh:mm[:ss[.frac]]]]][ ][Z|+hh:mm|+hhmm|+hh|UTC|GMT], with '/', '.' or
 * the CJK 年月日 as date separators. No zone: default_tz_s. Returns 0 or -1. */
static int parse_iso(const char *s, int default_tz_s, int64_t *out)
{
	const char *p = s;
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
	int tz = default_tz_s;
	if (digits(&p, 4, &y) != 0)
		return -1;
	int has_time = 0;
	char sep = *p;
	if (sep == '-' || sep == '/' || sep == '.' || strncmp(p, "年", 3) == 0) {
		p += sep == '-' || sep == '/' || sep == '.' ? 1 : 3;
		if (digits12(&p, &mo) != 0)
			return -1;
		int cjk_month = strncmp(p, "月", 3) == 0;
		if (cjk_month)
			p += 3;
		if ((!cjk_month && *p == sep) || (cjk_month && *p >= '0' && *p <= '9')) {
			p += cjk_month ? 0 : 1;
			if (digits12(&p, &d) != 0)
				return -1;
			if (strncmp(p, "日", 3) == 0)
				p += 3;
			if ((*p == 'T' || *p == 't' || *p == ' ') && p[1] >= '0' && p[1] <= '9') {
				p++;
				if (digits12(&p, &h) != 0 || *p++ != ':' || digits(&p, 2, &mi) != 0)
					return -1;
				has_time = 1;
				if (*p == ':') {
					p++;
					if (digits(&p, 2, &sec) != 0)
						return -1;
					if (*p == '.' || *p == ',') {
						p++;
						if (*p < '0' || *p > '9')
							return -1;
						while (*p >= '0' && *p <= '9')
							p++;
					}
				}
			}
		}
	}
	while (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'z') {
		tz = 0;
		p++;
	} else if (strncmp(p, "UTC", 3) == 0 || strncmp(p, "GMT", 3) == 0) {
		tz = 0;
		p += 3;
	} else if ((*p == '+' || *p == '-') && has_time) {
		int sign = *p++ == '-' ? -1 : 1, th, tm = 0;
		if (digits(&p, 2, &th) != 0)
			return -1;
		if (*p == ':')
			p++;
		if (*p >= '0' && *p <= '9' && digits(&p, 2, &tm) != 0)
			return -1;
		if (th > 14 || tm > 59)
			return -1;
		tz = sign * (th * 3600 + tm * 60);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 24 || mi > 59 ||
	    sec > 60 || (h == 24 && (mi || sec)))
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - tz;
	return 0;
}

/* "GMT+8", "UTC+08:00", "GMT-5" at the end -> "+0800", "+0800", "-0500". */
static void offset_after_zone_name(struct buf *b)
{
	char *g = strstr(b->data, "GMT");
	if (!g)
		g = strstr(b->data, "UTC");
	if (!g)
		return;
	const char *q = g + 3;
	if ((*q != '+' && *q != '-') || q[1] < '0' || q[1] > '9')
		return;
	char sign = *q++;
	int hh = *q++ - '0', mm = 0;
	if (*q >= '0' && *q <= '9')
		hh = hh * 10 + (*q++ - '0');
	if (*q == ':')
		q++;
	if (q[0] >= '0' && q[0] <= '5' && q[1] >= '0' && q[1] <= '9') {
		mm = (q[0] - '0') * 10 + (q[1] - '0');
		q += 2;
	}
	if (*q || hh > 14)
		return;
	b->len = (size_t)(g - b->data);
	b->data[b->len] = '\0';
	buf_printf(b, "%c%02d%02d", sign, hh, mm);
}

int feed_parse_date(const char *s, int default_tz_s, int64_t *out)
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (!*s || strlen(s) > 128)
		return -1;
	if (parse_iso(s, default_tz_s, out) == 0)
		return 0;
	/* Unix seconds (some generators write them), or milliseconds */
	size_t nd = strspn(s, "0123456789");
	if ((nd == 9 || nd == 10 || nd == 12 || nd == 13) && !s[nd + strspn(s + nd, " \t\r\n")]) {
		long long v = strtoll(s, NULL, 10);
		*out = nd >= 12 ? v / 1000 : v;
		return 0;
	}

	/* curl_getdate reads "+0800" but not "+08:00", and reads "CST" as US Central, which
	 * is wrong for the Chinese feeds that write it (China Standard Time). */
	struct buf b = BUF_INIT;
	buf_puts(&b, s);
	util_trim(b.data);
	b.len = strlen(b.data);
	if (b.len > 6) {
		char *z = b.data + b.len - 6;
		if ((z[0] == '+' || z[0] == '-') && z[3] == ':' && z[1] >= '0' && z[1] <= '9') {
			memmove(z + 3, z + 4, 3);
			b.len--;
		}
	}
	offset_after_zone_name(&b);
	if (default_tz_s == 8 * 3600 && b.len > 4 && strcmp(b.data + b.len - 4, " CST") == 0) {
		b.len -= 4;
		b.data[b.len] = '\0';
		buf_puts(&b, " +0800");
	}
	if (parse_iso(b.data, default_tz_s, out) == 0) {
		buf_release(&b);
		return 0;
	}
	time_t t = curl_getdate(b.data, NULL);
	if (t == -1) {
		/* an unknown zone name last ("... 08:30:00 XYZT"): read the rest as UTC */
		char *sp = strrchr(b.data, ' ');
		int alpha = sp && sp[1];
		for (char *q = sp ? sp + 1 : NULL; alpha && *q; q++)
			if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')))
				alpha = 0;
		if (alpha && strchr(b.data, ':')) {
			*sp = '\0';
			t = curl_getdate(b.data, NULL);
		}
	}
	buf_release(&b);
	if (t == -1)
		return -1;
	*out = (int64_t)t;
	return 0;
}
