/* hindsight sql: one read-only statement with named parameters. */
#include <stdio.h>
#include <string.h>

#include "query/query.h"

/* The -p value for a parameter name (without its :, @ or $), or NULL. */
static const char *param_value(const struct qopts *o, const char *name, int *used)
{
	size_t len = strlen(name);
	for (int i = 0; i < o->nparams; i++) {
		if (strncmp(o->params[i], name, len) == 0 && o->params[i][len] == '=') {
			used[i] = 1;
			return o->params[i] + len + 1;
		}
	}
	return NULL;
}

/* Binds every parameter the statement has: -p values, then :since and
 * :until from the range. Each -p must be used, each parameter bound. */
static int bind_params(sqlite3_stmt *st, const struct qopts *o, struct err *e)
{
	int used[QOPTS_MAX_PARAMS] = {0};
	int64_t since, until;
	if (qopts_range(o, "1h", &since, &until, e))
		return -1;
	if (!o->until)
		until = o->now;
	for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
		const char *full = sqlite3_bind_parameter_name(st, i);
		if (!full || full[0] == '?')
			return err_set(e, "SQL: use named parameters (:name) with -p name=value, "
					  "not '?'");
		const char *name = full + 1, *v = param_value(o, name, used);
		if (v)
			qdb_bind_guess(st, i, v);
		else if (strcmp(name, "since") == 0)
			sqlite3_bind_int64(st, i, since);
		else if (strcmp(name, "until") == 0)
			sqlite3_bind_int64(st, i, until);
		else
			return err_set(e, "SQL: no value for %s (give -p %s=VALUE)", full, name);
	}
	for (int i = 0; i < o->nparams; i++)
		if (!used[i])
			return err_set(e, "-p %s: the statement has no such parameter",
				       o->params[i]);
	return 0;
}

/* The range the statement asks for through :since and :until decides the
 * tiers its views read, as show's range does; one that
 * names no range reads the finest tier holding each part of the history.
 * The views change, so the statement is prepared again. */
static int plan(struct qdb *q, const struct qopts *o, sqlite3_stmt **st, struct err *e)
{
	int64_t since = 0, until = TS_MAX;
	int ranged = sqlite3_bind_parameter_index(*st, ":since") ||
		     sqlite3_bind_parameter_index(*st, ":until");
	sqlite3_finalize(*st);
	*st = NULL;
	if (ranged && qopts_range(o, "1h", &since, &until, e))
		return -1;
	if (ranged && !o->until)
		until = o->now;
	q->uses = o->args[0];
	if (qdb_plan(q, o, since, until, ranged ? AUTO_ROWS_PER_SERIES : 0, e))
		return -1;
	return qdb_prepare_user(q, o->args[0], st, e);
}

int cmd_sql(struct qopts *o)
{
	struct qdb q;
	struct err e;
	sqlite3_stmt *st;
	int64_t since, until;
	if (qopts_range(o, "1h", &since, &until, &e))
		return qfail(2, &e);
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	if (qdb_prepare_user(&q, o->args[0], &st, &e) || plan(&q, o, &st, &e)) {
		qdb_close(&q);
		return qfail(1, &e);
	}
	if (bind_params(st, o, &e)) {
		sqlite3_finalize(st);
		qdb_close(&q);
		return qfail(2, &e);
	}
	return qdb_emit(&q, st, o, "SQL");
}
