/* What the database's catalog says of a view before it is read: present,
 * present but fed by a collector that never ran here, absent because an
 * older daemon wrote the file, or unknown. The query tool knows no
 * collector by name; this comes from view_catalog, the collector table
 * and the views this binary embeds. */
#include <stdio.h>
#include <string.h>

#include "query/query.h"
#include "util/embedded.h"

/* Whether this binary carries a saved view of that name: a newer daemon
 * would install it, so its absence is the database's age, not a typo. */
static int view_embedded(const char *name)
{
	for (const struct embedded_file *f = embedded_views; f->name; f++) {
		struct view_header h;
		struct err ignored;
		if (view_header_parse(f->text, &h, &ignored) == 0 && strcmp(h.name, name) == 0)
			return 1;
	}
	return 0;
}

/* The collector view_catalog names for the view, when the catalog has that
 * column (a database written before it existed has not) and one is named,
 * and whether the daemon ever ran it (the collector table). */
static int view_collector(struct qdb *q, const char *name, char *collector, size_t n, int *ran)
{
	sqlite3_stmt *st;
	*ran = 1;
	/* Prepared directly: an older catalog without the column is not an
	 * error to report. */
	if (sqlite3_prepare_v2(q->db,
			       "SELECT v.collector, EXISTS (SELECT 1 FROM collector AS c "
			       "WHERE c.name = v.collector) FROM view_catalog AS v "
			       "WHERE v.name = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	qdb_arm(q);
	int found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT;
	if (found) {
		snprintf(collector, n, "%s", (const char *)sqlite3_column_text(st, 0));
		*ran = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return found;
}

enum view_state view_state(struct qdb *q, const char *name, char *note, size_t n)
{
	note[0] = '\0';
	if (!qdb_relation_exists(q, name)) {
		if (!qdb_name_ok(name) || !view_embedded(name))
			return VIEW_UNKNOWN;
		snprintf(note, n, "not present (database written by an older hindsightd)");
		return VIEW_OLDER_DATABASE;
	}
	char collector[64];
	int ran;
	if (view_collector(q, name, collector, sizeof(collector), &ran) && !ran) {
		snprintf(note, n, "no data (collector %s not present)", collector);
		return VIEW_NO_COLLECTOR;
	}
	return VIEW_READY;
}

int output_absent_view(struct qopts *o, const char *view, const char *note)
{
	struct out out;
	struct err e;
	fprintf(stderr, "hindsight: view %s: %s\n", view, note);
	if (out_open(&out, o->format, o->time, o->out_path, o->db, &e))
		return qfail(1, &e);
	return out_close(&out, &e) ? qfail(1, &e) : 0;
}

const char *view_to_read(struct qdb *q, const struct qopts *o, const char *view, char *buf,
			 size_t n, struct err *e)
{
	if (!o->all)
		return view;
	snprintf(buf, n, "%s_all", view);
	if (!qdb_name_ok(buf) || !qdb_relation_exists(q, buf)) {
		err_set(e,
			"--all: %s has no form with every row (no view %s); only views that "
			"fold rows have one, such as exec_log",
			view, buf);
		return NULL;
	}
	return buf;
}
