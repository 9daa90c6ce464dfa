/* Retention: pruning by age and by max_db_size, giving the freed pages back
 * to the file system, and keeping the WAL small. Every unit of work is one
 * short transaction, so the daemon's ticks run between them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/tiers.h"

void retention_limits_default(struct retention_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_age_s[TIER_RAW] = 7 * 86400;
	l->max_age_s[TIER_1M] = 90 * 86400;
	l->max_age_s[TIER_1H] = 2 * 365 * 86400;
	l->max_db_bytes = (int64_t)1 << 30;
	l->disk_reserve_bytes = (int64_t)4 << 20;
}

int parse_size_bytes(const char *text, int64_t *out, struct err *e)
{
	static const struct {
		const char *suffix;
		int64_t scale;
	} units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1024},
	    {"kib", 1024},
	    {"kb", 1000},
	    {"m", 1024 * 1024},
	    {"mib", 1024 * 1024},
	    {"mb", 1000 * 1000},
	    {"g", 1024 * 1024 * 1024},
	    {"gib", 1024 * 1024 * 1024},
	    {"gb", 1000 * 1000 * 1000},
	    {"t", (int64_t)1 << 40},
	    {"tib", (int64_t)1 << 40},
	    {"tb", (int64_t)1000 * 1000 * 1000 * 1000},
	};
	const char *p = text;
	uint64_t n;
	if (scan_u64(&p, &n) || n > (1ULL << 50))
		return err_set(
		    e, "bad size '%s': expected e.g. 1073741824, 512MiB, 1GiB, 1G, 500MB", text);
	while (*p == ' ')
		p++;
	char suffix[8];
	size_t len = strlen(p);
	if (len < sizeof(suffix)) {
		for (size_t i = 0; i <= len; i++)
			suffix[i] = (char)tolower((unsigned char)p[i]);
		for (size_t i = 0; i < ARRAY_LEN(units); i++)
			if (strcmp(suffix, units[i].suffix) == 0) {
				if (n > (uint64_t)(INT64_MAX / units[i].scale))
					break;
				*out = (int64_t)n * units[i].scale;
				return 0;
			}
	}
	return err_set(e, "bad size '%s': expected e.g. 1073741824, 512MiB, 1GiB, 1G, 500MB", text);
}

static int64_t event_max_age(const struct retention_limits *l, const struct event_tab *ev)
{
	for (size_t i = 0; i < l->nevents; i++)
		if (strcmp(l->events[i].key, ev->config_key) == 0)
			return l->events[i].max_age_s;
	return ev->default_max_age_s;
}

int tiers_configure(struct tiers *t, const struct retention_limits *l, struct err *e)
{
	struct store *s = t->store;
	/* The WAL is part of the file's footprint: bound it well below the cap.
	 * SQLite's own checkpoint runs inside whichever commit crosses the
	 * threshold, a tick's included, and takes tens of ms; so it is off and
	 * the WAL is checkpointed here as a unit of its own, small and often. */
	int64_t allow = 1 << 20;
	if (l->max_db_bytes && l->max_db_bytes / 16 < allow)
		allow = l->max_db_bytes / 16 < (256 << 10) ? (256 << 10) : l->max_db_bytes / 16;
	t->wal_allow_bytes = allow;
	t->max_db_bytes = l->max_db_bytes;
	char q[512];
	snprintf(q, sizeof(q), "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=%lld;",
		 (long long)allow);
	if (store_exec(s, q, e))
		return -1;
	if (!t->incremental && l->max_db_bytes)
		log_warn(
		    "%s was created without auto_vacuum=INCREMENTAL: pruned space is reused but "
		    "the file does not shrink (VACUUM it once to change that)",
		    sqlite3_db_filename(s->db, "main"));
	/* Readers (hindsight status) learn the limits from the database itself. */
	if (store_begin(s, e))
		return -1;
	int rc = 0;
	for (int tier = 0; tier < NTIERS && rc == 0; tier++) {
		snprintf(q, sizeof(q),
			 "INSERT OR REPLACE INTO meta(key, value) VALUES "
			 "('retention.max_age_s.%s', %lld)",
			 tier_names[tier], (long long)l->max_age_s[tier]);
		rc = store_exec(s, q, e);
	}
	for (size_t i = 0; i < t->nevents && rc == 0; i++) {
		snprintf(q, sizeof(q),
			 "INSERT OR REPLACE INTO meta(key, value) VALUES "
			 "('retention.max_age_s.%s', %lld)",
			 t->events[i].name, (long long)event_max_age(l, &t->events[i]));
		rc = store_exec(s, q, e);
	}
	snprintf(q, sizeof(q),
		 "INSERT OR REPLACE INTO meta(key, value) VALUES ('retention.max_db_bytes', %lld)",
		 (long long)l->max_db_bytes);
	if (rc == 0)
		rc = store_exec(s, q, e);
	if (rc) {
		store_rollback(s);
		return -1;
	}
	for (size_t i = 0; i < l->nevents; i++) {
		size_t j = 0;
		while (j < t->nevents && strcmp(t->events[j].config_key, l->events[i].key))
			j++;
		if (j == t->nevents)
			log_warn("retention.events.%s: no event table has this key (yet)",
				 l->events[i].key);
	}
	return store_commit(s, e);
}

/* Rows may leave a tier only once the next tier holds them: the smallest
 * watermark of that next tier over all tables, on an edge of the tier the
 * rows leave for (the 1h tier folds minutes in as they come, so only whole
 * hours below its watermark are complete). */
static int64_t min_rolled(const struct tiers *t, int tier)
{
	int64_t m = INT64_MAX;
	for (size_t i = 0; i < t->nseries; i++) {
		int64_t r = t->series[i].rolled[tier];
		if (r < m)
			m = r < 0 ? 0 : r;
	}
	return m == INT64_MAX ? m : align_down(m, tier_bucket_s[tier]);
}

static int move_boundary(struct tiers *t, const char *scope, int64_t v, struct err *e)
{
	sqlite3_bind_text(t->set_pruned, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(t->set_pruned, 2, v);
	return store_exec_stmt(t->store, t->set_pruned, e);
}

void tiers_age_clock(struct tiers *t, int64_t age_ts, int paused)
{
	t->age_ts = age_ts;
	t->age_paused = paused;
}

/* The time ages count from, or INT64_MIN while they must not be judged. */
static int64_t age_now(const struct tiers *t, int64_t now_ts)
{
	if (t->age_paused)
		return INT64_MIN;
	return t->age_ts && t->age_ts < now_ts ? t->age_ts : now_ts;
}

/* Deletes up to chunk_rows of the oldest rows at or before bound, in one
 * transaction that also counts them in prune_state (at now_ts, the newest
 * tick's time: a wall clock read here could be stepped). */
static int delete_chunk(struct tiers *t, sqlite3_stmt *nth, sqlite3_stmt *del, const char *scope,
			int64_t bound, int64_t now_ts, struct err *e)
{
	int64_t t0 = clock_mono_us();
	int64_t upto = bound;
	sqlite3_bind_int64(nth, 1, bound);
	sqlite3_bind_int64(nth, 2, t->chunk_rows);
	if (sqlite3_step(nth) == SQLITE_ROW)
		upto = sqlite3_column_int64(nth, 0);
	sqlite3_reset(nth);
	struct err inner;
	if (store_begin(t->store, &inner))
		return err_set(e, "pruning %s: %s", scope, inner.msg);
	sqlite3_bind_int64(del, 1, upto);
	if (store_exec_stmt(t->store, del, &inner)) {
		store_rollback(t->store);
		return err_set(e, "pruning %s: %s", scope, inner.msg);
	}
	int64_t n = sqlite3_changes(t->store->db);
	sqlite3_bind_text(t->note_removed, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(t->note_removed, 2, now_ts);
	sqlite3_bind_int64(t->note_removed, 3, n);
	if (store_exec_stmt(t->store, t->note_removed, &inner) || store_commit(t->store, &inner)) {
		store_rollback(t->store);
		return err_set(e, "pruning %s: %s", scope, inner.msg);
	}
	t->stats.removed_rows += n;
	t->unit_kind = "delete";
	tiers_adapt(&t->chunk_rows, clock_mono_us() - t0, t->unit_budget_us, 200000);
	return 0;
}

/* Moves the tier boundaries to what the age limits ask for, never past the
 * rows the next tier has not rolled yet. Boundaries sit on bucket edges of
 * the next tier, so the <t>_auto views switch tiers cleanly. */
static int age_boundaries(struct tiers *t, const struct retention_limits *l, int64_t now_ts,
			  int *did, struct err *e)
{
	now_ts = age_now(t, now_ts);
	for (int tier = 0; tier < NTIERS && now_ts != INT64_MIN; tier++) {
		if (!l->max_age_s[tier] || now_ts <= l->max_age_s[tier])
			continue;
		int64_t v = align_up(now_ts - l->max_age_s[tier], tier == TIER_RAW ? 60 : 3600);
		int64_t cap = tier + 1 < NTIERS ? min_rolled(t, tier + 1) : INT64_MAX;
		if (v > cap)
			v = cap;
		if (v <= t->pruned[tier])
			continue;
		if (move_boundary(t, tier_names[tier], v, e))
			return -1;
		t->pruned[tier] = v;
		t->unit_kind = "age boundary";
		*did = 1;
		return 0;
	}
	return 0;
}

static int64_t event_cutoff(const struct tiers *t, const struct retention_limits *l,
			    const struct event_tab *ev, int64_t now_ts)
{
	int64_t age = event_max_age(l, ev);
	now_ts = age_now(t, now_ts);
	int64_t v =
	    age && now_ts != INT64_MIN && now_ts > age ? align_up(now_ts - age, 60) : INT64_MIN;
	return t->pressure_ts > v ? t->pressure_ts : v;
}

/* One chunk of rows that are past their boundary, if any. */
static int prune_pending(struct tiers *t, const struct retention_limits *l, int64_t now_ts,
			 int *did, struct err *e)
{
	for (int tier = 0; tier < NTIERS; tier++)
		for (size_t i = 0; i < t->nseries; i++) {
			struct series_table *st = &t->series[i];
			if (tiers_oldest_after(st->oldest[tier], INT64_MIN) > t->pruned[tier])
				continue;
			*did = 1;
			return delete_chunk(t, st->nth[tier], st->del[tier], tier_names[tier],
					    t->pruned[tier], now_ts, e);
		}
	for (size_t i = 0; i < t->nevents; i++) {
		struct event_tab *ev = &t->events[i];
		int64_t cut = event_cutoff(t, l, ev, now_ts);
		if (cut == INT64_MIN)
			continue;
		if (cut > ev->pruned) {
			if (move_boundary(t, ev->name, cut, e))
				return -1;
			ev->pruned = cut;
		}
		if (tiers_oldest_after(ev->oldest, INT64_MIN) > cut)
			continue;
		*did = 1;
		return delete_chunk(t, ev->nth, ev->del, ev->name, cut, now_ts, e);
	}
	/* A dimension row that ended before the oldest row any tier keeps is
	 * referred to by nothing that is left. */
	for (size_t i = 0; i < t->ndims; i++) {
		struct event_tab *d = &t->dims[i];
		int64_t cut = t->pruned[TIER_1H];
		if (cut <= 0 || tiers_oldest_after(d->oldest, INT64_MIN) > cut)
			continue;
		*did = 1;
		return delete_chunk(t, d->nth, d->del, d->name, cut, now_ts, e);
	}
	return 0;
}

static int64_t live_bytes(struct store *s)
{
	int64_t pages = store_query_int(s, "PRAGMA page_count", 0);
	int64_t free_pages = store_query_int(s, "PRAGMA freelist_count", 0);
	return (pages - free_pages) * store_query_int(s, "PRAGMA page_size", 4096);
}

void tiers_disk_full(struct tiers *t, int64_t room_bytes)
{
	if (room_bytes <= 0) {
		t->full_target = 0;
		return;
	}
	int64_t live = live_bytes(t->store);
	t->full_target = live > room_bytes ? live - room_bytes : 1;
	t->warned_cap = 0;
}

/* When the pages in use exceed the cap (less room for the WAL and growth
 * until the next run), moves one boundary forward: raw first (ten minutes at
 * a time, event rows of the same age with it), then 1-minute (an hour), then
 * 1-hour rows (a day). The deletes follow in later units. */
static int size_cap(struct tiers *t, const struct retention_limits *l, int64_t now_ts, int *did,
		    struct err *e)
{
	int64_t cap = l->max_db_bytes;
	int64_t target = cap ? cap - 2 * t->wal_allow_bytes - cap / 32 : INT64_MAX;
	if (t->full_target && t->full_target < target)
		target = t->full_target;
	if (target == INT64_MAX)
		return 0;
	int64_t live = live_bytes(t->store);
	if (live <= target) {
		t->warned_cap = 0;
		return 0;
	}
	static const int64_t step[NTIERS] = {600, 3600, 86400};
	for (int tier = 0; tier < NTIERS; tier++) {
		int64_t oldest = INT64_MAX;
		for (size_t i = 0; i < t->nseries; i++) {
			int64_t o = tiers_oldest_after(t->series[i].oldest[tier], t->pruned[tier]);
			oldest = o < oldest ? o : oldest;
		}
		if (oldest == INT64_MAX)
			continue;
		int64_t base = align_down(oldest, tier == TIER_RAW ? 60 : 3600);
		if (base < t->pruned[tier])
			base = t->pruned[tier];
		int64_t v = base + step[tier];
		int64_t limit = tier + 1 < NTIERS ? min_rolled(t, tier + 1) : now_ts;
		if (v > limit)
			v = limit;
		if (v <= t->pruned[tier])
			continue;
		if (move_boundary(t, tier_names[tier], v, e))
			return -1;
		t->pruned[tier] = v;
		if (tier == TIER_RAW)
			t->pressure_ts = v;
		t->unit_kind = "size boundary";
		*did = 1;
		return 0;
	}
	if (!t->warned_cap)
		log_warn("%s: %lld bytes in use and nothing more can be pruned (the rows not "
			 "rolled up yet must stay)",
			 t->full_target ? "disk full" : "max_db_size", (long long)live);
	t->warned_cap = 1;
	return 0;
}

/* Returns free pages to the file system a chunk at a time; the file itself
 * shrinks when the WAL is checkpointed. */
static int give_back(struct tiers *t, int *did, struct err *e)
{
	/* On a full disk the freed pages stay in the file for the next ticks:
	 * given back, any other writer on the disk could take them. */
	if (!t->incremental || t->full_target)
		return 0;
	int64_t before = store_query_int(t->store, "PRAGMA freelist_count", 0);
	if (before == 0)
		return 0;
	int64_t t0 = clock_mono_us();
	char q[64];
	snprintf(q, sizeof(q), "PRAGMA incremental_vacuum(%lld)", (long long)t->vacuum_pages);
	if (store_exec(t->store, q, e))
		return -1;
	tiers_adapt(&t->vacuum_pages, clock_mono_us() - t0, t->unit_budget_us, 16384);
	int64_t after = store_query_int(t->store, "PRAGMA freelist_count", 0);
	if (after < before) {
		t->given_back += before - after;
		t->unit_kind = "vacuum";
		*did = 1;
	}
	return 0;
}

static int64_t file_size(const char *path)
{
	struct stat st;
	return path && *path && stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static int64_t wal_bytes(struct tiers *t)
{
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s-wal", sqlite3_db_filename(t->store->db, "main"));
	return file_size(wal);
}

int64_t tiers_file_bytes(struct tiers *t)
{
	return file_size(sqlite3_db_filename(t->store->db, "main")) + wal_bytes(t);
}

/* Copies the WAL into the file (which lets the file shrink after a vacuum)
 * and restarts it: when it outgrew its allowance, or when pages were given
 * back (a megabyte, or any while the file is over the cap; a checkpoint
 * costs an fsync). Inline it is a TRUNCATE checkpoint that never waits for
 * readers. With the checkpoint thread, it is requested there, and *wait
 * says the WAL is too big and its checkpoint still running: new frames
 * would keep the checkpoint from ever catching up, so the caller pauses. */
static int trim_wal(struct tiers *t, int *did, int only_if_big, int *wait)
{
	int64_t wal = wal_bytes(t);
	int big = wal > t->wal_allow_bytes;
	int shrink = !only_if_big && wal > 0 &&
		     (t->given_back >= 256 ||
		      (t->given_back && t->max_db_bytes && tiers_file_bytes(t) > t->max_db_bytes));
	if (t->ckpt) {
		int64_t runs = checkpointer_runs(t->ckpt);
		if (t->ckpt_asked >= 0 && runs <= t->ckpt_asked) {
			*wait = big;
			return 0;
		}
		t->ckpt_asked = -1;
		if (big || shrink) {
			t->given_back = 0;
			t->ckpt_asked = runs;
			checkpointer_request(t->ckpt);
			*wait = big;
		}
		return 0;
	}
	if (!big && !shrink)
		return 0;
	t->given_back = 0;
	int rc =
	    sqlite3_wal_checkpoint_v2(t->store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (rc == SQLITE_OK && wal > 0) {
		t->unit_kind = "checkpoint";
		*did = 1;
	} else if (rc != SQLITE_OK) {
		log_debug("WAL checkpoint deferred: %s", sqlite3_errstr(rc));
	}
	return 0;
}

int retention_unit(struct tiers *t, const struct retention_limits *l, int64_t now_ts, int *did,
		   struct err *e)
{
	int rc;
	*did = 0;
	if ((rc = age_boundaries(t, l, now_ts, did, e)) || *did)
		return rc;
	if ((rc = prune_pending(t, l, now_ts, did, e)) || *did)
		return rc;
	if ((rc = size_cap(t, l, now_ts, did, e)) || *did)
		return rc;
	if ((rc = give_back(t, did, e)) || *did)
		return rc;
	int wait = 0;
	return trim_wal(t, did, 0, &wait);
}

int tiers_run(struct tiers *t, const struct retention_limits *l, int64_t now_ts, int64_t budget_us,
	      int *more, struct err *e)
{
	int64_t t0 = clock_mono_us();
	int rc = 0;
	*more = 0;
	/* Never wait for a lock another process holds: the loop would stall
	 * for the whole busy timeout. Busy work is retried on the next pass. */
	sqlite3_busy_timeout(t->store->db, 0);
	for (;;) {
		int did = 0;
		int64_t u0 = clock_mono_us();
		int wait = 0;
		trim_wal(t, &did, 1, &wait); /* first: the WAL must not outgrow its allowance */
		if (wait) {
			*more = 1;
			break;
		}
		if (!did)
			rc = rollup_unit(t, now_ts, &did, e);
		if (rc == 0 && !did)
			rc = retention_unit(t, l, now_ts, &did, e);
		if (rc || !did)
			break;
		int64_t took = clock_mono_us() - u0;
		if (took > 4 * t->unit_budget_us)
			log_debug("retention: slow unit (%s): %lld us", t->unit_kind,
				  (long long)took);
		if (took > t->slowest_us) {
			t->slowest_us = took;
			t->slowest_kind = t->unit_kind;
		}
		/* stop before a unit like the last would overrun the budget */
		if (clock_mono_us() - t0 + took >= budget_us) {
			*more = 1;
			break;
		}
	}
	/* (a rollback after the failure may have reset the error code) */
	if (rc && ((sqlite3_errcode(t->store->db) & 0xff) == SQLITE_BUSY ||
		   strstr(e->msg, "database is locked"))) {
		log_debug("retention: %s; later", e->msg);
		rc = 0;
	}
	sqlite3_busy_timeout(t->store->db, STORE_BUSY_TIMEOUT_MS);
	t->stats.work_us += clock_mono_us() - t0;
	return rc;
}
