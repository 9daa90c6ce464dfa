/* Paging over time: rows ordered by ts are read one time window (a page)
 * at a time, each page one short statement and so one short read
 * transaction, the window adapting to hold a few thousand rows. */
#include <stdio.h>
#include <string.h>

#include "query/range.h"

/* Pages start one hour wide and adapt so each holds roughly 2k-20k rows. */
#define PAGE_START_S   3600
#define PAGE_MIN_S     1
#define PAGE_MAX_S     (7 * 86400)
#define PAGE_FEW_ROWS  2000
#define PAGE_MANY_ROWS 20000

int drain(struct qdb *q, sqlite3_stmt *st, struct out *o, int64_t *rows, int64_t *left,
	  struct err *e)
{
	int rc = SQLITE_DONE;
	qdb_arm(q);
	while (*left != 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out_row(o, st);
		(*rows)++;
		if (*left > 0)
			(*left)--;
	}
	if (*left != 0 && rc != SQLITE_DONE)
		return qdb_fail(q, rc, "query", e);
	/* Resetting ends the statement's read transaction. */
	sqlite3_reset(st);
	return 0;
}

/* The next ts with a row at or after (asc) or at or before (desc) from,
 * to skip an empty stretch in one step; returns 0 when there is none. */
static int next_ts(struct qdb *q, sqlite3_stmt *seek, int64_t from, int64_t bound, int64_t *out)
{
	sqlite3_bind_int64(seek, 1, from);
	sqlite3_bind_int64(seek, 2, bound);
	qdb_arm(q);
	int found = sqlite3_step(seek) == SQLITE_ROW && sqlite3_column_type(seek, 0) != SQLITE_NULL;
	if (found)
		*out = sqlite3_column_int64(seek, 0);
	sqlite3_reset(seek);
	return found;
}

int page_statements(struct qdb *q, const struct range_query *rq, sqlite3_stmt **st,
		    sqlite3_stmt **seek, struct err *e)
{
	char sql[8192], seek_sql[256];
	snprintf(sql, sizeof(sql), "SELECT %s FROM \"%s\" WHERE ts >= ?1 AND ts <= ?2",
		 rq->select ? rq->select : "*", rq->relation);
	filters_sql(rq->filters, rq->nfilters, 3, sql, sizeof(sql));
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), " ORDER BY ts%s",
		 rq->desc ? " DESC" : "");
	if (rq->desc)
		snprintf(seek_sql, sizeof(seek_sql),
			 "SELECT max(ts) FROM \"%s\" WHERE ts <= ?1 AND ts >= ?2", rq->relation);
	else
		snprintf(seek_sql, sizeof(seek_sql),
			 "SELECT min(ts) FROM \"%s\" WHERE ts >= ?1 AND ts <= ?2", rq->relation);
	*st = *seek = NULL;
	if (qdb_prepare(q, sql, st, e) || qdb_prepare(q, seek_sql, seek, e)) {
		sqlite3_finalize(*st);
		return -1;
	}
	filters_bind(*st, rq->filters, rq->nfilters, 3);
	return 0;
}

void pages_start(struct pages *pg, struct qdb *q, sqlite3_stmt *seek, const struct range_query *rq,
		 int64_t since, int64_t until)
{
	pg->rq = rq;
	pg->since = since;
	pg->until = until;
	pg->width = PAGE_START_S;
	pg->more = next_ts(q, seek, rq->desc ? until : since, rq->desc ? since : until, &pg->cur);
}

void pages_take(struct pages *pg, struct qdb *q, sqlite3_stmt *seek, int64_t *lo, int64_t *hi)
{
	ASSERT(pg->more && pg->since <= pg->cur && pg->cur <= pg->until);
	if (pg->rq->desc) {
		*hi = pg->cur;
		*lo = *hi - pg->since < pg->width ? pg->since : *hi - pg->width + 1;
		pg->more = *lo > pg->since && next_ts(q, seek, *lo - 1, pg->since, &pg->cur);
	} else {
		*lo = pg->cur;
		*hi = pg->until - *lo < pg->width ? pg->until : *lo + pg->width - 1;
		pg->more = *hi < pg->until && next_ts(q, seek, *hi + 1, pg->until, &pg->cur);
	}
}

void pages_adapt(struct pages *pg, int64_t rows)
{
	if (rows > PAGE_MANY_ROWS && pg->width > PAGE_MIN_S)
		pg->width /= 2;
	else if (rows < PAGE_FEW_ROWS && pg->width < PAGE_MAX_S)
		pg->width *= 2;
}

int run_paged(struct qdb *q, const struct range_query *rq, int64_t since, int64_t until,
	      struct out *o, int64_t *left, struct err *e)
{
	sqlite3_stmt *st, *seek;
	if (page_statements(q, rq, &st, &seek, e))
		return -1;
	out_columns(o, st);
	struct pages pg;
	pages_start(&pg, q, seek, rq, since, until);
	int rc = 0;
	while (pg.more && *left != 0) {
		int64_t lo, hi, rows = 0;
		pages_take(&pg, q, seek, &lo, &hi);
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		if ((rc = drain(q, st, o, &rows, left, e)))
			break;
		pages_adapt(&pg, rows);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(seek);
	return rc;
}
