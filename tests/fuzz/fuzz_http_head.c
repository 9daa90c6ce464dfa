/* The /metrics endpoint's request head parser, and the content negotiation
 * of the Accept header it yields. */
#include "fuzz.h"
#include "metrics/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so reading past the bytes is caught */
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct http_head h;
	int rc = http_head_parse(copy, size, &h);
	if (rc > (int)size)
		abort();
	if (rc > 0) {
		if (!memchr(h.path, '\0', sizeof(h.path)) ||
		    !memchr(h.accept, '\0', sizeof(h.accept)))
			abort();
		expo_negotiate(h.accept);
	}
	free(copy);
	char *text = fuzz_string(data, size);
	expo_negotiate(text);
	free(text);
	return 0;
}
