/* The records the eBPF programs send to hindsightd, and the per-CPU counter
 * slots they bump. Shared by bpf/hindsight.bpf.c and src/bpf/: keep it free of
 * anything but fixed-size integer types so both sides agree on the layout. */
#ifndef HINDSIGHT_BPF_EVENTS_H
#define HINDSIGHT_BPF_EVENTS_H

#define HS_COMM_LEN	16
#define HS_FILENAME_LEN 256
/* The largest argv an exec event carries; the configured limit is <= this. */
#define HS_ARGS_MAX 4096

enum hs_event_type {
	HS_EV_EXEC = 1,
	HS_EV_EXEC_FAILED = 2,
	HS_EV_EXIT = 3,
	HS_EV_OOM = 4,
};

/* Every record starts with this. time_ns is CLOCK_BOOTTIME. */
struct hs_header {
	__u32 type;
	__u32 pid; /* tgid */
	__u64 time_ns;
};

/* A successful exec (sched_process_exec) or a failed one (execve/execveat
 * returning an error). args is argv joined by NULs, args_len bytes of it are
 * sent (the record is cut after them). */
struct hs_exec {
	struct hs_header h;
	__u32 ppid;
	__u32 uid;
	__u64 cgroup_id;
	__s32 ret;	      /* 0, or the negative errno of a failed exec */
	__u32 args_len;	      /* bytes of args sent */
	__u32 args_truncated; /* argv was longer than the configured limit */
	__u32 pad;
	char comm[HS_COMM_LEN];
	char parent_comm[HS_COMM_LEN]; /* the real parent's comm at the exec */
	char filename[HS_FILENAME_LEN];
	char args[HS_ARGS_MAX];
};

/* The last thread of a process exited (sched_process_exit with
 * signal->live == 0). Usage covers the whole thread group, dead threads
 * included. Times in ns. */
struct hs_exit {
	struct hs_header h;
	__u32 ppid;
	__u32 uid;
	__u64 cgroup_id;
	__u64 start_boottime_ns; /* task->start_boottime: /proc/PID/stat starttime */
	__s32 exit_code;	 /* wait status: code << 8 | core dump 0x80 | signal */
	__u32 pad;
	__u64 cpu_ns; /* sum_exec_runtime of every thread */
	__u64 utime_ns;
	__u64 stime_ns;
	__u64 min_flt;
	__u64 maj_flt;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 read_bytes;  /* storage I/O (ioac.read_bytes) */
	__u64 write_bytes; /* ioac.write_bytes */
	__u64 maxrss_pages;
	char comm[HS_COMM_LEN];
};

/* The OOM killer chose a victim (mark_victim). */
struct hs_oom {
	struct hs_header h;
	__u32 uid;
	__s32 oom_score_adj;
	__u64 cgroup_id;
	__u64 total_vm_pages;
	__u64 anon_rss_pages;
	__u64 file_rss_pages;
	__u64 shmem_rss_pages;
	char comm[HS_COMM_LEN];
};

/* Slots of the per-CPU counter array; userspace sums the CPUs. */
enum hs_counter {
	HS_C_PROCS_CREATED,
	HS_C_THREADS_CREATED,
	HS_C_EXECS,
	HS_C_EXECS_FAILED,
	HS_C_PROC_EXITS,
	HS_C_THREAD_EXITS,
	HS_C_OPENS,
	HS_C_OPENS_FAILED,
	HS_C_CLOSES,
	HS_C_READS,
	HS_C_READ_BYTES,
	HS_C_READ_ERRORS,
	HS_C_WRITES,
	HS_C_WRITE_BYTES,
	HS_C_WRITE_ERRORS,
	HS_C_OOM_KILLS,
	HS_C_TCP_RETRANSMITS,
	HS_C_RING_DROPS,      /* records lost because the ring buffer was full */
	HS_C_EXEC_RING_DROPS, /* the exec records among them */
	HS_C_RING_PEAK,	      /* not a count: the most bytes waiting in the ring
				 seen by a record's sender (per CPU; the daemon
				 takes the largest and resets it every tick) */
	HS_C_COUNT
};

#endif
