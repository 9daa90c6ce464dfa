#ifndef HINDSIGHT_BPF_EBPF_H
#define HINDSIGHT_BPF_EBPF_H

#include <stdint.h>

/* The eBPF collector: exec, exit and OOM records and the kernel's event
 * counters (collector.c, built with libbpf; stub.c stands in without). It
 * feeds the exits it sees to the process accounting (proc/accounting.h). */

/* The `bpf:` section of the configuration. Each family can be turned off. */
struct bpf_options {
	int enabled;	    /* `enabled`; --no-bpf clears it */
	int exec;	    /* exec events (and their counter) */
	int failed_execs;   /* failed exec events: needs the syscall-exit hook */
	int exits;	    /* process exit events with their usage */
	int tasks;	    /* fork, exec and exit counters */
	int syscalls;	    /* open/close/read/write counters: the syscall-exit hook */
	int oom;	    /* OOM kill counter and victim events */
	int tcp;	    /* TCP retransmit counter */
	int prog_stats;	    /* turn BPF run-time statistics on (all programs pay) */
	int64_t args_bytes; /* argv bytes kept per exec, 0..4096 */
	int64_t ring_kb;    /* kernel ring buffer size, a power of two, >= 4 */
	int64_t buffer_kb;  /* events held between two ticks, at most */
};

static inline void bpf_options_default(struct bpf_options *o)
{
	*o = (struct bpf_options){.enabled = 1,
				  .exec = 1,
				  .failed_execs = 0,
				  .exits = 1,
				  .tasks = 1,
				  .syscalls = 0,
				  .oom = 1,
				  .tcp = 1,
				  .prog_stats = 0,
				  .args_bytes = 256,
				  .ring_kb = 2048,
				  .buffer_kb = 16384};
}

struct collector_ops;
extern const struct collector_ops collector_bpf;

#endif
