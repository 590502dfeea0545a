/* Fuzz target for stage `feed`, OPML import: any bytes (up to 1 MB) through feed_parse_opml;
 * a success must give each feed a non-empty UTF-8 name and URL, names unique. Never touches
 * files or the network. */
#include <stdint.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	struct feed_conf *f = NULL;
	size_t n = 0;
	struct err e = {0};
	if (feed_parse_opml((const char *)data, size, &f, &n, &e) != 0) {
		if (!e.msg[0] || f || n)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!f[i].name || !f[i].name[0] || !f[i].url || !f[i].url[0])
			abort();
		if (!util_is_valid_utf8(f[i].name, strlen(f[i].name)))
			abort();
		for (size_t k = 0; k < i && k < 50; k++)
			if (strcmp(f[k].name, f[i].name) == 0)
				abort();
	}
	for (size_t i = 0; i < n; i++)
		feed_conf_release(&f[i]);
	free(f);
	return 0;
}
