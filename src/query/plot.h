/* The chart plot draws (cmd_plot.c reads it, plot_draw.c draws it): what
 * its parts share, and the pure helpers the unit tests check. */
#ifndef HINDSIGHT_QUERY_PLOT_H
#define HINDSIGHT_QUERY_PLOT_H

#include <stdio.h>

#include "query/query.h"

/* Lines drawn at most: the top ones by total and "other". */
#define PLOT_MAX_SERIES 20

struct plot_series {
	char name[96];
	double *v; /* the value per bucket */
	char *has; /* whether the bucket holds any row */
	double vmin, vmax, sum;
	int64_t count; /* buckets with a value */
};

/* A value axis: from lo to hi in steps of step (round: 1, 2 or 5 times a
 * power of ten, of 1024 for bytes), in the column's unit. */
struct axis {
	double lo, hi, step;
	enum unit unit;
};

struct chart {
	int n;		/* buckets */
	int64_t lo, hi; /* the time span the buckets cover */
	struct plot_series s[PLOT_MAX_SERIES + 1];
	int nseries;
	int nkeys;     /* series the view has */
	int has_other; /* the last series sums those past the top ones */
	double vmin, vmax;
	struct axis axis;
	char title[768];
	char subtitle[256];
};

/* A round step for a range split into about target parts: 1, 2 or 5 times
 * a power of ten. */
double nice_step(double range, int target);
/* The axis for values from vmin to vmax: from 0 when none is negative,
 * ends on whole steps. */
void axis_fit(enum unit u, double vmin, double vmax, struct axis *a);
/* Round local times from lo to hi (1, 2, 5, 10, 15, 30 s or min; 1, 2, 3,
 * 6, 12 h; 1, 2, 7 days), at most max of them: returns how many, *step the
 * step in seconds. */
int time_ticks(int64_t lo, int64_t hi, int64_t *ticks, int max, int64_t *step);
/* HH:MM:SS under a minute's step, MM-DD for days (and at midnight on a
 * span of days), else HH:MM. */
void time_tick_label(int64_t ts, int64_t step, int64_t span, char *buf, size_t n);

/* Drawing (plot_draw.c). */
void plot_braille(FILE *f, const struct chart *c, int width, int height);
void plot_spark(FILE *f, const struct chart *c);
/* A standalone SVG file at path (checked against the database db). */
int plot_svg(const char *path, const char *db, const struct chart *c, struct err *e);
/* SVG text: & < > " ' escaped. */
void svg_escape(FILE *f, const char *s);

#endif
