/* Retention tiers on real SQLite files filled by the generator: rollups are
 * exact (1h from 1m equals 1h from raw), rolling resumes after a restart
 * without double counting, pruning honours the age limits and the size cap
 * (measured with stat), and readers can pin the tiers they read. */
#include "testutil.h"

#include <sys/stat.h>

#include "daemon/config.h"
#include "simulate.h"
#include "store/tiers.h"

#define START 1700000003 /* deliberately not on a bucket edge */
#define DAY   86400

struct fx {
	char *dir;
	char path[4200];
	struct store s;
	struct tiers t;
	struct sim m;
	struct retention_limits keep_all;
};

static int64_t qi(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t qi(struct store *s, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare: %s: %s", sqlite3_errmsg(s->db), sql);
	int64_t v = INT64_MIN;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void open_db(struct fx *f)
{
	struct err e;
	if (store_open(&f->s, f->path, 0, &e) || store_migrate(&f->s, &e))
		fail_msg("%s", e.msg);
}

static void open_tiers(struct fx *f)
{
	struct err e;
	if (tiers_open(&f->t, &f->s, &e))
		fail_msg("tiers_open: %s", e.msg);
}

static void run_all(struct fx *f, const struct retention_limits *l, int64_t now)
{
	struct err e;
	int more = 1;
	f->t.unit_budget_us = 200000; /* big units: the tests want the result, not the pacing */
	while (more)
		if (tiers_run(&f->t, l, now, 1000000, &more, &e))
			fail_msg("tiers_run: %s", e.msg);
}

/* A fixture with `days` of history for `groups` groups and a one-hour gap. */
static struct fx *fx_new(int days, int groups)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e;
	f->dir = temp_dir();
	snprintf(f->path, sizeof(f->path), "%s/h.db", f->dir);
	open_db(f);
	if (sim_open(&f->m, &f->s, groups, 10, START, &e))
		fail_msg("%s", e.msg);
	f->m.gap_from = START + 10 * 3600 + 1234;
	f->m.gap_to = f->m.gap_from + 3600;
	if (sim_write_until(&f->m, &f->s, START + (int64_t)days * DAY, &e))
		fail_msg("%s", e.msg);
	open_tiers(f);
	return f;
}

static void fx_free(struct fx *f)
{
	tiers_close(&f->t);
	store_close(&f->s);
	rm_rf(f->dir);
	free(f->dir);
	free(f);
}

static const char raw_as_1h[] =
    "SELECT (ts + 3599) / 3600 * 3600, group_id, count(*), sum(dur_ms), sum(user_ms), "
    "sum(system_ms), sum(read_bytes), sum(write_bytes), sum(rss_kb), count(rss_kb), "
    "min(rss_kb), max(rss_kb), sum(procs_count), count(procs_count), sum(threads_count), "
    "count(threads_count), min(threads_count), max(threads_count) FROM sim_group "
    "WHERE ts <= %lld GROUP BY 1, 2";
static const char tier_cols[] =
    "SELECT ts, group_id, samples_count, dur_ms, user_ms, system_ms, read_bytes, write_bytes, "
    "sum_rss_kb, count_rss_kb, min_rss_kb, max_rss_kb, sum_procs_count, count_procs_count, "
    "sum_threads_count, count_threads_count, min_threads_count, max_threads_count FROM %s";

/* Rows in one set and not the other, both ways. */
static int64_t set_difference(struct store *s, const char *a, const char *b)
{
	return qi(
	    s,
	    "SELECT (SELECT count(*) FROM (%s EXCEPT %s)) + (SELECT count(*) FROM (%s EXCEPT %s))",
	    a, b, b, a);
}

static void rollups_are_exact(void **state)
{
	struct fx *f = fx_new(2, 20);
	int64_t now = START + 2 * DAY;
	run_all(f, &f->keep_all, now);
	struct store *s = &f->s;

	/* The generator wrote what it says it wrote. */
	assert_int_equal(qi(s, "SELECT count(*) FROM sim_group"), f->m.rows);
	assert_int_equal(qi(s, "SELECT sum(user_ms) FROM sim_group"), f->m.sum_user_ms);

	int64_t w1m =
	    qi(s, "SELECT rolled_ts FROM rollup_state WHERE table_name='sim_group' AND tier='1m'");
	int64_t w1h =
	    qi(s, "SELECT rolled_ts FROM rollup_state WHERE table_name='sim_group' AND tier='1h'");
	assert_int_equal(w1m, now / 60 * 60);
	assert_int_equal(w1h, w1m); /* the hour is folded in minute by minute */
	w1h = w1h / 3600 * 3600;    /* complete hours */

	/* 1h rolled from 1m is exactly 1h rolled straight from raw. */
	char a[2048], b[1024];
	snprintf(a, sizeof(a), raw_as_1h, (long long)w1h);
	snprintf(b, sizeof(b),
		 "SELECT ts, group_id, samples_count, dur_ms, user_ms, system_ms, "
		 "read_bytes, write_bytes, sum_rss_kb, count_rss_kb, min_rss_kb, max_rss_kb, "
		 "sum_procs_count, count_procs_count, sum_threads_count, count_threads_count, "
		 "min_threads_count, max_threads_count FROM sim_group_1h WHERE ts <= %lld",
		 (long long)w1h);
	assert_true(qi(s, "SELECT count(*) FROM sim_group_1h") > 40 * 20);
	assert_int_equal(set_difference(s, a, b), 0);
	/* and 1m is raw by minute */
	char a1m[2048];
	snprintf(
	    a1m, sizeof(a1m),
	    "SELECT (ts + 59) / 60 * 60, group_id, count(*), sum(dur_ms), sum(user_ms), "
	    "sum(system_ms), sum(read_bytes), sum(write_bytes), sum(rss_kb), count(rss_kb), "
	    "min(rss_kb), max(rss_kb), sum(procs_count), count(procs_count), sum(threads_count), "
	    "count(threads_count), min(threads_count), max(threads_count) FROM sim_group "
	    "WHERE ts <= %lld GROUP BY 1, 2",
	    (long long)w1m);
	snprintf(b, sizeof(b), tier_cols, "sim_group_1m");
	assert_int_equal(set_difference(s, a1m, b), 0);

	/* Sums, averages and peaks over arbitrary hour-aligned spans agree in
	 * all three tiers (a span (lo, hi] holds whole buckets of each). */
	uint64_t r = 12345;
	for (int i = 0; i < 40; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		int64_t lo = (START / 3600 + 1 + (int64_t)((r >> 33) % 40)) * 3600;
		int64_t hi = lo + 3600 * (1 + (int64_t)((r >> 20) % 8));
		if (hi > w1h)
			hi = w1h;
		const char *tabs[] = {"sim_group_1m", "sim_group_1h"};
		int64_t raw_sum = qi(s,
				     "SELECT sum(write_bytes) + sum(user_ms) FROM sim_group "
				     "WHERE ts > %lld AND ts <= %lld",
				     (long long)lo, (long long)hi);
		int64_t raw_rss =
		    qi(s, "SELECT sum(rss_kb) FROM sim_group WHERE ts > %lld AND ts <= %lld",
		       (long long)lo, (long long)hi);
		int64_t raw_n =
		    qi(s, "SELECT count(rss_kb) FROM sim_group WHERE ts > %lld AND ts <= %lld",
		       (long long)lo, (long long)hi);
		int64_t raw_max =
		    qi(s, "SELECT max(rss_kb) FROM sim_group WHERE ts > %lld AND ts <= %lld",
		       (long long)lo, (long long)hi);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(qi(s,
					    "SELECT sum(write_bytes) + sum(user_ms) FROM %s "
					    "WHERE ts > %lld AND ts <= %lld",
					    tabs[k], (long long)lo, (long long)hi),
					 raw_sum);
			assert_int_equal(
			    qi(s, "SELECT sum(sum_rss_kb) FROM %s WHERE ts > %lld AND ts <= %lld",
			       tabs[k], (long long)lo, (long long)hi),
			    raw_rss);
			assert_int_equal(
			    qi(s, "SELECT sum(count_rss_kb) FROM %s WHERE ts > %lld AND ts <= %lld",
			       tabs[k], (long long)lo, (long long)hi),
			    raw_n);
			assert_int_equal(
			    qi(s, "SELECT max(max_rss_kb) FROM %s WHERE ts > %lld AND ts <= %lld",
			       tabs[k], (long long)lo, (long long)hi),
			    raw_max);
		}
	}
	/* The overall peak survives both tiers. */
	assert_int_equal(qi(s, "SELECT max(max_rss_kb) FROM sim_group_1h"), f->m.max_rss_kb);
	assert_int_equal(qi(s, "SELECT min(min_rss_kb) FROM sim_group_1h"), f->m.min_rss_kb);
	/* Gaps show: the hour holding the gap covers less than an hour. */
	int64_t gap_bucket = (f->m.gap_from + 3599) / 3600 * 3600;
	assert_true(qi(s, "SELECT max(dur_ms) FROM sim_group_1h WHERE ts = %lld",
		       (long long)gap_bucket) < 3000 * 1000);
	assert_int_equal(qi(s, "SELECT count(*) FROM sim_group_1m WHERE ts > %lld AND ts <= %lld",
			    (long long)f->m.gap_from + 60, (long long)f->m.gap_to - 60),
			 0);
	fx_free(f);
}

/* Rolls as time passes, in small budgets, closing and reopening the file
 * several times; the result is identical to rolling once at the end. */
static void rollups_resume_after_restart(void **state)
{
	struct fx *once = fx_new(1, 5);
	int64_t end = START + DAY;
	run_all(once, &once->keep_all, end);

	struct fx *f = calloc(1, sizeof(*f));
	struct err e;
	f->dir = temp_dir();
	snprintf(f->path, sizeof(f->path), "%s/h.db", f->dir);
	open_db(f);
	assert_int_equal(sim_open(&f->m, &f->s, 5, 10, START, &e), 0);
	f->m.gap_from = once->m.gap_from;
	f->m.gap_to = once->m.gap_to;
	open_tiers(f);
	int restarts = 0;
	for (int64_t now = START + 10; now < end + 10; now += 377) {
		int64_t upto = now < end ? now : end - 1;
		assert_int_equal(sim_write_until(&f->m, &f->s, upto + 1, &e), 0);
		int more;
		f->t.unit_budget_us = 100;
		assert_int_equal(tiers_run(&f->t, &f->keep_all, upto, 200, &more, &e), 0);
		if ((now / 377) % 50 == 0) { /* a restart, with work possibly pending */
			tiers_close(&f->t);
			store_close(&f->s);
			open_db(f);
			assert_int_equal(sim_reattach(&f->m, &f->s, &e), 0);
			open_tiers(f);
			restarts++;
		}
	}
	assert_int_equal(sim_write_until(&f->m, &f->s, end, &e), 0);
	run_all(f, &f->keep_all, end);
	assert_true(restarts >= 3);
	assert_int_equal(f->m.rows, once->m.rows);

	char sql[4300];
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS once", once->path);
	assert_int_equal(store_exec(&f->s, sql, &e), 0);
	assert_true(qi(&f->s, "SELECT count(*) FROM sim_group_1m") > 1000);
	assert_int_equal(
	    set_difference(&f->s, "SELECT * FROM sim_group_1m", "SELECT * FROM once.sim_group_1m"),
	    0);
	assert_int_equal(
	    set_difference(&f->s, "SELECT * FROM sim_group_1h", "SELECT * FROM once.sim_group_1h"),
	    0);
	assert_int_equal(store_exec(&f->s, "DETACH once", &e), 0);
	fx_free(f);
	fx_free(once);
}

static void pruning_honours_ages(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e;
	f->dir = temp_dir();
	snprintf(f->path, sizeof(f->path), "%s/h.db", f->dir);
	open_db(f);
	assert_int_equal(sim_open(&f->m, &f->s, 20, 10, START, &e), 0);
	assert_int_equal(sim_write_until(&f->m, &f->s, START + 2 * DAY, &e), 0);
	/* An event log, declared as a new table's migration would. */
	assert_int_equal(
	    store_exec(&f->s,
		       "CREATE TABLE test_event (ts INTEGER NOT NULL, msg TEXT);"
		       "CREATE INDEX test_event_ts ON test_event(ts);"
		       "INSERT INTO event_table VALUES ('test_event', 'ts', 'test_log', 86400);"
		       "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
		       "WHERE i < 2879) INSERT INTO test_event SELECT 1700000003 + i * 60, "
		       "'m' || i FROM n;",
		       &e),
	    0);
	open_tiers(f);
	struct retention_limits l = {0};
	l.max_age_s[TIER_RAW] = 6 * 3600;
	l.max_age_s[TIER_1M] = DAY;
	l.nevents = 1;
	snprintf(l.events[0].key, sizeof(l.events[0].key), "test_log");
	l.events[0].max_age_s = 12 * 3600;
	assert_int_equal(tiers_configure(&f->t, &l, &e), 0);
	int64_t now = START + 2 * DAY;
	run_all(f, &l, now);
	struct store *s = &f->s;
	assert_int_equal(
	    qi(s, "SELECT count(*) FROM sim_group WHERE ts < %lld", (long long)now - 6 * 3600), 0);
	assert_int_equal(
	    qi(s, "SELECT count(*) FROM sim_group_1m WHERE ts < %lld", (long long)now - DAY), 0);
	assert_int_equal(
	    qi(s, "SELECT count(*) FROM test_event WHERE ts < %lld", (long long)now - 12 * 3600),
	    0);
	/* nothing younger than the limits went (boundaries round up by less than a bucket) */
	assert_true(qi(s, "SELECT min(ts) FROM sim_group") <= now - 6 * 3600 + 60);
	assert_true(qi(s, "SELECT min(ts) FROM sim_group_1m") <= now - DAY + 3600 + 60);
	assert_true(qi(s, "SELECT min(ts) FROM test_event") <= now - 12 * 3600 + 60);
	assert_true(qi(s, "SELECT min(ts) FROM sim_group_1h") <= START + 3600);
	/* The auto view stitches the tiers without a gap or an overlap: every
	 * total over the whole history is still exact. */
	assert_int_equal(qi(s, "SELECT sum(user_ms) FROM sim_group_auto"), f->m.sum_user_ms);
	assert_int_equal(qi(s, "SELECT sum(dur_ms) FROM sim_group_auto"), f->m.sum_dur_ms);
	assert_int_equal(qi(s, "SELECT sum(samples_count) FROM sim_group_auto"), f->m.rows);
	assert_int_equal(qi(s, "SELECT max(max_rss_kb) FROM sim_group_auto"), f->m.max_rss_kb);
	assert_int_equal(qi(s, "SELECT count(DISTINCT samples_count) > 2 FROM sim_group_auto"), 1);
	/* What was removed is on record. */
	assert_true(qi(s, "SELECT removed_count FROM prune_state WHERE scope='raw'") > 100000);
	assert_int_equal(qi(s, "SELECT removed_count FROM prune_state WHERE scope='test_event'"),
			 2880 - qi(s, "SELECT count(*) FROM test_event"));
	struct tiers_report rep;
	assert_int_equal(tiers_report(s->db, f->path, NULL, 0, &rep, &e), 0);
	assert_int_equal(rep.ntiers, NTIERS + qi(s, "SELECT count(*) FROM event_table"));
	assert_string_equal(rep.tiers[0].name, "raw");
	assert_int_equal(rep.tiers[0].rows, qi(s, "SELECT count(*) FROM sim_group"));
	assert_int_equal(rep.tiers[0].max_age_s, 6 * 3600);
	assert_int_equal(rep.tiers[0].oldest_ts, qi(s, "SELECT min(ts) FROM sim_group"));
	assert_true(rep.tiers[0].bytes > 0 && rep.tiers[1].bytes > 0 && rep.tiers[2].bytes > 0);
	const struct tier_report *ev = NULL;
	for (size_t i = NTIERS; i < rep.ntiers; i++)
		if (strcmp(rep.tiers[i].name, "test_event") == 0)
			ev = &rep.tiers[i];
	assert_non_null(ev);
	assert_int_equal(ev->max_age_s, 12 * 3600);
	assert_true(ev->last_prune_ts > 0);

	/* The coarsest tier has its limit too. */
	l.max_age_s[TIER_1H] = 36 * 3600;
	run_all(f, &l, now);
	assert_int_equal(
	    qi(s, "SELECT count(*) FROM sim_group_1h WHERE ts < %lld", (long long)now - 36 * 3600),
	    0);
	/* rounding up to an hour edge takes at most one hour row too many */
	assert_true(qi(s, "SELECT min(ts) FROM sim_group_1h") <= now - 36 * 3600 + 2 * 3600);
	fx_free(f);
}

/* Ages are judged by the daemon's trusted clock: not at all while it is
 * unsettled (a wall clock step not yet undone or accepted), from that clock
 * when it is behind the newest tick (ts held after a backward correction). A
 * delete is noted at the newest tick's time, not at a wall clock read then. */
static void age_pruning_follows_the_trusted_clock(void **state)
{
	struct fx *f = fx_new(2, 20);
	struct store *s = &f->s;
	struct err e;
	assert_int_equal(
	    store_exec(s,
		       "CREATE TABLE test_event (ts INTEGER NOT NULL, msg TEXT);"
		       "CREATE INDEX test_event_ts ON test_event(ts);"
		       "INSERT INTO event_table VALUES ('test_event', 'ts', 'test_log', 86400);"
		       "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
		       "WHERE i < 2879) INSERT INTO test_event SELECT 1700000003 + i * 60, "
		       "'m' || i FROM n;",
		       &e),
	    0);
	tiers_close(&f->t);
	open_tiers(f);
	struct retention_limits l = {0};
	l.max_age_s[TIER_RAW] = 6 * 3600;
	l.max_age_s[TIER_1M] = DAY;
	int64_t now = START + 2 * DAY; /* a jump far ahead of the history */
	int64_t raw = qi(s, "SELECT count(*) FROM sim_group");

	tiers_age_clock(&f->t, 0, 1);
	run_all(f, &l, now);
	assert_int_equal(qi(s, "SELECT count(*) FROM sim_group"), raw);
	assert_int_equal(qi(s, "SELECT count(*) FROM test_event"), 2880);
	assert_int_equal(qi(s, "SELECT sum(pruned_ts) FROM prune_state"), 0);
	assert_true(qi(s, "SELECT count(*) FROM sim_group_1m") > 0); /* rolling goes on */

	int64_t trusted = START + DAY + 7 * 3600;
	tiers_age_clock(&f->t, trusted, 0);
	run_all(f, &l, now);
	assert_int_equal(qi(s, "SELECT pruned_ts FROM prune_state WHERE scope='raw'"),
			 align_up(trusted - 6 * 3600, 60));
	assert_int_equal(
	    qi(s, "SELECT count(*) FROM sim_group WHERE ts > %lld", (long long)trusted - 6 * 3600),
	    qi(s, "SELECT count(*) FROM sim_group"));
	assert_true(qi(s, "SELECT min(ts) FROM sim_group") <= trusted - 6 * 3600 + 60);
	assert_true(qi(s, "SELECT min(ts) FROM test_event") <= trusted - DAY + 60);
	assert_true(qi(s, "SELECT min(ts) FROM test_event") > trusted - DAY);
	assert_int_equal(qi(s, "SELECT last_prune_ts FROM prune_state WHERE scope='raw'"), now);

	tiers_age_clock(&f->t, 0, 0);
	run_all(f, &l, now);
	assert_true(qi(s, "SELECT min(ts) FROM sim_group") > now - 6 * 3600);
	fx_free(f);
}

static int64_t disk_bytes(const char *path)
{
	struct stat st;
	char wal[4300];
	int64_t n = stat(path, &st) == 0 ? st.st_size : 0;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return n + (stat(wal, &st) == 0 ? st.st_size : 0);
}

static void size_cap_keeps_the_file_small(void **state)
{
	struct fx *f = fx_new(2, 20);
	int64_t now = START + 2 * DAY;
	struct err e;
	run_all(f, &f->keep_all, now); /* roll everything first: the file is at its largest */
	int64_t before = disk_bytes(f->path);
	int64_t rows_in_1h = qi(&f->s, "SELECT sum(samples_count) FROM sim_group_1h");
	struct retention_limits l = {0};
	l.max_db_bytes = 4 << 20;
	assert_true(before > l.max_db_bytes);
	assert_int_equal(tiers_configure(&f->t, &l, &e), 0);
	run_all(f, &l, now);
	int64_t after = disk_bytes(f->path);
	print_message("size cap: %lld bytes before, %lld after, cap %lld\n", (long long)before,
		      (long long)after, (long long)l.max_db_bytes);
	assert_true(after <= l.max_db_bytes);
	struct store *s = &f->s;
	/* raw went first: the coarse tier is whole, and totals still add up */
	assert_true(qi(s, "SELECT min(ts) FROM sim_group") > START + DAY);
	assert_int_equal(qi(s, "SELECT sum(samples_count) FROM sim_group_1h"), rows_in_1h);
	assert_int_equal(qi(s, "SELECT sum(user_ms) FROM sim_group_auto"), f->m.sum_user_ms);

	/* A cap too small for the 1-minute tier takes it as well, then hours. */
	l.max_db_bytes = 1 << 20;
	assert_int_equal(tiers_configure(&f->t, &l, &e), 0);
	run_all(f, &l, now);
	after = disk_bytes(f->path);
	print_message("size cap: %lld bytes at cap %lld\n", (long long)after,
		      (long long)l.max_db_bytes);
	assert_true(after <= l.max_db_bytes);
	fx_free(f);
}

/* The daemon's arrangement: checkpoints on their own thread. The file still
 * ends under the cap once the checkpoint has run and the next write (a
 * tick) has restarted the WAL. */
static void background_checkpoints_keep_the_cap(void **state)
{
	struct fx *f = fx_new(1, 20);
	int64_t now = START + DAY;
	struct err e;
	run_all(f, &f->keep_all, now);
	struct retention_limits l = {0};
	l.max_db_bytes = 3 << 20;
	assert_true(disk_bytes(f->path) > l.max_db_bytes);
	assert_int_equal(tiers_configure(&f->t, &l, &e), 0);
	assert_int_equal(tiers_background_checkpoints(&f->t, &e), 0);
	int64_t size = 0;
	/* generous: the checkpoint thread shares two cores with other tests */
	for (int64_t until = clock_mono_us() + 30 * 1000000; clock_mono_us() < until;) {
		int more = 1;
		f->t.unit_budget_us = 2000;
		if (tiers_run(&f->t, &l, now, 5000, &more, &e))
			fail_msg("%s", e.msg);
		assert_int_equal(
		    store_exec(&f->s, "INSERT OR REPLACE INTO meta VALUES ('tick', 1)", &e), 0);
		size = disk_bytes(f->path);
		if (!more && size <= l.max_db_bytes)
			break;
		usleep(5000);
	}
	print_message("background checkpoints: %lld bytes at cap %lld, %lld checkpoints\n",
		      (long long)size, (long long)l.max_db_bytes,
		      (long long)checkpointer_runs(f->t.ckpt));
	assert_true(size <= l.max_db_bytes);
	assert_true(checkpointer_runs(f->t.ckpt) > 0);
	fx_free(f);
}

/* Another process holding the write lock must not stall the daemon's loop
 * for the busy timeout: the work is put off, not waited for. */
static void never_waits_for_a_lock(void **state)
{
	struct fx *f = fx_new(1, 3);
	struct err e;
	sqlite3 *other;
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	int more = 0;
	int64_t t0 = clock_mono_us();
	assert_int_equal(tiers_run(&f->t, &f->keep_all, START + DAY, 100000, &more, &e), 0);
	assert_true(clock_mono_us() - t0 < 1000000);
	assert_int_equal(qi(&f->s, "SELECT count(*) FROM sim_group_1m"), 0);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	run_all(f, &f->keep_all, START + DAY);
	assert_true(qi(&f->s, "SELECT count(*) FROM sim_group_1m") > 1000);
	fx_free(f);
}

/* A later migration adds a column and declares it: the rollups grow the
 * column on the next start and roll it from then on. */
static void declared_column_added_later(void **state)
{
	struct fx *f = fx_new(1, 3);
	struct err e;
	int64_t half = START + DAY / 2;
	run_all(f, &f->keep_all, half);
	tiers_close(&f->t);
	assert_int_equal(
	    store_exec(&f->s,
		       "ALTER TABLE sim_group ADD COLUMN faults_count INTEGER;"
		       "UPDATE sim_group SET faults_count = group_id + 1;"
		       "INSERT INTO series_column VALUES ('sim_group', 'faults_count', 'counter');",
		       &e),
	    0);
	open_tiers(f);
	run_all(f, &f->keep_all, START + DAY);
	struct store *s = &f->s;
	assert_int_equal(
	    qi(s,
	       "SELECT count(*) FROM pragma_table_info('sim_group_1h') WHERE name='faults_count'"),
	    1);
	int64_t from = (half + 3599) / 3600 * 3600;
	assert_int_equal(
	    qi(s, "SELECT sum(faults_count) FROM sim_group_1h WHERE ts > %lld AND ts <= %lld",
	       (long long)from, (long long)(START + DAY) / 3600 * 3600),
	    qi(s, "SELECT sum(faults_count) FROM sim_group WHERE ts > %lld AND ts <= %lld",
	       (long long)from, (long long)(START + DAY) / 3600 * 3600));
	assert_true(qi(s, "SELECT count(*) FROM sim_group_auto WHERE faults_count > 0") > 0);
	tiers_close(&f->t);

	/* A declaration naming a column the table lacks is refused by name. */
	assert_int_equal(
	    store_exec(&f->s, "INSERT INTO series_column VALUES ('sim_group', 'nope', 'gauge')",
		       &e),
	    0);
	assert_int_equal(tiers_open(&f->t, &f->s, &e), -1);
	assert_non_null(strstr(e.msg, "sim_group"));
	assert_int_equal(
	    store_exec(&f->s, "DELETE FROM series_column WHERE column_name='nope'", &e), 0);
	open_tiers(f);
	fx_free(f);
}

/* The history's total time read under a plan pinned to its tiers. */
static int64_t planned_dur_ms(struct store *r, int tier, unsigned *tiers)
{
	struct read_plan p;
	struct err e;
	read_plan_get(r->db, tier, &p);
	*tiers = read_plan_tiers(&p, 0, INT64_C(1) << 62);
	if (read_plan_pin(r->db, &p, *tiers, NULL, &e))
		fail_msg("%s: %s", tier_names[tier], e.msg);
	assert_int_equal(qi(r, "SELECT count(*) FROM cpu_usage"),
			 qi(r, "SELECT count(*) FROM cpu_auto WHERE cpu_id = -1"));
	return qi(r, "SELECT sum(dur_ms) FROM cpu_usage");
}

/* The saved views read <t>_auto; a reader pins them to the tiers it wants.
 * Every plan reads the whole history exactly once: the preferred tier where
 * it holds rows, finer ones at the recent end it has not rolled yet, coarser
 * ones where it was pruned. */
static void readers_pin_tiers(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e;
	f->dir = temp_dir();
	snprintf(f->path, sizeof(f->path), "%s/h.db", f->dir);
	open_db(f);
	open_tiers(f);
	assert_int_equal(store_install_views(&f->s, NULL, &e), 0);
	/* three hours of the whole-machine CPU line at 10 s, up to 1700010800 */
	assert_int_equal(
	    store_exec(&f->s,
		       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
		       "WHERE i < 1080) INSERT INTO cpu SELECT 1700000000 + i * 10, -1, 10000, "
		       "i % 7000, 0, 500, 9000 - i % 7000, 0, 0, 0, 0, 0, 0 FROM n;",
		       &e),
	    0);
	run_all(f, &f->keep_all, 1700010800);
	tiers_close(&f->t);

	struct store r;
	assert_int_equal(store_open(&r, f->path, STORE_READONLY, &e), 0);
	const int64_t total = 1080 * 10000;
	unsigned tiers;
	assert_int_equal(planned_dur_ms(&r, TIER_RAW, &tiers), total);
	assert_int_equal(tiers, 1u << TIER_RAW);
	assert_int_equal(qi(&r, "SELECT count(*) FROM cpu_usage"), 1080);
	/* minutes up to the last complete one (1700010780), raw after */
	assert_int_equal(planned_dur_ms(&r, TIER_1M, &tiers), total);
	assert_int_equal(tiers, 1u << TIER_1M | 1u << TIER_RAW);
	assert_int_equal(qi(&r, "SELECT count(*) FROM cpu_usage"), 180 + 2);
	/* hours up to the last complete one (1700010000), then minutes, raw */
	assert_int_equal(planned_dur_ms(&r, TIER_1H, &tiers), total);
	assert_int_equal(tiers, 7u);
	assert_int_equal(qi(&r, "SELECT count(*) FROM cpu_usage"), 3 + 13 + 2);
	/* one tier alone is its plain view */
	struct read_plan p;
	read_plan_get(r.db, TIER_1M, &p);
	assert_int_equal(read_plan_tiers(&p, 1700003600, 1700007200), 1u << TIER_1M);
	assert_int_equal(read_plan_pin(r.db, &p, 1u << TIER_1M, NULL, &e), 0);
	assert_int_equal(qi(&r, "SELECT count(*) FROM cpu_usage"),
			 qi(&r, "SELECT count(*) FROM cpu_1m"));
	/* pinned for one query: what it reads, through views too, and no more */
	assert_int_equal(
	    read_plan_pin(r.db, &p, 1u << TIER_1M, "SELECT count(*) FROM CPU_USAGE", &e), 0);
	assert_int_equal(qi(&r, "SELECT count(*) FROM cpu_usage"),
			 qi(&r, "SELECT count(*) FROM cpu_1m"));
	assert_int_equal(qi(&r, "SELECT count(*) FROM temp.sqlite_master WHERE name IN "
				"('cpu_usage', 'cpu_auto')"),
			 2);
	assert_int_equal(qi(&r, "SELECT count(*) FROM temp.sqlite_master WHERE name NOT IN "
				"('cpu_usage', 'cpu_auto')"),
			 0);
	assert_int_equal(read_plan_pin(r.db, &p, 0, NULL, &e), 0); /* the database's own again */
	assert_int_equal(qi(&r, "SELECT count(*) FROM cpu_usage"), 1080);
	store_close(&r);

	/* Raw rows pruned up to 1700006400 (boundaries sit on bucket edges):
	 * every plan still reads it all. */
	assert_int_equal(store_exec(&f->s,
				    "DELETE FROM cpu WHERE ts <= 1700006400; UPDATE prune_state "
				    "SET pruned_ts = 1700006400 WHERE scope = 'raw'",
				    &e),
			 0);
	assert_int_equal(store_open(&r, f->path, STORE_READONLY, &e), 0);
	for (int tier = 0; tier < NTIERS; tier++) {
		int64_t d = planned_dur_ms(&r, tier, &tiers);
		if (d != total)
			fail_msg("tier %s reads %lld ms", tier_names[tier], (long long)d);
	}
	read_plan_get(r.db, TIER_RAW, &p);
	assert_int_equal(p.to_1m, 1700006400);
	assert_int_equal(read_plan_tiers(&p, 1700007200, 1700010800), 1u << TIER_RAW);
	store_close(&r);
	store_close(&f->s);

	assert_int_equal(read_plan_auto_tier(0, 3600, 1000), TIER_RAW);
	assert_int_equal(read_plan_auto_tier(0, 86400, 1000), TIER_1M);
	assert_int_equal(read_plan_auto_tier(0, 30 * 86400, 1000), TIER_1M);
	assert_int_equal(read_plan_auto_tier(0, 90 * 86400, 1000), TIER_1H);
	assert_int_equal(read_plan_auto_tier(0, 86400, 0), TIER_RAW);
	assert_int_equal(tier_by_name("1h"), TIER_1H);
	assert_int_equal(tier_by_name("5m"), -1);
	rm_rf(f->dir);
	free(f->dir);
	free(f);
}

static void config_retention_section(void **state)
{
	char *dir = temp_dir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	write_file(path, "interval: 10s\n"
			 "retention:\n"
			 "  raw: 3d\n"
			 "  1m: 30d\n"
			 "  1h: 1y\n"
			 "  max_db_size: 512MiB\n"
			 "  disk_reserve: 1MiB\n"
			 "  events:\n"
			 "    exec_log: 2w\n");
	struct config c;
	struct err e;
	config_defaults(&c);
	assert_int_equal(c.retention.max_age_s[TIER_RAW], 7 * DAY);
	assert_int_equal(c.retention.max_age_s[TIER_1H], 730 * DAY);
	assert_int_equal(c.retention.max_db_bytes, 1 << 30);
	assert_int_equal(c.retention.disk_reserve_bytes, 4 << 20);
	if (config_load_file(&c, path, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(config_validate(&c, &e), 0);
	assert_int_equal(c.retention.max_age_s[TIER_RAW], 3 * DAY);
	assert_int_equal(c.retention.max_age_s[TIER_1M], 30 * DAY);
	assert_int_equal(c.retention.max_age_s[TIER_1H], 365 * DAY);
	assert_int_equal(c.retention.max_db_bytes, 512 << 20);
	assert_int_equal(c.retention.disk_reserve_bytes, 1 << 20);
	assert_int_equal(c.retention.nevents, 1);
	assert_string_equal(c.retention.events[0].key, "exec_log");
	assert_int_equal(c.retention.events[0].max_age_s, 14 * DAY);

	write_file(path, "retention:\n  max_db_size: 12 parsecs\n");
	assert_int_equal(config_load_file(&c, path, &e), -1);
	assert_non_null(strstr(e.msg, "c.yaml:2:"));
	assert_non_null(strstr(e.msg, "parsecs"));
	write_file(path, "retention:\n  2m: 3d\n");
	assert_int_equal(config_load_file(&c, path, &e), -1);
	assert_non_null(strstr(e.msg, "retention.2m"));
	write_file(path, "retention:\n  raw: 100d\n");
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_int_equal(config_validate(&c, &e), -1);
	assert_non_null(strstr(e.msg, "raw"));
	rm_rf(dir);
	free(dir);

	int64_t v;
	assert_int_equal(parse_size_bytes("1GiB", &v, &e), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(parse_size_bytes("1G", &v, &e), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(parse_size_bytes("500MB", &v, &e), 0);
	assert_int_equal(v, 500000000);
	assert_int_equal(parse_size_bytes("4096", &v, &e), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size_bytes("1.5G", &v, &e), -1);
	assert_int_equal(parse_size_bytes("", &v, &e), -1);
	assert_int_equal(parse_size_bytes("99999999999999T", &v, &e), -1);
	assert_int_equal(parse_duration_ms("2y", &v, &e), 0);
	assert_int_equal(v, 2 * 365 * DAY * 1000LL);
	assert_int_equal(parse_duration_ms("999999999y", &v, &e), -1);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rollups_are_exact),
	    cmocka_unit_test(rollups_resume_after_restart),
	    cmocka_unit_test(pruning_honours_ages),
	    cmocka_unit_test(age_pruning_follows_the_trusted_clock),
	    cmocka_unit_test(size_cap_keeps_the_file_small),
	    cmocka_unit_test(background_checkpoints_keep_the_cap),
	    cmocka_unit_test(never_waits_for_a_lock),
	    cmocka_unit_test(declared_column_added_later),
	    cmocka_unit_test(readers_pin_tiers),
	    cmocka_unit_test(config_retention_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
