/* hindsight status: what the database holds and whether the daemon is alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "query/query.h"
#include "query/storage.h"
#include "query/timespec.h"
#include "store/tiers.h"

static int64_t int_query(struct qdb *q, const char *sql, int64_t dflt)
{
	qdb_arm(q);
	return store_query_int(&q->store, sql, dflt);
}

static void human_bytes(double b, char *buf, size_t n)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4)
		b /= 1024, u++;
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void human_age(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		snprintf(buf, n, "%llds in the future (clock skew?)", (long long)-s);
	else if (s < 120)
		snprintf(buf, n, "%llds ago", (long long)s);
	else if (s < 7200)
		snprintf(buf, n, "%lldm ago", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, n, "%lldh ago", (long long)(s / 3600));
	else
		snprintf(buf, n, "%lldd ago", (long long)(s / 86400));
}

static void print_file(struct qdb *q, const char *path)
{
	struct stat st;
	char size[32], wal[64] = "", walpath[4200];
	human_bytes(stat(path, &st) == 0 ? (double)st.st_size : 0, size, sizeof(size));
	snprintf(walpath, sizeof(walpath), "%s-wal", path);
	if (stat(walpath, &st) == 0) {
		char w[32];
		human_bytes((double)st.st_size, w, sizeof(w));
		snprintf(wal, sizeof(wal), " + %s WAL", w);
	}
	printf("database      %s (%s%s, schema version %lld)\n", path, size, wal,
	       (long long)int_query(q, "PRAGMA user_version", 0));
}

/* The first and last tick, and whether the daemon still writes: the last
 * tick should be no older than two intervals (plus slack for a busy host).
 * Read from the daemon's own view, agent_health, at every tier the
 * history keeps. */
static int64_t print_liveness(struct qdb *q, const struct qopts *o)
{
	struct err e;
	if (qdb_plan(q, o, 0, TS_MAX, 0, &e)) {
		printf("samples       %s\n", e.msg);
		return -1;
	}
	int64_t first = qdb_edge_ts(q, "agent_health", 0, TS_MAX, 0);
	int64_t last = qdb_edge_ts(q, "agent_health", 0, TS_MAX, 1);
	char t[32], age[64];
	if (last < 0) {
		printf("samples       none yet\n");
		printf("daemon        has not stored a tick in this database\n");
		return -1;
	}
	static const char *const kept[NTIERS] = {"", " (kept as 1-minute rollups)",
						 " (kept as 1-hour rollups)"};
	time_format_local(first, t, sizeof(t));
	printf("first sample  %s%s\n", t, kept[read_plan_tier_at(&q->plan, first)]);
	time_format_local(last, t, sizeof(t));
	human_age(o->now - last, age, sizeof(age));
	printf("last sample   %s (%s)\n", t, age);
	/* a rollup row's dur_ms is the sum over its samples */
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT (dur_ms / samples_count + 500) / 1000 FROM agent_health WHERE ts = %lld",
		 (long long)last);
	int64_t interval_s = int_query(q, sql, 10);
	if (interval_s < 1)
		interval_s = 1;
	int alive = o->now - last <= 2 * interval_s + 15;
	printf("daemon        %s: last tick %s, interval %llds\n",
	       alive ? "alive" : "NOT WRITING (stopped or stuck?)", age, (long long)interval_s);
	return last;
}

/* The kernel time of the daemon's eBPF programs over the last hour: it runs
 * in other processes' system calls and switches, so the daemon's own CPU
 * never shows it. Measured only while BPF statistics are on. */
static void print_kernel_cost(struct qdb *q, int64_t last)
{
	char sql[400];
	sqlite3_stmt *st;
	struct err e;
	snprintf(sql, sizeof(sql),
		 "SELECT 100.0 * sum(bpf_run_us) / 1000 / sum(CASE WHEN bpf_run_us IS NOT NULL "
		 "THEN dur_ms END), sum(bpf_runs_count), count(bpf_run_us) FROM agent_health "
		 "WHERE ts > %lld",
		 (long long)(last - 3600));
	if (qdb_prepare(q, sql, &st, &e))
		return;
	qdb_arm(q);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 2) > 0)
		printf("eBPF          last hour: %.3f%% of one core in the kernel, %lld program "
		       "runs\n",
		       sqlite3_column_double(st, 0), sqlite3_column_int64(st, 1));
	else
		printf("eBPF          kernel time not measured (bpf.prog_stats: false)\n");
	sqlite3_finalize(st);
}

/* The daemon's own cost over the last hour it recorded, and its problems
 * over the last day. In rollup rows the counters are sums over their
 * samples: the average tick is their sum over samples_count, and the
 * slowest tick is known only from rows of one sample. */
static void print_overhead(struct qdb *q, int64_t last)
{
	char sql[640];
	sqlite3_stmt *st;
	struct err e;
	snprintf(sql, sizeof(sql),
		 "SELECT 100.0 * sum(tick_cpu_us) / 1000 / nullif(sum(dur_ms), 0), "
		 "sum(tick_wall_us) / 1000.0 / sum(samples_count), "
		 "max(CASE WHEN samples_count = 1 THEN tick_wall_us END) / 1000.0, "
		 "max(max_rss_kb) / 1024.0, sum(samples_count) FROM agent_health WHERE ts > %lld",
		 (long long)(last - 3600));
	if (qdb_prepare(q, sql, &st, &e)) {
		printf("overhead      unavailable: %s\n", e.msg);
		return;
	}
	qdb_arm(q);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 4) > 0) {
		printf("overhead      last hour: %.3f%% of one core, tick %.2f ms avg",
		       sqlite3_column_double(st, 0), sqlite3_column_double(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			printf(" / %.2f ms max", sqlite3_column_double(st, 2));
		printf(", RSS %.1f MiB max (%lld ticks)\n", sqlite3_column_double(st, 3),
		       sqlite3_column_int64(st, 4));
	}
	sqlite3_finalize(st);
	print_kernel_cost(q, last);
	snprintf(sql, sizeof(sql),
		 "SELECT sum(commit_failures_count), sum(vanished_count), "
		 "sum(permission_errors_count), sum(read_errors_count), sum(parse_errors_count) "
		 "FROM agent_health WHERE ts > %lld",
		 (long long)(last - 86400));
	if (qdb_prepare(q, sql, &st, &e))
		return;
	qdb_arm(q);
	if (sqlite3_step(st) == SQLITE_ROW)
		printf("problems      last day: %lld ticks not stored, %lld files vanished "
		       "mid-read, %lld permission errors, %lld read errors, %lld parse errors\n",
		       sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
		       sqlite3_column_int64(st, 4));
	sqlite3_finalize(st);
}

static void human_limit(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		snprintf(buf, n, "?");
	else if (s == 0)
		snprintf(buf, n, "forever");
	else if (s % 86400 == 0)
		snprintf(buf, n, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, n, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, n, "%llds", (long long)s);
}

/* Per retention tier (raw, 1 min, 1 h, each event log): the span it holds,
 * rows and bytes, its age limit, and the last prune (tiers_report). */
static void print_tiers(struct qdb *q, const struct table_stats *known, int n)
{
	static struct tiers_report r;
	struct err e;
	qdb_arm(q);
	if (tiers_report(q->db, sqlite3_db_filename(q->db, "main"), known, (size_t)n, &r, &e)) {
		printf("tiers         %s\n", e.msg);
		return;
	}
	char cap[32], file[32];
	human_bytes((double)r.file_bytes, file, sizeof(file));
	if (r.max_db_bytes > 0)
		human_bytes((double)r.max_db_bytes, cap, sizeof(cap));
	else
		snprintf(cap, sizeof(cap), r.max_db_bytes == 0 ? "none" : "?");
	printf("tiers         max_db_size %s, file now %s\n", cap, file);
	storage_print(&r);
	printf("\n%-14s %-19s  %-19s %12s %10s %8s  %-19s %s\n", "tier", "oldest", "newest", "rows",
	       "bytes", "keep", "last prune", "removed (last, total)");
	for (size_t i = 0; i < r.ntiers; i++) {
		const struct tier_report *t = &r.tiers[i];
		char oldest[32] = "-", newest[32] = "-", bytes[32] = "?", keep[32],
		     pruned[32] = "never";
		if (t->rows) {
			time_format_local(t->oldest_ts, oldest, sizeof(oldest));
			time_format_local(t->newest_ts, newest, sizeof(newest));
		}
		if (t->bytes >= 0)
			human_bytes((double)t->bytes, bytes, sizeof(bytes));
		human_limit(t->max_age_s, keep, sizeof(keep));
		if (t->last_prune_ts > 0)
			time_format_local(t->last_prune_ts, pruned, sizeof(pruned));
		printf("%-14s %-19s  %-19s %12lld %10s %8s  %-19s %lld, %lld\n", t->name, oldest,
		       newest, (long long)t->rows, bytes, keep, pruned,
		       (long long)t->last_removed_count, (long long)t->removed_count);
	}
}

#define STATUS_MAX_TABLES 256

/* Bytes per table including its indexes, from the dbstat virtual table
 * (one pass over the file, one row per b-tree). Aggregated, dbstat's pgsize
 * is a 32-bit sum that wraps for a b-tree over 2 GiB (SQLite 3.40), so the
 * bytes are its page count (pageno in that mode) times the page size.
 * Returns -1 when SQLite was built without dbstat. */
static int tables_bytes(struct qdb *q, struct table_stats *t, int n)
{
	sqlite3_stmt *st;
	struct err e;
	if (qdb_prepare(
		q,
		"SELECT m.tbl_name, sum(d.pageno) * (SELECT page_size FROM pragma_page_size) "
		"FROM dbstat AS d JOIN sqlite_master AS m "
		"ON m.name = d.name WHERE d.aggregate = TRUE GROUP BY m.tbl_name",
		&st, &e))
		return -1;
	qdb_arm(q);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < n; i++)
			if (strcmp(t[i].name, (const char *)sqlite3_column_text(st, 0)) == 0)
				t[i].bytes = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int64_t page_bytes(struct qdb *q)
{
	return int_query(q, "PRAGMA page_size", 4096) * int_query(q, "PRAGMA page_count", 0);
}

/* Without dbstat: the file's pages shared out by row count, marked "~". */
static void tables_estimate(struct table_stats *t, int n, int64_t page_bytes)
{
	int64_t total = 0;
	for (int i = 0; i < n; i++)
		total += t[i].rows;
	for (int i = 0; i < n; i++)
		t[i].bytes =
		    total ? (int64_t)((double)page_bytes * (double)t[i].rows / (double)total) : 0;
}

/* Every table's rows, bytes, first and last ts, counted once for the tiers
 * and the table list. Returns how many; *exact is 0 when the bytes are
 * estimated (this SQLite lacks dbstat). */
static int count_tables(struct qdb *q, struct table_stats *t, int *exact)
{
	sqlite3_stmt *st;
	struct err e;
	int n = 0;
	*exact = 0;
	if (qdb_prepare(q,
			"SELECT name FROM sqlite_master WHERE type = 'table' "
			"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
			&st, &e))
		return 0;
	while (n < STATUS_MAX_TABLES && sqlite3_step(st) == SQLITE_ROW)
		snprintf(t[n++].name, sizeof(t[0].name), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++) {
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%.63s\"", t[i].name);
		t[i].rows = int_query(q, sql, 0);
		snprintf(sql, sizeof(sql), "SELECT min(ts) FROM \"%.63s\"", t[i].name);
		t[i].first = int_query(q, sql, -1);
		snprintf(sql, sizeof(sql), "SELECT max(ts) FROM \"%.63s\"", t[i].name);
		t[i].last = int_query(q, sql, -1);
	}
	*exact = tables_bytes(q, t, n) == 0;
	return n;
}

static void print_tables(struct qdb *q, struct table_stats *t, int n, int exact)
{
	printf("\n%-26s %12s %12s  %-19s  %-19s\n", "table", "rows", "bytes", "first", "last");
	for (int i = 0; i < n; i++) {
		char first[32] = "", last[32] = "", size[32], shown[40];
		if (t[i].first >= 0)
			time_format_local(t[i].first, first, sizeof(first));
		if (t[i].last >= 0)
			time_format_local(t[i].last, last, sizeof(last));
		human_bytes((double)t[i].bytes, size, sizeof(size));
		snprintf(shown, sizeof(shown), "%s%s", exact ? "" : "~", size);
		printf("%-26s %12lld %12s  %-19s  %-19s\n", t[i].name, (long long)t[i].rows, shown,
		       first, last);
	}
	char total[32];
	human_bytes((double)page_bytes(q), total, sizeof(total));
	printf("%-26s %12s %12s%s\n", "(all pages)", "", total,
	       exact ? "" : "  (~: estimated by rows; this SQLite lacks dbstat)");
	storage_print_families(t, n);
}

int cmd_status(struct qopts *o)
{
	struct qdb q;
	struct err e;
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	print_file(&q, o->db);
	q.uses = "agent_health";
	int64_t last = print_liveness(&q, o);
	if (last >= 0)
		print_overhead(&q, last);
	static struct table_stats t[STATUS_MAX_TABLES];
	int exact, n = count_tables(&q, t, &exact);
	for (int i = 0; i < n && !exact; i++)
		t[i].bytes = -1; /* unknown to the tiers; the list estimates them */
	print_tiers(&q, t, n);
	if (!exact)
		tables_estimate(t, n, page_bytes(&q));
	print_tables(&q, t, n, exact);
	qdb_close(&q);
	if (fflush(stdout) != 0) {
		err_set(&e, "writing the output failed");
		return qfail(1, &e);
	}
	return 0;
}
