/* /proc/PID/mountinfo parser. */
#include "collect/fs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct mountinfo mi = {0};
	mountinfo_parse(text, &mi, &e);
	mountinfo_free(&mi);
	free(text);
	return 0;
}
