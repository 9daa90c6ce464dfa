/* hindsight export: a table or view over a range, streamed (CSV by default)
 * in pages of time so a month of rows needs neither much memory nor a long
 * read transaction. */
#include <stdio.h>

#include "query/query.h"

int cmd_export(struct qopts *o)
{
	struct qdb q;
	struct range_query rq;
	struct err e;
	if (o->openmetrics)
		return cmd_export_openmetrics(o);
	if (o->nargs != 1) {
		fprintf(stderr,
			"hindsight: export takes 1 argument, got %d (several only with "
			"--openmetrics)\nTry 'hindsight export --help'.\n",
			o->nargs);
		return 2;
	}
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	char note[128];
	enum view_state state = view_state(&q, o->args[0], note, sizeof(note));
	if (state == VIEW_OLDER_DATABASE) {
		qdb_close(&q);
		if (o->format == OUT_DEFAULT)
			o->format = OUT_CSV;
		return output_absent_view(o, o->args[0], note);
	}
	if (state == VIEW_NO_COLLECTOR)
		fprintf(stderr, "hindsight: view %s: %s\n", o->args[0], note);
	char all[80];
	const char *relation = view_to_read(&q, o, o->args[0], all, sizeof(all), &e);
	if (!relation || range_from_opts(&q, o, relation, NULL, &rq, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	return range_write(&q, o, &rq, o->format == OUT_DEFAULT ? OUT_CSV : o->format, 0);
}
