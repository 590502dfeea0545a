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

/* Parses data into out (zeroed by the caller). Returns 0, or -1 with e set. Items come out in
 * document order with duplicates merged; relative URLs resolved. */
int feed_parse(const char *data, size_t len, const struct feed_parse_opts *o,
	       struct feed_doc *out, struct err *e);

/* OPML: the outlines with an xmlUrl, each as a feed_conf (name, url, group). */
int feed_parse_opml(const char *data, size_t len, struct feed_conf **feeds, size_t *n_feeds,
		    struct err *e);

#endif
