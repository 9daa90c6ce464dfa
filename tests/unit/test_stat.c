/* The /proc/stat collector on a fixture tree: CPU and activity rows, and the
 * boot table, which must record a boot once whatever the wall clock does. */
#include "rig.h"

#include "collect/stat.h"

static void put_stat(struct rig *r, unsigned long long btime, unsigned user)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "cpu  %u 0 50 1000 0 0 0 0 0 0\ncpu0 %u 0 50 1000 0 0 0 0 0 0\n"
		 "ctxt 1000\nbtime %llu\nprocesses 50\nprocs_running 1\nprocs_blocked 0\n",
		 user, user, btime);
	put(r->proc, "stat", text);
}

static void stat_collector_rows(void **state)
{
	struct rig r;
	rig_init(&r);
	put_stat(&r, 1700000000, 100);
	rig_open(&r, &collector_cpu, NULL);
	put_stat(&r, 1700000000, 200);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT user_ms FROM cpu WHERE cpu_id = -1"), 1000);
	assert_int_equal(q(&r, "SELECT count(*) FROM cpu"), 2);
	assert_int_equal(q(&r, "SELECT boot_ts FROM boot"), 1700000000);
	rig_free(&r);
}

/* The kernel derives btime from the wall clock, so a step of the clock (even
 * NTP's sub-second one at boot) moves it: that is no reboot. A boot is one
 * boot id (/proc/sys/kernel/random/boot_id), in this run and the next. */
static void btime_moved_by_a_clock_step_is_no_reboot(void **state)
{
	struct rig r;
	rig_init(&r);
	put(r.proc, "sys/kernel/random/boot_id", "8a1c37f2-4a41-4a8e-9a0e-0d6a7c1d2e3f\n");
	put_stat(&r, 1700000000, 100);
	rig_open(&r, &collector_cpu, NULL);
	rig_tick(&r);
	put_stat(&r, 1700000001, 110);
	rig_tick(&r);
	put_stat(&r, 1700003600, 120);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM boot"), 1);
	assert_int_equal(q(&r, "SELECT boot_id = '8a1c37f2-4a41-4a8e-9a0e-0d6a7c1d2e3f' FROM boot"),
			 1);
	/* a restart in the same boot, btime moved again */
	rig_close(&r);
	put_stat(&r, 1699999999, 130);
	rig_open(&r, &collector_cpu, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM boot"), 1);
	/* a real reboot: a new boot id */
	rig_close(&r);
	put(r.proc, "sys/kernel/random/boot_id", "11111111-2222-3333-4444-555555555555\n");
	put_stat(&r, 1700090000, 10);
	rig_open(&r, &collector_cpu, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM boot"), 2);
	assert_int_equal(q(&r, "SELECT max(boot_ts) FROM boot"), 1700090000);
	rig_free(&r);
}

/* Without a boot id (an old kernel, a fixture tree) a run records its boot
 * once, by btime. */
static void without_boot_id_one_row_a_run(void **state)
{
	struct rig r;
	rig_init(&r);
	put_stat(&r, 1700000000, 100);
	rig_open(&r, &collector_cpu, NULL);
	rig_tick(&r);
	put_stat(&r, 1700000005, 110);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM boot"), 1);
	assert_int_equal(q(&r, "SELECT boot_id IS NULL FROM boot"), 1);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stat_collector_rows),
	    cmocka_unit_test(btime_moved_by_a_clock_step_is_no_reboot),
	    cmocka_unit_test(without_boot_id_one_row_a_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
