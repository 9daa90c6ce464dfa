/* hindsight views: the saved views from the catalog the daemon installs. */
#include "query/query.h"

int cmd_views(struct qopts *o)
{
	struct qdb q;
	struct err e;
	sqlite3_stmt *st;
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	/* A view listed in the catalog but missing from the schema was dropped
	 * by hand; say so rather than hide it. */
	if (qdb_prepare_columns(
		&q,
		"SELECT c.name, c.title, c.description, "
		"CASE WHEN m.name IS NULL THEN 'missing' ELSE 'yes' END AS installed "
		"FROM view_catalog AS c LEFT JOIN sqlite_master AS m "
		"ON m.type = 'view' AND m.name = c.name ORDER BY c.name",
		o->columns, &st, &e)) {
		qdb_close(&q);
		return qfail(o->columns ? 2 : 1, &e);
	}
	return qdb_emit(&q, st, o, "listing views");
}
