/* Generates the image module's test fixtures (tests/fixtures/image/) with the same libraries the
 * decoders use, plus hand-made headers for bombs and unsupported formats; with --bench DIR,
 * large photo-like JPEGs and screenshot-like PNGs for bench/images. Never reads the network.
 * Build: cc -O2 -o gen tests/tools/gen_image_fixtures.c -ljpeg -lpng -lgif -lwebp -lwebpmux -lz
 * Run:   ./gen tests/fixtures/image      or   ./gen --bench /tmp/bench-images */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>
#include <webp/mux.h>
#include <zlib.h>

static const char *outdir;

struct mem {
	unsigned char *p;
	size_t n, cap;
};

static void mem_add(struct mem *m, const void *d, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 64;
		m->p = realloc(m->p, m->cap);
		if (!m->p)
			abort();
	}
	memcpy(m->p + m->n, d, n);
	m->n += n;
}

static void save(const char *name, const void *d, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void save_mem(const char *name, struct mem *m)
{
	save(name, m->p, m->n);
}

/* A deterministic pseudo-random generator so fixtures are reproducible. */
static uint32_t rng = 12345;
static uint32_t rnd(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

/* ---- RGBA canvases ---- */

struct img {
	int w, h;
	unsigned char *rgba;
};

static struct img img_new(int w, int h)
{
	struct img im = {w, h, calloc((size_t)w * h, 4)};
	if (!im.rgba)
		abort();
	return im;
}

static void px(struct img *im, int x, int y, int r, int g, int b, int a)
{
	unsigned char *p = im->rgba + ((size_t)y * im->w + x) * 4;
	p[0] = (unsigned char)r;
	p[1] = (unsigned char)g;
	p[2] = (unsigned char)b;
	p[3] = (unsigned char)a;
}

/* Gradient with colour bars: something every decoder has to get right. */
static struct img img_pattern(int w, int h)
{
	struct img im = img_new(w, h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			px(&im, x, y, x * 255 / (w > 1 ? w - 1 : 1), y * 255 / (h > 1 ? h - 1 : 1),
			   (x / 8 % 2) ? 200 : 40, 255);
	return im;
}

/* Gray ramp from lo (left) to hi (right), in steps of 8 columns so JPEG keeps the ends. */
static struct img img_ramp(int w, int h, int lo, int hi)
{
	struct img im = img_new(w, h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int step = x / 8, steps = (w - 1) / 8;
			int v = lo + (hi - lo) * step / (steps > 0 ? steps : 1);
			px(&im, x, y, v, v, v, 255);
		}
	return im;
}

/* Top-left quadrant black, the rest white: rotation is visible in the pixels. */
static struct img img_quadrant(int w, int h)
{
	struct img im = img_new(w, h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int v = (x < w / 2 && y < h / 2) ? 0 : 255;
			px(&im, x, y, v, v, v, 255);
		}
	return im;
}

/* Left third transparent black, middle third half-transparent black, right third opaque
 * black: on white that is 255, about 128, 0. */
static struct img img_alpha(int w, int h)
{
	struct img im = img_new(w, h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			px(&im, x, y, 0, 0, 0, x < w / 3 ? 0 : x < 2 * w / 3 ? 128 : 255);
	return im;
}

/* ---- PNG ---- */

static void png_write_mem(png_structp png, png_bytep d, size_t n)
{
	mem_add(png_get_io_ptr(png), d, n);
}

static void png_flush_mem(png_structp png)
{
	(void)png;
}

/* Writes im as the given colour type/depth. For palette types the image must use few colours;
 * we build a gray ramp palette (with transparency for the trns variant). */
static void write_png(const char *name, struct img *im, int ctype, int depth, int interlace,
                      int trns)
{
	struct mem m = {0};
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)))
		abort();
	png_set_write_fn(png, &m, png_write_mem, png_flush_mem);
	png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, depth, ctype,
	             interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	int levels = 1 << (depth > 8 ? 8 : depth);
	if (ctype == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[256];
		png_byte alpha[256];
		for (int i = 0; i < levels; i++) {
			int v = i * 255 / (levels - 1);
			pal[i].red = pal[i].green = pal[i].blue = (png_byte)v;
			alpha[i] = 255;
		}
		png_set_PLTE(png, info, pal, levels);
		if (trns) {
			alpha[0] = 0; /* index 0 (black) is transparent: shows white */
			png_set_tRNS(png, info, alpha, 1, NULL);
		}
	} else if (trns) {
		png_color_16 c = {0, 0, 0, 0, 0}; /* black is transparent */
		png_set_tRNS(png, info, NULL, 0, &c);
	}
	png_write_info(png, info);
	if (depth < 8)
		png_set_packing(png);
	if (depth == 16)
		png_set_swap(png); /* we hand host-order (little-endian) 16-bit samples */
	int chans = ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_PALETTE ? 1
	            : ctype == PNG_COLOR_TYPE_GRAY_ALPHA                            ? 2
	            : ctype == PNG_COLOR_TYPE_RGB                                   ? 3
	                                                                            : 4;
	int bps = depth == 16 ? 2 : 1;
	size_t rowlen = (size_t)im->w * chans * bps;
	unsigned char *rows = malloc(rowlen * im->h);
	png_bytep *rp = malloc(sizeof(*rp) * im->h);
	for (int y = 0; y < im->h; y++) {
		rp[y] = rows + rowlen * y;
		for (int x = 0; x < im->w; x++) {
			unsigned char *s = im->rgba + ((size_t)y * im->w + x) * 4;
			int gray = (s[0] * 77 + s[1] * 150 + s[2] * 29 + 128) >> 8;
			int v[4];
			int n = 0;
			if (ctype == PNG_COLOR_TYPE_PALETTE) {
				v[n++] = (gray * (levels - 1) + 127) / 255;
			} else if (ctype & PNG_COLOR_MASK_COLOR) {
				v[n++] = s[0];
				v[n++] = s[1];
				v[n++] = s[2];
			} else {
				v[n++] = depth < 8 ? (gray * (levels - 1) + 127) / 255 : gray;
			}
			if (ctype & PNG_COLOR_MASK_ALPHA)
				v[n++] = s[3];
			for (int c = 0; c < n; c++) {
				unsigned char *d = rp[y] + ((size_t)x * chans + c) * bps;
				if (bps == 2) {
					int v16 = v[c] * 257;
					d[0] = (unsigned char)(v16 & 255);
					d[1] = (unsigned char)(v16 >> 8);
				} else {
					d[0] = (unsigned char)v[c];
				}
			}
		}
	}
	png_write_image(png, rp);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	save_mem(name, &m);
	free(rows);
	free(rp);
	free(m.p);
}

/* A w x h all-black gray PNG, written row by row at zlib's best ratio: big in pixels, tiny on
 * disk (8000 x 5000 is about 40 KB), for the time limit. */
static void png_flat(const char *name, int w, int h)
{
	struct mem m = {0};
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)))
		abort();
	png_set_write_fn(png, &m, png_write_mem, png_flush_mem);
	png_set_compression_level(png, 9);
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	unsigned char *row = calloc((size_t)w, 1);
	for (int y = 0; y < h; y++)
		png_write_row(png, row);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	save_mem(name, &m);
	free(row);
	free(m.p);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A PNG made of chunks by hand, to state a size libpng's writer would refuse. */
static void png_chunk(struct mem *m, const char *type, const unsigned char *d, uint32_t n)
{
	unsigned char hdr[8];
	put32(hdr, n);
	memcpy(hdr + 4, type, 4);
	mem_add(m, hdr, 8);
	if (n)
		mem_add(m, d, n);
	uLong crc = crc32(0, (const Bytef *)type, 4);
	if (n)
		crc = crc32(crc, d, n);
	unsigned char c[4];
	put32(c, (uint32_t)crc);
	mem_add(m, c, 4);
}

static void png_header_only(const char *name, uint32_t w, uint32_t h)
{
	struct mem m = {0};
	mem_add(&m, "\x89PNG\r\n\x1a\n", 8);
	unsigned char ihdr[13];
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = 8; /* depth */
	ihdr[9] = 2; /* RGB */
	ihdr[10] = 0;
	ihdr[11] = 0;
	ihdr[12] = 0;
	png_chunk(&m, "IHDR", ihdr, 13);
	/* A tiny IDAT: a few rows of zeros, far short of the claimed size. */
	unsigned char raw[64] = {0};
	unsigned char z[128];
	uLongf zn = sizeof(z);
	compress(z, &zn, raw, sizeof(raw));
	png_chunk(&m, "IDAT", z, (uint32_t)zn);
	png_chunk(&m, "IEND", NULL, 0);
	save_mem(name, &m);
	free(m.p);
}

/* ---- JPEG ---- */

/* color: 0 gray, 1 YCbCr, 2 CMYK (stored inverted like Photoshop, Adobe marker), 3 YCCK. */
static void write_jpeg_mem(struct mem *out, struct img *im, int color, int progressive, int arith,
                           int quality, const unsigned char *app1, size_t app1_len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	unsigned char *buf = NULL;
	unsigned long len = 0;
	jpeg_mem_dest(&c, &buf, &len);
	c.image_width = (JDIMENSION)im->w;
	c.image_height = (JDIMENSION)im->h;
	c.input_components = color == 0 ? 1 : color == 1 ? 3 : 4;
	c.in_color_space = color == 0 ? JCS_GRAYSCALE : color == 1 ? JCS_RGB : JCS_CMYK;
	jpeg_set_defaults(&c);
	if (color == 3)
		jpeg_set_colorspace(&c, JCS_YCCK);
	jpeg_set_quality(&c, quality, TRUE);
	if (progressive)
		jpeg_simple_progression(&c);
	c.arith_code = arith ? TRUE : FALSE;
	jpeg_start_compress(&c, TRUE);
	if (app1)
		jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)app1_len);
	unsigned char *row = malloc((size_t)im->w * 4);
	while (c.next_scanline < c.image_height) {
		int y = (int)c.next_scanline;
		for (int x = 0; x < im->w; x++) {
			unsigned char *s = im->rgba + ((size_t)y * im->w + x) * 4;
			if (color == 0) {
				row[x] =
				    (unsigned char)((s[0] * 77 + s[1] * 150 + s[2] * 29 + 128) >>
				                    8);
			} else if (color == 1) {
				memcpy(row + x * 3, s, 3);
			} else {
				/* naive RGB -> CMYK ink, stored inverted (255 - ink) */
				int k = 255 - (s[0] > s[1] ? (s[0] > s[2] ? s[0] : s[2])
				                           : (s[1] > s[2] ? s[1] : s[2]));
				int cc = 0, mm = 0, yy = 0;
				if (k < 255) {
					cc = (255 - s[0] - k) * 255 / (255 - k);
					mm = (255 - s[1] - k) * 255 / (255 - k);
					yy = (255 - s[2] - k) * 255 / (255 - k);
				}
				row[x * 4 + 0] = (unsigned char)(255 - cc);
				row[x * 4 + 1] = (unsigned char)(255 - mm);
				row[x * 4 + 2] = (unsigned char)(255 - yy);
				row[x * 4 + 3] = (unsigned char)(255 - k);
			}
		}
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	mem_add(out, buf, len);
	free(buf);
}

static void write_jpeg(const char *name, struct img *im, int color, int progressive, int arith)
{
	struct mem m = {0};
	write_jpeg_mem(&m, im, color, progressive, arith, 90, NULL, 0);
	save_mem(name, &m);
	free(m.p);
}

static void put16le(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/* An Exif APP1 payload with only IFD0 Orientation, little- or big-endian. */
static size_t exif_app1(unsigned char *d, int orientation, int big_endian)
{
	memset(d, 0, 6 + 38);
	memcpy(d, "Exif\0\0", 6);
	unsigned char *t = d + 6;
	if (big_endian) {
		memcpy(t, "MM\0*\0\0\0\x08", 8);
		memcpy(t + 8, "\0\x01", 2);                    /* one entry */
		memcpy(t + 10, "\x01\x12\0\x03\0\0\0\x01", 8); /* 0x0112 SHORT count 1 */
		t[18] = 0;
		t[19] = (unsigned char)orientation;
		t[20] = t[21] = 0;
	} else {
		memcpy(t, "II*\0\x08\0\0\0", 8);
		put16le(t + 8, 2);                             /* two entries */
		memcpy(t + 10, "\x0f\x01\x02\0\x04\0\0\0", 8); /* Make, ASCII, count 4 */
		memcpy(t + 18, "ink\0", 4);
		memcpy(t + 22, "\x12\x01\x03\0\x01\0\0\0", 8); /* Orientation */
		put16le(t + 30, (unsigned)orientation);
		t[32] = t[33] = 0;
	}
	memset(t + 34, 0, 4); /* next IFD: none */
	return 6 + 38;
}

static void write_jpeg_exif(const char *name, int w, int h, int orientation, int big_endian)
{
	struct img im = img_quadrant(w, h);
	unsigned char app1[64];
	size_t n = exif_app1(app1, orientation, big_endian);
	struct mem m = {0};
	write_jpeg_mem(&m, &im, 1, 0, 0, 95, app1, n);
	save_mem(name, &m);
	free(m.p);
	free(im.rgba);
}

/* A real JPEG whose SOF claims w x h. */
static void jpeg_bomb(const char *name, unsigned w, unsigned h)
{
	struct img im = img_pattern(16, 16);
	struct mem m = {0};
	write_jpeg_mem(&m, &im, 1, 0, 0, 75, NULL, 0);
	for (size_t i = 2; i + 9 < m.n; i++) {
		if (m.p[i] == 0xff && m.p[i + 1] == 0xc0) {
			m.p[i + 5] = (unsigned char)(h >> 8);
			m.p[i + 6] = (unsigned char)h;
			m.p[i + 7] = (unsigned char)(w >> 8);
			m.p[i + 8] = (unsigned char)w;
			break;
		}
	}
	save_mem(name, &m);
	free(m.p);
	free(im.rgba);
}

/* A progressive JPEG whose last scan is repeated until there are n_scans: every repeat is a
 * valid scan header, so only a scan limit stops the decoder from working through them all. */
static void jpeg_many_scans(const char *name, int n_scans)
{
	struct img im = img_pattern(16, 16);
	struct mem m = {0};
	write_jpeg_mem(&m, &im, 1, 1, 0, 75, NULL, 0);
	size_t last_sos = 0;
	int scans = 0;
	for (size_t i = 2; i + 1 < m.n; i++)
		if (m.p[i] == 0xff && m.p[i + 1] == 0xda) {
			last_sos = i;
			scans++;
		}
	size_t eoi = m.n - 2; /* the file ends with FFD9 */
	struct mem out = {0};
	mem_add(&out, m.p, eoi);
	for (int k = scans; k < n_scans; k++)
		mem_add(&out, m.p + last_sos, eoi - last_sos);
	mem_add(&out, "\xff\xd9", 2);
	save_mem(name, &out);
	free(out.p);
	free(m.p);
	free(im.rgba);
}

/* ---- GIF ---- */

static int gif_write_mem(GifFileType *g, const GifByteType *d, int n)
{
	mem_add(g->UserData, d, (size_t)n);
	return n;
}

struct gif_frame {
	int left, top, w, h;
	int interlace;
	int transparent; /* index or -1 */
	int (*pixel)(int x, int y, int w, int h);
};

static int gif_px_black(int x, int y, int w, int h)
{
	(void)x;
	(void)y;
	(void)w;
	(void)h;
	return 0;
}

static int gif_px_white(int x, int y, int w, int h)
{
	(void)x;
	(void)y;
	(void)w;
	(void)h;
	return 255;
}

static int gif_px_ramp(int x, int y, int w, int h)
{
	(void)y;
	(void)h;
	return x * 255 / (w > 1 ? w - 1 : 1);
}

/* Left half index 0 (transparent in the transparency fixture), right half black (1). */
static int gif_px_half(int x, int y, int w, int h)
{
	(void)y;
	(void)h;
	return x < w / 2 ? 0 : 1;
}

static int gif_px_rows(int x, int y, int w, int h)
{
	(void)x;
	(void)w;
	(void)h;
	return (y % 2) ? 255 : 0;
}

/* A gray ramp palette, or (two_color) a two-entry all-black one where only transparency can
 * make index 0 white. */
static void write_gif(const char *name, int sw, int sh, const struct gif_frame *f, int nf,
                      int two_color)
{
	struct mem m = {0};
	int err;
	GifFileType *g = EGifOpen(&m, gif_write_mem, &err);
	ColorMapObject *cm;
	if (two_color) {
		GifColorType c[2] = {{0, 0, 0}, {0, 0, 0}};
		cm = GifMakeMapObject(2, c);
	} else {
		GifColorType c[256];
		for (int i = 0; i < 256; i++)
			c[i].Red = c[i].Green = c[i].Blue = (GifByteType)i;
		cm = GifMakeMapObject(256, c);
	}
	EGifSetGifVersion(g, true);
	EGifPutScreenDesc(g, sw, sh, two_color ? 1 : 8, 0, cm);
	for (int i = 0; i < nf; i++) {
		GraphicsControlBlock gcb = {DISPOSE_BACKGROUND, false, 10, f[i].transparent};
		GifByteType ext[4];
		EGifGCBToExtension(&gcb, ext);
		EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, ext);
		EGifPutImageDesc(g, f[i].left, f[i].top, f[i].w, f[i].h, f[i].interlace, NULL);
		GifPixelType *line = malloc((size_t)f[i].w);
		static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
		int passes = f[i].interlace ? 4 : 1;
		for (int p = 0; p < passes; p++)
			for (int y = f[i].interlace ? start[p] : 0; y < f[i].h;
			     y += f[i].interlace ? step[p] : 1) {
				for (int x = 0; x < f[i].w; x++)
					line[x] = (GifPixelType)f[i].pixel(x, y, f[i].w, f[i].h);
				EGifPutLine(g, line, f[i].w);
			}
		free(line);
	}
	EGifCloseFile(g, &err);
	GifFreeMapObject(cm);
	save_mem(name, &m);
	free(m.p);
}

/* ---- WebP ---- */

static void write_webp(const char *name, struct img *im, int lossless, int alpha)
{
	uint8_t *out = NULL;
	size_t n;
	if (alpha)
		n = lossless ? WebPEncodeLosslessRGBA(im->rgba, im->w, im->h, im->w * 4, &out)
		             : WebPEncodeRGBA(im->rgba, im->w, im->h, im->w * 4, 90, &out);
	else {
		unsigned char *rgb = malloc((size_t)im->w * im->h * 3);
		for (size_t i = 0; i < (size_t)im->w * im->h; i++)
			memcpy(rgb + i * 3, im->rgba + i * 4, 3);
		n = lossless ? WebPEncodeLosslessRGB(rgb, im->w, im->h, im->w * 3, &out)
		             : WebPEncodeRGB(rgb, im->w, im->h, im->w * 3, 90, &out);
		free(rgb);
	}
	if (!n)
		abort();
	save(name, out, n);
	WebPFree(out);
}

/* Two frames: the first black with a white border, the second all white. */
static void write_webp_anim(const char *name, int w, int h)
{
	WebPAnimEncoderOptions ao;
	WebPAnimEncoderOptionsInit(&ao);
	WebPAnimEncoder *enc = WebPAnimEncoderNew(w, h, &ao);
	WebPConfig cfg;
	WebPConfigInit(&cfg);
	cfg.lossless = 1;
	for (int i = 0; i < 2; i++) {
		WebPPicture pic;
		WebPPictureInit(&pic);
		pic.use_argb = 1;
		pic.width = w;
		pic.height = h;
		WebPPictureAlloc(&pic);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
				uint32_t v = (i == 0 && !border) ? 0 : 255;
				pic.argb[y * pic.argb_stride + x] =
				    0xff000000u | v << 16 | v << 8 | v;
			}
		WebPAnimEncoderAdd(enc, &pic, i * 100, &cfg);
		WebPPictureFree(&pic);
	}
	WebPAnimEncoderAdd(enc, NULL, 200, NULL);
	WebPData d;
	WebPDataInit(&d);
	WebPAnimEncoderAssemble(enc, &d);
	save(name, d.bytes, d.size);
	WebPDataClear(&d);
	WebPAnimEncoderDelete(enc);
}

/* A lossy WebP whose VP8 frame header claims 16383 x 16383. */
static void webp_bomb(const char *name)
{
	struct img im = img_pattern(16, 16);
	unsigned char *rgb = malloc(16 * 16 * 3);
	for (int i = 0; i < 256; i++)
		memcpy(rgb + i * 3, im.rgba + i * 4, 3);
	uint8_t *out = NULL;
	size_t n = WebPEncodeRGB(rgb, 16, 16, 48, 75, &out);
	for (size_t i = 12; i + 10 < n; i++) {
		if (out[i] == 0x9d && out[i + 1] == 0x01 && out[i + 2] == 0x2a) {
			out[i + 3] = 0xff;
			out[i + 4] = 0x3f;
			out[i + 5] = 0xff;
			out[i + 6] = 0x3f;
			break;
		}
	}
	save(name, out, n);
	WebPFree(out);
	free(rgb);
	free(im.rgba);
}

/* ---- helpers for damaged files ---- */

static void truncated_copy(const char *from, const char *to)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", outdir, from);
	FILE *f = fopen(path, "rb");
	if (!f)
		abort();
	unsigned char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	save(to, buf, n / 2);
}

static void fixtures(void)
{
	struct img pat = img_pattern(64, 48);
	struct img alpha = img_alpha(48, 16);
	struct img one = img_pattern(1, 1);
	struct img big = img_pattern(800, 600);

	/* PNG: every colour type and bit depth. */
	static const int gray_depths[] = {1, 2, 4, 8, 16};
	char name[64];
	for (size_t i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "png_gray%d.png", gray_depths[i]);
		write_png(name, &pat, PNG_COLOR_TYPE_GRAY, gray_depths[i], 0, 0);
	}
	for (int d = 1; d <= 8; d *= 2) {
		snprintf(name, sizeof(name), "png_pal%d.png", d);
		write_png(name, &pat, PNG_COLOR_TYPE_PALETTE, d, 0, 0);
	}
	write_png("png_rgb8.png", &pat, PNG_COLOR_TYPE_RGB, 8, 0, 0);
	write_png("png_rgb16.png", &pat, PNG_COLOR_TYPE_RGB, 16, 0, 0);
	write_png("png_interlaced_rgb8.png", &pat, PNG_COLOR_TYPE_RGB, 8, 1, 0);
	write_png("png_ga8.png", &alpha, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0);
	write_png("png_ga16.png", &alpha, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, 0);
	write_png("png_rgba8.png", &alpha, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0);
	write_png("png_rgba16.png", &alpha, PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, 0);
	write_png("png_interlaced_rgba8.png", &alpha, PNG_COLOR_TYPE_RGB_ALPHA, 8, 1, 0);
	write_png("png_interlaced_ga16.png", &alpha, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 1, 0);
	/* tRNS: black (index 0 / value 0) is transparent, so the alpha image's opaque-black
	 * third turns white too; the half-alpha third was drawn black as well. */
	write_png("png_pal8_trns.png", &alpha, PNG_COLOR_TYPE_PALETTE, 8, 0, 1);
	write_png("png_gray8_trns.png", &alpha, PNG_COLOR_TYPE_GRAY, 8, 0, 1);
	write_png("png_rgb8_trns.png", &alpha, PNG_COLOR_TYPE_RGB, 8, 0, 1);
	write_png("png_gray16_trns.png", &alpha, PNG_COLOR_TYPE_GRAY, 16, 0, 1);
	write_png("png_rgb16_trns.png", &alpha, PNG_COLOR_TYPE_RGB, 16, 1, 1);
	write_png("png_gray2_trns.png", &alpha, PNG_COLOR_TYPE_GRAY, 2, 0, 1);
	write_png("png_1x1.png", &one, PNG_COLOR_TYPE_RGB, 8, 0, 0);
	/* For the tone option: a left-to-right ramp over 100..180 (low contrast on purpose: left
	 * alone) and over 40..230 (stretched to full range). */
	struct img low = img_ramp(64, 16, 100, 180), mid = img_ramp(64, 16, 40, 230);
	write_png("png_ramp_100_180.png", &low, PNG_COLOR_TYPE_GRAY, 8, 0, 0);
	write_png("png_ramp_40_230.png", &mid, PNG_COLOR_TYPE_GRAY, 8, 0, 0);
	free(low.rgba);
	free(mid.rgba);
	write_png("png_big.png", &big, PNG_COLOR_TYPE_RGB, 8, 0, 0);
	png_header_only("png_bomb_30000.png", 30000, 30000);
	png_flat("png_flat_40mp.png", 8000, 5000);
	png_header_only("png_zero.png", 0, 48);
	truncated_copy("png_big.png", "png_truncated.png");

	/* JPEG */
	struct img quad = img_quadrant(80, 40);
	write_jpeg("jpeg_gray.jpg", &pat, 0, 0, 0);
	write_jpeg("jpeg_ycc.jpg", &pat, 1, 0, 0);
	write_jpeg("jpeg_progressive.jpg", &pat, 1, 1, 0);
	write_jpeg("jpeg_arith.jpg", &pat, 1, 0, 1);
	write_jpeg("jpeg_cmyk_adobe.jpg", &quad, 2, 0, 0);
	write_jpeg("jpeg_ycck_adobe.jpg", &quad, 3, 0, 0);
	write_jpeg("jpeg_1x1.jpg", &one, 1, 0, 0);
	write_jpeg("jpeg_big.jpg", &big, 1, 0, 0);
	write_jpeg("jpeg_quadrant.jpg", &quad, 1, 0, 0);
	write_jpeg_exif("jpeg_exif2.jpg", 80, 40, 2, 0);
	write_jpeg_exif("jpeg_exif3.jpg", 80, 40, 3, 0);
	write_jpeg_exif("jpeg_exif4.jpg", 80, 40, 4, 0);
	write_jpeg_exif("jpeg_exif5.jpg", 80, 40, 5, 0);
	write_jpeg_exif("jpeg_exif7.jpg", 80, 40, 7, 0);
	write_jpeg_exif("jpeg_exif6.jpg", 80, 40, 6, 0);
	write_jpeg_exif("jpeg_exif6_be.jpg", 80, 40, 6, 1);
	write_jpeg_exif("jpeg_exif8.jpg", 80, 40, 8, 0);
	jpeg_bomb("jpeg_bomb_65000.jpg", 65000, 65000);
	jpeg_bomb("jpeg_zero.jpg", 0, 16);
	jpeg_many_scans("jpeg_600_scans.jpg", 600);
	jpeg_many_scans("jpeg_400_scans.jpg", 400);
	truncated_copy("jpeg_big.jpg", "jpeg_truncated.jpg");
	truncated_copy("jpeg_progressive.jpg", "jpeg_progressive_truncated.jpg");

	/* GIF */
	struct gif_frame ramp = {0, 0, 64, 48, 0, -1, gif_px_ramp};
	write_gif("gif_static.gif", 64, 48, &ramp, 1, 0);
	struct gif_frame il = {0, 0, 64, 48, 1, -1, gif_px_rows};
	write_gif("gif_interlaced.gif", 64, 48, &il, 1, 0);
	struct gif_frame anim[2] = {{0, 0, 40, 40, 0, -1, gif_px_black},
	                            {0, 0, 40, 40, 0, -1, gif_px_white}};
	write_gif("gif_animated.gif", 40, 40, anim, 2, 0);
	struct gif_frame tr = {0, 0, 40, 20, 0, 0, gif_px_half};
	write_gif("gif_transparent.gif", 40, 20, &tr, 1, 1);
	/* A 20x20 black frame at (30, 10) on a 40x40 screen: clipped to 10x20 at the right. */
	struct gif_frame off = {30, 10, 20, 20, 0, -1, gif_px_black};
	write_gif("gif_offset.gif", 40, 40, &off, 1, 0);
	struct gif_frame onef = {0, 0, 1, 1, 0, -1, gif_px_black};
	write_gif("gif_1x1.gif", 1, 1, &onef, 1, 0);
	write_gif("gif_bomb_screen.gif", 65535, 65535, &ramp, 1, 0);
	/* A real 65535x65535 frame would be huge to write: patch a small one's descriptor. */
	{
		struct mem m = {0};
		char path[1024];
		snprintf(path, sizeof(path), "%s/gif_static.gif", outdir);
		FILE *f = fopen(path, "rb");
		unsigned char buf[65536];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* Screen 0x0 and frame 65535x65535: the frame size decides. */
		buf[6] = buf[7] = buf[8] = buf[9] = 0;
		for (size_t i = 13 + 768; i + 9 < n; i++)
			if (buf[i] == 0x2c) {
				buf[i + 5] = buf[i + 6] = buf[i + 7] = buf[i + 8] = 0xff;
				break;
			}
		mem_add(&m, buf, n);
		save_mem("gif_bomb_frame.gif", &m);
		free(m.p);
	}
	truncated_copy("gif_static.gif", "gif_truncated.gif");

	/* WebP */
	write_webp("webp_lossy.webp", &pat, 0, 0);
	write_webp("webp_lossless.webp", &pat, 1, 0);
	write_webp("webp_alpha_lossy.webp", &alpha, 0, 1);
	write_webp("webp_alpha_lossless.webp", &alpha, 1, 1);
	write_webp("webp_big.webp", &big, 0, 0);
	write_webp("webp_1x1.webp", &one, 1, 0);
	write_webp_anim("webp_animated.webp", 40, 40);
	webp_bomb("webp_bomb_16383.webp");
	truncated_copy("webp_big.webp", "webp_truncated.webp");

	/* Not images we take */
	static const char svg[] =
	    "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\n";
	save("other.svg", svg, sizeof(svg) - 1);
	static const char html[] =
	    "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>"
	    "<body><h1>Forbidden</h1></body></html>\n";
	save("other_html.png", html, sizeof(html) - 1);
	unsigned char bmp[58] = {'B', 'M', 58, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,  40,
	                         0,   0,   0,  1, 0, 0, 0, 1, 0, 0, 0,  1, 0, 24, 0};
	save("other.bmp", bmp, sizeof(bmp));
	save("other.tif", "II*\0\x08\0\0\0\0\0\0\0", 12);
	save("other.avif",
	     "\0\0\0\x1c"
	     "ftypavif\0\0\0\0avifmif1miaf",
	     28);
	save("other.heic",
	     "\0\0\0\x18"
	     "ftypheic\0\0\0\0mif1heic",
	     24);
	save("empty.jpg", "", 0);
	save("junk.bin", "this is not an image at all, just text", 38);

	free(pat.rgba);
	free(alpha.rgba);
	free(one.rgba);
	free(big.rgba);
	free(quad.rgba);
}

/* ---- bench inputs ---- */

/* Photo-like: smooth gradients, soft blobs and sensor noise, in colour. */
static struct img img_photo(int w, int h, int seed)
{
	rng = (uint32_t)seed * 7919u + 1;
	struct img im = img_new(w, h);
	int bx[6], by[6], br[6], bc[6][3];
	for (int i = 0; i < 6; i++) {
		bx[i] = (int)(rnd() % (unsigned)w);
		by[i] = (int)(rnd() % (unsigned)h);
		br[i] = (int)(rnd() % (unsigned)(w / 3)) + w / 10;
		for (int c = 0; c < 3; c++)
			bc[i][c] = (int)(rnd() % 256);
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int v[3] = {x * 200 / w + 20, y * 180 / h + 30,
			            (x + y) * 150 / (w + h) + 50};
			for (int i = 0; i < 6; i++) {
				int dx = x - bx[i], dy = y - by[i];
				if (dx * dx + dy * dy < br[i] * br[i])
					for (int c = 0; c < 3; c++)
						v[c] = (v[c] + bc[i][c]) / 2;
			}
			int noise = (int)(rnd() % 25) - 12;
			px(&im, x, y,
			   v[0] + noise < 0     ? 0
			   : v[0] + noise > 255 ? 255
			                        : v[0] + noise,
			   v[1] + noise < 0     ? 0
			   : v[1] + noise > 255 ? 255
			                        : v[1] + noise,
			   v[2] + noise < 0     ? 0
			   : v[2] + noise > 255 ? 255
			                        : v[2] + noise,
			   255);
		}
	return im;
}

/* Screenshot-like: flat panels and rows of "text" strokes. */
static struct img img_screenshot(int w, int h, int seed)
{
	rng = (uint32_t)seed * 104729u + 7;
	struct img im = img_new(w, h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int panel = x < w / 5;
			int v = panel ? 235 : 255;
			int line = (y / 24) % 3 != 2 && y % 24 >= 6 && y % 24 < 18;
			if (line && !panel && x > w / 5 + 20 && x < w - 40) {
				int word = (x / 9 + y / 24 * 7 + seed) % 11;
				if (word < 8 && (rnd() % 3) != 0)
					v = 30;
			}
			if (y < 60)
				px(&im, x, y, 40, 90, 160, 255);
			else
				px(&im, x, y, v, v, v, 255);
		}
	return im;
}

static void bench(void)
{
	char name[64];
	for (int i = 0; i < 4; i++) {
		struct img im = img_photo(4000, 3000, i);
		struct mem m = {0};
		write_jpeg_mem(&m, &im, 1, 0, 0, 90, NULL, 0);
		snprintf(name, sizeof(name), "photo%d_12mp.jpg", i);
		save_mem(name, &m);
		free(m.p);
		free(im.rgba);
	}
	for (int i = 0; i < 2; i++) {
		struct img im = img_photo(1600, 1200, i + 10);
		struct mem m = {0};
		write_jpeg_mem(&m, &im, 1, 0, 0, 85, NULL, 0);
		snprintf(name, sizeof(name), "photo%d_2mp.jpg", i);
		save_mem(name, &m);
		free(m.p);
		free(im.rgba);
	}
	for (int i = 0; i < 4; i++) {
		struct img im = img_screenshot(i % 2 ? 1920 : 2560, i % 2 ? 1080 : 1600, i);
		snprintf(name, sizeof(name), "screen%d.png", i);
		write_png(name, &im, PNG_COLOR_TYPE_RGB, 8, 0, 0);
		free(im.rgba);
	}
	struct img im = img_photo(2000, 1500, 99);
	write_png("photo_rgb.png", &im, PNG_COLOR_TYPE_RGB, 8, 0, 0);
	free(im.rgba);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
		outdir = argv[2];
		bench();
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR | --bench OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	fixtures();
	return 0;
}
