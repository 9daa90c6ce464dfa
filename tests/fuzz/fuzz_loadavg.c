/* /proc/loadavg parser. */
#include "collect/loadavg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct loadavg la;
	struct err e;
	loadavg_parse(text, &la, &e);
	free(text);
	return 0;
}
