/* Unit tests for stage `font`: fontconfig resolution, hb-subset size and content (checked with
 * FreeType on the subset), missing code points. Needs fonts-wqy-microhei installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "font.h"

#define WQY "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
#define FONTS_DIR INKDIGEST_SOURCE_DIR "/fonts"

/* About 400 distinct characters of ordinary Simplified Chinese news text. */
static const char *sample =
    "人工智能正在改变新闻的阅读方式。电子墨水屏幕适合长时间阅读，没有闪烁，也不刺眼。"
    "我们把文章打包成电子书，嵌入中文字体子集，避免出现豆腐块。据新华社报道，国务院常务会议"
    "今天在北京召开，会议研究部署进一步优化营商环境、促进民营经济发展壮大的政策措施。会议指出，"
    "要坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，加快构建新发展格局，着力推动高质量"
    "发展。科技创新是引领发展的第一动力，必须把握数字化、网络化、智能化方向，推动制造业高端化。"
    "气象台预计，未来三天我国北方地区将有一次较强冷空气过程，气温下降六至八摄氏度，局地降温"
    "幅度可达十度以上，并伴有四到五级偏北风。南方大部地区以多云天气为主，早晚温差较大，请注意"
    "添衣保暖。体育新闻：中国女排在世界联赛中以三比一战胜对手，取得两连胜。足球协会公布了新"
    "赛季的赛程安排，联赛将于明年三月开幕。文化版块介绍了一部关于敦煌壁画修复的纪录片，讲述"
    "几代文物保护工作者坚守大漠、精心呵护千年艺术瑰宝的故事。经济观察：上半年社会消费品零售"
    "总额同比增长百分之八点二，服务消费增势较好，旅游、餐饮、电影票房均明显回升。专家认为，"
    "扩大内需仍需政策持续发力，稳就业、增收入是关键。读者来信：感谢贵报长期关注乡村教育，希望"
    "更多志愿者走进山区学校，为孩子们带去知识与希望。编辑部将继续追踪报道。"
    "The quick brown fox jumps over the lazy dog. 0123456789 “引号”《书名号》——省略号……";

static void test_resolve_auto_prefers_glyf(void **state)
{
	struct font_choice c;
	struct err e = {0};

	(void)state;
	assert_int_equal(font_resolve_in("auto", NULL, FONTS_DIR, &c, &e), 0);
	assert_non_null(c.path);
	assert_string_equal(c.family, "WenQuanYi Micro Hei");
	assert_int_equal(c.is_cff, 0);
	assert_int_equal(c.index, 0);
	font_choice_release(&c);
	/* The built-in list gives the same answer when the folder has no preferred.conf. */
	assert_int_equal(font_resolve_in("auto", NULL, "/nonexistent", &c, &e), 0);
	assert_string_equal(c.family, "WenQuanYi Micro Hei");
	font_choice_release(&c);
}

/* Resolves "auto" with a preferred.conf holding lines; returns the family chosen. */
static char *resolve_with_list(const char *lines, int *is_cff)
{
	char dir[] = "/tmp/test_font.XXXXXX";
	char *conf, *family;
	FILE *f;
	struct font_choice c;
	struct err e = {0};

	assert_non_null(mkdtemp(dir));
	conf = xasprintf("%s/preferred.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(lines, f);
	fclose(f);
	assert_int_equal(font_resolve_in("auto", NULL, dir, &c, &e), 0);
	family = xstrdup(c.family);
	*is_cff = c.is_cff;
	font_choice_release(&c);
	remove(conf);
	rmdir(dir);
	free(conf);
	return family;
}

/* The order of preferred.conf decides: an absent family is skipped, the next one wins; with
 * none installed, any Simplified Chinese face fontconfig knows (sorted by name) is taken. */
static void test_resolve_follows_preferred_conf(void **state)
{
	int cff = -1;
	char *fam;

	(void)state;
	fam = resolve_with_list("# test list\nNo Such Family Anywhere\nDroid Sans Fallback\n"
	                        "WenQuanYi Micro Hei\n",
	                        &cff);
	assert_string_equal(fam, "Droid Sans Fallback");
	assert_int_equal(cff, 0);
	free(fam);
	fam = resolve_with_list("No Such Family Anywhere\n", &cff);
	assert_true(strcmp(fam, "Droid Sans Fallback") == 0 || strstr(fam, "WenQuanYi") ||
	            strstr(fam, "Noto"));
	free(fam);
}

static void test_resolve_path_and_index(void **state)
{
	struct font_choice c;
	struct err e = {0};

	(void)state;
	assert_int_equal(font_resolve(WQY "#1", NULL, &c, &e), 0);
	assert_string_equal(c.path, WQY);
	assert_int_equal(c.index, 1);
	assert_string_equal(c.family, "WenQuanYi Micro Hei Mono");
	font_choice_release(&c);
	assert_int_equal(font_resolve("wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy", &c, &e),
	                 0);
	assert_int_equal(c.index, 0);
	font_choice_release(&c);
	assert_int_equal(font_resolve("/nonexistent/font.ttf", NULL, &c, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/font.ttf"));
	assert_int_equal(font_resolve(WQY "#7", NULL, &c, &e), -1);
	assert_int_equal(font_resolve(INKDIGEST_SOURCE_DIR "/CMakeLists.txt", NULL, &c, &e), -1);
	assert_int_equal(font_resolve("none", NULL, &c, &e), 0);
	assert_null(c.path);
}

static void test_codepoints_sorted_unique(void **state)
{
	struct codepoints s = {0};

	(void)state;
	codepoints_add_utf8(&s, "bca中a中");
	codepoints_add_utf8(&s, "\xff\xfe b"); /* invalid bytes are skipped */
	assert_int_equal(s.n, 5);
	assert_int_equal(s.cp[0], ' ');
	assert_int_equal(s.cp[1], 'a');
	assert_int_equal(s.cp[3], 'c');
	assert_int_equal(s.cp[4], 0x4e2d);
	codepoints_release(&s);
}

static void test_subset_small_and_complete(void **state)
{
	struct font_choice c;
	struct err e = {0};
	struct codepoints s = {0};
	struct buf out = BUF_INIT, again = BUF_INIT;
	const char *ext = NULL;
	FT_Library lib;
	FT_Face face;

	(void)state;
	assert_int_equal(font_resolve(WQY, NULL, &c, &e), 0);
	codepoints_add_utf8(&s, sample);
	assert_true(s.n > 300);
	assert_int_equal(font_subset(&c, &s, &out, &ext, &e), 0);
	assert_string_equal(ext, "ttf");
	fprintf(stderr, "subset of %zu code points: %zu bytes (source face: 5.2 MB TTC)\n", s.n,
	        out.len);
	assert_true(out.len > 10000);
	assert_true(out.len < 300 * 1024);
	/* A single sfnt with TrueType outlines, not a TTC. */
	assert_memory_equal(out.data, "\x00\x01\x00\x00", 4);

	assert_int_equal(FT_Init_FreeType(&lib), 0);
	assert_int_equal(
	    FT_New_Memory_Face(lib, (const FT_Byte *)out.data, (FT_Long)out.len, 0, &face), 0);
	for (size_t i = 0; i < s.n; i++)
		assert_true(FT_Get_Char_Index(face, s.cp[i]) != 0 || s.cp[i] == 0x2014);
	for (uint32_t cp = 'A'; cp <= 'Z'; cp++)
		assert_true(FT_Get_Char_Index(face, cp) != 0);
	assert_int_equal(FT_Get_Char_Index(face, 0x9f98), 0); /* 龘: not in the sample */
	assert_int_equal(FT_Load_Char(face, 0x6587, FT_LOAD_NO_HINTING), 0); /* 文 has outlines */
	assert_true(face->glyph->outline.n_points > 0);
	FT_Done_Face(face);
	FT_Done_FreeType(lib);

	/* Deterministic. */
	assert_int_equal(font_subset(&c, &s, &again, &ext, &e), 0);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);

	buf_release(&out);
	buf_release(&again);
	codepoints_release(&s);
	font_choice_release(&c);
}

static void test_missing_codepoints(void **state)
{
	struct font_choice c;
	struct err e = {0};
	struct codepoints s = {0}, missing = {0};

	(void)state;
	assert_int_equal(font_resolve(WQY, NULL, &c, &e), 0);
	/* U+1F600 (emoji) and U+20BB7 (CJK Ext-B) are not in WenQuanYi; controls are ignored. */
	codepoints_add_utf8(&s, "中文 text\n\t\xf0\x9f\x98\x80 \xf0\xa0\xae\xb7 \xe2\x80\x8b");
	assert_int_equal(font_missing(&c, &s, &missing, &e), 0);
	assert_int_equal(missing.n, 2);
	assert_int_equal(missing.cp[0], 0x1f600);
	assert_int_equal(missing.cp[1], 0x20bb7);
	codepoints_release(&missing);
	codepoints_release(&s);
	font_choice_release(&c);
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
	    cmocka_unit_test(test_resolve_auto_prefers_glyf),
	    cmocka_unit_test(test_resolve_follows_preferred_conf),
	    cmocka_unit_test(test_resolve_path_and_index),
	    cmocka_unit_test(test_codepoints_sorted_unique),
	    cmocka_unit_test(test_subset_small_and_complete),
	    cmocka_unit_test(test_missing_codepoints),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
