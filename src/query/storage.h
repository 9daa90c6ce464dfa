#ifndef HINDSIGHT_QUERY_STORAGE_H
#define HINDSIGHT_QUERY_STORAGE_H

#include <stdint.h>

#include "store/tiers.h"

/* A storage model users can plan with: from the bytes a day each tier gains
 * at the current rates, how many days of each the configured ages and the
 * size cap leave. Pure: status feeds it figures read from the database. */

struct storage_plan {
	double want_days[NTIERS]; /* the configured age in days; < 0: for ever */
	double days[NTIERS];	  /* what the cap leaves; < 0: for ever */
	int cut[NTIERS];	  /* 1: the cap cuts this tier short of its age */
	double steady_bytes;	  /* the file once every tier is full; < 0: grows for ever */
};

/* bytes_per_day[t]: what tier t gains a day (event logs count with raw,
 * whose boundary they are pruned by under size pressure); keep_s[t]: its
 * configured age (0: for ever); cap: max_db_size (0: none). The cap prunes
 * raw first, then 1-minute rows, then hours, so space goes to hours first. */
void storage_plan(const double bytes_per_day[NTIERS], const int64_t keep_s[NTIERS], int64_t cap,
		  struct storage_plan *out);

/* Bytes a day each tier of a report gains at the current rates: its bytes
 * over the time its rows span, once they span long enough to tell (raw and
 * event logs: 10 minutes, 1m: an hour, 1h: a day); known[t] is 0 before.
 * Event logs count with raw. */
void storage_rates(const struct tiers_report *r, double rate[NTIERS], int known[NTIERS]);

/* The "storage" lines of `hindsight status`: bytes a day per tier, the days
 * each holds under its age and max_db_size, and a warning when the cap
 * cuts the 1-minute or 1-hour tier short. */
void storage_print(const struct tiers_report *r);

/* Bytes a day per table family (a table and its 1-minute and 1-hour
 * rollups) at the current rates, from the tables' bytes over the time their
 * rows span; the busiest first. t: every table, as status counted them. */
void storage_print_families(const struct table_stats *t, int n);

#endif
