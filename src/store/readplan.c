/* Which tier a reader takes each part of the time axis from.
 *
 * The database's own <t>_auto views take every part from the finest tier
 * still holding it. That is a UNION ALL, and SQLite cannot flatten a union
 * into a query that joins it (every saved view joins a dimension table) or
 * aggregates it: it copies each row through a co-routine or materializes the
 * whole range first, several times slower than reading one tier's table. So
 * a reader pins its views to one tier whenever one tier holds the range it
 * asks for, and to a union with fixed boundaries only when it spans tiers. */
#include <ctype.h>
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
	p->since = INT64_MIN;
	p->until = INT64_MAX;
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
	ASSERT(p->to_1h <= p->to_1m);
}

unsigned read_plan_tiers(struct read_plan *p, int64_t since, int64_t until)
{
	unsigned t = 0;
	p->since = since;
	p->until = until;
	if (p->to_1h > 0 && since <= p->to_1h)
		t |= 1u << TIER_1H;
	if (p->to_1m > p->to_1h && since <= p->to_1m && until > p->to_1h)
		t |= 1u << TIER_1M;
	if (until > p->to_1m || t == 0)
		t |= 1u << TIER_RAW;
	ASSERT(t != 0 && t < 1u << NTIERS);
	return t;
}

int read_plan_tier_at(const struct read_plan *p, int64_t ts)
{
	if (p->to_1h > 0 && ts <= p->to_1h)
		return TIER_1H;
	return ts <= p->to_1m && p->to_1m > p->to_1h ? TIER_1M : TIER_RAW;
}

void read_plan_part(const struct read_plan *p, int tier, int64_t *lo, int64_t *hi)
{
	*lo = tier == TIER_RAW ? p->to_1m + 1 : tier == TIER_1M ? p->to_1h + 1 : INT64_MIN;
	*hi = tier == TIER_1H ? p->to_1h : tier == TIER_1M ? p->to_1m : INT64_MAX;
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

/* The condition for one tier's part of the time axis. SQLite drives an
 * index range scan by the first lower (upper) bound on ts it finds and only
 * filters by the others, so a bound looser than the planned range (a 1m part
 * from 0 when the query starts yesterday) would scan the whole table: such a
 * bound is written +ts, which filters the same rows but leaves the scan to
 * the query's own bound. */
static void arm_where(sqlite3_str *q, const struct read_plan *p, int tier)
{
	int64_t lo = tier == TIER_RAW ? p->to_1m : tier == TIER_1M ? p->to_1h : INT64_MIN;
	int64_t hi = tier == TIER_1H ? p->to_1h : tier == TIER_1M ? p->to_1m : INT64_MAX;
	const char *and = "";
	sqlite3_str_appendall(q, " WHERE ");
	if (lo != INT64_MIN) {
		sqlite3_str_appendf(q, "%sts > %lld", lo < p->since ? "+" : "", (long long)lo);
		and = " AND ";
	}
	if (hi != INT64_MAX)
		sqlite3_str_appendf(q, "%s%sts <= %lld", and, hi >= p->until ? "+" : "",
				    (long long)hi);
}

/* One table's <t>_auto over the tiers asked for: a plain view of one tier,
 * or the union of each tier's part of the time axis. */
static char *auto_view_sql(const char *t, const struct read_plan *p, unsigned tiers)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "CREATE TEMP VIEW \"%w_auto\" AS ", t);
	const char *sep = "";
	for (int tier = NTIERS - 1; tier >= 0; tier--) {
		if (!(tiers & (1u << tier)))
			continue;
		sqlite3_str_appendf(q, "%sSELECT * FROM main.\"%w_at_%w\"", sep, t,
				    tier_names[tier]);
		if (tiers & (tiers - 1))
			arm_where(q, p, tier);
		sep = " UNION ALL ";
	}
	return sqlite3_str_finish(q);
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

/* The name and the body (the SELECT after AS) of "CREATE VIEW name AS
 * SELECT ..."; -1 when the text has another shape. */
static int split_view(const char *sql, char *name, size_t n, const char **body)
{
	const char *p = strcasestr(sql, "create view");
	if (!p)
		return -1;
	p += strlen("create view");
	while (isspace((unsigned char)*p))
		p++;
	size_t len = strcspn(p, " \t\r\n(");
	if (len == 0 || len >= n)
		return -1;
	memcpy(name, p, len);
	name[len] = '\0';
	p += len;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "as", 2) != 0 || !isspace((unsigned char)p[2]))
		return -1;
	*body = p + 2;
	return 0;
}

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The body with every <t>_auto of the series tables read from one tier
 * (free with sqlite3_free). */
static char *body_at_tier(const char *body, char **tables, size_t ntables, int tier, int *hits)
{
	sqlite3_str *out = sqlite3_str_new(NULL);
	const char *p = body;
	while (*p) {
		const char *hit = NULL;
		size_t hit_len = 0;
		for (size_t i = 0; i < ntables && !hit; i++) {
			size_t tl = strlen(tables[i]);
			if (strncmp(p, tables[i], tl) == 0 && strncmp(p + tl, "_auto", 5) == 0 &&
			    !ident_char(p[tl + 5]) && (p == body || !ident_char(p[-1]))) {
				hit = tables[i];
				hit_len = tl + 5;
			}
		}
		if (hit) {
			sqlite3_str_appendf(out, "main.\"%w_at_%w\"", hit, tier_names[tier]);
			(*hits)++;
			p += hit_len;
		} else {
			sqlite3_str_appendchar(out, 1, *p++);
		}
	}
	char *text = sqlite3_str_finish(out);
	size_t len = text ? strlen(text) : 0;
	while (len && (isspace((unsigned char)text[len - 1]) || text[len - 1] == ';'))
		text[--len] = '\0';
	return text;
}

/* A saved view over several tiers: its own text once per tier, each part of
 * the time axis from one, joined by UNION ALL. The union is then of the
 * view's few columns, after its joins, which SQLite reads through far more
 * cheaply than a join over a union of whole rollup rows. */
static int split_saved_view(sqlite3 *db, const char *sql, const struct read_plan *p, unsigned tiers,
			    char **tables, size_t ntables, struct err *e)
{
	char name[128];
	const char *body;
	if (split_view(sql, name, sizeof(name), &body))
		return shadow_saved_view(db, sql, e);
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "CREATE TEMP VIEW %s AS ", name);
	const char *sep = "";
	int hits = 0;
	for (int tier = NTIERS - 1; tier >= 0; tier--) {
		if (!(tiers & (1u << tier)))
			continue;
		char *b = body_at_tier(body, tables, ntables, tier, &hits);
		sqlite3_str_appendf(q, "%sSELECT * FROM (%s)", sep, b ? b : "");
		sqlite3_free(b);
		arm_where(q, p, tier);
		sep = " UNION ALL ";
	}
	char *text = sqlite3_str_finish(q);
	struct err ignored;
	int rc = text && hits ? exec(db, text, &ignored) : -1;
	sqlite3_free(text);
	/* one that reads no tiers stays as it is; one without a ts column cannot
	 * be split and reads the union */
	return rc ? shadow_saved_view(db, sql, e) : 0;
}

/* Whether name appears in text as a whole identifier (any case). */
static int mentions(const char *text, const char *name, const char *suffix)
{
	size_t nl = strlen(name), sl = strlen(suffix);
	for (const char *p = text; (p = strcasestr(p, name)); p++)
		if ((p == text || !ident_char(p[-1])) && strncasecmp(p + nl, suffix, sl) == 0 &&
		    !ident_char(p[nl + sl]))
			return 1;
	return 0;
}

/* The names a pin works with: the series tables that have <t>_auto views
 * and the saved views (name and text), each with a flag saying whether the
 * query needs it. */
struct pin_names {
	char **tables, **views, **view_sql;
	unsigned char *table_used, *view_used;
	size_t ntables, nviews;
};

/* Appends a copy of s to list, which holds n entries. */
static int push(char ***list, size_t n, const char *s)
{
	char **grown = realloc(*list, (n + 1) * sizeof(**list));
	if (!grown)
		return -1;
	*list = grown;
	grown[n] = strdup(s ? s : "");
	return grown[n] ? 0 : -1;
}

static int pin_names_load(sqlite3 *db, struct pin_names *pn)
{
	sqlite3_stmt *st;
	int rc = 0;
	sqlite3_prepare_v2(
	    db,
	    "SELECT DISTINCT c.table_name FROM main.series_column c "
	    "JOIN main.sqlite_master m ON m.type='view' AND m.name = c.table_name || '_auto'",
	    -1, &st, NULL);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		if ((rc = push(&pn->tables, pn->ntables,
			       (const char *)sqlite3_column_text(st, 0))) == 0)
			pn->ntables++;
	sqlite3_finalize(st);
	sqlite3_prepare_v2(
	    db,
	    "SELECT v.name, v.sql FROM main.view_catalog v JOIN main.sqlite_master m "
	    "ON m.type='view' AND m.name = v.name",
	    -1, &st, NULL);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		rc = push(&pn->views, pn->nviews, (const char *)sqlite3_column_text(st, 0));
		if (rc == 0 && (rc = push(&pn->view_sql, pn->nviews,
					  (const char *)sqlite3_column_text(st, 1))))
			free(pn->views[pn->nviews]);
		if (rc == 0)
			pn->nviews++;
	}
	sqlite3_finalize(st);
	pn->table_used = calloc(pn->ntables + 1, 1);
	pn->view_used = calloc(pn->nviews + 1, 1);
	return rc || !pn->table_used || !pn->view_used ? -1 : 0;
}

static void pin_names_free(struct pin_names *pn)
{
	for (size_t i = 0; i < pn->ntables; i++)
		free(pn->tables[i]);
	for (size_t i = 0; i < pn->nviews; i++) {
		free(pn->views[i]);
		free(pn->view_sql[i]);
	}
	free(pn->tables);
	free(pn->views);
	free(pn->view_sql);
	free(pn->table_used);
	free(pn->view_used);
}

/* Marks what text reads, and what the saved views it reads read in turn. */
static void pin_names_mark(struct pin_names *pn, const char *text)
{
	for (size_t i = 0; i < pn->ntables; i++)
		if (!pn->table_used[i] && mentions(text, pn->tables[i], "_auto"))
			pn->table_used[i] = 1;
	for (size_t i = 0; i < pn->nviews; i++)
		if (!pn->view_used[i] && mentions(text, pn->views[i], "")) {
			pn->view_used[i] = 1;
			pin_names_mark(pn, pn->view_sql[i]);
		}
}

int read_plan_pin(sqlite3 *db, const struct read_plan *p, unsigned tiers, const char *uses,
		  struct err *e)
{
	if (drop_temp_views(db, e))
		return -1;
	if (tiers == 0 || !db_query_int(db,
					"SELECT count(*) FROM main.sqlite_master WHERE "
					"type='table' AND name='series_column'",
					0))
		return 0;
	struct pin_names pn = {0};
	if (pin_names_load(db, &pn)) {
		pin_names_free(&pn);
		return err_set(e, "out of memory");
	}
	/* Each TEMP view costs a parse and a schema change: only what the
	 * query reads is pinned. */
	if (uses) {
		pin_names_mark(&pn, uses);
	} else {
		memset(pn.table_used, 1, pn.ntables);
		memset(pn.view_used, 1, pn.nviews);
	}
	int rc = 0;
	for (size_t i = 0; i < pn.ntables && rc == 0; i++) {
		if (!pn.table_used[i])
			continue;
		char *q = auto_view_sql(pn.tables[i], p, tiers);
		rc = q ? exec(db, q, e) : err_set(e, "out of memory");
		sqlite3_free(q);
	}
	int split = (tiers & (tiers - 1)) != 0;
	for (size_t i = 0; i < pn.nviews && rc == 0; i++) {
		const char *sql = pn.view_sql[i];
		if (pn.view_used[i])
			rc = split ? split_saved_view(db, sql, p, tiers, pn.tables, pn.ntables, e)
				   : shadow_saved_view(db, sql, e);
	}
	pin_names_free(&pn);
	return rc;
}
