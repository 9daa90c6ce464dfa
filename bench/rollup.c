/* bench_rollup DB: rolls every complete bucket of DB's time-series tables into
 * the 1-minute and 1-hour tiers with the daemon's own code, pruning nothing,
 * and installs this build's saved views. bench/query uses it on the history
 * it generates, and again on a kept one, so the tiers and views it times
 * are exactly what this daemon would have written. */
#include <stdio.h>

#include "store/tiers.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_rollup DB\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	struct store s;
	struct tiers t;
	struct err e;
	if (store_open(&s, argv[1], 0, &e) || store_migrate(&s, &e) || tiers_open(&t, &s, &e) ||
	    store_install_views(&s, NULL, &e)) {
		fprintf(stderr, "bench_rollup: %s\n", e.msg);
		return 1;
	}
	int64_t newest = store_query_int(&s, "SELECT max(ts) FROM agent", 0);
	struct retention_limits keep = {0}; /* no age limits, no cap */
	t.unit_budget_us = 500000;
	int more = 1, rc = 0;
	int64_t t0 = clock_mono_us();
	while (more && rc == 0)
		rc = tiers_run(&t, &keep, newest, 10000000, &more, &e);
	if (rc)
		fprintf(stderr, "bench_rollup: %s\n", e.msg);
	else
		printf("rolled up to %lld in %.1f s\n", (long long)newest,
		       (clock_mono_us() - t0) / 1e6);
	tiers_close(&t);
	store_close(&s);
	return rc ? 1 : 0;
}
