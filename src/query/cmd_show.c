/* hindsight show: one view over a time range, filtered, ordered, limited. */
#include <stdio.h>

#include "query/query.h"

int cmd_show(struct qopts *o)
{
	struct qdb q;
	struct range_query rq;
	struct err e;
	const char *view = o->args[0];
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	char note[128];
	if (view_state(&q, view, note, sizeof(note)) != VIEW_READY && note[0]) {
		qdb_close(&q);
		return output_unreadable_view(o, view, note);
	}
	if (range_from_opts(&q, o, view, "1h", &rq, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	return range_write(&q, o, &rq, o->format, AUTO_ROWS_PER_SERIES);
}
