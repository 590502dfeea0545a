/* Stage `extract`: a whole article page in, the HTML of its main content out (readability-style
 * scoring, known containers such as WeChat's #js_content). No I/O; the result still goes through
 * `clean`. */
#ifndef INKDIGEST_EXTRACT_H
#define INKDIGEST_EXTRACT_H

#include "util.h"

struct extract_result {
	char *html;              /* the main content subtree serialised as HTML */
	char *title;             /* the page's title if found, or NULL */
	size_t text_chars;       /* visible characters in html */
};

/* charset: from the HTTP header, or NULL (then <meta charset> / sniffing). Returns 0, or -1
 * with e set when no main content was found. */
int extract_main(const char *page, size_t len, const char *url, const char *charset,
		 struct extract_result *r, struct err *e);
void extract_result_release(struct extract_result *r);

/* 1 when content looks like a teaser ("Read more", ends in an ellipsis, under min_chars). */
int extract_is_teaser(const char *html, size_t len, size_t min_chars);

#endif
