/* The query tool's time syntax. */
#include "fuzz.h"
#include "query/timespec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	int64_t t;
	struct err e;
	timespec_parse(text, 1763600000, &t, &e);
	free(text);
	return 0;
}
