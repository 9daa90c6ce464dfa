/* The duration syntax of flags and the config file. */
#include "fuzz.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	int64_t ms;
	struct err e;
	parse_duration_ms(text, &ms, &e);
	free(text);
	return 0;
}
