/* plot's pure parts: round ticks on the value and time axes, the SVG's
 * escaping, and the braille chart of several series as a person reads it. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "query/plot.h"

static void round_steps(void **state)
{
	const struct {
		double range;
		int target;
		double step;
	} cases[] = {
	    {100, 4, 50}, /* 25 is no 1-2-5 step: 50 */
	    {97.6, 4, 50}, {42.55, 4, 20}, {1, 4, 0.5},	  {0.03, 4, 0.01},
	    {7, 4, 2},	   {1000, 5, 200}, {3e9, 4, 1e9}, {0, 4, 1},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		double got = nice_step(cases[i].range, cases[i].target);
		if (fabs(got - cases[i].step) > 1e-12 * cases[i].step)
			fail_msg("range %g in %d: step %g, expected %g", cases[i].range,
				 cases[i].target, got, cases[i].step);
	}
	/* the ticks the issue saw, 14.91/36.183/57.455/78.728, are now round,
	 * and a percent axis starts at 0 */
	struct axis a;
	axis_fit(UNIT_PCT, 14.91, 78.728, &a);
	assert_true(a.lo == 0 && a.hi == 80 && a.step == 20);
	axis_fit(UNIT_PCT, 97.6, 100, &a);
	assert_true(a.lo == 0 && a.hi == 100 && a.step == 50);
	/* bytes step in powers of 1024: 200 MiB/s, not 190.7 */
	axis_fit(UNIT_BYTES_PER_S, 0, 4.83963e8, &a);
	assert_true(a.lo == 0 && a.step == 200.0 * 1048576 && a.hi == 600.0 * 1048576);
	axis_fit(UNIT_KB, 0, 3 * 1048576.0, &a); /* 3 GiB in KiB */
	assert_true(a.step == 1048576.0 && a.hi == 3 * 1048576.0);
	/* below zero, the axis follows */
	axis_fit(UNIT_NONE, -3.5, 2, &a);
	assert_true(a.lo == -4 && a.hi == 2 && a.step == 2);
	/* one value: still an axis */
	axis_fit(UNIT_PCT, 0, 0, &a);
	assert_true(a.lo == 0 && a.hi > 0);
}

static void time_axis_ticks(void **state)
{
	setenv("TZ", "UTC0", 1);
	tzset();
	int64_t t[16], step;
	/* a day: every 6 hours, on the hour */
	int n = time_ticks(1795132800 + 1234, 1795132800 + 86400 + 1234, t, 16, &step);
	assert_int_equal(step, 21600);
	assert_int_equal(n, 4);
	assert_int_equal(t[0], 1795132800 + 21600);
	char l[32];
	time_tick_label(t[0], step, 86400, l, sizeof(l));
	assert_string_equal(l, "06:00");
	time_tick_label(1795132800 + 86400, step, 86400 * 2, l, sizeof(l));
	assert_string_equal(l, "11-21"); /* midnight on a span of days: the date */
	/* ten minutes: every 2 minutes */
	n = time_ticks(1795144320, 1795144320 + 600, t, 16, &step);
	assert_int_equal(step, 120);
	assert_int_equal(n, 6);
	assert_int_equal(t[0] % 120, 0);
	/* four seconds: every second, with seconds in the label */
	n = time_ticks(1795144320, 1795144324, t, 16, &step);
	assert_int_equal(step, 1);
	time_tick_label(t[4], step, 4, l, sizeof(l));
	assert_string_equal(l, "03:12:04");
	/* local time: a zone an hour and a half off still gets round hours */
	setenv("TZ", "XXX-5:30", 1);
	tzset();
	n = time_ticks(1795132800, 1795132800 + 86400, t, 16, &step);
	assert_int_equal((t[0] + 19800) % 21600, 0);
	setenv("TZ", "UTC0", 1);
	tzset();
}

static char *read_back(FILE *f)
{
	long n = ftell(f);
	rewind(f);
	char *s = calloc((size_t)n + 1, 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void svg_text_escaped(void **state)
{
	FILE *f = tmpfile();
	svg_escape(f, "a<b&c>\"d'e\tf");
	char *s = read_back(f);
	assert_string_equal(s, "a&lt;b&amp;c&gt;&quot;d&apos;e f");
	free(s);
}

/* Two series of five buckets: each in its panel, on its own round scale,
 * named, with the time axis below and its last label whole. */
static void braille_panels(void **state)
{
	setenv("TZ", "UTC0", 1);
	tzset();
	static struct chart c;
	memset(&c, 0, sizeof(c));
	c.n = 5;
	c.lo = 1795144320;
	c.hi = c.lo + 4;
	c.nseries = c.nkeys = 2;
	double v[2][5] = {{10, 40, 80, 40, 10}, {1, 2, 3, 2, 1}};
	char has[5] = {1, 1, 1, 1, 1};
	for (int i = 0; i < 2; i++) {
		snprintf(c.s[i].name, sizeof(c.s[i].name), "%s", i ? "db" : "nginx");
		c.s[i].v = v[i];
		c.s[i].has = has;
		c.s[i].vmin = i ? 1 : 10;
		c.s[i].vmax = i ? 3 : 80;
		c.s[i].sum = i ? 9 : 180;
		c.s[i].count = 5;
	}
	axis_fit(UNIT_PCT, 1, 80, &c.axis);
	FILE *f = tmpfile();
	plot_braille(f, &c, 30, 8);
	char *s = read_back(f);
	assert_non_null(strstr(s, "       nginx: max 80.0%, mean 36.0%\n"));
	assert_non_null(strstr(s, "   80% ┤"));
	assert_non_null(strstr(s, "db: max 3.0%, mean 1.8%\n"));
	assert_non_null(strstr(s, "    3% ┤")); /* its own scale: 0 to 3% */
	assert_non_null(strstr(s, "    0% ┤"));
	assert_non_null(strstr(s, "└┬"));
	assert_non_null(strstr(s, "03:12:04\n")); /* the last label whole */
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(text_width(line) <= 6 + 2 + 30);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_steps),
	    cmocka_unit_test(time_axis_ticks),
	    cmocka_unit_test(svg_text_escaped),
	    cmocka_unit_test(braille_panels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
