#ifndef HINDSIGHT_COLLECT_LOADAVG_H
#define HINDSIGHT_COLLECT_LOADAVG_H

#include <stdint.h>

#include "util/util.h"

/* /proc/loadavg: "0.52 0.58 0.59 2/345 12345". Loads are kept as hundredths,
 * exactly as the kernel prints them, so they store as small integers. */
struct loadavg {
	int64_t load_x100[3];
	uint64_t runnable;
	uint64_t threads;
	uint64_t last_pid;
};

int loadavg_parse(const char *text, struct loadavg *out, struct err *e);

struct collector_ops;
extern const struct collector_ops collector_load;

#endif
