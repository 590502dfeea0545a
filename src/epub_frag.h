/* Stage `epub`, private: turns an article's XHTML fragment into a tree of safe XHTML elements
 * that epubcheck accepts. Shared by src/epub*.c only; no other module includes it. */
#ifndef INKDIGEST_EPUB_FRAG_H
#define INKDIGEST_EPUB_FRAG_H

#include <libxml/tree.h>

#include "model.h"

/* Where an imported <img> may point: src URL -> href inside the book, or NULL (dropped). */
struct frag_images {
	const struct book *book;
	const unsigned char *usable; /* per book->images index: 1 when the file can be embedded */
	const char *prefix;          /* relative path from the page to the OEBPS root ("../") */
	struct strlist *used;        /* hrefs of the images the imported content shows (appended) */
};

/* Parses frag (as XML; when that fails, as HTML; when that fails, as plain text) and appends
 * the sanitized content to parent, a node of doc, as elements without a namespace. Returns 0
 * when the XML parse succeeded, 1 when a fallback was used. Never fails. */
int epub_frag_import(xmlDoc *doc, xmlNode *parent, const char *frag, const struct frag_images *im);

/* Percent-encodes what a URL may not contain (spaces, controls, non-ASCII, a second '#').
 * Returns a new string, or NULL when url is not http(s):// or mailto:. */
char *epub_safe_url(const char *url);

/* 1 when s is a well-formed language tag ("zh", "zh-CN", "en-US"). */
int epub_valid_lang(const char *s);

#endif
