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
	enum view_state state = view_state(&q, view, note, sizeof(note));
	if (state == VIEW_OLDER_DATABASE) {
		qdb_close(&q);
		return output_absent_view(o, view, note);
	}
	if (state == VIEW_NO_COLLECTOR)
		fprintf(stderr, "hindsight: view %s: %s\n", view, note);
	char all[80];
	const char *relation = view_to_read(&q, o, view, all, sizeof(all), &e);
	if (!relation || range_from_opts(&q, o, relation, "1h", &rq, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	return range_write(&q, o, &rq, o->format, AUTO_ROWS_PER_SERIES);
}
