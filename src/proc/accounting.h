#ifndef HINDSIGHT_PROC_ACCOUNTING_H
#define HINDSIGHT_PROC_ACCOUNTING_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proc/groups.h"
#include "proc/scan.h"
#include "util/util.h"

/*
 * Process accounting: every process under the proc root (the scanner,
 * scan.h), classified into groups by the rules (groups.h), and per group the
 * usage counted since its row was last stored and the gauges of the last
 * scan. Nothing here touches the database.
 *
 * The daemon owns one and hands it to the collectors that need it (through
 * collect.h's collector_env). In each tick the eBPF collector feeds it the
 * exits it saw (acct_exit), then the processes collector scans
 * (acct_scan) and writes the groups' rows; the collector registry
 * (src/daemon/registry.c) states that order and the daemon checks it at
 * start.
 */

/* Options: the process settings of the configuration (docs/processes.md). */
struct acct_options {
	char rules_file[PATH_MAX]; /* the YAML file whose process_names: are the
				      group rules; "": one group per comm */
	int children;		   /* children join their parent's group */
	int64_t recheck_ms;	   /* re-classify young processes; 0: never */
	int64_t refresh_ms;	   /* full re-read of every process */
	int pss;		   /* read PSS from smaps_rollup (costly) */
};

static inline void acct_options_default(struct acct_options *o)
{
	memset(o, 0, sizeof(*o));
	o->children = 1;
	o->refresh_ms = 60000;
}

/* A group's counters, summed over its processes (ms and counts). */
enum acct_counter {
	ACCT_USER_MS,
	ACCT_SYSTEM_MS,
	ACCT_REAPED_USER_MS,
	ACCT_REAPED_SYSTEM_MS,
	ACCT_READ_BYTES,
	ACCT_WRITE_BYTES,
	ACCT_MINOR_FAULTS,
	ACCT_MAJOR_FAULTS,
	ACCT_VOLUNTARY_SWITCHES,
	ACCT_INVOLUNTARY_SWITCHES,
	ACCT_NCOUNTERS
};
/* A group's gauges, recomputed by every scan. */
enum acct_gauge {
	ACCT_PROCS,
	ACCT_THREADS,
	ACCT_RSS_KB,
	ACCT_VM_KB,
	ACCT_SWAP_KB,
	ACCT_PSS_KB,
	ACCT_FDS,
	ACCT_WORST_FD_PCT_X100,
	ACCT_OLDEST_START_TS,
	ACCT_RUNNING,
	ACCT_SLEEPING,
	ACCT_DISK_WAIT,
	ACCT_ZOMBIE,
	ACCT_OTHER,
	ACCT_NGAUGES
};

struct acct_group {
	char *name;
	/* Counted since the row writer last cleared them, which it does once
	 * the row holding them is committed: a lost tick loses nothing. */
	uint64_t pending[ACCT_NCOUNTERS];
	int64_t gauge[ACCT_NGAUGES]; /* at the last scan */
};

struct proc_accounting {
	struct acct_options opt;
	long hz;
	int64_t boot_s; /* epoch seconds of boot */
	/* The process table. Each entry's group is the index of its group in
	 * groups[] (-1: not tracked); its row_id is the row writer's. */
	struct proc_scan scan;
	int proc_fd;
	struct proc_scan_opts scan_opt;
	struct group_rules rules;
	struct acct_group *groups; /* indices never change: groups are only added */
	size_t ngroups, capgroups;
	uint32_t *gslots; /* name hash -> index + 1 */
	size_t ngslots;
	int exits_reported; /* exits come from acct_exit: reaped children add nothing */
	char argv[GROUP_ARGV_MAX];
};

/* Loads the group rules. interval_ms is the daemon's tick, which the
 * refresh option counts in. Nothing is scanned until acct_baseline. */
int acct_open(struct proc_accounting **out, const struct acct_options *o, int proc_fd,
	      int64_t interval_ms, struct err *e);
void acct_close(struct proc_accounting *a);

/* The first scan: what runs now counts only its growth from here. */
int acct_baseline(struct proc_accounting *a, struct err *e);
/* A scan after the baseline: every process's growth since its last reading
 * is added to its group's pending counters, the gauges are recomputed.
 * Source problems are counted in te; -1 only when the proc root cannot be
 * listed (nothing is then counted). */
int acct_scan(struct proc_accounting *a, struct tick_errors *te, struct err *e);

/*
 * A process's exit with its final totals (the eBPF collector). Matched by
 * (pid, start_ticks): a process the scanner tracks adds its growth since its
 * last reading to its group (and nothing more if /proc still shows it as a
 * zombie); one it never saw is classified by the rules (else its parent's
 * group) and adds its totals whole. Call before the tick's acct_scan.
 */
struct proc_exit {
	int32_t pid, ppid;
	uint64_t start_ticks; /* since boot, as /proc/PID/stat */
	uint32_t uid;
	const char *comm;
	const char *argv; /* NUL-separated, or NULL when unknown */
	size_t argv_len;
	uint64_t utime_ns, stime_ns; /* scaled to the scheduler's runtime, as /proc does */
	uint64_t read_bytes, write_bytes;
	uint64_t minflt, majflt;
	uint64_t vcsw, ivcsw;
};
void acct_exit(struct proc_accounting *a, const struct proc_exit *x);
/* Whether exits are reported in this tick (call in every tick, before
 * acct_scan): a parent's cutime growth (reaped children) is then not added
 * again, nor a zombie's reading. */
void acct_exits_reported(struct proc_accounting *a, int on);

/* p's command line as NUL-separated argv in a->argv (valid until the next
 * call); *len is its length, 0 when unreadable. */
const char *acct_argv(struct proc_accounting *a, const struct proc_entry *p, size_t *len);

#endif
