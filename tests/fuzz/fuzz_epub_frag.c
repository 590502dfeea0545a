/* libFuzzer target for the book's fragment import (src/epub_frag.c): any bytes (up to 256 KB)
 * as an article's cleaned XHTML; aborts unless the imported page serialises and parses back as
 * well-formed XML and every image it shows is one the book embeds. No files, no network. */
#include <libxml/parser.h>

#include "epub_frag.h"

#define MAX_INPUT_BYTES (256 * 1024)

static void quiet(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT_BYTES)
		return 0;
	xmlSetStructuredErrorFunc(NULL, quiet);
	char *frag = xstrndup((const char *)data, size);
	static unsigned char usable[1] = {1};
	static struct book_image im = {.url = "https://a.example/b.jpg",
	                               .href = "images/0001.jpg",
	                               .path = "/nonexistent",
	                               .width = 600,
	                               .height = 400};
	static struct book b = {.images = &im, .n_images = 1};
	struct strlist used = {0};
	struct frag_images fi = {&b, usable, "../", &used};

	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root = xmlNewDocNode(doc, NULL, BAD_CAST "div", NULL);
	xmlDocSetRootElement(doc, root);
	epub_frag_import(doc, root, frag, &fi);

	xmlBuffer *xb = xmlBufferCreate();
	xmlNodeDump(xb, doc, root, 0, 0);
	xmlDoc *back = xmlReadMemory((const char *)xmlBufferContent(xb), xmlBufferLength(xb), NULL,
	                             "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR);
	if (!back) {
		fprintf(stderr, "fuzz_epub_frag: not well-formed:\n%s\n", xmlBufferContent(xb));
		abort();
	}
	for (size_t i = 0; i < used.n; i++)
		if (strcmp(used.items[i], "images/0001.jpg") != 0) {
			fprintf(stderr, "fuzz_epub_frag: shows an image the book lacks: %s\n",
			        used.items[i]);
			abort();
		}
	xmlFreeDoc(back);
	xmlBufferFree(xb);
	xmlFreeDoc(doc);
	strlist_release(&used);
	free(frag);
	return 0;
}
