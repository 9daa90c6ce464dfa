/* /proc/cpuinfo parser. */
#include "collect/inventory.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct cpuinfo ci;
	cpuinfo_parse(text, &ci, &e);
	free(text);
	return 0;
}
