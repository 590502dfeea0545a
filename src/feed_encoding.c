/* Stage `feed`, encodings: a feed's bytes in whatever charset it came in -> valid UTF-8 with
 * the byte order mark removed, invalid bytes replaced by U+FFFD and notes for the report.
 * Converts with iconv only (no hand tables); never fails, never does I/O. */
#include <errno.h>
#include <iconv.h>
#include <strings.h>

#include "feed.h"

/* Labels seen in feeds and HTTP headers, mapped to the glibc iconv superset that decodes them
 * the way browsers do (WHATWG Encoding Standard): ISO-8859-1 is read as windows-1252 because
 * feeds that say Latin-1 almost always mean it, GB2312/GBK as GB18030, Shift_JIS as CP932,
 * EUC-KR as CP949 and Big5 as Big5-HKSCS. */
static const struct {
	const char *label;
	const char *iconv_name;
} charset_aliases[] = {
    {"utf-8", "UTF-8"},
    {"utf8", "UTF-8"},
    {"unicode-1-1-utf-8", "UTF-8"},
    {"iso-8859-1", "WINDOWS-1252"},
    {"iso8859-1", "WINDOWS-1252"},
    {"iso_8859-1", "WINDOWS-1252"},
    {"latin1", "WINDOWS-1252"},
    {"latin-1", "WINDOWS-1252"},
    {"l1", "WINDOWS-1252"},
    {"us-ascii", "WINDOWS-1252"},
    {"ascii", "WINDOWS-1252"},
    {"windows-1252", "WINDOWS-1252"},
    {"cp1252", "WINDOWS-1252"},
    {"x-cp1252", "WINDOWS-1252"},
    {"cp819", "WINDOWS-1252"},
    {"gb2312", "GB18030"},
    {"gbk", "GB18030"},
    {"gb18030", "GB18030"},
    {"x-gbk", "GB18030"},
    {"cp936", "GB18030"},
    {"euc-cn", "GB18030"},
    {"csgb2312", "GB18030"},
    {"chinese", "GB18030"},
    {"big5", "BIG5-HKSCS"},
    {"big5-hkscs", "BIG5-HKSCS"},
    {"x-x-big5", "BIG5-HKSCS"},
    {"cn-big5", "BIG5-HKSCS"},
    {"cp950", "BIG5-HKSCS"},
    {"csbig5", "BIG5-HKSCS"},
    {"shift_jis", "CP932"},
    {"shift-jis", "CP932"},
    {"sjis", "CP932"},
    {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"},
    {"windows-31j", "CP932"},
    {"cp932", "CP932"},
    {"csshiftjis", "CP932"},
    {"euc-kr", "CP949"},
    {"ks_c_5601-1987", "CP949"},
    {"cp949", "CP949"},
    {"uhc", "CP949"},
    {"windows-949", "CP949"},
    {"korean", "CP949"},
    {"utf-16", "UTF-16"},
    {"utf-16le", "UTF-16LE"},
    {"utf-16be", "UTF-16BE"},
};

/* A label from a header or declaration, cleaned up (quotes, spaces) into out. */
static void clean_label(const char *s, size_t n, char *out, size_t size)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < size; i++) {
		char c = s[i];
		if (c == '"' || c == '\'' || c == ' ' || c == '\t')
			continue;
		out[j++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	out[j] = '\0';
}

static const char *canonical_charset(const char *label)
{
	for (size_t i = 0; i < ARRAY_SIZE(charset_aliases); i++)
		if (strcasecmp(label, charset_aliases[i].label) == 0)
			return charset_aliases[i].iconv_name;
	return NULL;
}

static int is_latin_family(const char *iconv_name)
{
	return strcmp(iconv_name, "WINDOWS-1252") == 0;
}

/* The encoding named in an XML declaration, read in ASCII (UTF-16 was handled before). */
static int xml_decl_charset(const char *data, size_t len, char *out, size_t size)
{
	if (len < 6 || memcmp(data, "<?xml", 5) != 0)
		return 0;
	size_t end = 0;
	while (end + 1 < len && end < 512 && !(data[end] == '?' && data[end + 1] == '>'))
		end++;
	const char *p = data;
	const char *stop = data + end;
	while (p + 8 < stop && memcmp(p, "encoding", 8) != 0)
		p++;
	if (p + 8 >= stop)
		return 0;
	p += 8;
	while (p < stop && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '='))
		p++;
	if (p >= stop || (*p != '"' && *p != '\''))
		return 0;
	char q = *p++;
	const char *v = p;
	while (p < stop && *p != q)
		p++;
	if (p >= stop || p == v)
		return 0;
	clean_label(v, (size_t)(p - v), out, size);
	return out[0] != '\0';
}

static int has_high_bytes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* iconv with repair: an invalid or truncated sequence becomes U+FFFD and decoding resumes one
 * byte later. Returns the number of repairs, or -1 when iconv does not know the charset. */
static long convert(const char *from, const char *in, size_t inlen, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return -1;
	long repaired = 0;
	char *src = (char *)in;
	size_t left = inlen;
	buf_reserve(out, inlen * 2 + 16);
	while (left > 0) {
		buf_reserve(out, left * 2 + 16);
		char *dst = out->data + out->len;
		size_t room = out->cap - out->len - 1;
		size_t r = iconv(cd, &src, &left, &dst, &room);
		out->len = (size_t)(dst - out->data);
		out->data[out->len] = '\0';
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ, or EINVAL for a sequence cut off by the end of the input */
		buf_add(out, "\xEF\xBF\xBD", 3);
		repaired++;
		src++;
		left--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	char *dst = NULL;
	size_t room = 0;
	buf_reserve(out, 16);
	dst = out->data + out->len;
	room = out->cap - out->len - 1;
	iconv(cd, NULL, NULL, &dst, &room);
	out->len = (size_t)(dst - out->data);
	out->data[out->len] = '\0';
	iconv_close(cd);
	return repaired;
}

static long count_invalid_utf8(const char *s, size_t n)
{
	long bad = 0;
	const char *end = s + n;
	while (s < end) {
		const char *start = s;
		if (util_utf8_next(&s, end) < 0) {
			bad++;
			s = start + 1;
		}
	}
	return bad;
}

char *feed_to_utf8(const char *data, size_t len, const char *http_charset, size_t *out_len,
                   struct strlist *warnings)
{
	const unsigned char *u = (const unsigned char *)data;
	const char *from = NULL;
	const char *why = NULL;
	size_t skip = 0;
	char label[64] = "";

	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		from = "UTF-8", skip = 3, why = "BOM";
	} else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
		from = "UTF-16LE", skip = 2, why = "BOM";
	} else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
		from = "UTF-16BE", skip = 2, why = "BOM";
	} else if (len >= 4 && u[0] == '<' && u[1] == 0 && u[2] != 0 && u[3] == 0) {
		from = "UTF-16LE", why = "byte pattern";
	} else if (len >= 4 && u[0] == 0 && u[1] == '<' && u[2] == 0 && u[3] != 0) {
		from = "UTF-16BE", why = "byte pattern";
	}

	if (!from && http_charset && *http_charset) {
		clean_label(http_charset, strlen(http_charset), label, sizeof(label));
		const char *c = canonical_charset(label);
		from = c ? c : label;
		why = "HTTP charset";
		/* Web servers label every text/xml as ISO-8859-1 by default; a document that is
		 * valid UTF-8 and declares UTF-8 itself is believed over such a header. */
		char decl[64];
		if (is_latin_family(from) && xml_decl_charset(data, len, decl, sizeof(decl)) &&
		    strcmp(decl, "utf-8") == 0 && has_high_bytes(data, len) &&
		    util_is_valid_utf8(data, len)) {
			from = "UTF-8";
			why = "XML declaration over a Latin-1 HTTP charset";
		}
	}
	if (!from && xml_decl_charset(data, len, label, sizeof(label))) {
		const char *c = canonical_charset(label);
		from = c ? c : label;
		why = "XML declaration";
	}
	if (!from) {
		from = "UTF-8";
		why = "default";
	}
	/* A label saying UTF-16 on bytes that are plainly ASCII-compatible (generators that
	 * copy the declaration of the in-memory string they serialised to UTF-8). */
	if (!skip && strncmp(from, "UTF-16", 6) == 0 && len >= 2 && u[0] != 0 && u[1] != 0) {
		strlist_add_owned(warnings, xasprintf("encoding: labelled %s (%s) but not UTF-16, "
		                                      "read as UTF-8",
		                                      from, why));
		from = "UTF-8";
	}
	/* "UTF-16" without a BOM: the byte pattern decides, little-endian when it cannot */
	if (strcmp(from, "UTF-16") == 0)
		from = (len >= 2 && u[0] == 0 && u[1] != 0) ? "UTF-16BE" : "UTF-16LE";

	const char *in = data + skip;
	size_t inlen = len - skip;
	struct buf out = BUF_INIT;
	long repaired;
	if (strcmp(from, "UTF-8") == 0) {
		repaired = count_invalid_utf8(in, inlen);
		buf_add(&out, in, inlen);
	} else {
		repaired = convert(from, in, inlen, &out);
		if (repaired < 0) {
			strlist_add_owned(warnings,
			                  xasprintf("encoding: unknown charset \"%s\" (%s), "
			                            "read as UTF-8",
			                            from, why));
			buf_reset(&out);
			repaired = count_invalid_utf8(in, inlen);
			buf_add(&out, in, inlen);
			from = "UTF-8";
		}
	}
	if (repaired > 0)
		strlist_add_owned(warnings,
		                  xasprintf("encoding: %ld invalid byte sequence%s in %s "
		                            "(%s) replaced with U+FFFD",
		                            repaired, repaired == 1 ? "" : "s", from, why));
	/* sanitize also drops C0 controls that XML forbids and would stop the parser. The
	 * newline guarantees it keeps something: given only dropped characters it returns an
	 * unterminated buffer. */
	buf_putc(&out, '\n');
	char *clean = util_utf8_sanitize(out.data, out.len);
	buf_release(&out);
	size_t n = strlen(clean) - 1;
	clean[n] = '\0';
	/* a BOM that survived conversion (UTF-16 declared by label) is not content */
	if (n >= 3 && memcmp(clean, "\xEF\xBB\xBF", 3) == 0) {
		memmove(clean, clean + 3, n - 2);
		n -= 3;
	}
	if (out_len)
		*out_len = n;
	return clean;
}
