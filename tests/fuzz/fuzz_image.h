/* Shared body of the image fuzz targets (fuzz_image_<format>.c): forces the format's magic
 * bytes onto the input, converts into a small box with a 4 MP limit and checks the invariant:
 * on success the output is a one-component baseline JPEG inside the box. Aborts on a broken
 * invariant so libFuzzer reports it; never writes files. */
#ifndef INKDIGEST_FUZZ_IMAGE_H
#define INKDIGEST_FUZZ_IMAGE_H

#include <setjmp.h>

#include "image.h"

#include <jpeglib.h>

#define FUZZ_MAX_INPUT (1u << 20)
#define FUZZ_BOX 256

struct fuzz_jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

static void fuzz_jerr_exit(j_common_ptr c)
{
	longjmp(((struct fuzz_jerr *)c->err)->jb, 1);
}

static void fuzz_check_output(const struct image_result *r)
{
	struct jpeg_decompress_struct c;
	struct fuzz_jerr je;
	c.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = fuzz_jerr_exit;
	if (setjmp(je.jb)) {
		fprintf(stderr, "fuzz_image: output is not a JPEG\n");
		abort();
	}
	jpeg_create_decompress(&c);
	jpeg_mem_src(&c, (const unsigned char *)r->jpeg.data, (unsigned long)r->jpeg.len);
	jpeg_read_header(&c, TRUE);
	if (c.num_components != 1 || c.progressive_mode || (int)c.image_width != r->width_out ||
	    (int)c.image_height != r->height_out || r->width_out < 1 || r->height_out < 1 ||
	    r->width_out > FUZZ_BOX || r->height_out > FUZZ_BOX) {
		fprintf(stderr, "fuzz_image: bad output %ux%u, %d components\n", c.image_width,
		        c.image_height, c.num_components);
		abort();
	}
	jpeg_destroy_decompress(&c);
}

/* magic: the bytes the input must start with (replaced, not prepended, when the input is
 * long enough, so the corpus' real headers stay where the decoder expects them). */
static int fuzz_image_run(const uint8_t *data, size_t size, const char *magic, size_t n_magic)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	unsigned char *in = xmalloc(size > n_magic ? size : n_magic);
	if (size > 0)
		memcpy(in, data, size);
	if (size < n_magic)
		size = n_magic;
	for (size_t i = 0; i < n_magic; i++)
		if (magic[i] != '?')
			in[i] = (unsigned char)magic[i];
	struct image_opts o = {
	    .max_width = FUZZ_BOX, .max_height = FUZZ_BOX, .max_pixels = 4000000, .min_side = 1};
	struct image_result r = {0};
	struct err e = {0};
	if (image_convert(in, size, &o, &r, &e) == 0) {
		fuzz_check_output(&r);
		image_result_release(&r);
	} else if (e.code < IMAGE_ERR_UNSUPPORTED || e.code > IMAGE_ERR_TOO_SMALL || !e.msg[0]) {
		fprintf(stderr, "fuzz_image: bad error %d \"%s\"\n", e.code, e.msg);
		abort();
	}
	free(in);
	return 0;
}

#endif
