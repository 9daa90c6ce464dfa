/* Running a table or view over a time range: filters, order, limit, and
 * paging by ts so that a month of rows streams through in short read
 * transactions with bounded memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/query.h"

/* Pages start one hour wide and adapt so each holds roughly 2k-20k rows. */
#define PAGE_START_S   3600
#define PAGE_MIN_S     1
#define PAGE_MAX_S     (7 * 86400)
#define PAGE_FEW_ROWS  2000
#define PAGE_MANY_ROWS 20000

/* Readers share the pages of a range longer than this (see readers_wanted). */
#define PARALLEL_MIN_S (6 * 3600)
#define MAX_READERS    2

char **relation_columns(struct qdb *q, const char *relation, struct err *e)
{
	if (!qdb_relation_exists(q, relation)) {
		err_set(e, "no table or view named '%s' (hindsight views lists the views)",
			relation);
		return NULL;
	}
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" LIMIT 0", relation);
	sqlite3_stmt *st;
	if (qdb_prepare(q, sql, &st, e))
		return NULL;
	int n = sqlite3_column_count(st);
	char **cols = calloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		cols[i] = strdup(sqlite3_column_name(st, i));
	sqlite3_finalize(st);
	return cols;
}

void free_columns(char **cols)
{
	for (char **c = cols; c && *c; c++)
		free(*c);
	free(cols);
}

int columns_have(char *const *cols, const char *name)
{
	for (; cols && *cols; cols++)
		if (strcmp(*cols, name) == 0)
			return 1;
	return 0;
}

static void columns_list(char *const *cols, char *out, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (; *cols && len + 2 < n; cols++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "", *cols);
}

int filter_parse(const char *text, char *const *cols, struct filter *f, struct err *e)
{
	static const char *const ops[] = {"!=", "<=", ">=", "=", "<", ">", "~"};
	size_t len = 0;
	while (text[len] && !strchr("!=<>~", text[len]))
		len++;
	memset(f, 0, sizeof(*f));
	if (len == 0 || len >= sizeof(f->col))
		return err_set(e,
			       "--where '%s': expected COLUMN=VALUE (also !=, <, <=, >, >=, "
			       "~ for LIKE)",
			       text);
	memcpy(f->col, text, len);
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		size_t l = strlen(ops[i]);
		if (strncmp(text + len, ops[i], l) == 0) {
			strcpy(f->op, ops[i]);
			f->value = text + len + l;
			break;
		}
	}
	if (!f->value)
		return err_set(e,
			       "--where '%s': expected COLUMN=VALUE (also !=, <, <=, >, >=, "
			       "~ for LIKE)",
			       text);
	if (!columns_have(cols, f->col)) {
		char list[1024];
		columns_list(cols, list, sizeof(list));
		return err_set(e, "--where '%s': no column '%s'; the columns are: %s", text, f->col,
			       list);
	}
	return 0;
}

void filters_sql(const struct filter *f, int n, int first_param, char *sql, size_t size)
{
	size_t len = strlen(sql);
	for (int i = 0; i < n && len < size; i++)
		len +=
		    (size_t)snprintf(sql + len, size - len, " AND \"%s\" %s ?%d", f[i].col,
				     strcmp(f[i].op, "~") == 0 ? "LIKE" : f[i].op, first_param + i);
}

int filters_bind(sqlite3_stmt *st, const struct filter *f, int n, int first_param)
{
	for (int i = 0; i < n; i++) {
		int rc = strcmp(f[i].op, "~") == 0
			     ? sqlite3_bind_text(st, first_param + i, f[i].value, -1, SQLITE_STATIC)
			     : qdb_bind_guess(st, first_param + i, f[i].value);
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

/* Steps st to the end, writing rows; counts them into *rows and stops at
 * *left rows when *left is not negative. */
static int drain(struct qdb *q, sqlite3_stmt *st, struct out *o, int64_t *rows, int64_t *left,
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

/* The statement for one page [?1, ?2] and the one that finds where the
 * next page starts. */
static int page_statements(struct qdb *q, const struct range_query *rq, sqlite3_stmt **st,
			   sqlite3_stmt **seek, struct err *e)
{
	char sql[4096], seek_sql[256];
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" WHERE ts >= ?1 AND ts <= ?2",
		 rq->relation);
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

/* Where the pages stand: the next one starts at cur (when more) and is
 * width seconds wide, adapting so each holds PAGE_FEW_ROWS..PAGE_MANY_ROWS. */
struct pages {
	const struct range_query *rq;
	int64_t since, until;
	int64_t cur, width;
	int more;
};

static void pages_start(struct pages *pg, struct qdb *q, sqlite3_stmt *seek,
			const struct range_query *rq, int64_t since, int64_t until)
{
	pg->rq = rq;
	pg->since = since;
	pg->until = until;
	pg->width = PAGE_START_S;
	pg->more = next_ts(q, seek, rq->desc ? until : since, rq->desc ? since : until, &pg->cur);
}

/* Takes the next page [*lo, *hi] and finds where the one after starts. */
static void pages_take(struct pages *pg, struct qdb *q, sqlite3_stmt *seek, int64_t *lo,
		       int64_t *hi)
{
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

static void pages_adapt(struct pages *pg, int64_t rows)
{
	if (rows > PAGE_MANY_ROWS && pg->width > PAGE_MIN_S)
		pg->width /= 2;
	else if (rows < PAGE_FEW_ROWS && pg->width < PAGE_MAX_S)
		pg->width *= 2;
}

/* Ordered by ts over [since, until]: one statement per page, pages walking
 * through the span in the requested direction; *left counts down the rows
 * still wanted (-1: no limit). */
static int run_paged(struct qdb *q, const struct range_query *rq, int64_t since, int64_t until,
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

/* Several readers, each on its own connection, take pages in turn and
 * format each into one of PAGE_SLOTS buffers while the others do the same;
 * whichever reader finds the next page in order ready appends it to the
 * output. The query and the formatting use every core, the rows come out
 * in order, a reader that finishes early goes on to the next page instead
 * of waiting, and memory holds at most PAGE_SLOTS pages. */
#define PAGE_SLOTS (2 * MAX_READERS)

struct slot {
	struct out page;
	int ready; /* formatted, waiting for the pages before it */
};

struct shared_pages {
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct pages pg;
	uint64_t taken, written; /* pages handed out, pages appended */
	int writing;		 /* a reader is appending (outside the lock) */
	struct slot slot[PAGE_SLOTS];
	struct out *o;
	int failed;
	struct err err;
};

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

/* Aligned to a cache line: the readers' structs are written on every page
 * and must not share one. */
struct reader {
	_Alignas(64) struct shared_pages *sp;
	struct qdb *q; /* NULL until a helper has its connection */
	sqlite3_stmt *st, *seek;
	struct reader_pool *pool;
	int helper; /* index into pool->extra */
	const struct range_query *rq;
};

static void reader_fail(struct shared_pages *sp, const struct err *e)
{
	pthread_mutex_lock(&sp->mu);
	if (!sp->failed)
		sp->err = *e;
	sp->failed = 1;
	pthread_cond_broadcast(&sp->changed);
	pthread_mutex_unlock(&sp->mu);
}

/* Called with the lock held: appends every page that is next in order and
 * ready, unless another reader is already doing so. */
static void append_ready(struct shared_pages *sp)
{
	if (sp->writing)
		return;
	sp->writing = 1;
	struct slot *next;
	while (!sp->failed && (next = &sp->slot[sp->written % PAGE_SLOTS])->ready) {
		pthread_mutex_unlock(&sp->mu);
		out_page_append(sp->o, &next->page);
		pthread_mutex_lock(&sp->mu);
		next->ready = 0;
		sp->written++;
		pthread_cond_broadcast(&sp->changed);
	}
	sp->writing = 0;
}

/* Takes the next page once a slot is free; 0 when there is none left. */
static int reader_take(struct reader *r, uint64_t *seq, int64_t *lo, int64_t *hi)
{
	struct shared_pages *sp = r->sp;
	pthread_mutex_lock(&sp->mu);
	while (!sp->failed && sp->pg.more && sp->taken - sp->written >= PAGE_SLOTS)
		pthread_cond_wait(&sp->changed, &sp->mu);
	int go = sp->pg.more && !sp->failed;
	if (go) {
		*seq = sp->taken++;
		pages_take(&sp->pg, r->q, r->seek, lo, hi);
	}
	pthread_mutex_unlock(&sp->mu);
	return go;
}

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	struct shared_pages *sp = r->sp;
	uint64_t seq;
	int64_t lo, hi;
	while (reader_take(r, &seq, &lo, &hi)) {
		struct slot *slot = &sp->slot[seq % PAGE_SLOTS];
		int64_t rows = 0, left = -1;
		struct err e;
		sqlite3_bind_int64(r->st, 1, lo);
		sqlite3_bind_int64(r->st, 2, hi);
		if (drain(r->q, r->st, &slot->page, &rows, &left, &e) ||
		    (out_page_failed(&slot->page) && err_set(&e, "out of memory"))) {
			reader_fail(sp, &e);
			break;
		}
		pthread_mutex_lock(&sp->mu);
		pages_adapt(&sp->pg, rows);
		slot->ready = 1;
		append_ready(sp);
		pthread_mutex_unlock(&sp->mu);
	}
	return NULL;
}

/* A helper's connection, opened or re-pinned to match the command's own,
 * and its statements. A helper that fails only means less help. */
static int helper_connect(struct reader *r)
{
	struct reader_pool *pool = r->pool;
	struct qdb *q = &pool->extra[r->helper];
	struct err ignored;
	if (!pool->open[r->helper]) {
		if (qdb_open_reader(q, pool->main, pool->opts, &ignored))
			return -1;
		pool->open[r->helper] = 1;
	} else if (q->pinned != pool->main->pinned && qdb_pin(q, pool->main->pinned, &ignored)) {
		return -1;
	}
	if (page_statements(q, r->rq, &r->st, &r->seek, &ignored))
		return -1;
	r->q = q;
	return 0;
}

static void *helper_run(void *arg)
{
	struct reader *r = arg;
	if (helper_connect(r) == 0)
		reader_run(r);
	return NULL;
}

static int run_paged_parallel(struct reader_pool *pool, int n, const struct range_query *rq,
			      int64_t since, int64_t until, struct out *o, struct err *e)
{
	struct shared_pages *sp = calloc(1, sizeof(*sp));
	struct reader r[MAX_READERS] = {0};
	pthread_t thread[MAX_READERS];
	int started[MAX_READERS] = {0}, ok = sp != NULL;
	if (!ok)
		return err_set(e, "out of memory");
	sp->o = o;
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->changed, NULL);
	for (int i = 0; i < n; i++) {
		r[i].sp = sp;
		r[i].pool = pool;
		r[i].helper = i - 1;
		r[i].rq = rq;
	}
	r[0].q = pool->main;
	if (page_statements(pool->main, rq, &r[0].st, &r[0].seek, e))
		ok = 0;
	else
		out_columns(o, r[0].st);
	for (int i = 0; ok && i < PAGE_SLOTS; i++)
		if (out_page_open(&sp->slot[i].page, o)) {
			err_set(e, "out of memory");
			ok = 0;
		}
	int rc = -1;
	if (ok) {
		pages_start(&sp->pg, pool->main, r[0].seek, rq, since, until);
		for (int i = 1; i < n; i++)
			started[i] = pthread_create(&thread[i], NULL, helper_run, &r[i]) == 0;
		reader_run(&r[0]);
		for (int i = 1; i < n; i++)
			if (started[i])
				pthread_join(thread[i], NULL);
		rc = sp->failed ? err_set(e, "%s", sp->err.msg) : 0;
	}
	for (int i = 0; i < n; i++) {
		sqlite3_finalize(r[i].st);
		sqlite3_finalize(r[i].seek);
	}
	for (int i = 0; i < PAGE_SLOTS; i++)
		out_page_close(&sp->slot[i].page);
	pthread_cond_destroy(&sp->changed);
	pthread_mutex_destroy(&sp->mu);
	free(sp);
	return rc;
}

/* The range split where the plan changes tier, each part read with the
 * views pinned to its one tier: a plain view SQLite flattens, where the
 * union of tiers would be copied row by row (src/store/readplan.c). With
 * no limit, the readers share the pages. */
static int run_by_tier(struct reader_pool *pool, const struct range_query *rq, struct out *o,
		       struct err *e)
{
	struct qdb *q = pool->main;
	struct {
		int64_t lo, hi;
	} part[NTIERS] = {
	    [TIER_1H] = {rq->since, q->plan.to_1h},
	    [TIER_1M] = {q->plan.to_1h + 1, q->plan.to_1m},
	    [TIER_RAW] = {q->plan.to_1m + 1, rq->until},
	};
	int split = (q->tiers & (q->tiers - 1)) != 0;
	int64_t left = rq->limit > 0 ? rq->limit : -1;
	for (int i = 0; i < NTIERS && left != 0; i++) {
		int tier = rq->desc ? i : NTIERS - 1 - i; /* 1h, 1m, raw: oldest first */
		int64_t lo = part[tier].lo > rq->since ? part[tier].lo : rq->since;
		int64_t hi = part[tier].hi < rq->until ? part[tier].hi : rq->until;
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
	char sql[4096];
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" WHERE %s", rq->relation,
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

/* How many connections read at once: one per core up to MAX_READERS, or
 * $HINDSIGHT_READERS. Only a long range in a streamed format is worth a
 * second connection (opening one and pinning its views takes a few ms);
 * the table keeps one, since it holds rows back to align them anyway. */
static int readers_wanted(const struct range_query *rq, const struct out *o)
{
	const char *env = getenv("HINDSIGHT_READERS");
	long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
	int64_t end = rq->until < rq->now ? rq->until : rq->now;
	if (o->fmt == OUT_TABLE || rq->limit > 0 || end - rq->since < PARALLEL_MIN_S)
		return 1;
	return n < 1 ? 1 : n > MAX_READERS ? MAX_READERS : (int)n;
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

int contract_view(const char *name)
{
	static const char *const views[] = {
	    "cpu_usage", "cpu_per_core",  "memory_usage",     "load",	       "agent_health",
	    "group_cpu", "group_memory",  "group_io",	      "top_processes", "pressure",
	    "net_rates", "disk_io",	  "filesystem_usage", "tcp",	       "kernel_log",
	    "exec_log",	 "process_exits", "oom_kills",
	};
	for (size_t i = 0; i < ARRAY_LEN(views); i++)
		if (strcmp(name, views[i]) == 0)
			return 1;
	return 0;
}

/* "col", "col:asc" or "col:desc". */
static int order_parse(const char *text, char *const *cols, struct range_query *rq, char *col,
		       size_t n, struct err *e)
{
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	if (len == 0 || len >= n)
		return err_set(e, "--order '%s': expected COLUMN, COLUMN:asc or COLUMN:desc", text);
	memcpy(col, text, len);
	col[len] = '\0';
	if (colon && strcmp(colon, ":desc") != 0 && strcmp(colon, ":asc") != 0)
		return err_set(e, "--order '%s': expected COLUMN, COLUMN:asc or COLUMN:desc", text);
	if (!columns_have(cols, col)) {
		char list[1024];
		columns_list(cols, list, sizeof(list));
		return err_set(e, "--order '%s': no column '%s'; the columns are: %s", text, col,
			       list);
	}
	rq->order_col = col;
	rq->desc = colon && strcmp(colon, ":desc") == 0;
	return 0;
}

int range_from_opts(struct qdb *q, const struct qopts *o, const char *relation,
		    const char *dflt_since, struct range_query *rq, struct err *e)
{
	static char order_col[64];
	memset(rq, 0, sizeof(*rq));
	rq->relation = relation;
	rq->limit = o->limit;
	rq->now = o->now;
	if (qopts_range(o, dflt_since, &rq->since, &rq->until, e))
		return -1;
	char **cols = relation_columns(q, relation, e);
	if (!cols)
		return -1;
	int rc = 0;
	for (int i = 0; i < o->nwhere && rc == 0; i++)
		rc = filter_parse(o->where[i], cols, &rq->filters[i], e);
	rq->nfilters = o->nwhere;
	if (rc == 0 && o->order)
		rc = order_parse(o->order, cols, rq, order_col, sizeof(order_col), e);
	free_columns(cols);
	return rc;
}

/* A view another branch provides that this database does not have yet is
 * "no data", not an error: an empty result and a note on stderr. */
int output_absent_view(struct qopts *o, const char *view)
{
	struct out out;
	struct err e;
	fprintf(stderr,
		"hindsight: no data: view %s is not in this database (collector not "
		"present)\n",
		view);
	if (out_open(&out, o->format, o->time, o->out_path, o->db, &e))
		return qfail(1, &e);
	return out_close(&out, &e) ? qfail(1, &e) : 0;
}
