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

#endif
