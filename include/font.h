/* Stage `font`: finds a CJK font (fontconfig), subsets it to the code points of the book with
 * hb-subset and lists the code points it lacks (FreeType). Reads font files; writes nothing. */
#ifndef INKDIGEST_FONT_H
#define INKDIGEST_FONT_H

#include "util.h"

struct font_choice {
	char *path;
	int index;               /* face in a TTC */
	char *family;
	int is_cff;              /* CFF outlines (Kindle warns about them) */
};

/* spec: "auto" (fontconfig, preferring glyf CJK faces), or "PATH[#index]". Returns 0, or -1
 * with e set when nothing usable is found. */
int font_resolve(const char *spec, const char *config_dir, struct font_choice *out, struct err *e);
/* As font_resolve, with the folder holding preferred.conf (the ordered list of family names
 * "auto" tries; see fonts/preferred.conf in the source tree, installed under share/inkdigest/
 * fonts). fonts_dir NULL or without that file: a built-in list with the same content. PATH is
 * relative to config_dir. "none" returns 0 with out->path NULL (embed nothing). */
int font_resolve_in(const char *spec, const char *config_dir, const char *fonts_dir,
		    struct font_choice *out, struct err *e);
void font_choice_release(struct font_choice *c);
/* Releases fontconfig's process-wide caches (fonts found here and by cover); once, at exit. */
void font_global_cleanup(void);

/* A set of code points collected from the book's text. */
struct codepoints {
	uint32_t *cp;
	size_t n, cap;
};
void codepoints_add_utf8(struct codepoints *s, const char *text);
void codepoints_release(struct codepoints *s);

/* Subsets the face to s (plus ASCII), no hinting, into a single sfnt (.ttf or .otf). ext is
 * set to "ttf" or "otf". Deterministic for the same inputs. */
int font_subset(const struct font_choice *c, const struct codepoints *s, struct buf *out,
		const char **ext, struct err *e);
/* Adds to missing every code point of s that the face has no glyph for. */
int font_missing(const struct font_choice *c, const struct codepoints *s,
		 struct codepoints *missing, struct err *e);

#endif
