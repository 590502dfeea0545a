/* Stage `image`: bytes of one image in, a baseline one-channel JPEG fitted inside the box out.
 * Detects the format from magic bytes, enforces the byte/pixel limits, hands decoding to
 * image_<format>.c, then resizes (box + Lanczos-3), orients, optionally tones and encodes.
 * No I/O, no globals, never prints: safe to call from several threads at once. */
#include "image_internal.h"

#include <ctype.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <setjmp.h>

#include <jerror.h>
#include <jpeglib.h>

#define DEFAULT_BOX_W 1236
#define DEFAULT_BOX_H 1648
#define DEFAULT_QUALITY 75
#define DEFAULT_MAX_BYTES ((size_t)15 * 1024 * 1024)
#define DEFAULT_MAX_PIXELS 40000000ull
#define DEFAULT_MIN_SIDE 16
#define DEFAULT_TIMEOUT_MS 10000
/* Whatever the configured limit, no side beyond this is decoded: keeps every size product far
 * from overflow and every allocation bounded. */
#define ABS_MAX_SIDE 65500L
#define ABS_MAX_PIXELS 400000000ull

/* ---- format detection ---- */

static int has_prefix(const unsigned char *d, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(d, magic, n) == 0;
}

/* Text formats (SVG, HTML) after an optional BOM and white space: lower-case match on the
 * first bytes, so a server's error page served as image/png is named for what it is. */
static const char *detect_text(const unsigned char *d, size_t len)
{
	size_t i = 0;
	if (len >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf)
		i = 3;
	while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	if (i >= len || d[i] != '<')
		return NULL;
	char head[1024];
	size_t n = 0;
	for (; i < len && n + 1 < sizeof(head); i++)
		head[n++] = (char)tolower(d[i]);
	head[n] = '\0';
	if (strncmp(head, "<svg", 4) == 0)
		return "SVG";
	if (strncmp(head, "<!doctype html", 14) == 0 || strncmp(head, "<html", 5) == 0 ||
	    strncmp(head, "<head", 5) == 0 || strncmp(head, "<body", 5) == 0)
		return "HTML";
	/* An XML prolog or comment first: look a little further for the root element. */
	if (strstr(head, "<svg"))
		return "SVG";
	if (strstr(head, "<html"))
		return "HTML";
	if (strncmp(head, "<?xml", 5) == 0)
		return "XML";
	return "HTML";
}

/* The name of an unsupported format we recognise, or NULL. */
static const char *detect_other(const unsigned char *d, size_t len)
{
	if (has_prefix(d, len, "BM", 2))
		return "BMP";
	if (has_prefix(d, len, "II*\0", 4) || has_prefix(d, len, "MM\0*", 4))
		return "TIFF";
	if (len >= 12 && memcmp(d + 4, "ftyp", 4) == 0) {
		/* ISO BMFF: the major brand, then the compatible brands of the ftyp box. */
		size_t box =
		    ((size_t)d[0] << 24) | ((size_t)d[1] << 16) | ((size_t)d[2] << 8) | d[3];
		if (box > len || box < 16)
			box = len < 16 ? 12 : 16;
		for (size_t off = 8; off + 4 <= box; off += 4) {
			if (off == 12)
				continue; /* minor version */
			const unsigned char *b = d + off;
			if (!memcmp(b, "avif", 4) || !memcmp(b, "avis", 4))
				return "AVIF";
		}
		const unsigned char *b = d + 8;
		if (!memcmp(b, "heic", 4) || !memcmp(b, "heix", 4) || !memcmp(b, "hevc", 4) ||
		    !memcmp(b, "heim", 4) || !memcmp(b, "heis", 4) || !memcmp(b, "mif1", 4) ||
		    !memcmp(b, "msf1", 4))
			return "HEIC";
		return "MP4";
	}
	if (has_prefix(d, len, "\0\0\1\0", 4))
		return "ICO";
	if (has_prefix(d, len, "\xff\x0a", 2) || has_prefix(d, len, "\0\0\0\x0cJXL ", 8))
		return "JPEG XL";
	if (has_prefix(d, len, "%PDF", 4))
		return "PDF";
	if (has_prefix(d, len, "\x1f\x8b", 2))
		return "gzip";
	return detect_text(d, len);
}

enum image_format image_detect(const unsigned char *data, size_t len)
{
	if (!data)
		return IMAGE_FORMAT_UNKNOWN;
	if (has_prefix(data, len, "\xff\xd8\xff", 3))
		return IMAGE_FORMAT_JPEG;
	if (has_prefix(data, len, "\x89PNG\r\n\x1a\n", 8))
		return IMAGE_FORMAT_PNG;
	if (has_prefix(data, len, "GIF87a", 6) || has_prefix(data, len, "GIF89a", 6))
		return IMAGE_FORMAT_GIF;
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return IMAGE_FORMAT_WEBP;
	if (detect_other(data, len))
		return IMAGE_FORMAT_OTHER;
	return IMAGE_FORMAT_UNKNOWN;
}

const char *image_format_name(enum image_format f)
{
	switch (f) {
	case IMAGE_FORMAT_JPEG:
		return "JPEG";
	case IMAGE_FORMAT_PNG:
		return "PNG";
	case IMAGE_FORMAT_GIF:
		return "GIF";
	case IMAGE_FORMAT_WEBP:
		return "WebP";
	case IMAGE_FORMAT_OTHER:
		return "other";
	case IMAGE_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

/* ---- shared checks ---- */

int image_check_size(const struct image_plan *p, const char *fmt, long w, long h, struct err *e)
{
	if (w <= 0 || h <= 0) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: %s: invalid size %ldx%ld", fmt, w, h);
		return -1;
	}
	uint64_t px = (uint64_t)w * (uint64_t)h;
	if (w > ABS_MAX_SIDE || h > ABS_MAX_SIDE || px > p->max_pixels) {
		err_set(e, IMAGE_ERR_TOO_LARGE,
		        "decode: %s: %ldx%ld is over the limit of %llu pixels", fmt, w, h,
		        (unsigned long long)p->max_pixels);
		return -1;
	}
	if (w < p->min_side || h < p->min_side) {
		err_set(e, IMAGE_ERR_TOO_SMALL, "decode: %s: %ldx%ld is under %d px (a spacer?)",
		        fmt, w, h, p->min_side);
		return -1;
	}
	return 0;
}

/* Fits w x h (as displayed) in the box without upscaling. */
static void fit_box(const struct image_plan *p, int w, int h, int *ow, int *oh)
{
	if (w <= p->box_w && h <= p->box_h) {
		*ow = w;
		*oh = h;
		return;
	}
	if ((uint64_t)w * (uint64_t)p->box_h >= (uint64_t)h * (uint64_t)p->box_w) {
		*ow = p->box_w;
		*oh = (int)(((uint64_t)h * (uint64_t)p->box_w + (uint64_t)w / 2) / (uint64_t)w);
	} else {
		*oh = p->box_h;
		*ow = (int)(((uint64_t)w * (uint64_t)p->box_h + (uint64_t)h / 2) / (uint64_t)h);
	}
	if (*ow < 1)
		*ow = 1;
	if (*oh < 1)
		*oh = 1;
	if (*ow > p->box_w)
		*ow = p->box_w;
	if (*oh > p->box_h)
		*oh = p->box_h;
}

static int swaps_axes(int orientation)
{
	return orientation >= 5 && orientation <= 8;
}

void image_target_size(const struct image_plan *p, int w, int h, int orientation, int *tw, int *th)
{
	if (swaps_axes(orientation))
		fit_box(p, h, w, th, tw);
	else
		fit_box(p, w, h, tw, th);
}

int image_over_time(const struct image_plan *p)
{
	return util_monotonic() > p->deadline;
}

void image_gray_alloc(struct image_gray *g, int w, int h)
{
	g->w = w;
	g->h = h;
	g->px = xmalloc((size_t)w * (size_t)h);
}

/* ---- resampling ---- */

/* Inner loops work in chunks of this many pixels: see filter_row. */
#define CHUNK 16

/* The resampling loops are written for the compiler to vectorise; on x86-64 they are built
 * twice, for the baseline (SSE2) and for AVX2 (twice as wide), and the loader picks what the
 * CPU has (GCC function multi-versioning). Elsewhere (e.g. aarch64 with NEON) once. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SIMD_CLONES
#endif

/* Integer box shrink by k on both axes (the libvips shrink step): cheap, and leaves the
 * Lanczos pass a factor under 2. Edge pixels that don't fill a whole block are dropped. */
SIMD_CLONES static void box_shrink(const struct image_gray *src, int k, struct image_gray *dst)
{
	int dw = src->w / k, dh = src->h / k, sw = dw * k;
	image_gray_alloc(dst, dw, dh);
	/* Column sums of k rows first (a vectorisable add over whole rows), then k adjacent sums
	 * per output pixel (64-bit: a tiny box can make k huge). */
	uint32_t *acc = xmalloc((size_t)sw * sizeof(*acc));
	uint64_t div = (uint64_t)k * (uint64_t)k;
	for (int y = 0; y < dh; y++) {
		const unsigned char *row = src->px + (size_t)y * (size_t)k * (size_t)src->w;
		for (int x = 0; x < sw; x++)
			acc[x] = row[x];
		for (int r = 1; r < k; r++) {
			row += src->w;
			int x = 0;
			for (; x + CHUNK <= sw; x += CHUNK)
				for (int i = 0; i < CHUNK; i++)
					acc[x + i] += row[x + i];
			for (; x < sw; x++)
				acc[x] += row[x];
		}
		unsigned char *out = dst->px + (size_t)y * (size_t)dw;
		const uint32_t *a = acc;
		for (int x = 0; x < dw; x++, a += k) {
			uint64_t s = 0;
			for (int i = 0; i < k; i++)
				s += a[i];
			out[x] = (unsigned char)((s + div / 2) / div);
		}
	}
	free(acc);
}

#define WBITS 14

/* Per output pixel: the first source index and n_taps fixed-point weights summing to 1<<WBITS. */
struct taps {
	int n_taps;
	int *first;
	int16_t *w;
};

static double lanczos3(double x)
{
	if (x < 0)
		x = -x;
	if (x < 1e-8)
		return 1.0;
	if (x >= 3.0)
		return 0.0;
	double px = M_PI * x;
	/* sin(px) from sin(px/3) (sin 3a = 3 sin a - 4 sin^3 a): one sin() per tap, not two. */
	double s3 = sin(px / 3.0);
	return 3.0 * (3.0 * s3 - 4.0 * s3 * s3 * s3) * s3 / (px * px);
}

static void taps_init(struct taps *t, int n_in, int n_out)
{
	double scale = (double)n_in / n_out;
	double fscale = scale > 1.0 ? scale : 1.0;
	double support = 3.0 * fscale;
	/* floor(c + s) - floor(c - s) <= ceil(2s): the window never needs more taps. */
	t->n_taps = (int)ceil(2.0 * support);
	if (t->n_taps > n_in)
		t->n_taps = n_in;
	t->first = xcalloc((size_t)n_out, sizeof(*t->first));
	t->w = xcalloc((size_t)n_out * (size_t)t->n_taps, sizeof(*t->w));
	double *fw = xcalloc((size_t)t->n_taps, sizeof(*fw));
	for (int i = 0; i < n_out; i++) {
		double center = (i + 0.5) * scale - 0.5;
		int first = (int)floor(center - support) + 1;
		/* At an edge the window slides inward; the taps it gains lie outside the support
		 * and weigh zero, the ones it loses are renormalised away. */
		if (first < 0)
			first = 0;
		if (first + t->n_taps > n_in)
			first = n_in - t->n_taps;
		double sum = 0;
		for (int k = 0; k < t->n_taps; k++) {
			fw[k] = lanczos3((first + k - center) / fscale);
			sum += fw[k];
		}
		int16_t *w = t->w + (size_t)i * (size_t)t->n_taps;
		int isum = 0, best = 0;
		for (int k = 0; k < t->n_taps; k++) {
			long v = lround(fw[k] / sum * (1 << WBITS));
			w[k] = (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
			isum += w[k];
			if (w[k] > w[best])
				best = k;
		}
		w[best] = (int16_t)(w[best] + ((1 << WBITS) - isum));
		t->first[i] = first;
	}
	free(fw);
}

static void taps_release(struct taps *t)
{
	free(t->first);
	free(t->w);
}

/* One output row of a pass: the weighted sum of n_taps source rows, tap by tap over the
 * whole row into acc (w sums, in L1), so each loop is a long run of independent lanes. On x86
 * two taps at a time go through SSE2's 16-bit multiply-add (pmaddwd: a*w0 + b*w1 per lane,
 * exact in 32 bits); elsewhere, and for an odd last tap, the plain loop, which compilers
 * vectorise. Both give the same sums. */
SIMD_CLONES static void filter_row(const unsigned char *restrict src, size_t stride, int w,
                                   const int16_t *restrict wt, int n_taps,
                                   int32_t *restrict acc, unsigned char *restrict out)
{
	for (int x = 0; x < w; x++)
		acc[x] = 1 << (WBITS - 1); /* rounds the final shift */
	int k = 0;
#if defined(__SSE2__)
	const __m128i zero = _mm_setzero_si128();
	for (; k + 1 < n_taps; k += 2) {
		const unsigned char *r0 = src + (size_t)k * stride, *r1 = r0 + stride;
		const __m128i wp =
		    _mm_set1_epi32((int32_t)(((uint32_t)(uint16_t)wt[k + 1] << 16) | (uint16_t)wt[k]));
		int x = 0;
		for (; x + 16 <= w; x += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(r0 + x));
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(r1 + x));
			__m128i alo = _mm_unpacklo_epi8(a, zero), ahi = _mm_unpackhi_epi8(a, zero);
			__m128i blo = _mm_unpacklo_epi8(b, zero), bhi = _mm_unpackhi_epi8(b, zero);
			__m128i p[4] = {_mm_madd_epi16(_mm_unpacklo_epi16(alo, blo), wp),
			                _mm_madd_epi16(_mm_unpackhi_epi16(alo, blo), wp),
			                _mm_madd_epi16(_mm_unpacklo_epi16(ahi, bhi), wp),
			                _mm_madd_epi16(_mm_unpackhi_epi16(ahi, bhi), wp)};
			for (int i = 0; i < 4; i++) {
				__m128i *o = (__m128i *)(void *)(acc + x + 4 * i);
				_mm_storeu_si128(o, _mm_add_epi32(_mm_loadu_si128(o), p[i]));
			}
		}
		for (; x < w; x++)
			acc[x] += r0[x] * (int32_t)wt[k] + r1[x] * (int32_t)wt[k + 1];
	}
#endif
	for (; k < n_taps; k++) {
		const unsigned char *restrict row = src + (size_t)k * stride;
		int32_t wk = wt[k];
		for (int x = 0; x < w; x++)
			acc[x] += row[x] * wk;
	}
	for (int x = 0; x < w; x++) {
		int32_t v = acc[x] >> WBITS;
		out[x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
}

/* Transposes the 8x8 block of bytes at s (row stride ss) into d (row stride ds) in eight
 * 64-bit words: three rounds of swapping 1-, 2- and 4-byte halves between rows (the classic
 * SWAR transpose), a byte at a time only where the words' byte order would get in the way. */
static inline void transpose8(const unsigned char *s, size_t ss, unsigned char *d, size_t ds)
{
	uint64_t r[8];
	for (int i = 0; i < 8; i++)
		memcpy(&r[i], s + (size_t)i * ss, 8);
	for (int i = 0; i < 8; i += 2) {
		uint64_t t = ((r[i] >> 8) ^ r[i + 1]) & 0x00FF00FF00FF00FFull;
		r[i + 1] ^= t;
		r[i] ^= t << 8;
	}
	for (int i = 0; i < 8; i += 4)
		for (int j = i; j < i + 2; j++) {
			uint64_t t = ((r[j] >> 16) ^ r[j + 2]) & 0x0000FFFF0000FFFFull;
			r[j + 2] ^= t;
			r[j] ^= t << 16;
		}
	for (int j = 0; j < 4; j++) {
		uint64_t t = ((r[j] >> 32) ^ r[j + 4]) & 0x00000000FFFFFFFFull;
		r[j + 4] ^= t;
		r[j] ^= t << 32;
	}
	for (int i = 0; i < 8; i++)
		memcpy(d + (size_t)i * ds, &r[i], 8);
}

/* Rows become columns, in cache-sized tiles of 8x8 blocks (bytes one by one at the edges). */
SIMD_CLONES static void transpose(const struct image_gray *src, struct image_gray *dst)
{
	image_gray_alloc(dst, src->h, src->w);
	const size_t sw = (size_t)src->w, sh = (size_t)src->h;
	const int tile = 64;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const int fast = 1;
#else
	const int fast = 0;
#endif
	for (int y0 = 0; y0 < src->h; y0 += tile)
		for (int x0 = 0; x0 < src->w; x0 += tile) {
			int y1 = y0 + tile < src->h ? y0 + tile : src->h;
			int x1 = x0 + tile < src->w ? x0 + tile : src->w;
			int yb = fast ? y0 + (y1 - y0) / 8 * 8 : y0;
			int xb = fast ? x0 + (x1 - x0) / 8 * 8 : x0;
			for (int y = y0; y < yb; y += 8)
				for (int x = x0; x < xb; x += 8)
					transpose8(src->px + (size_t)y * sw + (size_t)x, sw,
					           dst->px + (size_t)x * sh + (size_t)y, sh);
			/* The ragged right and bottom strips of the tile. */
			for (int y = y0; y < y1; y++)
				for (int x = y < yb ? xb : x0; x < x1; x++)
					dst->px[(size_t)x * sh + (size_t)y] =
					    src->px[(size_t)y * sw + (size_t)x];
		}
}

/* Resamples the rows axis (height) of src to n rows. */
static void filter_rows(const struct image_gray *src, int n, struct image_gray *dst)
{
	struct taps t;
	taps_init(&t, src->h, n);
	image_gray_alloc(dst, src->w, n);
	int32_t *acc = xmalloc((size_t)src->w * sizeof(*acc));
	for (int y = 0; y < n; y++)
		filter_row(src->px + (size_t)t.first[y] * (size_t)src->w, (size_t)src->w, src->w,
		           t.w + (size_t)y * (size_t)t.n_taps, t.n_taps, acc,
		           dst->px + (size_t)y * (size_t)src->w);
	free(acc);
	taps_release(&t);
}

/* Separable Lanczos-3 in fixed point: the vertical pass first (on the most rows, where it is
 * cheapest), the horizontal one as a vertical pass between two transposes so it vectorises
 * the same way instead of gathering pixel by pixel. */
static void lanczos_resize(const struct image_gray *src, int tw, int th, struct image_gray *dst)
{
	struct image_gray mid = {0}, tr = {0}, tr2 = {0};
	const struct image_gray *cur = src;
	if (th != src->h) {
		filter_rows(src, th, &mid);
		cur = &mid;
	}
	if (tw != cur->w) {
		transpose(cur, &tr);
		free(mid.px);
		filter_rows(&tr, tw, &tr2);
		free(tr.px);
		transpose(&tr2, dst);
		free(tr2.px);
	} else if (cur == &mid) {
		*dst = mid;
	} else {
		image_gray_alloc(dst, src->w, src->h);
		memcpy(dst->px, src->px, (size_t)src->w * (size_t)src->h);
	}
}

/* Replaces g by its resampling to tw x th (never larger than g). */
static void resize_to(struct image_gray *g, int tw, int th)
{
	if (g->w == tw && g->h == th)
		return;
	double rx = (double)g->w / tw, ry = (double)g->h / th;
	int k = (int)floor(rx < ry ? rx : ry);
	if (k >= 2) {
		struct image_gray s;
		box_shrink(g, k, &s);
		free(g->px);
		*g = s;
		/* Flooring may leave a side a pixel short of the target: never upscale for it. */
		if (g->w < tw)
			tw = g->w;
		if (g->h < th)
			th = g->h;
		if (g->w == tw && g->h == th)
			return;
	}
	struct image_gray out;
	lanczos_resize(g, tw, th, &out);
	free(g->px);
	*g = out;
}

/* Applies EXIF orientation o (1..8) so the raster is as it should be displayed. */
static void orient(struct image_gray *g, int o)
{
	if (o < 2 || o > 8)
		return;
	int w = g->w, h = g->h;
	int dw = swaps_axes(o) ? h : w, dh = swaps_axes(o) ? w : h;
	struct image_gray d;
	image_gray_alloc(&d, dw, dh);
	for (int y = 0; y < dh; y++) {
		unsigned char *out = d.px + (size_t)y * (size_t)dw;
		for (int x = 0; x < dw; x++) {
			int sx, sy;
			switch (o) {
			case 2:
				sx = w - 1 - x;
				sy = y;
				break;
			case 3:
				sx = w - 1 - x;
				sy = h - 1 - y;
				break;
			case 4:
				sx = x;
				sy = h - 1 - y;
				break;
			case 5:
				sx = y;
				sy = x;
				break;
			case 6:
				sx = y;
				sy = h - 1 - x;
				break;
			case 7:
				sx = w - 1 - y;
				sy = h - 1 - x;
				break;
			default:
				sx = w - 1 - y;
				sy = x;
				break; /* 8 */
			}
			out[x] = g->px[(size_t)sy * (size_t)w + (size_t)sx];
		}
	}
	free(g->px);
	*g = d;
}

/* KCC-style e-ink tone: stretch the histogram to full range unless the image is low-contrast
 * on purpose (range under 159 = 255 - 3*32, KCC's threshold), then gamma 1.8 because the
 * panel's response is linear while the file assumes sRGB. */
static void tone(struct image_gray *g)
{
	size_t n = (size_t)g->w * (size_t)g->h;
	int lo = 255, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (g->px[i] < lo)
			lo = g->px[i];
		if (g->px[i] > hi)
			hi = g->px[i];
	}
	unsigned char lut[256];
	int stretch = hi - lo >= 159 && (lo > 0 || hi < 255);
	for (int v = 0; v < 256; v++) {
		double x = v / 255.0;
		if (stretch) {
			x = (double)(v - lo) / (hi - lo);
			x = x < 0 ? 0 : x > 1 ? 1 : x;
		}
		lut[v] = (unsigned char)lround(255.0 * pow(x, 1.8));
	}
	for (size_t i = 0; i < n; i++)
		g->px[i] = lut[g->px[i]];
}

/* ---- encoding ---- */

struct enc_err {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
};

static void enc_error_exit(j_common_ptr c)
{
	struct enc_err *je = (struct enc_err *)c->err;
	(*c->err->format_message)(c, je->msg);
	longjmp(je->jb, 1);
}

static void enc_output_message(j_common_ptr c)
{
	(void)c; /* never print: warnings of the encoder carry nothing the caller needs */
}

struct enc_ctx {
	struct jpeg_compress_struct c;
	struct enc_err je;
	unsigned char *out;
	unsigned long out_len;
};

static int encode_run(struct enc_ctx *x, const struct image_gray *g, int quality, struct buf *out,
                      struct err *e)
{
	if (setjmp(x->je.jb)) {
		err_set(e, IMAGE_ERR_CORRUPT, "encode: %s", x->je.msg);
		return -1;
	}
	jpeg_create_compress(&x->c);
	jpeg_mem_dest(&x->c, &x->out, &x->out_len);
	x->c.image_width = (JDIMENSION)g->w;
	x->c.image_height = (JDIMENSION)g->h;
	x->c.input_components = 1;
	x->c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&x->c);
	jpeg_set_quality(&x->c, quality, TRUE);
	x->c.optimize_coding = TRUE;
	jpeg_start_compress(&x->c, TRUE);
	while (x->c.next_scanline < x->c.image_height) {
		JSAMPROW row = g->px + (size_t)x->c.next_scanline * (size_t)g->w;
		jpeg_write_scanlines(&x->c, &row, 1);
	}
	jpeg_finish_compress(&x->c);
	buf_add(out, x->out, x->out_len);
	return 0;
}

static int encode_gray(const struct image_gray *g, int quality, struct buf *out, struct err *e)
{
	struct enc_ctx *x = xcalloc(1, sizeof(*x));
	x->c.err = jpeg_std_error(&x->je.pub);
	x->je.pub.error_exit = enc_error_exit;
	x->je.pub.output_message = enc_output_message;
	int rc = encode_run(x, g, quality, out, e);
	jpeg_destroy_compress(&x->c);
	free(x->out);
	free(x);
	return rc;
}

/* ---- the stage ---- */

static void plan_from_opts(const struct image_opts *o, struct image_plan *p)
{
	static const struct image_opts none;
	if (!o)
		o = &none;
	p->box_w = o->max_width > 0 ? o->max_width : DEFAULT_BOX_W;
	p->box_h = o->max_height > 0 ? o->max_height : DEFAULT_BOX_H;
	p->quality = o->quality > 0 ? (o->quality > 100 ? 100 : o->quality) : DEFAULT_QUALITY;
	p->max_bytes = o->max_bytes > 0 ? o->max_bytes : DEFAULT_MAX_BYTES;
	p->max_pixels = o->max_pixels > 0 ? o->max_pixels : DEFAULT_MAX_PIXELS;
	if (p->max_pixels > ABS_MAX_PIXELS)
		p->max_pixels = ABS_MAX_PIXELS;
	p->min_side = o->min_side > 0 ? o->min_side : DEFAULT_MIN_SIDE;
	p->tone = o->tone;
	p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	p->deadline = util_monotonic() + p->timeout_ms / 1000.0;
}

int image_convert(const unsigned char *data, size_t len, const struct image_opts *o,
                  struct image_result *r, struct err *e)
{
	struct image_plan p;
	plan_from_opts(o, &p);
	if (!data || len == 0) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: empty file");
		return -1;
	}
	if (len > p.max_bytes) {
		err_set(e, IMAGE_ERR_TOO_LARGE, "decode: %zu bytes is over the limit of %zu", len,
		        p.max_bytes);
		return -1;
	}
	enum image_format f = image_detect(data, len);
	struct image_decoded d = {0};
	int rc;
	switch (f) {
	case IMAGE_FORMAT_JPEG:
		rc = image_decode_jpeg(data, len, &p, &d, e);
		break;
	case IMAGE_FORMAT_PNG:
		rc = image_decode_png(data, len, &p, &d, e);
		break;
	case IMAGE_FORMAT_GIF:
		rc = image_decode_gif(data, len, &p, &d, e);
		break;
	case IMAGE_FORMAT_WEBP:
		rc = image_decode_webp(data, len, &p, &d, e);
		break;
	case IMAGE_FORMAT_OTHER:
		err_set(e, IMAGE_ERR_UNSUPPORTED, "decode: %s is not supported",
		        detect_other(data, len));
		return -1;
	default:
		err_set(e, IMAGE_ERR_UNSUPPORTED, "decode: not an image format we know");
		return -1;
	}
	if (rc != 0) {
		free(d.g.px);
		return -1;
	}
	int tw, th;
	image_target_size(&p, d.w_in, d.h_in, d.orientation, &tw, &th);
	/* A decoder that scaled on load may already be at (or, by rounding, just under) the
	 * target; never upscale to close that gap. */
	if (tw > d.g.w)
		tw = d.g.w;
	if (th > d.g.h)
		th = d.g.h;
	resize_to(&d.g, tw, th);
	orient(&d.g, d.orientation);
	if (p.tone)
		tone(&d.g);
	buf_init(&r->jpeg);
	if (encode_gray(&d.g, p.quality, &r->jpeg, e) != 0) {
		free(d.g.px);
		buf_release(&r->jpeg);
		return -1;
	}
	r->format_in = f;
	r->width_in = swaps_axes(d.orientation) ? d.h_in : d.w_in;
	r->height_in = swaps_axes(d.orientation) ? d.w_in : d.h_in;
	r->width_out = d.g.w;
	r->height_out = d.g.h;
	free(d.g.px);
	return 0;
}

void image_result_release(struct image_result *r)
{
	if (!r)
		return;
	buf_release(&r->jpeg);
	memset(r, 0, sizeof(*r));
}
