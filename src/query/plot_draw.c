/* Drawing plot's chart: braille in the terminal (one panel per series, on
 * one scale), sparklines, or an SVG file with a line per series and a
 * legend. Values are written in the column's unit, ticks are round, and no
 * label runs off the edge. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/plot.h"

#define SVG_POINTS_W   800
#define SVG_PLOT_H     240 /* the plotting area's height */
#define SVG_TOP	       54
#define SVG_RIGHT      36
#define SVG_X_LABELS   34 /* below the plotting area */
#define SVG_LEGEND_ROW 18
#define SVG_CHAR_W     7.2 /* about a character's width at font-size 12 */

/* The row (0 at the top) of v on a scale of rows steps. */
static int scale_to(const struct axis *a, double v, int steps)
{
	int y = (int)lround((v - a->lo) / (a->hi - a->lo) * (steps - 1));
	return y < 0 ? 0 : y >= steps ? steps - 1 : y;
}

/* ---- braille ---- */

/* Each character holds 2x4 dots, so a W x H chart draws 2W columns at 4H
 * heights. Buckets spread over the columns; neighbouring buckets are joined
 * by a line, an empty bucket leaves a gap. */
static void dot(unsigned char *cells, int width, int dots_y, int x, int y)
{
	static const unsigned char bit[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
	int row = dots_y - 1 - y;
	cells[(row / 4) * width + x / 2] |= bit[x % 2][row % 4];
}

static void draw_line(unsigned char *cells, int width, int height, const struct chart *c,
		      const struct plot_series *s, const struct axis *a)
{
	int dots_x = 2 * width, dots_y = height * 4, px = -1, py = 0;
	for (int i = 0; i < c->n; i++) {
		if (!s->has[i]) {
			px = -1;
			continue;
		}
		int x = c->n == 1 ? 0 : (int)((int64_t)i * (dots_x - 1) / (c->n - 1));
		int y = scale_to(a, s->v[i], dots_y);
		if (px < 0) {
			dot(cells, width, dots_y, x, y);
		} else {
			/* each column from the previous point gets the run of dots
			 * between the line's heights at its two edges */
			int prev_y = py;
			for (int xx = px + 1; xx <= x; xx++) {
				int yy = py + (int)lround((double)(y - py) * (xx - px) / (x - px));
				int from = prev_y < yy ? prev_y : yy,
				    to = prev_y < yy ? yy : prev_y;
				for (int k = from; k <= to; k++)
					dot(cells, width, dots_y, xx, k);
				prev_y = yy;
			}
		}
		px = x;
		py = y;
	}
}

/* A tick's label: the value in its unit, without a ".0" that says nothing
 * on a round tick (80%, not 80.0%). */
static void tick_label(const struct axis *a, double t, char *buf)
{
	format_unit(a->unit, fabs(t) < a->step / 1e6 ? 0 : t, buf);
	char *dot = strstr(buf, ".0");
	if (dot && (dot[2] == '\0' || dot[2] == ' ' || dot[2] == '%' || dot[2] == '/' ||
		    (dot[2] & 0x80) || (dot[2] >= 'A' && dot[2] <= 'z')))
		memmove(dot, dot + 2, strlen(dot + 2) + 1);
}

/* The value axis' labels by row: the top and bottom ones, and on a panel
 * tall enough each tick that falls on a row (within a third of one). */
static void row_labels(const struct axis *a, int height, char (*labels)[FORMAT_UNIT_MAX],
		       size_t *widest)
{
	for (int r = 0; r < height; r++)
		labels[r][0] = '\0';
	for (double t = a->lo; t <= a->hi + a->step / 2; t += a->step) {
		double exact = (a->hi - t) / (a->hi - a->lo) * (height - 1);
		int r = (int)lround(exact);
		if (r < 0 || r >= height)
			continue;
		int inner = r > 0 && r < height - 1 && height >= 6 && fabs(exact - r) < 0.34;
		if (inner)
			tick_label(a, t, labels[r]);
	}
	tick_label(a, a->hi, labels[0]);
	tick_label(a, a->lo, labels[height - 1]);
	for (int r = 0; r < height; r++)
		if (text_width(labels[r]) > *widest)
			*widest = text_width(labels[r]);
}

static void put_braille(FILE *f, unsigned char bits)
{
	unsigned cp = 0x2800 + bits;
	fprintf(f, "%c%c%c", 0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

static void panel(FILE *f, const struct chart *c, const struct plot_series *s, const struct axis *a,
		  int width, int height, size_t gutter)
{
	unsigned char *cells = calloc((size_t)width * (size_t)height, 1);
	char(*labels)[FORMAT_UNIT_MAX] = calloc((size_t)height, FORMAT_UNIT_MAX);
	if (!cells || !labels) {
		free(cells);
		free(labels);
		return;
	}
	draw_line(cells, width, height, c, s, a);
	size_t widest = 0;
	row_labels(a, height, labels, &widest);
	for (int r = 0; r < height; r++) {
		fprintf(f, "%*s%s ┤", (int)(gutter - text_width(labels[r])), "", labels[r]);
		for (int col = 0; col < width; col++)
			put_braille(f, cells[r * width + col]);
		fputc('\n', f);
	}
	free(cells);
	free(labels);
}

/* The time axis: a tick mark under each round time, its label centred on
 * it, shifted in rather than cut at the ends, left out where it would run
 * into the one before. */
static void time_axis(FILE *f, const struct chart *c, int width, size_t gutter)
{
	int64_t ticks[16], step, span = c->hi - c->lo;
	int nt = time_ticks(c->lo, c->hi, ticks, 16, &step);
	/* the chart starts after the gutter and " ┤" */
	int start = (int)gutter + 2, room = start + width;
	char *line = calloc((size_t)width + 1, 1), *labels = malloc((size_t)room + 1);
	if (!line || !labels) {
		free(line);
		free(labels);
		return;
	}
	memset(labels, ' ', (size_t)room);
	labels[room] = '\0';
	int at[16];
	for (int i = 0; i < nt; i++) {
		at[i] = (int)lround((double)(ticks[i] - c->lo) / (double)span * (width - 1));
		line[at[i]] = 1;
	}
	fprintf(f, "%*s └", (int)gutter, "");
	for (int col = 0; col < width; col++)
		fputs(line[col] ? "┬" : "─", f);
	fputc('\n', f);
	/* the last label is placed first, so the axis always says where the
	 * range ends; the others from the left where they do not collide */
	int pos[16], len[16];
	char l[16][32];
	for (int i = 0; i < nt; i++) {
		time_tick_label(ticks[i], step, span, l[i], sizeof(l[i]));
		len[i] = (int)strlen(l[i]);
		pos[i] = start + at[i] - len[i] / 2;
		if (pos[i] + len[i] > room)
			pos[i] = room - len[i];
		if (pos[i] < 0)
			pos[i] = 0;
	}
	int end = 0, limit = nt ? pos[nt - 1] - 1 : room;
	for (int i = 0; i < nt; i++) {
		int last_one = i == nt - 1;
		if (!last_one && (pos[i] < end || pos[i] + len[i] > limit))
			continue;
		memcpy(labels + pos[i], l[i], (size_t)len[i]);
		end = pos[i] + len[i] + 1;
	}
	int last = room;
	while (last > 0 && labels[last - 1] == ' ')
		last--;
	fprintf(f, "%.*s\n", last, labels);
	free(line);
	free(labels);
}

/* Each panel's axis: its own series' range, so a group using 7% of a core
 * is not a flat line under "other" at 600%; its labels say the scale. */
static void panel_axis(const struct chart *c, const struct plot_series *s, struct axis *a)
{
	if (c->nseries == 1)
		*a = c->axis;
	else
		axis_fit(c->axis.unit, s->vmin, s->vmax, a);
}

static size_t gutter_width(const struct chart *c, int height)
{
	char(*labels)[FORMAT_UNIT_MAX] = calloc((size_t)height, FORMAT_UNIT_MAX);
	size_t widest = 6;
	for (int i = 0; labels && i < c->nseries; i++) {
		struct axis a;
		panel_axis(c, &c->s[i], &a);
		row_labels(&a, height, labels, &widest);
	}
	free(labels);
	return widest;
}

void plot_braille(FILE *f, const struct chart *c, int width, int height)
{
	/* several series: a panel each, so lines never hide one another and
	 * need no colour */
	int ph = c->nseries == 1 ? height : height / c->nseries < 3 ? 3 : height / c->nseries;
	size_t gutter = gutter_width(c, ph);
	for (int i = 0; i < c->nseries; i++) {
		const struct plot_series *s = &c->s[i];
		struct axis a;
		panel_axis(c, s, &a);
		if (c->nseries > 1) {
			char mx[FORMAT_UNIT_MAX], mean[FORMAT_UNIT_MAX];
			format_unit(c->axis.unit, s->vmax, mx);
			format_unit(c->axis.unit, s->count ? s->sum / (double)s->count : 0, mean);
			/* within the chart's width: a long name is cut, not wrapped */
			char head[256];
			snprintf(head, sizeof(head), "%s: max %s, mean %s", s->name, mx, mean);
			size_t room = (size_t)width + 1, n = truncate_piece(head, room);
			fprintf(f, "%*s %.*s%s\n", (int)gutter, "", (int)n, head,
				n < strlen(head) ? "\xe2\x80\xa6" : "");
		}
		panel(f, c, s, &a, width, ph, gutter);
	}
	time_axis(f, c, width, gutter);
}

void plot_spark(FILE *f, const struct chart *c)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	size_t name_w = 0;
	for (int i = 0; c->nseries > 1 && i < c->nseries; i++)
		if (text_width(c->s[i].name) > name_w)
			name_w = text_width(c->s[i].name);
	char lo[FORMAT_UNIT_MAX], hi[FORMAT_UNIT_MAX];
	tick_label(&c->axis, c->axis.lo, lo);
	tick_label(&c->axis, c->axis.hi, hi);
	for (int i = 0; i < c->nseries; i++) {
		const struct plot_series *s = &c->s[i];
		if (name_w)
			fprintf(f, "%s%*s ", s->name, (int)(name_w - text_width(s->name)), "");
		fprintf(f, "%s ", lo);
		for (int b = 0; b < c->n; b++)
			fputs(s->has[b] ? bars[scale_to(&c->axis, s->v[b], 8)] : " ", f);
		fprintf(f, " %s\n", hi);
	}
}

/* ---- SVG ---- */

void svg_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			/* XML 1.0 allows no control characters but tab and newlines */
			fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
		}
	}
}

/* Text that may be longer than the room for it: squeezed to fit (SVG's
 * textLength) rather than cut at the edge. */
static void svg_text(FILE *f, double x, double y, const char *anchor, int size, double room,
		     const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"", x, y, anchor,
		size);
	if ((double)text_width(s) * SVG_CHAR_W * size / 12 > room)
		fprintf(f, " textLength=\"%.0f\" lengthAdjust=\"spacingAndGlyphs\"", room);
	fputc('>', f);
	svg_escape(f, s);
	fputs("</text>\n", f);
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
				      "#8c564b", "#e377c2", "#17becf", "#bcbd22"};

static const char *series_colour(const struct chart *c, int i)
{
	if (c->has_other && i == c->nseries - 1)
		return "#888888";
	return palette[i % (int)ARRAY_LEN(palette)];
}

struct svg_frame {
	double left, top, pw, ph, width, height;
	int legend_rows, per_row;
};

/* One polyline per run of buckets with data: a gap stays a gap. */
static void svg_series(FILE *f, const struct chart *c, const struct svg_frame *fr, int i)
{
	const struct plot_series *s = &c->s[i];
	int open = 0;
	const char *other = c->has_other && i == c->nseries - 1 ? " stroke-dasharray=\"4 3\"" : "";
	for (int b = 0; b < c->n; b++) {
		if (!s->has[b]) {
			if (open)
				fputs("\"/>\n", f);
			open = 0;
			continue;
		}
		double x = fr->left + fr->pw * (b + 0.5) / c->n;
		double y =
		    fr->top + fr->ph - fr->ph * (s->v[b] - c->axis.lo) / (c->axis.hi - c->axis.lo);
		if (!open)
			fprintf(f,
				"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s "
				"points=\"",
				series_colour(c, i), other);
		fprintf(f, "%s%.1f,%.1f", open ? " " : "", x, y);
		open = 1;
	}
	if (open)
		fputs("\"/>\n", f);
}

static void svg_axes(FILE *f, const struct chart *c, const struct svg_frame *fr)
{
	const struct axis *a = &c->axis;
	for (double t = a->lo; t <= a->hi + a->step / 2; t += a->step) {
		double y = fr->top + fr->ph - fr->ph * (t - a->lo) / (a->hi - a->lo);
		char label[FORMAT_UNIT_MAX];
		tick_label(a, t, label);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			fr->left, y, fr->left + fr->pw, y);
		svg_text(f, fr->left - 6, y + 4, "end", 12, fr->left - 8, label);
	}
	int64_t ticks[16], step, span = c->hi - c->lo;
	int nt = time_ticks(c->lo, c->hi, ticks, 16, &step);
	double end = -1; /* where the last label ended */
	for (int i = 0; i < nt; i++) {
		double x = fr->left + fr->pw * (double)(ticks[i] - c->lo) / (double)span;
		char label[32];
		time_tick_label(ticks[i], step, span, label, sizeof(label));
		double half = (double)strlen(label) * SVG_CHAR_W / 2, at = x;
		/* shifted in at the ends rather than cut */
		if (at + half > fr->width - 4)
			at = fr->width - 4 - half;
		if (at - half < 4)
			at = 4 + half;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n",
			x, fr->top + fr->ph, x, fr->top + fr->ph + 5);
		if (at - half < end + 6)
			continue;
		svg_text(f, at, fr->top + fr->ph + 20, "middle", 12, 2 * half + 1, label);
		end = at + half;
	}
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		fr->left, fr->top, fr->left, fr->top + fr->ph, fr->left, fr->top + fr->ph,
		fr->left + fr->pw, fr->top + fr->ph);
}

static void svg_legend(FILE *f, const struct chart *c, const struct svg_frame *fr)
{
	double col_w = (fr->width - fr->left - 8) / fr->per_row;
	for (int i = 0; i < c->nseries; i++) {
		double x = fr->left + col_w * (i % fr->per_row);
		double y = fr->top + fr->ph + SVG_X_LABELS + 8 + SVG_LEGEND_ROW * (i / fr->per_row);
		char label[160], mx[FORMAT_UNIT_MAX];
		format_unit(c->axis.unit, c->s[i].vmax, mx);
		snprintf(label, sizeof(label), "%s (max %s)", c->s[i].name, mx);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"3\"/>\n",
			x, y - 4, x + 16, y - 4, series_colour(c, i));
		svg_text(f, x + 22, y, "start", 12, col_w - 28, label);
	}
}

/* The title is two lines: what is charted (and where), then how and when. */
static void svg_title(FILE *f, const struct chart *c, const struct svg_frame *fr)
{
	const char *paren = strstr(c->title, " (");
	char what[768];
	snprintf(what, sizeof(what), "%.*s",
		 paren ? (int)(paren - c->title) : (int)strlen(c->title), c->title);
	char how[1024];
	snprintf(how, sizeof(how), "%s%s%s", paren ? paren + 1 : "", c->subtitle[0] ? "; " : "",
		 c->subtitle);
	svg_text(f, 12, 20, "start", 14, fr->width - 24, what);
	svg_text(f, 12, 38, "start", 11, fr->width - 24, how);
}

int plot_svg(const char *path, const char *db, const struct chart *c, struct err *e)
{
	FILE *f = outfile_open(path, db, "--svg", e);
	if (!f)
		return -1;
	struct svg_frame fr = {
	    .top = SVG_TOP, .ph = SVG_PLOT_H, .width = SVG_POINTS_W, .per_row = 3};
	size_t widest = 4;
	for (double t = c->axis.lo; t <= c->axis.hi + c->axis.step / 2; t += c->axis.step) {
		char label[FORMAT_UNIT_MAX];
		tick_label(&c->axis, t, label);
		if (text_width(label) > widest)
			widest = text_width(label);
	}
	fr.left = 14 + SVG_CHAR_W * (double)widest;
	fr.pw = fr.width - fr.left - SVG_RIGHT;
	fr.legend_rows = c->nseries > 1 ? (c->nseries + fr.per_row - 1) / fr.per_row : 0;
	fr.height = fr.top + fr.ph + SVG_X_LABELS + fr.legend_rows * SVG_LEGEND_ROW + 8;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		fr.width, fr.height, fr.width, fr.height);
	svg_title(f, c, &fr);
	svg_axes(f, c, &fr);
	for (int i = c->nseries - 1; i >= 0; i--) /* the largest drawn last, on top */
		svg_series(f, c, &fr, i);
	if (fr.legend_rows)
		svg_legend(f, c, &fr);
	fputs("</svg>\n", f);
	if (ferror(f) | fclose(f))
		return err_set(e, "--svg: writing %s failed", path);
	return 0;
}
