/* Reading one tick for the replay screen, through the saved views and the
 * tier plan like every other command: the views are pinned to the tier the
 * plan reads at the tick, so each statement reads one tier's table. Every
 * statement runs to its end and is finalized before the next: no read
 * transaction outlives a tick's reading, so a screen left open for hours
 * never holds back the daemon's checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/replay.h"

const char *const rp_view_names[RV_NVIEWS] = {
    [RV_AGENT] = "agent_health",  [RV_CPU] = "cpu_usage",    [RV_MEM] = "memory_usage",
    [RV_LOAD] = "load",		  [RV_PSI] = "pressure",     [RV_DISK] = "disk_io",
    [RV_NET] = "net_rates",	  [RV_GROUPS] = "group_cpu", [RV_SERVICES] = "cgroup_cpu",
    [RV_PROCS] = "top_processes", [RV_KLOG] = "kernel_log",  [RV_OOM] = "oom_kills",
    [RV_EXITS] = "process_exits", [RV_EXECS] = "exec_log",
};

/* The views to pin, for qdb_pin (group_cpu's neighbours included). */
static const char rp_uses[] = "agent_health cpu_usage memory_usage load pressure disk_io "
			      "net_rates group_cpu group_memory group_io cgroup_cpu "
			      "top_processes kernel_log oom_kills process_exits exec_log";

/* Pins the views to the one tier the plan reads at ts, unless they are. */
static int pin_at(struct rp_source *s, int64_t ts, struct err *e)
{
	int tier = read_plan_tier_at(&s->q.plan, ts);
	if (s->q.pinned == 1u << tier)
		return 0;
	return qdb_pin(&s->q, 1u << tier, e);
}

int rp_replan(struct rp_source *s, struct err *e)
{
	read_plan_get(s->q.db, s->tier, &s->q.plan);
	s->q.tiers = read_plan_tiers(&s->q.plan, 0, TS_MAX);
	/* the pinned tier stays right: a single tier's views do not depend on
	 * the plan's boundaries; pin_at moves it when a tick needs another */
	return s->q.pinned ? 0 : qdb_pin(&s->q, 1u << TIER_RAW, e);
}

/* A short text column, "" for NULL. */
static void text_col(sqlite3_stmt *st, int i, char *buf, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(buf, n, "%s", t ? (const char *)t : "");
}

/* A REAL column, dflt for NULL. */
static double real_col(sqlite3_stmt *st, int i, double dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_double(st, i);
}

/* An INTEGER column, dflt for NULL. */
static int64_t int_col(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

/* Runs sql with ?1 = a, ?2 = b, ?3 = c and hands each row to fn. */
static int each_row(struct rp_source *s, const char *sql, int64_t a, int64_t b, int64_t c,
		    void (*fn)(sqlite3_stmt *, struct rp_tick *), struct rp_tick *t, struct err *e)
{
	sqlite3_stmt *st;
	if (qdb_prepare(&s->q, sql, &st, e))
		return -1;
	int nparams = sqlite3_bind_parameter_count(st);
	if (nparams >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (nparams >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (nparams >= 3)
		sqlite3_bind_int64(st, 3, c);
	int rc;
	qdb_arm(&s->q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(st, t);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return qdb_fail(&s->q, rc, "reading the tick", e);
	return 0;
}

/* The first column of the first row of sql (?1 = a, ?2 = b); -1 for
 * none or an error, which leaves that number out of the screen. */
static int64_t first_int(struct rp_source *s, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st;
	struct err ignored;
	int64_t v = -1;
	if (qdb_prepare(&s->q, sql, &st, &ignored))
		return -1;
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	qdb_arm(&s->q);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = int_col(st, 0, -1);
	sqlite3_finalize(st);
	return v;
}

/* A new row at the end of l, unknowns marked -1; NULL when out of
 * memory (the row is then left out). */
static struct rp_row *list_add(struct rp_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct rp_row *grown = realloc(l->rows, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		l->rows = grown;
		l->cap = cap;
	}
	struct rp_row *r = &l->rows[l->n++];
	memset(r, 0, sizeof(*r));
	r->rss_kb = r->procs = -1;
	r->read_bps = r->write_bps = -1;
	return r;
}

/* The parts' row readers: one result row into the tick. */
static void row_cpu(sqlite3_stmt *st, struct rp_tick *t)
{
	t->has_cpu = 1;
	t->busy = real_col(st, 0, 0);
	t->user = real_col(st, 1, 0);
	t->sys = real_col(st, 2, 0);
	t->iowait = real_col(st, 3, 0);
	t->steal = real_col(st, 4, 0);
	t->irq = real_col(st, 5, 0);
}

static void row_mem(sqlite3_stmt *st, struct rp_tick *t)
{
	t->has_mem = 1;
	t->mem_total_kb = int_col(st, 0, 0);
	t->mem_used_kb = int_col(st, 1, 0);
	t->mem_avail_kb = int_col(st, 2, 0);
	t->mem_cache_kb = int_col(st, 3, 0);
	t->mem_dirty_kb = int_col(st, 4, 0);
	t->swap_used_kb = int_col(st, 5, 0);
	t->swap_total_kb = int_col(st, 6, 0);
}

static void row_load(sqlite3_stmt *st, struct rp_tick *t)
{
	t->has_load = 1;
	t->load1 = real_col(st, 0, 0);
	t->load5 = real_col(st, 1, 0);
	t->load15 = real_col(st, 2, 0);
	t->runnable = int_col(st, 3, -1);
	t->threads = int_col(st, 4, -1);
	t->blocked = int_col(st, 5, -1);
	t->forks = int_col(st, 6, -1);
}

static void row_psi(sqlite3_stmt *st, struct rp_tick *t)
{
	if (t->npsi == RP_MAX_PSI)
		return;
	text_col(st, 0, t->psi[t->npsi].resource, sizeof(t->psi[0].resource));
	t->psi[t->npsi].some_pct = real_col(st, 1, 0);
	t->psi[t->npsi].full_pct = real_col(st, 2, 0);
	t->npsi++;
}

static void row_dev(sqlite3_stmt *st, struct rp_dev *d)
{
	memset(d, 0, sizeof(*d));
	text_col(st, 0, d->name, sizeof(d->name));
	d->in_bps = real_col(st, 1, 0);
	d->out_bps = real_col(st, 2, 0);
}

static void row_disk(sqlite3_stmt *st, struct rp_tick *t)
{
	if (t->ndisk == RP_MAX_DEV)
		return;
	struct rp_dev *d = &t->disk[t->ndisk++];
	row_dev(st, d);
	d->util_pct = real_col(st, 3, 0);
	d->wait_ms = real_col(st, 4, 0);
}

static void row_net(sqlite3_stmt *st, struct rp_tick *t)
{
	if (t->nnet == RP_MAX_DEV)
		return;
	struct rp_dev *d = &t->net[t->nnet++];
	row_dev(st, d);
	d->errors = int_col(st, 3, 0);
	d->drops = int_col(st, 4, 0);
}

static void row_group(sqlite3_stmt *st, struct rp_tick *t)
{
	struct rp_row *r = list_add(&t->groups);
	if (!r)
		return;
	text_col(st, 0, r->name, sizeof(r->name));
	r->cpu_pct = real_col(st, 1, 0);
	r->rss_kb = int_col(st, 2, -1);
	r->procs = int_col(st, 3, -1);
	r->read_bps = real_col(st, 4, -1);
	r->write_bps = real_col(st, 5, -1);
}

static void row_service(sqlite3_stmt *st, struct rp_tick *t)
{
	struct rp_row *r = list_add(&t->services);
	if (!r)
		return;
	text_col(st, 0, r->name, sizeof(r->name));
	text_col(st, 1, r->group, sizeof(r->group));
	r->cpu_pct = real_col(st, 2, 0);
}

static void row_proc(sqlite3_stmt *st, struct rp_tick *t)
{
	struct rp_row *r = list_add(&t->procs);
	if (!r)
		return;
	r->pid = int_col(st, 0, 0);
	text_col(st, 1, r->name, sizeof(r->name));
	text_col(st, 2, r->group, sizeof(r->group));
	text_col(st, 3, r->cmd, sizeof(r->cmd));
	r->cpu_pct = real_col(st, 4, 0);
	r->rss_kb = int_col(st, 5, -1);
	r->read_bps = real_col(st, 6, -1);
	r->write_bps = real_col(st, 7, -1);
}

static void row_event(sqlite3_stmt *st, struct rp_tick *t)
{
	if (t->nevents == RP_MAX_EVENTS)
		return;
	struct rp_event *ev = &t->events[t->nevents++];
	ev->ts = int_col(st, 0, 0);
	text_col(st, 1, ev->kind, sizeof(ev->kind));
	text_col(st, 2, ev->text, sizeof(ev->text));
}

static void row_ended(sqlite3_stmt *st, struct rp_tick *t)
{
	size_t len = strlen(t->ended);
	char comm[64];
	text_col(st, 0, comm, sizeof(comm));
	int64_t n = int_col(st, 1, 0);
	t->exits += n;
	if (len + strlen(comm) + 24 < sizeof(t->ended))
		snprintf(t->ended + len, sizeof(t->ended) - len, "%s%s x%lld", len ? ", " : "",
			 comm, (long long)n);
}

/* The tick's span of time: events are those in (lo, ts]. Ticks fall on
 * the interval's boundaries, and dur_ms is measured, a few ms off them. */
static int64_t span_lo(const struct rp_tick *t)
{
	int64_t d = (t->dur_ms + 500) / 1000;
	return t->ts - (d > 0 ? d : 1);
}

/* One statement per part of the screen; each part whose view is not ready
 * keeps the catalog's note. Events come in the order the screen lists them
 * when they do not all fit: OOM kills, kernel log errors (and worse),
 * processes killed by a signal, then the rest of the kernel log, most
 * severe first. The system summary reads the row at ts of the
 * pinned tier; processes and events, which have no rollups, are summed over
 * the tick's span from the raw rows kept. */
static const struct {
	enum rp_view view;
	const char *sql; /* ?1 the tick's ts, ?2 the span's start (exclusive), ?3 its ms */
	void (*row)(sqlite3_stmt *, struct rp_tick *);
} parts[] = {
    {RV_CPU,
     "SELECT busy_pct, user_pct, system_pct, iowait_pct, steal_pct, irq_pct + softirq_pct "
     "FROM cpu_usage WHERE ts = ?1",
     row_cpu},
    {RV_MEM,
     "SELECT total_kb, used_kb, available_kb, cached_kb + buffers_kb, dirty_kb, swap_used_kb, "
     "swap_total_kb FROM memory_usage WHERE ts = ?1",
     row_mem},
    {RV_LOAD,
     "SELECT load1, load5, load15, runnable_count, threads_count, procs_blocked_count, "
     "forks_count FROM load WHERE ts = ?1",
     row_load},
    {RV_PSI,
     "SELECT resource, some_stall_pct, full_stall_pct FROM pressure WHERE ts = ?1 "
     "ORDER BY resource",
     row_psi},
    {RV_DISK,
     "SELECT disk, read_bytes_per_s, write_bytes_per_s, util_pct, avg_wait_ms FROM disk_io "
     "WHERE ts = ?1 AND whole_disk = 1 ORDER BY read_bytes + write_bytes DESC, disk",
     row_disk},
    {RV_NET,
     "SELECT interface, rx_bytes_per_s, tx_bytes_per_s, rx_errors_count + tx_errors_count, "
     "rx_dropped_count + tx_dropped_count FROM net_rates WHERE ts = ?1 "
     "ORDER BY rx_bytes + tx_bytes DESC, interface",
     row_net},
    {RV_GROUPS,
     "SELECT c.group_name, c.cpu_pct, m.rss_kb, m.procs_count, i.read_bytes_per_s, "
     "i.write_bytes_per_s FROM group_cpu c "
     "LEFT JOIN group_memory m ON m.ts = c.ts AND m.group_name = c.group_name "
     "LEFT JOIN group_io i ON i.ts = c.ts AND i.group_name = c.group_name WHERE c.ts = ?1",
     row_group},
    /* Every cgroup's figures include the cgroups below it: only the
     * workloads (services, scopes, containers, pods, leaves) are listed,
     * never the slices that add them up. */
    {RV_SERVICES,
     "SELECT cgroup, kind, round(100.0 * sum(usage_ms) / ?3, 1) FROM cgroup_cpu "
     "WHERE ts = ?1 AND is_workload GROUP BY cgroup, kind",
     row_service},
    {RV_PROCS,
     "SELECT pid, max(comm), max(group_name), max(cmdline), "
     "round((sum(user_ms) + sum(system_ms)) * 100.0 / ?3, 1), max(rss_kb), "
     "sum(read_bytes) * 1000.0 / ?3, sum(write_bytes) * 1000.0 / ?3 FROM top_processes "
     "WHERE ts > ?2 AND ts <= ?1 GROUP BY pid, start_ts",
     row_proc},
    {RV_OOM,
     "SELECT ts, 'oom', comm || ' (pid ' || pid || ') killed by the OOM killer, anon ' || "
     "(anon_rss_kb / 1024) || ' MiB' FROM oom_kills WHERE ts > ?2 AND ts <= ?1 ORDER BY ts "
     "LIMIT 12",
     row_event},
    {RV_KLOG,
     "SELECT ts, level, message FROM kernel_log WHERE ts > ?2 AND ts <= ?1 AND priority <= 3 "
     "ORDER BY priority, ts, seq LIMIT 12",
     row_event},
    {RV_EXITS,
     "SELECT ts, 'killed', comm || ' (pid ' || pid || ') by signal ' || signal || "
     "CASE WHEN core_dumped THEN ', core dumped' ELSE '' END FROM process_exits "
     "WHERE ts > ?2 AND ts <= ?1 AND signal IS NOT NULL ORDER BY ts LIMIT 12",
     row_event},
    {RV_KLOG,
     "SELECT ts, level, message FROM kernel_log WHERE ts > ?2 AND ts <= ?1 AND priority > 3 "
     "ORDER BY priority, ts, seq LIMIT 24",
     row_event},
    {RV_EXITS,
     "SELECT comm, count(*) FROM process_exits WHERE ts > ?2 AND ts <= ?1 GROUP BY comm "
     "ORDER BY count(*) DESC, sum(cpu_ms) DESC",
     row_ended},
};

void rp_tick_free(struct rp_tick *t)
{
	free(t->groups.rows);
	free(t->services.rows);
	free(t->procs.rows);
	memset(t, 0, sizeof(*t));
}

int rp_load(struct rp_source *s, int64_t ts, struct rp_tick *t, struct err *e)
{
	rp_tick_free(t);
	if (pin_at(s, ts, e))
		return -1;
	t->ts = ts;
	t->tier = read_plan_tier_at(&s->q.plan, ts);
	t->dur_ms = first_int(s, "SELECT dur_ms FROM agent_health WHERE ts = ?1", ts, 0);
	if (t->dur_ms <= 0)
		t->dur_ms = tier_bucket_s[t->tier] ? tier_bucket_s[t->tier] * 1000 : 1000;
	int64_t lo = t->lo = span_lo(t);
	for (int v = 0; v < RV_NVIEWS; v++)
		snprintf(t->note[v], sizeof(t->note[v]), "%s", s->note[v]);
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		if (s->ready[parts[i].view] &&
		    each_row(s, parts[i].sql, ts, lo, t->dur_ms, parts[i].row, t, e))
			return -1;
	if (s->ready[RV_EXECS])
		t->execs = first_int(s,
				     "SELECT count(*) FROM exec_log WHERE ts > ?2 AND ts <= ?1 "
				     "AND ret >= 0",
				     ts, lo);
	return 0;
}

/* The first (newest: last) tick of the plan in [lo, hi], any tier. */
static int64_t edge(struct rp_source *s, int64_t lo, int64_t hi, int newest)
{
	if (lo > hi)
		return -1;
	return qdb_edge_ts(&s->q, "agent_health", lo, hi, newest);
}

int64_t rp_settle(struct rp_source *s, int64_t ts)
{
	int64_t t = edge(s, ts, TS_MAX, 0);
	return t >= 0 ? t : edge(s, 0, ts, 1);
}

int64_t rp_step(struct rp_source *s, int64_t ts, int dir)
{
	return dir > 0 ? edge(s, ts + 1, TS_MAX, 0) : edge(s, 0, ts - 1, 1);
}

int64_t rp_newest(struct rp_source *s)
{
	return edge(s, 0, TS_MAX, 1);
}

int rp_open(struct rp_source *s, const struct qopts *o, int tier, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (qdb_open(&s->q, o, e))
		return -1;
	s->tier = tier;
	s->q.uses = rp_uses;
	for (int v = 0; v < RV_NVIEWS; v++) {
		enum view_state st =
		    view_state(&s->q, rp_view_names[v], s->note[v], sizeof(s->note[v]));
		s->ready[v] = st == VIEW_READY;
		if (st == VIEW_UNKNOWN)
			snprintf(s->note[v], sizeof(s->note[v]), "no such view");
	}
	if (!s->ready[RV_AGENT]) {
		qdb_close(&s->q);
		return err_set(e, "this database has no agent_health view: is it a hindsight "
				  "database?");
	}
	sqlite3_stmt *st;
	if (qdb_prepare(&s->q, "SELECT value FROM host_inventory WHERE key = 'host.hostname'", &st,
			e) == 0) {
		qdb_arm(&s->q);
		if (sqlite3_step(st) == SQLITE_ROW)
			text_col(st, 0, s->host, sizeof(s->host));
		sqlite3_finalize(st);
	}
	if (rp_replan(s, e)) {
		qdb_close(&s->q);
		return -1;
	}
	return 0;
}

void rp_close(struct rp_source *s)
{
	qdb_close(&s->q);
}
