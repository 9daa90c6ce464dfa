#ifndef HINDSIGHT_COLLECT_PROCS_H
#define HINDSIGHT_COLLECT_PROCS_H

#include <stdint.h>
#include <stdio.h>

/* The processes collector: the rows of the process accounting the daemon
 * owns (proc/accounting.h): per-group rows, the top processes, the process
 * table and the scanner's own figures. */

/* What the rows keep of each process (docs/processes.md). */
struct procs_options {
	int64_t top_processes;	   /* N of the per-tick top lists (0..1000) */
	int64_t cmdline_max_bytes; /* stored command lines are cut here */
	char cmdline_redact[1024]; /* redaction patterns, '\n'-separated */
};

static inline void procs_options_default(struct procs_options *o)
{
	o->top_processes = 10;
	o->cmdline_max_bytes = 1024;
	snprintf(o->cmdline_redact, sizeof(o->cmdline_redact), "%s",
		 "password=\npasswd=\nsecret=\ntoken=\napi_key=\napikey=\n--password\n--token");
}

/* The most top_processes may ask for. */
#define PROCS_TOP_MAX 1000

struct collector_ops;
extern const struct collector_ops collector_procs;

#endif
