/* The query tool's time syntax: every accepted form, and bad input. */
#include "testutil.h"

#include <time.h>

#include "query/timespec.h"

/* 2026-11-20T03:12:00Z, a Friday. */
#define NOW 1795144320LL

static int64_t parse_ok(const char *text)
{
	int64_t v = -1;
	struct err e = {{0}};
	if (timespec_parse(text, NOW, &v, &e))
		fail_msg("'%s' did not parse: %s", text, e.msg);
	return v;
}

static void parse_bad(const char *text, const char *reason)
{
	int64_t v = 12345;
	struct err e = {{0}};
	if (timespec_parse(text, NOW, &v, &e) == 0)
		fail_msg("'%s' parsed as %lld but should be refused", text, (long long)v);
	assert_int_equal(v, 12345);
	if (!strstr(e.msg, "accepted forms") || !strstr(e.msg, "@1763600000") ||
	    !strstr(e.msg, "2 hours ago"))
		fail_msg("error for '%s' does not list the forms: %s", text, e.msg);
	if (reason && !strstr(e.msg, reason))
		fail_msg("error for '%s' does not say '%s': %s", text, reason, e.msg);
}

static void use_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void named(void **state)
{
	use_tz("UTC0");
	assert_int_equal(parse_ok("now"), NOW);
	assert_int_equal(parse_ok("NOW"), NOW);
	assert_int_equal(parse_ok("today"), 1795132800LL); /* 2026-11-20 00:00Z */
	assert_int_equal(parse_ok("yesterday"), 1795132800LL - 86400);
	/* Central European time: local midnight is 23:00Z the day before. */
	use_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(parse_ok("today"), 1795132800LL - 3600);
	assert_int_equal(parse_ok("yesterday"), 1795132800LL - 3600 - 86400);
}

static void relative(void **state)
{
	assert_int_equal(parse_ok("15m"), NOW - 900);
	assert_int_equal(parse_ok("2h"), NOW - 7200);
	assert_int_equal(parse_ok("3d"), NOW - 3 * 86400);
	assert_int_equal(parse_ok("1h30m"), NOW - 5400);
	assert_int_equal(parse_ok("1h 30m"), NOW - 5400);
	assert_int_equal(parse_ok("90s"), NOW - 90);
	assert_int_equal(parse_ok("1w"), NOW - 7 * 86400);
	assert_int_equal(parse_ok("2h ago"), NOW - 7200);
	assert_int_equal(parse_ok("2 hours ago"), NOW - 7200);
	assert_int_equal(parse_ok("1 hour ago"), NOW - 3600);
	assert_int_equal(parse_ok("30 min ago"), NOW - 1800);
	assert_int_equal(parse_ok("1 day 2 hours ago"), NOW - 86400 - 7200);
	assert_int_equal(parse_ok("10 seconds"), NOW - 10);
	assert_int_equal(parse_ok("  5m  "), NOW - 300);
}

static void absolute_utc_and_offsets(void **state)
{
	use_tz("CET-1CEST,M3.5.0,M10.5.0/3"); /* must not matter when a zone is given */
	assert_int_equal(parse_ok("2026-11-20T03:12:00Z"), NOW);
	assert_int_equal(parse_ok("2026-11-20T03:12Z"), NOW);
	assert_int_equal(parse_ok("2026-11-20 03:12:00Z"), NOW);
	assert_int_equal(parse_ok("2026-11-20T04:12:00+01:00"), NOW);
	assert_int_equal(parse_ok("2026-11-20T04:12+0100"), NOW);
	assert_int_equal(parse_ok("2026-11-19T22:12:00-05:00"), NOW);
	assert_int_equal(parse_ok("2026-11-20T08:42:00+05:30"), NOW);
	assert_int_equal(parse_ok("2026-11-20Z"), 1795132800LL);
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800LL);
}

static void absolute_local(void **state)
{
	use_tz("UTC0");
	assert_int_equal(parse_ok("2026-11-20 03:12"), NOW);
	assert_int_equal(parse_ok("2026-11-20 03:12:00"), NOW);
	assert_int_equal(parse_ok("2026-11-20T03:12:00"), NOW);
	assert_int_equal(parse_ok("2026-11-20"), 1795132800LL);
	use_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(parse_ok("2026-11-20 04:12"), NOW);	      /* winter: UTC+1 */
	assert_int_equal(parse_ok("2026-07-01 02:00"), 1782864000LL); /* summer: UTC+2 */
	assert_int_equal(parse_ok("04:12"), NOW);		      /* today, local */
	assert_int_equal(parse_ok("04:12:30"), NOW + 30);
}

static void epoch(void **state)
{
	assert_int_equal(parse_ok("@1763600000"), 1763600000LL);
	assert_int_equal(parse_ok("@0"), 0);
}

/* The forms of journalctl (systemd.time) and date -d, against a fixed now:
 * 2026-11-20T03:12:00Z, a Friday. */
static void journal_forms(void **state)
{
	static const int64_t midnight = 1795132800LL, day = 86400;
	static const struct {
		const char *text;
		int64_t want;
	} cases[] = {
	    {"-5m", NOW - 300},
	    {"now-5m", NOW - 300},
	    {"now - 5m", NOW - 300},
	    {"NOW-1h30m", NOW - 5400},
	    {"+10m", NOW + 600},
	    {"now+1h", NOW + 3600},
	    {" - 2 hours", NOW - 7200},
	    {"now", NOW},
	    {"now  ", NOW},
	    {"today", midnight},
	    {"today 13:12", midnight + 13 * 3600 + 12 * 60},
	    {"Today 00:00:30", midnight + 30},
	    {"yesterday 03:00", midnight - day + 3 * 3600},
	    {"yesterday", midnight - day},
	    /* weekdays: the last such day whose time has come */
	    {"friday", midnight},
	    {"fri 03:00", midnight + 3 * 3600},
	    {"friday 09:00", midnight - 7 * day + 9 * 3600}, /* today's is still to come */
	    {"thursday", midnight - day},
	    {"monday 09:00", midnight - 4 * day + 9 * 3600},
	    {"Mon", midnight - 4 * day},
	    {"sun", midnight - 5 * day},
	    {"SATURDAY 23:59:59", midnight - 5 * day - 1},
	    /* epoch seconds, with or without the @ */
	    {"1763600000", 1763600000LL},
	    {"  1763600000 ", 1763600000LL},
	    {"@1763600000", 1763600000LL},
	    {"100000000", 100000000LL},
	};
	use_tz("UTC0");
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (parse_ok(cases[i].text) != cases[i].want)
			fail_msg("'%s' parsed as %lld, expected %lld", cases[i].text,
				 (long long)parse_ok(cases[i].text), (long long)cases[i].want);
	/* local days across a change to summer time: now is Monday
	 * 2026-03-30 12:00 CEST; Sunday 2026-03-29 02:00 did not exist */
	use_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	struct err e;
	int64_t v;
	const int64_t monday_noon = 1774864800LL;
	assert_int_equal(timespec_parse("yesterday 01:00", monday_noon, &v, &e), 0);
	assert_int_equal(v, 1774742400LL);
	assert_int_equal(timespec_parse("sunday 03:30", monday_noon, &v, &e), 0);
	assert_int_equal(v, 1774747800LL);
	assert_int_equal(timespec_parse("yesterday", monday_noon, &v, &e), 0);
	assert_int_equal(v, 1774738800LL);
	assert_int_equal(timespec_parse("monday", monday_noon, &v, &e), 0);
	assert_int_equal(v, 1774821600LL);
	/* ill-formed ones are refused with the reason and the forms */
	use_tz("UTC0");
	parse_bad("-5m ago", "after the sign");
	parse_bad("now-", "after the sign");
	parse_bad("now-x", "after the sign");
	parse_bad("-", "after the sign");
	parse_bad("monday 25:00", "time of day");
	parse_bad("today junk", "time of day");
	parse_bad("12345678", "9 digits");
	parse_bad("90", "give a unit");
	parse_bad("nowish", NULL);
	parse_bad("tomorrow", NULL);
}

static void bad_forms(void **state)
{
	use_tz("UTC0");
	parse_bad("", NULL);
	parse_bad("tomorrow", NULL);
	parse_bad("15x", NULL);
	parse_bad("90", NULL); /* a bare number: 90 what? */
	parse_bad("2 fortnights ago", NULL);
	parse_bad("5m later", NULL);
	parse_bad("@", "epoch");
	parse_bad("@12abc", "epoch");
	parse_bad("@-5", "epoch");
	parse_bad("2026-13-01", "no such date");
	parse_bad("2026-02-29", "no such date"); /* not a leap year */
	parse_bad("2026-04-31", "no such date");
	parse_bad("2026-11-20 25:00", "time of day");
	parse_bad("2026-11-20 03:61", "time of day");
	parse_bad("2026-11-20T03", "time of day");
	parse_bad("2026-1-20", "YYYY-MM-DD");
	parse_bad("2026-11-20 03:12 junk", "after the date");
	parse_bad("2026-11-20T03:12+25:00", "zone");
	parse_bad("24:00", "HH:MM");
	parse_bad("@99999999999999999999x", "epoch"); /* malformed before out of range */
	parse_bad("99999999999999999999 fortnights", NULL);
}

/* The first and last second of the years 0000 to 9999 and the largest
 * numbers that stay inside them, in every form that takes a number. */
static void range_edges(void **state)
{
	static const struct {
		const char *text;
		int64_t want;
	} cases[] = {
	    {"@0", 0},
	    {"@253402300799", 253402300799LL},
	    {"@000000000000000000000000253402300799", 253402300799LL},
	    {"9999-12-31T23:59:59Z", 253402300799LL},
	    {"0000-01-01T00:00:00Z", -62167219200LL},
	    {"0000-01-01T01:00:00+01:00", -62167219200LL},
	    {"9999-12-31T22:59:59-01:00", 253402300799LL},
	    {"63962363520s", -62167219200LL}, /* NOW back to 0000-01-01 */
	    {"1066039392m", -62167219200LL},
	    {"100000w", NOW - 100000LL * 604800},
	    {"740304d 5h", NOW - 740304LL * 86400 - 5 * 3600},
	    {"0000000000000000000000000005m", NOW - 300},
	};
	use_tz("UTC0");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse_ok(cases[i].text) != cases[i].want)
			fail_msg("'%s' parsed as %lld, expected %lld", cases[i].text,
				 (long long)parse_ok(cases[i].text), (long long)cases[i].want);
}

/* Well-formed times past them, and numbers that would overflow 64 bits
 * (epoch seconds, a part of a duration, the sum of the parts): each is
 * refused as out of range, naming the token, and nothing is written. */
static void out_of_range(void **state)
{
	static const char *const cases[] = {
	    "@253402300800",
	    "@99999999999999999999",
	    "@9223372036854775807",
	    "@9223372036854775808",
	    "@18446744073709551617",
	    "63962363521s",
	    "99999999999d",
	    "99999999999999999999m",
	    "18446744073709551616s",
	    "9223372036854775807w",
	    "1000000000000w",
	    "100000000w",
	    "9999999999 hours ago",
	    "300000000000s 300000000000s",
	    "1w 99999999999999999999999999999999999999s ago",
	    "9999-12-31T23:59:59-00:01",
	    "0000-01-01T00:00:00+00:01",
	    "-99999999999d",
	    "now+99999999999d",
	    "253402300800",
	    "99999999999999999999",
	};
	use_tz("UTC0");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 12345;
		struct err e = {{0}};
		if (timespec_parse(cases[i], NOW, &v, &e) == 0)
			fail_msg("'%s' parsed as %lld but is out of range", cases[i], (long long)v);
		assert_int_equal(v, 12345);
		char want[160];
		snprintf(want, sizeof(want), "%s is out of range", cases[i]);
		if (!strstr(e.msg, want) || !strstr(e.msg, "9999-12-31"))
			fail_msg("error for '%s' does not say '%s' and the range: %s", cases[i],
				 want, e.msg);
	}
}

static void formats(void **state)
{
	char b[32];
	use_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	time_format_iso_utc(NOW, b, sizeof(b));
	assert_string_equal(b, "2026-11-20T03:12:00Z");
	time_format_local(NOW, b, sizeof(b));
	assert_string_equal(b, "2026-11-20 04:12:00");
	/* What is printed parses back to the same second. */
	assert_int_equal(parse_ok("2026-11-20 04:12:00"), NOW);
}

/* The library's text for ts: what time_format_iso_utc wrote before it
 * formatted the common years itself. */
static void iso_by_strftime(int64_t ts, char *buf, size_t n)
{
	time_t t = (time_t)ts;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "@%lld", (long long)ts);
}

static void iso_matches(int64_t ts)
{
	char got[32], want[32];
	time_format_iso_utc(ts, got, sizeof(got));
	iso_by_strftime(ts, want, sizeof(want));
	if (strcmp(got, want) != 0)
		fail_msg("@%lld: wrote %s, strftime writes %s", (long long)ts, got, want);
}

/* Every day's edges over the years around the epoch and both ends of the
 * directly written years (leap days and centuries included), and random
 * seconds from year 1 to beyond 9999: the same text as gmtime and strftime. */
static void iso_utc_matches_strftime(void **state)
{
	(void)state;
	for (int64_t day = -800 * 366; day <= 800 * 366; day++) {
		iso_matches(day * 86400);
		iso_matches(day * 86400 - 1);
	}
	static const int64_t edges[] = {-30610224000LL, 253402300799LL, 951782400LL, 4107542400LL};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (int64_t d = -90000; d <= 90000; d += 7)
			iso_matches(edges[i] + d);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 1000000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		iso_matches(-62135596800LL + (int64_t)(x % 400000000000ull));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(named),	      cmocka_unit_test(iso_utc_matches_strftime),
	    cmocka_unit_test(relative),	      cmocka_unit_test(absolute_utc_and_offsets),
	    cmocka_unit_test(absolute_local), cmocka_unit_test(epoch),
	    cmocka_unit_test(bad_forms),      cmocka_unit_test(formats),
	    cmocka_unit_test(range_edges),    cmocka_unit_test(out_of_range),
	    cmocka_unit_test(journal_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
