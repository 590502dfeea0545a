/* Unit tests for stage `epub`: books built in code are written, checked with epubcheck and the
 * Kindle checker (tests/tools/check_epub.sh), unzipped and inspected, rendered with mutool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <hb-subset.h>
#include <hb.h>
#include <jpeglib.h>
#include <png.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "epub.h"

#define CHECK_EPUB INKDIGEST_SOURCE_DIR "/tests/tools/check_epub.sh"
#define KINDLE_CHECK INKDIGEST_SOURCE_DIR "/tests/tools/kindle_check.py"
#define TEMPLATES INKDIGEST_SOURCE_DIR "/templates"
#define WQY "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

static char tmpdir[256];

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_gray_jpeg(const char *path, int w, int h, int seed)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	FILE *f = fopen(path, "wb");
	unsigned char *row = xmalloc((size_t)w);

	assert_non_null(f);
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 75, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		for (int x = 0; x < w; x++)
			row[x] =
			    (unsigned char)((x * 255 / w + (int)c.next_scanline + seed) & 0xff);
		JSAMPROW rp = row;
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	fclose(f);
	free(row);
}

/* A PNG made with libpng's simplified API: grey, or grey + alpha. */
static void write_png(const char *path, int w, int h, int alpha)
{
	png_image img;
	unsigned char *px = xcalloc((size_t)w * (size_t)h, alpha ? 2 : 1);

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)w;
	img.height = (png_uint_32)h;
	img.format = alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY;
	for (int i = 0; i < w * h; i++)
		px[i * (alpha ? 2 : 1)] = (unsigned char)(i % 251);
	assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
	free(px);
}

/* A subset of WenQuanYi for the test's text, made here so this test needs no other module. */
static void write_font_subset(const char *path, const char *text)
{
	hb_blob_t *blob = hb_blob_create_from_file_or_fail(WQY);
	hb_face_t *face, *sub;
	hb_subset_input_t *in;
	unsigned int len;
	const char *data;
	FILE *f;

	assert_non_null(blob);
	face = hb_face_create(blob, 0);
	in = hb_subset_input_create_or_fail();
	for (const char *p = text, *end = text + strlen(text); p < end;) {
		int32_t cp = util_utf8_next(&p, end);
		if (cp > 0)
			hb_set_add(hb_subset_input_unicode_set(in), (hb_codepoint_t)cp);
		else if (cp < 0)
			p++;
	}
	for (hb_codepoint_t cp = 0x20; cp < 0x7f; cp++)
		hb_set_add(hb_subset_input_unicode_set(in), cp);
	hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING);
	sub = hb_subset_or_fail(face, in);
	assert_non_null(sub);
	hb_blob_t *out = hb_face_reference_blob(sub);
	data = hb_blob_get_data(out, &len);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	hb_blob_destroy(out);
	hb_face_destroy(sub);
	hb_subset_input_destroy(in);
	hb_face_destroy(face);
	hb_blob_destroy(blob);
}

struct fixture {
	struct book b;
	struct article arts[8];
	size_t n_arts;
};

static struct article *add_article(struct fixture *fx, const char *title, const char *author,
                                   int64_t published, const char *link, const char *xhtml)
{
	struct article *a = &fx->arts[fx->n_arts++];

	memset(a, 0, sizeof(*a));
	a->id = xasprintf("id-%zu", fx->n_arts);
	a->title = xstrdup(title);
	a->author = xstrdup(author);
	a->published = published;
	a->link = xstrdup(link);
	a->xhtml = xstrdup(xhtml);
	return a;
}

static void add_image(struct book *b, const char *url, const char *href, const char *file, int w,
                      int h)
{
	struct book_image *im;

	b->images = xrealloc(b->images, (b->n_images + 1) * sizeof(*b->images));
	im = &b->images[b->n_images++];
	memset(im, 0, sizeof(*im));
	im->url = xstrdup(url);
	im->href = xstrdup(href);
	im->path = file ? tmp_path(file) : NULL;
	im->width = w;
	im->height = h;
	if (file)
		write_gray_jpeg(im->path, w, h, (int)b->n_images * 40);
}

static int cmp_images(const void *a, const void *b)
{
	return strcmp(((const struct book_image *)a)->url, ((const struct book_image *)b)->url);
}

static const char *zh_text =
    "<p>人工智能正在改变新闻的阅读方式。电子墨水屏幕适合长时间阅读，"
    "没有闪烁，也不刺眼。</p>"
    "<p><img src=\"https://mmbiz.qpic.cn/a.jpg\" alt=\"示意图\"/></p>"
    "<h2>小标题：字体与排版</h2>"
    "<p>我们把文章打包成电子书，嵌入中文字体子集，<b>避免</b>出现豆腐块。"
    "<img src=\"https://mmbiz.qpic.cn/dropped.gif\" alt=\"动图已省略\"/></p>"
    "<ul><li>第一点</li><li>第二点 <a href=\"https://example.org/x y\">链接</a></li></ul>"
    "<p><img src=\"https://mmbiz.qpic.cn/b.jpg\"/></p>";

static void build_book(struct fixture *fx, int with_cover, int with_font)
{
	struct book *b = &fx->b;
	struct book_section *s;

	memset(fx, 0, sizeof(*fx));
	b->title = xstrdup("Morning Digest 2026-11-26");
	b->language = xstrdup("zh");
	b->identifier = xstrdup("urn:uuid:3b4f6a1e-8c2d-4e5f-9a7b-1c2d3e4f5a6b");
	b->date = 1795500000; /* 2026-11-24 */
	b->tz_offset_s = 8 * 3600;
	b->templates_dir = xstrdup(TEMPLATES);
	strlist_add(&b->subjects, "新智元");
	strlist_add(&b->subjects, "Example Blog");
	b->volume_label = NULL;

	add_article(fx, "大模型如何改变阅读", "新智元编辑部", 1795490000,
	            "https://mp.weixin.qq.com/s/abc?x=1&y=2", zh_text);
	add_article(fx, "坏掉的片段 & 特殊字符", NULL, -1, NULL,
	            "<p>这段内容<b>没有闭合&nbsp;标签</p><div>但是文字要保留</div>");
	add_article(
	    fx, "Reading on e-ink: a field guide", "Jane Doe", 1795480000,
	    "https://blog.example.org/e-ink",
	    "<p>E-ink screens reward <em>long</em> reading.</p>"
	    "<p><img src=\"https://blog.example.org/gone.png\"/>Text after a dropped image.</p>"
	    "<p><img src=\"https://blog.example.org/opaque.png\" alt=\"grey\"/>"
	    "<img src=\"https://blog.example.org/alpha.png\" alt=\"transparent one\"/></p>"
	    "<table><tr><td>cell</td></tr></table><center>old markup</center>"
	    "<p id=\"dup\">first</p><p id=\"dup\">second</p><a href=\"#dup\">jump</a>");
	add_article(fx, "Second English post", "John Roe", 1795470000, "javascript:alert(1)",
	            "<div><p>Nested <span><p>block in span</p></span></p><script>x()</script>"
	            "<li>stray item</li></div>");
	{
		/* Markup that is well-formed but far from valid XHTML5: must still pass epubcheck.
		 */
		struct buf messy = BUF_INIT;
		struct err e;
		assert_int_equal(
		    util_read_file(FIXTURES "/epub/messy-fragment.xhtml", 0, &messy, &e), 0);
		add_article(fx, "Messy markup", NULL, 1795460000, "https://example.org/messy",
		            messy.data);
		buf_release(&messy);
	}

	add_image(b, "https://mmbiz.qpic.cn/a.jpg", "images/0001.jpg", "0001.jpg", 640, 400);
	add_image(b, "https://mmbiz.qpic.cn/b.jpg", "images/0002.jpg", "0002.jpg", 200, 150);
	add_image(b, "https://mmbiz.qpic.cn/dropped.gif", NULL, NULL, 0, 0);
	add_image(b, "https://blog.example.org/opaque.png", "images/0003.png", NULL, 300, 200);
	b->images[b->n_images - 1].path = tmp_path("0003.png");
	write_png(b->images[b->n_images - 1].path, 300, 200, 0);
	add_image(b, "https://blog.example.org/alpha.png", "images/0004.png", NULL, 300, 200);
	b->images[b->n_images - 1].path = tmp_path("0004.png");
	write_png(b->images[b->n_images - 1].path, 300, 200, 1);
	qsort(b->images, b->n_images, sizeof(*b->images), cmp_images);

	b->n_sections = 2;
	b->sections = xcalloc(2, sizeof(*b->sections));
	s = &b->sections[0];
	s->title = xstrdup("新智元");
	s->n_articles = 2;
	s->articles = xcalloc(2, sizeof(*s->articles));
	s->articles[0] = (struct book_article){&fx->arts[0], "新智元"};
	s->articles[1] = (struct book_article){&fx->arts[1], "新智元"};
	s = &b->sections[1];
	s->title = xstrdup("Example Blog");
	s->lang = xstrdup("en");
	s->n_articles = 3;
	s->articles = xcalloc(3, sizeof(*s->articles));
	s->articles[0] = (struct book_article){&fx->arts[2], "Example Blog"};
	s->articles[1] = (struct book_article){&fx->arts[3], "Example Blog"};
	s->articles[2] = (struct book_article){&fx->arts[4], "Example Blog"};

	if (with_cover) {
		b->cover_path = tmp_path("cover.jpg");
		write_gray_jpeg(b->cover_path, 600, 800, 7);
	}
	if (with_font) {
		struct buf text = BUF_INIT;
		b->font_path = tmp_path("subset.ttf");
		b->font_media_type = "font/ttf";
		buf_puts(&text, zh_text);
		buf_puts(&text, "大模型如何改变阅读新智元编辑部坏掉的片段特殊字符这段内容没有闭合标"
		                "签但是文字要保留"
		                "目录阅读原文上一篇下一篇本栏目导航");
		write_font_subset(b->font_path, text.data);
		buf_release(&text);
	}
}

static void release_fixture(struct fixture *fx)
{
	for (size_t i = 0; i < fx->n_arts; i++)
		article_release(&fx->arts[i]);
	book_release(&fx->b);
}

static int run_check(const char *epub)
{
	char *cmd = xasprintf("sh '%s' '%s' >/dev/null", CHECK_EPUB, epub);
	int rc = system(cmd);

	free(cmd);
	return rc;
}

static char *zip_read_all(zip_t *za, const char *name, size_t *len)
{
	zip_stat_t st;
	zip_file_t *f;
	char *data;

	if (zip_stat(za, name, 0, &st) < 0)
		return NULL;
	f = zip_fopen(za, name, 0);
	assert_non_null(f);
	data = xmalloc(st.size + 1);
	assert_int_equal(zip_fread(f, data, st.size), (zip_int64_t)st.size);
	data[st.size] = '\0';
	zip_fclose(f);
	if (len)
		*len = st.size;
	return data;
}

static void collect_hrefs(xmlNode *n, struct strlist *out)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "a") == 0) {
			xmlChar *h = xmlGetProp(n, BAD_CAST "href");
			strlist_add(out, (const char *)h);
			xmlFree(h);
		}
		collect_hrefs(n->children, out);
	}
}

/* The hrefs of nav.xhtml's toc, in order. */
static void nav_toc_hrefs(zip_t *za, struct strlist *out)
{
	size_t len;
	char *nav = zip_read_all(za, "OEBPS/nav.xhtml", &len);
	xmlDoc *doc;
	xmlNode *n;

	assert_non_null(nav);
	doc = xmlReadMemory(nav, (int)len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	for (n = xmlDocGetRootElement(doc)->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "body") == 0)
			break;
	assert_non_null(n);
	for (n = n->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "nav") == 0)
			break; /* the first <nav> is the toc */
	assert_non_null(n);
	collect_hrefs(n->children, out);
	xmlFreeDoc(doc);
	free(nav);
}

static void test_book_passes_checks(void **state)
{
	struct fixture fx;
	struct err e = {0};
	char *path = tmp_path("book.epub");
	zip_t *za;
	int zerr;
	struct strlist hrefs = {0};
	zip_stat_t st;
	char *page, *css, *opf;

	struct epub_stats stats;

	(void)state;
	build_book(&fx, 1, 1);
	assert_int_equal(epub_write_stats(&fx.b, path, &stats, &e), 0);
	assert_int_equal(run_check(path), 0);
	assert_int_equal(stats.n_xhtml, 2 + 2 + 5);
	assert_int_equal(stats.articles_per_file, 1);
	assert_int_equal(stats.n_split, 0);
	assert_int_equal(stats.n_fallback, 1);
	assert_int_equal(stats.n_images, 3);

	za = zip_open(path, ZIP_RDONLY, &zerr);
	assert_non_null(za);
	assert_string_equal(zip_get_name(za, 0, 0), "mimetype");
	assert_int_equal(zip_stat_index(za, 0, 0, &st), 0);
	assert_int_equal(st.comp_method, ZIP_CM_STORE);

	nav_toc_hrefs(za, &hrefs);
	assert_int_equal(hrefs.n, 7);
	assert_string_equal(hrefs.items[0], "text/s01.xhtml");
	assert_string_equal(hrefs.items[1], "text/s01-a001.xhtml");
	assert_string_equal(hrefs.items[2], "text/s01-a002.xhtml");
	assert_string_equal(hrefs.items[3], "text/s02.xhtml");
	assert_string_equal(hrefs.items[4], "text/s02-a001.xhtml");
	assert_string_equal(hrefs.items[5], "text/s02-a002.xhtml");
	assert_string_equal(hrefs.items[6], "text/s02-a003.xhtml");
	strlist_release(&hrefs);

	page = zip_read_all(za, "OEBPS/text/s01-a001.xhtml", NULL);
	assert_non_null(page);
	assert_true(strncmp(page, "<?xml version=\"1.0\" encoding=\"utf-8\"?>", 38) == 0);
	assert_non_null(strstr(page, "src=\"../images/0001.jpg\""));
	assert_non_null(strstr(page, "src=\"../images/0002.jpg\""));
	assert_non_null(strstr(page, "<span class=\"img-alt\">动图已省略</span>"));
	assert_null(strstr(page, "dropped.gif"));
	assert_non_null(strstr(page, "lang=\"zh\" xml:lang=\"zh\""));
	assert_non_null(strstr(page, "2026-11-24 11:13")); /* 1795490000 = 03:13 UTC */
	assert_non_null(strstr(page, "阅读原文"));
	assert_non_null(strstr(page, "https://example.org/x%20y"));
	assert_non_null(strstr(page, "x=1&amp;y=2"));
	assert_null(strstr(page, "data-slot"));
	free(page);
	page = zip_read_all(za, "OEBPS/text/s01-a002.xhtml", NULL);
	assert_non_null(strstr(page, "没有闭合"));
	assert_non_null(strstr(page, "但是文字要保留"));
	assert_non_null(strstr(page, "坏掉的片段 &amp; 特殊字符"));
	free(page);
	page = zip_read_all(za, "OEBPS/text/s02-a001.xhtml", NULL);
	assert_non_null(strstr(page, "lang=\"en\" xml:lang=\"en\""));
	assert_non_null(strstr(page, "Text after a dropped image."));
	assert_null(strstr(page, "gone.png"));
	assert_non_null(strstr(page, "<img src=\"../images/0003.png\" alt=\"grey\"/>"));
	/* A PNG with alpha is not embedded (Kindle has no transparency): its alt text shows. */
	assert_null(strstr(page, "0004.png"));
	assert_non_null(strstr(page, "<span class=\"img-alt\">transparent one</span>"));
	assert_non_null(strstr(page, "Read the original"));
	free(page);
	page = zip_read_all(za, "OEBPS/text/s02-a002.xhtml", NULL);
	assert_null(strstr(page, "javascript"));
	assert_null(strstr(page, "x()"));
	assert_non_null(strstr(page, "stray item"));
	free(page);
	page = zip_read_all(za, "OEBPS/text/s02-a003.xhtml", NULL);
	assert_non_null(strstr(page, "微信风格的"));
	assert_non_null(strstr(page, "table in span"));
	assert_non_null(strstr(page, "https://a.example/b%20c?d=%C3%A9#x%23y"));
	assert_null(strstr(page, "style="));
	assert_null(strstr(page, "onclick"));
	assert_null(strstr(page, "iframe"));
	assert_null(strstr(page, "unknown.example"));
	free(page);

	css = zip_read_all(za, "OEBPS/style.css", NULL);
	assert_non_null(strstr(css, "@font-face"));
	assert_non_null(strstr(css, "fonts/subset.ttf"));
	free(css);
	opf = zip_read_all(za, "OEBPS/content.opf", NULL);
	assert_non_null(strstr(opf, "media-type=\"font/ttf\""));
	assert_non_null(strstr(opf, "href=\"images/0003.png\" media-type=\"image/png\""));
	assert_null(strstr(opf, "0004.png"));
	assert_non_null(strstr(opf, "properties=\"cover-image\""));
	assert_non_null(strstr(opf, "<meta name=\"cover\" content=\"cover-image\"/>"));
	assert_non_null(strstr(opf, "<meta property=\"dcterms:modified\">2026-11-24T"));
	assert_non_null(strstr(opf, "<dc:subject>新智元</dc:subject>"));
	assert_non_null(strstr(opf, "toc=\"ncx\""));
	free(opf);
	assert_true(zip_name_locate(za, "OEBPS/fonts/subset.ttf", 0) >= 0);
	assert_true(zip_name_locate(za, "OEBPS/images/cover.jpg", 0) >= 0);
	assert_true(zip_name_locate(za, "META-INF/encryption.xml", 0) < 0);
	zip_close(za);
	release_fixture(&fx);
	free(path);
}

static char *slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	struct err e;

	assert_int_equal(util_read_file(path, 0, &b, &e), 0);
	return buf_detach(&b, len);
}

/* Images may lie at offsets of one shared file (the pipeline's pack of converted images): the
 * book carries exactly those bytes, and a range beyond the file's end is an error. */
static void test_images_from_one_file(void **state)
{
	struct fixture fx;
	struct err e = {0};
	char *path = tmp_path("packed.epub"), *pack = tmp_path("images.pack");
	struct buf parts[2] = {BUF_INIT, BUF_INIT}, all = BUF_INIT;
	int64_t off = 0;
	size_t k = 0;

	(void)state;
	build_book(&fx, 0, 0);
	for (size_t i = 0; i < fx.b.n_images && k < 2; i++) {
		struct book_image *im = &fx.b.images[i];
		if (!im->path || !strstr(im->href, ".jpg"))
			continue;
		assert_int_equal(util_read_file(im->path, 0, &parts[k], &e), 0);
		buf_add(&all, parts[k].data, parts[k].len);
		free(im->path);
		im->path = xstrdup(pack);
		im->offset = off;
		im->length = parts[k].len;
		off += (int64_t)parts[k].len;
		k++;
	}
	assert_int_equal(k, 2);
	assert_int_equal(util_write_file(pack, all.data, all.len, &e), 0);
	assert_int_equal(epub_write(&fx.b, path, &e), 0);
	assert_int_equal(run_check(path), 0);

	int zerr;
	zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
	assert_non_null(za);
	k = 0;
	for (size_t i = 0; i < fx.b.n_images && k < 2; i++) {
		struct book_image *im = &fx.b.images[i];
		if (!im->path || strcmp(im->path, pack) != 0)
			continue;
		char *name = xasprintf("OEBPS/%s", im->href);
		zip_stat_t st;
		assert_int_equal(zip_stat(za, name, 0, &st), 0);
		assert_int_equal(st.size, parts[k].len);
		zip_file_t *zf = zip_fopen(za, name, 0);
		char *got = xmalloc(parts[k].len);
		assert_int_equal(zip_fread(zf, got, parts[k].len), (zip_int64_t)parts[k].len);
		assert_memory_equal(got, parts[k].data, parts[k].len);
		zip_fclose(zf);
		free(got);
		free(name);
		k++;
	}
	zip_close(za);

	/* A range past the end of the file: an error, no book left behind. */
	for (size_t i = 0; i < fx.b.n_images; i++)
		if (fx.b.images[i].path && strcmp(fx.b.images[i].path, pack) == 0)
			fx.b.images[i].length = all.len + 1;
	remove(path);
	assert_int_equal(epub_write(&fx.b, path, &e), -1);
	assert_non_null(strstr(e.msg, "beyond its end"));
	assert_int_equal(access(path, F_OK), -1);

	for (int i = 0; i < 2; i++)
		buf_release(&parts[i]);
	buf_release(&all);
	free(pack);
	free(path);
	release_fixture(&fx);
}

static void test_reproducible(void **state)
{
	struct fixture fx;
	struct err e = {0};
	char *p1 = tmp_path("r1.epub"), *p2 = tmp_path("r2.epub");
	size_t l1, l2;
	char *d1, *d2;

	(void)state;
	build_book(&fx, 1, 1);
	setenv("TZ", "UTC", 1);
	assert_int_equal(epub_write(&fx.b, p1, &e), 0);
	setenv("TZ", "America/New_York", 1); /* zip times must not depend on the local zone */
	assert_int_equal(epub_write(&fx.b, p2, &e), 0);
	unsetenv("TZ");
	d1 = slurp(p1, &l1);
	d2 = slurp(p2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(d1, d2, l1);
	free(d1);
	free(d2);
	release_fixture(&fx);
	free(p1);
	free(p2);
}

static int count_xhtml(zip_t *za)
{
	int n = 0;

	for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
		const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
		size_t len = strlen(name);
		if (len > 6 && strcmp(name + len - 6, ".xhtml") == 0)
			n++;
	}
	return n;
}

static void test_many_articles_share_files(void **state)
{
	enum { N_SEC = 12, PER_SEC = 50 };
	struct book b = {0};
	struct article *arts = xcalloc(N_SEC * PER_SEC, sizeof(*arts));
	struct err e = {0};
	char *path = tmp_path("big.epub");
	struct strlist hrefs = {0};
	zip_t *za;
	int zerr;

	(void)state;
	b.title = xstrdup("Big Digest");
	b.language = xstrdup("en_US"); /* as a config might spell it */
	b.identifier = xstrdup("urn:uuid:00000000-1111-4222-8333-444444444444");
	b.date = 1795500000;
	b.templates_dir = xstrdup(TEMPLATES);
	b.n_sections = N_SEC;
	b.sections = xcalloc(N_SEC, sizeof(*b.sections));
	for (int s = 0; s < N_SEC; s++) {
		struct book_section *sec = &b.sections[s];
		sec->title = xasprintf("Feed %d", s + 1);
		sec->n_articles = PER_SEC;
		sec->articles = xcalloc(PER_SEC, sizeof(*sec->articles));
		for (int i = 0; i < PER_SEC; i++) {
			struct article *a = &arts[s * PER_SEC + i];
			a->title = xasprintf("Article %d.%d", s + 1, i + 1);
			a->published = 1795400000 + i * 60;
			a->xhtml = xasprintf("<p>Body of article %d.%d.</p>", s + 1, i + 1);
			sec->articles[i] = (struct book_article){a, sec->title};
		}
	}
	arts[1].lang = xstrdup("de");
	free(arts[3].title);
	arts[3].title = xstrdup("  "); /* a blank title still needs a TOC label */
	struct epub_stats stats;
	assert_int_equal(epub_write_stats(&b, path, &stats, &e), 0);
	assert_true(stats.articles_per_file > 1);
	assert_true(stats.n_xhtml < 300);
	za = zip_open(path, ZIP_RDONLY, &zerr);
	assert_non_null(za);
	assert_int_equal(count_xhtml(za), (int)stats.n_xhtml);
	assert_true(count_xhtml(za) < 300);
	nav_toc_hrefs(za, &hrefs);
	assert_int_equal(hrefs.n, N_SEC + N_SEC * PER_SEC);
	/* Shared files are reached by fragment ids on the <article>, never on <body>. */
	assert_non_null(strchr(hrefs.items[2], '#'));
	strlist_release(&hrefs);
	{
		char *opf = zip_read_all(za, "OEBPS/content.opf", NULL);
		char *page = zip_read_all(za, "OEBPS/text/s01-a001.xhtml", NULL);
		assert_non_null(strstr(opf, "<dc:language>en-US</dc:language>"));
		assert_non_null(
		    strstr(page, "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
		                 "xmlns:epub=\"http://www.idpf.org/2007/ops\" lang=\"en-US\""));
		/* The German article shares the file: its own language on its <article>. */
		assert_non_null(strstr(page, "id=\"s01a002\" lang=\"de\" xml:lang=\"de\""));
		free(opf);
		free(page);
	}
	zip_close(za);
	assert_int_equal(run_check(path), 0);

	for (int i = 0; i < N_SEC * PER_SEC; i++)
		article_release(&arts[i]);
	free(arts);
	book_release(&b);
	free(path);
}

static void test_long_article_is_split(void **state)
{
	struct fixture fx;
	struct err e = {0};
	struct buf big = BUF_INIT;
	char *path = tmp_path("long.epub");
	zip_t *za;
	int zerr;
	zip_stat_t st;
	int parts = 0;

	(void)state;
	build_book(&fx, 0, 0);
	for (int i = 0; i < 20000; i++)
		buf_printf(&big,
		           "<p>第%d段：这是一段很长的文章内容，用来测试拆分超过两兆字节的文件。"
		           "Long article paragraph number %d.</p>",
		           i, i);
	assert_true(big.len > 2 * 1024 * 1024);
	free(fx.arts[2].xhtml);
	fx.arts[2].xhtml = buf_detach(&big, NULL);
	struct epub_stats stats;
	assert_int_equal(epub_write_stats(&fx.b, path, &stats, &e), 0);
	assert_int_equal(stats.n_split, 1);
	za = zip_open(path, ZIP_RDONLY, &zerr);
	assert_non_null(za);
	for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
		assert_int_equal(zip_stat_index(za, (zip_uint64_t)i, 0, &st), 0);
		if (strstr(st.name, ".xhtml"))
			assert_true(st.size < 2 * 1024 * 1024);
		if (strncmp(st.name, "OEBPS/text/s02-a001", 19) == 0)
			parts++;
	}
	assert_true(parts >= 2);
	assert_true(zip_name_locate(za, "OEBPS/text/s02-a001-2.xhtml", 0) >= 0);
	zip_close(za);
	assert_int_equal(run_check(path), 0);
	release_fixture(&fx);
	free(path);
}

/* The checker itself must catch what Kindle rejects. */
static void test_kindle_checker_catches_violations(void **state)
{
	char *path = tmp_path("bad.epub");
	char *cmd;
	zip_t *za;
	int zerr;
	static const char opf[] =
	    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">"
	    "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	    "<dc:language>ko</dc:language></metadata><manifest>"
	    "<item id=\"a\" href=\"a b.xhtml\" media-type=\"application/xhtml+xml\"/>"
	    "<item id=\"i\" href=\"x.webp\" media-type=\"image/webp\"/>"
	    "<item id=\"p\" href=\"y.png\" media-type=\"image/png\"/></manifest>"
	    "<spine><itemref idref=\"a\"/></spine></package>";
	static const char page[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><html "
	                           "xmlns=\"http://www.w3.org/1999/xhtml\">"
	                           "<body id=\"b\"><a href=\"#b\">x</a><img/></body></html>";
	static const char container[] =
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?><container version=\"1.0\" "
	    "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
	    "<rootfile full-path=\"content.opf\" media-type=\"application/oebps-package+xml\"/>"
	    "</rootfiles></container>";
	struct {
		const char *name, *data;
	} files[] = {
	    {"META-INF/container.xml", container},
	    {"mimetype", "application/epub+zip"},
	    {"content.opf", opf},
	    {"a b.xhtml", page},
	    {"x.webp", "RIFF....WEBP"},
	    {"META-INF/encryption.xml", "<encryption/>"},
	};
	/* A PNG header whose IHDR says grey + alpha (colour type 4). */
	static const char png_alpha[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01"
	                                "\x00\x00\x00\x01\x08\x04\x00\x00\x00\x00\x00\x00\x00"
	                                "\x00\x00\x00\x00IEND";
	FILE *p;
	char line[512];
	int n_lines = 0, saw_ko = 0, saw_body = 0, saw_webp = 0, saw_first = 0, saw_alpha = 0;

	(void)state;
	za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	assert_non_null(za);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		zip_source_t *src = zip_source_buffer(za, files[i].data, strlen(files[i].data), 0);
		assert_true(zip_file_add(za, files[i].name, src, 0) >= 0);
	}
	assert_true(zip_file_add(za, "y.png",
	                         zip_source_buffer(za, png_alpha, sizeof(png_alpha) - 1, 0),
	                         0) >= 0);
	assert_int_equal(zip_close(za), 0);
	cmd = xasprintf("python3 '%s' '%s'; echo rc=$?", KINDLE_CHECK, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		n_lines++;
		saw_ko |= strstr(line, "dc:language 'ko'") != NULL;
		saw_body |= strstr(line, "targets a <body> id") != NULL;
		saw_webp |= strstr(line, "x.webp: not JPEG or PNG") != NULL;
		saw_first |= strstr(line, "mimetype is not the first entry") != NULL;
		saw_alpha |= strstr(line, "y.png: PNG with an alpha channel") != NULL;
		if (strncmp(line, "rc=", 3) == 0)
			assert_string_equal(line, "rc=1\n");
	}
	pclose(p);
	assert_true(saw_ko && saw_body && saw_webp && saw_first && saw_alpha);
	assert_true(n_lines >= 8);
	free(cmd);
	free(path);
}

static void add_text(void *ctx, const char *text)
{
	buf_puts(ctx, text);
	buf_putc(ctx, '\n');
}

static void test_visit_text_sees_labels(void **state)
{
	struct fixture fx;
	struct buf all = BUF_INIT;

	(void)state;
	build_book(&fx, 0, 0);
	epub_visit_text(&fx.b, add_text, &all);
	assert_non_null(strstr(all.data, "大模型如何改变阅读"));
	assert_non_null(strstr(all.data, "人工智能正在改变"));
	assert_non_null(strstr(all.data, "新智元编辑部"));
	assert_non_null(strstr(all.data, "阅读原文")); /* template labels */
	assert_non_null(strstr(all.data, "目录"));
	assert_non_null(strstr(all.data, "下一篇"));
	buf_release(&all);
	release_fixture(&fx);
}

static void test_errors_leave_nothing(void **state)
{
	struct fixture fx;
	struct err e = {0};
	char *path = tmp_path("err.epub");
	struct stat sb;

	(void)state;
	build_book(&fx, 0, 0);
	free(fx.b.templates_dir);
	fx.b.templates_dir = tmp_path("no-such-templates");
	assert_int_equal(epub_write(&fx.b, path, &e), -1);
	assert_non_null(strstr(e.msg, "article.xhtml"));
	assert_int_equal(stat(path, &sb), -1);
	release_fixture(&fx);

	build_book(&fx, 0, 0);
	fx.b.sections[0].n_articles = 0;
	fx.b.sections[1].n_articles = 0;
	assert_int_equal(epub_write(&fx.b, path, &e), -1);
	assert_non_null(strstr(e.msg, "no articles"));
	assert_int_equal(stat(path, &sb), -1);
	release_fixture(&fx);
	free(path);
}

/* Pixel variance of a greyscale PNG: 0 for a blank page. */
static double png_variance(const char *path)
{
	png_image img;
	unsigned char *px;
	double sum = 0, sq = 0, n;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&img, path));
	img.format = PNG_FORMAT_GRAY;
	px = xmalloc(PNG_IMAGE_SIZE(img));
	assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
	n = (double)img.width * img.height;
	for (size_t i = 0; i < (size_t)img.width * img.height; i++) {
		sum += px[i];
		sq += (double)px[i] * px[i];
	}
	free(px);
	return sq / n - (sum / n) * (sum / n);
}

/* MuPDF renders the Chinese article and gives its text back. */
static void test_mupdf_renders_chinese(void **state)
{
	struct fixture fx;
	struct err e = {0};
	char *path = tmp_path("render.epub"), *txt = tmp_path("render.txt");
	char *png = tmp_path("render-%d.png");
	char *cmd, *text;
	size_t len;

	(void)state;
	build_book(&fx, 1, 1);
	assert_int_equal(epub_write(&fx.b, path, &e), 0);
	cmd = xasprintf("mutool draw -q -F txt -o '%s' '%s' 2>/dev/null", txt, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	text = slurp(txt, &len);
	assert_non_null(strstr(text, "人工智能正在改变新闻的阅读方式"));
	assert_non_null(strstr(text, "大模型如何改变阅读"));
	assert_non_null(strstr(text, "Reading on e-ink"));
	free(text);
	/* MuPDF uses no system fonts: the CJK text is drawn with the embedded subset. */
	cmd = xasprintf("mutool draw -q -F stext -o '%s' '%s' 4 2>/dev/null", txt, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	text = slurp(txt, &len);
	assert_non_null(strstr(text, "font name=\"WenQuanYi Micro Hei"));
	free(text);
	/* Cover, contents and the Chinese article drawn to PNG: each shows ink on paper. */
	cmd = xasprintf("mutool draw -q -r 72 -c gray -o '%s' '%s' 1-4 2>/dev/null", png, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	for (int page = 1; page <= 4; page++) {
		char *file = xasprintf("%s/render-%d.png", tmpdir, page);
		double v = png_variance(file);
		if (page != 3) /* page 3 is the short section list: little ink, still some */
			assert_true(v > 100.0);
		else
			assert_true(v > 10.0);
		free(file);
	}
	if (getenv("INKDIGEST_KEEP_RENDER"))
		fprintf(stderr, "rendered pages to %s\n", png);
	release_fixture(&fx);
	free(path);
	free(txt);
	free(png);
}

static int setup(void **state)
{
	const char *keep = getenv("INKDIGEST_KEEP_RENDER");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s", keep ? keep : "/tmp/test_epub.XXXXXX");
	if (keep)
		return mkdir(tmpdir, 0700) == 0 || errno == EEXIST ? 0 : -1;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd;

	(void)state;
	if (getenv("INKDIGEST_KEEP_RENDER"))
		return 0;
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_book_passes_checks),
	    cmocka_unit_test(test_images_from_one_file),
	    cmocka_unit_test(test_reproducible),
	    cmocka_unit_test(test_many_articles_share_files),
	    cmocka_unit_test(test_long_article_is_split),
	    cmocka_unit_test(test_kindle_checker_catches_violations),
	    cmocka_unit_test(test_errors_leave_nothing),
	    cmocka_unit_test(test_visit_text_sees_labels),
	    cmocka_unit_test(test_mupdf_renders_chinese),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
