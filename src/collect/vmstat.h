#ifndef HINDSIGHT_COLLECT_VMSTAT_H
#define HINDSIGHT_COLLECT_VMSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* A /proc/vmstat value wanted. With prefix set, name and its per-zone or
 * per-type splits (name_normal, name_dma32, name_anon, ...) are summed: old
 * kernels split pgscan_kswapd per zone, new ones split allocstall_<zone> and
 * workingset_refault_{anon,file}. */
struct vmstat_key {
	const char *name;
	const char *column;
	int prefix;
};

/* Parses "name value" lines. out[i] is keys[i]'s value; found[i] is 0 when
 * this kernel does not report it. */
int vmstat_parse(const char *text, const struct vmstat_key *keys, size_t n, uint64_t *out,
		 unsigned char *found, struct err *e);

struct collector_ops;
extern const struct collector_ops collector_vmstat;

#endif
