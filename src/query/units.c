/* Units people read. Every column name carries its unit (docs/schema.md),
 * so the name says how to write a value for a person: 1.2 GiB, 48.3 MiB/s,
 * 12.5%, 3.2 ms, 1.5k/s. Pure: names and numbers in, text out. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "query/query.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);
	return l > k && strcmp(s + l - k, suffix) == 0;
}

enum unit unit_of(const char *column)
{
	static const struct {
		const char *suffix;
		enum unit unit;
	} suffixes[] = {
	    /* the longer suffixes first: _kb_per_s before _per_s */
	    {"_bytes_per_s", UNIT_BYTES_PER_S},
	    {"_kb_per_s", UNIT_KB_PER_S},
	    {"_per_s", UNIT_PER_S},
	    {"_bytes", UNIT_BYTES},
	    {"_kb", UNIT_KB},
	    {"_pct", UNIT_PCT},
	    {"_ms", UNIT_MS},
	    {"_us", UNIT_US},
	    {"_s", UNIT_S},
	    {"_count", UNIT_COUNT},
	    {"_pages", UNIT_COUNT},
	};
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++)
		if (ends_with(column, suffixes[i].suffix))
			return suffixes[i].unit;
	return UNIT_NONE;
}

/* v with a fixed number of decimals (0 to 3), rounded half away from zero,
 * without printf: a table of a day of rows writes millions of these.
 * |v| must be below 1e15. */
static size_t fixed(double v, int decimals, char *buf)
{
	static const double scale[] = {1, 10, 100, 1000};
	ASSERT(decimals >= 0 && decimals <= 3);
	int64_t r = llround(fabs(v) * scale[decimals]);
	char digits[24];
	size_t n = format_int(r, digits), len = 0;
	if (v < 0 && r != 0)
		buf[len++] = '-';
	if (decimals == 0) {
		memcpy(buf + len, digits, n + 1);
		return len + n;
	}
	/* at least one digit before the point: 5 with 2 decimals is 0.05 */
	size_t zeros = n <= (size_t)decimals ? (size_t)decimals + 1 - n : 0;
	memset(buf + len, '0', zeros);
	memcpy(buf + len + zeros, digits, n);
	n += zeros;
	size_t whole = n - (size_t)decimals;
	memmove(buf + len + whole + 1, buf + len + whole, (size_t)decimals);
	buf[len + whole] = '.';
	len += n + 1;
	buf[len] = '\0';
	return len;
}

static size_t append(char *buf, size_t len, const char *s)
{
	size_t k = strlen(s);
	memcpy(buf + len, s, k + 1);
	return len + k;
}

/* v in the largest of the units (each base times the one before) that keeps
 * it below base: one decimal under 100, none from 100 ("48.3 MiB",
 * "512 KiB"), so a cell is at most 4 digits and a unit wide. */
static size_t scaled(double v, double base, const char *const *names, size_t nnames, char *buf)
{
	double a = fabs(v);
	size_t u = 0;
	while (u + 1 < nnames && a >= base - 0.5) {
		a /= base;
		v /= base;
		u++;
	}
	size_t len = fixed(v, a < 99.95 && (u > 0 || v != floor(v)) ? 1 : 0, buf);
	return append(buf, len, names[u]);
}

/* A duration given in milliseconds, in the unit that reads best. */
static size_t duration(double ms, char *buf)
{
	static const struct {
		double below_ms, per_unit_ms;
		const char *name;
	} units[] = {
	    {1, 0.001, " µs"},		{999.5, 1, " ms"},	    {59999.5, 1000, " s"},
	    {3599999.5, 60000, " min"}, {172800000, 3600000, " h"}, {INFINITY, 86400000, " d"},
	};
	double a = fabs(ms);
	if (a == 0)
		return append(buf, 0, "0");
	size_t i = 0;
	while (a >= units[i].below_ms)
		i++;
	double x = ms / units[i].per_unit_ms;
	size_t len = fixed(x, fabs(x) < 99.95 ? 1 : 0, buf);
	return append(buf, len, units[i].name);
}

size_t format_unit(enum unit u, double v, char *buf)
{
	static const char *const iec[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
	static const char *const iec_rate[] = {" B/s",	 " KiB/s", " MiB/s",
					       " GiB/s", " TiB/s", " PiB/s"};
	static const char *const si[] = {"", "k", "M", "G", "T", "P"};
	static const char *const si_rate[] = {"/s", "k/s", "M/s", "G/s", "T/s", "P/s"};
	double a = fabs(v);
	if (!isfinite(v) || a >= 1e15)
		return (size_t)snprintf(buf, FORMAT_UNIT_MAX, "%.3g", v);
	switch (u) {
	case UNIT_KB:
		return scaled(v * 1024, 1024, iec, ARRAY_LEN(iec), buf);
	case UNIT_BYTES:
		return scaled(v, 1024, iec, ARRAY_LEN(iec), buf);
	case UNIT_KB_PER_S:
		return scaled(v * 1024, 1024, iec_rate, ARRAY_LEN(iec_rate), buf);
	case UNIT_BYTES_PER_S:
		return scaled(v, 1024, iec_rate, ARRAY_LEN(iec_rate), buf);
	case UNIT_PER_S:
		if (a > 0 && a < 0.95)
			return append(buf, fixed(v, 2, buf), "/s");
		return scaled(v, 1000, si_rate, ARRAY_LEN(si_rate), buf);
	case UNIT_PCT:
		/* a small share stays visible: 0.03%, not 0.0% */
		return append(buf, fixed(v, a > 0 && a < 0.05 ? 2 : 1, buf), "%");
	case UNIT_S:
		return duration(v * 1000, buf);
	case UNIT_MS:
		return duration(v, buf);
	case UNIT_US:
		return duration(v / 1000, buf);
	case UNIT_COUNT:
		if (a < 99999.5)
			return fixed(v, v == floor(v) ? 0 : 1, buf);
		return scaled(v, 1000, si, ARRAY_LEN(si), buf);
	case UNIT_NONE:
		break;
	}
	if (v == floor(v))
		return fixed(v, 0, buf);
	if (a < 0.01)
		return (size_t)snprintf(buf, FORMAT_UNIT_MAX, "%.2g", v);
	return fixed(v, 2, buf);
}

size_t format_real_table(double v, char *buf)
{
	/* 15 significant digits: what was measured, without the binary
	 * fraction's tail (34896.325, not 34896.325000000004) */
	return (size_t)snprintf(buf, FORMAT_UNIT_MAX, "%.15g", v);
}
