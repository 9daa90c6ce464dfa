/* Checkpoints on a thread of their own. A checkpoint copies the WAL into
 * the database file and fsyncs it: 10-30 ms per megabyte on the machines we
 * measured (bench_retention), which on the loop's thread would delay a
 * tick by as much. A PASSIVE checkpoint on a second connection runs beside
 * the daemon's writes without blocking them; when it completes, SQLite
 * truncates the database file to its vacuumed size, and the next commit
 * restarts the WAL from its beginning (cut to journal_size_limit). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/tiers.h"

struct checkpointer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int want, stop;
	sqlite3 *db;
	int64_t runs;
};

static void *checkpoint_main(void *arg)
{
	struct checkpointer *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->want = 0;
		pthread_mutex_unlock(&c->mu);
		int nlog = -1, nckpt = -1;
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog,
						   &nckpt);
		log_debug("checkpoint: rc=%d log=%d backfilled=%d", rc, nlog, nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("WAL checkpoint: %s", sqlite3_errmsg(c->db));
		pthread_mutex_lock(&c->mu);
		c->runs++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int tiers_background_checkpoints(struct tiers *t, struct err *e)
{
	struct checkpointer *c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(e, "out of memory");
	const char *path = sqlite3_db_filename(t->store->db, "main");
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		err_set(e, "checkpoint connection to %s: %s", path,
			c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	/* A connection attaches to the WAL on its first read; until then a
	 * checkpoint through it silently does nothing. */
	sqlite3_busy_timeout(c->db, 1000);
	if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		err_set(e, "checkpoint connection to %s: %s", path, sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, checkpoint_main, c)) {
		sqlite3_close(c->db);
		free(c);
		return err_set(e, "cannot start the checkpoint thread");
	}
	t->ckpt = c;
	return 0;
}

void checkpointer_request(struct checkpointer *c)
{
	pthread_mutex_lock(&c->mu);
	c->want = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int64_t checkpointer_runs(struct checkpointer *c)
{
	pthread_mutex_lock(&c->mu);
	int64_t n = c->runs;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
