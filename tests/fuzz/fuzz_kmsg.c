/* /dev/kmsg record parser. */
#include "collect/kmsg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct kmsg_record r;
	kmsg_parse(text, size, &r, &e);
	free(text);
	return 0;
}
