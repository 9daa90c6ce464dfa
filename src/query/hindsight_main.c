/* hindsight: the query tool. Wiring only: the command table, the help texts,
 * and option parsing; each command lives in its own cmd_*.c file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/cli.h"
#include "query/timespec.h"

#define COMMON_HELP                                                                                \
	"  --db PATH           the database (default $HINDSIGHT_DB, then " DEFAULT_DB_PATH ")\n"   \
	"  --timeout DUR       stop a statement (or one page of it) that runs longer\n"            \
	"                      (default 10s; 0: no limit)\n"                                       \
	"  --memory-limit MB   stop a query that needs more memory (default 512); sorting\n"       \
	"                      and temporary tables count too, they never go to disk\n"            \
	"  -h, --help          this text\n"

#define FORMAT_HELP                                                                                \
	"  --table             aligned columns (the default when stdout is a terminal)\n"          \
	"  --csv               CSV, RFC 4180: header row, CRLF, UTF-8 (the default otherwise)\n"   \
	"  --json              one JSON array of objects\n"                                        \
	"  --ndjson            one JSON object per line\n"                                         \
	"  --raw               exact values in the table (it shows units people read:\n"           \
	"                      1.2 GiB, 48.3 MiB/s, 12.5%, 3.2 ms, from the column names)\n"       \
	"  -o, --output FILE   write to FILE instead of stdout\n"                                  \
	"                      A table fits the terminal (or $COLUMNS): the widest text\n"         \
	"                      wraps, and columns that still do not fit are left out\n"            \
	"                      (stderr names them). Not a terminal and no format given:\n"         \
	"                      CSV, and a note on stderr when that is a terminal.\n"

#define COLUMNS_HELP "  -c, --columns A,B   only these columns, in this order\n"

#define ALL_HELP                                                                                   \
	"  --all               every row of a view that folds rows (exec_log folds the\n"          \
	"                      failed tries of a PATH search into the exec: --all shows\n"         \
	"                      each try, as the view exec_log_all)\n"

#define TIMEFMT_HELP                                                                               \
	"  --iso               timestamps (ts, *_ts) as ISO 8601 UTC: 2026-11-20T03:12:00Z\n"      \
	"  --epoch             timestamps as epoch seconds\n"                                      \
	"                      Defaults: the table shows local time, CSV ISO 8601 UTC,\n"          \
	"                      JSON and NDJSON epoch seconds.\n"

#define RES_HELP                                                                                   \
	"  --resolution RES    raw, 1m, 1h or auto (default). raw, 1m and 1h read that tier\n"     \
	"                      (rollup rows: counters summed, gauges averaged), finer ones\n"      \
	"                      for the recent minutes not rolled up yet and coarser ones\n"        \
	"                      where it was pruned. auto: see the command's help.\n"

#define RANGE_HELP(dflt)                                                                           \
	"  --since TIME        start of the range, inclusive (default " dflt ")\n"                 \
	"  --until TIME        end of the range, inclusive (default: no end)\n"

#define WHERE_HELP                                                                                 \
	"  --where COL=VALUE   keep rows where the column has that value; repeatable. Also\n"      \
	"                      COL!=V, COL<V, COL<=V, COL>V, COL>=V, and COL~PATTERN (LIKE).\n"    \
	"                      Values are bound, never pasted into the SQL.\n"

static const char main_help[] =
    "Usage: hindsight COMMAND [OPTIONS]\n"
    "Reads what hindsightd recorded: saved views, ad-hoc SQL, exports, charts.\n"
    "The database is opened read-only; the daemon can keep writing meanwhile.\n"
    "\n"
    "Commands:\n"
    "  views               list the saved views\n"
    "  show VIEW           a view over a time range, filtered and ordered\n"
    "  sql \"SELECT ...\"    ad-hoc read-only SQL with named parameters\n"
    "  export NAME         a table or view over a range, streamed as CSV\n"
    "  top --since 10m     what the machine was doing then: an incident report\n"
    "  plot VIEW COLUMN    a chart of one column, in the terminal or as SVG\n"
    "  replay              the history one tick per screen, stepping back and forth\n"
    "  status              what the database holds and whether the daemon is alive\n"
    "\n"
    "Options every command takes:\n" COMMON_HELP "  --version           print the version\n"
    "\n"
    "Times (--since, --until, --at):\n"
    "%s"
    "\n"
    "Environment: HINDSIGHT_DB, the database when --db is not given;\n"
    "HINDSIGHT_READERS, how many connections read a long range at once in show\n"
    "and export (default: one per CPU, at most 2; 1 reads serially).\n"
    "\n"
    "Exit status: 0 done, 1 failed (database, query, refused statement, permission\n"
    "denied), 2 bad usage (unknown option or column, bad time, an output file that is\n"
    "the database or a file beside it). status has its own: see its --help.\n"
    "\n"
    "'hindsight COMMAND --help' describes each command.\n";

static const char views_help[] = "Usage: hindsight views [OPTIONS]\n"
				 "Lists the saved views: name, title, description, and whether\n"
				 "the view is installed in this database.\n"
				 "\n" COLUMNS_HELP FORMAT_HELP COMMON_HELP;

static const char show_help[] =
    "Usage: hindsight show VIEW [OPTIONS]\n"
    "Runs a saved view (or any table) over a time range. Rows are read in pages\n"
    "of time, so a long range streams without holding the database.\n"
    "\n" RANGE_HELP("1h: the last hour") WHERE_HELP COLUMNS_HELP ALL_HELP
    "  --limit N           at most N rows\n"
    "  --order COL[:desc]  order by that column (default ts, oldest first;\n"
    "                      --order ts:desc shows the newest first). Another column\n"
    "                      than ts sorts the whole range in one statement.\n" RES_HELP
    "                      auto here: the coarsest tier still giving about 500 rows\n"
    "                      per series (raw up to 8 h, 1-minute rows up to 20 days).\n" FORMAT_HELP
	TIMEFMT_HELP COMMON_HELP "\n"
    "Example: hindsight show cpu_usage --since 2h --where busy_pct'>'50\n";

static const char sql_help[] =
    "Usage: hindsight sql \"SELECT ...\" [OPTIONS]\n"
    "Runs one read-only statement: SELECT, WITH, EXPLAIN or a read-only PRAGMA.\n"
    "Writes, ATTACH/DETACH, transactions and pragmas that set a value are refused.\n"
    "\n"
    "  -p, --param NAME=VALUE  bind :NAME (also @NAME, $NAME); repeatable. A value\n"
    "                      that reads as a number is bound as one.\n"
    "  --since TIME, --until TIME  bound to :since and :until when the statement\n"
    "                      uses them (as epoch seconds; defaults 1h ago and now)\n" RES_HELP
    "                      auto here: as show's for the range of :since and :until\n"
    "                      when the statement uses them, else the finest tier.\n" FORMAT_HELP
	TIMEFMT_HELP COMMON_HELP "\n"
    "Example: hindsight sql \"SELECT max(busy_pct) FROM cpu_usage WHERE ts >= :since\" "
    "--since 1d\n";

static const char export_help[] =
    "Usage: hindsight export NAME [OPTIONS]\n"
    "       hindsight export --openmetrics [NAME...] [OPTIONS]\n"
    "Streams a table or view over a time range as CSV (RFC 4180: header row, CRLF,\n"
    "UTF-8, quoted where needed, NULL as an empty field). Rows come oldest first in\n"
    "pages of time, so a month of data needs neither much memory nor a long read\n"
    "transaction. Tables without a ts column are exported whole.\n"
    "\n"
    "With --openmetrics: the history as OpenMetrics 1.0 text with timestamps, for\n"
    "promtool tsdb create-blocks-from openmetrics: what /metrics would have shown at\n"
    "every stored tick, under the names node_exporter and process-exporter use,\n"
    "counters counted from the start of the range, ending with # EOF. NAMEs pick\n"
    "metric families (node_cpu_seconds_total), tables (group_sample) or views\n"
    "(their tables); none: everything. Parts of the range older than the raw\n"
    "rows kept come from the rollups (a sample a minute, or an hour); --resolution\n"
    "1m or 1h asks for those wherever they exist.\n"
    "\n" RANGE_HELP("everything") WHERE_HELP COLUMNS_HELP ALL_HELP
    "  --ndjson, --json    write NDJSON or a JSON array instead of CSV\n"
    "  --openmetrics       write OpenMetrics (see above)\n"
    "  -o, --output FILE   write to FILE instead of stdout\n" RES_HELP
    "                      auto here: the finest tier holding each part of the "
    "range.\n" TIMEFMT_HELP COMMON_HELP;

static const char top_help[] =
    "Usage: hindsight top --since TIME [--until TIME] [OPTIONS]\n"
    "       hindsight top --at TIME [--window DUR] [OPTIONS]\n"
    "An incident report for a window of time: CPU, memory, load, pressure, disks\n"
    "and network; the busiest services and containers (with their OOM kills),\n"
    "groups and processes by CPU, memory and I/O; the processes that ended and the\n"
    "programs started in it; processes killed by a signal, OOM kills and the\n"
    "kernel log. A section whose collector is not in this database says so.\n"
    "\n"
    "  --since TIME        the window starts here (e.g. --since 10m: the last ten\n"
    "                      minutes)\n"
    "  --until TIME        and ends here (default: now)\n"
    "  --at TIME           or: a window centred on this moment\n"
    "  --window DUR        its length with --at (default 5m)\n"
    "  --context DUR       events (killed processes, OOM kills, kernel log) also this\n"
    "                      long before and after the window, each labelled with its\n"
    "                      distance from it (\"-1m20s before\", \"+2m10s after\");\n"
    "                      without it only events inside the window are shown\n"
    "  --rows N            rows per section (default 5)\n" RES_HELP
    "                      auto here: the finest tier holding the window.\n" COMMON_HELP "\n"
    "Examples: hindsight top --since 10m\n"
    "          hindsight top --at '2026-11-20 03:12' --window 10m --context 5m\n";

static const char plot_help[] =
    "Usage: hindsight plot VIEW COLUMN [OPTIONS]\n"
    "Charts one numeric column over the range: a braille line chart in the\n"
    "terminal, a one-line sparkline, or a standalone SVG file. Values and axes are\n"
    "in the column's unit, on round ticks; an axis starts at 0 unless a value is\n"
    "negative. A view with a row per disk, interface, group or CPU draws one line\n"
    "per series (in the terminal, a panel each on one scale): the top ones by the\n"
    "column's total, the rest summed as \"other\"; --where picks one.\n"
    "\n" RANGE_HELP("1h: the last hour") WHERE_HELP
    "  --series N          lines at most besides \"other\" (default 5, up to 20)\n"
    "  --agg FN            how rows in one time bucket combine: avg (default), max,\n"
    "                      min or sum\n"
    "  --width N           chart width in characters (default 72)\n"
    "  --height N          chart height in lines (default 12; shared by the panels)\n"
    "  --spark             a one-line sparkline (one per series) instead of the chart\n"
    "  --svg FILE          write an SVG line chart with axes, time labels and a legend\n" RES_HELP
    "                      auto here: the coarsest tier as fine as the chart's "
    "points.\n" COMMON_HELP;

static const char replay_help[] =
    "Usage: hindsight replay [--at TIME] [OPTIONS]\n"
    "The history one tick per screen, in the terminal, as atop -r and below replay\n"
    "show theirs: CPU, memory, load, pressure, disks and network; services and\n"
    "containers (the cgroups that are workloads), process groups and the processes\n"
    "of the tick; its kernel log lines, OOM kills, processes killed by a signal,\n"
    "and the programs started and ended in it. Without --at it shows the newest\n"
    "tick and follows the daemon as it writes.\n"
    "\n"
    "Keys: t or Right, T or Left: the next or previous tick; PgDn, PgUp: 10 ticks;\n"
    "Home, End: the oldest, the newest (and follow); j or b: jump to a time (the\n"
    "forms below); r: resolution raw, 1-minute, 1-hour; c, m, i: sort by CPU,\n"
    "memory, I/O; /: show only names containing a text; ?: help; q: quit.\n"
    "\n"
    "  --at TIME           start at the tick covering TIME (default: the newest)\n"
    "  --resolution RES    raw (default: the finest tier holding each time), 1m or\n"
    "                      1h: step through that tier's rollups where it has them\n" COMMON_HELP;

static const char status_help[] =
    "Usage: hindsight status [OPTIONS]\n"
    "Whether the daemon is alive and what the database holds: the first and last\n"
    "sample, the age of the last tick, the daemon's overhead and problems, and the\n"
    "retention limits.\n"
    "\n"
    "  --json              one JSON object (state, ticks, overhead, problems, limits;\n"
    "                      with --tables, tiers and tables), also when there is no\n"
    "                      database\n"
    "  --tables            what each retention tier and table holds: rows, bytes,\n"
    "                      oldest and newest, last prune (counts every row: about a\n"
    "                      second per GiB)\n" COMMON_HELP "\n"
    "Exit status (for a monitoring check): 0 the daemon is alive (its last tick is at\n"
    "most two intervals and 15 s old), 1 it is not (stale, or no tick yet), 2 there is\n"
    "no database to read (missing, unreadable, or not hindsight's).\n";

struct command {
	const char *name;
	const char *help;
	unsigned opts;
	int min_args, max_args;
	int (*run)(struct qopts *o);
};

static const struct command commands[] = {
    {"views", views_help, OPT_COMMON | OPT_FORMAT | OPT_OUTPUT | OPT_COLUMNS, 0, 0, cmd_views},
    {"show", show_help,
     OPT_COMMON | OPT_FORMAT | OPT_OUTPUT | OPT_TIMEFMT | OPT_RANGE | OPT_WHERE | OPT_ORDER |
	 OPT_RES | OPT_COLUMNS | OPT_ALL,
     1, 1, cmd_show},
    {"sql", sql_help,
     OPT_COMMON | OPT_FORMAT | OPT_OUTPUT | OPT_TIMEFMT | OPT_RANGE | OPT_PARAM | OPT_RES, 1, 1,
     cmd_sql},
    {"export", export_help,
     OPT_COMMON | OPT_FORMAT | OPT_OUTPUT | OPT_TIMEFMT | OPT_RANGE | OPT_WHERE | OPT_RES |
	 OPT_COLUMNS | OPT_ALL | OPT_OM,
     0, EXPORT_MAX_NAMES, cmd_export},
    {"top", top_help, OPT_COMMON | OPT_AT | OPT_RANGE | OPT_RES, 0, 0, cmd_top},
    {"plot", plot_help, OPT_COMMON | OPT_RANGE | OPT_WHERE | OPT_PLOT | OPT_RES, 2, 2, cmd_plot},
    {"status", status_help, OPT_COMMON | OPT_FORMAT | OPT_TABLES, 0, 0, cmd_status},
    {"replay", replay_help, OPT_COMMON | OPT_AT | OPT_RES, 0, 0, cmd_replay},
};

static int usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "hindsight: %s\n", msg);
	fprintf(stderr, "Try 'hindsight %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return 2;
}

int main(int argc, char **argv)
{
	struct qopts o;
	struct err e;
	unsigned given = 0;
	int help = 0, next = 0;
	/* Each connection is used by one thread at a time (a long range is
	 * read by two, each on its own connection): SQLite keeps the mutexes
	 * its connections share (memory, page cache, file locks) and skips
	 * the one per connection on every column read. */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	qopts_defaults(&o);
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		puts("hindsight " HINDSIGHT_VERSION);
		return 0;
	}
	/* Options before the command apply to it too: hindsight --db X status. */
	if (qopts_parse(&o, argc, argv, 1, &next, &given, &help, &e))
		return usage_error(NULL, e.msg);
	if (next >= argc) {
		printf(main_help, timespec_forms);
		return help ? 0 : 2;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(argv[next], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		char msg[160];
		snprintf(msg, sizeof(msg), "unknown command '%.60s'", argv[next]);
		return usage_error(NULL, msg);
	}
	if (qopts_parse(&o, argc - next, argv + next, 0, NULL, &given, &help, &e))
		return usage_error(cmd->name, e.msg);
	if (help) {
		fputs(cmd->help, stdout);
		if (cmd->opts & (OPT_RANGE | OPT_AT))
			printf("\nTimes:\n%s", timespec_forms);
		return 0;
	}
	if (given & ~cmd->opts) {
		char msg[160];
		snprintf(msg, sizeof(msg), "option '%.60s' does not apply to %s",
			 qopts_group_name(given & ~cmd->opts), cmd->name);
		return usage_error(cmd->name, msg);
	}
	if (o.nargs < cmd->min_args || o.nargs > cmd->max_args) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s takes %d argument%s, got %d", cmd->name,
			 cmd->max_args, cmd->max_args == 1 ? "" : "s", o.nargs);
		return usage_error(cmd->name, msg);
	}
	/* Before the database is opened: an output that is the database or a
	 * file beside it is refused with nothing written. */
	if (outfile_check_all(&o, &e))
		return qfail(2, &e);
	out_prefs.raw = o.raw;
	struct leftovers before;
	leftovers_note(&before, o.db);
	stop_signals_catch();
	int rc = cmd->run(&o);
	leftovers_tidy(&before);
	stop_by_signal();
	return rc;
}
