/* What the tiers hold, for `hindsight status`; works on a read-only
 * connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "store/tiers.h"

static int table_exists(sqlite3 *db, const char *name)
{
	char *q = sqlite3_mprintf(
	    "SELECT count(*) FROM main.sqlite_master WHERE type='table' AND name=%Q", name);
	int n = (int)db_query_int(db, q, 0);
	sqlite3_free(q);
	return n > 0;
}

/* Adds one table's oldest, newest, rows and bytes to a tier's line. Rows
 * and bytes come from known when it has the table: counting scans it all. */
static void add_table(sqlite3 *db, struct tier_report *r, const char *table, const char *ts_col,
		      const struct table_stats *known, size_t nknown)
{
	if (!table_exists(db, table))
		return;
	const struct table_stats *k = NULL;
	for (size_t i = 0; i < nknown && !k; i++)
		if (strcmp(known[i].name, table) == 0)
			k = &known[i];
	/* min() and max() alone are one index lookup each */
	char *q = sqlite3_mprintf("SELECT min(%s) FROM main.%s", ts_col, table);
	int64_t lo = db_query_int(db, q, -1);
	sqlite3_free(q);
	q = sqlite3_mprintf("SELECT max(%s) FROM main.%s", ts_col, table);
	int64_t hi = db_query_int(db, q, -1);
	sqlite3_free(q);
	if (lo >= 0 && (!r->oldest_ts || lo < r->oldest_ts))
		r->oldest_ts = lo;
	if (hi > r->newest_ts)
		r->newest_ts = hi;
	if (k) {
		r->rows += k->rows;
	} else {
		q = sqlite3_mprintf("SELECT count(*) FROM main.%s", table);
		r->rows += db_query_int(db, q, 0);
		sqlite3_free(q);
	}
	if (r->bytes < 0)
		return;
	int64_t bytes = k ? k->bytes : -1;
	if (!k) {
		q = sqlite3_mprintf("SELECT sum(pgsize) FROM dbstat('main') WHERE name=%Q", table);
		bytes = db_query_int(db, q, -1);
		sqlite3_free(q);
	}
	r->bytes = bytes < 0 ? -1 : r->bytes + bytes;
}

static void fill_state(sqlite3 *db, struct tier_report *r, const char *scope)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT pruned_ts, last_prune_ts, last_removed_count, removed_count "
			       "FROM main.prune_state WHERE scope=?1",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->pruned_ts = sqlite3_column_int64(st, 0);
		r->last_prune_ts = sqlite3_column_int64(st, 1);
		r->last_removed_count = sqlite3_column_int64(st, 2);
		r->removed_count = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	char *q = sqlite3_mprintf("SELECT value FROM main.meta WHERE key='retention.max_age_s.%q'",
				  scope);
	r->max_age_s = db_query_int(db, q, -1);
	sqlite3_free(q);
}

int tiers_report(sqlite3 *db, const char *db_path, const struct table_stats *known, size_t nknown,
		 struct tiers_report *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (!table_exists(db, "series_column"))
		return err_set(e, "this database has no retention tiers (schema too old)");
	/* dbstat is optional in SQLite builds; without it bytes are unknown. */
	sqlite3_stmt *probe;
	int have_dbstat =
	    sqlite3_prepare_v2(db, "SELECT 1 FROM dbstat LIMIT 0", -1, &probe, NULL) == SQLITE_OK;
	sqlite3_finalize(probe);
	for (int tier = 0; tier < NTIERS; tier++) {
		struct tier_report *t = &r->tiers[r->ntiers++];
		t->name = tier_names[tier];
		t->bytes = have_dbstat ? 0 : -1;
		fill_state(db, t, tier_names[tier]);
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db, "SELECT DISTINCT table_name FROM main.series_column", -1,
				   &st, NULL);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char name[80];
			const char *base = (const char *)sqlite3_column_text(st, 0);
			if (tier == TIER_RAW)
				snprintf(name, sizeof(name), "%s", base);
			else
				snprintf(name, sizeof(name), "%s_%s", base, tier_names[tier]);
			add_table(db, t, name, "ts", known, nknown);
		}
		sqlite3_finalize(st);
	}
	static char names[RETENTION_MAX_EVENTS][64];
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT table_name, ts_column FROM main.event_table ORDER BY 1", -1,
			   &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW && r->ntiers < ARRAY_LEN(r->tiers)) {
		size_t i = r->ntiers - NTIERS;
		struct tier_report *t = &r->tiers[r->ntiers++];
		snprintf(names[i], sizeof(names[i]), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		t->name = names[i];
		t->bytes = have_dbstat ? 0 : -1;
		fill_state(db, t, t->name);
		add_table(db, t, t->name, (const char *)sqlite3_column_text(st, 1), known, nknown);
	}
	sqlite3_finalize(st);
	r->max_db_bytes =
	    db_query_int(db, "SELECT value FROM main.meta WHERE key='retention.max_db_bytes'", -1);
	struct stat sb;
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	r->file_bytes = (stat(db_path, &sb) == 0 ? (int64_t)sb.st_size : 0) +
			(stat(wal, &sb) == 0 ? (int64_t)sb.st_size : 0);
	return 0;
}
