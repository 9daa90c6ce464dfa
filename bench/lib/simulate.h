/* Synthetic history for tests and benchmarks: a per-group table shaped like
 * the process groups' (counters, gauges, a peak gauge), declared to the
 * tiers through series_column like any real table, with totals known. */
#ifndef HINDSIGHT_SIMULATE_H
#define HINDSIGHT_SIMULATE_H

#include <stdint.h>

#include "store/store.h"

#define SIM_MAX_GROUPS 1024

struct sim {
	int groups;
	int interval_s;
	uint64_t rng;
	int64_t next_ts;  /* the next tick to write */
	int64_t gap_from; /* ticks in [gap_from, gap_to) are not written */
	int64_t gap_to;
	sqlite3_stmt *ins;
	/* What was written, for checks. */
	int64_t rows;
	int64_t sum_dur_ms, sum_user_ms, sum_system_ms, sum_read_bytes, sum_write_bytes;
	int64_t sum_rss_kb, max_rss_kb, min_rss_kb;
	int64_t rss_kb[SIM_MAX_GROUPS]; /* each group's current RSS (a random walk) */
};

/* Creates the table sim_group and declares it in series_column (so call it
 * before tiers_open). start_ts is the first tick's ts. */
int sim_open(struct sim *m, struct store *s, int groups, int interval_s, int64_t start_ts,
	     struct err *e);
/* Prepares the insert again on another handle (after reopening the file);
 * the generator's state carries on. */
int sim_reattach(struct sim *m, struct store *s, struct err *e);
/* Writes every tick with ts < until, one transaction per hour of history. */
int sim_write_until(struct sim *m, struct store *s, int64_t until, struct err *e);

/* The number of values a sim_group row stores besides ts and group_id. */
#define SIM_VALUES_PER_ROW 8

#endif
