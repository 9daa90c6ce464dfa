#ifndef HINDSIGHT_COLLECT_DISK_H
#define HINDSIGHT_COLLECT_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* /proc/diskstats values after "major minor name", in the kernel's order.
 * 4.18 added the 4 discard fields, 5.5 the 2 flush fields; kernels before
 * 2.6.25 printed only 4 values for partitions (mapped onto the same slots). */
enum disk_field {
	DISK_READS,
	DISK_READS_MERGED,
	DISK_READ_SECTORS,
	DISK_READ_MS,
	DISK_WRITES,
	DISK_WRITES_MERGED,
	DISK_WRITE_SECTORS,
	DISK_WRITE_MS,
	DISK_IN_FLIGHT, /* a gauge; every other field is a counter */
	DISK_IO_MS,
	DISK_WEIGHTED_IO_MS,
	DISK_DISCARDS,
	DISK_DISCARDS_MERGED,
	DISK_DISCARD_SECTORS,
	DISK_DISCARD_MS,
	DISK_FLUSHES,
	DISK_FLUSH_MS,
	DISK_FIELDS
};

#define DISK_NAME_MAX 64

struct disk_dev {
	unsigned major, minor;
	char name[DISK_NAME_MAX];
	int nfields;		 /* values present on the line: 4, 11, 15 or 17 */
	uint64_t v[DISK_FIELDS]; /* absent fields are 0 */
};

struct diskstats {
	struct disk_dev *devs;
	size_t n, cap;
};

int diskstats_parse(const char *text, struct diskstats *out, struct err *e);
void diskstats_free(struct diskstats *d);

/* The `disks:` section of the configuration. Loop and RAM disks are
 * skipped unless asked for: they are rarely what a disk question is about. */
struct disk_options {
	int include_loop; /* include_loop (default false) */
	int include_ram;  /* include_ram (default false) */
};

struct collector_ops;
extern const struct collector_ops collector_disk;

#endif
