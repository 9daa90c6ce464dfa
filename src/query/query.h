/* The query tool's vocabulary: options, the safe read-only connection, the
 * output writers, the range runner and one function per command. */
#ifndef HINDSIGHT_QUERY_H
#define HINDSIGHT_QUERY_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"
#include "store/tiers.h"
#include "util/util.h"

/* ---- options (cli.c) ---- */

enum out_format { OUT_DEFAULT, OUT_TABLE, OUT_CSV, OUT_JSON, OUT_NDJSON };
enum out_time { OUT_TIME_DEFAULT, OUT_TIME_EPOCH, OUT_TIME_ISO };

#define QOPTS_MAX_WHERE	 32
#define QOPTS_MAX_PARAMS 64

/* Every option any command takes; each command accepts a subset (its mask). */
struct qopts {
	const char *db;
	int64_t timeout_ms;
	int64_t memory_limit_mb;
	enum out_format format;
	int openmetrics; /* export --openmetrics */
	int raw;	 /* --raw: exact values in the table */
	enum out_time time;
	const char *columns; /* -c/--columns: "a,b,c" as typed */
	int all;	     /* --all: the view's every-row form, <view>_all */
	int tables;	     /* status --tables: every tier and table */
	const char *out_path;
	const char *since, *until; /* as typed; resolved by qopts_range */
	const char *where[QOPTS_MAX_WHERE];
	int nwhere;
	const char *params[QOPTS_MAX_PARAMS];
	int nparams;
	int64_t limit; /* 0: none */
	const char *order;
	const char *at, *window;
	const char *context; /* top: events this long either side of the window */
	const char *svg;
	int width, height;
	int spark;
	int series; /* plot --series N: lines at most besides "other"; 0: 5 */
	const char *agg;
	const char *resolution; /* raw, 1m, 1h or auto; NULL: auto */
	int64_t rows_per_section;
	int64_t now; /* the wall clock when the command started */
	char **args; /* positional arguments after the command name */
	int nargs;
};

/* Far enough in the future for "no upper bound", with room for arithmetic. */
#define TS_MAX (INT64_C(1) << 62)

/* The time range [since, until] (inclusive) from --since/--until; a missing
 * --since is dflt_since (NULL: from the start, 0), a missing --until TS_MAX. */
int qopts_range(const struct qopts *o, const char *dflt_since, int64_t *since, int64_t *until,
		struct err *e);

/* ---- the read-only connection (qdb.c) ---- */

struct qdb {
	struct store store;
	sqlite3 *db;
	int64_t timeout_ms;
	int64_t memory_limit_mb;
	int64_t deadline_us;
	int timed_out;
	char denied[320]; /* why the authorizer refused the last statement */
	int pinning;	  /* creating the tool's own TEMP views: allowed */
	struct read_plan plan;
	unsigned tiers;	  /* a bit per tier the planned range reads */
	unsigned pinned;  /* the tiers the views are pinned to (qdb_pin) */
	const char *uses; /* the SQL or relation to pin views for; NULL: all */
};

/* Opens path read-only with the authorizer, time and memory limits set. */
int qdb_open(struct qdb *q, const struct qopts *o, struct err *e);
/* Chooses the tiers the views read for [since, until] (docs/retention.md):
 * --resolution when given; else with points > 0 the coarsest tier whose
 * step is at most the range / points (a note on a terminal says so); else
 * the finest tier holding each part. Call before preparing statements. */
int qdb_plan(struct qdb *q, const struct qopts *o, int64_t since, int64_t until, int points,
	     struct err *e);
/* show and sql read about this many rows per series at most, unless
 * --resolution says otherwise: 8 h of 10 s samples come raw, a day as
 * minutes, a month as hours, so a long range stays quick to read. */
#define AUTO_ROWS_PER_SERIES 500
/* Pins the views to these tiers (bits) of q->plan; 0: the database's own. */
int qdb_pin(struct qdb *q, unsigned tiers, struct err *e);
/* The oldest (newest: the newest) ts of a relation in [lo, hi] over every
 * tier q's plan reads, or -1 when it has none there. Each tier's part is
 * read with the views pinned to it alone, where min() and max() are an
 * index lookup (over the union of tiers they read every row); the views
 * are pinned as before afterwards. */
int64_t qdb_edge_ts(struct qdb *q, const char *relation, int64_t lo, int64_t hi, int newest);
/* Opens another connection to q's database with q's plan and pins, for a
 * second reader of the same range. */
int qdb_open_reader(struct qdb *r, const struct qdb *q, const struct qopts *o, struct err *e);
void qdb_close(struct qdb *q);
/* Starts the time limit for the next statement (or page of one). */
void qdb_arm(struct qdb *q);
/* Prepares one statement typed by a user: refused unless it only reads. */
int qdb_prepare_user(struct qdb *q, const char *sql, sqlite3_stmt **st, struct err *e);
/* Prepares the tool's own SQL (still under the authorizer). */
int qdb_prepare(struct qdb *q, const char *sql, sqlite3_stmt **st, struct err *e);
/* qdb_prepare, keeping only the columns of -c/--columns (NULL: all), in
 * that order; a name the statement lacks is refused, listing its columns. */
int qdb_prepare_columns(struct qdb *q, const char *sql, const char *columns, sqlite3_stmt **st,
			struct err *e);
/* The error for a failed prepare or step, naming a refusal, the time limit
 * or the memory limit when that was the cause. */
int qdb_fail(struct qdb *q, int rc, const char *what, struct err *e);
/* Writes every row of st in the format o asks for, then finalizes st and
 * closes q. Returns the command's exit status (0, or 1 with the message
 * printed); what names the work in an error. */
int qdb_emit(struct qdb *q, sqlite3_stmt *st, const struct qopts *o, const char *what);
/* Whether a table or view of that name exists (names are validated first). */
int qdb_relation_exists(struct qdb *q, const char *name);
/* Binds text as an integer, a real or text, whichever it reads as. */
int qdb_bind_guess(sqlite3_stmt *st, int idx, const char *text);
/* A plain SQL identifier: letters, digits and '_', not starting with a digit. */
int qdb_name_ok(const char *name);

/* ---- guarding the database's files (dbguard.c) ---- */

/* Refuses (-1, with an error naming the option) a path that is, or once
 * written would be, the database db or a file beside it (-wal, -shm,
 * -journal, -reserve, -lock): by device and inode, so through any symbolic
 * or hard link, and one that does not exist yet by its directory and name. */
int outfile_check(const char *path, const char *db, const char *option, struct err *e);
/* That check for every file a command writes: -o, --svg, standard output
 * and standard error. */
int outfile_check_all(const struct qopts *o, struct err *e);
/* Opens path for writing, replacing what it held as fopen "w" does, after
 * the check; the opened file is checked again before it is truncated, so a
 * link planted meanwhile cannot lead the write to the database. db NULL:
 * no check. NULL with an error naming the option on failure. */
FILE *outfile_open(const char *path, const char *db, const char *option, struct err *e);

/* Whether the database's -wal and -shm existed before the command. */
struct leftovers {
	const char *db;
	int had_wal, had_shm;
};
void leftovers_note(struct leftovers *l, const char *db);
/* After the command closed its connections: has SQLite remove the -wal and
 * -shm this command made, when they did not exist before and nothing else
 * has the database open. */
void leftovers_tidy(const struct leftovers *l);
/* When file permissions keep this user from reading the database: sets an
 * error naming the directory or file, its owner, group and mode, and the
 * group hindsight, and returns -1; else returns 0. */
int dbfiles_explain_access(const char *db, struct err *e);

/* ---- ending early on a signal (stop.c) ---- */

/* Catches SIGINT, SIGTERM, SIGHUP and SIGPIPE (unless ignored): each stops
 * the running statement, and the command ends quietly. */
void stop_signals_catch(void);
/* The signal caught, or 0. */
int stop_signal(void);
/* Ends the process by the signal caught, if any (call after tidying). */
void stop_by_signal(void);

/* ---- output (output.c, units.c, fit.c) ----
 *
 * A command opens a writer (out_open), hands it a statement's columns
 * (out_columns) and rows (out_row), and closes it (out_close). CSV and JSON
 * carry exact values. The aligned table is for people:
 *   - numbers are written in the unit their column's name ends in
 *     (unit_of, format_unit): 1.2 GiB, 48.3 MiB/s, 12.5%, 3.2 ms, 1.5k/s;
 *     --raw (out_prefs.raw) writes them exactly instead;
 *   - it fits the terminal (out.width, from TIOCGWINSZ on a terminal, else
 *     $COLUMNS, else no limit): the widest text column wraps (or, with
 *     out.wrap = 0, is cut with "…"), never a number; columns that still do
 *     not fit are left out from the right, and a note on stderr says which
 *     (-c/--columns chooses them). */

struct out_table; /* buffered rows of the aligned table */

/* What every table of this process follows; main sets it from the options
 * before the first out_open. */
struct out_prefs {
	int raw; /* --raw: exact values, no units */
};
extern struct out_prefs out_prefs;

#define OUT_TIME_SLOTS 4

struct out {
	FILE *f;
	int close_f;
	enum out_format fmt;
	enum out_time time; /* resolved: never DEFAULT after out_open */
	int local_time;	    /* the table's default: local wall-clock time */
	int ncols;
	char **names;
	unsigned char *is_time;
	uint64_t rows;
	int silent_empty; /* the table prints nothing at all for no rows */
	/* The last text of each time column (slot = column % OUT_TIME_SLOTS):
	 * rows of one tick share their ts, and a start time stays for hours. */
	struct out_time_cell {
		int64_t value;
		int valid;
		size_t len;
		char text[32];
	} time_cell[OUT_TIME_SLOTS];
	struct out_table *table;
	char *buf; /* the block being filled (output.c) */
	size_t len, cap;
	int page;  /* a page in memory (out_page_open): f is NULL */
	int nomem; /* the page could not grow */
	/* The table's manners, set by out_open and changeable before the
	 * first row: */
	int human;    /* units people read (not with --raw) */
	size_t width; /* the columns it may take; 0: as wide as it needs */
	int wrap;     /* a text cell too long wraps (1) or is cut (0) */
};

/* Opens the writer on path (NULL or "-": stdout), refusing the database db
 * and the files beside it (outfile_open). OUT_DEFAULT becomes the
 * table on a terminal and CSV otherwise. Time defaults: the table shows
 * local time, CSV ISO 8601 UTC, JSON and NDJSON epoch seconds. */
int out_open(struct out *o, enum out_format fmt, enum out_time t, const char *path, const char *db,
	     struct err *e);
/* Takes the column names from a prepared statement; later calls are no-ops. */
int out_columns(struct out *o, sqlite3_stmt *st);
/* Writes the statement's current row. */
void out_row(struct out *o, sqlite3_stmt *st);
/* Finishes (flushes the table, closes the JSON array) and reports write
 * errors such as a full disk. */
int out_close(struct out *o, struct err *e);

/* A page: rows formatted as o formats them, kept in memory to be appended
 * to o later, so several readers can format at once and o still gets its
 * rows in order. o must have its columns. */
int out_page_open(struct out *page, const struct out *o);
/* Whether the page ran out of memory (its rows are then incomplete). */
int out_page_failed(const struct out *page);
/* Writes the page's rows to o and empties the page for reuse. */
void out_page_append(struct out *o, struct out *page);
void out_page_close(struct out *page);

/* The width a table may take on stdout: the terminal's (TIOCGWINSZ), else
 * $COLUMNS, else 0 (no limit). */
size_t out_terminal_width(void);

/* Writes s as a JSON string, quoted and escaped (bytes that are not UTF-8
 * become U+FFFD). */
void json_write_string(FILE *f, const char *s);

/* Formats an INTEGER in decimal with a NUL (21 bytes); returns the length. */
size_t format_int(int64_t v, char *buf);
/* Formats a REAL with the fewest digits that read back to the same value;
 * returns the length written. */
size_t format_real(double v, char *buf, size_t n);

/* The unit a column's name ends in (docs/schema.md): _bytes, _kb,
 * _bytes_per_s, _kb_per_s, other _per_s, _pct, _s, _ms, _us, _count and
 * _pages; anything else is a plain number. */
enum unit {
	UNIT_NONE,
	UNIT_BYTES,
	UNIT_KB,
	UNIT_BYTES_PER_S,
	UNIT_KB_PER_S,
	UNIT_PER_S,
	UNIT_PCT,
	UNIT_S,
	UNIT_MS,
	UNIT_US,
	UNIT_COUNT,
};
enum unit unit_of(const char *column);
/* Room format_unit and format_real_table need. */
#define FORMAT_UNIT_MAX 32
/* v as a person reads it in unit u: "1.2 GiB", "512 KiB", "48.3 MiB/s",
 * "1.5k/s", "12.5%", "0.03%", "850 µs", "3.2 ms", "34.9 s", "2.5 min",
 * "1.2 h", "123k"; a plain number with two decimals ("1.93"), an integral
 * one exactly. buf holds FORMAT_UNIT_MAX bytes; returns the length. */
size_t format_unit(enum unit u, double v, char *buf);
/* A REAL in a --raw table: 15 significant digits, the float's binary tail
 * left off (34896.325, not 34896.325000000004). */
size_t format_real_table(double v, char *buf);

/* Fitting columns to a width (fit.c). */
struct fit_col {
	size_t width; /* in: the widest cell or header; out: the width given */
	size_t min;   /* the least it may shrink to (= width: never) */
	int shown;    /* out: whether it is shown */
};
/* Fits n columns, two spaces apart, into limit characters (0: no limit):
 * columns are left out from the right (never the first) until the rest fit
 * at their narrowest, then the widest shrinkable one gives way first.
 * Returns how many are shown. */
int fit_columns(struct fit_col *c, int n, size_t limit);
/* Display width of UTF-8 text: one column per character. */
size_t text_width(const char *s);
/* The bytes of s for one line of at most width characters, broken after a
 * space (or a path after a slash) when the text goes on (a word longer than
 * half the line is cut); *next is where the next line starts (at its NUL
 * when done). */
size_t wrap_piece(const char *s, size_t width, const char **next);
/* The bytes of s that fit width characters, leaving room for a "…" when
 * s is longer (all of s when it fits). */
size_t truncate_piece(const char *s, size_t width);

/* ---- running a relation over a time range (filters.c, range.c) ---- */

struct filter {
	char col[64];
	char op[4];
	const char *value;
};

struct range_query {
	const char *relation;
	int64_t since, until; /* inclusive */
	struct filter filters[QOPTS_MAX_WHERE];
	int nfilters;
	const char *select;    /* the columns: a quoted list, or NULL for all */
	const char *order_col; /* NULL: ts */
	int desc;
	int64_t limit; /* 0: none */
	int64_t now;   /* when the command started: where an open range ends */
};

/* The column names of a table or view, NULL-terminated (free with
 * free_columns); NULL with an error when it does not exist. */
char **relation_columns(struct qdb *q, const char *relation, struct err *e);
void free_columns(char **cols);
int columns_have(char *const *cols, const char *name);
/* -c/--columns "a,b,c": each name checked against cols, written into sql
 * as a quoted select list ("a", "b", "c"). */
int columns_parse(const char *text, char *const *cols, char *sql, size_t size, struct err *e);
/* Parses "col=value" (also !=, <, <=, >, >=, ~ for LIKE), checking the
 * column against cols. */
int filter_parse(const char *text, char *const *cols, struct filter *f, struct err *e);
/* Appends " AND col op ?N" for each filter, numbering from first_param. */
void filters_sql(const struct filter *f, int n, int first_param, char *sql, size_t size);
int filters_bind(sqlite3_stmt *st, const struct filter *f, int n, int first_param);
/* What show and export do after parsing: plans the tiers (qdb_plan with
 * points), opens the output in fmt, runs the query and closes q. Ordered by
 * ts the rows are read in pages of a time window each, so no read
 * transaction lasts longer than one page and memory does not grow with the
 * range; a long range in a streamed format without a limit is shared out
 * among several connections (readers.c). Returns the command's exit status,
 * with the message printed. */
int range_write(struct qdb *q, const struct qopts *o, const struct range_query *rq,
		enum out_format fmt, int points);

/* Fills rq from the options for a relation: the range (dflt_since when no
 * --since), --where filters, --order/--limit and -c/--columns, all checked
 * against the relation's columns. */
int range_from_opts(struct qdb *q, const struct qopts *o, const char *relation,
		    const char *dflt_since, struct range_query *rq, struct err *e);
/* ---- what the catalog says of a view (catalog.c) ---- */

enum view_state {
	VIEW_READY,	     /* in the database: read it */
	VIEW_NO_COLLECTOR,   /* in the database, but its collector never ran here */
	VIEW_OLDER_DATABASE, /* not in the database, but this binary has it: the
			      * file was written by an older hindsightd */
	VIEW_UNKNOWN,	     /* neither: no such view */
};
/* Looks name up in the database's catalog (view_catalog, with or without
 * its collector column, and the collector table) and in the views this
 * binary embeds. For the two states that are "no data", not an error,
 * note gets what to print, such as "no data (collector psi not present)". */
enum view_state view_state(struct qdb *q, const char *name, char *note, size_t n);
/* The relation show and export read for a view: with --all its every-row
 * form (exec_log_all for exec_log, which folds rows), else the view
 * itself. NULL with an error when the view has no such form. */
const char *view_to_read(struct qdb *q, const struct qopts *o, const char *view, char *buf,
			 size_t n, struct err *e);
/* What show and export write for a view the database lacks
 * (VIEW_OLDER_DATABASE): no rows in the chosen format, and the note on
 * stderr. Returns the exit code. A view whose collector never ran is read
 * as usual (its columns, no rows) after the note. */
int output_absent_view(struct qopts *o, const char *view, const char *note);

/* ---- how far an event is from a window (distance.c) ---- */

/* Seconds (the sign is dropped) in at most two units: "45s", "2m10s",
 * "1h05m", "3d4h". Returns the length written. */
size_t format_duration_short(int64_t s, char *buf, size_t n);
/* "inside" for lo <= ts <= hi, "-2m10s before" for ts before lo, "+45s
 * after" for ts after hi. Returns the length written. */
size_t window_distance_format(int64_t ts, int64_t lo, int64_t hi, char *buf, size_t n);
/* Makes the SQL function window_distance(ts, lo, hi) callable on db. */
int window_distance_register(sqlite3 *db);

/* The SQL of top's services and containers section (top_services.c). */
extern const char top_services_sql[];

/* ---- commands (cmd_*.c); each returns the process exit code ---- */

int cmd_views(struct qopts *o);
int cmd_show(struct qopts *o);
int cmd_sql(struct qopts *o);
int cmd_export(struct qopts *o);
/* export --openmetrics (cmd_export_om.c): NAMEs of families, tables or
 * views, at most this many. */
#define EXPORT_MAX_NAMES 64
int cmd_export_openmetrics(struct qopts *o);
int cmd_top(struct qopts *o);
int cmd_plot(struct qopts *o);
int cmd_status(struct qopts *o);
int cmd_replay(struct qopts *o);

/* Prints "hindsight: msg" to stderr and returns the exit code. */
int qfail(int code, const struct err *e);

#endif
