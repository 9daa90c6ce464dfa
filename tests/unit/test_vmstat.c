/* /proc/vmstat: the parser (kernel variants, truncated and garbage input)
 * and the vmstat collector's rows. */
#include "rig.h"

#include "collect/vmstat.h"

static const struct vmstat_key vkeys[] = {
    {"pgfault", "", 0},	   {"pgscan_kswapd", "", 1}, {"pgscan_direct", "", 1},
    {"allocstall", "", 1}, {"oom_kill", "", 0},	     {"workingset_refault", "", 1},
};

static void vmstat_parse_variants(void **state)
{
	uint64_t v[ARRAY_LEN(vkeys)];
	unsigned char f[ARRAY_LEN(vkeys)];
	struct err e;
	char *t = fixture_text("proc/vmstat.3_10");
	assert_int_equal(vmstat_parse(t, vkeys, ARRAY_LEN(vkeys), v, f, &e), 0);
	assert_int_equal(v[0], 50000);
	assert_int_equal(v[1], 111); /* summed over zones */
	assert_int_equal(v[2], 7);
	assert_int_equal(v[3], 2);
	assert_false(f[4]); /* no oom_kill before 4.13 */
	assert_false(f[5]);
	free(t);
	t = fixture_text("proc/vmstat.6_18");
	assert_int_equal(vmstat_parse(t, vkeys, ARRAY_LEN(vkeys), v, f, &e), 0);
	assert_true(f[0] && f[1] && f[2] && f[3] && f[4] && f[5]);
	free(t);
	/* pgscan_direct_throttle is not part of pgscan_direct. */
	assert_int_equal(vmstat_parse("pgscan_direct 5\npgscan_direct_throttle 9\n", vkeys,
				      ARRAY_LEN(vkeys), v, f, &e),
			 0);
	assert_int_equal(v[2], 5);
}

static void vmstat_parse_bad(void **state)
{
	uint64_t v[ARRAY_LEN(vkeys)];
	unsigned char f[ARRAY_LEN(vkeys)];
	struct err e;
	char *t;
	expect_error(vmstat_parse(t = fixture_text("proc/vmstat.garbage"), vkeys, ARRAY_LEN(vkeys),
				  v, f, &e),
		     &e, "/proc/vmstat line 2 (pgmajfault): bad value '2x'");
	free(t);
	expect_error(vmstat_parse(t = fixture_text("proc/vmstat.truncated"), vkeys,
				  ARRAY_LEN(vkeys), v, f, &e),
		     &e, "truncated");
	free(t);
	expect_error(vmstat_parse("pgfault 1 2\n", vkeys, ARRAY_LEN(vkeys), v, f, &e), &e,
		     "line 1 (pgfault): bad value");
}

static void vmstat_collector_rows(void **state)
{
	struct rig r;
	rig_init(&r);
	put(r.proc, "vmstat", "pgfault 100\npgmajfault 5\noom_kill 1\npgscan_kswapd_normal 7\n");
	rig_open(&r, &collector_vmstat, NULL);
	put(r.proc, "vmstat", "pgfault 300\npgmajfault 5\noom_kill 2\npgscan_kswapd_normal 9\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT pgfault_count FROM vmstat"), 200);
	assert_int_equal(q(&r, "SELECT faults_per_s FROM vmstat_rates"), 20);
	assert_int_equal(q(&r, "SELECT oom_kill_count FROM vmstat_rates"), 1);
	assert_int_equal(q(&r, "SELECT pgscan_kswapd_pages FROM vmstat"), 2);
	assert_int_equal(q(&r, "SELECT thp_fault_alloc_count IS NULL FROM vmstat"), 1);
	rig_free(&r);
}

static int fz_vmstat(char *t, size_t n, struct err *e)
{
	uint64_t v[ARRAY_LEN(vkeys)];
	unsigned char f[ARRAY_LEN(vkeys)];
	return vmstat_parse(t, vkeys, ARRAY_LEN(vkeys), v, f, e);
}

static void vmstat_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_vmstat, "proc/vmstat.3_10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vmstat_parse_variants),
	    cmocka_unit_test(vmstat_parse_bad),
	    cmocka_unit_test(vmstat_collector_rows),
	    cmocka_unit_test(vmstat_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
