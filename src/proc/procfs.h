#ifndef HINDSIGHT_PROC_PROCFS_H
#define HINDSIGHT_PROC_PROCFS_H

#include <stdint.h>

#include "util/util.h"

/*
 * Pure parsers for the per-process files under /proc/PID. They never open a
 * file: the scanner reads the bytes, these turn them into structs and report
 * malformed text as an error naming the file and the bad token.
 */

/* Longest comm we keep: TASK_COMM_LEN is 16, but kernel worker threads show
 * longer names ("kworker/u8:3-events_unbound"). Longer ones are cut. */
#define PROC_COMM_MAX	64
#define PROC_PF_KTHREAD 0x00200000u

/* /proc/PID/stat, the fields we use. Times are in clock ticks (USER_HZ),
 * vsize in bytes, rss in pages, starttime in ticks since boot. utime/stime
 * cover every thread, live and exited; cutime/cstime are the waited-for
 * children's totals. */
struct pid_stat {
	char comm[PROC_COMM_MAX];
	char state;
	int32_t ppid;
	uint32_t flags; /* PF_* of the task; PROC_PF_KTHREAD marks kernel threads */
	uint64_t minflt, majflt;
	uint64_t utime, stime, cutime, cstime;
	int64_t num_threads;
	uint64_t starttime;
	uint64_t vsize;
	uint64_t rss_pages;
};
/* comm is the text between the first '(' and the LAST ')': a process may name
 * itself "a) (b" and the kernel prints it as is. */
int pid_stat_parse(const char *text, struct pid_stat *out, struct err *e);

/* /proc/PID/status: context switches are the main thread's (the kernel prints
 * only that task's), VmSwap is absent for kernel threads (0 then). */
struct pid_status {
	uint64_t voluntary_ctxsw, nonvoluntary_ctxsw;
	uint64_t swap_kb;
	uint32_t ruid, euid;
};
int pid_status_parse(const char *text, struct pid_status *out, struct err *e);

/* /proc/PID/io: bytes that went to or came from the storage layer. */
struct pid_io {
	uint64_t read_bytes, write_bytes;
};
int pid_io_parse(const char *text, struct pid_io *out, struct err *e);

/* The soft "Max open files" of /proc/PID/limits; "unlimited" is UINT64_MAX. */
int pid_limits_nofile(const char *text, uint64_t *soft, struct err *e);

/* The "Pss:" line of /proc/PID/smaps_rollup (KiB). */
int pid_smaps_pss(const char *text, uint64_t *pss_kb, struct err *e);

/* /proc/PID/schedstat of the main thread: time on CPU (ns), time waiting on a
 * run queue (ns), and how many times it was given a CPU. */
struct pid_schedstat {
	uint64_t run_ns, wait_ns, timeslices;
};
int pid_schedstat_parse(const char *text, struct pid_schedstat *out, struct err *e);

#endif
