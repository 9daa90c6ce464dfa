/* The foundation's pure parsers on fixture text: /proc/stat, /proc/meminfo,
 * /proc/loadavg, and the duration syntax. */
#include "testutil.h"

#include "collect/loadavg.h"
#include "collect/meminfo.h"
#include "collect/stat.h"

static void stat_current_kernel(void **state)
{
	char *text = fixture_text("proc/stat.6_18");
	struct proc_stat s = {0};
	struct err e;
	assert_int_equal(proc_stat_parse(text, &s, &e), 0);
	assert_int_equal(s.total.id, -1);
	assert_int_equal(s.total.ticks[CPU_USER], 4294);
	assert_int_equal(s.total.ticks[CPU_IOWAIT], 3056);
	assert_int_equal(s.total.ticks[CPU_STEAL], 23);
	assert_int_equal(s.ncpus, 2);
	assert_int_equal(s.cpus[1].id, 1);
	assert_int_equal(s.cpus[1].ticks[CPU_SYSTEM], 1347);
	assert_true(s.ctxt > 0 && s.btime > 1600000000 && s.processes > 0);
	proc_stat_free(&s);
	free(text);
}

static void stat_old_kernel_with_hotplug_gap(void **state)
{
	char *text = fixture_text("proc/stat.old_hotplug");
	struct proc_stat s = {0};
	struct err e;
	assert_int_equal(proc_stat_parse(text, &s, &e), 0);
	assert_int_equal(s.ncpus, 2);
	assert_int_equal(s.cpus[0].id, 0);
	assert_int_equal(s.cpus[1].id, 2);
	assert_int_equal(s.total.ticks[CPU_STEAL], 8);
	assert_int_equal(s.total.ticks[CPU_GUEST], 0); /* absent column */
	assert_int_equal(s.intr, 123456);
	assert_int_equal(s.ctxt, 987654);
	assert_int_equal(s.processes, 4242);
	assert_int_equal(s.procs_running, 3);
	assert_int_equal(s.procs_blocked, 1);
	assert_int_equal(s.btime, 1700000000);
	proc_stat_free(&s);
	free(text);
}

static void stat_bad_input(void **state)
{
	struct proc_stat s = {0};
	struct err e;
	char *t;
	expect_error(proc_stat_parse(t = fixture_text("proc/stat.truncated"), &s, &e), &e,
		     "expected at least 4");
	free(t);
	expect_error(proc_stat_parse(t = fixture_text("proc/stat.garbage"), &s, &e), &e,
		     "line 1: bad number '4x000");
	free(t);
	expect_error(proc_stat_parse(t = fixture_text("proc/stat.no_cpu"), &s, &e), &e,
		     "no 'cpu' summary line");
	free(t);
	expect_error(proc_stat_parse("cpu  1 2 3 4", &s, &e), &e, "truncated");
	expect_error(proc_stat_parse("", &s, &e), &e, "empty");
	expect_error(proc_stat_parse("cpu  1 2 3 4\ncpu1x 1 2 3 4\n", &s, &e), &e, "bad cpu name");
	expect_error(proc_stat_parse("cpu  1 2 3 4\nctxt abc\n", &s, &e), &e, "line 2: bad value");
	expect_error(proc_stat_parse("cpu  99999999999999999999 2 3 4\n", &s, &e), &e,
		     "bad number");
	proc_stat_free(&s);
}

static void cpu_delta_never_negative(void **state)
{
	struct cpu_times a = {.id = 0, .ticks = {100, 0, 50, 1000, 40}};
	struct cpu_times b = {.id = 0, .ticks = {150, 0, 60, 1090, 38}}; /* iowait went back */
	uint64_t ms[CPU_MODES];
	cpu_times_delta_ms(&a, &b, 100, ms);
	assert_int_equal(ms[CPU_USER], 500);
	assert_int_equal(ms[CPU_SYSTEM], 100);
	assert_int_equal(ms[CPU_IDLE], 900);
	assert_int_equal(ms[CPU_IOWAIT], 0);
	cpu_times_delta_ms(&a, &b, 250, ms);
	assert_int_equal(ms[CPU_USER], 200);
}

static void meminfo_current_kernel(void **state)
{
	char *text = fixture_text("proc/meminfo.6_18");
	struct meminfo m;
	struct err e;
	assert_int_equal(meminfo_parse(text, &m, &e), 0);
	assert_true(m.value[MEM_MemTotal] > 0);
	assert_true(m.present & (1u << MEM_MemAvailable));
	assert_true(m.present & (1u << MEM_Hugepagesize));
	assert_true(m.value[MEM_MemFree] <= m.value[MEM_MemTotal]);
	free(text);
}

static void meminfo_old_kernel_lacks_fields(void **state)
{
	struct meminfo m;
	struct err e;
	assert_int_equal(meminfo_parse("MemTotal: 1000 kB\nMemFree: 10 kB\n", &m, &e), 0);
	assert_int_equal(m.value[MEM_MemTotal], 1000);
	assert_false(m.present & (1u << MEM_MemAvailable));
}

static void meminfo_bad_input(void **state)
{
	struct meminfo m;
	struct err e;
	char *t;
	expect_error(meminfo_parse(t = fixture_text("proc/meminfo.truncated"), &m, &e), &e,
		     "truncated");
	free(t);
	expect_error(meminfo_parse(t = fixture_text("proc/meminfo.garbage"), &m, &e), &e,
		     "line 2: bad number 'abc kB' for MemFree");
	free(t);
	expect_error(meminfo_parse(t = fixture_text("proc/meminfo.no_total"), &m, &e), &e,
		     "no MemTotal");
	free(t);
	expect_error(meminfo_parse("MemTotal 5 kB\n", &m, &e), &e, "expected 'Key: value'");
}

static void loadavg_values(void **state)
{
	struct loadavg la;
	struct err e;
	char *t = fixture_text("proc/loadavg.basic");
	assert_int_equal(loadavg_parse(t, &la, &e), 0);
	assert_int_equal(la.load_x100[0], 52);
	assert_int_equal(la.load_x100[1], 58);
	assert_int_equal(la.load_x100[2], 59);
	assert_int_equal(la.runnable, 2);
	assert_int_equal(la.threads, 345);
	assert_int_equal(la.last_pid, 12345);
	free(t);
	assert_int_equal(loadavg_parse("123.45 0.5 10.00 1/2 3\n", &la, &e), 0);
	assert_int_equal(la.load_x100[0], 12345);
	assert_int_equal(la.load_x100[1], 50);
	assert_int_equal(la.load_x100[2], 1000);
}

static void loadavg_bad_input(void **state)
{
	struct loadavg la;
	struct err e;
	char *t;
	expect_error(loadavg_parse(t = fixture_text("proc/loadavg.truncated"), &la, &e), &e,
		     "bad load value 'end of line' (field 3)");
	free(t);
	expect_error(loadavg_parse("0.1 0.2 0.3 2-345 1\n", &la, &e), &e, "runnable/total");
	expect_error(loadavg_parse("x 0.2 0.3 2/345 1\n", &la, &e), &e, "field 1");
	expect_error(loadavg_parse("0.1 0.2 0.3 2/345 1", &la, &e), &e, "truncated");
}

static void durations(void **state)
{
	int64_t ms;
	struct err e;
	struct {
		const char *text;
		int64_t ms;
	} ok[] = {{"10", 10000},   {"10s", 10000},    {"500ms", 500},	  {"5m", 300000},
		  {"2h", 7200000}, {"3d", 259200000}, {"1h30m", 5400000}, {"1m30s", 90000}};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		assert_int_equal(parse_duration_ms(ok[i].text, &ms, &e), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	const char *bad[] = {"", "s", "10x", "-5", "1.5s", "10 s", "1h30"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (parse_duration_ms(bad[i], &ms, &e) == 0)
			fail_msg("'%s' parsed as a duration", bad[i]);
		assert_non_null(strstr(e.msg, "duration"));
	}
	/* At most 100000 years, however it is spelled; the term that passes
	 * it is named. Five terms just under the old per-term limit once
	 * overflowed the sum. */
	assert_int_equal(parse_duration_ms("99999y1y", &ms, &e), 0);
	assert_int_equal(ms, DURATION_MAX_MS);
	struct {
		const char *text, *term;
	} too_long[] = {{"99999y2y", "'2y'"},
			{"50000y50000y1ms", "'1ms'"},
			{"100001y", "'100001y'"},
			{"70000000y70000000y70000000y70000000y70000000y", "'70000000y'"},
			{"18446744073709551616s", "'18446744073709551616s'"},
			{"1h99999999999999999999999999m", "'99999999999999999999999999m'"},
			{"52560000001m", "'52560000001m'"},
			{"9223372036854775807", "'9223372036854775807'"}};
	for (size_t i = 0; i < ARRAY_LEN(too_long); i++) {
		expect_error(parse_duration_ms(too_long[i].text, &ms, &e), &e, too_long[i].term);
		assert_non_null(strstr(e.msg, "longer than 100000y"));
	}
}

static void counter_resets(void **state)
{
	assert_int_equal(counter_delta(10, 15), 5);
	assert_int_equal(counter_delta(1000, 7), 7); /* reset: what accumulated since */
	assert_int_equal(counter_delta(5, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stat_current_kernel),
	    cmocka_unit_test(stat_old_kernel_with_hotplug_gap),
	    cmocka_unit_test(stat_bad_input),
	    cmocka_unit_test(cpu_delta_never_negative),
	    cmocka_unit_test(meminfo_current_kernel),
	    cmocka_unit_test(meminfo_old_kernel_lacks_fields),
	    cmocka_unit_test(meminfo_bad_input),
	    cmocka_unit_test(loadavg_values),
	    cmocka_unit_test(loadavg_bad_input),
	    cmocka_unit_test(durations),
	    cmocka_unit_test(counter_resets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
