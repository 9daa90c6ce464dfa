/* /proc/meminfo parser. */
#include "collect/meminfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct meminfo m;
	struct err e;
	meminfo_parse(text, &m, &e);
	free(text);
	return 0;
}
