/* /proc/vmstat parser. */
#include "collect/vmstat.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	static const struct vmstat_key keys[] = {
	    {"pgfault", "a", 0}, {"pgscan_kswapd", "b", 1}, {"allocstall", "c", 1}};
	uint64_t out[3];
	unsigned char found[3];
	vmstat_parse(text, keys, 3, out, found, &e);
	free(text);
	return 0;
}
