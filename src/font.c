/* Stage `font`: picks a CJK font (fontconfig, preferring TrueType-outline faces in the order of
 * fonts/preferred.conf), subsets it to the book's code points with hb-subset and lists the code
 * points it lacks (FreeType). Reads font files and the preference list; writes nothing. */
#include "font.h"

#include <ctype.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_FONT_FORMATS_H
#include <hb-subset.h>
#include <hb.h>

/* Same content as fonts/preferred.conf, for when that file is not installed. */
static const char *const builtin_families[] = {
    "WenQuanYi Micro Hei", "LXGW WenKai",        "Droid Sans Fallback",
    "Noto Sans CJK SC",    "Source Han Sans SC",
};

/* ---- code point sets ---- */

static int find_cp(const struct codepoints *s, uint32_t cp, size_t *pos)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->cp[mid] == cp) {
			*pos = mid;
			return 1;
		}
		if (s->cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

static void cp_add(struct codepoints *s, uint32_t cp)
{
	size_t pos;

	if (find_cp(s, cp, &pos))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->cp = xrealloc(s->cp, s->cap * sizeof(*s->cp));
	}
	memmove(s->cp + pos + 1, s->cp + pos, (s->n - pos) * sizeof(*s->cp));
	s->cp[pos] = cp;
	s->n++;
}

void codepoints_add_utf8(struct codepoints *s, const char *text)
{
	const char *p = text, *end;

	if (!text)
		return;
	end = text + strlen(text);
	while (p < end) {
		int32_t cp = util_utf8_next(&p, end);
		if (cp > 0)
			cp_add(s, (uint32_t)cp);
		else if (cp < 0)
			p++; /* util_utf8_next does not move past an invalid byte */
	}
}

void codepoints_release(struct codepoints *s)
{
	if (!s)
		return;
	free(s->cp);
	memset(s, 0, sizeof(*s));
}

/* ---- choosing a face ---- */

void font_choice_release(struct font_choice *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->family);
	memset(c, 0, sizeof(*c));
}

/* Opens the face with FreeType to learn its family and outline type. */
static int inspect_face(const char *path, int index, struct font_choice *out, struct err *e)
{
	FT_Library lib;
	FT_Face face;
	FT_Error fe;
	const char *fmt;

	if (FT_Init_FreeType(&lib)) {
		err_set(e, 1, "font: FreeType init failed");
		return -1;
	}
	fe = FT_New_Face(lib, path, index, &face);
	if (fe) {
		err_set(e, 1, "font %s#%d: cannot open face (FreeType error %d)", path, index, fe);
		FT_Done_FreeType(lib);
		return -1;
	}
	if (!FT_IS_SFNT(face)) {
		err_set(e, 1, "font %s: not a TrueType/OpenType font", path);
		FT_Done_Face(face);
		FT_Done_FreeType(lib);
		return -1;
	}
	fmt = FT_Get_Font_Format(face);
	out->path = xstrdup(path);
	out->index = index;
	out->family = xstrdup(face->family_name ? face->family_name : "");
	out->is_cff = fmt && strcmp(fmt, "CFF") == 0;
	FT_Done_Face(face);
	FT_Done_FreeType(lib);
	return 0;
}

static int resolve_path(const char *spec, const char *config_dir, struct font_choice *out,
                        struct err *e)
{
	char *path = util_path_join(config_dir ? config_dir : ".", spec);
	char *hash = strrchr(path, '#');
	long index = 0;
	FILE *f;
	int rc;

	/* "PATH#index" unless the whole spec names an existing file. */
	f = fopen(path, "rb");
	if (f) {
		fclose(f);
	} else if (hash) {
		if (util_parse_long(hash + 1, &index) < 0 || index < 0 || index > 0xffff) {
			err_set(e, 1, "font %s: bad face index", spec);
			free(path);
			return -1;
		}
		*hash = '\0';
	}
	f = fopen(path, "rb");
	if (!f) {
		err_set(e, 1, "font %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	fclose(f);
	rc = inspect_face(path, (int)index, out, e);
	free(path);
	return rc;
}

static void load_families(const char *fonts_dir, struct strlist *fams)
{
	char *path;
	struct buf b = BUF_INIT;
	struct err e;

	if (fonts_dir) {
		path = util_path_join(fonts_dir, "preferred.conf");
		if (util_read_file(path, 1u << 16, &b, &e) == 0) {
			char *line = b.data;
			while (line && *line) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				line = util_trim(line);
				if (*line && *line != '#' && *line != ';')
					strlist_add(fams, line);
				line = nl ? nl + 1 : NULL;
			}
		}
		buf_release(&b);
		free(path);
	}
	if (!fams->n)
		for (size_t i = 0; i < ARRAY_SIZE(builtin_families); i++)
			strlist_add(fams, builtin_families[i]);
}

/* The installed faces of a family, closest to regular weight first, then by file and index
 * (fontconfig's own order depends on its cache). */
struct cand {
	char *file;
	int index;
	int weight_dist;
	int italic;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r;

	if (x->italic != y->italic)
		return x->italic - y->italic;
	if (x->weight_dist != y->weight_dist)
		return x->weight_dist - y->weight_dist;
	r = strcmp(x->file, y->file);
	return r ? r : x->index - y->index;
}

static int find_family(const char *family, int want_glyf, struct font_choice *out)
{
	FcPattern *pat = FcPatternCreate();
	FcObjectSet *os = FcObjectSetBuild(FC_FILE, FC_INDEX, FC_WEIGHT, FC_SLANT, NULL);
	FcFontSet *set;
	struct cand *c = NULL;
	size_t n = 0;
	int found = 0;

	if (!pat || !os)
		die_oom();
	FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)family);
	set = FcFontList(NULL, pat, os);
	if (set && set->nfont > 0) {
		c = xcalloc((size_t)set->nfont, sizeof(*c));
		for (int i = 0; i < set->nfont; i++) {
			FcChar8 *file;
			int index = 0, weight = FC_WEIGHT_REGULAR, slant = FC_SLANT_ROMAN;
			if (FcPatternGetString(set->fonts[i], FC_FILE, 0, &file) != FcResultMatch)
				continue;
			FcPatternGetInteger(set->fonts[i], FC_INDEX, 0, &index);
			FcPatternGetInteger(set->fonts[i], FC_WEIGHT, 0, &weight);
			FcPatternGetInteger(set->fonts[i], FC_SLANT, 0, &slant);
			c[n].file = xstrdup((const char *)file);
			c[n].index = index;
			c[n].weight_dist = abs(weight - FC_WEIGHT_REGULAR);
			c[n].italic = slant != FC_SLANT_ROMAN;
			n++;
		}
		qsort(c, n, sizeof(*c), cmp_cand);
	}
	for (size_t i = 0; i < n && !found; i++) {
		struct font_choice fc = {0};
		struct err e;
		/* TTC is not an EPUB font type, but one face of it subsets into a plain sfnt. */
		if (inspect_face(c[i].file, c[i].index, &fc, &e) < 0)
			continue;
		if (!want_glyf || !fc.is_cff) {
			*out = fc;
			found = 1;
		} else {
			font_choice_release(&fc);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(c[i].file);
	free(c);
	if (set)
		FcFontSetDestroy(set);
	FcObjectSetDestroy(os);
	FcPatternDestroy(pat);
	return found;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No preferred family installed: any face fontconfig knows for Simplified Chinese. */
static int find_any_cjk(int want_glyf, struct font_choice *out)
{
	FcPattern *pat = FcPatternCreate();
	FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, NULL);
	FcLangSet *ls = FcLangSetCreate();
	FcFontSet *set;
	struct strlist fams = {0};
	int found = 0;

	if (!pat || !os || !ls)
		die_oom();
	FcLangSetAdd(ls, (const FcChar8 *)"zh-cn");
	FcPatternAddLangSet(pat, FC_LANG, ls);
	set = FcFontList(NULL, pat, os);
	for (int i = 0; set && i < set->nfont; i++) {
		FcChar8 *fam;
		if (FcPatternGetString(set->fonts[i], FC_FAMILY, 0, &fam) == FcResultMatch &&
		    !strlist_contains(&fams, (const char *)fam))
			strlist_add(&fams, (const char *)fam);
	}
	/* Sorted, so the choice does not depend on fontconfig's cache order. */
	qsort(fams.items, fams.n, sizeof(*fams.items), cmp_str);
	for (size_t i = 0; i < fams.n && !found; i++)
		found = find_family(fams.items[i], want_glyf, out);
	strlist_release(&fams);
	if (set)
		FcFontSetDestroy(set);
	FcLangSetDestroy(ls);
	FcObjectSetDestroy(os);
	FcPatternDestroy(pat);
	return found;
}

int font_resolve_in(const char *spec, const char *config_dir, const char *fonts_dir,
                    struct font_choice *out, struct err *e)
{
	struct strlist fams = {0};
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec || strcmp(spec, "none") == 0)
		return 0;
	if (strcmp(spec, "auto") != 0)
		return resolve_path(spec, config_dir, out, e);
	if (!FcInit()) {
		err_set(e, 1, "font auto: fontconfig init failed");
		return -1;
	}
	load_families(fonts_dir, &fams);
	/* Two passes: TrueType outlines first (Kindle warns about CFF), then anything. */
	for (int want_glyf = 1; want_glyf >= 0 && !found; want_glyf--) {
		for (size_t i = 0; i < fams.n && !found; i++)
			found = find_family(fams.items[i], want_glyf, out);
		if (!found)
			found = find_any_cjk(want_glyf, out);
	}
	strlist_release(&fams);
	if (!found) {
		err_set(e, 1, "font auto: no CJK font installed (install fonts-wqy-microhei)");
		return -1;
	}
	return 0;
}

int font_resolve(const char *spec, const char *config_dir, struct font_choice *out, struct err *e)
{
	return font_resolve_in(spec, config_dir, INKDIGEST_DATADIR "/fonts", out, e);
}

/* ---- subsetting ---- */

static int face_has_table(hb_face_t *face, hb_tag_t tag)
{
	hb_blob_t *t = hb_face_reference_table(face, tag);
	int has = hb_blob_get_length(t) > 0;

	hb_blob_destroy(t);
	return has;
}

int font_subset(const struct font_choice *c, const struct codepoints *s, struct buf *out,
                const char **ext, struct err *e)
{
	hb_blob_t *blob, *res = NULL;
	hb_face_t *face = NULL, *sub = NULL;
	hb_subset_input_t *in = NULL;
	hb_set_t *uni, *drop;
	unsigned int len;
	const char *data;
	int cff, rc = -1;

	blob = hb_blob_create_from_file_or_fail(c->path);
	if (!blob) {
		err_set(e, 1, "font %s: cannot read", c->path);
		return -1;
	}
	face = hb_face_create(blob, (unsigned int)c->index);
	if (!face || hb_face_get_glyph_count(face) == 0) {
		err_set(e, 1, "font %s#%d: not a font face", c->path, c->index);
		goto out;
	}
	cff = face_has_table(face, HB_TAG('C', 'F', 'F', ' ')) ||
	      face_has_table(face, HB_TAG('C', 'F', 'F', '2'));
	in = hb_subset_input_create_or_fail();
	if (!in)
		die_oom();
	uni = hb_subset_input_unicode_set(in);
	for (hb_codepoint_t cp = 0x20; cp < 0x7f; cp++)
		hb_set_add(uni, cp);
	for (size_t i = 0; s && i < s->n; i++)
		hb_set_add(uni, s->cp[i]);
	hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING |
	                                  (cff ? HB_SUBSET_FLAGS_DESUBROUTINIZE : 0));
	/* The layout tables' closure pulls in every alternate form: for Noto Sans CJK (CFF) that
	 * is 7,161 glyphs instead of 3,887 for GB2312 level 1, so they go (horizontal CJK text
	 * needs none; Latin loses only kerning). For the glyf faces we prefer they cost ~2%
	 * (WenQuanYi, 387 code points: 80,140 vs 78,528 bytes), so they stay. */
	if (cff) {
		drop = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
		hb_set_add(drop, HB_TAG('G', 'S', 'U', 'B'));
		hb_set_add(drop, HB_TAG('G', 'P', 'O', 'S'));
		hb_set_add(drop, HB_TAG('G', 'D', 'E', 'F'));
	}
	sub = hb_subset_or_fail(face, in);
	if (!sub) {
		err_set(e, 1, "font %s#%d: subset failed", c->path, c->index);
		goto out;
	}
	res = hb_face_reference_blob(sub);
	data = hb_blob_get_data(res, &len);
	if (!data || !len) {
		err_set(e, 1, "font %s#%d: subset is empty", c->path, c->index);
		goto out;
	}
	buf_add(out, data, len);
	*ext = cff ? "otf" : "ttf";
	rc = 0;
out:
	hb_blob_destroy(res);
	hb_face_destroy(sub);
	hb_subset_input_destroy(in);
	hb_face_destroy(face);
	hb_blob_destroy(blob);
	return rc;
}

/* ---- coverage ---- */

/* Code points no font draws as a glyph of its own: controls and invisible formatting. */
static int invisible(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff ||
	       (cp >= 0xe0100 && cp <= 0xe01ef);
}

int font_missing(const struct font_choice *c, const struct codepoints *s,
                 struct codepoints *missing, struct err *e)
{
	FT_Library lib;
	FT_Face face;
	FT_Error fe;

	if (FT_Init_FreeType(&lib)) {
		err_set(e, 1, "font: FreeType init failed");
		return -1;
	}
	fe = FT_New_Face(lib, c->path, c->index, &face);
	if (fe) {
		err_set(e, 1, "font %s#%d: cannot open face (FreeType error %d)", c->path, c->index,
		        fe);
		FT_Done_FreeType(lib);
		return -1;
	}
	if (FT_Select_Charmap(face, FT_ENCODING_UNICODE)) {
		err_set(e, 1, "font %s#%d: no Unicode character map", c->path, c->index);
		FT_Done_Face(face);
		FT_Done_FreeType(lib);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		if (!invisible(s->cp[i]) && FT_Get_Char_Index(face, s->cp[i]) == 0)
			cp_add(missing, s->cp[i]);
	FT_Done_Face(face);
	FT_Done_FreeType(lib);
	return 0;
}

void font_global_cleanup(void)
{
	FcFini();
}
