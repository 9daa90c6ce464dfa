/* eBPF records as the daemon receives them from the ring buffer: any bytes
 * must be either refused as malformed or held, read back and converted
 * without reading past what arrived. */
#include "bpf/records.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record_buf b;
	static int ready;
	if (!ready) {
		record_buf_init(&b, 256 * 1024);
		ready = 1;
	}
	/* A private copy of exactly `size` bytes, so ASan sees any overread. */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (record_buf_push(&b, copy, size, 1000) < 0)
		record_buf_clear(&b);
	free(copy);
	struct record r;
	size_t pos = 0;
	char args[HS_ARGS_MAX + 1];
	struct exit_usage u;
	while (record_buf_next(&b, &pos, &r)) {
		uint32_t type = record_type(&r);
		if (type == HS_EV_EXEC || type == HS_EV_EXEC_FAILED) {
			struct hs_exec x;
			memset(&x, 0, sizeof(x));
			memcpy(&x, r.data, r.size);
			exec_args_text(&x, r.size, args, sizeof(args));
		} else if (type == HS_EV_EXIT) {
			struct hs_exit x;
			memcpy(&x, r.data, sizeof(x));
			exit_usage_from(&x, 100, 4096, &u);
		}
	}
	return 0;
}
