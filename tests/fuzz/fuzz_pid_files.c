/* The per-process parsers (stat, status, io, limits, schedstat,
 * smaps_rollup) on the same input, and the stored command line. */
#include "fuzz.h"
#include "proc/cmdline.h"
#include "proc/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct pid_stat st;
	struct pid_status ps;
	struct pid_io io = {0};
	struct pid_schedstat ss;
	uint64_t v;
	pid_stat_parse(text, &st, &e);
	pid_status_parse(text, &ps, &e);
	pid_io_parse(text, &io, &e);
	pid_limits_nofile(text, &v, &e);
	pid_schedstat_parse(text, &ss, &e);
	pid_smaps_pss(text, &v, &e);
	/* the input as argv (NUL-separated), the first line as patterns */
	char out[256];
	cmdline_format((const char *)data, size, text, out, size % sizeof(out));
	free(text);
	return 0;
}
