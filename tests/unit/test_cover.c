/* Unit tests for stage `cover`: the JPEG is baseline, one component, the requested size, not
 * blank, deterministic; long feed lists are cut; bad input fails cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <jpeglib.h>

#include "cover.h"

#define WQY "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

struct decoded {
	int w, h, comps, progressive;
	unsigned char *px;
};

static void decode(const struct buf *jpeg, struct decoded *d)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_error_mgr jerr;

	ci.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, (const unsigned char *)jpeg->data, jpeg->len);
	assert_int_equal(jpeg_read_header(&ci, TRUE), JPEG_HEADER_OK);
	d->progressive = ci.progressive_mode;
	jpeg_start_decompress(&ci);
	d->w = (int)ci.output_width;
	d->h = (int)ci.output_height;
	d->comps = ci.output_components;
	d->px = xmalloc((size_t)d->w * (size_t)d->h * (size_t)d->comps);
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = d->px + (size_t)ci.output_scanline * (size_t)d->w * (size_t)d->comps;
		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
}

static double variance(const struct decoded *d, int y0, int y1)
{
	double sum = 0, sq = 0;
	size_t n = 0;

	for (int y = y0; y < y1; y++)
		for (int x = 0; x < d->w; x++) {
			double v = d->px[y * d->w + x];
			sum += v;
			sq += v * v;
			n++;
		}
	return sq / (double)n - (sum / (double)n) * (sum / (double)n);
}

static const struct cover_feed zh_feeds[] = {
    {"新智元", 12},
    {"机器之心", 7},
    {"Hacker News", 25},
    {"阮一峰的网络日志", 1},
    {"A feed with an extraordinarily long name that cannot possibly fit on one line", 3},
    {"少数派", 4},
};

static void save(const struct buf *b, const char *name)
{
	const char *dir = getenv("INKDIGEST_KEEP_RENDER");
	char *path;
	FILE *f;

	if (!dir)
		return;
	path = xasprintf("%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(b->data, 1, b->len, f);
		fclose(f);
		fprintf(stderr, "wrote %s\n", path);
	}
	free(path);
}

static void test_renders_gray_jpeg(void **state)
{
	struct cover_spec s = {
	    .title = "晨间文摘",
	    .date_text = "2026-11-26 星期四",
	    .volume_label = NULL,
	    .feeds = zh_feeds,
	    .n_feeds = ARRAY_SIZE(zh_feeds),
	    .total_articles = 52,
	    .font_path = WQY,
	    .font_index = 0,
	    .width = 1264,
	    .height = 1680,
	    .quality = 80,
	};
	struct buf jpeg = BUF_INIT, again = BUF_INIT;
	struct err e = {0};
	struct decoded d;

	(void)state;
	assert_int_equal(cover_render(&s, &jpeg, &e), 0);
	save(&jpeg, "cover-zh.jpg");
	decode(&jpeg, &d);
	assert_int_equal(d.w, 1264);
	assert_int_equal(d.h, 1680);
	assert_int_equal(d.comps, 1);
	assert_int_equal(d.progressive, 0);
	/* Ink in the masthead band and in the feed list, paper at the margins. */
	assert_true(variance(&d, d.h / 20, d.h / 4) > 500.0);
	assert_true(variance(&d, d.h / 3, d.h * 2 / 3) > 200.0);
	assert_true(variance(&d, 0, 10) < 5.0);
	free(d.px);
	assert_true(jpeg.len < 300 * 1024);

	assert_int_equal(cover_render(&s, &again, &e), 0);
	assert_int_equal(again.len, jpeg.len);
	assert_memory_equal(again.data, jpeg.data, jpeg.len);
	buf_release(&jpeg);
	buf_release(&again);
}

static void test_latin_many_feeds(void **state)
{
	struct cover_feed feeds[40];
	char names[40][32];
	struct cover_spec s = {
	    .title = "The Morning Digest",
	    .date_text = "Thursday, 26 November 2026",
	    .volume_label = "Volume 1 of 2",
	    .feeds = feeds,
	    .n_feeds = 40,
	    .total_articles = 0,
	    .font_path = NULL,
	    .width = 1072,
	    .height = 1448,
	    .quality = 80,
	};
	struct buf jpeg = BUF_INIT;
	struct err e = {0};
	struct decoded d;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "Feed number %d", i + 1);
		feeds[i] = (struct cover_feed){names[i], i + 1};
		s.total_articles += i + 1;
	}
	assert_int_equal(cover_render(&s, &jpeg, &e), 0);
	save(&jpeg, "cover-en.jpg");
	decode(&jpeg, &d);
	assert_int_equal(d.w, 1072);
	assert_int_equal(d.h, 1448);
	assert_int_equal(d.comps, 1);
	/* The list stops above the foot: the band above the bottom rule stays white. */
	assert_true(variance(&d, d.h - d.h * 16 / 100, d.h - d.h * 15 / 100 - 2) < 50.0);
	free(d.px);
	buf_release(&jpeg);
}

static void test_bad_input(void **state)
{
	struct cover_spec s = {.title = "x", .width = 10, .height = 10};
	struct buf jpeg = BUF_INIT;
	struct err e = {0};

	(void)state;
	assert_int_equal(cover_render(&s, &jpeg, &e), -1);
	assert_non_null(strstr(e.msg, "size"));
	s.width = 600;
	s.height = 800;
	s.font_path = "/nonexistent.ttf";
	assert_int_equal(cover_render(&s, &jpeg, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent.ttf"));
	assert_int_equal(jpeg.len, 0);
}

/* fontconfig keeps its configuration for the process; release it so LeakSanitizer sees only
 * what the module leaks. */
static int teardown(void **state)
{
	(void)state;
	FcFini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_renders_gray_jpeg),
	    cmocka_unit_test(test_latin_many_feeds),
	    cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
