/* Rollup tiers: reading the declarations in series_column, creating the
 * rollup tables and views they imply, and rolling complete buckets behind a
 * watermark so every bucket is written exactly once. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/tiers.h"

const char *const tier_names[NTIERS] = {"raw", "1m", "1h"};
const int64_t tier_bucket_s[NTIERS] = {0, 60, 3600};

/* A growing SQL text; building stops at the first overflow, reported once. */
struct sql {
	char text[32768];
	size_t len;
	int overflow;
};

static void sql_add(struct sql *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_add(struct sql *q, const char *fmt, ...)
{
	if (q->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(q->text + q->len, sizeof(q->text) - q->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->text) - q->len)
		q->overflow = 1;
	else
		q->len += (size_t)n;
}

/* Names from the metadata are pasted into SQL, so they must be plain
 * identifiers; anything else is refused rather than quoted. */
static int plain_ident(const char *s)
{
	if (!*s || strlen(s) >= 56 || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int kind_parse(const char *s, enum series_kind *k)
{
	static const char *const names[] = {"key", "counter", "gauge", "gauge_peak"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*k = (enum series_kind)i;
			return 0;
		}
	return -1;
}

/* The declared kind of table.column, or -1 when the column is not declared. */
static int declared_kind(struct store *s, const char *table, const char *col, enum series_kind *k)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		s->db, "SELECT kind FROM series_column WHERE table_name=?1 AND column_name=?2", -1,
		&st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = kind_parse((const char *)sqlite3_column_text(st, 0), k);
	sqlite3_finalize(st);
	return rc;
}

/* Fills st->cols from the raw table's columns in their order, checking that
 * every declared column exists and that ts is there and not declared.
 * Generated columns count too (table_xinfo lists them; table_info does
 * not): a value derived from a tick's own row, such as a rate, is a gauge
 * whose peak the tiers keep (schema/011_peaks.sql). */
static int load_series_table(struct store *s, struct series_table *st, struct err *e)
{
	char q[160];
	sqlite3_stmt *info;
	snprintf(q, sizeof(q), "PRAGMA table_xinfo(%s)", st->name);
	if (sqlite3_prepare_v2(s->db, q, -1, &info, NULL) != SQLITE_OK)
		return err_set(e, "series table %s: %s", st->name, sqlite3_errmsg(s->db));
	int have_ts = 0, declared = 0;
	while (sqlite3_step(info) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(info, 1);
		const char *type = (const char *)sqlite3_column_text(info, 2);
		enum series_kind k;
		if (strcmp(name, "ts") == 0) {
			have_ts = 1;
			continue;
		}
		if (declared_kind(s, st->name, name, &k))
			continue; /* not part of the tiers */
		if (st->ncols == SERIES_MAX_COLS || !plain_ident(name)) {
			sqlite3_finalize(info);
			return err_set(
			    e, "series table %s: column %s: too many columns or not a plain name",
			    st->name, name);
		}
		struct series_col *c = &st->cols[st->ncols++];
		snprintf(c->name, sizeof(c->name), "%s", name);
		snprintf(c->type, sizeof(c->type), "%s", type && *type ? type : "INTEGER");
		c->kind = k;
		declared++;
	}
	sqlite3_finalize(info);
	if (!have_ts)
		return err_set(e, "series table %s: no such table, or it has no ts column",
			       st->name);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM series_column WHERE table_name='%s' AND column_name <> 'ts'",
		 st->name);
	if (store_query_int(s, q, -1) != declared)
		return err_set(e,
			       "series_column declares a column of %s that the table does not have "
			       "(or an unknown kind, or ts itself)",
			       st->name);
	return 0;
}

/* One column of a rollup table: its name, type and how it is computed from
 * the raw table and from the 1-minute tier. */
struct rcol {
	char name[72];
	const char *type;
	char from_raw[96];
	char from_1m[96];
	int key;
	int merge; /* how two partial rows combine: MERGE_* */
};

enum { MERGE_SUM, MERGE_KEY, MERGE_MIN, MERGE_MAX };

static int rollup_columns(const struct series_table *st, struct rcol *out, int max)
{
	int n = 0;
#define RCOL(nm, ty, fr, f1, k)                                                                    \
	do {                                                                                       \
		if (n == max)                                                                      \
			return -1;                                                                 \
		struct rcol *r = &out[n++];                                                        \
		snprintf(r->name, sizeof(r->name), "%s", nm);                                      \
		r->type = ty;                                                                      \
		snprintf(r->from_raw, sizeof(r->from_raw), "%s", fr);                              \
		snprintf(r->from_1m, sizeof(r->from_1m), "%s", f1);                                \
		r->key = (k) == MERGE_KEY;                                                         \
		r->merge = k;                                                                      \
	} while (0)
	char a[72], b[96], c[96];
	for (int i = 0; i < st->ncols; i++) {
		const struct series_col *col = &st->cols[i];
		const char *nm = col->name;
		if (col->kind == KIND_KEY)
			RCOL(nm, col->type, nm, nm, MERGE_KEY);
	}
	RCOL("samples_count", "INTEGER", "count(*)", "sum(samples_count)", 0);
	for (int i = 0; i < st->ncols; i++) {
		const struct series_col *col = &st->cols[i];
		const char *nm = col->name;
		switch (col->kind) {
		case KIND_KEY:
			break;
		case KIND_COUNTER:
			snprintf(b, sizeof(b), "sum(%s)", nm);
			RCOL(nm, col->type, b, b, 0);
			break;
		case KIND_GAUGE:
		case KIND_GAUGE_PEAK:
			snprintf(a, sizeof(a), "sum_%s", nm);
			snprintf(b, sizeof(b), "sum(%s)", nm);
			snprintf(c, sizeof(c), "sum(sum_%s)", nm);
			RCOL(a, col->type, b, c, 0);
			snprintf(a, sizeof(a), "count_%s", nm);
			snprintf(b, sizeof(b), "count(%s)", nm);
			snprintf(c, sizeof(c), "sum(count_%s)", nm);
			RCOL(a, "INTEGER", b, c, 0);
			if (col->kind == KIND_GAUGE)
				break;
			snprintf(a, sizeof(a), "min_%s", nm);
			snprintf(b, sizeof(b), "min(%s)", nm);
			snprintf(c, sizeof(c), "min(min_%s)", nm);
			RCOL(a, col->type, b, c, MERGE_MIN);
			snprintf(a, sizeof(a), "max_%s", nm);
			snprintf(b, sizeof(b), "max(%s)", nm);
			snprintf(c, sizeof(c), "max(max_%s)", nm);
			RCOL(a, col->type, b, c, MERGE_MAX);
			break;
		}
	}
#undef RCOL
	return n;
}

static int column_exists(struct store *s, const char *table, const char *col)
{
	char q[256];
	snprintf(q, sizeof(q), "SELECT count(*) FROM pragma_table_info('%s') WHERE name='%s'",
		 table, col);
	return store_query_int(s, q, 0) > 0;
}

/* Creates <t>_<tier>, or adds the columns a later migration declared. */
static int sync_rollup_table(struct store *s, const struct series_table *st, int tier,
			     const struct rcol *rc, int n, struct err *e)
{
	char name[80];
	snprintf(name, sizeof(name), "%s_%s", st->name, tier_names[tier]);
	struct sql *q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, "out of memory");
	int rc_ = 0;
	char probe[160];
	snprintf(probe, sizeof(probe),
		 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", name);
	if (store_query_int(s, probe, 0) == 0) {
		sql_add(q, "CREATE TABLE %s (\n  ts INTEGER NOT NULL", name);
		for (int i = 0; i < n; i++)
			sql_add(q, ",\n  %s %s%s", rc[i].name, rc[i].type,
				rc[i].key ? " NOT NULL" : "");
		sql_add(q, ",\n  PRIMARY KEY (ts");
		for (int i = 0; i < n; i++)
			if (rc[i].key)
				sql_add(q, ", %s", rc[i].name);
		sql_add(q, ")\n) WITHOUT ROWID");
		if (q->overflow)
			rc_ = err_set(e, "rollup table %s: definition too long", name);
		else
			rc_ = store_exec(s, q->text, e);
		if (rc_ == 0)
			log_info("created rollup table %s", name);
	} else {
		for (int i = 0; i < n && rc_ == 0; i++) {
			if (column_exists(s, name, rc[i].name))
				continue;
			if (rc[i].key) {
				rc_ = err_set(
				    e,
				    "rollup table %s lacks key column %s: a key cannot be added "
				    "to an existing rollup; drop %s to rebuild it",
				    name, rc[i].name, name);
				break;
			}
			q->len = 0;
			sql_add(q, "ALTER TABLE %s ADD COLUMN %s %s", name, rc[i].name, rc[i].type);
			rc_ = store_exec(s, q->text, e);
			if (rc_ == 0)
				log_info("added column %s to rollup table %s", rc[i].name, name);
		}
	}
	free(q);
	return rc_;
}

/* Replaces a view unless it already has exactly this text. */
static int sync_view(struct store *s, const char *name, const char *text, struct err *e)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(s->db, "SELECT sql FROM sqlite_master WHERE type='view' AND name=?1", -1,
			   &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int same = sqlite3_step(st) == SQLITE_ROW &&
		   strcmp((const char *)sqlite3_column_text(st, 0), text) == 0;
	sqlite3_finalize(st);
	if (same)
		return 0;
	char drop[128];
	snprintf(drop, sizeof(drop), "DROP VIEW IF EXISTS %s", name);
	return store_exec(s, drop, e) || store_exec(s, text, e) ? -1 : 0;
}

/* The views with the raw table's column names over each tier, and <t>_auto,
 * which takes each part of the time axis from the finest tier still holding
 * it: raw rows after the raw prune boundary, 1-minute rows up to it, 1-hour
 * rows up to the 1-minute boundary. Boundaries sit on bucket edges, so no
 * span is counted twice or left out. */
static int sync_views(struct store *s, const struct series_table *st, struct err *e)
{
	struct sql *q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, "out of memory");
	char name[80];
	int rc = 0;
	for (int tier = 0; tier < NTIERS && rc == 0; tier++) {
		q->len = 0;
		snprintf(name, sizeof(name), "%s_at_%s", st->name, tier_names[tier]);
		sql_add(q, "CREATE VIEW %s AS SELECT ts", name);
		for (int i = 0; i < st->ncols; i++) {
			const struct series_col *c = &st->cols[i];
			if (tier == TIER_RAW || c->kind == KIND_KEY || c->kind == KIND_COUNTER)
				sql_add(q, ", %s", c->name);
			else
				sql_add(q, ", CAST(sum_%s AS REAL) / count_%s AS %s", c->name,
					c->name, c->name);
		}
		sql_add(q, tier == TIER_RAW ? ", 1 AS samples_count" : ", samples_count");
		for (int i = 0; i < st->ncols; i++) {
			const struct series_col *c = &st->cols[i];
			if (c->kind != KIND_GAUGE_PEAK)
				continue;
			if (tier == TIER_RAW)
				sql_add(q, ", %s AS min_%s, %s AS max_%s", c->name, c->name,
					c->name, c->name);
			else
				sql_add(q, ", min_%s, max_%s", c->name, c->name);
		}
		if (tier == TIER_RAW)
			sql_add(q, " FROM %s", st->name);
		else
			sql_add(q, " FROM %s_%s", st->name, tier_names[tier]);
		rc = q->overflow ? err_set(e, "view %s: definition too long", name)
				 : sync_view(s, name, q->text, e);
	}
	if (rc == 0) {
		q->len = 0;
		snprintf(name, sizeof(name), "%s_auto", st->name);
		const char *b_raw = "(SELECT pruned_ts FROM prune_state WHERE scope='raw')";
		const char *b_1m = "(SELECT pruned_ts FROM prune_state WHERE scope='1m')";
		sql_add(q,
			"CREATE VIEW %s AS\n"
			"SELECT * FROM %s_at_raw WHERE ts > %s\n"
			"UNION ALL\n"
			"SELECT * FROM %s_at_1m WHERE ts <= %s AND ts > %s\n"
			"UNION ALL\n"
			"SELECT * FROM %s_at_1h WHERE ts <= min(%s, %s)",
			name, st->name, b_raw, st->name, b_raw, b_1m, st->name, b_raw, b_1m);
		rc = sync_view(s, name, q->text, e);
	}
	free(q);
	return rc;
}

static sqlite3_stmt *prep(struct store *s, struct sql *q, struct err *e)
{
	sqlite3_stmt *st;
	if (q->overflow) {
		err_set(e, "statement too long: %.80s", q->text);
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, q->text, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		err_set(e, "cannot prepare: %s (in: %.160s)", sqlite3_errmsg(s->db), q->text);
		return NULL;
	}
	return st;
}

/* The hour is folded in a minute at a time, so no single unit has to read
 * a whole hour of 1-minute rows: a partial hour row merges with the next
 * minutes' rows (NULL means "no value yet", as in the aggregates). */
static void add_merge(struct sql *q, const struct rcol *rc, int n)
{
	static const char *const fn[] = {"", "", "min", "max"};
	sql_add(q, " ON CONFLICT (ts");
	for (int i = 0; i < n; i++)
		if (rc[i].key)
			sql_add(q, ", %s", rc[i].name);
	sql_add(q, ") DO UPDATE SET ");
	int first = 1;
	for (int i = 0; i < n; i++) {
		const char *c = rc[i].name;
		if (rc[i].key)
			continue;
		sql_add(q, "%s%s = ", first ? "" : ", ", c);
		first = 0;
		if (rc[i].merge == MERGE_SUM)
			sql_add(q, "coalesce(%s + excluded.%s, %s, excluded.%s)", c, c, c, c);
		else
			sql_add(q, "coalesce(%s(%s, excluded.%s), %s, excluded.%s)",
				fn[rc[i].merge], c, c, c, c);
	}
}

/* The statements that roll, find and delete rows of one table's tiers. */
static int prepare_table(struct store *s, struct series_table *st, const struct rcol *rc, int n,
			 struct err *e)
{
	struct sql *q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, "out of memory");
	int ok = 1;
	for (int tier = 0; tier < NTIERS && ok; tier++) {
		char tab[80];
		if (tier == TIER_RAW)
			snprintf(tab, sizeof(tab), "%s", st->name);
		else
			snprintf(tab, sizeof(tab), "%s_%s", st->name, tier_names[tier]);
		q->len = 0;
		sql_add(q, "SELECT min(ts) FROM %s WHERE ts > ?1", tab);
		ok = ok && (st->oldest[tier] = prep(s, q, e));
		q->len = 0;
		sql_add(q, "SELECT ts FROM %s WHERE ts <= ?1 ORDER BY ts LIMIT 1 OFFSET ?2", tab);
		ok = ok && (st->nth[tier] = prep(s, q, e));
		q->len = 0;
		sql_add(q, "DELETE FROM %s WHERE ts <= ?1", tab);
		ok = ok && (st->del[tier] = prep(s, q, e));
		if (tier == TIER_RAW || !ok)
			continue;
		int64_t w = tier_bucket_s[tier];
		q->len = 0;
		sql_add(q, "INSERT INTO %s (ts", tab);
		for (int i = 0; i < n; i++)
			sql_add(q, ", %s", rc[i].name);
		sql_add(q, ") SELECT (ts + %lld) / %lld * %lld", (long long)(w - 1), (long long)w,
			(long long)w);
		for (int i = 0; i < n; i++)
			sql_add(q, ", %s", tier == TIER_1M ? rc[i].from_raw : rc[i].from_1m);
		if (tier == TIER_1M)
			sql_add(q, " FROM %s", st->name);
		else
			sql_add(q, " FROM %s_1m", st->name);
		sql_add(q, " WHERE ts > ?1 AND ts <= ?2 GROUP BY 1");
		for (int i = 0; i < n; i++)
			if (rc[i].key)
				sql_add(q, ", %s", rc[i].name);
		if (tier == TIER_1H)
			add_merge(q, rc, n);
		ok = ok && (st->roll[tier] = prep(s, q, e));
	}
	free(q);
	return ok ? 0 : -1;
}

/* The rollup tables, views and statements of one table. */
static int rollup_sync_table(struct tiers *t, struct series_table *st, struct err *e)
{
	struct rcol *rc = calloc(SERIES_MAX_COLS * 4 + 1, sizeof(*rc));
	if (!rc)
		return err_set(e, "out of memory");
	int n = rollup_columns(st, rc, SERIES_MAX_COLS * 4 + 1);
	int r = n < 0 ? err_set(e, "series table %s: too many columns", st->name) : 0;
	for (int tier = TIER_1M; tier < NTIERS && r == 0; tier++)
		r = sync_rollup_table(t->store, st, tier, rc, n, e);
	if (r == 0)
		r = sync_views(t->store, st, e);
	if (r == 0)
		r = prepare_table(t->store, st, rc, n, e);
	free(rc);
	return r;
}

static int load_series(struct tiers *t, struct err *e)
{
	struct store *s = t->store;
	int64_t n = store_query_int(s, "SELECT count(DISTINCT table_name) FROM series_column", 0);
	t->series = calloc((size_t)n + 1, sizeof(*t->series));
	if (!t->series)
		return err_set(e, "out of memory");
	sqlite3_stmt *q;
	sqlite3_prepare_v2(s->db, "SELECT DISTINCT table_name FROM series_column ORDER BY 1", -1,
			   &q, NULL);
	int rc = 0;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW && t->nseries < (size_t)n) {
		struct series_table *st = &t->series[t->nseries++];
		const char *name = (const char *)sqlite3_column_text(q, 0);
		if (!plain_ident(name)) {
			rc = err_set(e, "series_column: table name '%s' is not a plain name", name);
			break;
		}
		snprintf(st->name, sizeof(st->name), "%s", name);
		st->rolled[TIER_1M] = st->rolled[TIER_1H] = -1;
		rc = load_series_table(s, st, e);
		if (rc == 0)
			rc = rollup_sync_table(t, st, e);
		if (rc)
			break;
		for (int tier = TIER_1M; tier < NTIERS; tier++) {
			char sq[200];
			snprintf(sq, sizeof(sq),
				 "SELECT rolled_ts FROM rollup_state WHERE table_name='%s' AND "
				 "tier='%s'",
				 st->name, tier_names[tier]);
			st->rolled[tier] = store_query_int(s, sq, -1);
		}
	}
	sqlite3_finalize(q);
	return rc;
}

static int load_events(struct tiers *t, struct err *e)
{
	struct store *s = t->store;
	int64_t n = store_query_int(s, "SELECT count(*) FROM event_table", 0);
	t->events = calloc((size_t)n + 1, sizeof(*t->events));
	if (!t->events)
		return err_set(e, "out of memory");
	sqlite3_stmt *q;
	sqlite3_prepare_v2(
	    s->db,
	    "SELECT table_name, ts_column, config_key, default_max_age_s FROM event_table "
	    "ORDER BY 1",
	    -1, &q, NULL);
	int rc = 0;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW && t->nevents < (size_t)n) {
		struct event_tab *ev = &t->events[t->nevents++];
		snprintf(ev->name, sizeof(ev->name), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(ev->ts_col, sizeof(ev->ts_col), "%s",
			 (const char *)sqlite3_column_text(q, 1));
		snprintf(ev->config_key, sizeof(ev->config_key), "%s",
			 (const char *)sqlite3_column_text(q, 2));
		ev->default_max_age_s = sqlite3_column_int64(q, 3);
		if (!plain_ident(ev->name) || !plain_ident(ev->ts_col) ||
		    !column_exists(s, ev->name, ev->ts_col)) {
			rc = err_set(e, "event_table: %s.%s is not an existing table and column",
				     ev->name, ev->ts_col);
			break;
		}
		struct sql *qq = calloc(1, sizeof(*qq));
		if (!qq) {
			rc = err_set(e, "out of memory");
			break;
		}
		sql_add(qq, "SELECT min(%s) FROM %s WHERE %s > ?1", ev->ts_col, ev->name,
			ev->ts_col);
		ev->oldest = prep(s, qq, e);
		qq->len = 0;
		sql_add(qq, "SELECT %s FROM %s WHERE %s <= ?1 ORDER BY %s LIMIT 1 OFFSET ?2",
			ev->ts_col, ev->name, ev->ts_col, ev->ts_col);
		ev->nth = ev->oldest ? prep(s, qq, e) : NULL;
		qq->len = 0;
		sql_add(qq, "DELETE FROM %s WHERE %s <= ?1", ev->name, ev->ts_col);
		ev->del = ev->nth ? prep(s, qq, e) : NULL;
		free(qq);
		if (!ev->del)
			rc = -1;
		char ins[160];
		snprintf(ins, sizeof(ins), "INSERT OR IGNORE INTO prune_state(scope) VALUES ('%s')",
			 ev->name);
		if (rc == 0)
			rc = store_exec(s, ins, e);
		snprintf(ins, sizeof(ins), "SELECT pruned_ts FROM prune_state WHERE scope='%s'",
			 ev->name);
		ev->pruned = store_query_int(s, ins, 0);
	}
	sqlite3_finalize(q);
	return rc;
}

/* The dimension tables whose rows end (dimension_table, schema 010): their
 * statements, as for an event table keyed by the end column. */
static int load_dims(struct tiers *t, struct err *e)
{
	struct store *s = t->store;
	if (!store_query_int(s,
			     "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
			     "name='dimension_table'",
			     0))
		return 0;
	int64_t n = store_query_int(s, "SELECT count(*) FROM dimension_table", 0);
	t->dims = calloc((size_t)n + 1, sizeof(*t->dims));
	if (!t->dims)
		return err_set(e, "out of memory");
	sqlite3_stmt *q;
	sqlite3_prepare_v2(s->db, "SELECT table_name, gone_column FROM dimension_table ORDER BY 1",
			   -1, &q, NULL);
	int rc = 0;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW && t->ndims < (size_t)n) {
		struct event_tab *d = &t->dims[t->ndims++];
		snprintf(d->name, sizeof(d->name), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(d->ts_col, sizeof(d->ts_col), "%s",
			 (const char *)sqlite3_column_text(q, 1));
		if (!plain_ident(d->name) || !plain_ident(d->ts_col) ||
		    !column_exists(s, d->name, d->ts_col)) {
			rc =
			    err_set(e, "dimension_table: %s.%s is not an existing table and column",
				    d->name, d->ts_col);
			break;
		}
		struct sql *qq = calloc(1, sizeof(*qq));
		if (!qq) {
			rc = err_set(e, "out of memory");
			break;
		}
		sql_add(qq, "SELECT min(%s) FROM %s WHERE %s > ?1", d->ts_col, d->name, d->ts_col);
		d->oldest = prep(s, qq, e);
		qq->len = 0;
		sql_add(qq, "SELECT %s FROM %s WHERE %s <= ?1 ORDER BY %s LIMIT 1 OFFSET ?2",
			d->ts_col, d->name, d->ts_col, d->ts_col);
		d->nth = d->oldest ? prep(s, qq, e) : NULL;
		qq->len = 0;
		sql_add(qq, "DELETE FROM %s WHERE %s <= ?1", d->name, d->ts_col);
		d->del = d->nth ? prep(s, qq, e) : NULL;
		free(qq);
		if (!d->del)
			rc = -1;
	}
	sqlite3_finalize(q);
	return rc;
}

/* Reads the declarations, brings the rollup tables and views in line and
 * prepares each table's statements. */
static int tiers_load(struct tiers *t, struct store *s, struct err *e)
{
	memset(t, 0, sizeof(*t));
	t->store = s;
	t->unit_budget_us = 2000;
	t->chunk_rows = 2000;
	t->chunk_buckets[TIER_1M] = 10;
	t->chunk_buckets[TIER_1H] = 1;
	t->vacuum_pages = 64;
	t->wal_allow_bytes = 4 << 20;
	t->ckpt_asked = -1;
	t->incremental = store_query_int(s, "PRAGMA auto_vacuum", 0) == 2;
	struct err inner;
	if (store_begin(s, &inner))
		return err_set(e, "tiers: %s", inner.msg);
	if (load_series(t, &inner) || load_events(t, &inner) || load_dims(t, &inner)) {
		store_rollback(s);
		tiers_close(t);
		return err_set(e, "tiers: %s", inner.msg);
	}
	if (store_commit(s, &inner)) {
		tiers_close(t);
		return err_set(e, "tiers: %s", inner.msg);
	}
	for (int tier = 0; tier < NTIERS; tier++) {
		char q[120];
		snprintf(q, sizeof(q), "SELECT pruned_ts FROM prune_state WHERE scope='%s'",
			 tier_names[tier]);
		t->pruned[tier] = store_query_int(s, q, 0);
	}
	return 0;
}

int tiers_sync_schema(struct store *s, struct err *e)
{
	struct tiers t;
	if (tiers_load(&t, s, e))
		return -1;
	tiers_close(&t);
	return 0;
}

int tiers_open(struct tiers *t, struct store *s, struct err *e)
{
	if (tiers_load(t, s, e))
		return -1;
	t->set_rolled = store_prepare(
	    s,
	    "INSERT INTO rollup_state(table_name, tier, rolled_ts) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT(table_name, tier) DO UPDATE SET rolled_ts=excluded.rolled_ts",
	    e);
	t->set_pruned = store_prepare(
	    s, "UPDATE prune_state SET pruned_ts=?2, last_removed_count=0 WHERE scope=?1", e);
	t->note_removed = store_prepare(s,
					"UPDATE prune_state SET last_prune_ts=?2, "
					"last_removed_count=last_removed_count+?3, "
					"removed_count=removed_count+?3 WHERE scope=?1",
					e);
	if (t->set_rolled && t->set_pruned && t->note_removed)
		return 0;
	tiers_close(t);
	return -1;
}

static void finalize_all(sqlite3_stmt **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sqlite3_finalize(v[i]);
}

void tiers_close(struct tiers *t)
{
	checkpointer_stop(t->ckpt);
	t->ckpt = NULL;
	for (size_t i = 0; i < t->nseries; i++) {
		struct series_table *st = &t->series[i];
		finalize_all(st->roll, NTIERS);
		finalize_all(st->oldest, NTIERS);
		finalize_all(st->nth, NTIERS);
		finalize_all(st->del, NTIERS);
	}
	for (size_t i = 0; i < t->nevents; i++) {
		sqlite3_stmt *v[] = {t->events[i].oldest, t->events[i].nth, t->events[i].del};
		finalize_all(v, 3);
	}
	for (size_t i = 0; i < t->ndims; i++) {
		sqlite3_stmt *v[] = {t->dims[i].oldest, t->dims[i].nth, t->dims[i].del};
		finalize_all(v, 3);
	}
	free(t->series);
	free(t->events);
	free(t->dims);
	t->series = NULL;
	t->events = NULL;
	t->dims = NULL;
	t->nseries = t->nevents = t->ndims = 0;
}

static int save_rolled(struct tiers *t, struct series_table *st, int tier, int64_t v, struct err *e)
{
	sqlite3_bind_text(t->set_rolled, 1, st->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->set_rolled, 2, tier_names[tier], -1, SQLITE_STATIC);
	sqlite3_bind_int64(t->set_rolled, 3, v);
	return store_exec_stmt(t->store, t->set_rolled, e);
}

/* Rolls buckets (lo, hi] of one table into one tier and moves the watermark
 * in the same transaction: a crash or restart leaves either both or neither. */
static int roll_range(struct tiers *t, struct series_table *st, int tier, int64_t lo, int64_t hi,
		      struct err *e)
{
	struct err inner;
	/* a bucket is rolled once: the watermark only moves forward */
	ASSERT(tier != TIER_RAW && lo < hi && hi > st->rolled[tier]);
	if (store_begin(t->store, &inner))
		return err_set(e, "rollup %s_%s: %s", st->name, tier_names[tier], inner.msg);
	sqlite3_bind_int64(st->roll[tier], 1, lo);
	sqlite3_bind_int64(st->roll[tier], 2, hi);
	int64_t rows = 0;
	if (store_exec_stmt(t->store, st->roll[tier], &inner) ||
	    (rows = sqlite3_changes(t->store->db), save_rolled(t, st, tier, hi, &inner))) {
		store_rollback(t->store);
		return err_set(e, "rollup %s_%s: %s", st->name, tier_names[tier], inner.msg);
	}
	if (store_commit(t->store, &inner))
		return err_set(e, "rollup %s_%s: %s", st->name, tier_names[tier], inner.msg);
	st->rolled[tier] = hi;
	t->stats.rolled_rows += rows;
	return 0;
}

/* The next unit for one table and tier, if any: complete buckets are those
 * ending at or before the target (now_ts for 1m, the 1m watermark for 1h). */
static int roll_table(struct tiers *t, struct series_table *st, int tier, int64_t now_ts, int *did,
		      struct err *e)
{
	/* Both tiers advance a minute at a time: 1m by complete minutes of raw
	 * rows, 1h by folding in complete 1-minute rows. */
	const int64_t w = 60;
	int64_t src_mark = tier == TIER_1M ? now_ts : st->rolled[TIER_1M];
	if (src_mark <= 0)
		return 0;
	int64_t target = align_down(src_mark, w);
	int src = tier == TIER_1M ? TIER_RAW : TIER_1M;
	int64_t cur = st->rolled[tier];
	/* Start, or skip a gap (the daemon was stopped): begin at the bucket of
	 * the next source row instead of rolling empty buckets one by one. */
	int64_t next = tiers_oldest_after(st->oldest[src], cur < 0 ? INT64_MIN : cur);
	if (next == INT64_MAX || align_up(next, w) > target) {
		/* No complete bucket holds a row: only the watermark moves. */
		if (target <= cur)
			return 0;
		if (save_rolled(t, st, tier, target, e))
			return -1;
		st->rolled[tier] = target;
		t->unit_kind = "watermark";
		*did = 1;
		return 0;
	}
	int64_t lo = align_up(next, w) - w;
	if (lo < cur)
		lo = cur;
	int64_t hi = lo + t->chunk_buckets[tier] * w;
	if (hi > target)
		hi = target;
	int64_t t0 = clock_mono_us();
	if (roll_range(t, st, tier, lo, hi, e))
		return -1;
	tiers_adapt(&t->chunk_buckets[tier], clock_mono_us() - t0, t->unit_budget_us, 10080);
	t->unit_kind = "rollup";
	*did = 1;
	return 0;
}

int rollup_unit(struct tiers *t, int64_t now_ts, int *did, struct err *e)
{
	*did = 0;
	for (int tier = TIER_1M; tier < NTIERS; tier++)
		for (size_t i = 0; i < t->nseries; i++) {
			if (roll_table(t, &t->series[i], tier, now_ts, did, e))
				return -1;
			if (*did)
				return 0;
		}
	return 0;
}
