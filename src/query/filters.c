/* Column lookup, --where filters and --order: a range query from the
 * options, every name checked against the relation's columns before it is
 * written into SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

char **relation_columns(struct qdb *q, const char *relation, struct err *e)
{
	if (!qdb_relation_exists(q, relation)) {
		err_set(e, "no table or view named '%s' (hindsight views lists the views)",
			relation);
		return NULL;
	}
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" LIMIT 0", relation);
	sqlite3_stmt *st;
	if (qdb_prepare(q, sql, &st, e))
		return NULL;
	int n = sqlite3_column_count(st);
	char **cols = calloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		cols[i] = strdup(sqlite3_column_name(st, i));
	sqlite3_finalize(st);
	return cols;
}

void free_columns(char **cols)
{
	for (char **c = cols; c && *c; c++)
		free(*c);
	free(cols);
}

int columns_have(char *const *cols, const char *name)
{
	for (; cols && *cols; cols++)
		if (strcmp(*cols, name) == 0)
			return 1;
	return 0;
}

static void columns_list(char *const *cols, char *out, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (; *cols && len + 2 < n; cols++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "", *cols);
}

int columns_parse(const char *text, char *const *cols, char *sql, size_t size, struct err *e)
{
	size_t len = 0;
	const char *p = text;
	sql[0] = '\0';
	for (;;) {
		size_t n = strcspn(p, ",");
		char name[64];
		if (n == 0 || n >= sizeof(name))
			return err_set(
			    e, "--columns '%s': expected column names separated by commas", text);
		memcpy(name, p, n);
		name[n] = '\0';
		if (!columns_have(cols, name)) {
			char list[1024];
			columns_list(cols, list, sizeof(list));
			return err_set(e, "--columns '%s': no column '%s'; the columns are: %s",
				       text, name, list);
		}
		/* names are checked, so quoting cannot be escaped */
		len += (size_t)snprintf(sql + len, size - len, "%s\"%s\"", len ? ", " : "", name);
		if (len >= size)
			return err_set(e, "--columns '%s': too many columns", text);
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int filter_parse(const char *text, char *const *cols, struct filter *f, struct err *e)
{
	static const char *const ops[] = {"!=", "<=", ">=", "=", "<", ">", "~"};
	size_t len = 0;
	while (text[len] && !strchr("!=<>~", text[len]))
		len++;
	memset(f, 0, sizeof(*f));
	if (len == 0 || len >= sizeof(f->col))
		return err_set(e,
			       "--where '%s': expected COLUMN=VALUE (also !=, <, <=, >, >=, "
			       "~ for LIKE)",
			       text);
	memcpy(f->col, text, len);
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		size_t l = strlen(ops[i]);
		if (strncmp(text + len, ops[i], l) == 0) {
			strcpy(f->op, ops[i]);
			f->value = text + len + l;
			break;
		}
	}
	if (!f->value)
		return err_set(e,
			       "--where '%s': expected COLUMN=VALUE (also !=, <, <=, >, >=, "
			       "~ for LIKE)",
			       text);
	if (!columns_have(cols, f->col)) {
		char list[1024];
		columns_list(cols, list, sizeof(list));
		return err_set(e, "--where '%s': no column '%s'; the columns are: %s", text, f->col,
			       list);
	}
	return 0;
}

void filters_sql(const struct filter *f, int n, int first_param, char *sql, size_t size)
{
	ASSERT(n >= 0 && n <= QOPTS_MAX_WHERE);
	size_t len = strlen(sql);
	for (int i = 0; i < n && len < size; i++)
		len +=
		    (size_t)snprintf(sql + len, size - len, " AND \"%s\" %s ?%d", f[i].col,
				     strcmp(f[i].op, "~") == 0 ? "LIKE" : f[i].op, first_param + i);
}

int filters_bind(sqlite3_stmt *st, const struct filter *f, int n, int first_param)
{
	for (int i = 0; i < n; i++) {
		int rc = strcmp(f[i].op, "~") == 0
			     ? sqlite3_bind_text(st, first_param + i, f[i].value, -1, SQLITE_STATIC)
			     : qdb_bind_guess(st, first_param + i, f[i].value);
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

/* "col", "col:asc" or "col:desc". */
static int order_parse(const char *text, char *const *cols, struct range_query *rq, char *col,
		       size_t n, struct err *e)
{
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	if (len == 0 || len >= n)
		return err_set(e, "--order '%s': expected COLUMN, COLUMN:asc or COLUMN:desc", text);
	memcpy(col, text, len);
	col[len] = '\0';
	if (colon && strcmp(colon, ":desc") != 0 && strcmp(colon, ":asc") != 0)
		return err_set(e, "--order '%s': expected COLUMN, COLUMN:asc or COLUMN:desc", text);
	if (!columns_have(cols, col)) {
		char list[1024];
		columns_list(cols, list, sizeof(list));
		return err_set(e, "--order '%s': no column '%s'; the columns are: %s", text, col,
			       list);
	}
	rq->order_col = col;
	rq->desc = colon && strcmp(colon, ":desc") == 0;
	return 0;
}

int range_from_opts(struct qdb *q, const struct qopts *o, const char *relation,
		    const char *dflt_since, struct range_query *rq, struct err *e)
{
	static char order_col[64], select[2048];
	memset(rq, 0, sizeof(*rq));
	rq->relation = relation;
	rq->limit = o->limit;
	rq->now = o->now;
	if (qopts_range(o, dflt_since, &rq->since, &rq->until, e))
		return -1;
	char **cols = relation_columns(q, relation, e);
	if (!cols)
		return -1;
	int rc = 0;
	for (int i = 0; i < o->nwhere && rc == 0; i++)
		rc = filter_parse(o->where[i], cols, &rq->filters[i], e);
	rq->nfilters = o->nwhere;
	if (rc == 0 && o->order)
		rc = order_parse(o->order, cols, rq, order_col, sizeof(order_col), e);
	if (rc == 0 && o->columns) {
		rc = columns_parse(o->columns, cols, select, sizeof(select), e);
		rq->select = select;
	}
	free_columns(cols);
	return rc;
}
