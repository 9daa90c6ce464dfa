/* hindsight top: an incident report for a window of time (--at TIME with
 * --window, or --since/--until). One section per question, each answered
 * from a saved view at whichever tier holds that time; a view the catalog
 * says has no data here says so instead. Events (the kernel log, OOM kills,
 * processes killed by a signal) are those inside the window, or with --context
 * also those that far either side, each labelled with its distance. */
#include <stdio.h>
#include <string.h>

#include "query/query.h"
#include "query/timespec.h"

enum section_kind {
	SEC_WINDOW, /* the metrics over [lo, hi] */
	SEC_EVENTS, /* one row per event with a ts, over [ev_lo, ev_hi] */
};

struct section {
	const char *title;
	const char *view;
	const char *sql;
	enum section_kind kind;
};

/* Parameters: :lo/:hi the window (:from where the time it covers starts),
 * :ev_lo/:ev_hi the span events are read from, :n rows, :window_ms the
 * time the ticks in the window covered, :ticks their number. Groups, disks
 * and interfaces write no row when idle, so their rates are summed and
 * divided by the covered time, not averaged over rows. */
static const struct section sections[] = {
    {"CPU", "cpu_usage",
     "SELECT round(avg(busy_pct), 1) AS busy_avg_pct, max(busy_pct) AS busy_max_pct, "
     "round(avg(user_pct), 1) AS user_avg_pct, round(avg(system_pct), 1) AS system_avg_pct, "
     "round(avg(iowait_pct), 1) AS iowait_avg_pct, round(avg(steal_pct), 1) AS steal_avg_pct, "
     "count(*) AS samples FROM cpu_usage WHERE ts BETWEEN :lo AND :hi HAVING count(*) > 0",
     SEC_WINDOW},
    {"Memory", "memory_usage",
     "SELECT round(avg(used_pct), 1) AS used_avg_pct, max(used_pct) AS used_max_pct, "
     "max(used_kb) AS used_max_kb, min(available_kb) AS available_min_kb, "
     "max(swap_used_kb) AS swap_used_max_kb, max(dirty_kb) AS dirty_max_kb "
     "FROM memory_usage WHERE ts BETWEEN :lo AND :hi HAVING count(*) > 0",
     SEC_WINDOW},
    {"Load", "load",
     "SELECT round(avg(load1), 2) AS load1_avg, max(load1) AS load1_max, "
     "max(load5) AS load5_max, max(runnable_count) AS runnable_max, "
     "max(procs_blocked_count) AS blocked_max, sum(forks_count) AS forks "
     "FROM load WHERE ts BETWEEN :lo AND :hi HAVING count(*) > 0",
     SEC_WINDOW},
    {"Pressure (PSI: share of the window some or all tasks stalled)", "pressure",
     "SELECT resource, round(100.0 * sum(some_stall_ms) / :window_ms, 2) AS some_pct, "
     "round(max(some_avg10_pct), 2) AS some_avg10_max_pct, "
     "round(100.0 * sum(full_stall_ms) / :window_ms, 2) AS full_pct, "
     "CAST(round(sum(some_stall_ms)) AS INTEGER) AS some_stall_ms, "
     "CAST(round(sum(full_stall_ms)) AS INTEGER) AS full_stall_ms "
     "FROM pressure WHERE ts BETWEEN :lo AND :hi GROUP BY resource ORDER BY resource",
     SEC_WINDOW},
    /* Two rows a disk, so the table stays narrow: the window's average and
     * the peak (each column's busiest tick); disks in order of the bytes
     * they moved. */
    {"Disks", "disk_io",
     "WITH d AS (SELECT disk, sum(read_bytes) AS rb, sum(write_bytes) AS wb, "
     "sum(util_pct * dur_ms) AS util, max(read_bytes_per_s) AS rmax, "
     "max(write_bytes_per_s) AS wmax, max(util_pct) AS umax, max(avg_wait_ms) AS waitmax, "
     "sum(avg_wait_ms * (reads_per_s + writes_per_s) * dur_ms) / "
     "nullif(sum((reads_per_s + writes_per_s) * dur_ms), 0) AS wait "
     "FROM disk_io WHERE ts BETWEEN :lo AND :hi AND whole_disk = 1 GROUP BY disk "
     "ORDER BY rb + wb DESC LIMIT :n) "
     "SELECT disk, stat, read_bytes_per_s, write_bytes_per_s, util_pct, wait_ms FROM ("
     "SELECT rb + wb AS total, disk, 'average' AS stat, "
     "CAST(1000.0 * rb / :window_ms AS INTEGER) AS read_bytes_per_s, "
     "CAST(1000.0 * wb / :window_ms AS INTEGER) AS write_bytes_per_s, "
     "round(util / :window_ms, 1) AS util_pct, round(wait, 2) AS wait_ms FROM d "
     "UNION ALL SELECT rb + wb, disk, 'peak', CAST(rmax AS INTEGER), "
     "CAST(wmax AS INTEGER), umax, waitmax FROM d) ORDER BY total DESC, disk, stat",
     SEC_WINDOW},
    {"Network", "net_rates",
     "SELECT interface, CAST(1000.0 * sum(rx_bytes) / :window_ms AS INTEGER) AS rx_bytes_per_s, "
     "CAST(max(rx_bytes_per_s) AS INTEGER) AS peak_rx_bytes_per_s, "
     "CAST(1000.0 * sum(tx_bytes) / :window_ms AS INTEGER) AS tx_bytes_per_s, "
     "CAST(max(tx_bytes_per_s) AS INTEGER) AS peak_tx_bytes_per_s, "
     "sum(rx_errors_count + tx_errors_count) AS errors, "
     "sum(rx_dropped_count + tx_dropped_count) AS dropped "
     "FROM net_rates WHERE ts BETWEEN :lo AND :hi GROUP BY interface "
     "ORDER BY sum(rx_bytes + tx_bytes) DESC LIMIT :n",
     SEC_WINDOW},
    {"Busiest services and containers by CPU (100 = one core)", "cgroup_cpu", top_services_sql,
     SEC_WINDOW},
    {"Busiest groups by CPU (100 = one core)", "group_cpu",
     "SELECT group_name, round(100.0 * sum(user_ms + system_ms) / :window_ms, 1) AS cpu_pct, "
     "max(cpu_pct) AS peak_cpu_pct, sum(user_ms) AS user_ms, sum(system_ms) AS system_ms "
     "FROM group_cpu WHERE ts BETWEEN :lo AND :hi "
     "GROUP BY group_name ORDER BY sum(user_ms + system_ms) DESC LIMIT :n",
     SEC_WINDOW},
    {"Busiest groups by memory", "group_memory",
     "SELECT group_name, max(rss_kb) AS peak_rss_kb, CAST(avg(rss_kb) AS INTEGER) AS avg_rss_kb, "
     "max(swap_kb) AS peak_swap_kb, max(procs_count) AS procs FROM group_memory "
     "WHERE ts BETWEEN :lo AND :hi GROUP BY group_name ORDER BY max(rss_kb) DESC LIMIT :n",
     SEC_WINDOW},
    {"Busiest groups by I/O", "group_io",
     "SELECT group_name, sum(read_bytes) AS read_bytes, sum(write_bytes) AS write_bytes, "
     "CAST(1000.0 * sum(read_bytes) / :window_ms AS INTEGER) AS read_bytes_per_s, "
     "CAST(1000.0 * sum(write_bytes) / :window_ms AS INTEGER) AS write_bytes_per_s "
     "FROM group_io WHERE ts BETWEEN :lo AND :hi GROUP BY group_name "
     "HAVING sum(read_bytes) + sum(write_bytes) > 0 "
     "ORDER BY sum(read_bytes) + sum(write_bytes) DESC LIMIT :n",
     SEC_WINDOW},
    /* The processes' numbers leave a third of 100 columns to the command
     * line, as the table needs to show it, with names of 15 characters;
     * the group is shown where it is not the process's own name. */
    {"Busiest processes by CPU", "top_processes",
     "SELECT pid, comm, nullif(group_name, comm) AS \"group\", round(sum(cpu_pct) / :ticks, 1) AS "
     "cpu_pct, "
     "max(cpu_pct) AS peak_pct, substr(max(cmdline), 1, 60) AS cmdline "
     "FROM top_processes WHERE ts BETWEEN :lo AND :hi GROUP BY pid, start_ts "
     "ORDER BY sum(cpu_pct) DESC LIMIT :n",
     SEC_WINDOW},
    {"Busiest processes by memory", "top_processes",
     "SELECT pid, comm, nullif(group_name, comm) AS \"group\", max(rss_kb) AS max_rss_kb, "
     "round(sum(cpu_pct) / :ticks, 1) AS cpu_pct, substr(max(cmdline), 1, 60) AS cmdline "
     "FROM top_processes WHERE ts BETWEEN :lo AND :hi GROUP BY pid, start_ts "
     "ORDER BY max(rss_kb) DESC LIMIT :n",
     SEC_WINDOW},
    {"Busiest processes by I/O", "top_processes",
     "SELECT pid, comm, nullif(group_name, comm) AS \"group\", sum(read_bytes) AS read_bytes, "
     "sum(write_bytes) AS write_bytes, substr(max(cmdline), 1, 60) AS cmdline "
     "FROM top_processes WHERE ts BETWEEN :lo AND :hi GROUP BY pid, start_ts "
     "HAVING sum(read_bytes) + sum(write_bytes) > 0 "
     "ORDER BY sum(read_bytes) + sum(write_bytes) DESC LIMIT :n",
     SEC_WINDOW},
    /* Processes that started and ended between two ticks are in no tick's
     * process rows: their exits are where their CPU shows. */
    {"Processes that ended in the window, by program", "process_exits",
     "SELECT comm, count(*) AS exits, CAST(round(sum(cpu_ms)) AS INTEGER) AS cpu_ms, "
     "CAST(round(avg(lifetime_ms)) AS INTEGER) AS avg_lifetime_ms, max(peak_rss_kb) AS "
     "peak_rss_kb, "
     "sum(write_bytes) AS write_bytes, "
     "sum(coalesce(exit_code, 0) != 0 OR signal IS NOT NULL) AS failed "
     "FROM process_exits WHERE ts BETWEEN :from AND :hi GROUP BY comm "
     "ORDER BY sum(cpu_ms) DESC LIMIT :n",
     SEC_WINDOW},
    {"Programs started in the window", "exec_log",
     "SELECT filename, count(*) AS execs, min(ts) AS first_ts, max(ts) AS last_ts "
     "FROM exec_log WHERE ts BETWEEN :from AND :hi AND ret >= 0 GROUP BY filename "
     "ORDER BY count(*) DESC, filename LIMIT :n",
     SEC_WINDOW},
    /* Events fit 100 columns beside their distance from the window: the
     * columns a person reads first (the rest are in the views). */
    {"Processes killed by a signal", "process_exits",
     "SELECT ts, pid, comm, signal || CASE WHEN core_dumped THEN ' core' ELSE '' END AS sig, "
     "CAST(round(lifetime_ms) AS INTEGER) AS lifetime_ms, CAST(round(cpu_ms) AS INTEGER) AS "
     "cpu_ms, peak_rss_kb AS max_rss_kb FROM process_exits "
     "WHERE ts BETWEEN :ev_lo AND :ev_hi AND signal IS NOT NULL ORDER BY ts, pid LIMIT 2 * :n",
     SEC_EVENTS},
    {"OOM kills", "oom_kills",
     "SELECT ts, pid, comm, anon_rss_kb, file_rss_kb, oom_score_adj AS score_adj "
     "FROM oom_kills WHERE ts BETWEEN :ev_lo AND :ev_hi ORDER BY ts LIMIT 4 * :n",
     SEC_EVENTS},
    /* A burst (an OOM report, a stack trace) shows its first lines, any
     * error or worse, and how many lines more it had in that second; then
     * the most severe lines when there are more than fit, in time order. */
    {"Kernel log", "kernel_log",
     "WITH l AS (SELECT ts, seq, priority, level, message, "
     "row_number() OVER (PARTITION BY ts ORDER BY seq) AS k FROM kernel_log "
     "WHERE ts BETWEEN :ev_lo AND :ev_hi), "
     "shown AS (SELECT ts, seq, priority, level, message FROM l WHERE k <= 3 OR priority <= 3 "
     "UNION ALL SELECT ts, min(seq), min(priority), '', "
     "'... ' || count(*) || ' more lines in this second' FROM l "
     "WHERE k > 3 AND priority > 3 GROUP BY ts) "
     "SELECT ts, level, message FROM (SELECT * FROM shown ORDER BY priority, ts, seq "
     "LIMIT 4 * :n + 10) ORDER BY ts, seq",
     SEC_EVENTS},
};

/* The window: [lo, hi] the ts the sections read; from (at most lo) where
 * the time it covers starts, earlier than lo when the window is made of
 * rollup buckets; bucket_s the coarsest bucket in it (0: raw samples);
 * at the moment asked for (--at; hi with --since); [ev_lo, ev_hi] the
 * events read: [from, hi] widened by context_s either side. */
struct top_params {
	int64_t lo, hi, from, at, ev_lo, ev_hi, context_s, n, window_ms, ticks, bucket_s;
	int centred; /* --at: the window is centred on at */
};

/* Binds a parameter a section's SQL may or may not use. */
static void bind_named(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);
	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

/* Labels each event with its distance from the window when --context let
 * events outside it in. */
static void event_sql(const struct section *s, const struct top_params *p, char *sql, size_t n)
{
	if (s->kind == SEC_EVENTS && p->context_s > 0)
		snprintf(sql, n,
			 "SELECT window_distance(ts, :from, :hi) AS from_window, * FROM (%s)",
			 s->sql);
	else
		snprintf(sql, n, "%s", s->sql);
}

/* Runs one section's query and prints its rows as a table. */
static void print_rows(struct qdb *q, const struct section *s, const struct top_params *p)
{
	struct out out;
	struct err e;
	sqlite3_stmt *st;
	char sql[2048];
	event_sql(s, p, sql, sizeof(sql));
	/* The view exists but may lack a column this query needs (an older
	 * version of its collector): say so and go on with the next section. */
	if (qdb_prepare(q, sql, &st, &e)) {
		printf("unavailable: %s\n", e.msg);
		return;
	}
	bind_named(st, ":lo", p->lo);
	bind_named(st, ":hi", p->hi);
	bind_named(st, ":from", p->from);
	bind_named(st, ":ev_lo", p->ev_lo);
	bind_named(st, ":ev_hi", p->ev_hi);
	bind_named(st, ":n", p->n);
	bind_named(st, ":window_ms", p->window_ms);
	bind_named(st, ":ticks", p->ticks);
	fflush(stdout);
	out_open(&out, OUT_TABLE, OUT_TIME_DEFAULT, NULL, NULL, &e);
	/* a process is one line, its command line cut to the width; an
	 * event's message wraps, to be read whole */
	out.wrap = s->kind == SEC_EVENTS;
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
		printf(s->kind == SEC_EVENTS ? "none\n" : "no rows in this window\n");
	} else {
		out_close(&out, NULL);
	}
	sqlite3_finalize(st);
}

/* A section's title and its rows, or what the catalog says of its view. */
static void print_section(struct qdb *q, const struct section *s, const struct top_params *p)
{
	char note[128];
	enum view_state state = view_state(q, s->view, note, sizeof(note));
	printf("\n== %s (%s)\n", s->title, s->view);
	if (state != VIEW_READY)
		printf("%s\n", note[0] ? note : "no such view");
	else
		print_rows(q, s, p);
}

/* Widens the window to whole buckets where the plan reads rollups (the raw
 * samples of an old time are pruned): a rollup row's ts is the end of its
 * bucket, so a few minutes inside an hour hold no 1-hour row at all.
 * Returns whether the window grew. */
static int window_align(struct top_params *p, const struct read_plan *plan)
{
	int64_t lo = p->lo, hi = p->hi;
	int64_t w_lo = tier_bucket_s[read_plan_tier_at(plan, p->lo)];
	int64_t w_hi = tier_bucket_s[read_plan_tier_at(plan, p->hi)];
	if (w_lo) {
		p->from = align_up(p->lo, w_lo) - w_lo;
		p->lo = p->from + 1; /* the first bucket's end is the first ts */
	}
	if (w_hi)
		p->hi = align_up(p->hi, w_hi);
	p->bucket_s = w_lo > w_hi ? w_lo : w_hi;
	ASSERT(p->from <= p->lo && p->lo <= p->hi);
	return p->lo < lo || p->hi > hi;
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
		p->window_ms = (p->hi - p->from + 1) * 1000;
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

/* The first line: the window read, whole buckets when rollups were,
 * and how far events reach. */
static void print_header(const struct top_params *p)
{
	char a[32], lo[32], hi[32], d[32];
	time_format_local(p->from, lo, sizeof(lo));
	time_format_local(p->hi, hi, sizeof(hi));
	if (p->centred) {
		time_format_local(p->at, a, sizeof(a));
		printf("hindsight top at %s: ", a);
	} else {
		printf("hindsight top: ");
	}
	printf("window %s .. %s (%lld s)", lo, hi, (long long)(p->hi - p->from));
	if (p->bucket_s)
		printf(", whole %s rollups", p->bucket_s == 3600 ? "1-hour" : "1-minute");
	if (p->context_s > 0) {
		format_duration_short(p->context_s, d, sizeof(d));
		printf("; events also %s either side", d);
	}
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

/* A duration option of at least min_ms into *ms. */
static int duration_opt(const char *name, const char *text, int64_t min_ms, int64_t *ms,
			struct err *e)
{
	struct err inner;
	if (parse_duration_ms(text, ms, &inner))
		return err_set(e, "%s: %s", name, inner.msg);
	if (*ms < min_ms)
		return err_set(e,
			       "%s: expected a duration of at least %llds, e.g. 5m, 1h (got '%s')",
			       name, (long long)(min_ms / 1000), text);
	return 0;
}

/* The window from --at and --window (centred on at) or from --since and
 * --until (until defaults to now), and the span of events from --context. */
static int top_window(const struct qopts *o, struct top_params *p, struct err *e)
{
	struct err inner;
	int64_t window_ms = 300000, context_ms = 0;
	if (!o->at && !o->since)
		return err_set(e, "top needs --at TIME or --since TIME (e.g. --since 10m for the "
				  "last ten minutes, or --at '2026-11-20 03:12')");
	if (o->at && (o->since || o->until))
		return err_set(e, "give --at (with --window) or --since/--until, not both");
	if (o->window && !o->at)
		return err_set(e, "--window goes with --at; with --since, --until ends the window");
	if (o->window && duration_opt("--window", o->window, 1000, &window_ms, e))
		return -1;
	if (o->context && duration_opt("--context", o->context, 1000, &context_ms, e))
		return -1;
	if (o->at) {
		if (timespec_parse(o->at, o->now, &p->at, &inner))
			return err_set(e, "--at: %s", inner.msg);
		int64_t half = window_ms / 2000;
		p->lo = p->at - half;
		p->hi = p->at + half;
		p->centred = 1;
	} else {
		if (qopts_range(o, NULL, &p->lo, &p->hi, e))
			return -1;
		if (p->hi > o->now)
			p->hi = o->now;
		if (p->lo > p->hi)
			return err_set(e, "--since is in the future: nothing to show");
		p->at = p->hi;
	}
	p->from = p->lo;
	p->context_s = context_ms / 1000;
	return 0;
}

int cmd_top(struct qopts *o)
{
	struct qdb q;
	struct err e;
	struct top_params p = {0};
	if (top_window(o, &p, &e))
		return qfail(2, &e);
	p.n = o->rows_per_section ? o->rows_per_section : 5;
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	if (window_distance_register(q.db)) {
		qdb_close(&q);
		err_set(&e, "cannot register window_distance on the connection");
		return qfail(1, &e);
	}
	q.uses = section_views();
	int64_t lo = p.lo, hi = p.hi;
	if (qdb_plan(&q, o, lo, hi, 0, &e) ||
	    (window_align(&p, &q.plan) && qdb_plan(&q, o, p.lo, p.hi, 0, &e))) {
		qdb_close(&q);
		return qfail(1, &e);
	}
	p.ev_lo = p.from - p.context_s;
	p.ev_hi = p.hi + p.context_s;
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
