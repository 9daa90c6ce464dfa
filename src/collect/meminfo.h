#ifndef HINDSIGHT_COLLECT_MEMINFO_H
#define HINDSIGHT_COLLECT_MEMINFO_H

#include <stdint.h>

#include "util/util.h"

/* The /proc/meminfo fields we keep, in the memory table's column order. */
#define MEMINFO_FIELDS(X)                                                                          \
	X(MemTotal, total_kb)                                                                      \
	X(MemFree, free_kb)                                                                        \
	X(MemAvailable, available_kb)                                                              \
	X(Buffers, buffers_kb)                                                                     \
	X(Cached, cached_kb)                                                                       \
	X(SwapCached, swap_cached_kb)                                                              \
	X(SwapTotal, swap_total_kb)                                                                \
	X(SwapFree, swap_free_kb)                                                                  \
	X(Dirty, dirty_kb)                                                                         \
	X(Writeback, writeback_kb)                                                                 \
	X(AnonPages, anon_kb)                                                                      \
	X(Mapped, mapped_kb)                                                                       \
	X(Shmem, shmem_kb)                                                                         \
	X(SReclaimable, slab_reclaimable_kb)                                                       \
	X(SUnreclaim, slab_unreclaimable_kb)                                                       \
	X(KernelStack, kernel_stack_kb)                                                            \
	X(PageTables, page_tables_kb)                                                              \
	X(Committed_AS, committed_kb)                                                              \
	X(AnonHugePages, anon_hugepages_kb)                                                        \
	X(HugePages_Total, hugepages_total_count)                                                  \
	X(HugePages_Free, hugepages_free_count)                                                    \
	X(Hugepagesize, hugepage_size_kb)

#define MEMINFO_ENUM(key, column) MEM_##key,
enum meminfo_field { MEMINFO_FIELDS(MEMINFO_ENUM) MEMINFO_NFIELDS };
#undef MEMINFO_ENUM

struct meminfo {
	uint64_t value[MEMINFO_NFIELDS]; /* KiB, or a count for HugePages_* */
	uint32_t present;		 /* bit per field found in the text */
};

/* Parses /proc/meminfo text. Unknown keys are skipped; a line that is not
 * "Key: number [kB]" is an error naming the line; MemTotal is required. */
int meminfo_parse(const char *text, struct meminfo *out, struct err *e);

struct collector_ops;
extern const struct collector_ops collector_memory;

#endif
