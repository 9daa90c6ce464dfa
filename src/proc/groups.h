#ifndef HINDSIGHT_PROC_GROUPS_H
#define HINDSIGHT_PROC_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"
#include "util/yaml.h"

/*
 * Process groups in the rule language of ncabatoff/process-exporter, so its
 * users bring their YAML unchanged:
 *
 *   process_names:
 *     - name: "{{.ExeFull}}:{{.Matches.Cfgfile}}"   # default "{{.ExeBase}}"
 *       comm: [bash, sh]          # any of these comms (exact)
 *       exe: [postgres, /usr/bin/x] # argv[0]: basename, or the full path
 *       cmdline: ['-c\s+(?P<Cfgfile>\S+)'] # every regex must match argv
 *                                          # joined by spaces (PCRE2)
 *
 * Within one entry every selector given must match; the first entry that
 * matches names the process. Template fields: .Comm .ExeBase .ExeFull
 * .Username .PID .StartTime .Matches.<name> .Cgroups. Without rules every
 * process is grouped by its comm, a kernel thread by its comm up to the
 * first '/' (kworker/3:1-events -> kworker, ksoftirqd/0 -> ksoftirqd).
 */

struct group_rule;

struct group_rules {
	struct group_rule *rules;
	size_t n;
	unsigned needs; /* GROUP_NEEDS_* */
};
enum {
	GROUP_NEEDS_ARGV = 1,	 /* exe/cmdline selectors or Exe/Matches fields */
	GROUP_NEEDS_CGROUPS = 2, /* {{.Cgroups}} */
};

/* The longest argv rules see: longer command lines are matched on their
 * first GROUP_ARGV_MAX - 1 bytes. */
#define GROUP_ARGV_MAX 65536

/* What a rule sees of a process. */
struct proc_ident {
	const char *comm;
	const char *argv; /* NUL-separated argv as in /proc/PID/cmdline */
	size_t argv_len;
	uint32_t uid; /* effective */
	int32_t pid;
	uint64_t start_ticks; /* since boot */
	int64_t boot_s;	      /* epoch seconds of boot, for .StartTime */
	const char *cgroups;  /* /proc/PID/cgroup text, when GROUP_NEEDS_CGROUPS */
	int kthread;	      /* a kernel thread */
};

/* Parses a `process_names:` sequence node. Errors name file:line. */
int group_rules_parse(struct group_rules *r, const struct yaml_walk *w, yaml_node_t *seq,
		      struct err *e);
/* Loads the `process_names` key of a YAML file: a process-exporter config,
 * or hindsight's own config holding the same key. A file without the key
 * leaves the default rules. */
int group_rules_load(struct group_rules *r, const char *path, struct err *e);
/* The default: one group per comm. */
void group_rules_default(struct group_rules *r);
void group_rules_free(struct group_rules *r);

/* Names the process by the first matching rule: 1 and the name in out, or
 * 0 when no rule matches (the process is not tracked by its own rule). */
int group_rules_match(const struct group_rules *r, const struct proc_ident *id, char *out,
		      size_t n);

/* The user name of a uid (cached), or the number when it has none. */
const char *proc_user_name(uint32_t uid);

/*
 * The hook for other collectors (the eBPF one): while the processes
 * collector runs, it exposes its groups here.
 *
 *   procs_group_classify  names a process the scanner may never have seen
 *                         (one that lived and died between two ticks): the
 *                         rules first, else the group its parent is in (when
 *                         children join their parent's group), else -1.
 *                         Returns the group's id in the proc_group table.
 *   procs_group_add       adds usage to a group for the tick being written;
 *                         call it before the processes collector samples in
 *                         the same tick (or it lands in the next tick). It
 *                         adds to the group's counters only, never to a
 *                         process's. Returns -1 for an unknown group id.
 *
 * Both return -1 when the processes collector is not running.
 */
struct group_usage {
	uint64_t user_ms, system_ms;
	uint64_t read_bytes, write_bytes;
	uint64_t minflt, majflt;
	uint64_t vcsw, ivcsw;
};
int64_t procs_group_classify(const char *comm, const char *argv, size_t argv_len, uint32_t uid,
			     int32_t pid, int32_t ppid);
int procs_group_add(int64_t group_id, const struct group_usage *u);

/*
 * A process's exit with its final totals (the eBPF collector). Matched by
 * (pid, start_ticks): a process the scanner tracks adds its growth since its
 * last reading to its group (and nothing more if /proc still shows it as a
 * zombie); one it never saw is classified by the rules (else its parent's
 * group) and adds its totals whole. Call procs_exits_reported(1) in every
 * tick in which exits are reported: a parent's cutime growth (reaped
 * children) is then not added again. Returns -1 when the processes
 * collector is not running, 0 otherwise.
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
int procs_exit(const struct proc_exit *x);
void procs_exits_reported(int on);

#endif
