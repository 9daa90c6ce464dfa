/* The stored history as Prometheus samples: what a scrape of /metrics at
 * every stored tick would have returned, read back from the database. The
 * renderers of history (`hindsight export --openmetrics`, remote write) are
 * built on this iterator; it knows the naming table, the tiers and the time
 * column, they know their wire format.
 *
 * Contract (kept stable; docs/prometheus.md "History as OpenMetrics"):
 *
 * - Open on a connection that may be read-only (the query tool's, under its
 *   authorizer, or a second connection of the daemon's). The iterator runs
 *   its own read transactions (BEGIN ... COMMIT, one per page of time), so
 *   the connection must not be inside a transaction of the caller's while
 *   metric_history_next runs, and nothing else may use it meanwhile.
 * - Ticks come in increasing ts order, each once: ts is the stored tick's
 *   time, epoch seconds, the time the rows of the time series (cpu,
 *   group_sample...) carry. Rows of event and state tables stamped with
 *   their own time (an exit, a kernel log record) count at the first tick
 *   at or after it (with no time series selected, their times are the
 *   ticks). A tick's samples are every series with a value at that moment,
 *   as a scrape would show them, not only those the tick's rows changed.
 * - Names, labels, types and values are those of /metrics for the same
 *   rows (metrics.h: the naming table; docs/prometheus.md: how a row becomes
 *   samples). Labels come rendered and sorted by name, a="x",b="y" without
 *   braces ("" for none), escaped as exposition text; metric_labels_parse
 *   splits them.
 * - Counters are cumulative from the start of the range: 0 plus the deltas
 *   stored in (since, ts]. A new iterator starts them at 0 again (for
 *   Prometheus, a counter reset). Gauges are the newest stored value; state
 *   (boot, links, inventory) is as stored at or before since, then as it
 *   changes. Gauges written only when they change are taken from the hour
 *   before since (HISTORY_LOOKBACK_S); older ones show from their next row.
 * - Tiers: each part of the range comes from the finest tier that holds it
 *   (the database's <table>_auto views): raw rows, then 1-minute rollups,
 *   then 1-hour rollups for older times. A rollup row's ts is its bucket's
 *   end, its counters the bucket's sum (so cumulative values stay exact at
 *   those times), its gauges the bucket's mean. Event tables and state
 *   tables are read from the table itself.
 * - until may be past the newest tick: next() returns 0 when no stored tick
 *   is left in the range *yet*; calling it again later yields ticks
 *   committed since (a follower: see metric_history_follow). Dimension rows
 *   (devices, groups) added after open are picked up at each page; ones
 *   changed in place are not.
 * - Memory is bounded by the number of series, not by the length of the
 *   range: rows are streamed a page of time at a time.
 * - Between two calls of next() the iterator may hold a read transaction
 *   (a page of up to 15 minutes of ticks); metric_history_pause ends it.
 * - Samples of a tick are valid until the next call of next() or close. */
#ifndef HINDSIGHT_METRICS_HISTORY_H
#define HINDSIGHT_METRICS_HISTORY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "util/util.h"

/* How far before since the iterator looks for the last value of gauges. */
#define HISTORY_LOOKBACK_S 3600

struct metric_history;

/* One sample of the current tick. */
struct history_sample {
	int64_t ts;			  /* epoch seconds: the tick */
	int family;			  /* index in metric_history_map()->families */
	const struct metric_family *fam;  /* name (as sampled), type, help, unit */
	const char *labels;		  /* a="x",b="y" sorted by name; "" for none */
	double value;			  /* in the family's unit: raw x scale */
	double raw;			  /* as stored (summed for counters) */
	const struct metric_scale *scale; /* expo_scaled(raw, scale) prints it exactly */
	/* A counter that has a value from this tick on, but not at the range's
	 * first tick (a group or device that appeared): the time of the tick
	 * before, when it was 0 since it counts from the range's start. A
	 * renderer may write that 0 first, so Prometheus counts this tick's
	 * delta (it takes a series' first sample as its base). Else INT64_MIN. */
	int64_t zero_ts;
};

/* Return non-zero to stop visiting this tick's samples. */
typedef int (*history_sample_fn)(void *arg, const struct history_sample *s);

/* Opens the history of (since, until] (epoch seconds; until may be
 * INT64_MAX). names: the families to yield, each given as a family name
 * (node_cpu_seconds_total), a table the naming table maps
 * (group_sample), or a view reading such tables (its families); NULL or
 * none: every family. An unknown name is an error naming it. Reads the
 * naming table and the state at since. */
int metric_history_open(struct metric_history **out, sqlite3 *db, int64_t since, int64_t until,
			const char *const *names, size_t nnames, struct err *e);
/* Advances to the next stored tick: 1 with *ts set, 0 when none is left
 * (for now), -1 on an error (a failed read; e says which table). */
int metric_history_next(struct metric_history *h, int64_t *ts, struct err *e);
/* For a reader that keeps up with a running daemon: a tick is yielded only
 * once a later tick is stored. Rows stamped with an event's own time
 * (process_exit, kmsg) are committed by the tick after it, so without this
 * a follower at the newest tick would miss some (a one-shot export of the
 * past does not need it). Call after open, before the first next(). */
void metric_history_follow(struct metric_history *h);
/* Ends the read transaction of the page the last tick came from, so a
 * caller that waits (for a network) holds no snapshot of the database: the
 * next call of next() reads on after that tick. */
int metric_history_pause(struct metric_history *h, struct err *e);
/* Visits every sample of the tick next() returned: families in name order,
 * series in the order they first appeared. Returns 1 when fn stopped it. */
int metric_history_samples(struct metric_history *h, history_sample_fn fn, void *arg);
/* The naming table in use (the families' names, types, help, units). */
const struct metric_map *metric_history_map(const struct metric_history *h);
/* Whether a family is among those selected at open. */
int metric_history_selected(const struct metric_history *h, int family);
void metric_history_close(struct metric_history *h);

#endif
