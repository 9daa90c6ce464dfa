/* Which tier a reader takes each part of the time axis from.
 *
 * The database's own <t>_auto views take every part from the finest tier
 * still holding it. That is a UNION ALL, and SQLite cannot flatten a union
 * into a query that joins it (every saved view joins a dimension table) or
 * aggregates it: it copies each row through a co-routine or materializes the
 * whole range first, several times slower than reading one tier's table. So
 * a reader pins its views to one tier whenever one tier holds the range it
 * asks for, and to a union with fixed boundaries only when it spans tiers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/tiers.h"

int tier_by_name(const char *name)
{
	for (int i = 0; i < NTIERS; i++)
		if (strcmp(name, tier_names[i]) == 0)
			return i;
	return -1;
}

static int64_t pruned(sqlite3 *db, const char *scope)
{
	char q[120];
	snprintf(q, sizeof(q), "SELECT pruned_ts FROM main.prune_state WHERE scope='%s'", scope);
	return db_query_int(db, q, 0);
}

/* Every complete bucket of every series table ending at or before this has
 * been rolled into the tier; 0 while some table has not started. */
static int64_t rolled(sqlite3 *db, const char *tier)
{
	char q[400];
	snprintf(q, sizeof(q),
		 "SELECT CASE WHEN count(r.rolled_ts) = count(*) THEN min(r.rolled_ts) ELSE 0 END "
		 "FROM (SELECT DISTINCT table_name FROM main.series_column) c "
		 "LEFT JOIN main.rollup_state r ON r.table_name = c.table_name AND r.tier = '%s'",
		 tier);
	int64_t v = db_query_int(db, q, 0);
	return v > 0 ? v : 0;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Rows leave a tier only once the next one holds them, so the prune
 * boundaries never pass the watermarks; max() only guards odd files. */
void read_plan_get(sqlite3 *db, int tier, struct read_plan *p)
{
	int64_t raw_gone = pruned(db, "raw"), m_gone = pruned(db, "1m");
	switch (tier) {
	case TIER_1H:
		p->to_1m = max64(rolled(db, "1m"), raw_gone);
		/* the hour row after the 1h watermark is still being summed */
		p->to_1h = min64(max64(align_down(rolled(db, "1h"), 3600), m_gone), p->to_1m);
		break;
	case TIER_1M:
		p->to_1m = max64(rolled(db, "1m"), raw_gone);
		p->to_1h = min64(m_gone, p->to_1m);
		break;
	default:
		p->to_1m = raw_gone;
		p->to_1h = min64(m_gone, raw_gone);
		break;
	}
}

unsigned read_plan_tiers(const struct read_plan *p, int64_t since, int64_t until)
{
	unsigned t = 0;
	if (p->to_1h > 0 && since <= p->to_1h)
		t |= 1u << TIER_1H;
	if (p->to_1m > p->to_1h && since <= p->to_1m && until > p->to_1h)
		t |= 1u << TIER_1M;
	if (until > p->to_1m || t == 0)
		t |= 1u << TIER_RAW;
	return t;
}

int read_plan_auto_tier(int64_t since, int64_t until, int points)
{
	int64_t step = points > 0 ? (until - since) / points : 0;
	int tier = TIER_RAW;
	for (int i = TIER_1M; i < NTIERS; i++)
		if (tier_bucket_s[i] <= step)
			tier = i;
	return tier;
}

static int exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	err_set(e, "%s (in: %.100s)", msg ? msg : sqlite3_errmsg(db), sql);
	sqlite3_free(msg);
	return -1;
}

static int drop_temp_views(sqlite3 *db, struct err *e)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT name FROM temp.sqlite_master WHERE type='view'", -1, &st,
			   NULL);
	char **names = NULL;
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n++] = sqlite3_mprintf("DROP VIEW temp.\"%w\"",
					     (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = exec(db, names[i], e);
		sqlite3_free(names[i]);
	}
	free(names);
	return rc;
}

/* One table's <t>_auto over the tiers asked for: a plain view of one tier,
 * or the union of each tier's part of the time axis. */
static char *auto_view_sql(const char *t, const struct read_plan *p, unsigned tiers)
{
	if ((tiers & (tiers - 1)) == 0) {
		int tier = tiers == 1u << TIER_1H ? TIER_1H : tiers == 1u << TIER_1M ? TIER_1M : 0;
		return sqlite3_mprintf(
		    "CREATE TEMP VIEW \"%w_auto\" AS SELECT * FROM main.\"%w_at_%w\"", t, t,
		    tier_names[tier]);
	}
	char *arm[NTIERS] = {0};
	if (tiers & (1u << TIER_1H))
		arm[TIER_1H] = sqlite3_mprintf("SELECT * FROM main.\"%w_at_1h\" WHERE ts <= %lld",
					       t, (long long)p->to_1h);
	if (tiers & (1u << TIER_1M))
		arm[TIER_1M] = sqlite3_mprintf(
		    "SELECT * FROM main.\"%w_at_1m\" WHERE ts > %lld AND ts <= %lld", t,
		    (long long)p->to_1h, (long long)p->to_1m);
	if (tiers & (1u << TIER_RAW))
		arm[TIER_RAW] = sqlite3_mprintf("SELECT * FROM main.\"%w_at_raw\" WHERE ts > %lld",
						t, (long long)p->to_1m);
	char *q = sqlite3_mprintf("CREATE TEMP VIEW \"%w_auto\" AS ", t);
	const char *sep = "";
	for (int i = NTIERS - 1; i >= 0; i--) {
		if (!arm[i])
			continue;
		char *more = q ? sqlite3_mprintf("%s%s%s", q, sep, arm[i]) : NULL;
		sqlite3_free(q);
		sqlite3_free(arm[i]);
		q = more;
		sep = " UNION ALL ";
	}
	return q;
}

/* A saved view's text made into a TEMP view of the same name: the body reads
 * <t>_auto unqualified, which then resolves to the TEMP <t>_auto first. */
static int shadow_saved_view(sqlite3 *db, const char *sql, struct err *e)
{
	const char *p = strcasestr(sql, "create view");
	if (!p)
		return 0;
	char *q = sqlite3_mprintf("CREATE TEMP VIEW%s", p + strlen("create view"));
	int rc = q ? exec(db, q, e) : err_set(e, "out of memory");
	sqlite3_free(q);
	return rc;
}

int read_plan_pin(sqlite3 *db, const struct read_plan *p, unsigned tiers, struct err *e)
{
	if (drop_temp_views(db, e))
		return -1;
	if (tiers == 0 || !db_query_int(db,
					"SELECT count(*) FROM main.sqlite_master WHERE "
					"type='table' AND name='series_column'",
					0))
		return 0;
	sqlite3_stmt *st;
	int rc = 0;
	sqlite3_prepare_v2(
	    db,
	    "SELECT DISTINCT c.table_name FROM main.series_column c "
	    "JOIN main.sqlite_master m ON m.type='view' AND m.name = c.table_name || '_auto'",
	    -1, &st, NULL);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char *q = auto_view_sql((const char *)sqlite3_column_text(st, 0), p, tiers);
		rc = q ? exec(db, q, e) : err_set(e, "out of memory");
		sqlite3_free(q);
	}
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db,
			   "SELECT v.sql FROM main.view_catalog v JOIN main.sqlite_master m "
			   "ON m.type='view' AND m.name = v.name",
			   -1, &st, NULL);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		rc = shadow_saved_view(db, (const char *)sqlite3_column_text(st, 0), e);
	sqlite3_finalize(st);
	return rc;
}
