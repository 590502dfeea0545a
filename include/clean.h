/* Stage `clean`: article HTML in, a safe well-formed XHTML fragment and its image URLs out.
 * An allow-list sanitiser built on libxml2's HTML parser; the output tree is built with libxml2.
 * No I/O, no network, nothing executable survives. */
#ifndef INKDIGEST_CLEAN_H
#define INKDIGEST_CLEAN_H

#include "util.h"

struct clean_opts {
	const char *base_url;    /* relative URLs resolve against it; may be NULL. Images may be
				    file: URLs only when base_url is one too */
	const char *charset;     /* input charset if known (NULL = UTF-8 / sniff meta) */
	int device_width;        /* for srcset choice; 0 = 1236 */
	int heading_base;        /* highest heading level the article may use (default 2) */
	const struct strlist *keep;    /* selectors: keep only these subtrees (NULL = all) */
	const struct strlist *remove;  /* selectors: drop these subtrees */
};

struct clean_result {
	char *xhtml;             /* fragment: block elements in the XHTML namespace-less form,
				    e.g. "<p>…</p><figure><img src=\"https://…\" alt=\"\"/></figure>" */
	struct strlist images;   /* absolute image URLs in document order, no duplicates */
	size_t text_chars;       /* characters of visible text (for full-text decisions) */
	struct strlist dropped;  /* images left out on purpose (trackers, 1x1 spacers), once each */
	struct strlist dropped_why;  /* the reason for dropped.items[i], "tracker: ..." */
};

/* Returns 0 and fills r (zeroed by the caller), or -1 with e set. Empty input gives an empty
 * fragment, not an error. */
int clean_html(const char *html, size_t len, const struct clean_opts *o, struct clean_result *r,
	       struct err *e);
void clean_result_release(struct clean_result *r);

/* Per-feed selectors (src/clean_select.c): tag, .class, #id, [attr], [attr=value], descendant
 * (space) and comma lists. clean_selector_check validates config text (0, or -1 with e set);
 * the rest is used by clean_html and its tests. */
struct clean_selector;
struct _xmlNode;
int clean_selector_check(const char *text, struct err *e);
/* On success *out is owned by the caller (clean_selector_free). */
int clean_selector_parse(const char *text, struct clean_selector **out, struct err *e);
int clean_selector_matches(const struct clean_selector *s, const struct _xmlNode *el);
void clean_selector_free(struct clean_selector *s);

#endif
