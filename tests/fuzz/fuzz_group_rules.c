/* process-exporter group rules: the YAML, the regexes, the name templates,
 * then matching a fixed process against whatever rules parsed. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "proc/groups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0)
		fd = memfd_create("fuzz-groups", 0);
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct group_rules r;
	struct err e;
	if (group_rules_load(&r, path, &e))
		return 0;
	static const char argv[] = "/usr/bin/python3\0-m\0http.server\0--password=x";
	struct proc_ident id = {.comm = "python3",
				.argv = argv,
				.argv_len = sizeof(argv),
				.uid = 0,
				.pid = 42,
				.start_ticks = 1000,
				.boot_s = 1700000000,
				.cgroups = "0::/system.slice/x.service\n"};
	char name[256];
	group_rules_match(&r, &id, name, sizeof(name));
	group_rules_free(&r);
	return 0;
}
