/* Retention tiers: raw rows, 1-minute and 1-hour rollups, and event logs.
 *
 * Which tables take part is data, not code: schema rows in series_column
 * (time series: key, counter, gauge, gauge_peak per column) and event_table
 * (event logs kept by age). From them tiers_open creates the rollup tables
 * <t>_1m and <t>_1h and the views <t>_at_raw, <t>_at_1m, <t>_at_1h and
 * <t>_auto. The work is done in small units, each one short transaction, so
 * the daemon can interleave it with ticks (tiers_run with a time budget):
 *   rollup.c     rolls complete buckets raw -> 1m -> 1h behind watermarks;
 *   retention.c  prunes by age and by max_db_size, returns pages to the file
 *                system and keeps the WAL small;
 *   tiers.c      reports per tier and forces a resolution for a reader.
 * See docs/retention.md. */
#ifndef HINDSIGHT_TIERS_H
#define HINDSIGHT_TIERS_H

#include <stdint.h>

#include "store/store.h"

enum tier { TIER_RAW, TIER_1M, TIER_1H, NTIERS };
extern const char *const tier_names[NTIERS]; /* "raw", "1m", "1h" */
extern const int64_t tier_bucket_s[NTIERS];  /* 0, 60, 3600 */

#define RETENTION_MAX_EVENTS 32

/* The retention section of the configuration. Ages are seconds, 0 = keep
 * forever (max_db_size still applies). */
struct retention_limits {
	int64_t max_age_s[NTIERS];
	int64_t max_db_bytes;	    /* 0: no cap */
	int64_t disk_reserve_bytes; /* the disk reserve (store.h); 0: none */
	struct {
		char key[64]; /* event_table.config_key */
		int64_t max_age_s;
	} events[RETENTION_MAX_EVENTS];
	size_t nevents;
};
void retention_limits_default(struct retention_limits *l); /* 7d, 90d, 2y, 1 GiB */
/* Sizes: "1073741824", "512MiB", "1GiB", "1G", "500MB" (KB/MB/GB are powers
 * of 1000, K/M/G and KiB/MiB/GiB of 1024). */
int parse_size_bytes(const char *text, int64_t *out, struct err *e);

enum series_kind { KIND_KEY, KIND_COUNTER, KIND_GAUGE, KIND_GAUGE_PEAK };

#define SERIES_MAX_COLS 96

struct series_col {
	char name[64];
	char type[32]; /* the raw column's declared type */
	enum series_kind kind;
};

/* One time-series table and its statements. */
struct series_table {
	char name[64];
	struct series_col cols[SERIES_MAX_COLS];
	int ncols;
	sqlite3_stmt *roll[NTIERS];   /* [1m]: raw -> 1m, [1h]: 1m -> 1h */
	sqlite3_stmt *oldest[NTIERS]; /* min(ts) */
	sqlite3_stmt *nth[NTIERS];    /* ts of the ?2-th row with ts <= ?1 */
	sqlite3_stmt *del[NTIERS];    /* delete ts <= ?1 */
	int64_t rolled[NTIERS];	      /* watermark of [1m], [1h]; -1: not started */
};

struct event_tab {
	char name[64];
	char ts_col[64];
	char config_key[64];
	int64_t default_max_age_s;
	int64_t pruned; /* its prune_state.pruned_ts */
	sqlite3_stmt *oldest, *nth, *del;
};

/* What the work removed and cost since the caller last cleared it. */
struct tiers_stats {
	int64_t work_us;
	int64_t removed_rows;
	int64_t rolled_rows; /* rollup rows inserted, or merged into an hour row */
};

struct checkpointer;

struct tiers {
	struct store *store;
	struct checkpointer *ckpt; /* NULL: checkpoints run inline (TRUNCATE) */
	int64_t ckpt_asked;	   /* its run count when we asked; -1: not waiting */
	struct series_table *series;
	size_t nseries;
	struct event_tab *events;
	size_t nevents;
	/* Dimension tables whose rows end (dimension_table): a row whose end
	 * (ts_col here) is at or before the 1h boundary is deleted. */
	struct event_tab *dims;
	size_t ndims;
	sqlite3_stmt *set_rolled, *set_pruned, *note_removed;
	int64_t pruned[NTIERS]; /* the scopes 'raw', '1m', '1h' of prune_state */
	int64_t pressure_ts;	/* raw boundary forced by max_db_size: events too */
	int64_t unit_budget_us; /* aim for one unit of work taking at most this */
	int64_t chunk_rows;	/* rows per delete, adapted to the budget */
	int64_t chunk_buckets[NTIERS];
	int64_t vacuum_pages;	 /* pages per incremental_vacuum */
	int64_t wal_allow_bytes; /* the WAL may grow to this between checkpoints */
	int incremental;	 /* the file has auto_vacuum=INCREMENTAL */
	int64_t given_back;	 /* pages vacuumed since the last checkpoint */
	int64_t max_db_bytes;	 /* the cap tiers_configure was given */
	int64_t full_target;	 /* disk full: keep the pages in use at most this */
	int warned_cap;
	int64_t age_ts;	       /* ages are measured from this; 0: from tiers_run's now_ts */
	int age_paused;	       /* the clock is not trusted: nothing is pruned by age */
	const char *unit_kind; /* what the last unit did, for the slowest below */
	const char *slowest_kind;
	int64_t slowest_us; /* the longest unit so far */
	struct tiers_stats stats;
};

/* Reads series_column and event_table, creates or extends the rollup tables
 * (ALTER TABLE ADD COLUMN for newly declared columns), regenerates the views
 * and prepares the statements. Call after store_migrate and before the saved
 * views are installed (they select from <t>_auto). */
int tiers_open(struct tiers *t, struct store *s, struct err *e);
void tiers_close(struct tiers *t);
/* Only the rollup tables and generated views, as tiers_open makes them;
 * store_install_views calls it, since the saved views read <t>_auto. */
int tiers_sync_schema(struct store *s, struct err *e);

/* Applies limits that shape the database: the WAL size kept between
 * checkpoints, and records the limits in meta for readers (tiers_report). */
int tiers_configure(struct tiers *t, const struct retention_limits *l, struct err *e);

/* rollup.c: one unit: rolls the next complete buckets (ending at or before
 * now_ts, the newest committed tick) of one table into one tier. Sets *did
 * when it did something; 0 with *did = 0 means everything is rolled. */
int rollup_unit(struct tiers *t, int64_t now_ts, int *did, struct err *e);

/* retention.c: one unit of pruning, size capping, vacuuming or WAL
 * truncation. *did as for rollup_unit. */
int retention_unit(struct tiers *t, const struct retention_limits *l, int64_t now_ts, int *did,
		   struct err *e);
/* The disk is full (room_bytes > 0): prune the oldest rows already rolled
 * up, as the size cap would, until room_bytes of the pages in use are free
 * inside the file, and keep it there, holding the freed pages for the next
 * ticks, until called with 0 once the disk has room again. */
void tiers_disk_full(struct tiers *t, int64_t room_bytes);
/* The time rows' ages are measured from, when it is not the newest tick
 * (the daemon's trusted wall clock, behind the newest tick while ts is held
 * after a backward clock correction; 0 goes back to the newest tick), and
 * whether that clock is unsettled: then nothing is pruned by age (the size
 * cap and a full disk still prune). */
void tiers_age_clock(struct tiers *t, int64_t age_ts, int paused);
/* The database's size on disk: the main file plus its WAL (stat). */
int64_t tiers_file_bytes(struct tiers *t);

/* checkpoint.c: from now on WAL checkpoints run on a thread with its own
 * connection (PASSIVE), so their fsync never delays the caller's loop. The
 * daemon uses it; tiers_close stops it. */
int tiers_background_checkpoints(struct tiers *t, struct err *e);
void checkpointer_request(struct checkpointer *c);
int64_t checkpointer_runs(struct checkpointer *c); /* completed so far */
void checkpointer_stop(struct checkpointer *c);

/* Runs units, rollups first, until nothing is left or budget_us is spent.
 * Returns -1 on a database error; *more says whether work remains. */
int tiers_run(struct tiers *t, const struct retention_limits *l, int64_t now_ts, int64_t budget_us,
	      int *more, struct err *e);

/* tiers.c: what each tier holds, for `hindsight status`. */
struct tier_report {
	const char *name;  /* "raw", "1m", "1h", or an event table's name */
	int64_t oldest_ts; /* 0: empty */
	int64_t newest_ts;
	int64_t rows;
	int64_t bytes;	   /* -1: dbstat not available */
	int64_t max_age_s; /* configured, from meta; -1 unknown, 0 forever */
	int64_t pruned_ts; /* rows at or before this are gone */
	int64_t last_prune_ts;
	int64_t last_removed_count;
	int64_t removed_count;
};
struct tiers_report {
	struct tier_report tiers[NTIERS + RETENTION_MAX_EVENTS];
	size_t ntiers;
	int64_t max_db_bytes; /* from meta; -1 unknown, 0 no cap */
	int64_t file_bytes;   /* main file + WAL now */
};
/* One table's rows and bytes (its indexes included; -1: unknown), as a
 * caller that has counted them already can pass them on. */
struct table_stats {
	char name[64];
	int64_t rows, bytes, first, last;
};
/* Works on a read-only connection. Counting rows and bytes scans the tables
 * (about a second per GiB), except those given in known. */
int tiers_report(sqlite3 *db, const char *db_path, const struct table_stats *known, size_t nknown,
		 struct tiers_report *r, struct err *e);

/* readplan.c: which tier a reader takes each part of the time axis from.
 * 1-hour rows for ts <= to_1h, 1-minute rows for to_1h < ts <= to_1m, raw
 * rows after. Boundaries sit on bucket edges, so no span is read twice or
 * left out, and sums over any range equal the raw sums. */
struct read_plan {
	int64_t to_1h, to_1m;
	int64_t since, until; /* the range the reader asked for */
};
/* The layout that prefers `tier` wherever it holds rows: finer tiers fill
 * the recent end it has not rolled up yet, coarser tiers the old end it has
 * pruned. TIER_RAW gives the layout of the database's own <t>_auto views.
 * Reads prune_state and rollup_state. */
void read_plan_get(sqlite3 *db, int tier, struct read_plan *p);
/* The tiers (a bit per tier) holding some of [since, until] under p; p
 * remembers the range. */
unsigned read_plan_tiers(struct read_plan *p, int64_t since, int64_t until);
/* The tier p reads at ts, and the part of the time axis [*lo, *hi] p
 * reads from a tier (INT64_MIN and INT64_MAX for the open ends). */
int read_plan_tier_at(const struct read_plan *p, int64_t ts);
void read_plan_part(const struct read_plan *p, int tier, int64_t *lo, int64_t *hi);
/* The coarsest tier whose step is at most (until - since) / points: what a
 * chart or a table of about `points` rows per series needs. */
int read_plan_auto_tier(int64_t since, int64_t until, int points);
/* Makes this connection's <t>_auto views, and every saved view, read the
 * tiers in `tiers` under p: one tier's plain view when one bit is set (which
 * SQLite flattens into the query), their union otherwise. 0 restores the
 * database's own views. It creates TEMP views, so call it before PRAGMA
 * query_only and an authorizer forbid that; works on a read-only file.
 * uses, when not NULL, is the SQL (or the name) the connection will run:
 * only the views it reads, directly or through other views, are pinned. */
int read_plan_pin(sqlite3 *db, const struct read_plan *p, unsigned tiers, const char *uses,
		  struct err *e);
/* "raw", "1m", "1h" -> the tier; anything else -> -1. */
int tier_by_name(const char *name);

/* Time on bucket edges (floor and ceiling to a multiple of w). */
static inline int64_t align_down(int64_t v, int64_t w)
{
	ASSERT(w > 0);
	int64_t r = v % w;
	return r < 0 ? v - r - w : v - r;
}
static inline int64_t align_up(int64_t v, int64_t w)
{
	return -align_down(-v, w);
}

/* The oldest ts after `after` that st (SELECT min(ts) ... WHERE ts > ?1)
 * finds in one tier of a table, or INT64_MAX when there is none. */
static inline int64_t tiers_oldest_after(sqlite3_stmt *st, int64_t after)
{
	int64_t v = INT64_MAX;
	sqlite3_bind_int64(st, 1, after);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Grows or shrinks a chunk so one unit of work takes about the budget. */
static inline void tiers_adapt(int64_t *chunk, int64_t took_us, int64_t budget_us, int64_t max)
{
	if (took_us > budget_us && *chunk > 1)
		*chunk /= 2;
	else if (took_us < budget_us / 4 && *chunk < max)
		*chunk *= 2;
}

#endif
