/* Running a table or view over a time range: the range split where the
 * plan changes tier, each part paged by ts (paging.c), a long one shared
 * among readers (readers.c); ordered by another column, one statement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/range.h"

/* The range split where the plan changes tier, each part read with the
 * views pinned to its one tier: a plain view SQLite flattens, where the
 * union of tiers would be copied row by row (src/store/readplan.c). With
 * no limit, the readers share the pages. */
static int run_by_tier(struct reader_pool *pool, const struct range_query *rq, struct out *o,
		       struct err *e)
{
	struct qdb *q = pool->main;
	int split = (q->tiers & (q->tiers - 1)) != 0;
	int64_t left = rq->limit > 0 ? rq->limit : -1;
	for (int i = 0; i < NTIERS && left != 0; i++) {
		int tier = rq->desc ? i : NTIERS - 1 - i; /* 1h, 1m, raw: oldest first */
		int64_t lo, hi;
		read_plan_part(&q->plan, tier, &lo, &hi);
		lo = lo > rq->since ? lo : rq->since;
		hi = hi < rq->until ? hi : rq->until;
		if (!(q->tiers & (1u << tier)) || lo > hi)
			continue;
		if (split && qdb_pin(q, 1u << tier, e))
			return -1;
		/* a short part (the recent minutes not rolled up yet) is not worth
		 * another connection */
		int64_t end = hi < rq->now ? hi : rq->now;
		int readers = left < 0 && end - lo >= PARALLEL_MIN_S ? pool->n : 1;
		if (readers > 1 ? run_paged_parallel(pool, readers, rq, lo, hi, o, e)
				: run_paged(q, rq, lo, hi, o, &left, e))
			return -1;
	}
	return 0;
}

/* Ordered by another column the rows cannot be paged by time: one
 * statement, bounded by the range and the limit. */
static int run_single(struct qdb *q, const struct range_query *rq, int has_ts, struct out *o,
		      struct err *e)
{
	char sql[8192];
	snprintf(sql, sizeof(sql), "SELECT %s FROM \"%s\" WHERE %s", rq->select ? rq->select : "*",
		 rq->relation,
		 has_ts ? "ts >= ?1 AND ts <= ?2" : "?1 IS NOT NULL AND ?2 IS NOT NULL");
	filters_sql(rq->filters, rq->nfilters, 3, sql, sizeof(sql));
	size_t len = strlen(sql);
	if (rq->order_col)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " ORDER BY \"%s\"%s",
					rq->order_col, rq->desc ? " DESC" : "");
	if (rq->limit > 0)
		snprintf(sql + len, sizeof(sql) - len, " LIMIT %lld", (long long)rq->limit);
	sqlite3_stmt *st;
	if (qdb_prepare(q, sql, &st, e))
		return -1;
	out_columns(o, st);
	sqlite3_bind_int64(st, 1, rq->since);
	sqlite3_bind_int64(st, 2, rq->until);
	filters_bind(st, rq->filters, rq->nfilters, 3);
	int64_t rows = 0, left = -1;
	int rc = drain(q, st, o, &rows, &left, e);
	sqlite3_finalize(st);
	return rc;
}

/* Ordered by ts the rows are read page by page, tier by tier; ordered by
 * another column, in one statement. */
static int range_run(struct reader_pool *pool, const struct range_query *rq, struct out *o,
		     struct err *e)
{
	char **cols = relation_columns(pool->main, rq->relation, e);
	if (!cols)
		return -1;
	int has_ts = columns_have(cols, "ts");
	free_columns(cols);
	if (has_ts && (!rq->order_col || strcmp(rq->order_col, "ts") == 0))
		return run_by_tier(pool, rq, o, e);
	return run_single(pool->main, rq, has_ts, o, e);
}

int range_write(struct qdb *q, const struct qopts *o, const struct range_query *rq,
		enum out_format fmt, int points)
{
	struct out out;
	struct err e;
	q->uses = rq->relation;
	if (qdb_plan(q, o, rq->since, rq->until, points, &e) ||
	    out_open(&out, fmt, o->time, o->out_path, o->db, &e)) {
		qdb_close(q);
		return qfail(1, &e);
	}
	struct reader_pool pool = {.main = q, .opts = o, .n = readers_wanted(rq, &out)};
	int rc = range_run(&pool, rq, &out, &e);
	for (int i = 0; i < MAX_READERS - 1; i++)
		if (pool.open[i])
			qdb_close(&pool.extra[i]);
	qdb_close(q);
	if (out_close(&out, rc ? NULL : &e) || rc)
		return qfail(1, &e);
	return 0;
}
