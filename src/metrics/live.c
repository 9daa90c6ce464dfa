/* The daemon's metrics: the naming table loaded from its database, a set
 * fed by every row its connection writes, and the endpoint that shows the
 * set as of the last committed tick. */
#include <stdlib.h>

#include "metrics/metrics.h"

struct metrics {
	struct metric_map map;
	struct metric_set *set;
	struct metrics_server *server;
	struct store *store;
};

int metrics_open(struct metrics **out, const struct metrics_options *o, struct store *s,
		 struct err *e)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct err inner;
	*out = m;
	if (!m)
		return err_set(e, "out of memory");
	m->store = s;
	if (metric_map_load(&m->map, s->db, &inner))
		return err_set(e, "metrics: %s", inner.msg);
	if (!(m->set = metric_set_new(&m->map)))
		return err_set(e, "out of memory");
	if (metric_set_load(m->set, s->db, e) || metrics_server_open(&m->server, o, m->set, e))
		return -1;
	metric_set_tap(m->set, s->db);
	return 0;
}

int metrics_start(struct metrics *m, struct event_base *base, struct err *e)
{
	return metrics_server_start(m->server, base, e);
}

void metrics_commit(struct metrics *m)
{
	metric_set_commit(m->set);
}

void metrics_discard(struct metrics *m)
{
	metric_set_discard(m->set);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	metrics_server_close(m->server);
	if (m->set)
		metric_set_tap(NULL, m->store->db);
	metric_set_free(m->set);
	metric_map_free(&m->map);
	free(m);
}
