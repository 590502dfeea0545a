/* Fuzz target for stage `feed`: any bytes (up to 1 MB) through feed_parse, each dialect and
 * encoding reachable from the corpus; a success must hold only valid UTF-8, non-empty ids,
 * http(s) links and at most the item cap. Never touches files or the network. */
#include <stdint.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, int may_be_null)
{
	if (!s) {
		if (!may_be_null)
			abort();
		return;
	}
	if (!util_is_valid_utf8(s, strlen(s)))
		abort();
}

static void check_url(const char *s)
{
	check_str(s, 1);
	if (s && !util_starts_with_ci(s, "http://") && !util_starts_with_ci(s, "https://"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	/* the size picks the HTTP charset, so legacy decoders get fuzzed too */
	static const char *const charsets[] = {NULL, NULL, "gbk", "shift_jis", "utf-16"};
	struct feed_parse_opts o = {.url = "https://fuzz.example.org/dir/feed.xml",
	                            .http_charset = charsets[size % 5],
	                            .fetch_time = 1700000000,
	                            .max_items = 200};
	struct feed_doc d = {0};
	struct err e = {0};
	if (feed_parse((const char *)data, size, &o, &d, &e) != 0) {
		if (e.code < FEED_ERR_EMPTY || e.code > FEED_ERR_UNREADABLE || !e.msg[0] || d.items)
			abort();
		return 0;
	}
	if (!d.format || d.n_items > 200)
		abort();
	check_str(d.title, 1);
	check_url(d.link);
	for (size_t i = 0; i < d.n_items; i++) {
		const struct article *a = &d.items[i];
		check_str(a->id, 0);
		if (!a->id[0])
			abort();
		check_str(a->title, 0);
		check_str(a->author, 1);
		check_str(a->content, 1);
		check_url(a->link);
		check_url(a->lead_image);
		if (a->date_guessed && a->published != o.fetch_time)
			abort();
		for (size_t k = 0; k < i && k < 50; k++)
			if (strcmp(d.items[k].id, a->id) == 0)
				abort();
	}
	feed_doc_release(&d);
	return 0;
}
