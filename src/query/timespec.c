/* The time syntax every hindsight command shares: relative, absolute, epoch
 * and the named days. A pure parser: the current time is a parameter. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "query/timespec.h"

const char timespec_forms[] =
    "  now, today, yesterday, monday or mon (the last one), each with a time: today 13:12\n"
    "  15m, 2h, 1h30m, 1w, 2h ago, \"2 hours ago\", -5m, now-5m, now+1h   (from now)\n"
    "  2026-11-20, 2026-11-20 03:12:05 (local), 2026-11-20T03:12Z, 2026-11-20T03:12+01:00\n"
    "  03:12 (today, local), @1763600000 or 1763600000 (epoch seconds, 9 digits or more)\n";

/* The instants a time may name: the years ISO 8601 writes with four
 * digits, 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX 253402300799LL
/* The longest duration back from now that can stay within them. */
#define AGO_MAX (TIME_MAX - TIME_MIN)

static int bad_time(struct err *e, const char *text, const char *why)
{
	return err_set(e, "bad time '%s'%s%s; accepted forms:\n%s", text, why ? ": " : "",
		       why ? why : "", timespec_forms);
}

/* A well-formed time past the instants above: said as such, not as a bad
 * form or a later "--since is after --until". */
static int out_of_range(struct err *e, const char *text)
{
	return err_set(e,
		       "%s is out of range: times run from 0000-01-01 to 9999-12-31 UTC (epoch "
		       "seconds up to @%lld)",
		       text, TIME_MAX);
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads exactly `digits` decimal digits. */
static int scan_fixed(const char **p, int digits, int *out)
{
	int v = 0;
	for (int i = 0; i < digits; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += digits;
	*out = v;
	return 0;
}

/* Seconds in one unit named by a word or a suffix, 0 when unknown. */
static int64_t unit_seconds(const char *w, size_t len)
{
	static const struct {
		const char *name;
		int64_t s;
	} units[] = {
	    {"s", 1},	       {"sec", 1},     {"secs", 1},	{"second", 1},	{"seconds", 1},
	    {"m", 60},	       {"min", 60},    {"mins", 60},	{"minute", 60}, {"minutes", 60},
	    {"h", 3600},       {"hr", 3600},   {"hrs", 3600},	{"hour", 3600}, {"hours", 3600},
	    {"d", 86400},      {"day", 86400}, {"days", 86400}, {"w", 604800},	{"week", 604800},
	    {"weeks", 604800},
	};
	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		if (strlen(units[i].name) == len && strncasecmp(w, units[i].name, len) == 0)
			return units[i].s;
	return 0;
}

/* Decimal digits at *p into *v; past max the value is no longer kept (so
 * nothing overflows) and 1 is returned, else 0. */
static int scan_bounded(const char **p, int64_t max, int64_t *v)
{
	int over = 0;
	*v = 0;
	for (; isdigit((unsigned char)**p); (*p)++) {
		if (!over)
			*v = *v * 10 + (**p - '0');
		over |= *v > max;
	}
	return over;
}

/* "15m", "1h30m", "2 hours", each optionally followed by "ago". Returns 1 when
 * the text is a relative time, 0 when it does not start with a number, -1 on
 * a bad one, -2 when it is longer than AGO_MAX. */
static int parse_relative(const char *text, int64_t *ago_s)
{
	const char *p = skip_blanks(text);
	int64_t total = 0;
	int over = 0;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p)) {
		int64_t n;
		over |= scan_bounded(&p, AGO_MAX, &n);
		p = skip_blanks(p);
		const char *w = p;
		while (isalpha((unsigned char)*p))
			p++;
		int64_t unit = unit_seconds(w, (size_t)(p - w));
		if (!unit)
			return -1; /* a bare number is ambiguous: 90 what? */
		/* n and total are at most AGO_MAX (about 2^38) and a unit below
		 * 2^20: no sum or product here overflows. */
		if (!over)
			total += n * unit;
		over |= total > AGO_MAX;
		p = skip_blanks(p);
	}
	if (strncasecmp(p, "ago", 3) == 0)
		p = skip_blanks(p + 3);
	if (*p)
		return -1;
	if (over)
		return -2;
	*ago_s = total;
	return 1;
}

/* The local time of day `clock` (hour, minute, second) on the day
 * `days_back` days before the day holding now. */
static int local_day_at(int64_t now, int days_back, const struct tm *clock, int64_t *out)
{
	time_t t = (time_t)now;
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return -1;
	tm.tm_hour = clock->tm_hour;
	tm.tm_min = clock->tm_min;
	tm.tm_sec = clock->tm_sec;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	time_t m = mktime(&tm);
	if (m == (time_t)-1)
		return -1;
	*out = (int64_t)m;
	return 0;
}

/* The local weekday of now (0 = Sunday), or -1. */
static int local_weekday(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	return localtime_r(&t, &tm) ? tm.tm_wday : -1;
}

static int days_in_month(int year, int month)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : d[month - 1];
}

/* "HH:MM[:SS]" into tm; the caller has checked the first digit. */
static int parse_clock(const char **p, struct tm *tm)
{
	if (scan_fixed(p, 2, &tm->tm_hour) || **p != ':')
		return -1;
	(*p)++;
	if (scan_fixed(p, 2, &tm->tm_min))
		return -1;
	tm->tm_sec = 0;
	if (**p == ':') {
		(*p)++;
		if (scan_fixed(p, 2, &tm->tm_sec))
			return -1;
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	return 0;
}

/* A zone suffix: "Z", "+01:00", "+0100", "-05". Returns 1 and the offset east of
 * UTC in seconds, 0 when there is none, -1 when malformed. */
static int parse_zone(const char **p, int *offset_s)
{
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*offset_s = 0;
		return 1;
	}
	if (**p != '+' && **p != '-')
		return 0;
	int sign = **p == '-' ? -1 : 1, hh, mm = 0;
	(*p)++;
	if (scan_fixed(p, 2, &hh))
		return -1;
	if (**p == ':')
		(*p)++;
	if (isdigit((unsigned char)**p) && scan_fixed(p, 2, &mm))
		return -1;
	if (hh > 14 || mm > 59)
		return -1;
	*offset_s = sign * (hh * 3600 + mm * 60);
	return 1;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS]][zone]". Returns 1 when parsed, 0 when the text
 * is not a date, -1 with a reason when it is a bad one. */
static int parse_absolute(const char *text, int64_t *out, const char **why)
{
	const char *p = text;
	struct tm tm = {0};
	int year, month, day;
	if (scan_fixed(&p, 4, &year) || *p != '-')
		return 0;
	p++;
	if (scan_fixed(&p, 2, &month) || *p++ != '-' || scan_fixed(&p, 2, &day))
		return *why = "expected a date as YYYY-MM-DD", -1;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return *why = "no such date", -1;
	if ((*p == ' ' || *p == 'T' || *p == 't') && isdigit((unsigned char)p[1])) {
		p++;
		if (parse_clock(&p, &tm))
			return *why = "expected a time of day as HH:MM or HH:MM:SS", -1;
	}
	int offset = 0;
	p = skip_blanks(p);
	int zoned = parse_zone(&p, &offset);
	if (zoned < 0)
		return *why = "expected a zone as Z, +HH:MM or -HHMM", -1;
	if (*p)
		return *why = "unexpected text after the date", -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	if (zoned) {
		*out = (int64_t)timegm(&tm) - offset;
		return 1;
	}
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return *why = "not representable in local time", -1;
	*out = (int64_t)t;
	return 1;
}

/* "HH:MM[:SS]" alone: today at that local time. */
static int parse_time_of_day(const char *text, int64_t now, int64_t *out)
{
	const char *p = text;
	struct tm clock = {0};
	if (parse_clock(&p, &clock) || *skip_blanks(p))
		return -1;
	return local_day_at(now, 0, &clock, out);
}

/* A day's name and the days back it means from today: today, yesterday,
 * or a weekday (-1 - its number: resolved against now's weekday). Sets
 * *len to the word's length; 0 when the text starts with no such word. */
static int day_word(const char *p, size_t *len, int *days)
{
	static const char *const weekdays[][2] = {
	    {"sunday", "sun"},	 {"monday", "mon"}, {"tuesday", "tue"},	 {"wednesday", "wed"},
	    {"thursday", "thu"}, {"friday", "fri"}, {"saturday", "sat"},
	};
	size_t n = 0;
	while (isalpha((unsigned char)p[n]))
		n++;
	*len = n;
	if (n == 5 && strncasecmp(p, "today", 5) == 0)
		return *days = 0, 1;
	if (n == 9 && strncasecmp(p, "yesterday", 9) == 0)
		return *days = 1, 1;
	for (int d = 0; d < 7; d++)
		for (int form = 0; form < 2; form++)
			if (strlen(weekdays[d][form]) == n &&
			    strncasecmp(p, weekdays[d][form], n) == 0)
				return *days = -1 - d, 1;
	return 0;
}

/* "today", "yesterday 03:00", "monday 09:00": that day at midnight or at
 * the time given (local). A weekday is the last one at most now: today's
 * when its time has come, else the one a week before. Returns 1 when
 * parsed, 0 when the text is no day, -1 with a reason when it is a bad one. */
static int parse_day(const char *p, int64_t now, int64_t *out, const char **why)
{
	size_t len;
	int days;
	if (!day_word(p, &len, &days))
		return 0;
	struct tm clock = {0};
	const char *rest = skip_blanks(p + len);
	if (*rest && (parse_clock(&rest, &clock) || *skip_blanks(rest)))
		return *why = "expected the day alone or a time of day after it (HH:MM[:SS])", -1;
	if (days < 0) { /* a weekday */
		int today = local_weekday(now), want = -1 - days;
		if (today < 0)
			return *why = "local time unavailable", -1;
		days = (today - want + 7) % 7;
		if (local_day_at(now, days, &clock, out) == 0 && *out > now)
			days += 7;
	}
	if (local_day_at(now, days, &clock, out))
		return *why = "local time unavailable", -1;
	return 1;
}

/* "now-5m", "now+1h", "-5m", "+10m", "now - 5m": a duration before or
 * after now. Returns 1 when parsed, 0 when the text is no such form, -1
 * malformed, -2 out of range. */
static int parse_signed(const char *p, int64_t now, int64_t *out)
{
	if (strncasecmp(p, "now", 3) == 0)
		p = skip_blanks(p + 3);
	if (*p != '-' && *p != '+')
		return 0;
	int sign = *p == '-' ? -1 : 1;
	p = skip_blanks(p + 1);
	if (!isdigit((unsigned char)*p))
		return -1;
	int64_t d;
	int r = parse_relative(p, &d);
	if (r < 0)
		return r;
	if (r == 0 || strcasestr(p, "ago"))
		return -1; /* "-5m ago": which way? */
	*out = now + sign * d;
	return 1;
}

/* Digits alone: epoch seconds, when there are at least 9 of them (from
 * 1973 on); fewer are more likely a duration missing its unit. 1 when
 * parsed, 0 when not digits alone, -1 too short, -2 out of range. */
static int parse_bare_epoch(const char *p, int64_t *out)
{
	const char *q = p;
	while (isdigit((unsigned char)*q))
		q++;
	if (q == p || *skip_blanks(q))
		return 0;
	if (q - p < 9)
		return -1;
	return scan_bounded(&p, TIME_MAX, out) ? -2 : 1;
}

/* "@SECONDS": 1 when parsed, -1 when malformed, -2 past TIME_MAX. */
static int parse_epoch(const char *p, int64_t *out)
{
	p++; /* the '@' */
	if (!isdigit((unsigned char)*p))
		return -1;
	int over = scan_bounded(&p, TIME_MAX, out);
	if (*skip_blanks(p))
		return -1;
	return over ? -2 : 1;
}

/* Every form; the result is left unchecked against the range. */
static int parse_any(const char *text, int64_t now, int64_t *out, struct err *e)
{
	const char *p = skip_blanks(text), *why = NULL;
	if (strcasecmp(p, "now") == 0 || (strncasecmp(p, "now", 3) == 0 && !*skip_blanks(p + 3)))
		return *out = now, 0;
	int r = parse_signed(p, now, out);
	if (r)
		return r > 0 ? 0
		       : r < -1
			   ? out_of_range(e, text)
			   : bad_time(e, text, "expected a duration after the sign (-5m, now+1h)");
	r = parse_day(p, now, out, &why);
	if (r)
		return r > 0 ? 0 : bad_time(e, text, why);
	r = parse_bare_epoch(p, out);
	if (r)
		return r > 0	? 0
		       : r < -1 ? out_of_range(e, text)
				: bad_time(e, text,
					   "a bare number is epoch seconds only with 9 digits or "
					   "more; give a unit (90s) or @90");
	if (*p == '@') {
		r = parse_epoch(p, out);
		return r > 0	? 0
		       : r < -1 ? out_of_range(e, text)
				: bad_time(e, text, "expected @ and epoch seconds");
	}
	r = parse_absolute(p, out, &why);
	if (r)
		return r > 0 ? 0 : bad_time(e, text, why);
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && p[2] == ':')
		return parse_time_of_day(p, now, out) ? bad_time(e, text, "expected HH:MM[:SS]")
						      : 0;
	int64_t ago;
	r = parse_relative(p, &ago);
	if (r > 0)
		return *out = now - ago, 0;
	return r < -1 ? out_of_range(e, text) : bad_time(e, text, NULL);
}

int timespec_parse(const char *text, int64_t now, int64_t *out, struct err *e)
{
	int64_t t;
	if (parse_any(text, now, &t, e))
		return -1;
	if (t < TIME_MIN || t > TIME_MAX)
		return out_of_range(e, text);
	*out = t;
	return 0;
}

/* The proleptic Gregorian date of a day counted from 1970-01-01, by
 * Howard Hinnant's civil_from_days: eras of 400 years, March first. */
static void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468; /* from 0000-03-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned day_of_era = (unsigned)(days - era * 146097);
	unsigned year_of_era =
	    (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	unsigned day_of_year =
	    day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	unsigned month_from_march = (5 * day_of_year + 2) / 153;
	*d = day_of_year - (153 * month_from_march + 2) / 5 + 1;
	*m = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
	*y = (int64_t)year_of_era + era * 400 + (*m <= 2);
}

static char *two_digits(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Years 1000-9999 are written here, without gmtime and strftime: an
 * export writes a time in every row, and a start time column changes on
 * most of them. Other years take the library's way. Measured on
 * bench/query's history (3 days, 200 groups; callgrind, and the median of
 * 7 runs on 2 cores): show group_tasks --since 24h writes 282 k times that
 * differ from the row before, at about 390 instructions each against
 * 2,800 through gmtime_r and strftime; the command takes 2.79 G
 * instructions against 3.48 G (365 ms against 418 ms). */
#define ISO_FAST_MIN (-30610224000LL) /* 1000-01-01T00:00:00Z */
#define ISO_FAST_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

void time_format_iso_utc(int64_t ts, char *buf, size_t n)
{
	if (ts >= ISO_FAST_MIN && ts <= ISO_FAST_MAX && n >= sizeof("YYYY-MM-DDTHH:MM:SSZ")) {
		int64_t days = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
		unsigned sec = (unsigned)(ts - days * 86400), month, day;
		int64_t year;
		civil_from_days(days, &year, &month, &day);
		char *p = two_digits(buf, (unsigned)year / 100);
		p = two_digits(p, (unsigned)year % 100);
		*p++ = '-';
		p = two_digits(p, month);
		*p++ = '-';
		p = two_digits(p, day);
		*p++ = 'T';
		p = two_digits(p, sec / 3600);
		*p++ = ':';
		p = two_digits(p, sec / 60 % 60);
		*p++ = ':';
		p = two_digits(p, sec % 60);
		memcpy(p, "Z", 2);
		return;
	}
	time_t t = (time_t)ts;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "@%lld", (long long)ts);
}

void time_format_local(int64_t ts, char *buf, size_t n)
{
	time_t t = (time_t)ts;
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, n, "@%lld", (long long)ts);
}
