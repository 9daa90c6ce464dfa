/* The /proc/PID parsers: stat, status, io, limits, smaps_rollup, schedstat. */
#include "fuzz.h"
#include "proc/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct pid_stat st;
	struct pid_status ss;
	struct pid_io io;
	struct pid_schedstat sc;
	uint64_t v;
	pid_stat_parse(text, &st, &e);
	pid_status_parse(text, &ss, &e);
	pid_io_parse(text, &io, &e);
	pid_limits_nofile(text, &v, &e);
	pid_smaps_pss(text, &v, &e);
	pid_schedstat_parse(text, &sc, &e);
	free(text);
	return 0;
}
