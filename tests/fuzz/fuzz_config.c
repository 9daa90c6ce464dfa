/* The YAML configuration file, whole: libyaml and our key handlers. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0)
		fd = memfd_create("fuzz-config", 0);
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct config c;
	struct err e;
	config_defaults(&c);
	if (config_load_file(&c, path, &e) == 0)
		config_validate(&c, &e);
	return 0;
}
