/* The history iterator (metrics/history.h) on a real migrated database:
 * ticks in order, counters from the range's start, gauges from before it,
 * the tiers, a follower seeing new ticks and new devices, pausing, and the
 * names that select families. */
#include "testutil.h"

#include <math.h>

#include "metrics/history.h"
#include "store/store.h"
#include "store/tiers.h"

static char *dir;
static struct store st;

static void sql(const char *text)
{
	struct err e;
	if (store_exec(&st, text, &e))
		fail_msg("%s", e.msg);
}

static int setup(void **state)
{
	struct err e;
	char path[4200];
	dir = temp_dir();
	snprintf(path, sizeof(path), "%s/h.db", dir);
	assert_int_equal(store_open(&st, path, 0, &e), 0);
	assert_int_equal(store_migrate(&st, &e), 0);
	if (tiers_sync_schema(&st, &e))
		fail_msg("%s", e.msg);
	return 0;
}

static int teardown(void **state)
{
	store_close(&st);
	rm_rf(dir);
	free(dir);
	return 0;
}

/* cpu 0's row of a tick: only user_ms and idle_ms count. */
static void cpu_row(int64_t ts, int user_ms, int idle_ms)
{
	char text[256];
	snprintf(text, sizeof(text),
		 "INSERT INTO cpu VALUES (%lld, 0, 1000, %d, 0, 0, %d, 0, 0, 0, 0, 0, 0)",
		 (long long)ts, user_ms, idle_ms);
	sql(text);
}

/* What a tick showed of one series: family and labels as rendered. */
struct probe {
	const char *family, *labels;
	double value;
	int64_t zero_ts;
	int found, samples;
	int only_family; /* every sample was of `family` */
};

static int probe_one(void *arg, const struct history_sample *s)
{
	struct probe *p = arg;
	p->samples++;
	if (strcmp(s->fam->name, p->family))
		p->only_family = 0;
	if (!strcmp(s->fam->name, p->family) && !strcmp(s->labels, p->labels)) {
		p->found = 1;
		p->value = s->value;
		p->zero_ts = s->zero_ts;
	}
	return 0;
}

/* Advances one tick, which must be at `want`, and reads one series. */
static struct probe next_tick(struct metric_history *h, int64_t want, const char *family,
			      const char *labels)
{
	struct err e;
	int64_t ts = 0;
	struct probe p = {family, labels, 0, 0, 0, 0, 1};
	int rc = metric_history_next(h, &ts, &e);
	if (rc < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(rc, 1);
	assert_int_equal(ts, want);
	metric_history_samples(h, probe_one, &p);
	return p;
}

static void at_end(struct metric_history *h)
{
	struct err e;
	int64_t ts;
	assert_int_equal(metric_history_next(h, &ts, &e), 0);
}

/* Counters count from the range's start; a gauge stored before it (within
 * the lookback) shows from the first tick; state before it holds. */
static void counters_from_the_start(void **state)
{
	struct err e;
	struct metric_history *h;
	sql("INSERT INTO loadavg VALUES (5, 150, 100, 50, 1, 100)");
	for (int ts = 10; ts <= 13; ts++)
		cpu_row(ts, 100 * ts, 5);
	assert_int_equal(metric_history_open(&h, st.db, 11, INT64_MAX, NULL, 0, &e), 0);
	struct probe p = next_tick(h, 12, "node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"");
	assert_true(p.found && fabs(p.value - 1.2) < 1e-12);
	p = next_tick(h, 13, "node_load1", "");
	assert_true(p.found && fabs(p.value - 1.5) < 1e-12);
	at_end(h);
	metric_history_close(h);
	/* a gauge older than the lookback is not shown until it changes */
	cpu_row(5 + HISTORY_LOOKBACK_S + 20, 10, 0);
	assert_int_equal(
	    metric_history_open(&h, st.db, 5 + HISTORY_LOOKBACK_S + 10, INT64_MAX, NULL, 0, &e), 0);
	p = next_tick(h, 5 + HISTORY_LOOKBACK_S + 20, "node_load1", "");
	assert_false(p.found);
	at_end(h);
	metric_history_close(h);
}

/* Past the newest tick, next() says 0; ticks committed later come, with
 * devices added meanwhile. Pausing between ticks loses and repeats none. */
static void follower_and_pause(void **state)
{
	struct err e;
	struct metric_history *h;
	cpu_row(10, 10, 0);
	assert_int_equal(metric_history_open(&h, st.db, 0, INT64_MAX, NULL, 0, &e), 0);
	struct probe p = next_tick(h, 10, "node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"");
	assert_true(p.found && fabs(p.value - 0.01) < 1e-12);
	assert_true(p.zero_ts == INT64_MIN); /* there from the first tick */
	at_end(h);
	sql("BEGIN");
	cpu_row(11, 20, 0);
	sql("INSERT INTO net_interface(id, name) VALUES (7, 'eth9');"
	    "INSERT INTO net VALUES (11, 7, 1000, 1500, 2, 0,0,0,0,0,0, 700, 1, 0,0,0,0,0,0)");
	sql("COMMIT");
	cpu_row(12, 30, 0);
	cpu_row(13, 40, 0);
	p = next_tick(h, 11, "node_network_receive_bytes_total", "device=\"eth9\"");
	assert_true(p.found && p.value == 1500);
	assert_int_equal(p.zero_ts, 10); /* appeared: 0 at the tick before */
	assert_int_equal(metric_history_pause(h, &e), 0);
	p = next_tick(h, 12, "node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"");
	assert_true(p.found && fabs(p.value - 0.06) < 1e-12);
	assert_true(p.zero_ts == INT64_MIN);
	p = next_tick(h, 13, "node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"");
	assert_true(p.found && fabs(p.value - 0.1) < 1e-12);
	at_end(h);
	metric_history_close(h);
}

/* An exit stored with its own time, between two ticks, is counted at the
 * later tick: the ticks are the time series', not the events'. */
static void events_fold_into_ticks(void **state)
{
	struct err e;
	struct metric_history *h;
	cpu_row(10, 10, 0);
	cpu_row(20, 10, 0);
	sql("INSERT INTO process_exit VALUES (15, 0, 42, 1, 0, 0, 'x', 0, 0, NULL, 0, 0, 0, 0, 0, "
	    "0, "
	    "0, 0, 0, 0, 0, 0)");
	assert_int_equal(metric_history_open(&h, st.db, 0, INT64_MAX, NULL, 0, &e), 0);
	struct probe p = next_tick(h, 10, "hindsight_process_exits_total", "");
	assert_false(p.found);
	p = next_tick(h, 20, "hindsight_process_exits_total", "");
	assert_true(p.found && p.value == 1);
	assert_int_equal(p.zero_ts, 10);
	at_end(h);
	metric_history_close(h);
	/* alone, the events' times are the ticks */
	const char *exits[] = {"hindsight_process_exits_total"};
	assert_int_equal(metric_history_open(&h, st.db, 0, INT64_MAX, exits, 1, &e), 0);
	p = next_tick(h, 15, "hindsight_process_exits_total", "");
	assert_true(p.found && p.value == 1);
	at_end(h);
	metric_history_close(h);
}

/* Following a running daemon: a tick waits for the next one, which
 * commits the exits stamped before it. */
static void follow_waits_a_tick(void **state)
{
	struct err e;
	struct metric_history *h;
	const char *exits = "INSERT INTO process_exit VALUES (%d, 0, %d, 1, 0, 0, 'x', 0, 0, "
			    "NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)";
	char text[256];
	cpu_row(10, 10, 0);
	cpu_row(11, 10, 0);
	assert_int_equal(metric_history_open(&h, st.db, 0, INT64_MAX, NULL, 0, &e), 0);
	metric_history_follow(h);
	struct probe p = next_tick(h, 10, "hindsight_process_exits_total", "");
	assert_false(p.found);
	at_end(h);
	/* tick 12 stores an exit that happened at 11 */
	sql("BEGIN");
	cpu_row(12, 10, 0);
	snprintf(text, sizeof(text), exits, 11, 42);
	sql(text);
	sql("COMMIT");
	p = next_tick(h, 11, "hindsight_process_exits_total", "");
	assert_true(p.found && p.value == 1);
	at_end(h);
	metric_history_close(h);
}

/* Where raw rows were pruned, 1-minute rollup rows stand in (their ts is
 * the minute's end, their counters its sums, their ticks samples_count);
 * raw rows after them. until bounds the range. */
static void rollups_where_raw_is_pruned(void **state)
{
	struct err e;
	struct metric_history *h;
	sql("INSERT INTO cpu_1m(ts, cpu_id, samples_count, dur_ms, user_ms, nice_ms, system_ms, "
	    "idle_ms, iowait_ms, irq_ms, softirq_ms, steal_ms, guest_ms, guest_nice_ms) VALUES "
	    "(60, 0, 6, 6000, 600, 0, 0, 0, 0, 0, 0, 0, 0, 0),"
	    "(120, 0, 6, 6000, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0)");
	sql("INSERT INTO agent_1m(ts, samples_count) VALUES (60, 6), (120, 6)");
	sql("INSERT OR REPLACE INTO prune_state(scope, pruned_ts) VALUES ('raw', 60)");
	for (int ts = 70; ts <= 120; ts += 10)
		cpu_row(ts, 10, 0);
	cpu_row(130, 10, 0);
	assert_int_equal(metric_history_open(&h, st.db, 0, 120, NULL, 0, &e), 0);
	struct probe p = next_tick(h, 60, "node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"");
	assert_true(p.found && fabs(p.value - 0.6) < 1e-12);
	metric_history_close(h);
	assert_int_equal(metric_history_open(&h, st.db, 0, 120, NULL, 0, &e), 0);
	p = next_tick(h, 60, "hindsight_ticks_total", "");
	assert_true(p.found && p.value == 6);
	for (int ts = 70; ts <= 120; ts += 10) {
		p = next_tick(h, ts, "node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"");
		assert_true(p.found && fabs(p.value - (0.6 + 0.01 * (ts - 60) / 10)) < 1e-12);
	}
	at_end(h);
	metric_history_close(h);
}

/* Names pick families: a family, a table; an unknown name is an error
 * naming it; an empty range is refused. */
/* A cgroup's series end with its row (gone_ts), at the tick that found it
 * gone, as they left /metrics then; an idle one's go on. A range starting
 * after the end never shows it. */
static void gone_cgroups_end(void **state)
{
	struct err e;
	struct metric_history *h;
	sql("INSERT INTO cgroup(id, inode, path, kind, name, container_name, first_seen_ts, "
	    "gone_ts) VALUES (1, 101, '/a', 'container', 'a', 'a', 10, 12),"
	    "(2, 102, '/b', 'container', 'b', 'b', 10, NULL)");
	for (int ts = 10; ts <= 13; ts++)
		cpu_row(ts, 10, 5);
	sql("INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) VALUES "
	    "(10, 1, 1000, 1000), (10, 2, 1000, 1000), (11, 1, 1000, 1000)");
	const char *fam = "container_cpu_usage_seconds_total";
	const char *a = "cpu=\"total\",id=\"/a\",image=\"\",name=\"a\"";
	const char *b = "cpu=\"total\",id=\"/b\",image=\"\",name=\"b\"";
	assert_int_equal(metric_history_open(&h, st.db, 9, INT64_MAX, NULL, 0, &e), 0);
	assert_true(next_tick(h, 10, fam, a).found);
	struct probe p = next_tick(h, 11, fam, a);
	assert_true(p.found && fabs(p.value - 0.002) < 1e-12);
	assert_false(next_tick(h, 12, fam, a).found);
	assert_false(next_tick(h, 13, fam, a).found);
	metric_history_close(h);
	assert_int_equal(metric_history_open(&h, st.db, 9, INT64_MAX, NULL, 0, &e), 0);
	next_tick(h, 10, fam, b);
	next_tick(h, 11, fam, b);
	assert_true(next_tick(h, 12, fam, b).found);
	assert_true(next_tick(h, 13, fam, b).found);
	metric_history_close(h);
	assert_int_equal(metric_history_open(&h, st.db, 12, INT64_MAX, NULL, 0, &e), 0);
	assert_false(next_tick(h, 13, fam, a).found);
	metric_history_close(h);
}

static void names_select(void **state)
{
	struct err e;
	struct metric_history *h;
	cpu_row(10, 10, 0);
	sql("INSERT INTO loadavg VALUES (10, 150, 100, 50, 1, 100)");
	const char *one[] = {"node_load1"};
	assert_int_equal(metric_history_open(&h, st.db, 0, INT64_MAX, one, 1, &e), 0);
	struct probe p = next_tick(h, 10, "node_load1", "");
	assert_true(p.found && p.only_family && p.samples == 1);
	metric_history_close(h);
	const char *table[] = {"cpu"};
	assert_int_equal(metric_history_open(&h, st.db, 0, INT64_MAX, table, 1, &e), 0);
	p = next_tick(h, 10, "node_load1", "");
	assert_false(p.found);
	assert_true(p.samples >= 8);
	metric_history_close(h);
	const char *bad[] = {"node_cpu_seconds_total", "nope_total"};
	expect_error_at(metric_history_open(&h, st.db, 0, INT64_MAX, bad, 2, &e), &e,
			"nope_total: no such metric family, table or view", __LINE__);
	expect_error_at(metric_history_open(&h, st.db, 10, 10, NULL, 0, &e), &e,
			"the range is empty", __LINE__);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(counters_from_the_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(follower_and_pause, setup, teardown),
	    cmocka_unit_test_setup_teardown(events_fold_into_ticks, setup, teardown),
	    cmocka_unit_test_setup_teardown(follow_waits_a_tick, setup, teardown),
	    cmocka_unit_test_setup_teardown(rollups_where_raw_is_pruned, setup, teardown),
	    cmocka_unit_test_setup_teardown(names_select, setup, teardown),
	    cmocka_unit_test_setup_teardown(gone_cgroups_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
