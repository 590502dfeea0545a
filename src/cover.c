/* Stage `cover`: draws the book's cover as a newspaper masthead (title between rules, a date
 * line, the feeds with their article counts, the total) into a grayscale canvas with FreeType
 * and HarfBuzz, and encodes it as a baseline one-component JPEG with libjpeg-turbo.
 * Reads font files (the book's CJK font; fontconfig finds Latin faces); no other I/O. */
#include "cover.h"

#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include <hb-ft.h>
#include <hb.h>
#include <jpeglib.h>
#include <setjmp.h>

#define INK 0
#define PAPER 255
#define GREY 110

struct face {
	FT_Face ft;
	hb_font_t *hb;
	int size; /* pixel size the hb font was last scaled to */
};

struct canvas {
	unsigned char *px;
	int w, h;
};

struct cover {
	FT_Library lib;
	struct face main;    /* the book's font (CJK), or a Latin sans */
	struct face display; /* a bold serif for the masthead, when it covers the title */
	struct face *title_face;
	struct canvas cv;
	int u100; /* 1/100 of the width, in 1/100 px: the design's unit */
};

/* Design unit: hundredths of the width, so the layout scales with the device. */
static int U(const struct cover *c, double units)
{
	return (int)(units * c->u100 / 100.0 + 0.5);
}

static int open_face(struct cover *c, struct face *f, const char *path, int index, struct err *e)
{
	if (FT_New_Face(c->lib, path, index, &f->ft)) {
		err_set(e, 1, "cover: font %s#%d: cannot open", path, index);
		return -1;
	}
	FT_Set_Pixel_Sizes(f->ft, 0, 32);
	f->hb = hb_ft_font_create_referenced(f->ft);
	f->size = 32;
	return 0;
}

static void close_face(struct face *f)
{
	if (f->hb)
		hb_font_destroy(f->hb); /* drops its reference to the FT_Face */
	if (f->ft)
		FT_Done_Face(f->ft);
	memset(f, 0, sizeof(*f));
}

/* A file for a fontconfig pattern such as "serif:bold", or NULL. */
static char *fc_file(const char *pattern, int *index)
{
	FcPattern *p, *m;
	FcResult r;
	FcChar8 *file;
	char *out = NULL;

	if (!FcInit())
		return NULL;
	p = FcNameParse((const FcChar8 *)pattern);
	if (!p)
		return NULL;
	FcConfigSubstitute(NULL, p, FcMatchPattern);
	FcDefaultSubstitute(p);
	m = FcFontMatch(NULL, p, &r);
	if (m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch) {
		out = xstrdup((const char *)file);
		if (FcPatternGetInteger(m, FC_INDEX, 0, index) != FcResultMatch)
			*index = 0;
	}
	if (m)
		FcPatternDestroy(m);
	FcPatternDestroy(p);
	return out;
}

static int covers(struct face *f, const char *text)
{
	const char *p = text, *end = text + strlen(text);

	while (p < end) {
		int32_t cp = util_utf8_next(&p, end);
		if (cp < 0)
			return 0;
		if (cp > 0x20 && FT_Get_Char_Index(f->ft, (FT_ULong)cp) == 0)
			return 0;
	}
	return 1;
}

static void set_size(struct face *f, int px)
{
	if (px < 4)
		px = 4;
	if (f->size == px)
		return;
	FT_Set_Pixel_Sizes(f->ft, 0, (FT_UInt)px);
	hb_ft_font_changed(f->hb);
	f->size = px;
}

static hb_buffer_t *shape(struct face *f, const char *text)
{
	hb_buffer_t *b = hb_buffer_create();

	if (!hb_buffer_allocation_successful(b))
		die_oom();
	hb_buffer_add_utf8(b, text, -1, 0, -1);
	hb_buffer_guess_segment_properties(b);
	hb_shape(f->hb, b, NULL, 0);
	return b;
}

/* Emboldening strength in 26.6 units; extra spacing keeps emboldened glyphs apart. */
static int bold_strength(int px, int bold)
{
	return bold ? px * 64 / 22 : 0;
}

static int text_width(struct face *f, int px, const char *text, int bold, int track)
{
	hb_buffer_t *b;
	unsigned int n;
	hb_glyph_position_t *pos;
	long w = 0;

	set_size(f, px);
	b = shape(f, text);
	pos = hb_buffer_get_glyph_positions(b, &n);
	for (unsigned int i = 0; i < n; i++)
		w += pos[i].x_advance + bold_strength(px, bold) + track * 64;
	hb_buffer_destroy(b);
	if (n && track)
		w -= track * 64;
	return (int)(w / 64);
}

static void blit(struct canvas *cv, FT_Bitmap *bm, int x0, int y0, unsigned char color)
{
	for (unsigned int row = 0; row < bm->rows; row++) {
		int y = y0 + (int)row;
		if (y < 0 || y >= cv->h)
			continue;
		for (unsigned int col = 0; col < bm->width; col++) {
			int x = x0 + (int)col;
			unsigned a = bm->buffer[row * (unsigned)bm->pitch + col];
			unsigned char *d;
			if (x < 0 || x >= cv->w || !a)
				continue;
			d = &cv->px[y * cv->w + x];
			*d = (unsigned char)(*d - ((int)*d - color) * (int)a / 255);
		}
	}
}

/* Draws text with its left end at x and its baseline at y; returns the width drawn. */
static int draw_text(struct canvas *cv, struct face *f, int px, const char *text, int x, int y,
                     int bold, int track, unsigned char color)
{
	hb_buffer_t *b;
	unsigned int n;
	hb_glyph_info_t *info;
	hb_glyph_position_t *pos;
	long pen = (long)x * 64;
	int strength = bold_strength(px, bold);

	set_size(f, px);
	b = shape(f, text);
	info = hb_buffer_get_glyph_infos(b, &n);
	pos = hb_buffer_get_glyph_positions(b, &n);
	for (unsigned int i = 0; i < n; i++) {
		FT_GlyphSlot g;
		if (FT_Load_Glyph(f->ft, info[i].codepoint, FT_LOAD_NO_BITMAP | FT_LOAD_NO_HINTING))
			continue;
		g = f->ft->glyph;
		if (g->format == FT_GLYPH_FORMAT_OUTLINE) {
			if (strength)
				FT_Outline_EmboldenXY(&g->outline, strength, strength / 2);
			if (FT_Render_Glyph(g, FT_RENDER_MODE_NORMAL) == 0)
				blit(cv, &g->bitmap,
				     (int)((pen + pos[i].x_offset) / 64) + g->bitmap_left,
				     y - (int)(pos[i].y_offset / 64) - g->bitmap_top, color);
		}
		pen += pos[i].x_advance + strength + track * 64;
	}
	hb_buffer_destroy(b);
	return (int)(pen / 64) - x;
}

static void fill(struct canvas *cv, int x, int y, int w, int h, unsigned char color)
{
	for (int j = y < 0 ? 0 : y; j < y + h && j < cv->h; j++)
		for (int i = x < 0 ? 0 : x; i < x + w && i < cv->w; i++)
			cv->px[j * cv->w + i] = color;
}

static void diamond(struct canvas *cv, int cx, int cy, int r, unsigned char color)
{
	for (int dy = -r; dy <= r; dy++) {
		int half = r - abs(dy);
		fill(cv, cx - half, cy + dy, 2 * half + 1, 1, color);
	}
}

/* The longest prefix of text (whole code points) that fits max_w with "…" appended. */
static char *ellipsize(struct face *f, int px, const char *text, int max_w)
{
	size_t len = strlen(text);
	char *s;

	if (text_width(f, px, text, 0, 0) <= max_w)
		return xstrdup(text);
	s = xmalloc(len + 4);
	while (len > 0) {
		/* Step back over one UTF-8 code point. */
		do
			len--;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80);
		memcpy(s, text, len);
		memcpy(s + len, "\xe2\x80\xa6", 4);
		if (text_width(f, px, s, 0, 0) <= max_w)
			return s;
	}
	memcpy(s, "\xe2\x80\xa6", 4);
	return s;
}

static int ascent(struct face *f, int px)
{
	set_size(f, px);
	return (int)(f->ft->size->metrics.ascender / 64);
}

/* Largest size <= max_px at which text fits max_w. */
static int fit_size(struct face *f, const char *text, int max_px, int max_w, int bold, int track)
{
	int px = max_px;

	while (px > 8 && text_width(f, px, text, bold, track) > max_w)
		px = px * 19 / 20;
	return px;
}

static void draw_centered(struct cover *c, struct face *f, int px, const char *text, int y,
                          int bold, int track, unsigned char color)
{
	int w = text_width(f, px, text, bold, track);

	draw_text(&c->cv, f, px, text, (c->cv.w - w) / 2, y, bold, track, color);
}

static void dotted_leader(struct canvas *cv, int x0, int x1, int y, int step, int dot)
{
	for (int x = x0 + step / 2; x + dot <= x1; x += step)
		fill(cv, x, y - dot, dot, dot, GREY);
}

static const char *const separators[] = {
    " ", "\xc2\xb7", "\xe3\x83\xbb", "-", "\xe2\x80\x93", "\xe2\x80\x94",
    "|", ":",        "\xef\xbc\x9a", ",", "\xef\xbc\x8c",
}; /* space · ・ - – — | : ： , ， */

/* Length of a separator at p, or 0. */
static size_t separator_at(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(separators); i++)
		if (strncmp(p, separators[i], strlen(separators[i])) == 0)
			return strlen(separators[i]);
	return 0;
}

static size_t count_cp(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* Splits a title at the space nearest its middle (in characters) for a two-line masthead,
 * leaving separators such as " · " at neither line's edge. */
static int split_title(const char *t, char **a, char **b)
{
	size_t len = strlen(t), total = count_cp(t, len), best = 0;
	long best_d = -1;
	size_t end1, start2;

	for (size_t i = 1; i + 1 < len; i++) {
		if (t[i] != ' ')
			continue;
		long d = labs((long)count_cp(t, i) * 2 - (long)total);
		if (best_d < 0 || d < best_d) {
			best_d = d;
			best = i;
		}
	}
	if (best_d < 0)
		return 0;
	/* Widen the cut over neighbouring separators. */
	end1 = best;
	for (int moved = 1; moved && end1 > 0;) {
		moved = 0;
		for (size_t i = 0; i < ARRAY_SIZE(separators); i++) {
			size_t n = strlen(separators[i]);
			if (end1 >= n && strncmp(t + end1 - n, separators[i], n) == 0) {
				end1 -= n;
				moved = 1;
				break;
			}
		}
	}
	start2 = best;
	for (size_t n; (n = separator_at(t + start2)) != 0;)
		start2 += n;
	if (end1 == 0 || start2 >= len)
		return 0;
	*a = xstrndup(t, end1);
	*b = xstrdup(t + start2);
	return 1;
}

static void render(struct cover *c, const struct cover_spec *s)
{
	struct canvas *cv = &c->cv;
	const int margin = U(c, 7), inner = cv->w - 2 * margin;
	int cjk = util_has_cjk(s->title) || (s->n_feeds && util_has_cjk(s->feeds[0].name));
	const char *title = s->title && *s->title ? s->title : "inkdigest";
	struct face *tf = c->title_face;
	int y = U(c, 6), px;
	char num[64];

	memset(cv->px, PAPER, (size_t)cv->w * (size_t)cv->h);

	/* Ears: the volume (or the edition) on the left, the number of feeds on the right. */
	px = U(c, 2.6);
	draw_text(cv, &c->main, px,
	          s->volume_label && *s->volume_label ? s->volume_label
	          : cjk                               ? "电子墨水版"
	                                              : "E-ink edition",
	          margin, y + ascent(&c->main, px), 0, cjk ? 0 : U(c, 0.2), INK);
	snprintf(num, sizeof(num), cjk ? "%zu 个来源" : "%zu feed%s", s->n_feeds,
	         !cjk && s->n_feeds == 1 ? "" : "s");
	draw_text(cv, &c->main, px, num,
	          margin + inner - text_width(&c->main, px, num, 0, cjk ? 0 : U(c, 0.2)),
	          y + ascent(&c->main, px), 0, cjk ? 0 : U(c, 0.2), INK);
	y += U(c, 4.6);
	fill(cv, margin, y, inner, U(c, 0.9), INK);
	y += U(c, 0.9) + U(c, 0.5);
	fill(cv, margin, y, inner, U(c, 0.25) > 0 ? U(c, 0.25) : 1, INK);
	y += U(c, 2.5);

	/* The masthead: as large as the width allows, on two lines when one would be small. */
	{
		int track = cjk ? U(c, 0.8) : 0, tb = tf == &c->main;
		int max_px = U(c, 17), one = fit_size(tf, title, max_px, inner, tb, track);
		char *l1 = NULL, *l2 = NULL;
		if (one < max_px * 55 / 100 && split_title(title, &l1, &l2)) {
			int two = fit_size(tf, l1, max_px, inner, tb, track);
			int t2 = fit_size(tf, l2, max_px, inner, tb, track);
			if (t2 < two)
				two = t2;
			if (two > one * 5 / 4) {
				int asc = ascent(tf, two);
				y += asc;
				draw_centered(c, tf, two, l1, y, tb, track, INK);
				y += two * 105 / 100;
				draw_centered(c, tf, two, l2, y, tb, track, INK);
				y += two / 4;
				one = 0;
			}
		}
		if (one) {
			y += ascent(tf, one) * 92 / 100;
			draw_centered(c, tf, one, title, y, tb, track, INK);
			y += one / 4;
		}
		free(l1);
		free(l2);
	}

	/* Date line between a thin and a thick rule. */
	y += U(c, 1.5);
	fill(cv, margin, y, inner, U(c, 0.25) > 0 ? U(c, 0.25) : 1, INK);
	y += U(c, 0.25) + U(c, 1.2);
	px = U(c, 3.4);
	if (s->date_text && *s->date_text) {
		int w = text_width(&c->main, px, s->date_text, 0, U(c, 0.3));
		int ty = y + ascent(&c->main, px);
		int mid = ty - px * 35 / 100;
		draw_text(cv, &c->main, px, s->date_text, (cv->w - w) / 2, ty, 0, U(c, 0.3), INK);
		diamond(cv, (cv->w - w) / 2 - U(c, 3), mid, U(c, 0.8), INK);
		diamond(cv, (cv->w + w) / 2 + U(c, 3), mid, U(c, 0.8), INK);
		y += px * 135 / 100;
	}
	fill(cv, margin, y, inner, U(c, 0.25) > 0 ? U(c, 0.25) : 1, INK);
	y += U(c, 0.25) + U(c, 0.5);
	fill(cv, margin, y, inner, U(c, 0.9), INK);
	y += U(c, 0.9) + U(c, 6);

	/* The feeds under an "in this issue" head: name, dotted leader, count; the rest summed
	 * up on the last line. A short list gets larger rows; the block sits mid-way. */
	{
		const int count_w = U(c, 12), foot = cv->h - U(c, 15);
		const int head_px = U(c, 2.7), head_h = U(c, 7);
		int row_px = U(c, 3.9), row_h = U(c, 6.6);
		int rows = (foot - y - head_h) / row_h;
		size_t shown = s->n_feeds;
		const char *head = cjk ? "本期内容" : "IN THIS ISSUE";
		if (rows < 1)
			rows = 1;
		if (shown > (size_t)rows)
			shown = (size_t)rows - 1;
		if (s->n_feeds && s->n_feeds < (size_t)rows) {
			int grow = (foot - y - head_h) / (int)s->n_feeds;
			if (grow > U(c, 8.6))
				grow = U(c, 8.6);
			row_px = row_px * grow / row_h;
			row_h = grow;
			y += (foot - y - head_h - row_h * (int)s->n_feeds) / 2;
		}
		{
			int track = U(c, 0.6), w = text_width(&c->main, head_px, head, 0, track);
			int base = y + ascent(&c->main, head_px), mid = base - head_px * 35 / 100;
			int gap = U(c, 2.5), thin = U(c, 0.25) > 0 ? U(c, 0.25) : 1;
			draw_text(cv, &c->main, head_px, head, (cv->w - w) / 2, base, 0, track,
			          INK);
			fill(cv, margin, mid, (cv->w - w) / 2 - gap - margin, thin, INK);
			fill(cv, (cv->w + w) / 2 + gap, mid, margin + inner - (cv->w + w) / 2 - gap,
			     thin, INK);
			y += head_h;
		}
		for (size_t i = 0; i <= shown && i < s->n_feeds; i++) {
			const char *name = s->feeds[i].name ? s->feeds[i].name : "";
			int count = s->feeds[i].n_articles, base = y + ascent(&c->main, row_px);
			char *label;
			if (i == shown) {
				int rest = 0;
				for (size_t j = shown; j < s->n_feeds; j++)
					rest += s->feeds[j].n_articles;
				snprintf(num, sizeof(num),
				         cjk ? "…… 另 %zu 个来源" : "… and %zu more",
				         s->n_feeds - shown);
				label = xstrdup(num);
				count = rest;
			} else {
				label =
				    ellipsize(&c->main, row_px, name, inner - count_w - U(c, 6));
			}
			int lw = draw_text(cv, &c->main, row_px, label, margin + U(c, 3), base, 0,
			                   0, INK);
			diamond(cv, margin + U(c, 0.7), base - row_px * 35 / 100, U(c, 0.6), INK);
			snprintf(num, sizeof(num), "%d", count);
			int nw = text_width(&c->main, row_px, num, 1, 0);
			draw_text(cv, &c->main, row_px, num, margin + inner - nw, base, 1, 0, INK);
			dotted_leader(cv, margin + U(c, 3) + lw + U(c, 1),
			              margin + inner - nw - U(c, 1.5), base, U(c, 1.6),
			              U(c, 0.4) > 0 ? U(c, 0.4) : 1);
			free(label);
			y += row_h;
		}
	}

	/* Foot: a double rule, the total in bold. */
	{
		int fy = cv->h - U(c, 14);
		fill(cv, margin, fy, inner, U(c, 0.25) > 0 ? U(c, 0.25) : 1, INK);
		fy += U(c, 0.25) + U(c, 0.5);
		fill(cv, margin, fy, inner, U(c, 0.9), INK);
		px = U(c, 4.2);
		snprintf(num, sizeof(num), cjk ? "本期共 %d 篇文章" : "%d articles in this issue",
		         s->total_articles);
		if (!cjk && s->total_articles == 1)
			snprintf(num, sizeof(num), "1 article in this issue");
		fy += U(c, 0.9) + U(c, 3) + ascent(&c->main, px);
		draw_centered(c, &c->main, px, num, fy, 1, 0, INK);
	}
}

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

static void jpeg_fail(j_common_ptr ci)
{
	longjmp(((struct jerr *)ci->err)->jb, 1);
}

static int encode(const struct canvas *cv, int quality, struct buf *out, struct err *e)
{
	struct jpeg_compress_struct ci;
	struct jerr je;
	unsigned char *mem = NULL;
	unsigned long mem_len = 0;

	ci.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jpeg_fail;
	if (setjmp(je.jb)) {
		char msg[JMSG_LENGTH_MAX];
		(*ci.err->format_message)((j_common_ptr)&ci, msg);
		err_set(e, 1, "cover: encode: %s", msg);
		jpeg_destroy_compress(&ci);
		free(mem);
		return -1;
	}
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &mem, &mem_len);
	ci.image_width = (JDIMENSION)cv->w;
	ci.image_height = (JDIMENSION)cv->h;
	ci.input_components = 1;
	ci.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, quality, TRUE);
	ci.optimize_coding = TRUE;
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < ci.image_height) {
		JSAMPROW row = (JSAMPROW)&cv->px[ci.next_scanline * (size_t)cv->w];
		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	buf_add(out, mem, mem_len);
	jpeg_destroy_compress(&ci);
	free(mem);
	return 0;
}

int cover_render(const struct cover_spec *s, struct buf *jpeg, struct err *e)
{
	struct cover c;
	char *latin = NULL, *serif = NULL;
	int idx = 0, rc = -1;

	memset(&c, 0, sizeof(c));
	if (s->width < 200 || s->height < 200 || s->width > 4000 || s->height > 4000) {
		err_set(e, 1, "cover: bad size %dx%d", s->width, s->height);
		return -1;
	}
	if (FT_Init_FreeType(&c.lib)) {
		err_set(e, 1, "cover: FreeType init failed");
		return -1;
	}
	if (s->font_path) {
		if (open_face(&c, &c.main, s->font_path, s->font_index, e) < 0)
			goto out;
	} else {
		latin = fc_file("sans", &idx);
		if (!latin) {
			err_set(e, 1, "cover: no font given and fontconfig found none");
			goto out;
		}
		if (open_face(&c, &c.main, latin, idx, e) < 0)
			goto out;
	}
	/* A bold serif masthead reads as a newspaper; only when it has every glyph of the
	 * title, so a Chinese title stays in the book's font. */
	c.title_face = &c.main;
	serif = fc_file("serif:bold", &idx);
	if (serif) {
		struct err ignored;
		if (open_face(&c, &c.display, serif, idx, &ignored) == 0 &&
		    covers(&c.display, s->title ? s->title : "inkdigest"))
			c.title_face = &c.display;
	}
	c.cv.w = s->width;
	c.cv.h = s->height;
	c.u100 = s->width;
	c.cv.px = xmalloc((size_t)s->width * (size_t)s->height);
	render(&c, s);
	rc = encode(&c.cv, s->quality > 0 && s->quality <= 100 ? s->quality : 85, jpeg, e);
out:
	free(c.cv.px);
	close_face(&c.display);
	close_face(&c.main);
	FT_Done_FreeType(c.lib);
	free(latin);
	free(serif);
	return rc;
}
