/* hindsight plot VIEW COLUMN: one column over time as a braille chart, a
 * sparkline, or a standalone SVG line chart. SQL buckets the rows by time
 * (avg, max, min or sum per bucket), so memory depends on the chart's width,
 * not on the range. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "query/timespec.h"

#define SVG_POINTS 600
#define SVG_W	   800
#define SVG_H	   320
#define SVG_LEFT   72
#define SVG_RIGHT  24
#define SVG_TOP	   36
#define SVG_BOTTOM 48

struct series {
	int n;		/* buckets */
	double *v;	/* the value per bucket */
	char *has;	/* whether the bucket holds any row */
	int64_t lo, hi; /* the time span the buckets cover */
	double vmin, vmax, sum;
	int64_t count; /* buckets with a value */
};

/* Time labels: HH:MM:SS for short spans, HH:MM within a day, else the date. */
static void time_label(int64_t ts, int64_t span, char *buf, size_t n)
{
	char full[32];
	time_format_local(ts, full, sizeof(full)); /* "2026-11-20 03:12:05" */
	if (span <= 600)
		snprintf(buf, n, "%.8s", full + 11);
	else if (span <= 86400)
		snprintf(buf, n, "%.5s", full + 11);
	else
		snprintf(buf, n, "%.5s %.5s", full + 5, full + 11);
}

static void value_label(double v, char *buf, size_t n)
{
	if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
		snprintf(buf, n, "%.3g", v);
	else
		snprintf(buf, n, "%.6g", round(v * 1000) / 1000);
}

/* Runs the bucketing query and fills s; returns 0, or -1 with e set. */
static int load_series(struct qdb *q, const struct range_query *rq, const char *col,
		       const char *agg, int nbuckets, struct series *s, struct err *e)
{
	char sql[4096];
	sqlite3_stmt *st;
	/* The extent first, so the buckets span the data actually there. */
	snprintf(sql, sizeof(sql),
		 "SELECT min(ts), max(ts), count(DISTINCT ts) FROM \"%s\" WHERE ts >= ?1 AND "
		 "ts <= ?2 AND \"%s\" IS NOT NULL",
		 rq->relation, col);
	filters_sql(rq->filters, rq->nfilters, 3, sql, sizeof(sql));
	if (qdb_prepare(q, sql, &st, e))
		return -1;
	sqlite3_bind_int64(st, 1, rq->since);
	sqlite3_bind_int64(st, 2, rq->until);
	filters_bind(st, rq->filters, rq->nfilters, 3);
	qdb_arm(q);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return qdb_fail(q, rc, "plot", e);
	}
	int empty = sqlite3_column_type(st, 0) == SQLITE_NULL;
	s->lo = sqlite3_column_int64(st, 0);
	s->hi = sqlite3_column_int64(st, 1);
	/* No more buckets than samples, or a sparse series would be all gaps. */
	if (sqlite3_column_int64(st, 2) < nbuckets)
		nbuckets = (int)sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	if (empty)
		return 1;
	if (s->hi == s->lo)
		s->hi = s->lo + 1;
	s->n = nbuckets;
	s->v = calloc((size_t)nbuckets, sizeof(double));
	s->has = calloc((size_t)nbuckets, 1);
	snprintf(sql, sizeof(sql),
		 "SELECT (ts - ?1) * %d / (?2 - ?1 + 1) AS bucket, %s(\"%s\") FROM \"%s\" "
		 "WHERE ts >= ?1 AND ts <= ?2 AND \"%s\" IS NOT NULL",
		 nbuckets, agg, col, rq->relation, col);
	filters_sql(rq->filters, rq->nfilters, 3, sql, sizeof(sql));
	strncat(sql, " GROUP BY bucket ORDER BY bucket", sizeof(sql) - strlen(sql) - 1);
	if (qdb_prepare(q, sql, &st, e))
		return -1;
	sqlite3_bind_int64(st, 1, s->lo);
	sqlite3_bind_int64(st, 2, s->hi);
	filters_bind(st, rq->filters, rq->nfilters, 3);
	s->vmin = INFINITY;
	s->vmax = -INFINITY;
	qdb_arm(q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0);
		if (b < 0 || b >= nbuckets || sqlite3_column_type(st, 1) == SQLITE_NULL)
			continue;
		double v = sqlite3_column_double(st, 1);
		s->v[b] = v;
		s->has[b] = 1;
		s->vmin = fmin(s->vmin, v);
		s->vmax = fmax(s->vmax, v);
		s->sum += v;
		s->count++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return qdb_fail(q, rc, "plot", e);
	return s->count ? 0 : 1;
}

/* 0..steps-1 for v within the series' range. */
static int scale(const struct series *s, double v, int steps)
{
	if (s->vmax <= s->vmin)
		return steps / 2;
	int y = (int)lround((v - s->vmin) / (s->vmax - s->vmin) * (steps - 1));
	return y < 0 ? 0 : y >= steps ? steps - 1 : y;
}

static void print_spark(const struct series *s)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	char a[32], b[32];
	value_label(s->vmin, a, sizeof(a));
	value_label(s->vmax, b, sizeof(b));
	printf("%s ", a);
	for (int i = 0; i < s->n; i++)
		fputs(s->has[i] ? bars[scale(s, s->v[i], 8)] : " ", stdout);
	printf(" %s\n", b);
}

/* A braille chart: each character holds 2x4 dots, so a W x H chart draws
 * 2W columns at 4H heights. Buckets spread over the columns; neighbouring
 * buckets are joined by a line, an empty bucket leaves a gap. */
static void dot(unsigned char *cells, int width, int dots_y, int x, int y)
{
	static const unsigned char bit[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
	int row = dots_y - 1 - y;
	cells[(row / 4) * width + x / 2] |= bit[x % 2][row % 4];
}

static void print_braille(const struct series *s, int width, int height)
{
	int dots_x = 2 * width, dots_y = height * 4;
	unsigned char *cells = calloc((size_t)width * (size_t)height, 1);
	int px = -1, py = 0;
	for (int i = 0; i < s->n; i++) {
		if (!s->has[i]) {
			px = -1;
			continue;
		}
		int x = s->n == 1 ? 0 : (int)((int64_t)i * (dots_x - 1) / (s->n - 1));
		int y = scale(s, s->v[i], dots_y);
		if (px < 0) {
			dot(cells, width, dots_y, x, y);
		} else {
			/* Each column from the previous point gets the run of dots
			 * between the line's heights at its two edges. */
			int prev_y = py;
			for (int xx = px + 1; xx <= x; xx++) {
				int yy = py + (int)lround((double)(y - py) * (xx - px) / (x - px));
				int a = prev_y < yy ? prev_y : yy, b = prev_y < yy ? yy : prev_y;
				for (int k = a; k <= b; k++)
					dot(cells, width, dots_y, xx, k);
				prev_y = yy;
			}
		}
		px = x;
		py = y;
	}
	char top[32], bottom[32];
	value_label(s->vmax, top, sizeof(top));
	value_label(s->vmin, bottom, sizeof(bottom));
	for (int r = 0; r < height; r++) {
		const char *label = r == 0 ? top : r == height - 1 ? bottom : "";
		printf("%10s ┤", label);
		for (int c = 0; c < width; c++) {
			unsigned cp = 0x2800 + cells[r * width + c];
			printf("%c%c%c", 0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f),
			       0x80 | (cp & 0x3f));
		}
		printf("\n");
	}
	free(cells);
	printf("%10s └", "");
	for (int c = 0; c < width; c++)
		fputs("─", stdout);
	char l[32], m[32], r[32];
	int64_t span = s->hi - s->lo;
	time_label(s->lo, span, l, sizeof(l));
	time_label(s->lo + span / 2, span, m, sizeof(m));
	time_label(s->hi, span, r, sizeof(r));
	int gap1 = width / 2 - (int)strlen(l) - (int)strlen(m) / 2;
	int gap2 = width - width / 2 - ((int)strlen(m) + 1) / 2 - (int)strlen(r);
	printf("\n%12s%s%*s%s%*s%s\n", "", l, gap1 > 1 ? gap1 : 1, "", m, gap2 > 1 ? gap2 : 1, "",
	       r);
}

static int write_svg(const char *path, const char *db, const struct series *s, const char *title,
		     struct err *e)
{
	FILE *f = outfile_open(path, db, "--svg", e);
	if (!f)
		return -1;
	double pw = SVG_W - SVG_LEFT - SVG_RIGHT, ph = SVG_H - SVG_TOP - SVG_BOTTOM;
	double vmin = s->vmin, vmax = s->vmax;
	if (vmax <= vmin)
		vmin -= 1, vmax += 1;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fprintf(f, "<text x=\"%d\" y=\"20\" font-size=\"14\">%s</text>\n", SVG_LEFT, title);
	for (int i = 0; i <= 4; i++) {
		double v = vmin + (vmax - vmin) * i / 4, y = SVG_TOP + ph - ph * i / 4;
		char label[32];
		value_label(v, label, sizeof(label));
		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			SVG_LEFT, y, SVG_LEFT + pw, y, SVG_LEFT - 6, y + 4, label);
	}
	int64_t span = s->hi - s->lo;
	for (int i = 0; i <= 4; i++) {
		double x = SVG_LEFT + pw * i / 4;
		char label[32];
		time_label(s->lo + span * i / 4, span, label, sizeof(label));
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			x, SVG_TOP + (int)ph, x, SVG_TOP + ph + 5, x, SVG_TOP + ph + 20, label);
	}
	fprintf(f,
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>\n"
		"<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		SVG_LEFT, SVG_TOP, SVG_LEFT, SVG_TOP + ph, SVG_LEFT, SVG_TOP + ph, SVG_LEFT + pw,
		SVG_TOP + ph);
	/* One polyline per run of buckets with data: a gap stays a gap. */
	int open = 0;
	for (int i = 0; i < s->n; i++) {
		if (!s->has[i]) {
			if (open)
				fputs("\"/>\n", f);
			open = 0;
			continue;
		}
		double x = SVG_LEFT + pw * (i + 0.5) / s->n;
		double y = SVG_TOP + ph - ph * (s->v[i] - vmin) / (vmax - vmin);
		if (!open)
			fputs("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" "
			      "points=\"",
			      f);
		fprintf(f, "%s%.1f,%.1f", open ? " " : "", x, y);
		open = 1;
	}
	if (open)
		fputs("\"/>\n", f);
	fputs("</svg>\n", f);
	if (ferror(f) | fclose(f))
		return err_set(e, "--svg: writing %s failed", path);
	return 0;
}

int cmd_plot(struct qopts *o)
{
	struct qdb q;
	struct range_query rq;
	struct series s = {0};
	struct err e;
	const char *view = o->args[0], *col = o->args[1];
	const char *agg = o->agg ? o->agg : "avg";
	if (strcmp(agg, "avg") && strcmp(agg, "max") && strcmp(agg, "min") && strcmp(agg, "sum")) {
		err_set(&e, "--agg: expected avg, max, min or sum, got '%s'", agg);
		return qfail(2, &e);
	}
	int width = o->width ? o->width : 72, height = o->height ? o->height : 12;
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
	int n = o->svg ? SVG_POINTS : o->spark ? width : 2 * width;
	q.uses = view;
	int rc = qdb_plan(&q, o, rq.since, rq.until, n, &e)
		     ? -1
		     : load_series(&q, &rq, col, agg, n, &s, &e);
	qdb_close(&q);
	if (rc < 0)
		return qfail(1, &e);
	if (rc > 0) {
		printf("no values of %s.%s in this range\n", view, col);
		return 0;
	}
	char lo[32], hi[32], title[256];
	time_format_local(s.lo, lo, sizeof(lo));
	time_format_local(s.hi, hi, sizeof(hi));
	snprintf(title, sizeof(title), "%s.%s (%s per %llds), %s .. %s", view, col, agg,
		 (long long)((s.hi - s.lo + s.n) / s.n), lo, hi);
	int status = 0;
	if (o->svg) {
		if (write_svg(o->svg, o->db, &s, title, &e))
			status = qfail(1, &e);
		else
			printf("wrote %s: %s\n", o->svg, title);
	} else {
		printf("%s\nmin %g, max %g, mean of buckets %g\n", title, s.vmin, s.vmax,
		       s.sum / (double)s.count);
		if (o->spark)
			print_spark(&s);
		else
			print_braille(&s, width, height);
	}
	free(s.v);
	free(s.has);
	return status;
}
