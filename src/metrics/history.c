/* The stored history as Prometheus samples (history.h): every mapped table
 * is read a page of time at a time, the pages' rows merged in ts order and
 * fed tick by tick to a metric_set, the same series /metrics renders. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/history.h"

/* Rows are read in pages of this much time, each one read transaction. */
#define PAGE_S 900

/* One mapped table as the history reads it. */
struct source {
	int table;  /* index in map.tables */
	char *sql;  /* its rows in (?1, ?2], ordered by time */
	int tcol;   /* index of its time column in the table's columns; -1: none */
	int tiered; /* read through <table>_auto (raw, then rollups) */
	int clock;  /* its rows carry the ticks' times: they make the ticks */
	/* per relation holding rows (the table, <t>_1m, <t>_1h): max(time)
	 * before ?1 and min(time) after ?1, index lookups to find the ends of
	 * the data */
	sqlite3_stmt *newest[3], *oldest[3];
	sqlite3_stmt *st; /* the current page; NULL between pages */
	int has_row;	  /* st is on a row */
	int64_t row_ts;
};

struct metric_history {
	sqlite3 *db;
	sqlite3_stmt *anchor; /* holds a page's snapshot (snapshot_begin) */
	struct metric_map map;
	struct metric_set *set;
	struct source *src;
	size_t nsrc;
	unsigned char *family_on;      /* per family: selected */
	unsigned char *table_on;       /* per table: feeds a selected family */
	int64_t *dim_max;	       /* per dimension: the highest id loaded */
	int64_t since, until, done_ts; /* rows up to done_ts are fed */
	int64_t gone_ts;	       /* dimension rows that ended up to it are dropped */
	int64_t page_hi;	       /* the open page ends here; done_ts < page_hi */
	int in_page;
	int64_t tick;
	int64_t prev_tick; /* the tick before (INT64_MIN: tick is the first) */
	int yielded;	   /* a tick was yielded */
	int follow;	   /* metric_history_follow */
	/* the visit in progress */
	history_sample_fn fn;
	void *arg;
	int stopped;
	int visiting; /* the family being visited */
};

/* A source's row: the table's columns in order, then samples_count when
 * the relation has it (METRIC_ROW_WEIGHT). */
static sqlite3_value *stmt_col(void *row, int col)
{
	sqlite3_stmt *st = row;
	int n = sqlite3_column_count(st);
	if (col == METRIC_ROW_WEIGHT)
		return n > 0 && !strcmp(sqlite3_column_name(st, n - 1), "samples_count")
			   ? sqlite3_column_value(st, n - 1)
			   : NULL;
	return col >= 0 && col < n ? sqlite3_column_value(st, col) : NULL;
}

/* ---- what to read ---- */

static int has_relation(sqlite3 *db, const char *name, const char *type)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1 AND type = ?2", -1,
			       &st, NULL))
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Whether a relation has a column of that name. */
static int has_column(sqlite3 *db, const char *rel, const char *col)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
			       NULL))
		return 0;
	sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Index of a column of the table, or -1. */
static int column_index(const struct metric_table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i], name))
			return i;
	return -1;
}

/* The time column of a table: ts, else first_seen_ts (boot); -1: none. */
static int time_column(const struct metric_table *t)
{
	int c = column_index(t, "ts");
	return c >= 0 ? c : column_index(t, "first_seen_ts");
}

/* The mapped table a relation's name stands for: t, or one of the tiers'
 * relations t_auto, t_at_raw, t_at_1m, t_at_1h, t_1m, t_1h. -1: none. */
static int table_of_relation(const struct metric_map *m, const char *name)
{
	static const char *const tails[] = {"_auto", "_at_raw", "_at_1m", "_at_1h", "_1m", "_1h"};
	int t = metric_map_table(m, name);
	size_t n = strlen(name);
	for (size_t i = 0; t < 0 && i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t k = strlen(tails[i]);
		char base[64];
		if (n <= k || n - k >= sizeof(base) || strcmp(name + n - k, tails[i]))
			continue;
		memcpy(base, name, n - k);
		base[n - k] = '\0';
		t = metric_map_table(m, base);
	}
	return t;
}

static void select_table(struct metric_history *h, int t)
{
	const struct metric_table *mt = &h->map.tables[t];
	for (size_t j = 0; j < mt->nmaps; j++)
		h->family_on[mt->maps[j].family] = 1;
}

/* Selects the families of every mapped table a view's SQL names, through
 * the views it reads (up to a depth). Returns how many tables it found. */
static int select_view(struct metric_history *h, const char *view, int depth)
{
	sqlite3_stmt *st;
	int found = 0;
	if (depth > 4 || sqlite3_prepare_v2(h->db,
					    "SELECT sql FROM sqlite_master WHERE type = 'view' AND "
					    "name = ?1",
					    -1, &st, NULL))
		return 0;
	sqlite3_bind_text(st, 1, view, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		char *sql = strdup((const char *)sqlite3_column_text(st, 0));
		for (char *p = sql; p && *p;) {
			if (!isalpha((unsigned char)*p) && *p != '_') {
				p++;
				continue;
			}
			char word[128];
			size_t n = 0;
			while (isalnum((unsigned char)*p) || *p == '_') {
				if (n < sizeof(word) - 1)
					word[n++] = *p;
				p++;
			}
			word[n] = '\0';
			int t = table_of_relation(&h->map, word);
			if (t >= 0) {
				select_table(h, t);
				found++;
			} else if (strcmp(word, view) && has_relation(h->db, word, "view")) {
				found += select_view(h, word, depth + 1);
			}
		}
		free(sql);
	}
	sqlite3_finalize(st);
	return found;
}

/* Marks the families the names ask for (every one when there are none). */
static int select_names(struct metric_history *h, const char *const *names, size_t nnames,
			struct err *e)
{
	for (size_t f = 0; f < h->map.nfamilies; f++)
		h->family_on[f] = nnames == 0;
	for (size_t i = 0; i < nnames; i++) {
		int f = metric_map_family(&h->map, names[i]);
		int t = metric_map_table(&h->map, names[i]);
		if (f >= 0)
			h->family_on[f] = 1;
		else if (t >= 0)
			select_table(h, t);
		else if (!has_relation(h->db, names[i], "view"))
			return err_set(e,
				       "%s: no such metric family, table or view (the names are in "
				       "metric_family, the tables in metric_column)",
				       names[i]);
		else if (!select_view(h, names[i], 0))
			return err_set(e,
				       "view %s reads no table that has Prometheus names "
				       "(metric_column)",
				       names[i]);
	}
	for (size_t t = 0; t < h->map.ntables; t++) {
		const struct metric_table *mt = &h->map.tables[t];
		for (size_t j = 0; j < mt->nmaps; j++)
			if (h->family_on[mt->maps[j].family])
				h->table_on[t] = 1;
	}
	return 0;
}

/* The statements finding the ends of a source's data in each relation
 * that holds its rows. */
static int source_edges(struct metric_history *h, struct source *s)
{
	const struct metric_table *t = &h->map.tables[s->table];
	static const char *const tails[3] = {"", "_1m", "_1h"};
	if (s->tcol < 0)
		return 0;
	for (int i = 0; i < (s->tiered ? 3 : 1); i++) {
		char rel[80], sql[256];
		const char *c = t->cols[s->tcol];
		snprintf(rel, sizeof(rel), "%s%s", t->name, tails[i]);
		if (!has_relation(h->db, rel, "table"))
			continue;
		snprintf(sql, sizeof(sql), "SELECT max(\"%s\") FROM \"%s\" WHERE \"%s\" < ?1", c,
			 rel, c);
		if (sqlite3_prepare_v2(h->db, sql, -1, &s->newest[i], NULL))
			s->newest[i] = NULL;
		snprintf(sql, sizeof(sql), "SELECT min(\"%s\") FROM \"%s\" WHERE \"%s\" > ?1", c,
			 rel, c);
		if (sqlite3_prepare_v2(h->db, sql, -1, &s->oldest[i], NULL))
			s->oldest[i] = NULL;
	}
	return 0;
}

/* One integer from a statement (bound to ?1 when it has a parameter), or
 * dflt when it gives NULL or fails. */
static int64_t scalar(sqlite3_stmt *st, int64_t arg, int64_t dflt)
{
	int64_t v = dflt;
	if (!st)
		return dflt;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* The statement reading a table's rows: its columns in table order from
 * the relation that holds its history (NULL for one the relation lacks). */
static int source_sql(struct metric_history *h, struct source *s, struct err *e)
{
	const struct metric_table *t = &h->map.tables[s->table];
	char rel[80];
	snprintf(rel, sizeof(rel), "%s_auto", t->name);
	s->tiered = s->tcol >= 0 && has_relation(h->db, rel, "view");
	if (!s->tiered)
		snprintf(rel, sizeof(rel), "%s", t->name);
	size_t cap = 64 + (size_t)t->ncols * 72 + 3 * 80;
	char *sql = malloc(cap);
	if (!sql)
		return err_set(e, "out of memory");
	size_t len = (size_t)snprintf(sql, cap, "SELECT ");
	for (int c = 0; c < t->ncols; c++) {
		int has = has_column(h->db, rel, t->cols[c]);
		len +=
		    (size_t)snprintf(sql + len, cap - len, "%s%s%s%s", c ? ", " : "",
				     has ? "\"" : "NULL", has ? t->cols[c] : "", has ? "\"" : "");
	}
	if (column_index(t, "samples_count") < 0 && has_column(h->db, rel, "samples_count"))
		len += (size_t)snprintf(sql + len, cap - len, ", samples_count");
	if (s->tcol >= 0)
		snprintf(sql + len, cap - len,
			 " FROM \"%s\" WHERE \"%s\" > ?1 AND \"%s\" <= ?2 ORDER BY \"%s\"", rel,
			 t->cols[s->tcol], t->cols[s->tcol], t->cols[s->tcol]);
	else
		snprintf(sql + len, cap - len, " FROM \"%s\" WHERE ?1 IS NOT ?2", rel);
	s->sql = sql;
	if (sqlite3_prepare_v2(h->db, sql, -1, &s->st, NULL))
		return err_set(e, "history: reading %s: %s", rel, sqlite3_errmsg(h->db));
	return source_edges(h, s);
}

/* ---- reading ---- */

/* A page's reads share one snapshot without BEGIN (which a reader under
 * the query tool's authorizer may not run): a connection in autocommit
 * holds its read transaction while any statement of it is active, so a
 * statement stepped onto a row and left there anchors it until reset. */
static int snapshot_begin(struct metric_history *h, struct err *e)
{
	int rc = sqlite3_step(h->anchor);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(h->anchor);
		return err_set(e, "history: reading the database: %s", sqlite3_errmsg(h->db));
	}
	return 0;
}

static void snapshot_end(struct metric_history *h)
{
	sqlite3_reset(h->anchor);
}

/* Rows of one source in (lo, hi]: steps onto the first. */
static int source_start(struct metric_history *h, struct source *s, int64_t lo, int64_t hi,
			struct err *e)
{
	sqlite3_reset(s->st);
	sqlite3_bind_int64(s->st, 1, lo);
	sqlite3_bind_int64(s->st, 2, hi);
	s->has_row = 0;
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW) {
		s->has_row = 1;
		s->row_ts = s->tcol >= 0 ? sqlite3_column_int64(s->st, s->tcol) : 0;
		return 0;
	}
	sqlite3_reset(s->st);
	if (rc != SQLITE_DONE)
		return err_set(e, "history: reading %s: %s", h->map.tables[s->table].name,
			       sqlite3_errmsg(h->db));
	return 0;
}

/* Feeds the source's rows of the tick (a clock's rows of that time, other
 * sources' up to it) and steps past them; INT64_MAX: every row. */
static int source_feed(struct metric_history *h, struct source *s, int64_t tick, struct err *e)
{
	while (s->has_row &&
	       (s->clock && tick != INT64_MAX ? s->row_ts == tick : s->row_ts <= tick)) {
		if (metric_set_row(h->set, s->table, stmt_col, s->st))
			return err_set(e, "history: out of memory");
		int rc = sqlite3_step(s->st);
		if (rc == SQLITE_ROW) {
			s->row_ts = s->tcol >= 0 ? sqlite3_column_int64(s->st, s->tcol) : 0;
			continue;
		}
		s->has_row = 0;
		sqlite3_reset(s->st);
		if (rc != SQLITE_DONE)
			return err_set(e, "history: reading %s: %s", h->map.tables[s->table].name,
				       sqlite3_errmsg(h->db));
	}
	return 0;
}

/* Dimension rows (devices, groups, mounts) added since the last look. */
static int load_dims(struct metric_history *h, struct err *e)
{
	for (size_t d = 0; d < h->map.ndims; d++) {
		char sql[160];
		sqlite3_stmt *st;
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" WHERE id > ?1 ORDER BY id",
			 h->map.dims[d].name);
		if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL))
			return err_set(e, "history: reading %s: %s", h->map.dims[d].name,
				       sqlite3_errmsg(h->db));
		sqlite3_bind_int64(st, 1, h->dim_max[d]);
		int rc, bad = 0;
		while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			bad = metric_set_dim_row(h->set, (int)d, stmt_col, st);
			int64_t id = sqlite3_column_int64(st, h->map.dims[d].id_col);
			if (id > h->dim_max[d])
				h->dim_max[d] = id;
		}
		sqlite3_finalize(st);
		if (bad)
			return err_set(e, "history: out of memory");
	}
	return 0;
}

/* Dimension rows that ended in (gone_ts, upto] leave the set with their
 * series, as they left /metrics at that tick. */
static int drop_ended(struct metric_history *h, int64_t upto, struct err *e)
{
	for (size_t d = 0; d < h->map.ndims; d++) {
		const struct metric_dim *md = &h->map.dims[d];
		char sql[256];
		sqlite3_stmt *st;
		if (md->gone_col < 0)
			continue;
		snprintf(sql, sizeof(sql),
			 "SELECT id FROM \"%s\" WHERE \"%s\" > ?1 AND \"%s\" <= ?2", md->name,
			 md->gone_name, md->gone_name);
		if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL))
			return err_set(e, "history: reading %s: %s", md->name,
				       sqlite3_errmsg(h->db));
		sqlite3_bind_int64(st, 1, h->gone_ts);
		sqlite3_bind_int64(st, 2, upto);
		int bad = 0;
		while (!bad && sqlite3_step(st) == SQLITE_ROW)
			bad = metric_set_dim_gone(h->set, (int)d, sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
		if (bad)
			return err_set(e, "history: out of memory");
	}
	h->gone_ts = upto;
	return 0;
}

/* The newest tick stored before `before`. The newest rollup row past the
 * newest raw row is a bucket still being filled, dated at its end, in the
 * future (the hour a 1h row is being summed into): taken as the end of the
 * data, it would make a follower's page pass over the ticks still to come.
 * Rollups end the data only where no raw row is left. */
static int64_t newest_before(struct metric_history *h, int64_t before)
{
	int64_t newest[2] = {INT64_MIN, INT64_MIN}; /* raw, rolled up */
	for (size_t i = 0; i < h->nsrc; i++)
		for (int k = 0; k < 3 && h->src[i].clock; k++) {
			int64_t n = scalar(h->src[i].newest[k], before, INT64_MIN);
			if (n > newest[k > 0])
				newest[k > 0] = n;
		}
	return newest[0] != INT64_MIN ? newest[0] : newest[1];
}

/* The oldest tick stored after `after`, and the newest one the iterator
 * may read: the newest stored or, when following, the one before it
 * (rows stamped with an event's own time, such as exits and kernel log
 * records, are committed by the tick after it). */
static void data_edges(struct metric_history *h, int64_t after, int64_t *oldest, int64_t *newest)
{
	*oldest = INT64_MAX;
	for (size_t i = 0; i < h->nsrc; i++)
		for (int k = 0; k < 3 && h->src[i].clock; k++) {
			int64_t o = scalar(h->src[i].oldest[k], after, INT64_MAX);
			if (o < *oldest)
				*oldest = o;
		}
	*newest = newest_before(h, INT64_MAX);
	if (h->follow && *newest != INT64_MIN)
		*newest = newest_before(h, *newest);
}

/* Which sources make the ticks: the time series (their rows are stamped
 * with the tick that wrote them); events and state between two ticks are
 * taken at the later one. With no time series selected, every row's time
 * is a tick. */
static void choose_clocks(struct metric_history *h)
{
	int series = 0;
	for (size_t i = 0; i < h->nsrc; i++)
		series |= h->src[i].tiered;
	for (size_t i = 0; i < h->nsrc; i++)
		h->src[i].clock = series ? h->src[i].tiered : h->src[i].tcol >= 0;
}

/* The state at since: dimensions, the state tables as they stood, the
 * gauges of the hour before; counters then start at 0. */
static int load_start(struct metric_history *h, struct err *e)
{
	if (snapshot_begin(h, e))
		return -1;
	int rc = load_dims(h, e);
	metric_set_follow(h->set);
	for (size_t i = 0; rc == 0 && i < h->nsrc; i++) {
		struct source *s = &h->src[i];
		const struct metric_table *t = &h->map.tables[s->table];
		if (s->tcol >= 0 && !s->tiered && !t->state)
			continue; /* events before the range count nothing */
		int64_t lo = s->tcol < 0 || t->state ? INT64_MIN : h->since - HISTORY_LOOKBACK_S;
		rc = source_start(h, s, lo, h->since, e) || source_feed(h, s, INT64_MAX, e);
	}
	h->gone_ts = INT64_MIN;
	if (rc == 0)
		rc = drop_ended(h, h->since, e);
	metric_set_commit(h->set);
	metric_set_zero_counters(h->set);
	snapshot_end(h);
	h->done_ts = h->since;
	return rc ? -1 : 0;
}

int metric_history_open(struct metric_history **out, sqlite3 *db, int64_t since, int64_t until,
			const char *const *names, size_t nnames, struct err *e)
{
	struct metric_history *h = calloc(1, sizeof(*h));
	*out = NULL;
	if (!h)
		return err_set(e, "out of memory");
	h->db = db;
	h->since = since;
	h->until = until;
	if (until <= since) {
		free(h);
		return err_set(e, "the range is empty: its end is not after its start");
	}
	if (metric_map_load(&h->map, db, e)) {
		free(h);
		return -1;
	}
	h->family_on = calloc(h->map.nfamilies + 1, 1);
	h->table_on = calloc(h->map.ntables + 1, 1);
	h->dim_max = calloc(h->map.ndims + 1, sizeof(*h->dim_max));
	h->src = calloc(h->map.ntables + 1, sizeof(*h->src));
	h->set = metric_set_new(&h->map);
	if (!h->family_on || !h->table_on || !h->dim_max || !h->src || !h->set) {
		metric_history_close(h);
		return err_set(e, "out of memory");
	}
	for (size_t d = 0; d < h->map.ndims; d++)
		h->dim_max[d] = INT64_MIN;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master", -1, &h->anchor, NULL)) {
		err_set(e, "history: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (select_names(h, names, nnames, e))
		goto fail;
	for (size_t t = 0; t < h->map.ntables; t++) {
		if (!h->table_on[t])
			continue;
		struct source *s = &h->src[h->nsrc++];
		s->table = (int)t;
		s->tcol = time_column(&h->map.tables[t]);
		if (source_sql(h, s, e))
			goto fail;
	}
	choose_clocks(h);
	if (load_start(h, e))
		goto fail;
	*out = h;
	return 0;
fail:
	metric_history_close(h);
	return -1;
}

/* Ends the page's read transaction. */
static void page_end(struct metric_history *h)
{
	for (size_t i = 0; i < h->nsrc; i++) {
		sqlite3_reset(h->src[i].st);
		h->src[i].has_row = 0;
	}
	h->in_page = 0;
	snapshot_end(h);
}

/* Opens the next page of time: 0 when there is none (yet). */
static int page_begin(struct metric_history *h, struct err *e)
{
	if (snapshot_begin(h, e))
		return -1;
	int64_t oldest, newest;
	data_edges(h, h->done_ts, &oldest, &newest);
	/* No page of empty time: the next one starts at the next tick. It ends
	 * on a tick, so the events up to its end are taken by its ticks. */
	int64_t from = oldest == INT64_MAX ? h->done_ts : oldest - 1;
	int64_t bound = from > h->until - PAGE_S ? h->until : from + PAGE_S;
	if (newest < bound)
		bound = newest;
	int64_t hi =
	    oldest == INT64_MAX || bound == INT64_MAX ? INT64_MIN : newest_before(h, bound + 1);
	if (hi <= h->done_ts) {
		snapshot_end(h);
		return 0;
	}
	if (load_dims(h, e))
		goto fail;
	for (size_t i = 0; i < h->nsrc; i++)
		if (h->src[i].tcol >= 0 && source_start(h, &h->src[i], h->done_ts, hi, e))
			goto fail;
	h->page_hi = hi;
	h->in_page = 1;
	return 1;
fail:
	for (size_t i = 0; i < h->nsrc; i++)
		sqlite3_reset(h->src[i].st);
	snapshot_end(h);
	return -1;
}

int metric_history_next(struct metric_history *h, int64_t *ts, struct err *e)
{
	for (;;) {
		if (!h->in_page) {
			int rc = page_begin(h, e);
			if (rc <= 0)
				return rc;
		}
		int64_t tick = INT64_MAX;
		for (size_t i = 0; i < h->nsrc; i++)
			if (h->src[i].clock && h->src[i].has_row && h->src[i].row_ts < tick)
				tick = h->src[i].row_ts;
		if (tick == INT64_MAX) {
			h->done_ts = h->page_hi;
			page_end(h);
			continue;
		}
		for (size_t i = 0; i < h->nsrc; i++)
			if (source_feed(h, &h->src[i], tick, e)) {
				page_end(h);
				return -1;
			}
		if (drop_ended(h, tick, e)) {
			page_end(h);
			return -1;
		}
		metric_set_commit(h->set);
		h->prev_tick = h->yielded ? h->tick : INT64_MIN;
		h->yielded = 1;
		h->tick = tick;
		*ts = tick;
		return 1;
	}
}

void metric_history_follow(struct metric_history *h)
{
	h->follow = 1;
}

int metric_history_pause(struct metric_history *h, struct err *e)
{
	if (!h->in_page)
		return 0;
	(void)e;
	h->done_ts = h->tick;
	page_end(h);
	return 0;
}

static void visit_one(void *arg, const char *labels, double value, const struct metric_scale *sc,
		      uint64_t born)
{
	struct metric_history *h = arg;
	if (h->stopped)
		return;
	const struct metric_family *f = &h->map.families[h->visiting];
	int appeared = f->sums && born == metric_set_commits(h->set) && h->prev_tick != INT64_MIN;
	struct history_sample s = {
	    .ts = h->tick,
	    .family = h->visiting,
	    .fam = &h->map.families[h->visiting],
	    .labels = labels,
	    .value = value * sc->factor,
	    .raw = value,
	    .scale = sc,
	    .zero_ts = appeared ? h->prev_tick : INT64_MIN,
	};
	h->stopped = h->fn(h->arg, &s);
}

int metric_history_samples(struct metric_history *h, history_sample_fn fn, void *arg)
{
	h->fn = fn;
	h->arg = arg;
	h->stopped = 0;
	for (size_t f = 0; f < h->map.nfamilies && !h->stopped; f++) {
		if (!h->family_on[f])
			continue;
		h->visiting = (int)f;
		metric_set_visit_born(h->set, (int)f, visit_one, h);
	}
	return h->stopped;
}

const struct metric_map *metric_history_map(const struct metric_history *h)
{
	return &h->map;
}

int metric_history_selected(const struct metric_history *h, int family)
{
	return family >= 0 && (size_t)family < h->map.nfamilies && h->family_on[family];
}

void metric_history_close(struct metric_history *h)
{
	if (!h)
		return;
	if (h->in_page)
		page_end(h);
	sqlite3_finalize(h->anchor);
	for (size_t i = 0; i < h->nsrc; i++) {
		sqlite3_finalize(h->src[i].st);
		for (int k = 0; k < 3; k++) {
			sqlite3_finalize(h->src[i].newest[k]);
			sqlite3_finalize(h->src[i].oldest[k]);
		}
		free(h->src[i].sql);
	}
	free(h->src);
	metric_set_free(h->set);
	metric_map_free(&h->map);
	free(h->family_on);
	free(h->table_on);
	free(h->dim_max);
	free(h);
}
