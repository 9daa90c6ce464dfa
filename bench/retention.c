/* bench_retention: what the tiers cost on disk and how pruning treats the
 * tick. Generates N days of 10 s history for G groups (the sim_group table),
 * rolls it up, measures bytes per row with dbstat and the file with stat,
 * extrapolates 7 d raw + 90 d 1 min + 2 y 1 h, then prunes the oldest day
 * of raw rows from the same libevent timer arrangement the daemon uses while
 * a tick timer keeps writing, and reports how late the ticks ran.
 *
 *   bench_retention [--days 30] [--groups 200] [--dir DIR] [--tick-ms 100]
 */
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simulate.h"
#include "store/tiers.h"

struct bench {
	struct store s;
	struct tiers t;
	struct sim *m;
	struct retention_limits l;
	struct event_base *base;
	struct event *tick_ev, *ret_ev;
	int64_t period_us, due_us;
	int64_t ticks, max_late_us, sum_late_us;
	int64_t max_call_us, prune_from;
	int prune; /* retention timer armed */
	int64_t target_ts;
};

static int64_t q(struct store *s, const char *sql)
{
	return store_query_int(s, sql, -1);
}

static int64_t table_bytes(struct store *s, const char *name)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT sum(pgsize) FROM dbstat WHERE name='%s'", name);
	return q(s, sql);
}

static int64_t disk(const char *path)
{
	struct stat st;
	char wal[4200];
	int64_t n = stat(path, &st) == 0 ? st.st_size : 0;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return n + (stat(wal, &st) == 0 ? st.st_size : 0);
}

static void arm(struct event *ev, int64_t us)
{
	/* libevent adds the delay to the time cached when the callback began */
	event_base_update_cache_time(event_get_base(ev));
	struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
	evtimer_add(ev, &tv);
}

/* A tick like the daemon's: one transaction of one row per group. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	int64_t now = clock_mono_us();
	int64_t late = now - b->due_us;
	b->max_late_us = late > b->max_late_us ? late : b->max_late_us;
	b->sum_late_us += late;
	b->ticks++;
	struct err e;
	if (sim_write_until(b->m, &b->s, b->m->next_ts + 1, &e))
		fprintf(stderr, "tick: %s\n", e.msg);
	b->due_us += b->period_us;
	while (b->due_us < clock_mono_us())
		b->due_us += b->period_us; /* missed grid points are skipped, as in the daemon */
	arm(b->tick_ev, b->due_us - clock_mono_us());
	if (!b->prune && b->ticks >= 100)
		event_base_loopbreak(b->base);
}

static void on_retention(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	struct err e;
	int more = 0;
	int64_t t0 = clock_mono_us();
	if (tiers_run(&b->t, &b->l, b->m->next_ts - 10, 3000, &more, &e))
		fprintf(stderr, "retention: %s\n", e.msg);
	int64_t took = clock_mono_us() - t0;
	static int calls;
	if (getenv("BENCH_DEBUG") && ++calls % 20 == 0)
		fprintf(stderr,
			"retention call %d: more=%d wal=%lld file=%lld ckpt_runs=%lld asked=%lld "
			"removed=%lld\n",
			calls, more, (long long)(tiers_file_bytes(&b->t)),
			(long long)disk(sqlite3_db_filename(b->s.db, "main")),
			b->t.ckpt ? (long long)checkpointer_runs(b->t.ckpt) : -1LL,
			(long long)b->t.ckpt_asked, (long long)b->t.stats.removed_rows);
	b->max_call_us = took > b->max_call_us ? took : b->max_call_us;
	if (b->prune && !more && q(&b->s, "SELECT min(ts) FROM sim_group") > b->target_ts) {
		event_base_loopbreak(b->base);
		return;
	}
	arm(b->ret_ev, more ? 20000 : 1000000);
}

static void run_loop(struct bench *b, int prune)
{
	b->prune = prune;
	b->ticks = b->max_late_us = b->sum_late_us = 0;
	b->due_us = clock_mono_us() + b->period_us;
	arm(b->tick_ev, b->period_us);
	arm(b->ret_ev, 1000);
	event_base_dispatch(b->base);
	evtimer_del(b->tick_ev);
	evtimer_del(b->ret_ev);
}

int main(int argc, char **argv)
{
	int days = 30, groups = 200, tick_ms = 100;
	const char *dir = "/tmp";
	static const struct option opts[] = {
	    {"days", required_argument, 0, 'n'},
	    {"groups", required_argument, 0, 'g'},
	    {"dir", required_argument, 0, 'd'},
	    {"tick-ms", required_argument, 0, 't'},
	    {0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			days = atoi(optarg);
			break;
		case 'g':
			groups = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			tick_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (days < 2) {
		fprintf(stderr, "bench_retention: --days must be at least 2\n");
		return 2;
	}
	log_set_level(getenv("BENCH_DEBUG") ? LOG_DEBUG : LOG_WARN);
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench_retention.db", dir);
	unlink(path);
	struct bench *b = calloc(1, sizeof(*b));
	b->m = calloc(1, sizeof(*b->m));
	struct err e;
	int64_t start = 1700000003, end = start + (int64_t)days * 86400;
	if (store_open(&b->s, path, 0, &e) || store_migrate(&b->s, &e) ||
	    sim_open(b->m, &b->s, groups, 10, start, &e))
		goto fail;

	int64_t t0 = clock_mono_us();
	if (sim_write_until(b->m, &b->s, end, &e))
		goto fail;
	double gen_s = (clock_mono_us() - t0) / 1e6;
	if (tiers_open(&b->t, &b->s, &e))
		goto fail;
	struct retention_limits keep = {0};
	int more = 1;
	b->t.unit_budget_us = 500000;
	t0 = clock_mono_us();
	while (more)
		if (tiers_run(&b->t, &keep, end - 10, 10000000, &more, &e))
			goto fail;
	double roll_s = (clock_mono_us() - t0) / 1e6;
	/* From here on the daemon's pacing: 2 ms units from their first size. */
	b->t.unit_budget_us = 2000;
	b->t.chunk_rows = 2000;
	b->t.chunk_buckets[TIER_1M] = 10;
	b->t.chunk_buckets[TIER_1H] = 1;
	b->t.vacuum_pages = 64;

	int64_t raw_rows = q(&b->s, "SELECT count(*) FROM sim_group");
	int64_t m_rows = q(&b->s, "SELECT count(*) FROM sim_group_1m");
	int64_t h_rows = q(&b->s, "SELECT count(*) FROM sim_group_1h");
	double raw_b = (double)table_bytes(&b->s, "sim_group") / raw_rows;
	double m_b = (double)table_bytes(&b->s, "sim_group_1m") / m_rows;
	double h_b = (double)table_bytes(&b->s, "sim_group_1h") / h_rows;
	int64_t file_full = disk(path);

	/* The figure asked for, from the measured costs per row. */
	double ext_raw = 7.0 * 8640 * 200 * raw_b, ext_m = 90.0 * 1440 * 200 * m_b,
	       ext_h = 730.0 * 24 * 200 * h_b;

	/* Ticks alone, then ticks while the oldest day of raw rows is pruned. */
	b->period_us = tick_ms * 1000;
	/* A precise clock, or timers fire up to a jiffy early and late. */
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	b->base = event_base_new_with_config(ec);
	event_config_free(ec);
	b->tick_ev = evtimer_new(b->base, on_tick, b);
	b->ret_ev = evtimer_new(b->base, on_retention, b);
	b->l = keep;
	run_loop(b, 0); /* rolling up as the ticks come, nothing to prune */
	int64_t base_max = b->max_late_us, base_avg = b->ticks ? b->sum_late_us / b->ticks : 0;
	b->l = keep;
	b->target_ts = start + 86400;
	b->l.max_age_s[TIER_RAW] = (b->m->next_ts - 10) - b->target_ts;
	if (tiers_configure(&b->t, &b->l, &e) || tiers_background_checkpoints(&b->t, &e))
		goto fail;
	int64_t removed0 = b->t.stats.removed_rows;
	b->t.slowest_us = 0;
	t0 = clock_mono_us();
	run_loop(b, 1);
	double prune_s = (clock_mono_us() - t0) / 1e6;
	int64_t removed = b->t.stats.removed_rows - removed0;
	double days_removed = (double)removed / (8640.0 * groups);
	int64_t file_after = disk(path);

	printf("retention bench: %d days x %d groups at 10 s (sim_group: 8 values per row besides "
	       "ts and group_id), %s\n\n",
	       days, groups, path);
	printf("| %-52s | %18s |\n", "figure", "value");
	printf("|%s|%s|\n", "------------------------------------------------------",
	       "--------------------");
#define ROW(name, fmt, ...) printf("| %-52s | " fmt " |\n", name, __VA_ARGS__)
	ROW("generate raw rows", "%9.1f s %6.0fk/s", gen_s, raw_rows / gen_s / 1000);
	ROW("roll up all of it (1m and 1h)", "%16.1f s", roll_s);
	ROW("raw rows", "%18lld", (long long)raw_rows);
	ROW("raw: bytes on disk per group row (dbstat)", "%18.2f", raw_b);
	ROW("raw: bytes per stored value (8 per row)", "%18.2f", raw_b / SIM_VALUES_PER_ROW);
	ROW("raw: bytes per stored value counting ts and key (10)", "%18.2f", raw_b / 10);
	ROW("raw: bytes per tick (all groups)", "%18.0f", raw_b * groups);
	ROW("1m: bytes per group row (16 values)", "%18.2f", m_b);
	ROW("1h: bytes per group row (16 values)", "%18.2f", h_b);
	ROW("file after generating and rolling (stat)", "%15.1f MiB", file_full / 1048576.0);
	ROW("extrapolated 7d raw, 200 groups", "%15.1f MiB", ext_raw / 1048576.0);
	ROW("extrapolated 90d 1m, 200 groups", "%15.1f MiB", ext_m / 1048576.0);
	ROW("extrapolated 2y 1h, 200 groups", "%15.1f MiB", ext_h / 1048576.0);
	ROW("extrapolated total (group rows only)", "%15.1f MiB",
	    (ext_raw + ext_m + ext_h) / 1048576.0);
	ROW("prune: raw rows removed", "%18lld", (long long)removed);
	ROW("prune: days of raw removed", "%18.2f", days_removed);
	ROW("prune: wall time incl. vacuum and checkpoint", "%16.2f s", prune_s);
	ROW("prune: wall time per day of raw", "%16.2f s",
	    days_removed > 0 ? prune_s / days_removed : 0);
	ROW("prune: longest single timer callback", "%15.2f ms", b->max_call_us / 1000.0);
	ROW("prune: slowest unit of work", "%15.2f ms", b->t.slowest_us / 1000.0);
	ROW("prune: slowest unit was a", "%18s", b->t.slowest_kind ? b->t.slowest_kind : "-");
	ROW("prune: ticks written meanwhile", "%18lld", (long long)b->ticks);
	ROW("prune: longest tick delay", "%15.2f ms", b->max_late_us / 1000.0);
	ROW("prune: average tick delay", "%15.2f ms",
	    b->sum_late_us / 1000.0 / (b->ticks ? b->ticks : 1));
	ROW("no pruning (rollups only): longest tick delay", "%15.2f ms", base_max / 1000.0);
	ROW("no pruning: average tick delay", "%15.2f ms", base_avg / 1000.0);
	ROW("file after pruning (stat)", "%15.1f MiB", file_after / 1048576.0);
	printf("\nTick every %d ms (a 10 s tick's work, faster, to see many of them).\n", tick_ms);
	event_free(b->tick_ev);
	event_free(b->ret_ev);
	event_base_free(b->base);
	tiers_close(&b->t);
	store_close(&b->s);
	unlink(path);
	return 0;
fail:
	fprintf(stderr, "bench_retention: %s\n", e.msg);
	return 1;
}
