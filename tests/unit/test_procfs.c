/* The per-process parsers on fixture text: real kernel output, kernel
 * threads, comms with spaces and parentheses, cut and garbage input. */
#include "testutil.h"

#include "proc/procfs.h"

static void stat_fields(void **state)
{
	struct pid_stat s;
	struct err e;
	char *t = fixture_text("proc/pid/stat.weird_comm");
	assert_int_equal(pid_stat_parse(t, &s, &e), 0);
	assert_string_equal(s.comm, "my (weird) ) comm");
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.ppid, 1);
	assert_int_equal(s.minflt, 1500);
	assert_int_equal(s.majflt, 7);
	assert_int_equal(s.utime, 250);
	assert_int_equal(s.stime, 125);
	assert_int_equal(s.cutime, 30);
	assert_int_equal(s.cstime, 20);
	assert_int_equal(s.num_threads, 4);
	assert_int_equal(s.starttime, 123456);
	assert_int_equal(s.vsize, 10485760);
	assert_int_equal(s.rss_pages, 2560);
	free(t);
	t = fixture_text("proc/pid/stat.kthread");
	assert_int_equal(pid_stat_parse(t, &s, &e), 0);
	assert_string_equal(s.comm, "kthreadd");
	assert_true(s.flags & PROC_PF_KTHREAD);
	assert_int_equal(s.ppid, 0);
	assert_int_equal(s.vsize, 0);
	free(t);
	t = fixture_text("proc/pid/stat.6_18");
	assert_int_equal(pid_stat_parse(t, &s, &e), 0);
	assert_string_equal(s.comm, "cat");
	assert_false(s.flags & PROC_PF_KTHREAD);
	assert_int_equal(s.starttime, 76120);
	free(t);
}

static void stat_long_comm_is_cut(void **state)
{
	struct pid_stat s;
	struct err e;
	char text[512];
	snprintf(text, sizeof(text), "7 (%0100d) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 0\n",
		 0);
	assert_int_equal(pid_stat_parse(text, &s, &e), 0);
	assert_int_equal(strlen(s.comm), PROC_COMM_MAX - 1);
	assert_int_equal(s.starttime, 5);
}

static void stat_bad_input(void **state)
{
	struct pid_stat s;
	struct err e;
	char *t;
	expect_error(pid_stat_parse(t = fixture_text("proc/pid/stat.truncated"), &s, &e), &e,
		     "truncated");
	free(t);
	expect_error(pid_stat_parse(t = fixture_text("proc/pid/stat.garbage"), &s, &e), &e,
		     "field 10: bad number '15x00'");
	free(t);
	expect_error(pid_stat_parse(t = fixture_text("proc/pid/stat.no_comm"), &s, &e), &e,
		     "no '(comm)'");
	free(t);
	expect_error(pid_stat_parse("1 (x) S 1 2 3\n", &s, &e), &e, "field 7");
	expect_error(pid_stat_parse("1 (x)\n", &s, &e), &e, "nothing after comm");
	expect_error(pid_stat_parse("", &s, &e), &e, "empty");
}

static void status_fields(void **state)
{
	struct pid_status s;
	struct err e;
	char *t = fixture_text("proc/pid/status.6_18");
	assert_int_equal(pid_status_parse(t, &s, &e), 0);
	assert_int_equal(s.ruid, 1000);
	assert_int_equal(s.euid, 1001);
	assert_int_equal(s.swap_kb, 1234);
	assert_int_equal(s.voluntary_ctxsw, 17);
	assert_int_equal(s.nonvoluntary_ctxsw, 3);
	free(t);
	t = fixture_text("proc/pid/status.kthread"); /* no VmSwap line */
	assert_int_equal(pid_status_parse(t, &s, &e), 0);
	assert_int_equal(s.swap_kb, 0);
	assert_int_equal(s.voluntary_ctxsw, 60);
	free(t);
	expect_error(pid_status_parse(t = fixture_text("proc/pid/status.truncated"), &s, &e), &e,
		     "missing voluntary_ctxt_switches");
	free(t);
	expect_error(pid_status_parse("Uid:\tx\n", &s, &e), &e, "Uid: bad id 'x'");
	expect_error(pid_status_parse("Uid:\t1 1 1 1\nvoluntary_ctxt_switches:\t-1\n", &s, &e), &e,
		     "voluntary_ctxt_switches: bad number");
	expect_error(pid_status_parse("Uid:\t1 1 1 1\nvoluntary_ctxt_switches:\t1", &s, &e), &e,
		     "truncated");
}

static void io_limits_schedstat(void **state)
{
	struct err e;
	struct pid_io io;
	char *t = fixture_text("proc/pid/io.6_18");
	assert_int_equal(pid_io_parse(t, &io, &e), 0);
	assert_int_equal(io.read_bytes, 8192);
	assert_int_equal(io.write_bytes, 4096);
	free(t);
	expect_error(pid_io_parse(t = fixture_text("proc/pid/io.garbage"), &io, &e), &e,
		     "read_bytes: bad number 'zz'");
	free(t);
	expect_error(pid_io_parse(t = fixture_text("proc/pid/io.no_bytes"), &io, &e), &e,
		     "missing read_bytes");
	free(t);

	uint64_t soft;
	assert_int_equal(pid_limits_nofile(t = fixture_text("proc/pid/limits.6_18"), &soft, &e), 0);
	assert_int_equal(soft, 20000);
	free(t);
	assert_int_equal(
	    pid_limits_nofile(t = fixture_text("proc/pid/limits.unlimited"), &soft, &e), 0);
	assert_true(soft == UINT64_MAX);
	free(t);
	expect_error(pid_limits_nofile(t = fixture_text("proc/pid/limits.no_nofile"), &soft, &e),
		     &e, "no 'Max open files'");
	free(t);

	struct pid_schedstat ss;
	assert_int_equal(pid_schedstat_parse(t = fixture_text("proc/pid/schedstat.6_18"), &ss, &e),
			 0);
	assert_int_equal(ss.run_ns, 418213);
	assert_int_equal(ss.timeslices, 1);
	free(t);
	expect_error(pid_schedstat_parse(t = fixture_text("proc/pid/schedstat.garbage"), &ss, &e),
		     &e, "schedstat: bad number 'x'");
	free(t);
	expect_error(pid_schedstat_parse("1 2 3", &ss, &e), &e, "truncated");

	uint64_t pss;
	assert_int_equal(pid_smaps_pss(t = fixture_text("proc/pid/smaps_rollup.6_18"), &pss, &e),
			 0);
	assert_int_equal(pss, 231);
	free(t);
	expect_error(pid_smaps_pss(t = fixture_text("proc/pid/smaps_rollup.truncated"), &pss, &e),
		     &e, "truncated");
	free(t);
	expect_error(pid_smaps_pss("Rss: 1 kB\n", &pss, &e), &e, "no 'Pss:'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stat_fields),	   cmocka_unit_test(stat_long_comm_is_cut),
	    cmocka_unit_test(stat_bad_input),	   cmocka_unit_test(status_fields),
	    cmocka_unit_test(io_limits_schedstat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
