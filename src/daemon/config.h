#ifndef HINDSIGHT_CONFIG_H
#define HINDSIGHT_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "bpf/ebpf.h"
#include "collect/cgroup.h"
#include "collect/disk.h"
#include "collect/procs.h"
#include "metrics/metrics.h"
#include "metrics/remote.h"
#include "proc/accounting.h"
#include "store/tiers.h"
#include "util/defaults.h"
#include "util/util.h"
#include "util/yaml.h"

#define INTERVAL_MAX_MS (86400LL * 1000) /* 1 day: see config_validate */

/* The daemon's configuration. Precedence, lowest first: built-in defaults,
 * the YAML file, HOST_PROC/HOST_SYS, command-line flags. The file format is
 * the daemon's; each part's options are its own struct, declared in its
 * header, and each collector is handed only its own (registry.c). */
struct config {
	char file[PATH_MAX]; /* the YAML file it came from, "" for none */
	char db[PATH_MAX];
	int64_t interval_ms;
	int64_t duration_ms; /* 0: run until stopped */
	char proc_root[PATH_MAX];
	char sys_root[PATH_MAX];
	char views_dir[PATH_MAX]; /* extra saved views, "" for none */
	enum log_level log_level;
	struct retention_limits retention; /* retention: */
	struct disk_options disk;	   /* disks: */
	struct bpf_options bpf;		   /* bpf: */
	struct cgroup_options cgroups;	   /* cgroups: */
	/* Processes and groups (docs/processes.md): process_names or
	 * process_config, children, recheck_with_time_limit, procs_refresh,
	 * procs_pss ... */
	struct acct_options accounting;
	/* ... and top_processes, cmdline_max_bytes, cmdline_redact. */
	struct procs_options procs;
	struct metrics_options metrics;		  /* metrics: */
	struct remote_write_options remote_write; /* remote_write: */
	int process_names_inline;		  /* this file has a process_names section */
};

void config_defaults(struct config *c);
/* Reads a YAML file over c. Errors name file:line:column and the bad token;
 * c is only changed when the whole file is valid. */
int config_load_file(struct config *c, const char *path, struct err *e);
/* Applies HOST_PROC, HOST_SYS and HOST_ROOT (cgroups.runtime_root) when set. */
void config_apply_env(struct config *c);
/* Checks values that only make sense together (e.g. a minimum interval). */
int config_validate(const struct config *c, struct err *e);

#endif
