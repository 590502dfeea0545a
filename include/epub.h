/* Stage `epub`: writes a book (model.h) as an EPUB 3 file with an EPUB 2 NCX through libzip,
 * every XML document built with libxml2 from the templates. Reads image/font/cover files named
 * in the book; writes only the path it is given. Never fetches, never changes the book. */
#ifndef INKDIGEST_EPUB_H
#define INKDIGEST_EPUB_H

#include "model.h"

/* Writes b to path (a temporary name chosen by the caller; the caller renames it into place).
 * Returns 0, or -1 with e set and nothing left at path. The result is byte-identical for the
 * same book (zip times come from b->date). */
int epub_write(const struct book *b, const char *path, struct err *e);

/* What the writer had to do, for the report. */
struct epub_stats {
	size_t n_xhtml;          /* XHTML files written (Kindle: fewer than 300) */
	size_t articles_per_file;  /* 1, or more when a big digest made articles share files */
	size_t n_split;          /* articles cut into several files (2 MB per file) */
	size_t n_fallback;       /* article fragments that did not parse as XML (shown as text) */
	size_t n_images;         /* images embedded (cover excluded) */
};

/* epub_write, filling st (may be NULL) on success. */
int epub_write_stats(const struct book *b, const char *path, struct epub_stats *st,
		     struct err *e);

/* Calls fn(ctx, text) for every text the book shows: its title, feed names, article titles,
 * authors and content (markup included; harmless for a code point set) and the texts of the
 * templates (labels such as "目录"). For collecting the code points of the font subset. */
void epub_visit_text(const struct book *b, void (*fn)(void *ctx, const char *text), void *ctx);

#endif
