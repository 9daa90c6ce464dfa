/* The history iterator as remote write uses it: a follower (until =
 * INT64_MAX, metric_history_follow: a tick once the next is stored) asked
 * again as ticks commit. The 1-hour tier holds a row for the hour still
 * being filled, dated at the hour's end, in the future: the follower must
 * still yield every tick stored before it. */
#include "testutil.h"

#include "metrics/history.h"
#include "store/tiers.h"

static char *dir;
static char path[4200];
static struct store st;
static struct tiers tiers;

static int setup(void **state)
{
	struct err e;
	dir = temp_dir();
	snprintf(path, sizeof(path), "%s/h.db", dir);
	if (store_open(&st, path, 0, &e) || store_migrate(&st, &e) || tiers_open(&tiers, &st, &e))
		fail_msg("store: %s", e.msg);
	return 0;
}

static int teardown(void **state)
{
	tiers_close(&tiers);
	store_close(&st);
	rm_rf(dir);
	free(dir);
	return 0;
}

static void add_tick(int64_t ts)
{
	struct err e;
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO agent(ts, dur_ms, tick_wall_us, tick_cpu_us, last_commit_us, rss_kb, "
		 "rows_count, vanished_count, permission_errors_count, read_errors_count, "
		 "parse_errors_count, commit_failures_count, clock_held_s) "
		 "VALUES (%lld, 1000, 1, 1, 1, %lld, 1, 0, 0, 0, 0, 0, 0)",
		 (long long)ts, (long long)ts % 1000);
	if (store_exec(&st, sql, &e))
		fail_msg("%s", e.msg);
}

/* Every tick after since, in order, then 0 (none yet). */
static void expect_ticks(struct metric_history *h, int64_t from, int64_t to)
{
	struct err e;
	int64_t ts;
	for (int64_t want = from; want <= to; want++) {
		int rc = metric_history_next(h, &ts, &e);
		if (rc != 1 || ts != want)
			fail_msg("wanted tick %lld, got %d (ts %lld)", (long long)want, rc,
				 rc == 1 ? (long long)ts : 0LL);
	}
	assert_int_equal(metric_history_next(h, &ts, &e), 0);
}

static void follows_past_a_partial_hour(void **state)
{
	struct err e;
	struct metric_history *h;
	const int64_t hour = 1796400000; /* a multiple of 3600 */
	for (int64_t t = hour + 60; t <= hour + 70; t++)
		add_tick(t);
	/* the hour still being filled, as the rollup writes it */
	char sql[128];
	snprintf(sql, sizeof(sql), "INSERT INTO agent_1h(ts, samples_count) VALUES (%lld, 11)",
		 (long long)(hour + 3600));
	assert_int_equal(store_exec(&st, sql, &e), 0);

	sqlite3 *ro;
	assert_int_equal(sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (metric_history_open(&h, ro, hour + 60, INT64_MAX, NULL, 0, &e))
		fail_msg("%s", e.msg);
	metric_history_follow(h);
	expect_ticks(h, hour + 61, hour + 69);
	/* ticks committed later come next, not after the hour's end */
	add_tick(hour + 71);
	add_tick(hour + 72);
	expect_ticks(h, hour + 70, hour + 71);
	assert_int_equal(metric_history_pause(h, &e), 0);
	add_tick(hour + 73);
	expect_ticks(h, hour + 72, hour + 72);
	metric_history_close(h);
	sqlite3_close(ro);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(follows_past_a_partial_hour, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
