/* hindsight top --at TIME: what the machine was doing then. One section per
 * question, each answered from a saved view; a view whose collector is not in
 * this database prints "no data (collector not present)". */
#include <stdio.h>
#include <string.h>

#include "query/query.h"
#include "query/timespec.h"

struct section {
	const char *title;
	const char *view;
	const char *sql;
};

/* Parameters: :lo/:hi the window, :at the moment, :near_lo/:near_hi a wider
 * span for events, :n rows, :window_ms the time the ticks in the window
 * covered, :ticks their number. Groups write no row when idle, so CPU is
 * summed and divided by the covered time, not averaged over rows. */
static const struct section sections[] = {
    {"CPU", "cpu_usage",
     "SELECT round(avg(busy_pct), 1) AS busy_avg_pct, max(busy_pct) AS busy_max_pct, "
     "round(avg(user_pct), 1) AS user_avg_pct, round(avg(system_pct), 1) AS system_avg_pct, "
     "round(avg(iowait_pct), 1) AS iowait_avg_pct, round(avg(steal_pct), 1) AS steal_avg_pct, "
     "count(*) AS samples FROM cpu_usage WHERE ts BETWEEN :lo AND :hi HAVING count(*) > 0"},
    {"Memory", "memory_usage",
     "SELECT round(avg(used_pct), 1) AS used_avg_pct, max(used_pct) AS used_max_pct, "
     "max(used_kb) AS used_max_kb, min(available_kb) AS available_min_kb, "
     "max(swap_used_kb) AS swap_used_max_kb, max(dirty_kb) AS dirty_max_kb "
     "FROM memory_usage WHERE ts BETWEEN :lo AND :hi HAVING count(*) > 0"},
    {"Load", "load",
     "SELECT round(avg(load1), 2) AS load1_avg, max(load1) AS load1_max, "
     "max(load5) AS load5_max, max(runnable_count) AS runnable_max, "
     "max(procs_blocked_count) AS blocked_max, sum(forks_count) AS forks "
     "FROM load WHERE ts BETWEEN :lo AND :hi HAVING count(*) > 0"},
    {"Pressure (PSI)", "pressure",
     "SELECT resource, round(avg(some_avg10_pct), 2) AS some_avg10_pct, "
     "max(some_avg10_pct) AS some_max_pct, round(avg(full_avg10_pct), 2) AS full_avg10_pct, "
     "sum(some_stall_ms) AS some_stall_ms, sum(full_stall_ms) AS full_stall_ms "
     "FROM pressure WHERE ts BETWEEN :lo AND :hi GROUP BY resource ORDER BY resource"},
    {"Busiest groups by CPU (100 = one core)", "group_cpu",
     "SELECT group_name, round(100.0 * sum(user_ms + system_ms) / :window_ms, 1) AS cpu_pct, "
     "max(cpu_pct) AS peak_cpu_pct, sum(user_ms) AS user_ms, sum(system_ms) AS system_ms "
     "FROM group_cpu WHERE ts BETWEEN :lo AND :hi "
     "GROUP BY group_name ORDER BY sum(user_ms + system_ms) DESC LIMIT :n"},
    {"Busiest groups by memory", "group_memory",
     "SELECT group_name, max(rss_kb) AS peak_rss_kb, CAST(avg(rss_kb) AS INTEGER) AS avg_rss_kb, "
     "max(swap_kb) AS peak_swap_kb, max(procs_count) AS procs FROM group_memory "
     "WHERE ts BETWEEN :lo AND :hi GROUP BY group_name ORDER BY max(rss_kb) DESC LIMIT :n"},
    {"Busiest groups by I/O", "group_io",
     "SELECT group_name, sum(read_bytes) AS read_bytes, sum(write_bytes) AS write_bytes, "
     "CAST(1000.0 * sum(read_bytes) / :window_ms AS INTEGER) AS read_bytes_per_s, "
     "CAST(1000.0 * sum(write_bytes) / :window_ms AS INTEGER) AS write_bytes_per_s "
     "FROM group_io WHERE ts BETWEEN :lo AND :hi GROUP BY group_name "
     "ORDER BY sum(read_bytes) + sum(write_bytes) DESC LIMIT :n"},
    {"Busiest processes by CPU", "top_processes",
     "SELECT pid, comm, group_name, round(sum(cpu_pct) / :ticks, 1) AS cpu_pct, "
     "max(cpu_pct) AS peak_cpu_pct, max(rss_kb) AS peak_rss_kb, sum(read_bytes) AS read_bytes, "
     "sum(write_bytes) AS write_bytes, substr(max(cmdline), 1, 60) AS cmdline "
     "FROM top_processes WHERE ts BETWEEN :lo AND :hi GROUP BY pid, start_ts "
     "ORDER BY sum(cpu_pct) DESC LIMIT :n"},
    {"Busiest processes by memory", "top_processes",
     "SELECT pid, comm, group_name, max(rss_kb) AS peak_rss_kb, "
     "round(sum(cpu_pct) / :ticks, 1) AS cpu_pct, substr(max(cmdline), 1, 60) AS cmdline "
     "FROM top_processes WHERE ts BETWEEN :lo AND :hi GROUP BY pid, start_ts "
     "ORDER BY max(rss_kb) DESC LIMIT :n"},
    {"Busiest processes by I/O", "top_processes",
     "SELECT pid, comm, group_name, sum(read_bytes) AS read_bytes, "
     "sum(write_bytes) AS write_bytes, substr(max(cmdline), 1, 60) AS cmdline "
     "FROM top_processes WHERE ts BETWEEN :lo AND :hi GROUP BY pid, start_ts "
     "HAVING sum(read_bytes) + sum(write_bytes) > 0 "
     "ORDER BY sum(read_bytes) + sum(write_bytes) DESC LIMIT :n"},
    {"OOM kills nearby", "oom_kills",
     "SELECT * FROM oom_kills WHERE ts BETWEEN :near_lo AND :near_hi ORDER BY ts LIMIT :n"},
    {"Kernel log nearby", "kernel_log",
     "SELECT ts, priority, facility, message FROM (SELECT * FROM kernel_log "
     "WHERE ts BETWEEN :near_lo AND :near_hi ORDER BY abs(ts - :at), seq LIMIT 4 * :n + 10) "
     "ORDER BY ts, seq"},
};

struct top_params {
	int64_t lo, hi, at, near_lo, near_hi, n, window_ms, ticks;
};

static void bind_named(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);
	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

static void print_section(struct qdb *q, const struct section *s, const struct top_params *p)
{
	struct out out;
	struct err e;
	sqlite3_stmt *st;
	printf("\n== %s (%s)\n", s->title, s->view);
	if (!qdb_relation_exists(q, s->view)) {
		printf("no data (collector not present)\n");
		return;
	}
	/* The view exists but may lack a column this query needs (an older
	 * version of its collector): say so and go on with the next section. */
	if (qdb_prepare(q, s->sql, &st, &e)) {
		printf("unavailable: %s\n", e.msg);
		return;
	}
	bind_named(st, ":lo", p->lo);
	bind_named(st, ":hi", p->hi);
	bind_named(st, ":at", p->at);
	bind_named(st, ":near_lo", p->near_lo);
	bind_named(st, ":near_hi", p->near_hi);
	bind_named(st, ":n", p->n);
	bind_named(st, ":window_ms", p->window_ms);
	bind_named(st, ":ticks", p->ticks);
	fflush(stdout);
	out_open(&out, OUT_TABLE, OUT_TIME_DEFAULT, NULL, NULL, &e);
	out_columns(&out, st);
	int rc;
	qdb_arm(q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		out_row(&out, st);
	if (rc != SQLITE_DONE) {
		qdb_fail(q, rc, "query", &e);
		out.silent_empty = 1;
		out_close(&out, NULL);
		printf("unavailable: %s\n", e.msg);
	} else if (out.rows == 0) {
		out.silent_empty = 1;
		out_close(&out, NULL);
		printf("no rows in this window\n");
	} else {
		out_close(&out, NULL);
	}
	sqlite3_finalize(st);
}

/* The covered time and the number of ticks in the window, from the system
 * CPU rows every tick writes. Returns whether there was any tick. */
static int window_cover(struct qdb *q, struct top_params *p)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT sum(dur_ms) FROM cpu WHERE cpu_id = -1 AND ts BETWEEN %lld AND %lld",
		 (long long)p->lo, (long long)p->hi);
	qdb_arm(q);
	p->window_ms = store_query_int(&q->store, sql, 0);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM cpu WHERE cpu_id = -1 AND ts BETWEEN %lld AND %lld",
		 (long long)p->lo, (long long)p->hi);
	p->ticks = store_query_int(&q->store, sql, 0);
	int any = p->ticks > 0;
	if (p->window_ms <= 0)
		p->window_ms = (p->hi - p->lo + 1) * 1000;
	if (p->ticks <= 0)
		p->ticks = 1;
	return any;
}

/* With no tick in the window, point at the nearest ones. */
static void print_nearest(struct qdb *q, int64_t at)
{
	char sql[160], t[32];
	snprintf(sql, sizeof(sql), "SELECT max(ts) FROM agent WHERE ts <= %lld", (long long)at);
	int64_t before = store_query_int(&q->store, sql, -1);
	snprintf(sql, sizeof(sql), "SELECT min(ts) FROM agent WHERE ts >= %lld", (long long)at);
	int64_t after = store_query_int(&q->store, sql, -1);
	printf("no samples in this window.");
	if (before >= 0) {
		time_format_local(before, t, sizeof(t));
		printf(" Nearest before: %s.", t);
	}
	if (after >= 0) {
		time_format_local(after, t, sizeof(t));
		printf(" Nearest after: %s.", t);
	}
	printf("\n");
}

int cmd_top(struct qopts *o)
{
	struct qdb q;
	struct err e, inner;
	struct top_params p = {0};
	int64_t window_ms = 300000;
	if (!o->at) {
		err_set(&e, "top needs --at TIME (e.g. --at '2026-11-20 03:12' or --at 2h)");
		return qfail(2, &e);
	}
	if (timespec_parse(o->at, o->now, &p.at, &inner)) {
		err_set(&e, "--at: %s", inner.msg);
		return qfail(2, &e);
	}
	if (o->window && parse_duration_ms(o->window, &window_ms, &inner)) {
		err_set(&e, "--window: %s", inner.msg);
		return qfail(2, &e);
	}
	if (o->window && window_ms < 1000) {
		err_set(&e, "--window: expected a duration of at least 1s, e.g. 5m, 1h (got '%s')",
			o->window);
		return qfail(2, &e);
	}
	int64_t half = window_ms / 2000;
	p.lo = p.at - half;
	p.hi = p.at + half;
	p.near_lo = p.at - 2 * half;
	p.near_hi = p.at + 2 * half;
	p.n = o->rows_per_section ? o->rows_per_section : 5;
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	if (qdb_plan(&q, o, p.near_lo, p.near_hi, 0, &e)) {
		qdb_close(&q);
		return qfail(1, &e);
	}
	int any = window_cover(&q, &p);
	char a[32], lo[32], hi[32];
	time_format_local(p.at, a, sizeof(a));
	time_format_local(p.lo, lo, sizeof(lo));
	time_format_local(p.hi, hi, sizeof(hi));
	printf("hindsight top at %s: window %s .. %s (%lld s)\n", a, lo, hi,
	       (long long)(p.hi - p.lo));
	if (!any)
		print_nearest(&q, p.at);
	for (size_t i = 0; i < ARRAY_LEN(sections); i++)
		print_section(&q, &sections[i], &p);
	qdb_close(&q);
	if (fflush(stdout) != 0) {
		err_set(&e, "writing the output failed");
		return qfail(1, &e);
	}
	return 0;
}
