/* Stage `epub`: writes a book (model.h) as an EPUB 3 with an EPUB 2 NCX through libzip. Every
 * XML file is a libxml2 tree (pages are the user's templates with their data-slot elements
 * filled). Reads the template, image, cover and font files named in the book; writes only the
 * path it is given. Never fetches, never changes the book, never obfuscates fonts. */
#include "epub.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <sys/stat.h>
#include <zip.h>

#include "epub_frag.h"

/* Kindle: fewer than 300 XHTML files; we keep every file well under 2 MB. */
#define MAX_XHTML_FILES 299
#define PART_MAX_BYTES (1536 * 1024)
#define MAX_IMAGE_BYTES (64u << 20)
#define MAX_FONT_BYTES (64u << 20)

#define NS_OPF "http://www.idpf.org/2007/opf"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_NCX "http://www.daisy.org/z3986/2005/ncx/"

struct art {
	const struct book_article *ba;
	size_t sec;
	size_t num;       /* 1-based within its section */
	char anchor[32];  /* id of its <article> element */
	const char *lang; /* borrowed */
	xmlDoc *holder;   /* imported content: the children of the root <div> */
	size_t n_parts;
	size_t *part_n;    /* top-level content nodes per part */
	size_t *part_file; /* page index per part */
	size_t bytes;
};

struct sec {
	const struct book_section *bs;
	size_t num;
	const char *lang;
	size_t first_art, n_art;
	size_t page;
};

enum page_kind { PAGE_SECTION, PAGE_ARTICLES };

struct page {
	char *name; /* file name inside OEBPS/text/ */
	char id[40];
	enum page_kind kind;
	size_t sec;
	size_t first_art, n_art; /* PAGE_ARTICLES: articles (or one article's part) it holds */
	size_t part;
	size_t bytes;
};

struct writer {
	const struct book *b;
	struct err *e;
	zip_t *za;
	zip_uint16_t dtime, ddate;
	const char *lang;
	xmlDoc *t_article, *t_section, *t_nav, *t_cover;
	struct buf css;
	unsigned char *usable;
	struct strlist used_images;
	struct art *arts;
	size_t n_arts;
	struct sec *secs;
	size_t n_secs;
	struct page *pages;
	size_t n_pages, cap_pages;
	size_t per_file;
	int n_fallback;
	/* Text pages, serialized before the OPF (which lists their images) and zipped after it,
	 * so the archive reads in a natural order. */
	char **pend_data;
	size_t *pend_len;
	struct strlist langs; /* normalized language tags the fields above point into */
};

/* ---- small helpers ---- */

static void silent_error(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

/* Template comments are notes for the person editing them, not for every page of the book. */
static void strip_comments(xmlNode *n)
{
	while (n) {
		xmlNode *next = n->next;
		if (n->type == XML_COMMENT_NODE) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		} else if (n->type == XML_ELEMENT_NODE) {
			strip_comments(n->children);
		}
		n = next;
	}
}

static xmlDoc *load_template(struct writer *w, const char *name)
{
	char *path = util_path_join(w->b->templates_dir, name);
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	xmlDoc *doc;

	if (!ctxt)
		die_oom();
	ctxt->sax->serror = silent_error;
	doc = xmlCtxtReadFile(ctxt, path, NULL,
	                      XML_PARSE_NONET | XML_PARSE_NODICT | XML_PARSE_NOERROR |
	                          XML_PARSE_NOWARNING);
	if (!doc || !xmlDocGetRootElement(doc)) {
		xmlError *le = xmlCtxtGetLastError(ctxt);
		if (le && le->message)
			err_set(w->e, 1, "epub: template %s:%d: %.*s", path, le->line,
			        (int)strcspn(le->message, "\n"), le->message);
		else
			err_set(w->e, 1, "epub: template %s: cannot read", path);
		xmlFreeDoc(doc);
		doc = NULL;
	} else {
		strip_comments(doc->children);
	}
	xmlFreeParserCtxt(ctxt);
	free(path);
	return doc;
}

static int attr_is(xmlNode *n, const char *name, const char *value)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	int r = v && strcmp((const char *)v, value) == 0;

	xmlFree(v);
	return r;
}

static xmlNode *find_slot(xmlNode *n, const char *slot)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (attr_is(n, "data-slot", slot))
			return n;
		xmlNode *r = find_slot(n->children, slot);
		if (r)
			return r;
	}
	return NULL;
}

static int only_blank_text(xmlNode *n)
{
	for (n = n->children; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			return 0;
		if (n->type == XML_TEXT_NODE && n->content) {
			for (const xmlChar *p = n->content; *p; p++)
				if (!isspace(*p))
					return 0;
		}
	}
	return 1;
}

/* Removes an unused slot, and its parent when nothing but whitespace is left in it. */
static void drop_node(xmlNode *n)
{
	xmlNode *parent;

	if (!n)
		return;
	parent = n->parent;
	xmlUnlinkNode(n);
	xmlFreeNode(n);
	if (parent && parent->type == XML_ELEMENT_NODE && parent->parent &&
	    parent->parent->type == XML_ELEMENT_NODE && only_blank_text(parent) &&
	    !xmlHasProp(parent, BAD_CAST "data-slot") &&
	    strcmp((const char *)parent->name, "body") != 0)
		drop_node(parent);
}

/* Valid UTF-8 with only the characters XML allows. */
static char *sanitize(const char *s)
{
	return util_utf8_sanitize(s, strlen(s));
}

static void set_text(xmlNode *n, const char *text)
{
	char *clean;

	if (!n)
		return;
	clean = sanitize(text);
	/* xmlNodeAddContent takes the text literally (xmlNodeSetContent would parse '&'). */
	xmlNodeSetContent(n, NULL);
	xmlNodeAddContent(n, BAD_CAST clean);
	free(clean);
}

static void fill_slot(xmlNode *root, const char *slot, const char *text)
{
	xmlNode *n = find_slot(root, slot);

	if (!n)
		return;
	if (text && *text)
		set_text(n, text);
	else
		drop_node(n);
}

static void set_lang(xmlNode *n, const char *lang)
{
	xmlSetProp(n, BAD_CAST "lang", BAD_CAST lang);
	xmlNodeSetLang(n, BAD_CAST lang);
}

/* Primary language subtag ("zh" of "zh-CN") matches the label attribute's suffix. */
static int lang_matches(const char *lang, const char *tag)
{
	size_t n = strcspn(lang, "-");

	return strlen(tag) == n && strncasecmp(lang, tag, n) == 0;
}

/* Applies data-label-<lang> texts and removes the template's marks. */
static void finish_marks(xmlNode *n, const char *lang)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		xmlAttr *a = n->properties;
		while (a) {
			xmlAttr *next = a->next;
			const char *name = (const char *)a->name;
			if (!a->ns && strncmp(name, "data-label-", 11) == 0) {
				if (lang_matches(lang, name + 11)) {
					xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
					set_text(n, v ? (const char *)v : "");
					xmlFree(v);
				}
				xmlRemoveProp(a);
			} else if (!a->ns && strcmp(name, "data-slot") == 0) {
				xmlRemoveProp(a);
			}
			a = next;
		}
		finish_marks(n->children, lang);
	}
}

static void set_ns_tree(xmlNode *n, xmlNs *ns)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!n->ns)
			xmlSetNs(n, ns);
		set_ns_tree(n->children, ns);
	}
}

static char *serialize(xmlDoc *doc, int xhtml, size_t *len)
{
	xmlBuffer *xb = xmlBufferCreate();
	xmlSaveCtxt *sc;
	char *out;

	if (!xb)
		die_oom();
	sc = xmlSaveToBuffer(xb, "utf-8", xhtml ? XML_SAVE_XHTML : 0);
	if (!sc)
		die_oom();
	xmlSaveDoc(sc, doc);
	xmlSaveClose(sc);
	*len = (size_t)xmlBufferLength(xb);
	out = xmalloc(*len + 1);
	memcpy(out, xmlBufferContent(xb), *len);
	out[*len] = '\0';
	xmlBufferFree(xb);
	return out;
}

static size_t node_bytes(xmlDoc *doc, xmlNode *n)
{
	xmlBuffer *xb = xmlBufferCreate();
	size_t len;

	if (!xb)
		die_oom();
	xmlNodeDump(xb, doc, n, 0, 0);
	len = (size_t)xmlBufferLength(xb);
	xmlBufferFree(xb);
	return len;
}

enum time_style { TIME_FULL, TIME_SHORT };

static void format_local(const struct book *b, int64_t t, enum time_style st, char *out,
                         size_t size)
{
	time_t tt = (time_t)(t + b->tz_offset_s);
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm)) {
		out[0] = '\0';
		return;
	}
	if (st == TIME_FULL)
		strftime(out, size, "%Y-%m-%d %H:%M", &tm);
	else
		strftime(out, size, "%m-%d %H:%M", &tm);
}

/* A label for the TOC and headings: nav links must have text, so blank becomes a word. */
static const char *label_or(const char *t, const char *fallback)
{
	if (t)
		for (const char *p = t; *p; p++)
			if (!isspace((unsigned char)*p))
				return t;
	return fallback;
}

static const char *art_title(const struct art *a)
{
	return label_or(a->ba->article->title, "Untitled");
}

static const char *sec_title(const struct sec *sc)
{
	return label_or(sc->bs->title, "Feed");
}

/* ---- zip ---- */

/* Compression (stored, or deflate at 9) and the book's fixed date for member idx. */
static int ez_set_attrs(struct writer *w, const char *name, zip_int64_t idx, int store)
{
	if (zip_set_file_compression(w->za, (zip_uint64_t)idx,
	                             store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, store ? 0 : 9) < 0 ||
	    zip_file_set_dostime(w->za, (zip_uint64_t)idx, w->dtime, w->ddate, 0) < 0) {
		err_set(w->e, 1, "epub: %s: %s", name, zip_strerror(w->za));
		return -1;
	}
	return 0;
}

static int ez_add(struct writer *w, const char *name, char *data, size_t len, int store)
{
	zip_source_t *src = zip_source_buffer(w->za, data, len, 1);
	zip_int64_t idx;

	if (!src) {
		free(data);
		err_set(w->e, 1, "epub: %s: %s", name, zip_strerror(w->za));
		return -1;
	}
	idx = zip_file_add(w->za, name, src, ZIP_FL_ENC_GUESS);
	if (idx < 0) {
		zip_source_free(src);
		err_set(w->e, 1, "epub: add %s: %s", name, zip_strerror(w->za));
		return -1;
	}
	return ez_set_attrs(w, name, idx, store);
}

static int ez_add_doc(struct writer *w, const char *name, xmlDoc *doc, int xhtml)
{
	size_t len;
	char *data = serialize(doc, xhtml, &len);

	return ez_add(w, name, data, len, 0);
}

/* DOS time of the digest's local date, so that libzip's localtime() plays no part. */
static void set_dostime(struct writer *w)
{
	time_t tt = (time_t)(w->b->date + w->b->tz_offset_s);
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || tm.tm_year < 80) {
		w->dtime = 0;
		w->ddate = (1 << 5) | 1; /* 1980-01-01 */
		return;
	}
	if (tm.tm_year > 207)
		tm.tm_year = 207;
	w->dtime = (zip_uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
	w->ddate = (zip_uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

/* ---- images ---- */

/* The media type of an image the book may carry: JPEG, or PNG without an alpha channel
 * (Kindle has no transparency). NULL for anything else. */
static const char *sniff_image_at(const char *path, int64_t offset)
{
	unsigned char m[26] = {0};
	FILE *f = path ? fopen(path, "rb") : NULL;
	size_t n;

	if (!f)
		return NULL;
	if (offset > 0 && fseeko(f, (off_t)offset, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	n = fread(m, 1, sizeof(m), f);
	fclose(f);
	if (n >= 3 && m[0] == 0xff && m[1] == 0xd8 && m[2] == 0xff)
		return "image/jpeg";
	if (n == sizeof(m) && memcmp(m, "\x89PNG\r\n\x1a\n", 8) == 0 && m[25] != 4 && m[25] != 6)
		return "image/png";
	return NULL;
}

static const char *sniff_image(const char *path)
{
	return sniff_image_at(path, 0);
}

static int safe_href(const char *h)
{
	if (!h || !*h || h[0] == '/' || strstr(h, ".."))
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr("._-/", *h))
			return 0;
	return 1;
}

static void check_images(struct writer *w)
{
	const struct book *b = w->b;

	w->usable = xcalloc(b->n_images ? b->n_images : 1, 1);
	for (size_t i = 0; i < b->n_images; i++) {
		const struct book_image *im = &b->images[i];
		w->usable[i] = safe_href(im->href) && strncmp(im->href, "images/cover.", 13) != 0 &&
		               sniff_image_at(im->path, im->offset) != NULL;
	}
}

/* ---- layout ---- */

/* A language tag as written in configs and feeds ("zh_CN", " en-us ") made well-formed, kept
 * in the writer; NULL when it cannot be. */
static const char *norm_lang(struct writer *w, const char *tag)
{
	char *t;

	if (!tag)
		return NULL;
	t = xstrdup(tag);
	util_trim(t);
	for (char *p = t; *p; p++)
		if (*p == '_')
			*p = '-';
	if (!epub_valid_lang(t)) {
		free(t);
		return NULL;
	}
	strlist_add_owned(&w->langs, t);
	return t;
}

static const char *pick_lang(struct writer *w, const char *a, const char *b)
{
	const char *n = norm_lang(w, a);

	return n ? n : b;
}

/* Splits the holder's top-level nodes into parts under PART_MAX_BYTES each. Oversized nodes
 * are unwrapped into their children first. */
static void plan_parts(struct art *a)
{
	xmlNode *root = xmlDocGetRootElement(a->holder);
	size_t cap = 4, cur_bytes = 0, cur_n = 0;

	for (xmlNode *n = root->children; n;) {
		size_t nb = node_bytes(a->holder, n);
		if (nb > PART_MAX_BYTES && n->type == XML_ELEMENT_NODE && n->children) {
			xmlNode *next = n->children;
			while (n->children) {
				xmlNode *c = n->children;
				xmlUnlinkNode(c);
				xmlAddPrevSibling(n, c);
			}
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			n = next;
			continue;
		}
		if (nb > PART_MAX_BYTES && n->type == XML_TEXT_NODE) {
			/* Cut a giant text node at a UTF-8 boundary into pieces. */
			size_t len = strlen((const char *)n->content), cut = PART_MAX_BYTES / 2;
			while (cut < len && (n->content[cut] & 0xc0) == 0x80)
				cut++;
			xmlNode *rest = xmlNewDocText(a->holder, n->content + cut);
			n->content[cut] = '\0';
			xmlAddNextSibling(n, rest);
			continue;
		}
		a->bytes += nb;
		if (cur_n && cur_bytes + nb > PART_MAX_BYTES) {
			if (a->n_parts + 1 >= cap)
				cap *= 2;
			a->part_n = xrealloc(a->part_n, cap * sizeof(*a->part_n));
			a->part_n[a->n_parts++] = cur_n;
			cur_n = 0;
			cur_bytes = 0;
		}
		cur_n++;
		cur_bytes += nb;
		n = n->next;
	}
	a->part_n = xrealloc(a->part_n, (a->n_parts + 2) * sizeof(*a->part_n));
	a->part_n[a->n_parts++] = cur_n;
	a->part_file = xcalloc(a->n_parts, sizeof(*a->part_file));
}

static int prepare_articles(struct writer *w)
{
	const struct book *b = w->b;
	struct frag_images im = {b, w->usable, "../", &w->used_images};
	size_t n = 0;

	for (size_t s = 0; s < b->n_sections; s++)
		n += b->sections[s].n_articles;
	w->arts = xcalloc(n ? n : 1, sizeof(*w->arts));
	w->secs = xcalloc(b->n_sections ? b->n_sections : 1, sizeof(*w->secs));
	for (size_t s = 0; s < b->n_sections; s++) {
		const struct book_section *bs = &b->sections[s];
		struct sec *sc;
		if (!bs->n_articles)
			continue;
		sc = &w->secs[w->n_secs];
		sc->bs = bs;
		sc->num = w->n_secs + 1;
		sc->lang = pick_lang(w, bs->lang, w->lang);
		sc->first_art = w->n_arts;
		for (size_t i = 0; i < bs->n_articles; i++) {
			struct art *a = &w->arts[w->n_arts++];
			const struct article *ar = bs->articles[i].article;
			a->ba = &bs->articles[i];
			a->sec = w->n_secs;
			a->num = i + 1;
			snprintf(a->anchor, sizeof(a->anchor), "s%02zua%03zu", sc->num, a->num);
			/* A feed's configured language wins over what its items claim. */
			a->lang =
			    norm_lang(w, bs->lang) ? sc->lang : pick_lang(w, ar->lang, sc->lang);
			a->holder = xmlNewDoc(BAD_CAST "1.0");
			if (!a->holder)
				die_oom();
			xmlDocSetRootElement(a->holder,
			                     xmlNewDocNode(a->holder, NULL, BAD_CAST "div", NULL));
			w->n_fallback +=
			    epub_frag_import(a->holder, xmlDocGetRootElement(a->holder),
			                     ar->xhtml ? ar->xhtml : ar->content, &im);
			plan_parts(a);
		}
		sc->n_art = bs->n_articles;
		w->n_secs++;
	}
	if (!w->n_arts) {
		err_set(w->e, 1, "epub: book \"%s\" has no articles", b->title ? b->title : "");
		return -1;
	}
	return 0;
}

static struct page *new_page(struct writer *w, enum page_kind kind, size_t sec, char *name)
{
	struct page *p;

	if (w->n_pages == w->cap_pages) {
		w->cap_pages = w->cap_pages ? 2 * w->cap_pages : 64;
		w->pages = xrealloc(w->pages, w->cap_pages * sizeof(*w->pages));
	}
	p = &w->pages[w->n_pages++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->sec = sec;
	p->name = name;
	snprintf(p->id, sizeof(p->id), "p-%.*s", (int)(strcspn(name, ".")), name);
	return p;
}

/* Packs articles into files, at most k articles and PART_MAX_BYTES per file; an article in
 * several parts gets files of its own. With emit == 0 only counts. */
static size_t pack(struct writer *w, size_t k, int emit)
{
	size_t count = 0;

	for (size_t s = 0; s < w->n_secs; s++) {
		struct sec *sc = &w->secs[s];
		size_t cur = 0, cur_n = 0, cur_bytes = 0; /* cur: index, as new_page reallocs */
		count++;
		if (emit) {
			new_page(w, PAGE_SECTION, s, xasprintf("s%02zu.xhtml", sc->num));
			sc->page = w->n_pages - 1;
		}
		for (size_t i = 0; i < sc->n_art; i++) {
			struct art *a = &w->arts[sc->first_art + i];
			if (a->n_parts > 1) {
				for (size_t p = 0; p < a->n_parts; p++) {
					count++;
					if (!emit)
						continue;
					struct page *pg = new_page(
					    w, PAGE_ARTICLES, s,
					    p ? xasprintf("s%02zu-a%03zu-%zu.xhtml", sc->num,
					                  a->num, p + 1)
					      : xasprintf("s%02zu-a%03zu.xhtml", sc->num, a->num));
					pg->first_art = sc->first_art + i;
					pg->n_art = 1;
					pg->part = p;
					a->part_file[p] = w->n_pages - 1;
				}
				cur_n = 0;
				continue;
			}
			if (cur_n && cur_n < k && cur_bytes + a->bytes <= PART_MAX_BYTES) {
				cur_n++;
				cur_bytes += a->bytes;
				if (emit) {
					w->pages[cur].n_art++;
					a->part_file[0] = cur;
				}
				continue;
			}
			count++;
			cur_n = 1;
			cur_bytes = a->bytes;
			if (emit) {
				struct page *pg =
				    new_page(w, PAGE_ARTICLES, s,
				             xasprintf("s%02zu-a%03zu.xhtml", sc->num, a->num));
				pg->first_art = sc->first_art + i;
				pg->n_art = 1;
				cur = w->n_pages - 1;
				a->part_file[0] = cur;
			}
		}
	}
	return count;
}

static int plan_pages(struct writer *w)
{
	size_t fixed = 1 + (w->b->cover_path ? 1 : 0);
	size_t k = 1, max_k = 1;

	for (size_t s = 0; s < w->n_secs; s++)
		if (w->secs[s].n_art > max_k)
			max_k = w->secs[s].n_art;
	while (fixed + pack(w, k, 0) > MAX_XHTML_FILES && k < max_k)
		k++;
	if (fixed + pack(w, k, 0) > MAX_XHTML_FILES) {
		err_set(w->e, 1, "epub: %zu feeds with long articles need more than %d XHTML files",
		        w->n_secs, MAX_XHTML_FILES);
		return -1;
	}
	w->per_file = k;
	pack(w, k, 1);
	return 0;
}

/* Link from one text/ page to an article (its file, plus the fragment when it shares it). */
static char *art_href(struct writer *w, const struct art *a, const char *dir)
{
	const struct page *p = &w->pages[a->part_file[0]];

	if (p->n_art > 1)
		return xasprintf("%s%s#%s", dir, p->name, a->anchor);
	return xasprintf("%s%s", dir, p->name);
}

/* ---- pages ---- */

/* A deep copy of a template element, inserted before it, using the namespaces in scope there
 * (a plain xmlDocCopyNode would redeclare xmlns on every copy). */
static xmlNode *clone_before(xmlNode *tmpl)
{
	xmlNode *copy = NULL;

	if (xmlDOMWrapCloneNode(NULL, tmpl->doc, tmpl, &copy, tmpl->doc, tmpl->parent, 1, 0) != 0 ||
	    !copy)
		die_oom();
	xmlAddPrevSibling(tmpl, copy);
	return copy;
}

static xmlDoc *page_from(xmlDoc *tmpl, const char *lang, const char *title)
{
	xmlDoc *doc = xmlCopyDoc(tmpl, 1);
	xmlNode *root;

	if (!doc)
		die_oom();
	root = xmlDocGetRootElement(doc);
	set_lang(root, lang);
	if (title)
		fill_slot(root, "title", *title ? title : "Untitled");
	return doc;
}

static int finish_page(struct writer *w, xmlDoc *doc, const char *zipname, const char *lang)
{
	int rc;

	finish_marks(xmlDocGetRootElement(doc), lang);
	rc = ez_add_doc(w, zipname, doc, 1);
	xmlFreeDoc(doc);
	return rc;
}

static void keep_page(struct writer *w, size_t i, xmlDoc *doc, const char *lang)
{
	finish_marks(xmlDocGetRootElement(doc), lang);
	w->pend_data[i] = serialize(doc, 1, &w->pend_len[i]);
	w->pages[i].bytes = w->pend_len[i];
	xmlFreeDoc(doc);
}

static void set_href(xmlNode *n, const char *href)
{
	xmlSetProp(n, BAD_CAST "href", BAD_CAST href);
}

static void fill_link_slot(xmlNode *root, const char *slot, char *href)
{
	xmlNode *n = find_slot(root, slot);

	if (n && href)
		set_href(n, href);
	else
		drop_node(n);
	free(href);
}

static void fill_article(struct writer *w, xmlNode *node, size_t ai, size_t part,
                         const char *page_lang)
{
	struct art *a = &w->arts[ai];
	const struct article *ar = a->ba->article;
	int first = part == 0, last = part + 1 == a->n_parts;
	xmlNode *content = find_slot(node, "content");
	xmlNode *src = xmlDocGetRootElement(a->holder)->children;
	char when[64];

	if (first)
		xmlSetProp(node, BAD_CAST "id", BAD_CAST a->anchor);
	if (strcmp(a->lang, page_lang) != 0)
		set_lang(node, a->lang);
	format_local(w->b, ar->published, TIME_FULL, when, sizeof(when));
	fill_slot(node, "feed", first ? a->ba->feed_name : NULL);
	fill_slot(node, "heading", first ? art_title(a) : NULL);
	fill_slot(node, "author", first ? ar->author : NULL);
	fill_slot(node, "date", first ? when : NULL);
	if (content) {
		size_t skip = 0;
		for (size_t p = 0; p < part; p++)
			skip += a->part_n[p];
		for (; src && skip; src = src->next)
			skip--;
		for (size_t i = 0; src && i < a->part_n[part]; i++, src = src->next) {
			xmlNode *c = xmlDocCopyNode(src, node->doc, 1);
			if (!c)
				die_oom();
			xmlAddChild(content, c);
			set_ns_tree(c, content->ns);
		}
	}
	fill_link_slot(node, "link", last ? epub_safe_url(ar->link) : NULL);
	fill_link_slot(node, "prev", last && ai > 0 ? art_href(w, &w->arts[ai - 1], "") : NULL);
	fill_link_slot(node, "next",
	               last && ai + 1 < w->n_arts ? art_href(w, &w->arts[ai + 1], "") : NULL);
	fill_link_slot(node, "up", last ? xstrdup(w->pages[w->secs[a->sec].page].name) : NULL);
}

static int write_article_page(struct writer *w, struct page *pg)
{
	const struct art *first = &w->arts[pg->first_art];
	const char *lang = pg->n_art == 1 ? first->lang : w->secs[pg->sec].lang;
	xmlDoc *doc = page_from(w->t_article, lang, art_title(first));
	xmlNode *slot = find_slot(xmlDocGetRootElement(doc), "article");

	if (!slot) {
		xmlFreeDoc(doc);
		err_set(w->e, 1,
		        "epub: template article.xhtml: no element with data-slot=\"article\"");
		return -1;
	}
	for (size_t i = 0; i < pg->n_art; i++) {
		xmlNode *copy = clone_before(slot);
		fill_article(w, copy, pg->first_art + i, pg->part, lang);
	}
	xmlUnlinkNode(slot);
	xmlFreeNode(slot);
	keep_page(w, (size_t)(pg - w->pages), doc, lang);
	return 0;
}

static int write_section_page(struct writer *w, struct page *pg)
{
	const struct sec *sc = &w->secs[pg->sec];
	xmlDoc *doc = page_from(w->t_section, sc->lang, sec_title(sc));
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *item = find_slot(root, "item");

	fill_slot(root, "heading", sec_title(sc));
	if (!item) {
		xmlFreeDoc(doc);
		err_set(w->e, 1,
		        "epub: template section.xhtml: no element with data-slot=\"item\"");
		return -1;
	}
	for (size_t i = 0; i < sc->n_art; i++) {
		const struct art *a = &w->arts[sc->first_art + i];
		xmlNode *copy = clone_before(item);
		xmlNode *link;
		char when[64];
		link = find_slot(copy, "link");
		if (link) {
			char *href = art_href(w, a, "");
			set_href(link, href);
			set_text(link, art_title(a));
			free(href);
		}
		format_local(w->b, a->ba->article->published, TIME_SHORT, when, sizeof(when));
		fill_slot(copy, "author", a->ba->article->author);
		fill_slot(copy, "date", when);
	}
	xmlUnlinkNode(item);
	xmlFreeNode(item);
	keep_page(w, (size_t)(pg - w->pages), doc, sc->lang);
	return 0;
}

static xmlNode *add_el(xmlNode *parent, xmlNs *ns, const char *name, const char *text)
{
	xmlNode *n = xmlNewChild(parent, ns, BAD_CAST name, NULL);

	if (!n)
		die_oom();
	if (text)
		set_text(n, text);
	return n;
}

static void add_nav_link(xmlNode *ol, const char *href, const char *text, const char *type)
{
	xmlNode *li = add_el(ol, ol->ns, "li", NULL);
	xmlNode *a = add_el(li, ol->ns, "a", text);

	set_href(a, href);
	if (type)
		xmlSetNsProp(a, xmlSearchNs(ol->doc, ol, BAD_CAST "epub"), BAD_CAST "type",
		             BAD_CAST type);
}

static int write_nav(struct writer *w)
{
	xmlDoc *doc = page_from(w->t_nav, w->lang, NULL);
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *toc = find_slot(root, "toc"), *lm = find_slot(root, "landmarks");

	if (!toc || !lm || !xmlSearchNs(doc, lm, BAD_CAST "epub")) {
		xmlFreeDoc(doc);
		err_set(w->e, 1,
		        "epub: template nav.xhtml: needs <ol data-slot=\"toc\"> and "
		        "<ol data-slot=\"landmarks\"> and the epub namespace");
		return -1;
	}
	for (size_t s = 0; s < w->n_secs; s++) {
		const struct sec *sc = &w->secs[s];
		char *href = xasprintf("text/%s", w->pages[sc->page].name);
		xmlNode *li = add_el(toc, toc->ns, "li", NULL);
		xmlNode *a = add_el(li, toc->ns, "a", sec_title(sc));
		xmlNode *ol = add_el(li, toc->ns, "ol", NULL);
		set_href(a, href);
		free(href);
		for (size_t i = 0; i < sc->n_art; i++) {
			const struct art *ar = &w->arts[sc->first_art + i];
			href = art_href(w, ar, "text/");
			add_nav_link(ol, href, art_title(ar), NULL);
			free(href);
		}
	}
	if (w->b->cover_path)
		add_nav_link(lm, "cover.xhtml", "Cover", "cover");
	add_nav_link(lm, "nav.xhtml#toc", "Contents", "toc");
	{
		char *href = xasprintf("text/%s", w->pages[0].name);
		add_nav_link(lm, href, "Start", "bodymatter");
		free(href);
	}
	return finish_page(w, doc, "OEBPS/nav.xhtml", w->lang);
}

static int write_cover_page(struct writer *w)
{
	xmlDoc *doc = page_from(w->t_cover, w->lang, w->b->title);
	xmlNode *img = find_slot(xmlDocGetRootElement(doc), "cover");

	if (!img) {
		xmlFreeDoc(doc);
		err_set(w->e, 1, "epub: template cover.xhtml: no <img data-slot=\"cover\">");
		return -1;
	}
	xmlSetProp(img, BAD_CAST "src", BAD_CAST "images/cover.jpg");
	xmlSetProp(img, BAD_CAST "alt", BAD_CAST(w->b->title ? w->b->title : "Cover"));
	return finish_page(w, doc, "OEBPS/cover.xhtml", w->lang);
}

/* ---- package documents ---- */

static void add_meta(xmlNode *parent, xmlNs *ns, const char *name, const char *content)
{
	xmlNode *m = add_el(parent, ns, "meta", NULL);

	xmlSetProp(m, BAD_CAST "name", BAD_CAST name);
	xmlSetProp(m, BAD_CAST "content", BAD_CAST content);
}

static void add_item(xmlNode *manifest, const char *id, const char *href, const char *type,
                     const char *props)
{
	xmlNode *it = add_el(manifest, manifest->ns, "item", NULL);

	xmlSetProp(it, BAD_CAST "id", BAD_CAST id);
	xmlSetProp(it, BAD_CAST "href", BAD_CAST href);
	xmlSetProp(it, BAD_CAST "media-type", BAD_CAST type);
	if (props)
		xmlSetProp(it, BAD_CAST "properties", BAD_CAST props);
}

static void add_itemref(xmlNode *spine, const char *idref)
{
	xmlSetProp(add_el(spine, spine->ns, "itemref", NULL), BAD_CAST "idref", BAD_CAST idref);
}

static void add_reference(xmlNode *guide, const char *type, const char *title, const char *href)
{
	xmlNode *r = add_el(guide, guide->ns, "reference", NULL);

	xmlSetProp(r, BAD_CAST "type", BAD_CAST type);
	xmlSetProp(r, BAD_CAST "title", BAD_CAST title);
	xmlSetProp(r, BAD_CAST "href", BAD_CAST href);
}

static const char *font_ext(const struct book *b)
{
	return b->font_media_type && strstr(b->font_media_type, "otf") ? "otf" : "ttf";
}

static int write_opf(struct writer *w, const char **image_types)
{
	const struct book *b = w->b;
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *pkg, *md, *man, *spine, *n;
	xmlNs *opf, *dc;
	char stamp[32];
	int rc;

	if (!doc)
		die_oom();
	pkg = xmlNewDocNode(doc, NULL, BAD_CAST "package", NULL);
	xmlDocSetRootElement(doc, pkg);
	opf = xmlNewNs(pkg, BAD_CAST NS_OPF, NULL);
	xmlSetNs(pkg, opf);
	xmlSetProp(pkg, BAD_CAST "version", BAD_CAST "3.0");
	xmlSetProp(pkg, BAD_CAST "unique-identifier", BAD_CAST "bookid");
	xmlNodeSetLang(pkg, BAD_CAST w->lang);

	md = add_el(pkg, opf, "metadata", NULL);
	dc = xmlNewNs(md, BAD_CAST NS_DC, BAD_CAST "dc");
	n = add_el(md, dc, "identifier", b->identifier);
	xmlSetProp(n, BAD_CAST "id", BAD_CAST "bookid");
	add_el(md, dc, "title", b->title && *b->title ? b->title : "inkdigest");
	add_el(md, dc, "language", w->lang);
	add_el(md, dc, "creator", "inkdigest");
	util_format_rfc3339(b->date, stamp, sizeof(stamp));
	add_el(md, dc, "date", stamp);
	for (size_t i = 0; i < b->subjects.n; i++)
		if (b->subjects.items[i] && *b->subjects.items[i])
			add_el(md, dc, "subject", b->subjects.items[i]);
	n = add_el(md, opf, "meta", stamp);
	xmlSetProp(n, BAD_CAST "property", BAD_CAST "dcterms:modified");
	if (b->cover_path)
		add_meta(md, opf, "cover", "cover-image");

	man = add_el(pkg, opf, "manifest", NULL);
	add_item(man, "ncx", "toc.ncx", "application/x-dtbncx+xml", NULL);
	add_item(man, "nav", "nav.xhtml", "application/xhtml+xml", "nav");
	add_item(man, "css", "style.css", "text/css", NULL);
	if (b->cover_path) {
		add_item(man, "cover", "cover.xhtml", "application/xhtml+xml", NULL);
		add_item(man, "cover-image", "images/cover.jpg", "image/jpeg", "cover-image");
	}
	for (size_t i = 0; i < w->n_pages; i++) {
		char *href = xasprintf("text/%s", w->pages[i].name);
		add_item(man, w->pages[i].id, href, "application/xhtml+xml", NULL);
		free(href);
	}
	for (size_t i = 0; i < w->used_images.n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "img%04zu", i + 1);
		add_item(man, id, w->used_images.items[i], image_types[i], NULL);
	}
	if (b->font_path) {
		char *href = xasprintf("fonts/subset.%s", font_ext(b));
		add_item(man, "font", href,
		         strcmp(font_ext(b), "otf") == 0 ? "font/otf" : "font/ttf", NULL);
		free(href);
	}

	spine = add_el(pkg, opf, "spine", NULL);
	xmlSetProp(spine, BAD_CAST "toc", BAD_CAST "ncx");
	if (b->cover_path)
		add_itemref(spine, "cover");
	add_itemref(spine, "nav");
	for (size_t i = 0; i < w->n_pages; i++)
		add_itemref(spine, w->pages[i].id);

	/* EPUB 2 guide: older Kindle converters take "Go to beginning" and the cover from it. */
	{
		xmlNode *guide = add_el(pkg, opf, "guide", NULL);
		char *start = xasprintf("text/%s", w->pages[0].name);
		if (b->cover_path)
			add_reference(guide, "cover", "Cover", "cover.xhtml");
		add_reference(guide, "toc", "Contents", "nav.xhtml");
		add_reference(guide, "text", "Start", start);
		free(start);
	}

	rc = ez_add_doc(w, "OEBPS/content.opf", doc, 0);
	xmlFreeDoc(doc);
	return rc;
}

static void ncx_point(xmlNode *parent, xmlNs *ns, int *order, const char *label, const char *src,
                      xmlNode **out)
{
	char id[32], num[16];
	xmlNode *np = add_el(parent, ns, "navPoint", NULL);

	(*order)++;
	snprintf(id, sizeof(id), "np%d", *order);
	snprintf(num, sizeof(num), "%d", *order);
	xmlSetProp(np, BAD_CAST "id", BAD_CAST id);
	xmlSetProp(np, BAD_CAST "playOrder", BAD_CAST num);
	add_el(add_el(np, ns, "navLabel", NULL), ns, "text", label);
	xmlSetProp(add_el(np, ns, "content", NULL), BAD_CAST "src", BAD_CAST src);
	if (out)
		*out = np;
}

static int write_ncx(struct writer *w)
{
	const struct book *b = w->b;
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *ncx, *head, *map;
	xmlNs *ns;
	int order = 0, rc;

	if (!doc)
		die_oom();
	ncx = xmlNewDocNode(doc, NULL, BAD_CAST "ncx", NULL);
	xmlDocSetRootElement(doc, ncx);
	ns = xmlNewNs(ncx, BAD_CAST NS_NCX, NULL);
	xmlSetNs(ncx, ns);
	xmlSetProp(ncx, BAD_CAST "version", BAD_CAST "2005-1");
	xmlNodeSetLang(ncx, BAD_CAST w->lang);
	head = add_el(ncx, ns, "head", NULL);
	add_meta(head, ns, "dtb:uid", b->identifier);
	add_meta(head, ns, "dtb:depth", "2");
	add_meta(head, ns, "dtb:totalPageCount", "0");
	add_meta(head, ns, "dtb:maxPageNumber", "0");
	add_el(add_el(ncx, ns, "docTitle", NULL), ns, "text",
	       b->title && *b->title ? b->title : "inkdigest");
	map = add_el(ncx, ns, "navMap", NULL);
	for (size_t s = 0; s < w->n_secs; s++) {
		const struct sec *sc = &w->secs[s];
		char *src = xasprintf("text/%s", w->pages[sc->page].name);
		xmlNode *np;
		ncx_point(map, ns, &order, sec_title(sc), src, &np);
		free(src);
		for (size_t i = 0; i < sc->n_art; i++) {
			const struct art *a = &w->arts[sc->first_art + i];
			src = art_href(w, a, "text/");
			ncx_point(np, ns, &order, art_title(a), src, NULL);
			free(src);
		}
	}
	rc = ez_add_doc(w, "OEBPS/toc.ncx", doc, 0);
	xmlFreeDoc(doc);
	return rc;
}

static int write_container(struct writer *w)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *c, *rf;
	xmlNs *ns;
	int rc;

	if (!doc)
		die_oom();
	c = xmlNewDocNode(doc, NULL, BAD_CAST "container", NULL);
	xmlDocSetRootElement(doc, c);
	ns = xmlNewNs(c, BAD_CAST "urn:oasis:names:tc:opendocument:xmlns:container", NULL);
	xmlSetNs(c, ns);
	xmlSetProp(c, BAD_CAST "version", BAD_CAST "1.0");
	rf = add_el(add_el(c, ns, "rootfiles", NULL), ns, "rootfile", NULL);
	xmlSetProp(rf, BAD_CAST "full-path", BAD_CAST "OEBPS/content.opf");
	xmlSetProp(rf, BAD_CAST "media-type", BAD_CAST "application/oebps-package+xml");
	rc = ez_add_doc(w, "META-INF/container.xml", doc, 0);
	xmlFreeDoc(doc);
	return rc;
}

/* Adds length bytes at offset of a file (0, 0: all of it) by name: libzip reads them only
 * while zip_close writes the book, so a digest of thousands of images never holds them all in
 * memory. */
static int add_file_range(struct writer *w, const char *zipname, const char *path,
                          int64_t offset, size_t length, size_t max, int store)
{
	struct stat st;
	zip_source_t *src;
	zip_int64_t idx;

	if (stat(path, &st) != 0) {
		err_set(w->e, 1, "epub: %s: %s: %s", zipname, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(w->e, 1, "epub: %s: %s: not a regular file", zipname, path);
		return -1;
	}
	if (offset < 0 || offset > (int64_t)st.st_size ||
	    (length && (uint64_t)length > (uint64_t)(st.st_size - offset))) {
		err_set(w->e, 1, "epub: %s: %s: %zu bytes at %lld lie beyond its end", zipname,
		        path, length, (long long)offset);
		return -1;
	}
	if (!length)
		length = (size_t)(st.st_size - offset);
	if (length > max) {
		err_set(w->e, 1, "epub: %s: %s: %zu bytes, over the limit of %zu", zipname, path,
		        length, max);
		return -1;
	}
	src = zip_source_file(w->za, path, (zip_uint64_t)offset, (zip_int64_t)length);
	if (!src) {
		err_set(w->e, 1, "epub: %s: %s", zipname, zip_strerror(w->za));
		return -1;
	}
	idx = zip_file_add(w->za, zipname, src, ZIP_FL_ENC_GUESS);
	if (idx < 0) {
		zip_source_free(src);
		err_set(w->e, 1, "epub: add %s: %s", zipname, zip_strerror(w->za));
		return -1;
	}
	return ez_set_attrs(w, zipname, idx, store);
}

static int add_file(struct writer *w, const char *zipname, const char *path, size_t max, int store)
{
	return add_file_range(w, zipname, path, 0, 0, max, store);
}

static int write_css(struct writer *w)
{
	struct buf css = BUF_INIT;
	char *path = util_path_join(w->b->templates_dir, "style.css");
	size_t len;
	char *data;

	if (util_read_file(path, 1u << 20, &w->css, w->e) < 0) {
		err_prefix(w->e, "epub: template");
		free(path);
		return -1;
	}
	free(path);
	if (w->b->font_path)
		buf_printf(
		    &css,
		    "@font-face {\n\tfont-family: \"inkdigest-cjk\";\n\tfont-style: normal;\n"
		    "\tfont-weight: normal;\n\tsrc: url(\"fonts/subset.%s\");\n}\n\n",
		    font_ext(w->b));
	if (w->css.len)
		buf_add(&css, w->css.data, w->css.len);
	data = buf_detach(&css, &len);
	return ez_add(w, "OEBPS/style.css", data, len, 0);
}

static void writer_release(struct writer *w)
{
	xmlFreeDoc(w->t_article);
	xmlFreeDoc(w->t_section);
	xmlFreeDoc(w->t_nav);
	xmlFreeDoc(w->t_cover);
	buf_release(&w->css);
	free(w->usable);
	strlist_release(&w->used_images);
	for (size_t i = 0; i < w->n_arts; i++) {
		xmlFreeDoc(w->arts[i].holder);
		free(w->arts[i].part_n);
		free(w->arts[i].part_file);
	}
	free(w->arts);
	free(w->secs);
	for (size_t i = 0; i < w->n_pages; i++) {
		free(w->pages[i].name);
		if (w->pend_data)
			free(w->pend_data[i]);
	}
	free(w->pages);
	free(w->pend_data);
	free(w->pend_len);
	strlist_release(&w->langs);
}

static int write_all(struct writer *w)
{
	const struct book *b = w->b;
	const char **types = NULL;
	int rc = -1;

	if (!b->identifier || !*b->identifier) {
		err_set(w->e, 1, "epub: book has no identifier");
		return -1;
	}
	if (!b->templates_dir) {
		err_set(w->e, 1, "epub: no templates folder");
		return -1;
	}
	if (b->cover_path && sniff_image(b->cover_path) == NULL) {
		err_set(w->e, 1, "epub: cover %s: not a JPEG file", b->cover_path);
		return -1;
	}
	if (!(w->t_article = load_template(w, "article.xhtml")) ||
	    !(w->t_section = load_template(w, "section.xhtml")) ||
	    !(w->t_nav = load_template(w, "nav.xhtml")) ||
	    (b->cover_path && !(w->t_cover = load_template(w, "cover.xhtml"))))
		return -1;
	check_images(w);
	if (prepare_articles(w) < 0 || plan_pages(w) < 0)
		return -1;

	w->pend_data = xcalloc(w->n_pages, sizeof(*w->pend_data));
	w->pend_len = xcalloc(w->n_pages, sizeof(*w->pend_len));
	for (size_t i = 0; i < w->n_pages; i++) {
		struct page *pg = &w->pages[i];
		if ((pg->kind == PAGE_SECTION ? write_section_page(w, pg)
		                              : write_article_page(w, pg)) < 0)
			return -1;
	}
	types = xcalloc(w->used_images.n + 1, sizeof(*types));
	for (size_t i = 0; i < w->used_images.n; i++) {
		const struct book_image *bi = NULL;
		for (size_t j = 0; j < b->n_images && !bi; j++)
			if (w->usable[j] && strcmp(b->images[j].href, w->used_images.items[i]) == 0)
				bi = &b->images[j];
		types[i] = sniff_image_at(bi->path, bi->offset);
	}
	if (ez_add(w, "mimetype", xstrdup("application/epub+zip"), 20, 1) < 0 ||
	    write_container(w) < 0 || write_opf(w, types) < 0 || write_ncx(w) < 0 ||
	    write_nav(w) < 0 || write_css(w) < 0 || (b->cover_path && write_cover_page(w) < 0))
		goto out;
	for (size_t i = 0; i < w->n_pages; i++) {
		char *zipname = xasprintf("OEBPS/text/%s", w->pages[i].name);
		int r = ez_add(w, zipname, w->pend_data[i], w->pend_len[i], 0);
		w->pend_data[i] = NULL; /* libzip owns it now, even on failure */
		free(zipname);
		if (r < 0)
			goto out;
	}
	if (b->cover_path &&
	    add_file(w, "OEBPS/images/cover.jpg", b->cover_path, MAX_IMAGE_BYTES, 1) < 0)
		goto out;
	for (size_t i = 0; i < w->used_images.n; i++) {
		const struct book_image *bi = NULL;
		char *zipname = xasprintf("OEBPS/%s", w->used_images.items[i]);
		for (size_t j = 0; j < b->n_images && !bi; j++)
			if (w->usable[j] && strcmp(b->images[j].href, w->used_images.items[i]) == 0)
				bi = &b->images[j];
		int r = add_file_range(w, zipname, bi->path, bi->offset, bi->length,
		                       MAX_IMAGE_BYTES, 1);
		free(zipname);
		if (r < 0)
			goto out;
	}
	if (b->font_path) {
		char *zipname = xasprintf("OEBPS/fonts/subset.%s", font_ext(b));
		int r = add_file(w, zipname, b->font_path, MAX_FONT_BYTES, 0);
		free(zipname);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	free(types);
	return rc;
}

static void visit_tree(xmlNode *n, void (*fn)(void *ctx, const char *text), void *ctx)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE && n->content) {
			fn(ctx, (const char *)n->content);
		} else if (n->type == XML_ELEMENT_NODE) {
			for (xmlAttr *a = n->properties; a; a = a->next) {
				if (strncmp((const char *)a->name, "data-label-", 11) == 0 ||
				    strcmp((const char *)a->name, "alt") == 0) {
					xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
					if (v)
						fn(ctx, (const char *)v);
					xmlFree(v);
				}
			}
			visit_tree(n->children, fn, ctx);
		}
	}
}

void epub_visit_text(const struct book *b, void (*fn)(void *ctx, const char *text), void *ctx)
{
	static const char *const templates[] = {"article.xhtml", "section.xhtml", "nav.xhtml",
	                                        "cover.xhtml"};
	struct writer w;
	struct err e;

	if (b->title)
		fn(ctx, b->title);
	for (size_t s = 0; s < b->n_sections; s++) {
		const struct book_section *bs = &b->sections[s];
		if (bs->title)
			fn(ctx, bs->title);
		for (size_t i = 0; i < bs->n_articles; i++) {
			const struct article *a = bs->articles[i].article;
			const char *content = a->xhtml ? a->xhtml : a->content;
			if (bs->articles[i].feed_name)
				fn(ctx, bs->articles[i].feed_name);
			if (a->title)
				fn(ctx, a->title);
			if (a->author)
				fn(ctx, a->author);
			if (content)
				fn(ctx, content);
		}
	}
	fn(ctx, "0123456789-:# Untitled Feed");
	if (!b->templates_dir)
		return;
	memset(&w, 0, sizeof(w));
	w.b = b;
	w.e = &e;
	for (size_t i = 0; i < ARRAY_SIZE(templates); i++) {
		xmlDoc *t = load_template(&w, templates[i]);
		if (t)
			visit_tree(t->children, fn, ctx);
		xmlFreeDoc(t);
	}
}

int epub_write(const struct book *b, const char *path, struct err *e)
{
	return epub_write_stats(b, path, NULL, e);
}

int epub_write_stats(const struct book *b, const char *path, struct epub_stats *st, struct err *e)
{
	struct writer w;
	int zerr = 0, rc;

	memset(&w, 0, sizeof(w));
	w.b = b;
	w.e = e;
	w.lang = pick_lang(&w, b->language, "en");
	set_dostime(&w);
	w.za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (!w.za) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, zerr);
		err_set(e, 1, "epub: %s: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		writer_release(&w);
		return -1;
	}
	rc = write_all(&w);
	if (rc == 0 && zip_close(w.za) < 0) {
		err_set(e, 1, "epub: %s: %s", path, zip_strerror(w.za));
		rc = -1;
	}
	if (rc < 0) {
		zip_discard(w.za);
		remove(path);
	} else if (st) {
		memset(st, 0, sizeof(*st));
		st->n_xhtml = w.n_pages + 1 + (b->cover_path ? 1 : 0);
		st->articles_per_file = w.per_file;
		for (size_t i = 0; i < w.n_arts; i++)
			st->n_split += w.arts[i].n_parts > 1;
		st->n_fallback = (size_t)w.n_fallback;
		st->n_images = w.used_images.n;
	}
	writer_release(&w);
	return rc;
}
