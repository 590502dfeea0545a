/* Stage `cover`: draws the book's cover (masthead title, date, feeds with article counts, total)
 * as a grayscale JPEG with FreeType and HarfBuzz. Reads the font file; no other I/O. */
#ifndef INKDIGEST_COVER_H
#define INKDIGEST_COVER_H

#include "util.h"

struct cover_feed {
	const char *name;
	int n_articles;
};

struct cover_spec {
	const char *title;
	const char *date_text;   /* e.g. "2026-11-26 Thursday" */
	const char *volume_label;  /* "1 of 2" or NULL */
	const struct cover_feed *feeds;
	size_t n_feeds;
	int total_articles;
	const char *font_path;   /* may be NULL: then a Latin fallback from fontconfig */
	int font_index;
	int width, height;
	int quality;
};

int cover_render(const struct cover_spec *s, struct buf *jpeg, struct err *e);

#endif
