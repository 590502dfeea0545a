/* Stage `image`: image bytes in (JPEG, PNG, GIF, WebP; detected from the bytes), a baseline
 * one-channel JPEG fitted inside the device box out. All decoder longjmp/error handling stays in
 * here. No I/O; safe to call from several threads at once. */
#ifndef INKDIGEST_IMAGE_H
#define INKDIGEST_IMAGE_H

#include "util.h"

enum image_error {
	IMAGE_ERR_UNSUPPORTED = 1,  /* SVG, BMP, TIFF, AVIF, HEIC, HTML, unknown */
	IMAGE_ERR_CORRUPT,          /* truncated or invalid */
	IMAGE_ERR_TOO_LARGE,        /* bytes or pixels over the limit (checked from the header) */
	IMAGE_ERR_TOO_SMALL         /* a spacer or tracker: a side under min_side after decode */
};

enum image_format { IMAGE_FORMAT_UNKNOWN = 0, IMAGE_FORMAT_JPEG, IMAGE_FORMAT_PNG,
		    IMAGE_FORMAT_GIF, IMAGE_FORMAT_WEBP, IMAGE_FORMAT_OTHER };

/* A zero field means its default; image_convert accepts o == NULL for all defaults. */
struct image_opts {
	int max_width, max_height;  /* the box; never upscaled; default 1236x1648 (Paperwhite 5) */
	int quality;                /* JPEG quality, default 75 */
	size_t max_bytes;           /* default 15 MB */
	uint64_t max_pixels;        /* default 40,000,000 */
	int min_side;               /* default 16 (1 keeps everything) */
	int tone;                   /* 1: e-ink tone (autocontrast unless low-contrast, gamma 1.8);
				     * default 0, off */
	int timeout_ms;             /* decoding time limit (TOO_LARGE when hit), default 10000;
				     * JPEG, PNG and GIF check it per row, WebP can't be stopped */
};

struct image_result {
	struct buf jpeg;            /* the output file's bytes */
	enum image_format format_in;
	int width_in, height_in;
	int width_out, height_out;
};

enum image_format image_detect(const unsigned char *data, size_t len);
const char *image_format_name(enum image_format f);
/* Returns 0 and fills r (zeroed by the caller), or -1 with e set (e->code an image_error). */
int image_convert(const unsigned char *data, size_t len, const struct image_opts *o,
		  struct image_result *r, struct err *e);
void image_result_release(struct image_result *r);

#endif
