#ifndef HINDSIGHT_DAEMON_REGISTRY_H
#define HINDSIGHT_DAEMON_REGISTRY_H

#include <stddef.h>
#include <stdio.h>

#include "collect/collect.h"
#include "util/util.h"

/*
 * The collectors the daemon runs, one line each in registry.c, in the order
 * they sample. Everything else that lists collectors derives from it: the
 * order they open in, the options each is handed, which collector provides
 * each view (view_catalog.collector), `hindsightd --list-collectors`, and
 * bench/tick's set.
 */

/* How a collector touches the process accounting (proc/accounting.h). */
enum collector_role {
	ROLE_PLAIN,		/* not at all */
	ROLE_FEEDS_ACCOUNTING,	/* adds to it in its sample (eBPF exits) ... */
	ROLE_WRITES_ACCOUNTING, /* ... before this one scans it and writes its rows */
};

#define NO_OPTIONS ((size_t)-1)

struct collector_entry {
	const struct collector_ops *ops;
	size_t options;	  /* offsetof(struct config, <its options>), or NO_OPTIONS */
	int opens_slowly; /* opened before the others (see daemon.c) */
	enum collector_role role;
	const char *sources; /* what it reads */
	const char *tables;  /* the tables it writes, space-separated */
	const char *views;   /* the saved views over them, space-separated */
	const char *summary; /* what it stores, in one line */
};

extern const struct collector_entry collector_registry[];
extern const size_t collector_registry_len;

/* The daemon's own tables and views: its self-metrics and bookkeeping. */
extern const char daemon_tables[];
extern const char daemon_views[];

/* Checks a registry: every line has a name, open, sample and close; names
 * are unique; every collector that feeds the process accounting comes
 * before the one that writes it, and there is one writer if there is a
 * feeder. Returns -1 naming the first broken rule. */
int registry_check(const struct collector_entry *r, size_t n, struct err *e);

/* The name of the collector whose line lists view, or NULL: a view of the
 * daemon itself, or a user's. */
const char *registry_view_collector(const char *view);

/* Whether word is one of the space-separated words of list. */
int registry_lists(const char *list, const char *word);

/* hindsightd --list-collectors[=FORMAT]. */
enum registry_format {
	REGISTRY_TEXT,	   /* per collector: what it stores, reads, writes, provides */
	REGISTRY_NAMES,	   /* one name per line, in sample order (for scripts) */
	REGISTRY_MARKDOWN, /* a Markdown table with what each stores (for the docs) */
};
int registry_format_by_name(const char *name, enum registry_format *out);
void registry_print(FILE *out, enum registry_format f);

#endif
