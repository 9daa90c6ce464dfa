/* The saved views' header comment parser. */
#include "fuzz.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct view_header h;
	struct err e;
	view_header_parse(text, &h, &e);
	free(text);
	return 0;
}
