/* The naming table: metric_family, metric_key and metric_column read from
 * the database and checked, so every renderer works from one vetted map. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

/* Grows an array of n elements of size sz by one, zeroing the new one. */
static void *grow(void *arr, size_t *n, size_t sz)
{
	char *p = realloc(arr, (*n + 1) * sz);
	if (!p)
		return NULL;
	memset(p + *n * sz, 0, sz);
	(*n)++;
	return p;
}

/* A scale kept exact when it is an integer or a decimal fraction with up to
 * 9 digits (0.001, 0.0001, 1/512 = 0.001953125), so ms become seconds
 * without binary float noise in the text. */
int metric_scale_of(double factor, struct metric_scale *out)
{
	out->factor = factor;
	out->mul = 0;
	out->shift = -1;
	if (!isfinite(factor))
		return -1;
	double p = 1;
	for (int shift = 0; shift <= 9; shift++, p *= 10) {
		double x = factor * p, r = nearbyint(x);
		/* r != 0: 1e-9 is within 1e-9 of 0, yet no multiple of it */
		if (r != 0 && fabs(r) < 9e15 && fabs(x - r) <= 1e-9 * fmax(1, fabs(x))) {
			out->mul = (int64_t)r;
			out->shift = shift;
			return 0;
		}
	}
	return 0;
}

int metric_name_ok(const char *name, int label)
{
	if (!name[0] || (label && name[0] == '_' && name[1] == '_'))
		return 0;
	for (const char *p = name; *p; p++) {
		int c = (unsigned char)*p;
		int ok = isalpha(c) || c == '_' || (!label && c == ':') || (p > name && isdigit(c));
		if (!ok || c > 127)
			return 0;
	}
	return 1;
}

/* ---- constant labels: a="x",b="y" ---- */

static int label_name_at(const char **p, char *out, size_t n)
{
	size_t len = 0;
	while (**p && (isalnum((unsigned char)**p) || **p == '_')) {
		if (len + 1 >= n)
			return -1;
		out[len++] = *(*p)++;
	}
	out[len] = '\0';
	return len ? 0 : -1;
}

/* A quoted label value with \\, \" and \n escapes; p is at the quote. */
static char *label_value_at(const char **p)
{
	const char *s = *p + 1;
	size_t cap = strlen(s) + 1, len = 0;
	char *v = malloc(cap);
	if (!v)
		return NULL;
	for (; *s && *s != '"'; s++) {
		if (*s == '\\') {
			s++;
			if (*s == 'n')
				v[len++] = '\n';
			else if (*s == '\\' || *s == '"')
				v[len++] = *s;
			else
				break; /* a bad escape ends the value early: reported below */
		} else {
			v[len++] = *s;
		}
	}
	v[len] = '\0';
	if (*s != '"') {
		free(v);
		return NULL;
	}
	*p = s + 1;
	return v;
}

void metric_labels_free(struct metric_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].value);
	}
	free(l);
}

int metric_labels_parse(const char *text, struct metric_label **out, size_t *n, struct err *e)
{
	struct metric_label *l = NULL;
	size_t count = 0;
	const char *p = text;
	*out = NULL;
	*n = 0;
	while (*p == ' ')
		p++;
	while (*p) {
		char name[64];
		if (label_name_at(&p, name, sizeof(name)) || !metric_name_ok(name, 1)) {
			metric_labels_free(l, count);
			return err_set(e, "labels '%s': bad label name at '%.20s'", text, p);
		}
		while (*p == ' ')
			p++;
		char *value = NULL;
		if (*p != '=' || (p++, *p != '"') || !(value = label_value_at(&p))) {
			metric_labels_free(l, count);
			return err_set(e, "labels '%s': expected %s=\"value\"", text, name);
		}
		for (size_t i = 0; i < count; i++)
			if (strcmp(l[i].name, name) == 0) {
				free(value);
				metric_labels_free(l, count);
				return err_set(e, "labels '%s': %s given twice", text, name);
			}
		struct metric_label *g = grow(l, &count, sizeof(*l));
		if (!g) {
			free(value);
			metric_labels_free(l, count);
			return err_set(e, "out of memory");
		}
		l = g;
		l[count - 1].name = strdup(name);
		l[count - 1].value = value;
		while (*p == ' ')
			p++;
		if (*p && *p != ',') {
			metric_labels_free(l, count);
			return err_set(e, "labels '%s': expected ',' at '%.20s'", text, p);
		}
		if (*p)
			p++;
		while (*p == ' ')
			p++;
	}
	*out = l;
	*n = count;
	return 0;
}

/* ---- row filters: col op literal [AND ...] ---- */

void metric_filter_free(struct filter_term *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].text);
	free(t);
}

static void skip_blanks(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n')
		(*p)++;
}

static int filter_column(const char **p, char *out, size_t n)
{
	size_t len = 0;
	int dot = 0;
	while (isalnum((unsigned char)**p) || **p == '_' || (**p == '.' && !dot && len)) {
		if (**p == '.')
			dot = 1;
		if (len + 1 >= n)
			return -1;
		out[len++] = *(*p)++;
	}
	out[len] = '\0';
	return len && out[len - 1] != '.' && !isdigit((unsigned char)out[0]) ? 0 : -1;
}

static int filter_op(const char **p, enum filter_op *op)
{
	static const struct {
		const char *text;
		enum filter_op op;
	} ops[] = {{"<=", OP_LE}, {">=", OP_GE}, {"<>", OP_NE}, {"!=", OP_NE},
		   {"=", OP_EQ},  {"<", OP_LT},	 {">", OP_GT}};
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		size_t n = strlen(ops[i].text);
		if (strncmp(*p, ops[i].text, n) == 0) {
			*p += n;
			*op = ops[i].op;
			return 0;
		}
	}
	return -1;
}

/* An integer or a 'quoted' text ('' is a quote inside it). */
static int filter_literal(const char **p, struct filter_term *t)
{
	if (**p == '\'') {
		const char *s = *p + 1;
		size_t len = 0;
		char *v = malloc(strlen(s) + 1);
		if (!v)
			return -1;
		for (;; s++) {
			if (!*s) {
				free(v);
				return -1;
			}
			if (*s == '\'') {
				if (s[1] != '\'')
					break;
				s++;
			}
			v[len++] = *s;
		}
		v[len] = '\0';
		t->is_text = 1;
		t->text = v;
		*p = s + 1;
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(*p, &end, 10);
	if (end == *p || errno || isalnum((unsigned char)*end) || *end == '.')
		return -1;
	t->num = v;
	*p = end;
	return 0;
}

int metric_filter_parse(const char *text, struct filter_term **out, size_t *n, struct err *e)
{
	struct filter_term *t = NULL;
	size_t count = 0;
	const char *p = text;
	*out = NULL;
	*n = 0;
	skip_blanks(&p);
	while (*p) {
		struct filter_term *g = grow(t, &count, sizeof(*t));
		if (!g) {
			metric_filter_free(t, count);
			return err_set(e, "out of memory");
		}
		t = g;
		struct filter_term *term = &t[count - 1];
		const char *at = p;
		if (filter_column(&p, term->column, sizeof(term->column)) ||
		    (skip_blanks(&p), filter_op(&p, &term->op)) ||
		    (skip_blanks(&p), filter_literal(&p, term))) {
			metric_filter_free(t, count);
			return err_set(
			    e, "row_filter '%s': expected <column> <op> <literal> at '%.30s'", text,
			    at);
		}
		skip_blanks(&p);
		if (!*p)
			break;
		if (strncasecmp(p, "AND", 3) || isalnum((unsigned char)p[3]) || p[3] == '_') {
			metric_filter_free(t, count);
			return err_set(e, "row_filter '%s': expected AND at '%.30s'", text, p);
		}
		p += 3;
		skip_blanks(&p);
		if (!*p) {
			metric_filter_free(t, count);
			return err_set(e, "row_filter '%s': nothing after AND", text);
		}
	}
	*out = t;
	*n = count;
	return 0;
}

/* ---- the map ---- */

int metric_map_table(const struct metric_map *m, const char *name)
{
	for (size_t i = 0; i < m->ntables; i++)
		if (strcmp(m->tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

int metric_map_dim(const struct metric_map *m, const char *name)
{
	for (size_t i = 0; i < m->ndims; i++)
		if (strcmp(m->dims[i].name, name) == 0)
			return (int)i;
	return -1;
}

int metric_map_family(const struct metric_map *m, const char *name)
{
	size_t lo = 0, hi = m->nfamilies;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->families[mid].name, name);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* A table's columns in table order (pragma table_info); 0 columns when it
 * does not exist. */
static int table_columns(sqlite3 *db, const char *table, char (**cols)[64], int *n, struct err *e)
{
	sqlite3_stmt *st;
	*cols = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", -1, &st,
			       NULL))
		return err_set(e, "naming table: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	size_t count = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char(*g)[64] = grow(*cols, &count, sizeof(**cols));
		if (!g) {
			sqlite3_finalize(st);
			return err_set(e, "out of memory");
		}
		*cols = g;
		snprintf((*cols)[count - 1], 64, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	*n = (int)count;
	return 0;
}

static int column_index(char (*cols)[64], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(cols[i], name) == 0)
			return i;
	return -1;
}

/* The column that ends a dimension's rows, as dimension_table names it (the
 * table retention also reads); -1 when its rows never end, or in a database
 * from before dimension_table. */
static int gone_column(sqlite3 *db, const char *dim, char (*cols)[64], int n)
{
	sqlite3_stmt *st;
	int col = -1;
	if (sqlite3_prepare_v2(db, "SELECT gone_column FROM dimension_table WHERE table_name=?1",
			       -1, &st, NULL))
		return -1;
	sqlite3_bind_text(st, 1, dim, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		col = column_index(cols, n, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return col;
}

/* Whether the table takes part in the tiers (time series or event log). */
static int is_tiered(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM series_column WHERE table_name=?1 UNION ALL "
			       "SELECT 1 FROM event_table WHERE table_name=?1",
			       -1, &st, NULL))
		return 0;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int add_table(struct metric_map *m, sqlite3 *db, const char *name, struct err *e)
{
	if (metric_map_table(m, name) >= 0)
		return 0;
	if (strlen(name) >= sizeof(m->tables[0].name))
		return err_set(e, "naming table: table name '%s' too long", name);
	struct metric_table *g = grow(m->tables, &m->ntables, sizeof(*g));
	if (!g)
		return err_set(e, "out of memory");
	m->tables = g;
	struct metric_table *t = &m->tables[m->ntables - 1];
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (table_columns(db, name, &t->cols, &t->ncols, e))
		return -1;
	if (!t->ncols)
		return err_set(e, "naming table: table %s does not exist", name);
	t->state = !is_tiered(db, name);
	return 0;
}

/* The dimension and, in it, the column; both added when new. */
static int dim_column(struct metric_map *m, sqlite3 *db, const char *dim, const char *col,
		      int *dim_out, int *col_out, struct err *e)
{
	int d = metric_map_dim(m, dim);
	if (d < 0) {
		struct metric_dim *g = grow(m->dims, &m->ndims, sizeof(*g));
		if (!g)
			return err_set(e, "out of memory");
		m->dims = g;
		struct metric_dim *nd = &m->dims[m->ndims - 1];
		char(*cols)[64];
		int ncols;
		snprintf(nd->name, sizeof(nd->name), "%s", dim);
		if (table_columns(db, dim, &cols, &ncols, e))
			return -1;
		nd->id_col = column_index(cols, ncols, "id");
		nd->gone_col = gone_column(db, dim, cols, ncols);
		if (nd->gone_col >= 0)
			snprintf(nd->gone_name, sizeof(nd->gone_name), "%s", cols[nd->gone_col]);
		free(cols);
		if (nd->id_col < 0)
			return err_set(e, "naming table: dimension %s has no id column", dim);
		d = (int)m->ndims - 1;
	}
	struct metric_dim *md = &m->dims[d];
	char(*cols)[64];
	int ncols, idx;
	if (table_columns(db, dim, &cols, &ncols, e))
		return -1;
	idx = column_index(cols, ncols, col);
	free(cols);
	if (idx < 0)
		return err_set(e, "naming table: dimension %s has no column %s", dim, col);
	*dim_out = d;
	for (int i = 0; i < md->ncols; i++)
		if (md->col[i] == idx)
			return *col_out = i, 0;
	size_t n = (size_t)md->ncols;
	char(*gc)[64] = grow(md->cols, &n, sizeof(*md->cols));
	if (gc)
		md->cols = gc;
	n = (size_t)md->ncols;
	int *gi = grow(md->col, &n, sizeof(int));
	if (!gc || !gi)
		return err_set(e, "out of memory");
	md->col = gi;
	snprintf(md->cols[md->ncols], 64, "%s", col);
	md->col[md->ncols] = idx;
	*col_out = md->ncols++;
	return 0;
}

static const char *text_col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* Checks a family's name against its type and unit, as OpenMetrics wants. */
static int family_check(const struct metric_family *f, struct err *e)
{
	size_t n = strlen(f->name);
	int total = n > 6 && strcmp(f->name + n - 6, "_total") == 0;
	if (!metric_name_ok(f->name, 0))
		return err_set(e, "metric_family %s: not a valid metric name", f->name);
	if (strncmp(f->name, "hindsight_http_", 15) == 0)
		return err_set(e, "metric_family %s: hindsight_http_* names are the endpoint's own",
			       f->name);
	if (f->type == METRIC_COUNTER && !total)
		return err_set(e, "metric_family %s: a counter's name ends in _total", f->name);
	if (f->type != METRIC_COUNTER && total)
		return err_set(e, "metric_family %s: only a counter's name may end in _total",
			       f->name);
	if (f->unit[0]) {
		size_t base = total ? n - 6 : n, u = strlen(f->unit);
		if (base <= u + 1 || f->name[base - u - 1] != '_' ||
		    strncmp(f->name + base - u, f->unit, u))
			return err_set(e, "metric_family %s: unit '%s' is not the end of its name",
				       f->name, f->unit);
	}
	return 0;
}

static int load_families(struct metric_map *m, sqlite3 *db, struct err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT name, type, help, unit FROM metric_family ORDER BY name",
			       -1, &st, NULL))
		return err_set(e, "naming table: %s", sqlite3_errmsg(db));
	int rc = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct metric_family *g = grow(m->families, &m->nfamilies, sizeof(*g));
		if (!g) {
			rc = err_set(e, "out of memory");
			break;
		}
		m->families = g;
		struct metric_family *f = &m->families[m->nfamilies - 1];
		const char *type = text_col(st, 1);
		f->name = strdup(text_col(st, 0));
		f->help = strdup(text_col(st, 2));
		f->unit = strdup(text_col(st, 3));
		f->type = strcmp(type, "counter") == 0 ? METRIC_COUNTER
			  : strcmp(type, "gauge") == 0 ? METRIC_GAUGE
						       : METRIC_UNTYPED;
		f->sums = -1; /* set by its columns */
		if (!f->name || !f->help || !f->unit)
			rc = err_set(e, "out of memory");
		else
			rc = family_check(f, e);
	}
	sqlite3_finalize(st);
	return rc;
}

static int label_taken(const struct metric_table *t, const char *label)
{
	for (size_t k = 0; k < t->nkeys; k++)
		for (size_t l = 0; l < t->keys[k].nlabels; l++)
			if (strcmp(t->keys[k].labels[l].label, label) == 0)
				return 1;
	return 0;
}

/* One metric_key row. */
static int add_key(struct metric_map *m, sqlite3 *db, sqlite3_stmt *st, struct err *e)
{
	const char *table = text_col(st, 0), *column = text_col(st, 1), *label = text_col(st, 2);
	const char *dim = (const char *)sqlite3_column_text(st, 3);
	const char *dcol = (const char *)sqlite3_column_text(st, 4);
	char what[256];
	int d = -1, dc = -1;
	snprintf(what, sizeof(what), "metric_key (%s, %s, %s)", table, column, label);
	if (!dim != !dcol)
		return err_set(e, "%s: give dim_table and dim_column, or neither", what);
	if (add_table(m, db, table, e) || (dim && dim_column(m, db, dim, dcol, &d, &dc, e)))
		return -1;
	struct metric_table *t = &m->tables[metric_map_table(m, table)];
	int col = column_index(t->cols, t->ncols, column);
	if (col < 0)
		return err_set(e, "%s: %s has no column %s", what, table, column);
	if (!metric_name_ok(label, 1) || label_taken(t, label))
		return err_set(e, "%s: bad or repeated label name", what);
	struct metric_key *k = NULL;
	for (size_t i = 0; i < t->nkeys; i++)
		if (t->keys[i].col == col)
			k = &t->keys[i];
	if (!k) {
		if (t->nkeys == 4)
			return err_set(e, "%s: at most 4 key columns per table", what);
		struct metric_key *g = grow(t->keys, &t->nkeys, sizeof(*g));
		if (!g)
			return err_set(e, "out of memory");
		t->keys = g;
		k = &t->keys[t->nkeys - 1];
		snprintf(k->column, sizeof(k->column), "%s", column);
		k->col = col;
		k->dim = d;
	}
	if (k->dim != d)
		return err_set(e, "%s: a key takes its labels from one dimension table", what);
	if (k->nlabels == ARRAY_LEN(k->labels))
		return err_set(e, "%s: at most %zu labels per key", what, ARRAY_LEN(k->labels));
	k->labels[k->nlabels].label = strdup(label);
	k->labels[k->nlabels].dim_col = dc;
	if (!k->labels[k->nlabels++].label)
		return err_set(e, "out of memory");
	return 0;
}

/* Resolves a filter term's column: the table's own or a key's dimension's. */
static int resolve_term(struct metric_map *m, sqlite3 *db, struct metric_table *t,
			struct filter_term *term, const char *what, struct err *e)
{
	const char *dot = strchr(term->column, '.');
	if (!dot) {
		term->key = -1;
		term->col = column_index(t->cols, t->ncols, term->column);
		return term->col < 0 ? err_set(e, "%s: row_filter names %s, not a column of %s",
					       what, term->column, t->name)
				     : 0;
	}
	char dim[64];
	snprintf(dim, sizeof(dim), "%.*s", (int)(dot - term->column), term->column);
	for (size_t k = 0; k < t->nkeys; k++) {
		int d = t->keys[k].dim;
		if (d >= 0 && strcmp(m->dims[d].name, dim) == 0) {
			term->key = (int)k;
			int dd;
			return dim_column(m, db, dim, dot + 1, &dd, &term->col, e);
		}
	}
	return err_set(e, "%s: row_filter names %s, but no key of %s has dimension %s", what,
		       term->column, t->name, dim);
}

/* Whether a column holds deltas: a counter column of a time series, any
 * column of an event table (each row is one event), or '*' counting rows of
 * a counter (or untyped) family. Everything else is a value at its ts. */
static int column_sums(sqlite3 *db, const char *table, const char *column, enum metric_type type)
{
	sqlite3_stmt *st;
	int sums = 0;
	if (strcmp(column, "*") == 0)
		return type != METRIC_GAUGE;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM event_table WHERE table_name=?1 UNION ALL "
			       "SELECT 1 FROM series_column WHERE table_name=?1 AND column_name=?2 "
			       "AND kind='counter'",
			       -1, &st, NULL))
		return 0;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	sums = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return sums;
}

/* One metric_column row. */
static int add_mapping(struct metric_map *m, sqlite3 *db, sqlite3_stmt *st, struct err *e)
{
	const char *table = text_col(st, 0), *column = text_col(st, 1), *family = text_col(st, 2);
	const char *labels = text_col(st, 3), *filter = text_col(st, 5);
	const char *vlabel = (const char *)sqlite3_column_text(st, 6);
	double scale = sqlite3_column_double(st, 4);
	char what[320];
	struct err inner;
	snprintf(what, sizeof(what), "metric_column (%s, %s, %s%s%s)", table, column, family,
		 labels[0] ? ", " : "", labels);
	if (add_table(m, db, table, e))
		return -1;
	struct metric_table *t = &m->tables[metric_map_table(m, table)];
	struct metric_mapping *g = grow(t->maps, &t->nmaps, sizeof(*g));
	if (!g)
		return err_set(e, "out of memory");
	t->maps = g;
	struct metric_mapping *mp = &t->maps[t->nmaps - 1];
	mp->col = strcmp(column, "*") == 0 ? -1 : column_index(t->cols, t->ncols, column);
	if (mp->col < 0 && strcmp(column, "*"))
		return err_set(e, "%s: %s has no column %s", what, table, column);
	if ((mp->family = metric_map_family(m, family)) < 0)
		return err_set(e, "%s: no metric_family %s", what, family);
	struct metric_family *f = &m->families[mp->family];
	enum metric_type type = f->type;
	int sums = column_sums(db, table, column, type);
	if ((type == METRIC_COUNTER && !sums) || (type == METRIC_GAUGE && sums))
		return err_set(e, "%s: a %s from a column of %s", what,
			       type == METRIC_COUNTER ? "counter" : "gauge",
			       sums ? "deltas" : "values");
	if (f->sums >= 0 && f->sums != sums)
		return err_set(e, "%s: %s is fed both deltas and values", what, f->name);
	f->sums = sums;
	if (metric_scale_of(scale, &mp->scale) || (type == METRIC_COUNTER && !(scale > 0)))
		return err_set(e, "%s: scale %g (a counter's must be above 0)", what, scale);
	if (metric_labels_parse(labels, &mp->labels, &mp->nlabels, &inner))
		return err_set(e, "%s: %s", what, inner.msg);
	for (size_t i = 0; i < mp->nlabels; i++)
		if (label_taken(t, mp->labels[i].name))
			return err_set(e, "%s: label %s is also a key's", what, mp->labels[i].name);
	if (vlabel) {
		if (!metric_name_ok(vlabel, 1) || label_taken(t, vlabel) || type != METRIC_GAUGE)
			return err_set(e, "%s: value_label %s: a new label name, on a gauge", what,
				       vlabel);
		if (!(mp->value_label = strdup(vlabel)))
			return err_set(e, "out of memory");
	}
	if (metric_filter_parse(filter, &mp->filter, &mp->nfilter, &inner))
		return err_set(e, "%s: %s", what, inner.msg);
	for (size_t i = 0; i < mp->nfilter; i++)
		if (resolve_term(m, db, t, &mp->filter[i], what, e))
			return -1;
	return 0;
}

static int load_rows(struct metric_map *m, sqlite3 *db, const char *sql,
		     int (*add)(struct metric_map *, sqlite3 *, sqlite3_stmt *, struct err *),
		     struct err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return err_set(e, "naming table: %s", sqlite3_errmsg(db));
	int rc = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		rc = add(m, db, st, e);
	sqlite3_finalize(st);
	return rc;
}

int metric_map_load(struct metric_map *m, sqlite3 *db, struct err *e)
{
	memset(m, 0, sizeof(*m));
	int rc =
	    load_families(m, db, e) ||
		    load_rows(m, db,
			      "SELECT table_name, key_column, label, dim_table, dim_column "
			      "FROM metric_key ORDER BY 1, 2, 3",
			      add_key, e) ||
		    load_rows(m, db,
			      "SELECT table_name, column_name, family, labels, scale, "
			      "row_filter, value_label FROM metric_column ORDER BY 1, 3, 2, 4, 6",
			      add_mapping, e)
		? -1
		: 0;
	if (rc)
		metric_map_free(m);
	return rc;
}

void metric_map_free(struct metric_map *m)
{
	for (size_t i = 0; i < m->nfamilies; i++) {
		free(m->families[i].name);
		free(m->families[i].help);
		free(m->families[i].unit);
	}
	free(m->families);
	for (size_t i = 0; i < m->ntables; i++) {
		struct metric_table *t = &m->tables[i];
		for (size_t k = 0; k < t->nkeys; k++)
			for (size_t l = 0; l < t->keys[k].nlabels; l++)
				free(t->keys[k].labels[l].label);
		for (size_t j = 0; j < t->nmaps; j++) {
			metric_labels_free(t->maps[j].labels, t->maps[j].nlabels);
			metric_filter_free(t->maps[j].filter, t->maps[j].nfilter);
			free(t->maps[j].value_label);
		}
		free(t->keys);
		free(t->maps);
		free(t->cols);
	}
	free(m->tables);
	for (size_t i = 0; i < m->ndims; i++) {
		free(m->dims[i].cols);
		free(m->dims[i].col);
	}
	free(m->dims);
	memset(m, 0, sizeof(*m));
}
