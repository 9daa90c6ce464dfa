/* The cgroup files' parsers (flat-keyed, one value, cpu.max, io.stat, v1
 * blkio), /proc/PID/cgroup, naming from a path, and the runtimes' JSON. */
#include "collect/cgroup.h"
#include "fuzz.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"usage_usec", "anon", "populated", "oom_kill"};
	char *text = fuzz_string(data, size);
	struct err e;
	uint64_t v[4], found, quota, period;
	struct cg_io io[4];
	size_t n = 0;
	struct cg_proc_line lines[CG_PROC_LINES_MAX];
	cg_parse_keyed(text, "fuzz", keys, 4, v, &found, &e);
	cg_parse_value(text, "fuzz", v, &e);
	cg_parse_cpu_max(text, "fuzz", &quota, &period, &e);
	cg_parse_io_stat(text, "fuzz", io, 4, &n, &e);
	n = 0;
	cg_parse_blkio(text, "fuzz", (int)(size & 1), io, 4, &n, &e);
	cg_parse_proc_cgroup(text, lines, CG_PROC_LINES_MAX, &n, &e);
	struct cg_label l;
	cgroup_label(text, &l);
	/* the input as JSON, not NUL-terminated */
	struct cg_meta m;
	memset(&m, 0, sizeof(m));
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	cg_meta_docker(copy, size, &m);
	cg_meta_oci(copy, size, &m);
	char out[64];
	const char *const path[] = {"a", "b"};
	json_get_string(copy, size, path, 2, out, sizeof(out));
	cg_pod_log_dir(text, "1f5c7d0e-2b7a-4c1e-9a57-1d2f3e4a5b6c", out, sizeof(out));
	free(copy);
	free(text);
	return 0;
}
