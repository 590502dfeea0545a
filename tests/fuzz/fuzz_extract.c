/* libFuzzer target for `extract`: any page bytes (up to 256 KB) in; aborts when a success
 * comes without HTML or with a text length the HTML cannot hold, and runs the teaser check on
 * what was found. Never writes files or touches the network. */
#include "extract.h"

#define MAX_INPUT_BYTES (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT_BYTES)
		return 0;
	struct extract_result r;
	struct err e;
	memset(&r, 0, sizeof(r));
	/* The first byte picks a declared charset, so the conversion paths get exercised. */
	static const char *const charsets[] = {NULL, "utf-8", "gbk", "iso-8859-1", "bogus"};
	const char *cs = size ? charsets[data[0] % ARRAY_SIZE(charsets)] : NULL;
	if (extract_main((const char *)data, size, "https://example.org/p", cs, &r, &e) == 0) {
		if (!r.html || r.text_chars > strlen(r.html) * 4)
			abort();
		(void)extract_is_teaser(r.html, strlen(r.html), 200);
	} else if (!e.msg[0]) {
		abort();
	}
	extract_result_release(&r);
	(void)extract_is_teaser((const char *)data, size, 100);
	return 0;
}
