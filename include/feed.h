/* Stage `feed`: bytes of a feed in, a feed_doc out. Reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and
 * JSON Feed in any common encoding, recovering from malformed input. No I/O, no network:
 * libxml2 runs with network access, DTD loading and external entities off. */
#ifndef INKDIGEST_FEED_H
#define INKDIGEST_FEED_H

#include "model.h"

enum feed_error {
	FEED_ERR_EMPTY = 1,      /* no bytes */
	FEED_ERR_NOT_A_FEED,     /* parsed, but it is HTML or some other XML/JSON */
	FEED_ERR_UNREADABLE      /* nothing could be recovered */
};

struct feed_parse_opts {
	const char *url;         /* the feed's (effective) URL: base for relative links */
	const char *http_charset;  /* charset from Content-Type, or NULL */
	int64_t fetch_time;      /* replaces unreadable dates */
	size_t max_items;        /* 0 = default cap (10,000) */
};

/* Parses data into out (zeroed by the caller). Returns 0, or -1 with e set (out left empty).
 * Items come out in document order with duplicates merged; relative URLs resolved. o may be
 * NULL. Choices made here:
 * - Encoding: BOM > o->http_charset > XML declaration > UTF-8 (see feed_to_utf8).
 * - Dates without a zone are UTC, except in feeds or items whose language is zh* (+08:00,
 *   where "CST" also means China Standard Time). Unreadable dates: o->fetch_time,
 *   date_guessed = 1 and a warning; absent dates: -1.
 * - id: guid/id as written, else the resolved link, else the 64-bit FNV-1a of
 *   title + "\n" + content as 16 hex digits. The first of several items with one id wins;
 *   later ones only fill its missing fields. Items with no title, link or content are skipped.
 * - link and lead_image are absolute http(s) URLs or NULL (other schemes are dropped), or
 *   file: URLs when o->url is itself a file: URL (a local feed may name local files).
 * - base_url: the xml:base in force at the item's content if any, else the link, else o->url.
 * - content: HTML; escaped once or twice too often is unescaped, plain text becomes <p>s.
 * - At most o->max_items (default 10,000) items; the rest are dropped with a warning.
 * - Recovered XML errors and repaired entities count in n_recovered, with a warning each. */
int feed_parse(const char *data, size_t len, const struct feed_parse_opts *o,
	       struct feed_doc *out, struct err *e);

/* OPML: the outlines with an xmlUrl, each as a feed_conf (name = title or text attribute,
 * url, group = the text of the nearest enclosing outline, or NULL; max_articles = -1, the
 * rest zero). Names are made unique ("HN (2)"), repeated URLs skipped. *feeds is a new array
 * the caller frees with feed_conf_release on each entry; it may be empty (0 with n = 0). */
int feed_parse_opml(const char *data, size_t len, struct feed_conf **feeds, size_t *n_feeds,
		    struct err *e);

/* Helpers of the stage, public so other stages and the tests can use them. */

/* Reads a feed date (RFC 822 with named zones, RFC 3339, W3C-DTF, "2024-05-01 08:30:00",
 * "2024/5/1", "2024年5月1日") into Unix seconds UTC. default_tz_s is the offset assumed when the
 * string names no zone (feed_parse passes +08:00 for zh feeds, else 0). 0, or -1 when
 * unreadable. */
int feed_parse_date(const char *s, int default_tz_s, int64_t *out);

/* Decodes a document to UTF-8: BOM, then http_charset (may be NULL), then the XML declaration,
 * else UTF-8. Labels map to browser supersets (ISO-8859-1 -> windows-1252, GBK -> GB18030,
 * Shift_JIS -> CP932, EUC-KR -> CP949, Big5 -> Big5-HKSCS). Invalid bytes become U+FFFD and
 * characters XML forbids are dropped; notes go to warnings. Returns a new NUL-terminated string
 * without BOM (caller frees), never NULL; *out_len (may be NULL) gets its length. */
char *feed_to_utf8(const char *data, size_t len, const char *http_charset, size_t *out_len,
		   struct strlist *warnings);

#endif
