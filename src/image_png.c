/* Stage `image`, PNG decoder: PNG bytes in, 8-bit gray raster out, every colour type and bit
 * depth reduced by libpng's own transforms (alpha composited on white inside libpng, so even an
 * interlaced image needs only the one-byte-per-pixel raster). longjmp stays in here; never
 * prints; checks the pixel count from IHDR before allocating anything for the image. */
#include "image_internal.h"

#include <png.h>

/* Ancillary chunks we never use: libpng skips them instead of decompressing zTXt/iCCP. */
static const png_byte ignored_chunks[] = "iCCP\0iTXt\0tEXt\0zTXt\0eXIf\0sPLT\0pCAL\0sCAL\0"
                                         "hIST\0tIME\0pHYs\0oFFs\0sBIT\0cHRM\0gAMA\0sRGB\0bKGD\0";

struct png_ctx {
	png_structp png;
	png_infop info;
	const unsigned char *data;
	size_t len, pos;
	char msg[200];
	png_bytep *rows;
	const struct image_plan *plan;
	int timeout;
};

static void on_png_error(png_structp png, png_const_charp msg)
{
	struct png_ctx *x = png_get_error_ptr(png);
	snprintf(x->msg, sizeof(x->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void on_png_read(png_structp png, png_bytep out, size_t n)
{
	struct png_ctx *x = png_get_io_ptr(png);
	if (n > x->len - x->pos)
		png_error(png, "truncated data");
	memcpy(out, x->data + x->pos, n);
	x->pos += n;
}

/* Called by libpng after each row (of each interlace pass). */
static void on_png_row(png_structp png, png_uint_32 row, int pass)
{
	(void)row;
	(void)pass;
	struct png_ctx *x = png_get_io_ptr(png);
	if (image_over_time(x->plan)) {
		x->timeout = 1;
		png_error(png, "over the time limit");
	}
}

static int decode_run(struct png_ctx *x, const struct image_plan *p, struct image_decoded *d,
                      struct err *e)
{
	if (setjmp(png_jmpbuf(x->png))) {
		if (x->timeout)
			err_set(e, IMAGE_ERR_TOO_LARGE, "decode: PNG: over the time limit of %d ms",
			        p->timeout_ms);
		else
			err_set(e, IMAGE_ERR_CORRUPT, "decode: PNG: %s", x->msg);
		return -1;
	}
	png_set_read_fn(x->png, x, on_png_read);
	png_set_read_status_fn(x->png, on_png_row);
	/* libpng refuses wider or taller images while reading IHDR, before we see them. */
	png_set_user_limits(x->png, 65500, 65500);
	png_set_chunk_malloc_max(x->png, 8u << 20);
	png_set_chunk_cache_max(x->png, 500);
	png_set_keep_unknown_chunks(x->png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks,
	                            (int)(sizeof(ignored_chunks) / 5));
	/* Checksums guard against transmission errors, not attacks (the decoder is bounds-checked
	 * either way), and cost ~7% of a decode (libspng's own example skips them too). A damaged
	 * file still fails on its structure or its length. */
	png_set_crc_action(x->png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
#ifdef PNG_IGNORE_ADLER32
	png_set_option(x->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
	png_read_info(x->png, x->info);

	png_uint_32 w, h;
	int depth, ctype, interlace;
	png_get_IHDR(x->png, x->info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
	if (image_check_size(p, "PNG", (long)w, (long)h, e) != 0)
		return -1;
	d->w_in = (int)w;
	d->h_in = (int)h;
	d->orientation = 1;

	int alpha = (ctype & PNG_COLOR_MASK_ALPHA) != 0;
	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(x->png);
	if (png_get_valid(x->png, x->info, PNG_INFO_tRNS)) {
		png_set_tRNS_to_alpha(x->png);
		alpha = 1;
	}
	if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(x->png);
	if (depth == 16)
		png_set_scale_16(x->png);
	if (ctype & PNG_COLOR_MASK_COLOR || ctype == PNG_COLOR_TYPE_PALETTE)
		/* BT.601 weights (1/100000), the same luma libjpeg uses for JPEG input. */
		png_set_rgb_to_gray_fixed(x->png, PNG_ERROR_ACTION_NONE, 29900, 58700);
	if (alpha) {
		/* Kindle has no transparency and Kobo fills it with its own colour: use white. The
		 * background is given in the output format (8-bit gray). */
		png_color_16 white = {0, 255, 255, 255, 255};
		png_set_background_fixed(x->png, &white, PNG_BACKGROUND_GAMMA_SCREEN, 0, PNG_FP_1);
	}
	png_set_interlace_handling(x->png);
	png_read_update_info(x->png, x->info);
	if (png_get_channels(x->png, x->info) != 1 || png_get_bit_depth(x->png, x->info) != 8 ||
	    png_get_rowbytes(x->png, x->info) != (size_t)w) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: PNG: unexpected transformed layout");
		return -1;
	}
	image_gray_alloc(&d->g, (int)w, (int)h);
	x->rows = xmalloc((size_t)h * sizeof(*x->rows));
	for (png_uint_32 y = 0; y < h; y++)
		x->rows[y] = d->g.px + (size_t)y * (size_t)w;
	png_read_image(x->png, x->rows);
	/* No png_read_end: what follows the image data is never needed. */
	return 0;
}

int image_decode_png(const unsigned char *data, size_t len, const struct image_plan *p,
                     struct image_decoded *d, struct err *e)
{
	struct png_ctx *x = xcalloc(1, sizeof(*x));
	x->data = data;
	x->len = len;
	x->plan = p;
	x->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, x, on_png_error, on_png_warning);
	if (!x->png)
		die_oom();
	x->info = png_create_info_struct(x->png);
	if (!x->info)
		die_oom();
	int rc = decode_run(x, p, d, e);
	png_destroy_read_struct(&x->png, &x->info, NULL);
	free(x->rows);
	free(x);
	if (rc != 0) {
		free(d->g.px);
		d->g.px = NULL;
	}
	return rc;
}
