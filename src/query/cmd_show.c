/* hindsight show: one view over a time range, filtered, ordered, limited. */
#include <stdio.h>

#include "query/query.h"

/* The relation that answers for a view over [since, until]: the view itself
 * for now. The retention branch's --resolution raw|1m|1h|auto picks a
 * rollup tier's view here; nothing else in show needs to change. */
static const char *show_relation(const struct qopts *o, const char *view, int64_t since,
				 int64_t until)
{
	return view;
}

int cmd_show(struct qopts *o)
{
	struct qdb q;
	struct out out;
	struct range_query rq;
	struct err e;
	const char *view = o->args[0];
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	if (!qdb_relation_exists(&q, view) && contract_view(view)) {
		qdb_close(&q);
		return output_absent_view(o, view);
	}
	if (range_from_opts(&q, o, view, "1h", &rq, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	rq.relation = show_relation(o, view, rq.since, rq.until);
	if (out_open(&out, o->format, o->time, o->out_path, &e)) {
		qdb_close(&q);
		return qfail(1, &e);
	}
	int rc = range_run(&q, &rq, &out, &e);
	qdb_close(&q);
	if (out_close(&out, rc ? NULL : &e) || rc)
		return qfail(1, &e);
	return 0;
}
