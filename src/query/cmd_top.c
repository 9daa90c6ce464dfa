/* hindsight top --at TIME: what the machine was doing then. One section per
 * question, each answered from a saved view at whichever tier holds that
 * time; a view the catalog says has no data here says so instead. */
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
    {"Busiest services and containers by CPU (100 = one core)", "cgroup_cpu", top_services_sql},
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

/* The window: [lo, hi] the ts the sections read; from (at most lo) where
 * the time it covers starts, earlier than lo when the window is made of
 * rollup buckets; bucket_s the coarsest bucket in it (0: raw samples). */
struct top_params {
	int64_t lo, hi, from, at, near_lo, near_hi, n, window_ms, ticks, bucket_s;
};

static void bind_named(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);
	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

/* Runs one section's query and prints its rows as a table. */
static void print_rows(struct qdb *q, const struct section *s, const struct top_params *p)
{
	struct out out;
	struct err e;
	sqlite3_stmt *st;
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

static void print_section(struct qdb *q, const struct section *s, const struct top_params *p)
{
	char note[128];
	printf("\n== %s (%s)\n", s->title, s->view);
	if (view_state(q, s->view, note, sizeof(note)) != VIEW_READY)
		printf("%s\n", note[0] ? note : "no such view");
	else
		print_rows(q, s, p);
}

/* Widens the window to whole buckets where the plan reads rollups (the raw
 * samples of an old time are pruned): a rollup row's ts is the end of its
 * bucket, so a few minutes inside an hour hold no 1-hour row at all.
 * Returns whether the window grew past the span planned for. */
static int window_align(struct top_params *p, const struct read_plan *plan)
{
	int64_t w_lo = tier_bucket_s[read_plan_tier_at(plan, p->lo)];
	int64_t w_hi = tier_bucket_s[read_plan_tier_at(plan, p->hi)];
	if (w_lo) {
		p->from = align_up(p->lo, w_lo) - w_lo;
		p->lo = p->from + 1; /* the first bucket's end is the first ts */
	}
	if (w_hi)
		p->hi = align_up(p->hi, w_hi);
	p->bucket_s = w_lo > w_hi ? w_lo : w_hi;
	ASSERT(p->from <= p->lo && p->lo <= p->at && p->at <= p->hi);
	int grew = p->lo < p->near_lo || p->hi > p->near_hi;
	p->near_lo = p->lo < p->near_lo ? p->lo : p->near_lo;
	p->near_hi = p->hi > p->near_hi ? p->hi : p->near_hi;
	return grew;
}

/* The covered time and the number of ticks in the window, from the
 * daemon's own row of every tick (agent_health), at any tier: rollup rows
 * sum dur_ms and count their samples. Returns whether there was any tick. */
static int window_cover(struct qdb *q, struct top_params *p)
{
	sqlite3_stmt *st;
	struct err e;
	p->window_ms = p->ticks = 0;
	if (qdb_prepare(q,
			"SELECT sum(dur_ms), sum(samples_count) FROM agent_health "
			"WHERE ts BETWEEN ?1 AND ?2",
			&st, &e) == 0) {
		sqlite3_bind_int64(st, 1, p->lo);
		sqlite3_bind_int64(st, 2, p->hi);
		qdb_arm(q);
		if (sqlite3_step(st) == SQLITE_ROW) {
			p->window_ms = sqlite3_column_int64(st, 0);
			p->ticks = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	int any = p->ticks > 0;
	if (p->window_ms <= 0)
		p->window_ms = (p->hi - p->lo + 1) * 1000;
	if (p->ticks <= 0)
		p->ticks = 1;
	return any;
}

/* With no tick in the window, point at the nearest ones, in any tier. */
static void print_nearest(struct qdb *q, int64_t at)
{
	char t[32];
	int64_t before = qdb_edge_ts(q, "agent_health", 0, at, 1);
	int64_t after = qdb_edge_ts(q, "agent_health", at, TS_MAX, 0);
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

static void print_header(const struct top_params *p)
{
	char a[32], lo[32], hi[32];
	time_format_local(p->at, a, sizeof(a));
	time_format_local(p->from, lo, sizeof(lo));
	time_format_local(p->hi, hi, sizeof(hi));
	printf("hindsight top at %s: window %s .. %s (%lld s)", a, lo, hi,
	       (long long)(p->hi - p->from));
	if (p->bucket_s)
		printf(", whole %s rollups", p->bucket_s == 3600 ? "1-hour" : "1-minute");
	printf("\n");
}

/* The views the sections read, for qdb_plan to pin only those. */
static const char *section_views(void)
{
	static char names[512];
	size_t len = (size_t)snprintf(names, sizeof(names), "agent_health");
	for (size_t i = 0; i < ARRAY_LEN(sections); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, " %s", sections[i].view);
	ASSERT(len < sizeof(names));
	return names;
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
	p.lo = p.from = p.at - half;
	p.hi = p.at + half;
	p.near_lo = p.at - 2 * half;
	p.near_hi = p.at + 2 * half;
	p.n = o->rows_per_section ? o->rows_per_section : 5;
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	q.uses = section_views();
	if (qdb_plan(&q, o, p.near_lo, p.near_hi, 0, &e) ||
	    (window_align(&p, &q.plan) && qdb_plan(&q, o, p.near_lo, p.near_hi, 0, &e))) {
		qdb_close(&q);
		return qfail(1, &e);
	}
	int any = window_cover(&q, &p);
	print_header(&p);
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
