/* Option parsing for the hindsight commands. */
#ifndef HINDSIGHT_QUERY_CLI_H
#define HINDSIGHT_QUERY_CLI_H

#include "query/query.h"
#include "util/defaults.h"

/* Groups of options; each command accepts some of them. */
enum {
	OPT_COMMON = 1 << 0,   /* --db --timeout --memory-limit --help */
	OPT_FORMAT = 1 << 1,   /* --table --csv --json --ndjson --raw */
	OPT_OUTPUT = 1 << 2,   /* -o FILE */
	OPT_TIMEFMT = 1 << 3,  /* --epoch --iso */
	OPT_RANGE = 1 << 4,    /* --since --until */
	OPT_WHERE = 1 << 5,    /* --where */
	OPT_ORDER = 1 << 6,    /* --limit --order */
	OPT_PARAM = 1 << 7,    /* -p NAME=VALUE */
	OPT_AT = 1 << 8,       /* --at --window --context --rows */
	OPT_PLOT = 1 << 9,     /* --svg --width --height --spark --agg */
	OPT_RES = 1 << 10,     /* --resolution */
	OPT_COLUMNS = 1 << 11, /* -c/--columns */
	OPT_ALL = 1 << 12,     /* --all */
	OPT_TABLES = 1 << 13,  /* --tables */
	OPT_OM = 1 << 14,      /* --openmetrics (export) */
};

void qopts_defaults(struct qopts *o);
int qopts_parse(struct qopts *o, int argc, char **argv, int stop_at_arg, int *next, unsigned *given,
		int *help, struct err *e);

/* The first option given from these groups, as typed. */
const char *qopts_group_name(unsigned groups);

#endif
