/* Table writer benchmark: hindsight's own aligned table (src/query/output.c)
 * against util-linux's libsmartcols (what lsblk and findmnt use), on the
 * rows `hindsight show group_cpu --since 24h` gives at the 1-minute tier:
 * a day of 1-minute rows for GROUPS groups (default 200: 288,000 rows).
 *
 * The rows come from one SQLite statement over an in-memory table, and
 * both writers format numbers with the same format_unit, so the figures
 * are the table machinery: wall and CPU time, peak memory (VmHWM, a fresh
 * process per run) and when the first byte reaches the output (what a person
 * looking at a terminal, or less, waits for).
 *
 * Usage: bench_table_writer step|ours|scols [GROUPS [WIDTH]]
 *   step   only steps the statement (the floor both writers stand on)
 *   ours   hindsight's writer (out_open/out_row/out_close), WIDTH columns
 *   scols  libsmartcols, the same cells, WIDTH columns
 * Output goes to /dev/null through a stream that notes its first write.
 * bench/table_writer runs each mode RUNS times and prints a table. */
#include <fcntl.h>
#include <libsmartcols.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "query/query.h"
#include "util/util.h"

#define MINUTES 1440

static double t0, first_write;
static int devnull;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A stream that forwards to /dev/null and notes when it first wrote:
 * a writer that holds the whole table back writes late. */
static ssize_t noting_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	if (first_write == 0)
		first_write = now_s() - t0;
	return write(devnull, buf, n);
}

/* The statement both writers read: the columns of the group_cpu view, one
 * row per group per minute, values that change from row to row. */
static sqlite3_stmt *rows_statement(sqlite3 *db, int groups)
{
	char sql[1024];
	snprintf(
	    sql, sizeof(sql),
	    "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < %d),"
	    " g(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM g WHERE j < %d)"
	    " SELECT 1764900000 + 60 * i AS ts, 'group-' || j || '.service' AS group_name,"
	    " round(((i * 7 + j * 13) %% 6000) * 10000.0 / 60000) / 100 AS cpu_pct,"
	    " (i * 7 + j * 13) %% 4000 AS user_ms, (i * 3 + j) %% 2000 AS system_ms,"
	    " (i + j) %% 50 AS reaped_cpu_ms, 100 + (i * j) %% 900 AS voluntary_switches_count,"
	    " (i + 2 * j) %% 40 AS involuntary_switches_count, 60000 AS dur_ms"
	    " FROM m, g ORDER BY i, j",
	    MINUTES - 1, groups);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	return st;
}

/* This process's peak resident memory in KiB: VmHWM, not getrusage's
 * ru_maxrss, which keeps the parent's peak across fork and exec (a
 * Python runner's 14 MiB would hide the writers' own). */
static long peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static unsigned long step_only(sqlite3_stmt *st)
{
	unsigned long n = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		n++;
	return n;
}

static unsigned long write_ours(sqlite3_stmt *st, size_t width)
{
	struct out o;
	struct err e;
	if (out_open(&o, OUT_TABLE, OUT_TIME_DEFAULT, NULL, NULL, &e) || out_columns(&o, st)) {
		fprintf(stderr, "out_open failed\n");
		exit(1);
	}
	o.width = width;
	while (sqlite3_step(st) == SQLITE_ROW)
		out_row(&o, st);
	unsigned long n = o.rows;
	if (out_close(&o, &e)) {
		fprintf(stderr, "out_close: %s\n", e.msg);
		exit(1);
	}
	return n;
}

/* One cell as ours shows it: local time for ts, the column's unit for a
 * number, the text as it is. */
static const char *cell_text(sqlite3_stmt *st, int c, char *buf)
{
	const char *name = sqlite3_column_name(st, c);
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL:
		return "";
	case SQLITE_TEXT:
		return (const char *)sqlite3_column_text(st, c);
	default:
		break;
	}
	if (strcmp(name, "ts") == 0) {
		time_t t = (time_t)sqlite3_column_int64(st, c);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(buf, FORMAT_UNIT_MAX, "%Y-%m-%d %H:%M:%S", &tm);
		return buf;
	}
	format_unit(unit_of(name), sqlite3_column_double(st, c), buf);
	return buf;
}

static unsigned long write_scols(sqlite3_stmt *st, size_t width, FILE *f)
{
	struct libscols_table *tb = scols_new_table();
	scols_table_set_stream(tb, f);
	scols_table_set_termforce(tb, SCOLS_TERMFORCE_ALWAYS);
	scols_table_set_termwidth(tb, width);
	int n = sqlite3_column_count(st);
	for (int c = 0; c < n; c++) {
		int text = strcmp(sqlite3_column_name(st, c), "group_name") == 0;
		scols_table_new_column(tb, sqlite3_column_name(st, c), 0,
				       text ? SCOLS_FL_TRUNC : SCOLS_FL_RIGHT);
	}
	unsigned long rows = 0;
	char buf[FORMAT_UNIT_MAX];
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		for (int c = 0; c < n; c++)
			scols_line_set_data(ln, (size_t)c, cell_text(st, c, buf));
		rows++;
	}
	scols_print_table(tb);
	scols_unref_table(tb);
	return rows;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s step|ours|scols [GROUPS [WIDTH]]\n", argv[0]);
		return 2;
	}
	int groups = argc > 2 ? atoi(argv[2]) : 200;
	size_t width = argc > 3 ? (size_t)atoi(argv[3]) : 160;
	devnull = open("/dev/null", O_WRONLY);
	cookie_io_functions_t io = {.write = noting_write};
	FILE *results = stdout;
	FILE *f = fopencookie(NULL, "w", io);
	stdout = f;
	sqlite3 *db;
	sqlite3_open(":memory:", &db);
	sqlite3_stmt *st = rows_statement(db, groups);
	t0 = now_s();
	unsigned long rows;
	if (strcmp(argv[1], "step") == 0)
		rows = step_only(st);
	else if (strcmp(argv[1], "ours") == 0)
		rows = write_ours(st, width);
	else if (strcmp(argv[1], "scols") == 0)
		rows = write_scols(st, width, f);
	else
		return 2;
	fflush(f);
	double total = now_s() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	fprintf(results, "%s\t%lu\t%.3f\t%.3f\t%ld\t%.3f\n", argv[1], rows, total, first_write,
		peak_rss_kb(), cpu);
	return 0;
}
