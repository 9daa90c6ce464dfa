/* Command-line joining, redaction and cutting (UTF-8 safe). The first line
 * of the input is the pattern list, the rest the NUL-separated argv. */
#include "fuzz.h"
#include "proc/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : 0;
	char *patterns = fuzz_string(data, plen);
	const char *argv = nl ? (const char *)nl + 1 : (const char *)data;
	size_t argv_len = nl ? size - plen - 1 : size;
	char out[300];
	for (size_t max = 0; max < sizeof(out); max += 37)
		cmdline_format(argv, argv_len, patterns, out, max);
	free(patterns);
	return 0;
}
