#ifndef HINDSIGHT_COLLECT_STAT_H
#define HINDSIGHT_COLLECT_STAT_H

#include <stdint.h>

#include "util/util.h"

/* /proc/stat CPU columns, in the kernel's order. guest and guest_nice are
 * already included in user and nice. */
enum cpu_mode {
	CPU_USER,
	CPU_NICE,
	CPU_SYSTEM,
	CPU_IDLE,
	CPU_IOWAIT,
	CPU_IRQ,
	CPU_SOFTIRQ,
	CPU_STEAL,
	CPU_GUEST,
	CPU_GUEST_NICE,
	CPU_MODES
};

struct cpu_times {
	int id; /* -1 for the all-CPU line */
	uint64_t ticks[CPU_MODES];
};

struct proc_stat {
	struct cpu_times total;
	struct cpu_times *cpus; /* online CPUs in file order; ids may have gaps */
	size_t ncpus, cap;
	uint64_t ctxt, intr, processes, procs_running, procs_blocked, btime;
};

/* Parses /proc/stat text. Older kernels' shorter cpu lines leave the missing
 * modes at zero. Returns -1 with a message naming the line on bad input. */
int proc_stat_parse(const char *text, struct proc_stat *out, struct err *e);
void proc_stat_free(struct proc_stat *s);

/* Milliseconds per mode between two readings of one CPU; a mode that went
 * backwards (iowait does) yields 0, never a negative or wrapped value. */
void cpu_times_delta_ms(const struct cpu_times *prev, const struct cpu_times *cur, long hz,
			uint64_t out_ms[CPU_MODES]);

struct collector_ops;
extern const struct collector_ops collector_cpu;

#endif
