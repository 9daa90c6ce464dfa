/* Several connections reading the pages of one range at once (the reader
 * pool), the rows still written in order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/range.h"

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
		ASSERT(sp->written < sp->taken);
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

int run_paged_parallel(struct reader_pool *pool, int n, const struct range_query *rq, int64_t since,
		       int64_t until, struct out *o, struct err *e)
{
	ASSERT(n > 1 && n <= MAX_READERS && n <= pool->n);
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

/* How many connections read at once: one per core up to MAX_READERS, or
 * $HINDSIGHT_READERS. Only a long range in a streamed format is worth a
 * second connection (opening one and pinning its views takes a few ms);
 * the table keeps one, since it holds rows back to align them anyway. */
int readers_wanted(const struct range_query *rq, const struct out *o)
{
	const char *env = getenv("HINDSIGHT_READERS");
	long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
	int64_t end = rq->until < rq->now ? rq->until : rq->now;
	if (o->fmt == OUT_TABLE || rq->limit > 0 || end - rq->since < PARALLEL_MIN_S)
		return 1;
	return n < 1 ? 1 : n > MAX_READERS ? MAX_READERS : (int)n;
}
