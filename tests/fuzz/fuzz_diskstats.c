/* /proc/diskstats parser (14-, 18- and 20-field lines). */
#include "collect/disk.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct diskstats d = {0};
	diskstats_parse(text, &d, &e);
	diskstats_free(&d);
	free(text);
	return 0;
}
