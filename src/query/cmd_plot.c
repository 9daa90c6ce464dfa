/* hindsight plot VIEW COLUMN: one column over time as a braille chart, a
 * sparkline, or a standalone SVG line chart. SQL buckets the rows by time
 * (avg, max, min or sum per bucket), so memory depends on the chart's width,
 * not on the range. A view with a row per disk, group or interface draws
 * one line per series: the top ones by the column's total, the rest summed
 * as "other". Axes are in the column's unit, with round ticks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "query/plot.h"
#include "query/timespec.h"

#define SVG_POINTS 600

/* ---- reading the series ---- */

/* The column that tells a view's series apart: the first one besides ts and
 * the plotted column that holds names (declared TEXT: a disk, an interface,
 * a group) or an id (cpu_id). "" when there is none. */
static void series_key(struct qdb *q, const char *view, const char *col, char *key, size_t n)
{
	char sql[256];
	sqlite3_stmt *st;
	struct err e;
	key[0] = '\0';
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" LIMIT 0", view);
	if (qdb_prepare(q, sql, &st, &e))
		return;
	for (int i = 0; i < sqlite3_column_count(st) && !key[0]; i++) {
		const char *name = sqlite3_column_name(st, i),
			   *type = sqlite3_column_decltype(st, i);
		size_t l = strlen(name);
		int text = type && strcasecmp(type, "TEXT") == 0;
		int id = l > 3 && strcmp(name + l - 3, "_id") == 0;
		if (strcmp(name, "ts") && strcmp(name, col) && (text || id))
			snprintf(key, n, "%s", name);
	}
	sqlite3_finalize(st);
}

/* " AND filters" SQL and binds, shared by the chart's statements. */
static int prepare_range(struct qdb *q, const struct range_query *rq, const char *head,
			 const char *tail, sqlite3_stmt **st, struct err *e)
{
	char sql[8192];
	snprintf(sql, sizeof(sql), "%s", head);
	filters_sql(rq->filters, rq->nfilters, 3, sql, sizeof(sql));
	strncat(sql, tail, sizeof(sql) - strlen(sql) - 1);
	if (qdb_prepare(q, sql, st, e))
		return -1;
	filters_bind(*st, rq->filters, rq->nfilters, 3);
	return 0;
}

/* The extent first, so the buckets span the data actually there; and
 * whether some ts has several rows (a view of several series). Returns 1
 * when there is no value at all. */
static int load_extent(struct qdb *q, const struct range_query *rq, const char *col,
		       struct chart *c, int *several, struct err *e)
{
	char head[512];
	sqlite3_stmt *st;
	snprintf(head, sizeof(head),
		 "SELECT min(ts), max(ts), count(DISTINCT ts), count(*) FROM \"%s\" "
		 "WHERE ts >= ?1 AND ts <= ?2 AND \"%s\" IS NOT NULL",
		 rq->relation, col);
	if (prepare_range(q, rq, head, "", &st, e))
		return -1;
	sqlite3_bind_int64(st, 1, rq->since);
	sqlite3_bind_int64(st, 2, rq->until);
	qdb_arm(q);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return qdb_fail(q, rc, "plot", e);
	}
	int empty = sqlite3_column_type(st, 0) == SQLITE_NULL;
	c->lo = sqlite3_column_int64(st, 0);
	c->hi = sqlite3_column_int64(st, 1);
	/* no more buckets than samples, or a sparse series would be all gaps */
	if (sqlite3_column_int64(st, 2) < c->n)
		c->n = (int)sqlite3_column_int64(st, 2);
	*several = sqlite3_column_int64(st, 3) > sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	if (empty)
		return 1;
	if (c->hi == c->lo)
		c->hi = c->lo + 1;
	return 0;
}

/* The series names, largest total of the column first: the first `top`
 * are drawn, the rest summed as "other". */
static int load_ranking(struct qdb *q, const struct range_query *rq, const char *col,
			const char *key, int top, struct chart *c, struct err *e)
{
	char head[512];
	sqlite3_stmt *st;
	snprintf(head, sizeof(head),
		 "SELECT \"%s\", sum(\"%s\") FROM \"%s\" WHERE ts >= ?1 AND ts <= ?2 "
		 "AND \"%s\" IS NOT NULL",
		 key, col, rq->relation, col);
	if (prepare_range(q, rq, head, " GROUP BY 1 ORDER BY 2 DESC, 1", &st, e))
		return -1;
	sqlite3_bind_int64(st, 1, rq->since);
	sqlite3_bind_int64(st, 2, rq->until);
	qdb_arm(q);
	int rc;
	c->nkeys = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->nseries < top) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			snprintf(c->s[c->nseries++].name, sizeof(c->s[0].name), "%s",
				 name ? name : "(none)");
		}
		c->nkeys++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return qdb_fail(q, rc, "plot", e);
	if (c->nkeys > top) {
		snprintf(c->s[c->nseries++].name, sizeof(c->s[0].name), "other (%d more)",
			 c->nkeys - top);
		c->has_other = 1;
	}
	return 0;
}

/* Which series a key's rows go to: one of the top, or the last ("other"). */
static int series_of(const struct chart *c, const char *name, int top)
{
	for (int i = 0; i < c->nseries && i < top; i++)
		if (strcmp(c->s[i].name, name ? name : "(none)") == 0)
			return i;
	return c->nseries - 1;
}

/* Per bucket and key, the aggregate of the column; keys outside the top
 * add up in "other". */
static int load_buckets(struct qdb *q, const struct range_query *rq, const char *col,
			const char *key, const char *agg, int top, struct chart *c, struct err *e)
{
	char head[768];
	sqlite3_stmt *st;
	snprintf(head, sizeof(head),
		 "SELECT (ts - ?1) * %d / (?2 - ?1 + 1) AS bucket, %s%s%s %s(\"%s\") FROM \"%s\" "
		 "WHERE ts >= ?1 AND ts <= ?2 AND \"%s\" IS NOT NULL",
		 c->n, key[0] ? "\"" : "", key, key[0] ? "\"," : "", agg, col, rq->relation, col);
	if (prepare_range(q, rq, head, key[0] ? " GROUP BY 1, 2" : " GROUP BY 1", &st, e))
		return -1;
	sqlite3_bind_int64(st, 1, c->lo);
	sqlite3_bind_int64(st, 2, c->hi);
	for (int i = 0; i < c->nseries; i++) {
		c->s[i].v = calloc((size_t)c->n, sizeof(double));
		c->s[i].has = calloc((size_t)c->n, 1);
		if (!c->s[i].v || !c->s[i].has) {
			sqlite3_finalize(st);
			return err_set(e, "out of memory");
		}
	}
	qdb_arm(q);
	int rc, vcol = key[0] ? 2 : 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0);
		if (b < 0 || b >= c->n || sqlite3_column_type(st, vcol) == SQLITE_NULL)
			continue;
		int i = key[0] ? series_of(c, (const char *)sqlite3_column_text(st, 1), top) : 0;
		c->s[i].v[b] += sqlite3_column_double(st, vcol);
		c->s[i].has[b] = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return qdb_fail(q, rc, "plot", e);
	return 0;
}

/* Each series' extremes and mean of buckets, and the chart's. */
static int chart_stats(struct chart *c)
{
	c->vmin = INFINITY;
	c->vmax = -INFINITY;
	for (int i = 0; i < c->nseries; i++) {
		struct plot_series *s = &c->s[i];
		s->vmin = INFINITY;
		s->vmax = -INFINITY;
		for (int b = 0; b < c->n; b++) {
			if (!s->has[b])
				continue;
			s->vmin = fmin(s->vmin, s->v[b]);
			s->vmax = fmax(s->vmax, s->v[b]);
			s->sum += s->v[b];
			s->count++;
		}
		if (s->count) {
			c->vmin = fmin(c->vmin, s->vmin);
			c->vmax = fmax(c->vmax, s->vmax);
		}
	}
	return isfinite(c->vmin);
}

/* ---- round ticks ---- */

double nice_step(double range, int target)
{
	if (!(range > 0) || target < 1)
		return 1;
	double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void axis_fit(enum unit u, double vmin, double vmax, struct axis *a)
{
	/* magnitudes start at 0: a bar of 40% should not look like one of 90% */
	double lo = vmin >= 0 ? 0 : vmin, hi = vmax;
	if (hi <= lo)
		hi = lo + (lo == 0 ? 1 : fabs(lo));
	/* bytes step in powers of 1024, so ticks read 100 MiB, not 95.4 MiB */
	double scale = 1;
	if (u == UNIT_BYTES || u == UNIT_BYTES_PER_S || u == UNIT_KB || u == UNIT_KB_PER_S)
		while ((hi - lo) / scale >= 1024)
			scale *= 1024;
	a->step = nice_step((hi - lo) / scale, 4) * scale;
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi / a->step - 1e-9) * a->step;
	if (a->hi <= a->lo)
		a->hi = a->lo + a->step;
	a->unit = u;
}

/* Time ticks on round local times: every 1, 2, 5, 10, 15, 30 s or min,
 * 1, 2, 3, 6, 12 h, 1, 2 or 7 days, 3 to 6 of them over the span. */
int time_ticks(int64_t lo, int64_t hi, int64_t *ticks, int max, int64_t *step_out)
{
	static const int64_t steps[] = {1,     2,     5,     10,    15,	    30,	   60,
					120,   300,   600,   900,   1800,   3600,  7200,
					10800, 21600, 43200, 86400, 172800, 604800};
	int64_t span = hi - lo, step = steps[ARRAY_LEN(steps) - 1];
	for (size_t i = 0; i < ARRAY_LEN(steps); i++)
		if (span / steps[i] <= 6) {
			step = steps[i];
			break;
		}
	/* aligned to the local clock: the zone's offset at the start */
	time_t t = (time_t)lo;
	struct tm tm;
	long off = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
	int64_t first = lo + off;
	first = (first % step == 0 ? first : first - (first % step + step) % step + step) - off;
	int n = 0;
	for (int64_t ts = first; ts <= hi && n < max; ts += step)
		ticks[n++] = ts;
	*step_out = step;
	return n;
}

/* A tick's label: seconds for steps under a minute, the date for days. */
void time_tick_label(int64_t ts, int64_t step, int64_t span, char *buf, size_t n)
{
	char full[32];
	time_format_local(ts, full, sizeof(full)); /* "2026-11-20 03:12:05" */
	if (step < 60)
		snprintf(buf, n, "%.8s", full + 11);
	else if (step >= 86400 || (span > 86400 && strcmp(full + 11, "00:00:00") == 0))
		snprintf(buf, n, "%.5s", full + 5);
	else
		snprintf(buf, n, "%.5s", full + 11);
}

/* ---- the chart's words ---- */

static void fill_title(struct chart *c, const struct range_query *rq, const char *view,
		       const char *col, const char *agg, const char *key)
{
	char lo[32], hi[32], where[512] = "";
	size_t len = 0;
	for (int i = 0; i < rq->nfilters && len < sizeof(where); i++)
		len += (size_t)snprintf(where + len, sizeof(where) - len, "%s%s%s%s",
					i ? " and " : " where ", rq->filters[i].col,
					rq->filters[i].op, rq->filters[i].value);
	time_format_local(c->lo, lo, sizeof(lo));
	time_format_local(c->hi, hi, sizeof(hi));
	snprintf(c->title, sizeof(c->title), "%s.%s%s (%s per %llds), %s .. %s", view, col, where,
		 agg, (long long)((c->hi - c->lo + c->n) / c->n), lo, hi);
	if (c->nkeys > c->nseries)
		snprintf(c->subtitle, sizeof(c->subtitle),
			 "one line per %s: the top %d of %d by total, the rest summed as other",
			 key, c->nseries - 1, c->nkeys);
	else if (c->nkeys > 1)
		snprintf(c->subtitle, sizeof(c->subtitle), "one line per %s (%d)", key, c->nkeys);
}

static void print_stats_line(const struct chart *c)
{
	double sum = 0;
	int64_t count = 0;
	for (int i = 0; i < c->nseries; i++) {
		sum += c->s[i].sum;
		count += c->s[i].count;
	}
	char a[FORMAT_UNIT_MAX], b[FORMAT_UNIT_MAX], m[FORMAT_UNIT_MAX];
	format_unit(c->axis.unit, c->vmin, a);
	format_unit(c->axis.unit, c->vmax, b);
	format_unit(c->axis.unit, sum / (double)count, m);
	printf("min %s, max %s, mean of buckets %s\n", a, b, m);
}

static void free_chart(struct chart *c)
{
	for (int i = 0; i < c->nseries; i++) {
		free(c->s[i].v);
		free(c->s[i].has);
	}
}

int cmd_plot(struct qopts *o)
{
	struct qdb q;
	struct range_query rq;
	static struct chart c;
	struct err e;
	const char *view = o->args[0], *col = o->args[1];
	const char *agg = o->agg ? o->agg : "avg";
	if (strcmp(agg, "avg") && strcmp(agg, "max") && strcmp(agg, "min") && strcmp(agg, "sum")) {
		err_set(&e, "--agg: expected avg, max, min or sum, got '%s'", agg);
		return qfail(2, &e);
	}
	int width = o->width ? o->width : 72, height = o->height ? o->height : 12;
	int top = o->series ? o->series : 5;
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	char note[128];
	enum view_state state = view_state(&q, view, note, sizeof(note));
	if (state == VIEW_OLDER_DATABASE || state == VIEW_NO_COLLECTOR)
		printf("view %s: %s\n", view, note);
	if (state == VIEW_OLDER_DATABASE) {
		qdb_close(&q);
		return 0;
	}
	if (range_from_opts(&q, o, view, "1h", &rq, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	char **cols = relation_columns(&q, view, &e);
	int ok =
	    cols && columns_have(cols, col) && columns_have(cols, "ts") && strcmp(col, "ts") != 0;
	free_columns(cols);
	if (!ok) {
		qdb_close(&q);
		err_set(&e,
			"plot: %s has no column '%s' to chart over ts (hindsight show %s "
			"--limit 1 shows its columns)",
			view, col, view);
		return qfail(2, &e);
	}
	memset(&c, 0, sizeof(c));
	c.n = o->svg ? SVG_POINTS : o->spark ? width : 2 * width;
	char key[64];
	series_key(&q, view, col, key, sizeof(key));
	q.uses = view;
	int several = 0, rc = qdb_plan(&q, o, rq.since, rq.until, c.n, &e)
				  ? -1
				  : load_extent(&q, &rq, col, &c, &several, &e);
	if (rc == 0 && several && !key[0]) {
		rc = err_set(&e,
			     "plot: %s has several rows per time and no column of names to tell "
			     "them apart: narrow it to one series with --where COL=VALUE",
			     view);
		qdb_close(&q);
		return qfail(2, &e);
	}
	if (rc == 0 && key[0])
		rc = load_ranking(&q, &rq, col, key, top, &c, &e);
	if (rc == 0 && !key[0])
		c.nseries = 1;
	if (rc == 0)
		rc = load_buckets(&q, &rq, col, key, agg, top, &c, &e);
	qdb_close(&q);
	if (rc == 0 && !chart_stats(&c))
		rc = 1;
	if (rc != 0) {
		free_chart(&c);
		if (rc < 0)
			return qfail(1, &e);
		printf("no values of %s.%s in this range\n", view, col);
		return 0;
	}
	if (c.nseries == 1 && key[0] && c.nkeys == 1)
		snprintf(c.subtitle, sizeof(c.subtitle), "%s %s", key, c.s[0].name);
	axis_fit(unit_of(col), c.vmin, c.vmax, &c.axis);
	fill_title(&c, &rq, view, col, agg, key);
	int status = 0;
	if (o->svg) {
		if (plot_svg(o->svg, o->db, &c, &e))
			status = qfail(1, &e);
		else
			printf("wrote %s: %s\n", o->svg, c.title);
	} else {
		printf("%s\n", c.title);
		if (c.subtitle[0])
			printf("%s\n", c.subtitle);
		print_stats_line(&c);
		if (o->spark)
			plot_spark(stdout, &c);
		else
			plot_braille(stdout, &c, width, height);
	}
	free_chart(&c);
	return status;
}
