/* bench_simulate: writes synthetic per-group history at 10 s into a
 * database (the table sim_group, declared to the tiers like a real one),
 * optionally rolls it up, and prints what it wrote.
 *
 *   bench_simulate --db PATH [--days 30] [--groups 200] [--roll]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "simulate.h"
#include "store/tiers.h"

int main(int argc, char **argv)
{
	const char *db = NULL;
	int days = 30, groups = 200, roll = 0;
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"days", required_argument, 0, 'n'},
	    {"groups", required_argument, 0, 'g'},
	    {"roll", no_argument, 0, 'r'},
	    {0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'n':
			days = atoi(optarg);
			break;
		case 'g':
			groups = atoi(optarg);
			break;
		case 'r':
			roll = 1;
			break;
		default:
			return 2;
		}
	}
	if (!db || days < 1) {
		fprintf(stderr,
			"usage: bench_simulate --db PATH [--days N] [--groups N] [--roll]\n");
		return 2;
	}
	unlink(db);
	log_set_level(LOG_WARN);
	struct store s;
	struct sim *m = calloc(1, sizeof(*m));
	struct err e;
	int64_t start = 1700000003, end = start + (int64_t)days * 86400;
	if (store_open(&s, db, 0, &e) || store_migrate(&s, &e) ||
	    sim_open(m, &s, groups, 10, start, &e))
		goto fail;
	int64_t t0 = clock_mono_us();
	if (sim_write_until(m, &s, end, &e))
		goto fail;
	double gen_s = (clock_mono_us() - t0) / 1e6;
	printf("%-28s %lld rows (%d days x %d groups at 10 s) in %.1f s (%.0f rows/s)\n",
	       "generated", (long long)m->rows, days, groups, gen_s, m->rows / gen_s);
	printf("%-28s user_ms=%lld dur_ms=%lld read_bytes=%lld max_rss_kb=%lld\n", "totals",
	       (long long)m->sum_user_ms, (long long)m->sum_dur_ms, (long long)m->sum_read_bytes,
	       (long long)m->max_rss_kb);
	if (roll) {
		struct tiers t;
		struct retention_limits keep = {0};
		int more = 1;
		if (tiers_open(&t, &s, &e))
			goto fail;
		t.unit_budget_us = 500000;
		t0 = clock_mono_us();
		while (more)
			if (tiers_run(&t, &keep, end, 10000000, &more, &e))
				goto fail;
		printf("%-28s %lld rollup rows inserted or merged in %.1f s\n", "rolled",
		       (long long)t.stats.rolled_rows, (clock_mono_us() - t0) / 1e6);
		tiers_close(&t);
	}
	store_close(&s);
	free(m);
	return 0;
fail:
	fprintf(stderr, "bench_simulate: %s\n", e.msg);
	return 1;
}
