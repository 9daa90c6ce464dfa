/* The parts of running a range (range.c) that its files share: paging
 * over time (paging.c) and the reader pool (readers.c). */
#ifndef HINDSIGHT_QUERY_RANGE_H
#define HINDSIGHT_QUERY_RANGE_H

#include "query/query.h"

/* Readers share the pages of a range longer than this (see readers_wanted). */
#define PARALLEL_MIN_S (6 * 3600)
#define MAX_READERS    2

/* ---- paging over time (paging.c) ---- */

/* Steps st to the end, writing rows; counts them into *rows and stops at
 * *left rows when *left is not negative. */
int drain(struct qdb *q, sqlite3_stmt *st, struct out *o, int64_t *rows, int64_t *left,
	  struct err *e);
/* The statement for one page [?1, ?2] and the one that finds where the
 * next page starts. */
int page_statements(struct qdb *q, const struct range_query *rq, sqlite3_stmt **st,
		    sqlite3_stmt **seek, struct err *e);

/* Where the pages stand: the next one starts at cur (when more) and is
 * width seconds wide, adapting so each holds a few thousand rows. */
struct pages {
	const struct range_query *rq;
	int64_t since, until;
	int64_t cur, width;
	int more;
};
void pages_start(struct pages *pg, struct qdb *q, sqlite3_stmt *seek, const struct range_query *rq,
		 int64_t since, int64_t until);
/* Takes the next page [*lo, *hi] and finds where the one after starts. */
void pages_take(struct pages *pg, struct qdb *q, sqlite3_stmt *seek, int64_t *lo, int64_t *hi);
/* Widens or narrows the next pages after one that held rows rows. */
void pages_adapt(struct pages *pg, int64_t rows);
/* Ordered by ts over [since, until]: one statement per page, pages walking
 * through the span in the requested direction; *left counts down the rows
 * still wanted (-1: no limit). */
int run_paged(struct qdb *q, const struct range_query *rq, int64_t since, int64_t until,
	      struct out *o, int64_t *left, struct err *e);

/* ---- the reader pool (readers.c) ---- */

/* The connections that read a range: the command's own, and up to
 * MAX_READERS - 1 more, each opened by its reader's thread while the first
 * reader is already at work, the first time a long part needs it. */
struct reader_pool {
	struct qdb *main;
	const struct qopts *opts;
	int n; /* readers wanted, the command's own included */
	struct qdb extra[MAX_READERS - 1];
	int open[MAX_READERS - 1];
};

/* How many readers a range is worth (1: the command's own connection). */
int readers_wanted(const struct range_query *rq, const struct out *o);
/* n readers of the pool read [since, until] in pages, in order, into o. */
int run_paged_parallel(struct reader_pool *pool, int n, const struct range_query *rq, int64_t since,
		       int64_t until, struct out *o, struct err *e);

#endif
