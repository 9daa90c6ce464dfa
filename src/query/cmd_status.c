/* hindsight status: whether the daemon is alive and what the database holds,
 * in a few lines for a person or as one JSON object for a monitoring check,
 * with the exit code saying which: 0 alive, 1 stale (or no tick yet), 2 no
 * database. --tables adds what each tier and table holds (it counts every
 * row: about a second per GiB). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "query/query.h"
#include "query/storage.h"
#include "query/timespec.h"
#include "store/tiers.h"

enum { STATUS_ALIVE = 0, STATUS_STALE = 1, STATUS_NO_DATABASE = 2 };

#define STATUS_MAX_TABLES 256

/* What status reports, gathered before anything is printed. */
struct status {
	const char *path;
	int64_t file_bytes, wal_bytes, schema_version;
	int64_t first, last; /* the first and last tick; -1: none */
	int first_tier;	     /* the tier the first tick is kept in */
	int64_t age_s, interval_s;
	int alive;
	int have_overhead;
	int have_kernel;    /* the eBPF programs' kernel time was measured */
	double bpf_cpu_pct; /* of one core, over the last hour */
	int64_t bpf_runs;
	double cpu_pct, tick_avg_ms, tick_max_ms, rss_max_kb; /* tick_max_ms < 0: unknown */
	int64_t overhead_ticks;
	int64_t problems[5];	/* over the last day, in problem_names' order */
	int64_t max_db_bytes;	/* -1: unknown, 0: no cap */
	int64_t keep_s[NTIERS]; /* -1: unknown, 0: forever */
	const char *error;	/* why there is no database */
};

static const char *const problem_names[] = {"ticks not stored", "files vanished mid-read",
					    "permission errors", "read errors", "parse errors"};
static const char *const problem_keys[] = {"ticks_not_stored", "vanished", "permission_errors",
					   "read_errors", "parse_errors"};

static int64_t int_query(struct qdb *q, const char *sql, int64_t dflt)
{
	qdb_arm(q);
	return store_query_int(&q->store, sql, dflt);
}

static int64_t file_size(const char *path, const char *suffix)
{
	char p[4200];
	struct stat st;
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* The first and last tick, from the daemon's own view at every tier, and
 * whether the daemon still writes: the last tick no older than two
 * intervals, plus slack for a busy host. */
static void gather_liveness(struct qdb *q, const struct qopts *o, struct status *s)
{
	struct err e;
	s->first = s->last = -1;
	if (qdb_plan(q, o, 0, TS_MAX, 0, &e))
		return;
	s->first = qdb_edge_ts(q, "agent_health", 0, TS_MAX, 0);
	s->last = qdb_edge_ts(q, "agent_health", 0, TS_MAX, 1);
	if (s->last < 0)
		return;
	s->first_tier = read_plan_tier_at(&q->plan, s->first);
	/* a rollup row's dur_ms is the sum over its samples */
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT (dur_ms / samples_count + 500) / 1000 FROM agent_health WHERE ts = %lld",
		 (long long)s->last);
	s->interval_s = int_query(q, sql, 10);
	if (s->interval_s < 1)
		s->interval_s = 1;
	s->age_s = o->now - s->last;
	s->alive = s->age_s <= 2 * s->interval_s + 15;
}

/* The kernel time of the daemon's eBPF programs over the last hour: they
 * run in other processes' system calls and switches, so the daemon's own
 * CPU never shows it. Measured only while BPF statistics are on. */
static void gather_kernel_cost(struct qdb *q, struct status *s)
{
	char sql[400];
	sqlite3_stmt *st;
	struct err e;
	snprintf(sql, sizeof(sql),
		 "SELECT 100.0 * sum(bpf_run_us) / 1000 / sum(CASE WHEN bpf_run_us IS NOT NULL "
		 "THEN dur_ms END), sum(bpf_runs_count), count(bpf_run_us) FROM agent_health "
		 "WHERE ts > %lld",
		 (long long)(s->last - 3600));
	if (qdb_prepare(q, sql, &st, &e))
		return;
	qdb_arm(q);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 2) > 0) {
		s->have_kernel = 1;
		s->bpf_cpu_pct = sqlite3_column_double(st, 0);
		s->bpf_runs = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
}

/* The daemon's own cost over the last hour it recorded, and its problems
 * over the last day. In rollup rows the counters are sums over their
 * samples: the average tick is their sum over samples_count, and the
 * slowest tick is known only from rows of one sample. */
static void gather_overhead(struct qdb *q, struct status *s)
{
	char sql[640];
	sqlite3_stmt *st;
	struct err e;
	snprintf(sql, sizeof(sql),
		 "SELECT 100.0 * sum(tick_cpu_us) / 1000 / nullif(sum(dur_ms), 0), "
		 "sum(tick_wall_us) / 1000.0 / sum(samples_count), "
		 "max(CASE WHEN samples_count = 1 THEN tick_wall_us END) / 1000.0, "
		 "max(max_rss_kb), sum(samples_count) FROM agent_health WHERE ts > %lld",
		 (long long)(s->last - 3600));
	if (qdb_prepare(q, sql, &st, &e) == 0) {
		qdb_arm(q);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 4) > 0) {
			s->have_overhead = 1;
			s->cpu_pct = sqlite3_column_double(st, 0);
			s->tick_avg_ms = sqlite3_column_double(st, 1);
			s->tick_max_ms = sqlite3_column_type(st, 2) == SQLITE_NULL
					     ? -1
					     : sqlite3_column_double(st, 2);
			s->rss_max_kb = sqlite3_column_double(st, 3);
			s->overhead_ticks = sqlite3_column_int64(st, 4);
		}
		sqlite3_finalize(st);
	}
	snprintf(sql, sizeof(sql),
		 "SELECT sum(commit_failures_count), sum(vanished_count), "
		 "sum(permission_errors_count), sum(read_errors_count), sum(parse_errors_count) "
		 "FROM agent_health WHERE ts > %lld",
		 (long long)(s->last - 86400));
	if (qdb_prepare(q, sql, &st, &e))
		return;
	qdb_arm(q);
	if (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < 5; i++)
			s->problems[i] = sqlite3_column_int64(st, i);
	sqlite3_finalize(st);
}

/* The limits the daemon published in meta (docs/retention.md). */
static void gather_limits(struct qdb *q, struct status *s)
{
	char sql[160];
	s->max_db_bytes =
	    int_query(q, "SELECT value FROM meta WHERE key = 'retention.max_db_bytes'", -1);
	for (int i = 0; i < NTIERS; i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT value FROM meta WHERE key = 'retention.max_age_s.%s'",
			 tier_names[i]);
		s->keep_s[i] = int_query(q, sql, -1);
	}
}

static void gather(struct qdb *q, const struct qopts *o, struct status *s)
{
	s->path = o->db;
	s->file_bytes = file_size(o->db, "");
	s->wal_bytes = file_size(o->db, "-wal");
	s->schema_version = int_query(q, "PRAGMA user_version", 0);
	q->uses = "agent_health";
	gather_liveness(q, o, s);
	if (s->last >= 0) {
		gather_overhead(q, s);
		gather_kernel_cost(q, s);
	}
	gather_limits(q, s);
}

/* ---- what each tier and table holds (--tables) ---- */

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

/* Without dbstat: the file's pages shared out by row count. */
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

/* What --tables lists: the tiers (tiers_report) and every table. */
struct holdings {
	struct tiers_report tiers;
	int have_tiers;
	char tiers_error[512];
	struct table_stats t[STATUS_MAX_TABLES];
	int n, exact;
	int64_t page_bytes;
};

static void gather_holdings(struct qdb *q, struct holdings *h)
{
	struct err e;
	h->n = count_tables(q, h->t, &h->exact);
	for (int i = 0; i < h->n && !h->exact; i++)
		h->t[i].bytes = -1; /* unknown to the tiers; the list estimates them */
	qdb_arm(q);
	h->have_tiers = tiers_report(q->db, sqlite3_db_filename(q->db, "main"), h->t, (size_t)h->n,
				     &h->tiers, &e) == 0;
	if (!h->have_tiers)
		snprintf(h->tiers_error, sizeof(h->tiers_error), "%s", e.msg);
	h->page_bytes = page_bytes(q);
	if (!h->exact)
		tables_estimate(h->t, h->n, h->page_bytes);
}

/* A rollup row is labelled with its bucket's end, which for the bucket in
 * progress is still to come: the tier holds nothing newer than the last
 * tick. */
static int64_t newest_held(const struct tier_report *t, const struct status *s)
{
	return s->last >= 0 && t->newest_ts > s->last ? s->last : t->newest_ts;
}

/* ---- for people ---- */

static void human_bytes(double b, char *buf)
{
	format_unit(UNIT_BYTES, b, buf);
}

/* An age in whole seconds under a minute ("0 s ago", not "0 ago"), then
 * in the unit that reads best ("2.8 min ago"). */
static void human_age(int64_t s, char *buf, size_t n)
{
	char d[FORMAT_UNIT_MAX];
	int64_t a = s < 0 ? -s : s;
	if (a < 60)
		snprintf(d, sizeof(d), "%lld s", (long long)a);
	else
		format_unit(UNIT_S, (double)a, d);
	snprintf(buf, n, s < 0 ? "%s in the future (clock skew?)" : "%s ago", d);
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

static void print_summary(const struct status *s)
{
	char size[FORMAT_UNIT_MAX], wal[FORMAT_UNIT_MAX], t[32], age[64];
	human_bytes((double)s->file_bytes, size);
	human_bytes((double)s->wal_bytes, wal);
	printf("database      %s (%s + %s WAL, schema version %lld)\n", s->path, size, wal,
	       (long long)s->schema_version);
	if (s->last < 0) {
		printf("samples       none yet\n");
		printf("daemon        has not stored a tick in this database\n");
		return;
	}
	static const char *const kept[NTIERS] = {"", " (kept as 1-minute rollups)",
						 " (kept as 1-hour rollups)"};
	time_format_local(s->first, t, sizeof(t));
	printf("first sample  %s%s\n", t, kept[s->first_tier]);
	time_format_local(s->last, t, sizeof(t));
	human_age(s->age_s, age, sizeof(age));
	printf("last sample   %s (%s)\n", t, age);
	printf("daemon        %s: last tick %s, interval %llds\n",
	       s->alive ? "alive" : "NOT WRITING (stopped or stuck?)", age,
	       (long long)s->interval_s);
	if (s->have_overhead) {
		char rss[FORMAT_UNIT_MAX], cpu[FORMAT_UNIT_MAX], tick[FORMAT_UNIT_MAX];
		format_unit(UNIT_KB, s->rss_max_kb, rss);
		format_unit(UNIT_PCT, s->cpu_pct, cpu);
		format_unit(UNIT_MS, s->tick_avg_ms, tick);
		/* within 100 columns; --json has the number of ticks */
		printf("overhead      last hour: %s of one core, tick %s avg", cpu, tick);
		if (s->tick_max_ms >= 0) {
			format_unit(UNIT_MS, s->tick_max_ms, tick);
			printf(", %s max", tick);
		}
		printf(", RSS %s\n", rss);
		if (s->have_kernel) {
			format_unit(UNIT_PCT, s->bpf_cpu_pct, cpu);
			printf(
			    "eBPF          last hour: %s of one core in the kernel, %lld program "
			    "runs\n",
			    cpu, (long long)s->bpf_runs);
		} else {
			printf("eBPF          kernel time not measured (bpf.prog_stats: false)\n");
		}
	}
	printf("problems      last day:");
	int any = 0;
	for (int i = 0; i < 5; i++)
		if (s->problems[i]) {
			printf("%s %lld %s", any ? "," : "", (long long)s->problems[i],
			       problem_names[i]);
			any = 1;
		}
	printf("%s\n", any ? "" : " none");
	char keep[NTIERS][32], cap[FORMAT_UNIT_MAX];
	for (int i = 0; i < NTIERS; i++)
		human_limit(s->keep_s[i], keep[i], sizeof(keep[i]));
	if (s->max_db_bytes > 0)
		human_bytes((double)s->max_db_bytes, cap);
	else
		snprintf(cap, sizeof(cap), s->max_db_bytes == 0 ? "none" : "?");
	printf("retention     raw %s, 1-minute %s, 1-hour %s; max_db_size %s\n", keep[0], keep[1],
	       keep[2], cap);
}

static void print_tiers(const struct holdings *h, const struct status *s)
{
	if (!h->have_tiers) {
		printf("tiers         %s\n", h->tiers_error);
		return;
	}
	printf("\n%-14s %-19s  %-19s %12s %10s %8s  %-19s %s\n", "tier", "oldest", "newest", "rows",
	       "bytes", "keep", "last prune", "removed (last, total)");
	for (size_t i = 0; i < h->tiers.ntiers; i++) {
		const struct tier_report *t = &h->tiers.tiers[i];
		char oldest[32] = "-", newest[32] = "-", bytes[FORMAT_UNIT_MAX] = "?", keep[32],
		     pruned[32] = "never";
		if (t->rows) {
			time_format_local(t->oldest_ts, oldest, sizeof(oldest));
			time_format_local(newest_held(t, s), newest, sizeof(newest));
		}
		if (t->bytes >= 0)
			human_bytes((double)t->bytes, bytes);
		human_limit(t->max_age_s, keep, sizeof(keep));
		if (t->last_prune_ts > 0)
			time_format_local(t->last_prune_ts, pruned, sizeof(pruned));
		printf("%-14s %-19s  %-19s %12lld %10s %8s  %-19s %lld, %lld\n", t->name, oldest,
		       newest, (long long)t->rows, bytes, keep, pruned,
		       (long long)t->last_removed_count, (long long)t->removed_count);
	}
	putchar('\n');
	storage_print(&h->tiers);
}

static void print_tables(const struct holdings *h)
{
	printf("\n%-26s %12s %12s  %-19s  %-19s\n", "table", "rows", "bytes", "first", "last");
	for (int i = 0; i < h->n; i++) {
		const struct table_stats *t = &h->t[i];
		char first[32] = "", last[32] = "", size[FORMAT_UNIT_MAX], shown[40];
		if (t->first >= 0)
			time_format_local(t->first, first, sizeof(first));
		if (t->last >= 0)
			time_format_local(t->last, last, sizeof(last));
		human_bytes((double)t->bytes, size);
		snprintf(shown, sizeof(shown), "%s%s", h->exact ? "" : "~", size);
		printf("%-26s %12lld %12s  %-19s  %-19s\n", t->name, (long long)t->rows, shown,
		       first, last);
	}
	char total[FORMAT_UNIT_MAX];
	human_bytes((double)h->page_bytes, total);
	printf("%-26s %12s %12s%s\n", "(all pages)", "", total,
	       h->exact ? "" : "  (~: estimated by rows; this SQLite lacks dbstat)");
	storage_print_families(h->t, h->n);
}

/* ---- for programs ---- */

static void json_int(const char *key, int64_t v, int valid)
{
	printf(",\"%s\":", key);
	if (valid)
		printf("%lld", (long long)v);
	else
		fputs("null", stdout);
}

static void json_real(const char *key, double v, int valid)
{
	printf(",\"%s\":", key);
	if (valid && isfinite(v))
		printf("%.3f", v);
	else
		fputs("null", stdout);
}

static const char *state_name(const struct status *s)
{
	return s->error ? "no database" : s->last < 0 ? "no ticks" : s->alive ? "alive" : "stale";
}

static void print_json_tiers(const struct holdings *h, const struct status *s)
{
	fputs(",\"tiers\":[", stdout);
	for (size_t i = 0; h->have_tiers && i < h->tiers.ntiers; i++) {
		const struct tier_report *t = &h->tiers.tiers[i];
		printf("%s{\"name\":", i ? "," : "");
		json_write_string(stdout, t->name);
		json_int("oldest_ts", t->oldest_ts, t->rows > 0);
		json_int("newest_ts", newest_held(t, s), t->rows > 0);
		json_int("rows", t->rows, 1);
		json_int("bytes", t->bytes, t->bytes >= 0);
		json_int("keep_s", t->max_age_s, t->max_age_s >= 0);
		json_int("last_prune_ts", t->last_prune_ts, t->last_prune_ts > 0);
		json_int("removed_count", t->removed_count, 1);
		putchar('}');
	}
	fputs("],\"tables\":[", stdout);
	for (int i = 0; i < h->n; i++) {
		const struct table_stats *t = &h->t[i];
		printf("%s{\"name\":", i ? "," : "");
		json_write_string(stdout, t->name);
		json_int("rows", t->rows, 1);
		json_int("bytes", t->bytes, 1);
		printf(",\"bytes_exact\":%s", h->exact ? "true" : "false");
		json_int("first_ts", t->first, t->first >= 0);
		json_int("last_ts", t->last, t->last >= 0);
		putchar('}');
	}
	putchar(']');
}

static void print_json(const struct status *s, const struct holdings *h)
{
	printf("{\"state\":\"%s\",\"database\":", state_name(s));
	json_write_string(stdout, s->path);
	if (s->error) {
		fputs(",\"error\":", stdout);
		json_write_string(stdout, s->error);
		puts("}");
		return;
	}
	int ticks = s->last >= 0;
	json_int("file_bytes", s->file_bytes, 1);
	json_int("wal_bytes", s->wal_bytes, 1);
	json_int("schema_version", s->schema_version, 1);
	json_int("first_ts", s->first, ticks);
	json_int("last_ts", s->last, ticks);
	json_int("age_s", s->age_s, ticks);
	json_int("interval_s", s->interval_s, ticks);
	fputs(",\"overhead_last_hour\":", stdout);
	if (s->have_overhead) {
		printf("{\"ticks\":%lld", (long long)s->overhead_ticks);
		json_real("cpu_pct", s->cpu_pct, 1);
		json_real("tick_avg_ms", s->tick_avg_ms, 1);
		json_real("tick_max_ms", s->tick_max_ms, s->tick_max_ms >= 0);
		json_int("rss_max_kb", (int64_t)llround(s->rss_max_kb), 1);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	fputs(",\"bpf_kernel_last_hour\":", stdout);
	if (s->have_kernel) {
		printf("{\"runs\":%lld", (long long)s->bpf_runs);
		json_real("cpu_pct", s->bpf_cpu_pct, 1);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	fputs(",\"problems_last_day\":{", stdout);
	for (int i = 0; i < 5; i++)
		printf("%s\"%s\":%lld", i ? "," : "", problem_keys[i], (long long)s->problems[i]);
	putchar('}');
	json_int("max_db_bytes", s->max_db_bytes, s->max_db_bytes >= 0);
	fputs(",\"keep_s\":{", stdout);
	for (int i = 0; i < NTIERS; i++) {
		printf("%s\"%s\":", i ? "," : "", tier_names[i]);
		if (s->keep_s[i] >= 0)
			printf("%lld", (long long)s->keep_s[i]);
		else
			fputs("null", stdout);
	}
	putchar('}');
	if (h)
		print_json_tiers(h, s);
	puts("}");
}

int cmd_status(struct qopts *o)
{
	struct qdb q;
	struct err e;
	struct status s = {.first = -1, .last = -1};
	int json = o->format == OUT_JSON;
	if (o->format != OUT_DEFAULT && o->format != OUT_TABLE && !json) {
		err_set(&e, "status writes lines for people, or one JSON object with --json");
		return qfail(2, &e);
	}
	if (qdb_open(&q, o, &e)) {
		/* a monitoring check reads this too: on stdout as JSON */
		if (json) {
			s.path = o->db;
			s.error = e.msg;
			print_json(&s, NULL);
			fflush(stdout);
		}
		return qfail(STATUS_NO_DATABASE, &e);
	}
	gather(&q, o, &s);
	static struct holdings h;
	if (o->tables)
		gather_holdings(&q, &h);
	qdb_close(&q);
	if (json) {
		print_json(&s, o->tables ? &h : NULL);
	} else {
		print_summary(&s);
		if (o->tables) {
			print_tiers(&h, &s);
			print_tables(&h);
		}
	}
	if (fflush(stdout) != 0) {
		err_set(&e, "writing the output failed");
		return qfail(1, &e);
	}
	return s.last >= 0 && s.alive ? STATUS_ALIVE : STATUS_STALE;
}
