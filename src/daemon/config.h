#ifndef HINDSIGHT_CONFIG_H
#define HINDSIGHT_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "store/tiers.h"
#include "util/util.h"
#include "util/yaml.h"

#define DEFAULT_DB_PATH "/var/lib/hindsight/hindsight.db"
#define INTERVAL_MAX_MS (86400LL * 1000) /* 1 day: see config_validate */

/* The eBPF collectors: the `bpf:` section. Each family can be turned off. */
struct bpf_config {
	int enabled;	    /* `enabled`; --no-bpf clears it */
	int exec;	    /* exec events (and their counter) */
	int failed_execs;   /* failed exec events: needs the syscall-exit hook */
	int exits;	    /* process exit events with their usage */
	int tasks;	    /* fork, exec and exit counters */
	int syscalls;	    /* open/close/read/write counters: the syscall-exit hook */
	int oom;	    /* OOM kill counter and victim events */
	int tcp;	    /* TCP retransmit counter */
	int64_t args_bytes; /* argv bytes kept per exec, 0..4096 */
	int64_t ring_kb;    /* kernel ring buffer size, a power of two, >= 4 */
	int64_t buffer_kb;  /* events held between two ticks, at most */
};

/* The daemon's configuration. Precedence, lowest first: built-in defaults,
 * the YAML file, HOST_PROC/HOST_SYS, command-line flags. */
struct config {
	char file[PATH_MAX]; /* the YAML file it came from, "" for none */
	char db[PATH_MAX];
	int64_t interval_ms;
	int64_t duration_ms; /* 0: run until stopped */
	char proc_root[PATH_MAX];
	char sys_root[PATH_MAX];
	char views_dir[PATH_MAX]; /* extra saved views, "" for none */
	enum log_level log_level;
	struct bpf_config bpf;
	struct retention_limits retention; /* the retention: section */
	int disks_include_loop;		   /* disks: include_loop (default false) */
	int disks_include_ram;		   /* disks: include_ram (default false) */
	/* Processes and groups (docs/processes.md). */
	char process_config[PATH_MAX]; /* a process-exporter YAML file, "" for none */
	int process_names_inline;      /* this file has a process_names section */
	int children;		       /* children join their parent's group */
	int64_t recheck_ms;	       /* re-classify young processes; 0: never */
	int64_t top_processes;	       /* N of the per-tick top lists */
	int64_t cmdline_max_bytes;     /* stored command lines are cut here */
	char cmdline_redact[1024];     /* redaction patterns, '\n'-separated */
	int64_t procs_refresh_ms;      /* full re-read of every process */
	int procs_pss;		       /* read PSS from smaps_rollup (costly) */
};

void config_defaults(struct config *c);
/* Reads a YAML file over c. Errors name file:line:column and the bad token;
 * c is only changed when the whole file is valid. */
int config_load_file(struct config *c, const char *path, struct err *e);
/* Applies HOST_PROC and HOST_SYS when set. */
void config_apply_env(struct config *c);
/* Checks values that only make sense together (e.g. a minimum interval). */
int config_validate(const struct config *c, struct err *e);

#endif
