#ifndef HINDSIGHT_PROC_SCAN_H
#define HINDSIGHT_PROC_SCAN_H

#include <stdint.h>

#include "proc/procfs.h"
#include "util/util.h"

/*
 * The process scanner: every process under the proc root, identified by
 * (pid, start time), kept in a table that is reused from tick to tick.
 *
 * What is read per tick, and why (the cost of a tick is dominated by
 * open/read/close of /proc files, so the rule is "read only what can have
 * changed"):
 *  - every process: /proc/PID/schedstat (CPU time in ns and run count of the
 *    main thread), kept open on procfs so a tick costs one pread. For a single-threaded process
 * that did not run since the last reading, nothing it owns changed: stat, status, io and fd are not
 *    read and the cached values are reused.
 *  - a multi-threaded process: /proc/PID/stat instead, kept open on procfs
 *    (schedstat covers only the main thread, stat sums all threads). When stat's CPU times, faults,
 *    thread count and memory did not move, status, io and fd are skipped.
 *  - a process that changed: stat, status, io, and its open fds counted by
 *    listing /proc/PID/fd (cheap then: the process is active anyway).
 *  - first sight and every `refresh` scans (spread by pid): everything, and
 *    limits for the soft fd limit. This bounds how stale a skipped gauge can
 *    be (RSS shrinking under reclaim while a process sleeps).
 * Skipping never loses a count: deltas are taken against the last reading,
 * so growth hidden by a skip is counted at the next full reading.
 */

/* Monotonic per-process counters (times in clock ticks). */
struct proc_counters {
	uint64_t utime, stime;
	uint64_t minflt, majflt;
	uint64_t vcsw, ivcsw; /* main thread's context switches */
	uint64_t read_bytes, write_bytes;
};
#define PROC_NCOUNTERS 8

enum proc_flags {
	PF_NEW = 1,	      /* first seen in this scan */
	PF_READ = 2,	      /* stat was (re)read in this scan */
	PF_IO_DENIED = 4,     /* io unreadable (permission) */
	PF_HAVE_IO = 8,	      /* io was read at least once */
	PF_HAVE_FDS = 16,     /* fd count known */
	PF_MULTI = 32,	      /* more than one thread at the last reading */
	PF_COMM_CHANGED = 64, /* comm differs from the previous reading (exec) */
	PF_KTHREAD = 128,     /* a kernel thread */
	PF_FD_DENIED = 256,   /* fd directory unreadable (permission) */
	PF_KFD_STAT = 512,    /* the kept descriptor is stat's */
	PF_EXITED = 1024,     /* its exit was reported (eBPF): a zombie adds nothing */
	PF_UNCOUNTED = 2048,  /* first seen as a zombie while exits are reported: its
				 exit record, before or after, brings its usage */
};

struct proc_entry {
	int32_t pid, ppid;
	uint64_t start_ticks; /* ticks after boot: (pid, start_ticks) is the identity */
	char comm[PROC_COMM_MAX];
	char state;
	uint32_t uid; /* effective */
	int64_t threads;
	uint64_t vsize_kb, rss_kb, swap_kb;
	uint64_t pss_kb;	     /* only with opts.pss */
	uint64_t fds, fd_limit;	     /* fd_limit UINT64_MAX: unlimited or unknown */
	uint64_t run_ns, timeslices; /* schedstat, the change detector */
	int kfd;		     /* schedstat (stat when PF_KFD_STAT) kept open, -1: none */
	uint64_t cutime, cstime;     /* waited-for children's totals, last reading */
	struct proc_counters last;   /* last reading */
	struct proc_counters delta;  /* growth counted in this scan */
	uint64_t reaped_utime, reaped_stime; /* children's CPU not seen elsewhere, this scan */
	uint64_t credit_utime, credit_stime; /* vanished children's totals, this scan */
	uint64_t carry_utime, carry_stime;   /* ... from the previous scan, not yet matched */
	uint32_t gen;			     /* scan that last saw it */
	uint32_t flags;
	/* Owned by the caller (the collector), kept across scans: */
	int32_t group;	    /* group index, -1: not tracked */
	int64_t row_id;	    /* process table row, 0: not written yet */
	uint32_t class_gen; /* scan in which it was classified */
};

struct proc_scan_opts {
	unsigned refresh; /* full reading every N scans; 0: never */
	/* Processes started after this many ticks since boot contribute their
	 * whole counters when first seen; older ones only their growth. 0: now. */
	uint64_t start_ticks;
	/* Read PSS from smaps_rollup for processes that changed. Off by
	 * default: the kernel walks every mapping under the mm lock, which
	 * stalls large processes and costs far more than the rest. */
	int pss;
};

struct proc_scan_stats {
	uint64_t procs;	   /* processes present */
	uint64_t full;	   /* read in full */
	uint64_t skipped;  /* unchanged: cached values reused */
	uint64_t vanished; /* exited since the previous scan, or mid-read */
	uint64_t added;	   /* first seen */
};

struct proc_scan {
	int proc_fd;
	struct proc_scan_opts opt;
	struct buf buf;
	long hz, page_kb;
	uint32_t gen;
	int scans; /* completed scans; the first is the baseline */
	/* The table: entries dense in ent[], found by pid through slots[]
	 * (open addressing, 0 = empty, else index + 1). */
	struct proc_entry *ent;
	uint32_t nent, capent;
	uint32_t *slots;
	uint32_t nslots;
	/* Processes that vanished in the last scan (for the caller), reused. */
	struct proc_entry *gone;
	uint32_t ngone, capgone;
	struct proc_scan_stats st;
	uint32_t nfds, fd_budget; /* kept schedstat descriptors */
};

int proc_scan_init(struct proc_scan *s, int proc_fd, const struct proc_scan_opts *opt,
		   struct err *e);
void proc_scan_free(struct proc_scan *s);
/* One pass over the proc root. Source problems are counted in te (may be
 * NULL); returns -1 only when the root itself cannot be listed. */
int proc_scan_run(struct proc_scan *s, struct tick_errors *te, struct err *e);
struct proc_entry *proc_scan_find(struct proc_scan *s, int32_t pid);

/* Reads /proc/PID/<name> into s->buf (one read for the small files).
 * Returns 0 or a negative errno. */
int proc_read(struct proc_scan *s, int32_t pid, const char *name);
/* /proc/PID/cmdline into out (NUL-separated argv, NUL-terminated); returns
 * its length, or a negative errno. */
int proc_read_cmdline(struct proc_scan *s, int32_t pid, char *out, size_t n);

#endif
