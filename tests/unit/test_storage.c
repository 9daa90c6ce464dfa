/* The storage model: days each tier holds under its age and the size cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "query/storage.h"

#define DAY	   86400
#define MIB	   (1024.0 * 1024.0)
#define NEAR(a, b) assert_true((a) > (b)-0.01 && (a) < (b) + 0.01)

/* Everything fits: each tier holds its age, the file settles at the sum. */
static void all_fit(void **state)
{
	(void)state;
	double rate[NTIERS] = {10 * MIB, 1 * MIB, 0.1 * MIB};
	int64_t keep[NTIERS] = {7 * DAY, 90 * DAY, 730 * DAY};
	struct storage_plan p;
	storage_plan(rate, keep, (int64_t)(1024 * MIB), &p);
	NEAR(p.days[TIER_RAW], 7);
	NEAR(p.days[TIER_1M], 90);
	NEAR(p.days[TIER_1H], 730);
	assert_false(p.cut[TIER_RAW] || p.cut[TIER_1M] || p.cut[TIER_1H]);
	NEAR(p.steady_bytes / MIB, 70 + 90 + 73);
}

/* The cap prunes raw first: hours and minutes keep their age, raw gets the
 * rest. */
static void raw_cut(void **state)
{
	(void)state;
	double rate[NTIERS] = {100 * MIB, 1 * MIB, 0.1 * MIB};
	int64_t keep[NTIERS] = {7 * DAY, 90 * DAY, 730 * DAY};
	struct storage_plan p;
	storage_plan(rate, keep, (int64_t)(500 * MIB), &p);
	NEAR(p.days[TIER_1H], 730);
	NEAR(p.days[TIER_1M], 90);
	NEAR(p.days[TIER_RAW], (500.0 - 73 - 90) / 100);
	assert_true(p.cut[TIER_RAW]);
	assert_false(p.cut[TIER_1M] || p.cut[TIER_1H]);
	NEAR(p.steady_bytes / MIB, 500);
}

/* A cap smaller than the rollups' ages: no raw history, minutes cut short
 * (the case status warns about). */
static void minutes_cut(void **state)
{
	(void)state;
	double rate[NTIERS] = {100 * MIB, 10 * MIB, 0.1 * MIB};
	int64_t keep[NTIERS] = {7 * DAY, 90 * DAY, 730 * DAY};
	struct storage_plan p;
	storage_plan(rate, keep, (int64_t)(273 * MIB), &p);
	NEAR(p.days[TIER_1H], 730);
	NEAR(p.days[TIER_1M], 20);
	NEAR(p.days[TIER_RAW], 0);
	assert_true(p.cut[TIER_1M] && p.cut[TIER_RAW]);
	assert_false(p.cut[TIER_1H]);
}

/* Kept for ever: without a cap the file grows for ever; with one, the tier
 * gets what the tiers above leave, and is reported as cut. A tier that
 * gains nothing is never cut. */
static void forever(void **state)
{
	(void)state;
	double rate[NTIERS] = {10 * MIB, 0, 1 * MIB};
	int64_t keep[NTIERS] = {0, 90 * DAY, 365 * DAY};
	struct storage_plan p;
	storage_plan(rate, keep, 0, &p);
	assert_true(p.days[TIER_RAW] < 0 && p.steady_bytes < 0);
	NEAR(p.days[TIER_1H], 365);
	storage_plan(rate, keep, (int64_t)(465 * MIB), &p);
	NEAR(p.days[TIER_RAW], 10);
	assert_true(p.cut[TIER_RAW]);
	assert_false(p.cut[TIER_1M]);
	NEAR(p.days[TIER_1M], 90);
	NEAR(p.steady_bytes / MIB, 465);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(all_fit),
	    cmocka_unit_test(raw_cut),
	    cmocka_unit_test(minutes_cut),
	    cmocka_unit_test(forever),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
