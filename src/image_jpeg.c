/* Stage `image`, JPEG decoder: JPEG bytes in, 8-bit gray raster (DCT-scaled on load the way
 * libvips picks it) plus EXIF orientation out. libjpeg's longjmp and messages stay in here;
 * never prints, never allocates for the image before its size passed the limits. */
#include "image_internal.h"

#include <setjmp.h>

#include <jerror.h>
#include <jpeglib.h>

/* A progressive file may hold any number of scans, each one a pass over the coefficients: a
 * cheap way to burn CPU. libjpeg-turbo's own tools cap it (-maxscans); so do we. */
#define MAX_SCANS 500
/* libjpeg's own allocations (progressive coefficient buffers are whole-image): beyond this
 * it fails instead of growing (jmemnobs has no backing store). */
#define MAX_LIBJPEG_MEMORY (512L * 1024 * 1024)

struct dec_err {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
	int eof;
	int timeout;
};

struct dec_ctx {
	struct jpeg_decompress_struct c;
	struct dec_err je;
	struct jpeg_progress_mgr progress;
	unsigned char *row; /* CMYK scanline */
	const struct image_plan *plan;
};

static void dec_error_exit(j_common_ptr c)
{
	struct dec_err *je = (struct dec_err *)c->err;
	(*c->err->format_message)(c, je->msg);
	longjmp(je->jb, 1);
}

/* Warnings are counted, not printed: a premature end of data makes the file CORRUPT (its
 * bottom would be flat gray); other recoverable damage is tolerated like browsers do. */
static void dec_emit_message(j_common_ptr c, int level)
{
	struct dec_err *je = (struct dec_err *)c->err;
	if (level < 0) {
		if (c->err->msg_code == JWRN_JPEG_EOF)
			je->eof = 1;
		c->err->num_warnings++;
	}
}

static void dec_output_message(j_common_ptr c)
{
	(void)c;
}

/* Called by libjpeg per row group and per scan pass. */
static void dec_progress(j_common_ptr c)
{
	struct dec_ctx *x = (struct dec_ctx *)c; /* c is the first member */
	struct dec_err *je = (struct dec_err *)c->err;
	if (x->c.input_scan_number > MAX_SCANS) {
		snprintf(je->msg, sizeof(je->msg), "more than %d scans", MAX_SCANS);
		longjmp(je->jb, 1);
	}
	if (image_over_time(x->plan)) {
		snprintf(je->msg, sizeof(je->msg), "over the time limit of %d ms",
		         x->plan->timeout_ms);
		je->timeout = 1;
		longjmp(je->jb, 1);
	}
}

static uint32_t rd16(const unsigned char *p, int le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const unsigned char *p, int le)
{
	return le ? rd16(p, 1) | rd16(p + 2, 1) << 16 : rd16(p, 0) << 16 | rd16(p + 2, 0);
}

int image_exif_orientation(const unsigned char *app1, size_t len)
{
	if (!app1 || len < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0)
		return 1;
	const unsigned char *t = app1 + 6;
	size_t n = len - 6;
	int le;
	if (memcmp(t, "II*\0", 4) == 0)
		le = 1;
	else if (memcmp(t, "MM\0*", 4) == 0)
		le = 0;
	else
		return 1;
	uint32_t ifd = rd32(t + 4, le);
	if (ifd < 8 || ifd > n - 2)
		return 1;
	uint32_t count = rd16(t + ifd, le);
	for (uint32_t i = 0; i < count; i++) {
		size_t at = (size_t)ifd + 2 + (size_t)i * 12;
		if (at + 12 > n)
			break;
		const unsigned char *ent = t + at;
		if (rd16(ent, le) != 0x0112)
			continue;
		/* SHORT, count 1: the value sits in the first two bytes of the value field. */
		if (rd16(ent + 2, le) != 3 || rd32(ent + 4, le) != 1)
			return 1;
		uint32_t v = rd16(ent + 8, le);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

static int orientation_of(j_decompress_ptr c)
{
	for (jpeg_saved_marker_ptr m = c->marker_list; m; m = m->next) {
		if (m->marker != JPEG_APP0 + 1)
			continue;
		int o = image_exif_orientation(m->data, m->data_length);
		if (o != 1)
			return o;
	}
	return 1;
}

/* libvips' rule: a factor 2 always stays for the final resample. */
static unsigned pick_denom(double shrink)
{
	if (shrink >= 16)
		return 8;
	if (shrink >= 8)
		return 4;
	if (shrink >= 4)
		return 2;
	return 1;
}

/* Inverted (Adobe) CMYK stores 255 - ink; without the marker the values are ink. The
 * naive CMYK->RGB product is what browsers and libvips (without a profile) show. */
static void cmyk_row_to_gray(const unsigned char *in, unsigned char *out, int w, int inverted)
{
	for (int x = 0; x < w; x++, in += 4) {
		unsigned c = in[0], m = in[1], y = in[2], k = in[3];
		if (!inverted) {
			c = 255 - c;
			m = 255 - m;
			y = 255 - y;
			k = 255 - k;
		}
		unsigned l = c * 19595u + m * 38470u + y * 7471u; /* luma << 16 of (c, m, y) */
		out[x] = (unsigned char)(((uint64_t)l * k + (255u << 15)) / (255u << 16));
	}
}

static int decode_run(struct dec_ctx *x, const unsigned char *data, size_t len,
                      const struct image_plan *p, struct image_decoded *d, struct err *e)
{
	if (setjmp(x->je.jb)) {
		err_set(e, x->je.timeout ? IMAGE_ERR_TOO_LARGE : IMAGE_ERR_CORRUPT,
		        "decode: JPEG: %s", x->je.msg);
		return -1;
	}
	jpeg_create_decompress(&x->c);
	x->c.mem->max_memory_to_use = MAX_LIBJPEG_MEMORY;
	x->progress.progress_monitor = dec_progress;
	x->c.progress = &x->progress;
	jpeg_mem_src(&x->c, data, (unsigned long)len);
	jpeg_save_markers(&x->c, JPEG_APP0 + 1, 0xffff);
	if (jpeg_read_header(&x->c, TRUE) != JPEG_HEADER_OK) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: JPEG: no image");
		return -1;
	}
	if (image_check_size(p, "JPEG", (long)x->c.image_width, (long)x->c.image_height, e) != 0)
		return -1;
	d->w_in = (int)x->c.image_width;
	d->h_in = (int)x->c.image_height;
	d->orientation = orientation_of(&x->c);

	int cmyk = 0;
	switch (x->c.jpeg_color_space) {
	case JCS_GRAYSCALE:
	case JCS_YCbCr:
	case JCS_RGB:
		/* Chroma is never IDCT'd or upsampled (component_needed = FALSE). */
		x->c.out_color_space = JCS_GRAYSCALE;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		x->c.out_color_space = JCS_CMYK;
		cmyk = 1;
		break;
	default:
		err_set(e, IMAGE_ERR_UNSUPPORTED, "decode: JPEG: %d-component colour space %d",
		        x->c.num_components, (int)x->c.jpeg_color_space);
		return -1;
	}
	int tw, th;
	image_target_size(p, d->w_in, d->h_in, d->orientation, &tw, &th);
	double sx = (double)d->w_in / tw, sy = (double)d->h_in / th;
	x->c.scale_num = 1;
	x->c.scale_denom = pick_denom(sx < sy ? sx : sy);
	x->c.dct_method = JDCT_ISLOW;
	jpeg_calc_output_dimensions(&x->c);
	int ow = (int)x->c.output_width, oh = (int)x->c.output_height;

	image_gray_alloc(&d->g, ow, oh);
	if (cmyk)
		x->row = xmalloc((size_t)ow * 4);
	jpeg_start_decompress(&x->c);
	if ((int)x->c.output_width != ow || (int)x->c.output_height != oh ||
	    x->c.output_components != (cmyk ? 4 : 1)) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: JPEG: unexpected output geometry");
		return -1;
	}
	while (x->c.output_scanline < x->c.output_height) {
		unsigned char *dst = d->g.px + (size_t)x->c.output_scanline * (size_t)ow;
		JSAMPROW row = cmyk ? x->row : dst;
		if (jpeg_read_scanlines(&x->c, &row, 1) != 1)
			break;
		if (cmyk)
			cmyk_row_to_gray(x->row, dst, ow, x->c.saw_Adobe_marker);
		if (x->je.eof)
			break;
	}
	/* No jpeg_finish_decompress: a missing EOI after complete data is harmless. */
	if (x->je.eof || x->c.output_scanline < x->c.output_height) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: JPEG: truncated data");
		return -1;
	}
	return 0;
}

int image_decode_jpeg(const unsigned char *data, size_t len, const struct image_plan *p,
                      struct image_decoded *d, struct err *e)
{
	struct dec_ctx *x = xcalloc(1, sizeof(*x));
	x->plan = p;
	x->c.err = jpeg_std_error(&x->je.pub);
	x->je.pub.error_exit = dec_error_exit;
	x->je.pub.emit_message = dec_emit_message;
	x->je.pub.output_message = dec_output_message;
	int rc = decode_run(x, data, len, p, d, e);
	jpeg_destroy_decompress(&x->c);
	free(x->row);
	free(x);
	if (rc != 0) {
		free(d->g.px);
		d->g.px = NULL;
	}
	return rc;
}
