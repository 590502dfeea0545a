/* Stage `image`, private: what src/image.c shares with its decoders (image_jpeg.c, image_png.c,
 * image_gif.c, image_webp.c): the resolved options, the 8-bit gray raster every decoder returns
 * and the size checks each decoder makes before it allocates. Never included outside
 * src/image*.c. */
#ifndef INKDIGEST_IMAGE_INTERNAL_H
#define INKDIGEST_IMAGE_INTERNAL_H

#include "image.h"

/* The options with every default filled in. */
struct image_plan {
	int box_w, box_h;
	int quality;
	size_t max_bytes;
	uint64_t max_pixels;
	int min_side;
	int tone;
	int timeout_ms;
	double deadline; /* util_monotonic() time at which decoding gives up */
};

/* One channel, 8 bits, rows packed (stride == w). px is owned (free()). */
struct image_gray {
	unsigned char *px;
	int w, h;
};

/* What a decoder hands back: the raster as stored (possibly already shrunk by the decoder's own
 * scaling), the full stored size and the EXIF orientation (1..8) still to apply. */
struct image_decoded {
	struct image_gray g;
	int w_in, h_in;
	int orientation;
};

/* Refuses a size before anything is allocated for it: zero or negative sides (CORRUPT), over the
 * pixel limit (TOO_LARGE), a side under min_side (TOO_SMALL). fmt names the format in the
 * message. The sides are the stored ones; the result does not depend on orientation. */
int image_check_size(const struct image_plan *p, const char *fmt, long w, long h, struct err *e);
/* The stored-orientation size the pipeline will output for a w x h stored image with the given
 * EXIF orientation: fitted inside the box as displayed, never upscaled, at least 1x1. */
void image_target_size(const struct image_plan *p, int w, int h, int orientation, int *tw, int *th);
/* 1 once the plan's deadline has passed: decoders check it per row and fail with TOO_LARGE. */
int image_over_time(const struct image_plan *p);
/* Allocates a w x h raster (sizes already checked). */
void image_gray_alloc(struct image_gray *g, int w, int h);

/* ITU-R BT.601 luma, as libjpeg computes it, in fixed point. */
static inline unsigned char image_luma(unsigned r, unsigned g, unsigned b)
{
	return (unsigned char)((r * 19595u + g * 38470u + b * 7471u + 32768u) >> 16);
}

/* Each decoder: 0 and d filled (d->g.px owned by the caller), or -1 with e set (CORRUPT,
 * TOO_LARGE, TOO_SMALL or UNSUPPORTED). None of them prints anything. */
int image_decode_jpeg(const unsigned char *data, size_t len, const struct image_plan *p,
                      struct image_decoded *d, struct err *e);
int image_decode_png(const unsigned char *data, size_t len, const struct image_plan *p,
                     struct image_decoded *d, struct err *e);
int image_decode_gif(const unsigned char *data, size_t len, const struct image_plan *p,
                     struct image_decoded *d, struct err *e);
int image_decode_webp(const unsigned char *data, size_t len, const struct image_plan *p,
                      struct image_decoded *d, struct err *e);

/* The EXIF orientation (1..8) from an APP1 payload ("Exif\0\0" + TIFF), 1 when absent or
 * malformed. Exposed for the unit test. */
int image_exif_orientation(const unsigned char *app1, size_t len);

#endif
