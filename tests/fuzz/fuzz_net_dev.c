/* /proc/net/dev parser. */
#include "collect/net.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct net_dev d = {0};
	net_dev_parse(text, &d, &e);
	net_dev_free(&d);
	free(text);
	return 0;
}
