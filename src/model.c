/* Release functions for the plain data types of model.h. Nothing else lives here: no parsing,
 * no I/O, no policy. */
#include "model.h"

void feed_conf_release(struct feed_conf *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->url);
	free(f->group);
	free(f->lang);
	free(f->referer_url);
	strlist_release(&f->headers);
	strlist_release(&f->proxies);
	strlist_release(&f->keep);
	strlist_release(&f->remove);
	memset(f, 0, sizeof(*f));
}

void article_release(struct article *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->title);
	free(a->link);
	free(a->author);
	free(a->content);
	free(a->base_url);
	free(a->lang);
	free(a->lead_image);
	free(a->xhtml);
	free(a->fulltext_error);
	strlist_release(&a->images);
	memset(a, 0, sizeof(*a));
}

void feed_doc_release(struct feed_doc *d)
{
	if (!d)
		return;
	free(d->title);
	free(d->link);
	free(d->lang);
	for (size_t i = 0; i < d->n_items; i++)
		article_release(&d->items[i]);
	free(d->items);
	strlist_release(&d->warnings);
	memset(d, 0, sizeof(*d));
}

void book_release(struct book *b)
{
	if (!b)
		return;
	free(b->title);
	free(b->language);
	free(b->identifier);
	for (size_t i = 0; i < b->n_sections; i++) {
		free(b->sections[i].title);
		free(b->sections[i].lang);
		free(b->sections[i].articles);
	}
	free(b->sections);
	for (size_t i = 0; i < b->n_images; i++) {
		free(b->images[i].url);
		free(b->images[i].href);
		free(b->images[i].path);
	}
	free(b->images);
	free(b->cover_path);
	free(b->font_path);
	free(b->templates_dir);
	strlist_release(&b->subjects);
	free(b->volume_label);
	memset(b, 0, sizeof(*b));
}

static int cmp_image_url(const void *key, const void *elem)
{
	return strcmp(key, ((const struct book_image *)elem)->url);
}

const struct book_image *book_find_image(const struct book *b, const char *url)
{
	if (!b->n_images || !url)
		return NULL;
	return bsearch(url, b->images, b->n_images, sizeof(*b->images), cmp_image_url);
}
