/* Command-line options shared by the commands, and the time range they give. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/cli.h"
#include "query/timespec.h"

enum {
	K_DB = 256,
	K_TIMEOUT,
	K_MEMORY,
	K_CSV,
	K_JSON,
	K_NDJSON,
	K_TABLE,
	K_EPOCH,
	K_ISO,
	K_SINCE,
	K_UNTIL,
	K_WHERE,
	K_LIMIT,
	K_ORDER,
	K_AT,
	K_WINDOW,
	K_CONTEXT,
	K_ROWS,
	K_SVG,
	K_WIDTH,
	K_HEIGHT,
	K_SPARK,
	K_AGG,
	K_RESOLUTION,
	K_OPENMETRICS,
	K_RAW,
	K_ALL,
	K_TABLES,
	K_SERIES,
};

static const struct option long_opts[] = {
    {"db", required_argument, 0, K_DB},
    {"timeout", required_argument, 0, K_TIMEOUT},
    {"memory-limit", required_argument, 0, K_MEMORY},
    {"csv", no_argument, 0, K_CSV},
    {"json", no_argument, 0, K_JSON},
    {"ndjson", no_argument, 0, K_NDJSON},
    {"table", no_argument, 0, K_TABLE},
    {"raw", no_argument, 0, K_RAW},
    {"all", no_argument, 0, K_ALL},
    {"tables", no_argument, 0, K_TABLES},
    {"series", required_argument, 0, K_SERIES},
    {"columns", required_argument, 0, 'c'},
    {"output", required_argument, 0, 'o'},
    {"epoch", no_argument, 0, K_EPOCH},
    {"iso", no_argument, 0, K_ISO},
    {"since", required_argument, 0, K_SINCE},
    {"until", required_argument, 0, K_UNTIL},
    {"where", required_argument, 0, K_WHERE},
    {"limit", required_argument, 0, K_LIMIT},
    {"order", required_argument, 0, K_ORDER},
    {"param", required_argument, 0, 'p'},
    {"at", required_argument, 0, K_AT},
    {"window", required_argument, 0, K_WINDOW},
    {"context", required_argument, 0, K_CONTEXT},
    {"rows", required_argument, 0, K_ROWS},
    {"svg", required_argument, 0, K_SVG},
    {"width", required_argument, 0, K_WIDTH},
    {"height", required_argument, 0, K_HEIGHT},
    {"spark", no_argument, 0, K_SPARK},
    {"agg", required_argument, 0, K_AGG},
    {"resolution", required_argument, 0, K_RESOLUTION},
    {"openmetrics", no_argument, 0, K_OPENMETRICS},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* Which group of options each one belongs to, for the commands' masks. */
static unsigned opt_group(int c)
{
	switch (c) {
	case K_DB:
	case K_TIMEOUT:
	case K_MEMORY:
	case 'h':
		return OPT_COMMON;
	case K_CSV:
	case K_JSON:
	case K_NDJSON:
	case K_TABLE:
	case K_RAW:
		return OPT_FORMAT;
	case K_OPENMETRICS:
		return OPT_OM;
	case 'c':
		return OPT_COLUMNS;
	case K_ALL:
		return OPT_ALL;
	case K_TABLES:
		return OPT_TABLES;
	case 'o':
		return OPT_OUTPUT;
	case K_EPOCH:
	case K_ISO:
		return OPT_TIMEFMT;
	case K_SINCE:
	case K_UNTIL:
		return OPT_RANGE;
	case K_WHERE:
		return OPT_WHERE;
	case K_LIMIT:
	case K_ORDER:
		return OPT_ORDER;
	case 'p':
		return OPT_PARAM;
	case K_AT:
	case K_WINDOW:
	case K_CONTEXT:
	case K_ROWS:
		return OPT_AT;
	case K_RESOLUTION:
		return OPT_RES;
	default:
		return OPT_PLOT;
	}
}

static int parse_count(const char *name, const char *text, int64_t max, int64_t *out, struct err *e)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (*text == '\0' || *end || errno || v < 1 || v > max)
		return err_set(e, "%s: expected a whole number from 1 to %lld, got '%s'", name,
			       (long long)max, text);
	*out = v;
	return 0;
}

static int set_format(struct qopts *o, enum out_format f, struct err *e)
{
	if ((o->format != OUT_DEFAULT && o->format != f) || o->openmetrics)
		return err_set(e, "give only one of --table, --csv, --json, --ndjson%s",
			       o->openmetrics ? ", --openmetrics" : "");
	o->format = f;
	return 0;
}

static int apply(struct qopts *o, int c, const char *arg, struct err *e)
{
	int64_t v;
	switch (c) {
	case K_DB:
		o->db = arg;
		return 0;
	case K_TIMEOUT:
		if (parse_duration_ms(arg, &v, e))
			return err_set(e, "--timeout: bad duration '%s' (e.g. 10s, 500ms, 1m)",
				       arg);
		o->timeout_ms = v;
		return 0;
	case K_MEMORY:
		return parse_count("--memory-limit", arg, 1 << 20, &o->memory_limit_mb, e);
	case K_CSV:
		return set_format(o, OUT_CSV, e);
	case K_JSON:
		return set_format(o, OUT_JSON, e);
	case K_NDJSON:
		return set_format(o, OUT_NDJSON, e);
	case K_TABLE:
		return set_format(o, OUT_TABLE, e);
	case K_OPENMETRICS:
		if (o->format != OUT_DEFAULT)
			return err_set(e, "give only one of --table, --csv, --json, --ndjson, "
					  "--openmetrics");
		o->openmetrics = 1;
		return 0;
	case K_RAW:
		o->raw = 1;
		return 0;
	case 'c':
		o->columns = arg;
		return 0;
	case K_ALL:
		o->all = 1;
		return 0;
	case K_TABLES:
		o->tables = 1;
		return 0;
	case K_SERIES:
		if (parse_count("--series", arg, 20, &v, e))
			return -1;
		o->series = (int)v;
		return 0;
	case 'o':
		o->out_path = arg;
		return 0;
	case K_EPOCH:
		o->time = OUT_TIME_EPOCH;
		return 0;
	case K_ISO:
		o->time = OUT_TIME_ISO;
		return 0;
	case K_SINCE:
		o->since = arg;
		return 0;
	case K_UNTIL:
		o->until = arg;
		return 0;
	case K_WHERE:
		if (o->nwhere == QOPTS_MAX_WHERE)
			return err_set(e, "--where: at most %d filters", QOPTS_MAX_WHERE);
		o->where[o->nwhere++] = arg;
		return 0;
	case K_LIMIT:
		return parse_count("--limit", arg, INT64_C(1) << 40, &o->limit, e);
	case K_ORDER:
		o->order = arg;
		return 0;
	case 'p':
		if (o->nparams == QOPTS_MAX_PARAMS)
			return err_set(e, "-p: at most %d parameters", QOPTS_MAX_PARAMS);
		if (!strchr(arg, '='))
			return err_set(e, "-p '%s': expected NAME=VALUE", arg);
		o->params[o->nparams++] = arg;
		return 0;
	case K_AT:
		o->at = arg;
		return 0;
	case K_WINDOW:
		o->window = arg;
		return 0;
	case K_CONTEXT:
		o->context = arg;
		return 0;
	case K_ROWS:
		return parse_count("--rows", arg, 1000, &o->rows_per_section, e);
	case K_SVG:
		o->svg = arg;
		return 0;
	case K_WIDTH:
		if (parse_count("--width", arg, 1000, &v, e))
			return -1;
		o->width = (int)v;
		return 0;
	case K_HEIGHT:
		if (parse_count("--height", arg, 200, &v, e))
			return -1;
		o->height = (int)v;
		return 0;
	case K_SPARK:
		o->spark = 1;
		return 0;
	case K_AGG:
		o->agg = arg;
		return 0;
	case K_RESOLUTION:
		if (strcmp(arg, "raw") && strcmp(arg, "1m") && strcmp(arg, "1h") &&
		    strcmp(arg, "auto"))
			return err_set(e, "--resolution: expected raw, 1m, 1h or auto, got '%s'",
				       arg);
		o->resolution = strcmp(arg, "auto") ? arg : NULL;
		return 0;
	default:
		return err_set(e, "unknown option");
	}
}

/* The option as typed for each group given, for "does not apply" errors. */
static char group_names[16][40];

const char *qopts_group_name(unsigned groups)
{
	return groups ? group_names[__builtin_ctz(groups)] : "?";
}

/* Notes option c, just parsed, as the user typed it without its value:
 * "--since" for "--since 5m" and "--since=5m", "-c" for "-c ts" and "-cts"
 * (argv[optind - 1] alone is the value when it came apart). */
static void note_group_name(int c, char **argv, int optind_now, const char *value)
{
	char *name = group_names[__builtin_ctz(opt_group(c))];
	if (c < 256) {
		snprintf(name, sizeof(group_names[0]), "-%c", c);
		return;
	}
	const char *typed = argv[optind_now - 1];
	if (value && value == typed && optind_now >= 2)
		typed = argv[optind_now - 2];
	snprintf(name, sizeof(group_names[0]), "%.*s", (int)strcspn(typed, "="), typed);
}

void qopts_defaults(struct qopts *o)
{
	memset(o, 0, sizeof(*o));
	const char *env = getenv("HINDSIGHT_DB");
	o->db = env && *env ? env : DEFAULT_DB_PATH;
	o->timeout_ms = 10000;
	o->memory_limit_mb = 512;
	o->now = clock_wall_s();
}

/* getopt_long over argv[0..argc): argv[0] is skipped. With stop_at_arg the
 * parse ends at the first non-option (the command name) and *next is its
 * index; otherwise non-options are collected as positional arguments. */
int qopts_parse(struct qopts *o, int argc, char **argv, int stop_at_arg, int *next, unsigned *given,
		int *help, struct err *e)
{
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, stop_at_arg ? "+ho:p:c:" : "ho:p:c:", long_opts,
				NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (optopt && optopt < 256)
				return err_set(e, "option -%c %s", optopt,
					       c == ':' ? "needs a value" : "is unknown");
			return err_set(e, "option '%s' is unknown or needs a value", bad);
		}
		*given |= opt_group(c);
		note_group_name(c, argv, optind, optarg);
		if (c == 'h') {
			*help = 1;
			continue;
		}
		if (apply(o, c, optarg, e))
			return -1;
	}
	if (stop_at_arg) {
		*next = optind;
		return 0;
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

int qopts_range(const struct qopts *o, const char *dflt_since, int64_t *since, int64_t *until,
		struct err *e)
{
	struct err inner;
	*since = 0;
	*until = TS_MAX;
	const char *s = o->since ? o->since : dflt_since;
	if (s && timespec_parse(s, o->now, since, &inner))
		return err_set(e, "--since: %s", inner.msg);
	if (o->until && timespec_parse(o->until, o->now, until, &inner))
		return err_set(e, "--until: %s", inner.msg);
	if (*since > *until)
		return err_set(e, "--since is after --until: nothing to show");
	return 0;
}

int qfail(int code, const struct err *e)
{
	/* Stopped by Ctrl-C or a closed pipe: the process ends by that
	 * signal, which says enough. */
	if (!stop_signal())
		fprintf(stderr, "hindsight: %s\n", e->msg);
	return code;
}
