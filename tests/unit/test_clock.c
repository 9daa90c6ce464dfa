/* The trusted wall clock (src/util/clock.c): it follows the wall clock
 * within the tolerance, keeps its own time through a step until the step is
 * undone or has lasted the settle period, and says when ages may be judged. */
#include "testutil.h"

#define S      1000000LL /* one second in µs */
#define WALL0  (1700000000LL * S)
#define BOOT0  (1000LL * S)
#define SETTLE (300 * S)

/* One reading `at` seconds after the start, the wall clock `off` µs off. */
static enum wall_event observe(struct wall_clock *w, double at, int64_t off, int64_t *step)
{
	int64_t t = (int64_t)(at * S);
	return wall_clock_observe(w, WALL0 + t + off, BOOT0 + t, step);
}

static int64_t trusted(const struct wall_clock *w, double at)
{
	return wall_clock_trusted_us(w, BOOT0 + (int64_t)(at * S)) - WALL0;
}

static void follows_small_changes(void **state)
{
	struct wall_clock w;
	int64_t step;
	wall_clock_init(&w, WALL0, BOOT0, SETTLE);
	assert_int_equal(observe(&w, 1, 0, &step), WALL_STEADY);
	assert_int_equal(trusted(&w, 1), 1 * S);
	/* a leap second, and NTP's first sub-second steps, are followed at once */
	assert_int_equal(observe(&w, 2, -S, &step), WALL_STEADY);
	assert_int_equal(trusted(&w, 2), 1 * S);
	assert_int_equal(observe(&w, 3, -S + 400000, &step), WALL_STEADY);
	assert_int_equal(trusted(&w, 3), 2 * S + 400000);
	/* corrections that add up past the tolerance never make a step */
	for (int i = 4; i < 40; i++)
		assert_int_equal(observe(&w, i, -S + 400000 + (i - 3) * 100000, &step),
				 WALL_STEADY);
	assert_int_equal(step, 0);
}

static void step_forward_and_back(void **state)
{
	struct wall_clock w;
	int64_t step;
	const int64_t days400 = 400LL * 86400 * S;
	wall_clock_init(&w, WALL0, BOOT0, SETTLE);
	assert_int_equal(observe(&w, 1, 0, &step), WALL_STEADY);
	assert_int_equal(observe(&w, 2, days400, &step), WALL_STEPPED);
	assert_int_equal(step, days400);
	assert_int_equal(trusted(&w, 2), 2 * S); /* the step is not followed */
	assert_false(wall_clock_settled(&w, BOOT0 + SETTLE + 2 * S));
	for (int i = 3; i < 12; i++) {
		assert_int_equal(observe(&w, i, days400, &step), WALL_UNSETTLED);
		assert_int_equal(trusted(&w, i), i * S);
	}
	assert_int_equal(observe(&w, 12, 3000, &step), WALL_BACK);
	assert_int_equal(step, days400);
	assert_int_equal(trusted(&w, 12), 12 * S + 3000);
	assert_true(wall_clock_settled(&w, BOOT0 + SETTLE));
	assert_int_equal(observe(&w, 13, 3000, &step), WALL_STEADY);
}

static void a_step_that_stays_is_accepted(void **state)
{
	struct wall_clock w;
	int64_t step;
	wall_clock_init(&w, WALL0, BOOT0, SETTLE);
	assert_int_equal(observe(&w, 10, -3600 * S, &step), WALL_STEPPED);
	assert_int_equal(step, -3600 * S);
	assert_int_equal(observe(&w, 10 + 299, -3600 * S, &step), WALL_UNSETTLED);
	assert_int_equal(trusted(&w, 309), 309 * S);
	assert_int_equal(observe(&w, 10 + 300, -3600 * S + 2000, &step), WALL_ACCEPTED);
	assert_int_equal(step, -3600 * S + 2000);
	assert_int_equal(trusted(&w, 310), 310 * S - 3600 * S + 2000);
	assert_true(wall_clock_settled(&w, BOOT0 + 310 * S));
	assert_int_equal(observe(&w, 311, -3600 * S + 2000, &step), WALL_STEADY);
}

/* A second, different step starts the settle period again. */
static void a_new_step_is_timed_afresh(void **state)
{
	struct wall_clock w;
	int64_t step;
	wall_clock_init(&w, WALL0, BOOT0, SETTLE);
	assert_int_equal(observe(&w, 1, 86400 * S, &step), WALL_STEPPED);
	assert_int_equal(observe(&w, 200, 2 * 86400 * S, &step), WALL_STEPPED);
	assert_int_equal(step, 2 * 86400 * S);
	assert_int_equal(observe(&w, 302, 2 * 86400 * S, &step), WALL_UNSETTLED);
	assert_int_equal(observe(&w, 500, 2 * 86400 * S, &step), WALL_ACCEPTED);
	assert_int_equal(trusted(&w, 500), 500 * S + 2 * 86400 * S);
}

/* Ages wait for a settle period after the start: a daemon started on a
 * wrong clock must not prune by it before NTP has had time to fix it. */
static void ages_wait_for_a_settled_clock(void **state)
{
	struct wall_clock w;
	int64_t step;
	wall_clock_init(&w, WALL0, BOOT0, SETTLE);
	assert_false(wall_clock_settled(&w, BOOT0 + SETTLE - 1));
	assert_true(wall_clock_settled(&w, BOOT0 + SETTLE));
	wall_clock_init(&w, WALL0, BOOT0, 0);
	assert_true(wall_clock_settled(&w, BOOT0));
	assert_int_equal(observe(&w, 1, 10 * S, &step), WALL_STEPPED);
	assert_false(wall_clock_settled(&w, BOOT0 + S));
	assert_int_equal(observe(&w, 2, 10 * S, &step), WALL_ACCEPTED); /* settle 0 */
	assert_true(wall_clock_settled(&w, BOOT0 + 2 * S));
}

/* Both clocks read as one instant: their difference is steady to well under
 * the tolerance from one reading to the next. */
static void reads_both_clocks_together(void **state)
{
	int64_t wall0, boot0, wall1, boot1;
	clock_read_wall_boot(&wall0, &boot0);
	for (int i = 0; i < 1000; i++) {
		clock_read_wall_boot(&wall1, &boot1);
		int64_t drift = (wall1 - boot1) - (wall0 - boot0);
		assert_true(drift < 20000 && drift > -20000);
	}
	assert_true(boot1 >= boot0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(follows_small_changes),
	    cmocka_unit_test(step_forward_and_back),
	    cmocka_unit_test(a_step_that_stays_is_accepted),
	    cmocka_unit_test(a_new_step_is_timed_afresh),
	    cmocka_unit_test(ages_wait_for_a_settled_clock),
	    cmocka_unit_test(reads_both_clocks_together),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
