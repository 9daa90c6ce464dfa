/* /proc/stat parser. */
#include "collect/stat.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct proc_stat s = {0};
	struct err e;
	if (proc_stat_parse(text, &s, &e) == 0 && s.ncpus) {
		uint64_t ms[CPU_MODES];
		cpu_times_delta_ms(&s.cpus[0], &s.total, 100, ms);
	}
	proc_stat_free(&s);
	free(text);
	return 0;
}
