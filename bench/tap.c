/* What the /metrics tap costs a tick: replays the ticks of a database the
 * daemon wrote (every row of every table, tick by tick, each tick one
 * transaction) into a fresh copy, once with the metrics set tapping the copy
 * and once without, and prints the CPU per tick of both and the difference.
 *
 *   bench_tap SOURCE.db [ROUNDS]
 *
 * SOURCE is any hindsight database (bench/tick --keep, or a live one copied).
 * A third pass installs an empty preupdate hook: what SQLite itself spends
 * preparing each row for a hook, before ours looks at it.
 *
 * Prints a table; never passes or fails. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "store/store.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The tables that take rows in a tick: the time series and event tables
 * and the dimensions, in the order a tick writes them (dimensions first). */
static int tick_tables(sqlite3 *db, char names[][64], int max)
{
	sqlite3_stmt *st;
	int n = 0;
	sqlite3_prepare_v2(
	    db,
	    "SELECT name FROM src.sqlite_master WHERE type = 'table' AND name IN "
	    "(SELECT table_name FROM main.series_column UNION SELECT table_name FROM "
	    "main.event_table) ORDER BY name",
	    -1, &st, NULL);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		snprintf(names[n++], 64, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return n;
}

static void empty_hook(void *arg, sqlite3 *db, int op, const char *zdb, const char *table,
		       sqlite3_int64 k1, sqlite3_int64 k2)
{
}

enum pass { NO_TAP, EMPTY_HOOK, TAP };

/* One pass: every tick of src copied into a fresh database at path.
 * Returns the process CPU µs spent, *nticks and *nrows. */
static int64_t replay(const char *src, const char *path, enum pass tap, int64_t *nticks,
		      int64_t *nrows, size_t *nseries)
{
	struct store s;
	struct err e;
	char sql[8400];
	unlink(path);
	if (store_open(&s, path, 0, &e) || store_migrate(&s, &e)) {
		fprintf(stderr, "bench_tap: %s\n", e.msg);
		exit(1);
	}
	char *attach = sqlite3_mprintf("ATTACH %Q AS src", src);
	store_exec(&s, attach, &e);
	sqlite3_free(attach);
	/* dimensions as the source has them, before any tick */
	store_exec(&s,
		   "INSERT OR IGNORE INTO main.net_interface SELECT * FROM src.net_interface;"
		   "INSERT OR IGNORE INTO main.disk_device SELECT * FROM src.disk_device;"
		   "INSERT OR IGNORE INTO main.filesystem_mount SELECT * FROM src.filesystem_mount;"
		   "INSERT OR IGNORE INTO main.proc_group SELECT * FROM src.proc_group;"
		   "INSERT OR IGNORE INTO main.collector SELECT * FROM src.collector;",
		   &e);
	struct metric_map map;
	struct metric_set *set = NULL;
	if (tap == EMPTY_HOOK)
		sqlite3_preupdate_hook(s.db, empty_hook, NULL);
	if (tap == TAP) {
		if (metric_map_load(&map, s.db, &e)) {
			fprintf(stderr, "bench_tap: %s\n", e.msg);
			exit(1);
		}
		set = metric_set_new(&map);
		metric_set_load(set, s.db, &e);
		metric_set_tap(set, s.db);
	}
	char tables[64][64];
	int nt = tick_tables(s.db, tables, 64);
	sqlite3_stmt *ins[64];
	for (int i = 0; i < nt; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO main.\"%s\" SELECT * FROM src.\"%s\" WHERE ts = ?1",
			 tables[i], tables[i]);
		sqlite3_prepare_v2(s.db, sql, -1, &ins[i], NULL);
	}
	sqlite3_stmt *ticks;
	sqlite3_prepare_v2(s.db, "SELECT ts FROM src.agent ORDER BY ts", -1, &ticks, NULL);
	int64_t cpu = 0;
	int first = 1;
	*nticks = *nrows = 0;
	while (sqlite3_step(ticks) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(ticks, 0);
		int64_t c0 = clock_process_cpu_us();
		store_exec(&s, "BEGIN", &e);
		for (int i = 0; i < nt; i++) {
			sqlite3_bind_int64(ins[i], 1, ts);
			sqlite3_step(ins[i]);
			*nrows += first ? 0 : sqlite3_changes(s.db);
			sqlite3_reset(ins[i]);
		}
		store_exec(&s, "COMMIT", &e);
		if (set)
			metric_set_commit(set);
		/* the first tick makes every series: steady state from the second */
		if (!first) {
			cpu += clock_process_cpu_us() - c0;
			(*nticks)++;
		}
		first = 0;
	}
	sqlite3_finalize(ticks);
	for (int i = 0; i < nt; i++)
		sqlite3_finalize(ins[i]);
	*nseries = set ? metric_set_series_count(set) : 0;
	if (set) {
		metric_set_tap(NULL, s.db);
		metric_set_free(set);
		metric_map_free(&map);
	}
	store_close(&s);
	return cpu;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_tap SOURCE.db [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	char path[] = "/tmp/hindsight-bench-tap-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	log_set_level(LOG_WARN);
	int64_t with[64], without[64], empty[64], nticks = 0, nrows = 0;
	size_t nseries = 0;
	if (rounds > 64)
		rounds = 64;
	for (int r = 0; r < rounds; r++) {
		without[r] = replay(argv[1], path, NO_TAP, &nticks, &nrows, &nseries);
		empty[r] = replay(argv[1], path, EMPTY_HOOK, &nticks, &nrows, &nseries);
		with[r] = replay(argv[1], path, TAP, &nticks, &nrows, &nseries);
	}
	qsort(empty, (size_t)rounds, sizeof(empty[0]), cmp_i64);
	qsort(with, (size_t)rounds, sizeof(with[0]), cmp_i64);
	qsort(without, (size_t)rounds, sizeof(without[0]), cmp_i64);
	double t = (double)(nticks ? nticks : 1);
	double a = without[rounds / 2] / t, b = with[rounds / 2] / t;
	printf("replayed %lld ticks of %s after the first, %lld rows (%.0f a tick), %zu series; "
	       "median of %d rounds, CPU us per tick\n",
	       (long long)nticks, argv[1], (long long)nrows, nrows / t, nseries, rounds);
	printf("%-28s %10s %10s\n", "", "median", "fastest");
	printf("%-28s %10.0f %10.0f\n", "insert + commit, no tap", a, without[0] / t);
	printf("%-28s %10.0f %10.0f\n", "insert + commit, empty hook", empty[rounds / 2] / t,
	       empty[0] / t);
	printf("%-28s %10.0f %10.0f\n", "insert + commit, tapped", b, with[0] / t);
	printf("%-28s %10.0f %10.0f\n", "the tap", b - a, (with[0] - without[0]) / t);
	printf("%-28s %10.2f\n", "the tap per row (us)", (b - a) / (nrows / t));
	for (const char *x = "-wal"; x; x = strcmp(x, "-wal") ? NULL : "-shm") {
		char p[64];
		snprintf(p, sizeof(p), "%s%s", path, x);
		unlink(p);
	}
	unlink(path);
	return 0;
}
