/* The plain data that flows between pipeline stages: a feed's configuration, a parsed feed and
 * its articles, the images an article refers to, and the book handed to the EPUB writer.
 * No behaviour beyond init/release; no stage's internals. Every char * here is owned by the
 * struct that holds it (UTF-8, NUL-terminated) unless a comment says otherwise. */
#ifndef INKDIGEST_MODEL_H
#define INKDIGEST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum fulltext_mode { FULLTEXT_NO = 0, FULLTEXT_YES, FULLTEXT_AUTO };
enum referer_policy {
	REFERER_NONE = 0,  /* send no Referer (what WeChat's image host needs) */
	REFERER_ORIGIN,    /* the feed's origin, e.g. https://example.org/ */
	REFERER_ARTICLE,   /* the article's URL */
	REFERER_FIXED      /* feed_conf.referer_url */
};

/* One [feed "name"] section of the config (or an OPML outline). */
struct feed_conf {
	char *name;          /* section name, shown as the book's section title */
	char *url;           /* as written: http(s)://, file://, or a path (already made absolute) */
	char *group;         /* OPML folder, or NULL */
	char *lang;          /* overrides the feed's language for its pages, or NULL */
	int line;            /* line of the section header in the config, for messages */
	enum fulltext_mode fulltext;
	enum referer_policy referer;
	char *referer_url;   /* for REFERER_FIXED */
	struct strlist headers;  /* extra request headers, "Name: value" */
	struct strlist proxies;  /* proxy URLs to try in order; empty = global setting */
	struct strlist keep;     /* cleaner selectors to keep (calibre's keep_only_tags) */
	struct strlist remove;   /* cleaner selectors to remove */
	int max_articles;    /* -1 = the digest's default */
};

void feed_conf_release(struct feed_conf *f);

/* One item of a feed, as parsed, then filled in by later stages. */
struct article {
	char *id;            /* identity: guid/id, else link, else a hash of title and content */
	char *title;         /* plain text, never NULL (may be "") */
	char *link;          /* absolute URL or NULL */
	char *author;        /* plain text or NULL */
	int64_t published;   /* Unix seconds UTC, or -1 when the feed gave none or it was unreadable */
	int date_guessed;    /* 1 when published was unreadable and replaced by the fetch time */
	char *content;       /* raw HTML (or text turned into HTML) from the feed, or NULL */
	char *base_url;      /* URL that relative links in content resolve against */
	char *lang;          /* xml:lang / language of the item or its feed, or NULL */
	char *lead_image;    /* enclosure / media:content / media:thumbnail image URL, or NULL */

	/* Filled by clean / extract: */
	char *xhtml;         /* well-formed XHTML fragment (a sequence of block elements) */
	struct strlist images;   /* absolute image URLs in the order they appear in xhtml */
	const char *content_source;  /* static string: "feed" or "fulltext" */
	char *fulltext_error;    /* why the article's page was not used, when it was tried */
};

void article_release(struct article *a);

/* A parsed feed. */
struct feed_doc {
	char *title;
	char *link;
	char *lang;
	const char *format;  /* static: "rss2", "rss1", "rss0.9x", "atom1", "atom0.3", "json" */
	struct article *items;
	size_t n_items;
	int n_recovered;     /* parse errors that recovery papered over */
	struct strlist warnings;  /* one-line notes for the report (dates, encodings, recovery) */
};

void feed_doc_release(struct feed_doc *d);

/* An image of the book: where it came from and what became of it. */
struct book_image {
	char *url;           /* absolute source URL as it appears in article xhtml */
	char *href;          /* path inside the EPUB ("images/0001.jpg"), or NULL when dropped */
	char *path;          /* local file holding the converted JPEG, or NULL when dropped */
	int64_t offset;      /* where in that file the JPEG starts (0 for a file of its own) */
	size_t length;       /* its length in bytes; 0 = to the end of the file */
	int width, height;   /* of the converted image */
};

struct book_article {
	const struct article *article;  /* borrowed */
	const char *feed_name;          /* borrowed */
};

struct book_section {
	char *title;         /* the feed's name */
	char *lang;          /* language for its pages (NULL = the book's) */
	struct book_article *articles;
	size_t n_articles;
};

/* Everything the EPUB writer needs; it reads this and never changes it. */
struct book {
	char *title;         /* e.g. "Morning Digest 2026-11-26" */
	char *language;      /* dc:language, a Kindle-supported code */
	char *identifier;    /* "urn:uuid:…", stable for the same inputs */
	int64_t date;        /* the digest's date (Unix seconds) */
	int tz_offset_s;     /* the digest's time zone offset from UTC, for displayed times */
	struct book_section *sections;
	size_t n_sections;
	struct book_image *images;  /* sorted by url (strcmp) so the writer can bsearch */
	size_t n_images;
	char *cover_path;    /* grayscale JPEG file, or NULL for no cover */
	char *font_path;     /* subset font file to embed, or NULL */
	const char *font_media_type;  /* "font/ttf" or "font/otf" */
	char *templates_dir; /* folder with the XHTML/CSS templates */
	struct strlist subjects;  /* dc:subject entries (the feed names) */
	char *volume_label;  /* e.g. "1 of 2", or NULL */
};

void book_release(struct book *b);
/* The image for url, or NULL (requires images sorted by url). */
const struct book_image *book_find_image(const struct book *b, const char *url);

#endif
