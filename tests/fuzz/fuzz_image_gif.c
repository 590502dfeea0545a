/* Fuzz target for stage `image`, decoder GIF (giflib record loop, first frame, placement):
 * the input gets the format's magic bytes and goes through image_convert; a success must be a
 * one-channel baseline JPEG inside the box. Never writes files. */
#include "util.h"
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image_run(data, size, "GIF89a", 6);
}
