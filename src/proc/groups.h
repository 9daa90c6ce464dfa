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
 *       cgroup: ['^/system\.slice/(?P<unit>[^/]+)\.service$'] # every regex must
 *                                  # match a path of /proc/PID/cgroup (hindsight's)
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
	GROUP_NEEDS_CGROUPS = 2, /* {{.Cgroups}} or a cgroup selector */
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
	const char *cgroups;  /* /proc/PID/cgroup text, when GROUP_NEEDS_CGROUPS (must stay
				 valid until group_rules_match returns) */
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

#endif
