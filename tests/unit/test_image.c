/* Unit tests for stage `image`: every generated fixture (tests/fixtures/image, made by
 * tests/tools/gen_image_fixtures.c) either becomes a one-channel baseline JPEG inside the box,
 * checked by decoding it again with libjpeg and looking at pixels, or is refused with the right
 * error code. Offline; no file is written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include "image.h"
#include "../../src/image_internal.h"

#include <jpeglib.h>

static struct buf load(const char *name)
{
	struct buf b = BUF_INIT;
	struct err e = {0};
	char *path = xasprintf("%s/image/%s", FIXTURES, name);
	if (util_read_file(path, 0, &b, &e) != 0)
		fail_msg("cannot read %s: %s", path, e.msg);
	free(path);
	return b;
}

/* The output decoded again: gray pixels, checked to be a 1-component baseline JPEG. */
struct out {
	int w, h;
	unsigned char *px;
};

struct chk_err {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

static void chk_error_exit(j_common_ptr c)
{
	longjmp(((struct chk_err *)c->err)->jb, 1);
}

static struct out decode_output(const struct buf *jpeg)
{
	struct jpeg_decompress_struct c;
	struct chk_err je;
	struct out o = {0};
	c.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = chk_error_exit;
	if (setjmp(je.jb)) {
		jpeg_destroy_decompress(&c);
		fail_msg("output is not a valid JPEG");
	}
	jpeg_create_decompress(&c);
	jpeg_mem_src(&c, (const unsigned char *)jpeg->data, (unsigned long)jpeg->len);
	assert_int_equal(jpeg_read_header(&c, TRUE), JPEG_HEADER_OK);
	assert_int_equal(c.num_components, 1);
	assert_int_equal(c.jpeg_color_space, JCS_GRAYSCALE);
	assert_false(c.progressive_mode);
	assert_false(c.arith_code);
	jpeg_start_decompress(&c);
	o.w = (int)c.output_width;
	o.h = (int)c.output_height;
	o.px = xmalloc((size_t)o.w * (size_t)o.h);
	while (c.output_scanline < c.output_height) {
		JSAMPROW row = o.px + (size_t)c.output_scanline * (size_t)o.w;
		jpeg_read_scanlines(&c, &row, 1);
	}
	jpeg_finish_decompress(&c);
	assert_int_equal(je.pub.num_warnings, 0);
	jpeg_destroy_decompress(&c);
	return o;
}

static int at(const struct out *o, int x, int y)
{
	assert_true(x >= 0 && x < o->w && y >= 0 && y < o->h);
	return o->px[(size_t)y * (size_t)o->w + (size_t)x];
}

/* Converts a fixture that must succeed; checks the result's JPEG and its box. */
static struct out convert_ok(const char *name, const struct image_opts *opts)
{
	struct buf b = load(name);
	struct image_result r = {0};
	struct err e = {0};
	int rc = image_convert((const unsigned char *)b.data, b.len, opts, &r, &e);
	if (rc != 0)
		fail_msg("%s: %s (code %d)", name, e.msg, e.code);
	struct out o = decode_output(&r.jpeg);
	assert_int_equal(o.w, r.width_out);
	assert_int_equal(o.h, r.height_out);
	int bw = opts && opts->max_width ? opts->max_width : 1236;
	int bh = opts && opts->max_height ? opts->max_height : 1648;
	assert_true(o.w <= bw && o.h <= bh);
	assert_true(o.w <= r.width_in && o.h <= r.height_in);
	assert_int_equal(r.format_in, image_detect((const unsigned char *)b.data, b.len));
	image_result_release(&r);
	buf_release(&b);
	return o;
}

static void convert_fails(const char *name, const struct image_opts *opts, int code,
                          const char *in_msg)
{
	struct buf b = load(name);
	struct image_result r = {0};
	struct err e = {0};
	double t0 = util_monotonic();
	int rc = image_convert((const unsigned char *)b.data, b.len, opts, &r, &e);
	double dt = util_monotonic() - t0;
	if (rc == 0)
		fail_msg("%s: converted, expected error %d", name, code);
	if (e.code != code)
		fail_msg("%s: error %d (%s), expected %d", name, e.code, e.msg, code);
	if (in_msg && !strstr(e.msg, in_msg))
		fail_msg("%s: message \"%s\" lacks \"%s\"", name, e.msg, in_msg);
	assert_null(r.jpeg.data);
	/* Refusals come from headers or from little data: never the seconds a decoded bomb
	 * would take (the bound is loose for loaded machines). */
	assert_true(dt < 3.0);
	buf_release(&b);
}

/* Pattern fixtures (64x48): the top-left corner is dark, the bottom-right bright. */
static void check_pattern(const char *name)
{
	struct out o = convert_ok(name, NULL);
	assert_int_equal(o.w, 64);
	assert_int_equal(o.h, 48);
	if (at(&o, 1, 1) > 60 || at(&o, 62, 46) < 190)
		fail_msg("%s: corners %d %d", name, at(&o, 1, 1), at(&o, 62, 46));
	free(o.px);
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(image_detect((const unsigned char *)"\xff\xd8\xff\xe0", 4),
	                 IMAGE_FORMAT_JPEG);
	assert_int_equal(image_detect((const unsigned char *)"\x89PNG\r\n\x1a\n", 8),
	                 IMAGE_FORMAT_PNG);
	assert_int_equal(image_detect((const unsigned char *)"GIF89a", 6), IMAGE_FORMAT_GIF);
	assert_int_equal(image_detect((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ", 16),
	                 IMAGE_FORMAT_WEBP);
	assert_int_equal(image_detect((const unsigned char *)"RIFF\0\0\0\0WAVE", 12),
	                 IMAGE_FORMAT_UNKNOWN);
	assert_int_equal(image_detect((const unsigned char *)"BM", 2), IMAGE_FORMAT_OTHER);
	assert_int_equal(image_detect((const unsigned char *)"  <svg>", 7), IMAGE_FORMAT_OTHER);
	assert_int_equal(image_detect((const unsigned char *)"\xff\xd8", 2), IMAGE_FORMAT_UNKNOWN);
	assert_int_equal(image_detect(NULL, 0), IMAGE_FORMAT_UNKNOWN);
	assert_string_equal(image_format_name(IMAGE_FORMAT_WEBP), "WebP");
	assert_string_equal(image_format_name(IMAGE_FORMAT_JPEG), "JPEG");
}

static void test_png_types(void **state)
{
	(void)state;
	static const char *names[] = {"png_gray1.png", "png_gray2.png",  "png_gray4.png",
	                              "png_gray8.png", "png_gray16.png", "png_pal1.png",
	                              "png_pal2.png",  "png_pal4.png",   "png_pal8.png",
	                              "png_rgb8.png",  "png_rgb16.png",  "png_interlaced_rgb8.png"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		check_pattern(names[i]);
}

/* Thirds: transparent, half-transparent, opaque black: on white 255, ~128, 0. */
static void check_alpha(const char *name, int tol)
{
	struct out o = convert_ok(name, NULL);
	assert_int_equal(o.w, 48);
	assert_int_equal(o.h, 16);
	int l = at(&o, 6, 8), m = at(&o, 24, 8), r = at(&o, 42, 8);
	if (l < 255 - tol || abs(m - 127) > tol || r > tol)
		fail_msg("%s: thirds %d %d %d", name, l, m, r);
	free(o.px);
}

static void test_alpha_on_white(void **state)
{
	(void)state;
	check_alpha("png_ga8.png", 6);
	check_alpha("png_ga16.png", 6);
	check_alpha("png_rgba8.png", 6);
	check_alpha("png_rgba16.png", 6);
	check_alpha("png_interlaced_rgba8.png", 6);
	check_alpha("png_interlaced_ga16.png", 6);
	check_alpha("webp_alpha_lossless.webp", 6);
	check_alpha("webp_alpha_lossy.webp", 16);
}

/* tRNS marks black transparent and the fixtures are all black: all white. */
static void test_trns(void **state)
{
	(void)state;
	static const char *names[] = {"png_pal8_trns.png",  "png_gray8_trns.png",
	                              "png_rgb8_trns.png",  "png_gray16_trns.png",
	                              "png_rgb16_trns.png", "png_gray2_trns.png"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct out o = convert_ok(names[i], NULL);
		if (at(&o, 4, 4) < 250 || at(&o, 40, 12) < 250)
			fail_msg("%s: not white: %d %d", names[i], at(&o, 4, 4), at(&o, 40, 12));
		free(o.px);
	}
}

static void test_jpeg_variants(void **state)
{
	(void)state;
	check_pattern("jpeg_gray.jpg");
	check_pattern("jpeg_ycc.jpg");
	check_pattern("jpeg_progressive.jpg");
	check_pattern("jpeg_arith.jpg");
}

/* The quadrant fixtures are stored 80x40 with the top-left quadrant black. */
static void check_quadrant(const char *name, int w, int h, int black_x, int black_y)
{
	struct out o = convert_ok(name, NULL);
	if (o.w != w || o.h != h)
		fail_msg("%s: %dx%d, expected %dx%d", name, o.w, o.h, w, h);
	/* Centre of each quadrant: only the expected one is black. */
	for (int qy = 0; qy < 2; qy++)
		for (int qx = 0; qx < 2; qx++) {
			int v = at(&o, qx * w / 2 + w / 4, qy * h / 2 + h / 4);
			int black = qx == black_x && qy == black_y;
			if (black ? v > 40 : v < 215)
				fail_msg("%s: quadrant (%d,%d) = %d", name, qx, qy, v);
		}
	free(o.px);
}

static void test_jpeg_cmyk(void **state)
{
	(void)state;
	check_quadrant("jpeg_cmyk_adobe.jpg", 80, 40, 0, 0);
	check_quadrant("jpeg_ycck_adobe.jpg", 80, 40, 0, 0);
}

static void test_exif_orientation(void **state)
{
	(void)state;
	check_quadrant("jpeg_quadrant.jpg", 80, 40, 0, 0);
	check_quadrant("jpeg_exif2.jpg", 80, 40, 1, 0); /* mirrored left-right */
	check_quadrant("jpeg_exif3.jpg", 80, 40, 1, 1); /* 180 degrees */
	check_quadrant("jpeg_exif4.jpg", 80, 40, 0, 1); /* mirrored top-bottom */
	check_quadrant("jpeg_exif5.jpg", 40, 80, 0, 0); /* transposed */
	check_quadrant("jpeg_exif7.jpg", 40, 80, 1, 1); /* transversed */
	check_quadrant("jpeg_exif6.jpg", 40, 80, 1, 0); /* 90 clockwise */
	check_quadrant("jpeg_exif6_be.jpg", 40, 80, 1, 0);
	check_quadrant("jpeg_exif8.jpg", 40, 80, 0, 1); /* 90 counter-clockwise */

	/* The parser itself on damaged input: never reads outside, falls back to 1. */
	unsigned char ok[] = "Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0";
	assert_int_equal(image_exif_orientation(ok, sizeof(ok) - 1), 6);
	assert_int_equal(image_exif_orientation(ok, sizeof(ok) - 5), 1); /* entry cut */
	unsigned char far_ifd[] = "Exif\0\0II*\0\xff\xff\xff\x7f\x01\0";
	assert_int_equal(image_exif_orientation(far_ifd, sizeof(far_ifd) - 1), 1);
	unsigned char many[] = "Exif\0\0MM\0*\0\0\0\x08\xff\xff";
	assert_int_equal(image_exif_orientation(many, sizeof(many) - 1), 1);
	unsigned char bad_value[] = "Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x09\0";
	assert_int_equal(image_exif_orientation(bad_value, sizeof(bad_value) - 1), 1);
	assert_int_equal(image_exif_orientation((const unsigned char *)"Exif", 4), 1);
}

static void test_gif(void **state)
{
	(void)state;
	struct out o = convert_ok("gif_static.gif", NULL);
	assert_true(at(&o, 1, 20) < 30 && at(&o, 62, 20) > 225);
	free(o.px);

	/* First frame black, second white: we must see black. */
	o = convert_ok("gif_animated.gif", NULL);
	assert_int_equal(o.w, 40);
	assert_true(at(&o, 20, 20) < 20);
	free(o.px);

	/* Left half transparent (index 0, black in the map), right half black. */
	o = convert_ok("gif_transparent.gif", NULL);
	assert_true(at(&o, 5, 10) > 240);
	assert_true(at(&o, 35, 10) < 15);
	free(o.px);

	/* Alternating black/white rows, stored interlaced. */
	struct image_opts q = {.quality = 95};
	o = convert_ok("gif_interlaced.gif", &q);
	for (int y = 8; y < 40; y++) {
		int v = at(&o, 30, y);
		if ((y % 2) ? v < 170 : v > 85)
			fail_msg("interlaced row %d = %d", y, v);
	}
	free(o.px);

	/* A 20x20 black frame at (30,10) on a 40x40 white screen: clipped at the right. */
	o = convert_ok("gif_offset.gif", NULL);
	assert_int_equal(o.w, 40);
	assert_int_equal(o.h, 40);
	assert_true(at(&o, 35, 20) < 30);
	assert_true(at(&o, 10, 20) > 225);
	assert_true(at(&o, 35, 36) > 225);
	free(o.px);
}

static void test_webp(void **state)
{
	(void)state;
	check_pattern("webp_lossy.webp");
	check_pattern("webp_lossless.webp");
	/* First frame: black with a white border; the second frame is all white. */
	struct out o = convert_ok("webp_animated.webp", NULL);
	assert_int_equal(o.w, 40);
	assert_true(at(&o, 20, 20) < 20);
	assert_true(at(&o, 1, 1) > 200);
	free(o.px);
}

static void test_resize_into_box(void **state)
{
	(void)state;
	static const char *names[] = {"jpeg_big.jpg", "png_big.png", "webp_big.webp"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		/* 800x600 into 100x100: width-bound. jpeg_big needs shrink 8: DCT 1/4. */
		struct image_opts box = {.max_width = 100, .max_height = 100};
		struct out o = convert_ok(names[i], &box);
		assert_int_equal(o.w, 100);
		assert_int_equal(o.h, 75);
		/* The ramp survives resampling: dark left, bright right, no ringing overflow. */
		assert_true(at(&o, 2, 37) < at(&o, 50, 37) && at(&o, 50, 37) < at(&o, 97, 37));
		free(o.px);

		/* Height-bound, with a large shrink (DCT 1/8 for JPEG). */
		struct image_opts tall = {.max_width = 1000, .max_height = 30};
		o = convert_ok(names[i], &tall);
		assert_int_equal(o.w, 40);
		assert_int_equal(o.h, 30);
		free(o.px);

		/* Never upscaled. */
		o = convert_ok(names[i], NULL);
		assert_int_equal(o.w, 800);
		assert_int_equal(o.h, 600);
		free(o.px);
	}
	/* A rotated image fits the box as displayed: 80x40 stored, 40x80 shown, box 20x20. */
	struct image_opts small = {.max_width = 20, .max_height = 20, .min_side = 1};
	struct out o = convert_ok("jpeg_exif6.jpg", &small);
	assert_int_equal(o.w, 10);
	assert_int_equal(o.h, 20);
	free(o.px);
}

static void test_spacers(void **state)
{
	(void)state;
	static const char *names[] = {"png_1x1.png", "jpeg_1x1.jpg", "gif_1x1.gif",
	                              "webp_1x1.webp"};
	struct image_opts keep = {.min_side = 1};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		convert_fails(names[i], NULL, IMAGE_ERR_TOO_SMALL, "spacer");
		struct out o = convert_ok(names[i], &keep);
		assert_int_equal(o.w, 1);
		assert_int_equal(o.h, 1);
		free(o.px);
	}
	/* 64x48 under a min_side of 50. */
	struct image_opts strict = {.min_side = 50};
	convert_fails("png_rgb8.png", &strict, IMAGE_ERR_TOO_SMALL, NULL);
}

static void test_bombs(void **state)
{
	(void)state;
	convert_fails("png_bomb_30000.png", NULL, IMAGE_ERR_TOO_LARGE, "30000x30000");
	convert_fails("jpeg_bomb_65000.jpg", NULL, IMAGE_ERR_TOO_LARGE, "65000x65000");
	convert_fails("gif_bomb_screen.gif", NULL, IMAGE_ERR_TOO_LARGE, "65535x65535");
	convert_fails("gif_bomb_frame.gif", NULL, IMAGE_ERR_TOO_LARGE, NULL);
	convert_fails("webp_bomb_16383.webp", NULL, IMAGE_ERR_TOO_LARGE, "16383x16383");
	/* The pixel limit is configurable: 800x600 is over 100,000. */
	struct image_opts tiny = {.max_pixels = 100000};
	convert_fails("jpeg_big.jpg", &tiny, IMAGE_ERR_TOO_LARGE, NULL);
	convert_fails("png_big.png", &tiny, IMAGE_ERR_TOO_LARGE, NULL);
	convert_fails("webp_big.webp", &tiny, IMAGE_ERR_TOO_LARGE, NULL);
	/* The scan limit of progressive JPEG: 400 scans decode, 600 are refused. */
	struct image_opts keep = {.min_side = 1};
	struct out o = convert_ok("jpeg_400_scans.jpg", &keep);
	assert_int_equal(o.w, 16);
	free(o.px);
	convert_fails("jpeg_600_scans.jpg", &keep, IMAGE_ERR_CORRUPT, "more than 500 scans");
	/* The time limit: 40 MP (just within the pixel limit) can't decode in 1 ms. */
	struct image_opts hurry = {.timeout_ms = 1};
	convert_fails("png_flat_40mp.png", &hurry, IMAGE_ERR_TOO_LARGE, "time limit");
	/* And the byte limit. */
	struct image_opts few = {.max_bytes = 1000};
	convert_fails("jpeg_big.jpg", &few, IMAGE_ERR_TOO_LARGE, "bytes");
}

static void test_damaged(void **state)
{
	(void)state;
	convert_fails("png_truncated.png", NULL, IMAGE_ERR_CORRUPT, "PNG");
	convert_fails("jpeg_truncated.jpg", NULL, IMAGE_ERR_CORRUPT, "JPEG");
	convert_fails("jpeg_progressive_truncated.jpg", NULL, IMAGE_ERR_CORRUPT, "JPEG");
	convert_fails("gif_truncated.gif", NULL, IMAGE_ERR_CORRUPT, "GIF");
	convert_fails("webp_truncated.webp", NULL, IMAGE_ERR_CORRUPT, "WebP");
	convert_fails("png_zero.png", NULL, IMAGE_ERR_CORRUPT, "PNG");
	convert_fails("jpeg_zero.jpg", NULL, IMAGE_ERR_CORRUPT, "JPEG");
	convert_fails("empty.jpg", NULL, IMAGE_ERR_CORRUPT, "empty");
	/* Every prefix of a small file of each format: refused cleanly, never a crash. */
	static const char *names[] = {"jpeg_ycc.jpg",    "jpeg_progressive.jpg",
	                              "png_rgba8.png",   "gif_static.gif",
	                              "webp_lossy.webp", "webp_animated.webp"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct buf b = load(names[i]);
		for (size_t n = 0; n + 1 < b.len; n++) {
			struct image_result r = {0};
			struct err e = {0};
			int rc = image_convert((const unsigned char *)b.data, n, NULL, &r, &e);
			if (rc == 0)
				image_result_release(&r);
			else if (e.code != IMAGE_ERR_CORRUPT && e.code != IMAGE_ERR_UNSUPPORTED)
				fail_msg("%s cut at %zu: code %d (%s)", names[i], n, e.code, e.msg);
		}
		buf_release(&b);
	}
}

static void test_unsupported(void **state)
{
	(void)state;
	convert_fails("other.svg", NULL, IMAGE_ERR_UNSUPPORTED, "decode: SVG is not supported");
	convert_fails("other.bmp", NULL, IMAGE_ERR_UNSUPPORTED, "BMP");
	convert_fails("other.tif", NULL, IMAGE_ERR_UNSUPPORTED, "TIFF");
	convert_fails("other.avif", NULL, IMAGE_ERR_UNSUPPORTED, "AVIF");
	convert_fails("other.heic", NULL, IMAGE_ERR_UNSUPPORTED, "HEIC");
	convert_fails("other_html.png", NULL, IMAGE_ERR_UNSUPPORTED, "HTML");
	convert_fails("junk.bin", NULL, IMAGE_ERR_UNSUPPORTED, NULL);
}

static void test_quality_and_tone(void **state)
{
	(void)state;
	struct buf b = load("jpeg_big.jpg");
	struct image_opts lo = {.quality = 30}, hi = {.quality = 90};
	struct image_result a = {0}, c = {0};
	struct err e = {0};
	assert_int_equal(image_convert((const unsigned char *)b.data, b.len, &lo, &a, &e), 0);
	assert_int_equal(image_convert((const unsigned char *)b.data, b.len, &hi, &c, &e), 0);
	assert_true(a.jpeg.len < c.jpeg.len);
	image_result_release(&a);
	image_result_release(&c);
	buf_release(&b);

	/* Tone: full range already, so only gamma 1.8 acts: mid gray 127 -> about 73. */
	struct image_opts t = {.tone = 1};
	struct out o = convert_ok("png_ga8.png", &t);
	int m = at(&o, 24, 8);
	if (abs(m - 73) > 8)
		fail_msg("toned mid gray %d", m);
	assert_true(at(&o, 6, 8) > 245 && at(&o, 42, 8) < 10);
	free(o.px);

	/* Low contrast (100..180) is left alone by autocontrast: gamma only, 100 -> 47,
	 * 180 -> 136. Without tone the ends stay where they were. */
	o = convert_ok("png_ramp_100_180.png", &t);
	if (abs(at(&o, 3, 8) - 47) > 6 || abs(at(&o, 60, 8) - 136) > 6)
		fail_msg("low contrast toned: %d %d", at(&o, 3, 8), at(&o, 60, 8));
	free(o.px);
	o = convert_ok("png_ramp_100_180.png", NULL);
	assert_true(abs(at(&o, 3, 8) - 100) <= 4 && abs(at(&o, 60, 8) - 180) <= 4);
	free(o.px);
	/* 40..230 spans 190 >= 159: stretched to 0..255 before gamma. */
	o = convert_ok("png_ramp_40_230.png", &t);
	if (at(&o, 3, 8) > 6 || at(&o, 60, 8) < 249)
		fail_msg("stretched: %d %d", at(&o, 3, 8), at(&o, 60, 8));
	free(o.px);
}

struct job {
	struct buf in;
	struct buf out;
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct image_opts box = {.max_width = 300, .max_height = 300};
	for (int i = 0; i < 5; i++) {
		struct image_result r = {0};
		struct err e = {0};
		j->rc = image_convert((const unsigned char *)j->in.data, j->in.len, &box, &r, &e);
		if (j->rc != 0)
			return NULL;
		buf_reset(&j->out);
		buf_add(&j->out, r.jpeg.data, r.jpeg.len);
		image_result_release(&r);
	}
	return NULL;
}

/* Same bytes out when converting on several threads at once as on one. */
static void test_threads(void **state)
{
	(void)state;
	static const char *names[] = {"jpeg_big.jpg", "png_big.png", "webp_big.webp",
	                              "gif_static.gif"};
	struct job jobs[ARRAY_SIZE(names)];
	pthread_t th[ARRAY_SIZE(names)];
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		jobs[i].in = load(names[i]);
		buf_init(&jobs[i].out);
		assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].rc, 0);
		struct job one = {jobs[i].in, BUF_INIT, 0};
		run_job(&one);
		assert_int_equal(one.rc, 0);
		struct buf single = one.out;
		assert_int_equal(single.len, jobs[i].out.len);
		assert_memory_equal(single.data, jobs[i].out.data, single.len);
		buf_release(&single);
		buf_release(&jobs[i].out);
		buf_release(&jobs[i].in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_png_types),
	    cmocka_unit_test(test_alpha_on_white),
	    cmocka_unit_test(test_trns),
	    cmocka_unit_test(test_jpeg_variants),
	    cmocka_unit_test(test_jpeg_cmyk),
	    cmocka_unit_test(test_exif_orientation),
	    cmocka_unit_test(test_gif),
	    cmocka_unit_test(test_webp),
	    cmocka_unit_test(test_resize_into_box),
	    cmocka_unit_test(test_spacers),
	    cmocka_unit_test(test_bombs),
	    cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_unsupported),
	    cmocka_unit_test(test_quality_and_tone),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
