/* libFuzzer target for `config`: the input becomes a config file in a private temporary folder
 * and goes through config_load and config_release. Inputs over 64 KB are skipped (configs are
 * small; bigger inputs only slow the fuzzer down). */
#include <stdint.h>
#include <unistd.h>

#include "config.h"

#define MAX_INPUT (64 * 1024)

/* tmpfs when there is one: truncating a file on a disk costs milliseconds per input. */
static char dir[] = "/dev/shm/inkdigest-fuzz-config-XXXXXX";
static char *path;

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static const char *config_path(void)
{
	if (!path) {
		if (!mkdtemp(dir)) {
			memcpy(dir, "/tmp/inkdigest-fuzz-config-XXXXXX",
			       sizeof("/tmp/inkdigest-fuzz-config-XXXXXX"));
			if (!mkdtemp(dir))
				abort();
		}
		path = xasprintf("%s/fuzz.ini", dir);
		atexit(cleanup);
	}
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	const char *p = config_path();
	FILE *f = fopen(p, "wb");
	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	struct config c;
	struct strlist errors = {0};
	int rc = config_load(p, &c, &errors);
	/* the contract: failure always says why, success never carries an error */
	if ((rc < 0) != (errors.n > 0))
		abort();
	for (size_t i = 0; i < errors.n; i++)
		if (strncmp(errors.items[i], p, strlen(p)) != 0 || strchr(errors.items[i], '\n'))
			abort();
	config_release(&c);
	strlist_release(&errors);
	return 0;
}
