#ifndef HINDSIGHT_COLLECT_PSI_H
#define HINDSIGHT_COLLECT_PSI_H

#include <stdint.h>

#include "util/util.h"

/* One line of /proc/pressure/<resource>: averages in hundredths of a percent
 * as printed (17.41 -> 1741), total stall time in microseconds. */
struct psi_line {
	int64_t avg10_x100, avg60_x100, avg300_x100;
	uint64_t total_us;
};

struct psi {
	struct psi_line some, full;
	int has_some; /* irq (6.1+) has only a "full" line */
	int has_full; /* cpu has no "full" line before 5.13 */
};

int psi_parse(const char *text, const char *what, struct psi *out, struct err *e);

struct collector_ops;
extern const struct collector_ops collector_psi;

#endif
