#ifndef HINDSIGHT_COLLECT_H
#define HINDSIGHT_COLLECT_H

#include <stdint.h>

#include "store/store.h"
#include "util/util.h"

struct proc_accounting;

/* What a collector needs for one tick. */
struct tick {
	int64_t ts;	/* epoch seconds at the end of the sample */
	int64_t dur_ms; /* monotonic length of the interval the deltas cover */
	struct store *store;
	struct tick_errors *errors;
	uint64_t rows; /* rows written in this tick, all collectors */
	/* Kernel time and runs of the daemon's in-kernel (eBPF) programs in
	 * the interval, set by the collector that loads them; -1: unknown. */
	int64_t kernel_run_ns;
	int64_t kernel_runs;
};

/* What a collector may use besides its own options, set up once by the
 * daemon. */
struct collector_env {
	struct store *store;
	int proc_fd;		      /* proc root (default /proc, or HOST_PROC) */
	int sys_fd;		      /* sys root (default /sys, or HOST_SYS) */
	int own_proc;		      /* the proc root is this process's /proc, so /proc/net and
					 netlink sock_diag show the same network namespace */
	struct proc_accounting *acct; /* processes and groups (proc/accounting.h) */
};

/*
 * A collector owns a source, its parser and its table. The daemon calls
 *   open   once, with its options (the struct its header declares; NULL for
 *          a collector without options): prepare statements and take the
 *          baseline snapshot;
 *   sample every tick inside the tick's transaction: read, compute deltas
 *          against the baseline, write rows;
 *   commit after the transaction committed: the current snapshot becomes the
 *          baseline. When the commit failed this is not called, so the next
 *          tick's deltas also cover the lost interval and nothing is lost;
 *   close  at exit.
 * sample returns -1 only for a database error (the tick is then rolled back);
 * a source problem is counted in t->errors and the collector goes on.
 *
 * A collector fed by a file descriptor (/dev/kmsg, a BPF ring buffer) also
 * returns it from event_fd (or -1 when it has none now); the loop calls
 * on_readable whenever it is readable, so events are buffered as they arrive
 * and written by the next sample. All hooks but open/sample/close may be NULL.
 * Which collectors run, in which order, is src/daemon/registry.c.
 */
struct collector_ops {
	const char *name;
	int (*open)(void **state, const struct collector_env *env, const void *options,
		    struct err *e);
	int (*sample)(void *state, struct tick *t, struct err *e);
	void (*commit)(void *state);
	void (*close)(void *state);
	int (*event_fd)(void *state);
	void (*on_readable)(void *state);
};

/* Binds one int64 per column in order, for the fact-table inserts. */
void bind_int64s(sqlite3_stmt *st, int first, const int64_t *v, int n);
void bind_u64s(sqlite3_stmt *st, int first, const uint64_t *v, int n);

#endif
