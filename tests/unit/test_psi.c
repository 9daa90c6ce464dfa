/* Pressure stall information: the /proc/pressure parser (kernel variants,
 * truncated and garbage input) and the psi collector's rows. */
#include "rig.h"

#include "collect/psi.h"

static void psi_parse_variants(void **state)
{
	struct psi p;
	struct err e;
	char *t = fixture_text("proc/pressure/io.6_18");
	assert_int_equal(psi_parse(t, "io", &p, &e), 0);
	assert_true(p.has_some && p.has_full);
	assert_int_equal(p.some.avg10_x100, 173);
	assert_int_equal(p.full.total_us, 27762867);
	free(t);
	t = fixture_text("proc/pressure/cpu.5_4");
	assert_int_equal(psi_parse(t, "cpu", &p, &e), 0);
	assert_true(p.has_some && !p.has_full);
	assert_int_equal(p.some.avg10_x100, 52);
	assert_int_equal(p.some.avg60_x100, 110);
	assert_int_equal(p.some.total_us, 123456);
	free(t);
	t = fixture_text("proc/pressure/irq.6_1");
	assert_int_equal(psi_parse(t, "irq", &p, &e), 0);
	assert_true(!p.has_some && p.has_full);
	assert_int_equal(p.full.total_us, 42);
	free(t);
}

static void psi_parse_bad(void **state)
{
	struct psi p;
	struct err e;
	char *t;
	expect_error(psi_parse(t = fixture_text("proc/pressure/cpu.garbage"), "cpu", &p, &e), &e,
		     "cpu line 1: expected total=<us>, got '12x3'");
	free(t);
	expect_error(psi_parse(t = fixture_text("proc/pressure/cpu.truncated"), "cpu", &p, &e), &e,
		     "truncated");
	free(t);
	expect_error(psi_parse(t = fixture_text("proc/pressure/cpu.one_decimal"), "cpu", &p, &e),
		     &e, "cpu line 1: expected avg10=<percent>");
	free(t);
	expect_error(psi_parse("bogus line\n", "io", &p, &e), &e,
		     "io line 1: expected 'some' or 'full', got 'bogus line'");
}

static void psi_collector_rows(void **state)
{
	struct rig r;
	rig_init(&r);
	put(r.proc, "pressure/cpu", "some avg10=1.00 avg60=0.00 avg300=0.00 total=1000\n");
	put(r.proc, "pressure/memory",
	    "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\n"
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
	rig_open(&r, &collector_psi, NULL);
	put(r.proc, "pressure/cpu", "some avg10=2.50 avg60=0.00 avg300=0.00 total=501000\n");
	put(r.proc, "pressure/memory",
	    "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\n"
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT some_stall_ms FROM pressure WHERE resource='cpu'"), 500);
	assert_int_equal(q(&r, "SELECT some_avg10_pct * 100 FROM pressure WHERE resource='cpu'"),
			 250);
	assert_int_equal(q(&r, "SELECT full_avg10_pct IS NULL FROM pressure WHERE resource='cpu'"),
			 1);
	assert_int_equal(q(&r, "SELECT some_stall_pct * 100 FROM pressure WHERE resource='cpu'"),
			 500);
	assert_int_equal(q(&r, "SELECT count(*) FROM pressure"), 2); /* no io, no irq */
	rig_free(&r);
}

static void psi_absent_turns_off(void **state)
{
	struct rig r;
	rig_init(&r);
	rig_open(&r, &collector_psi, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM pressure"), 0);
	rig_free(&r);
}

static int fz_psi(char *t, size_t n, struct err *e)
{
	struct psi p;
	return psi_parse(t, "psi", &p, e);
}

static void psi_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_psi, "proc/pressure/io.6_18");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(psi_parse_variants),
	    cmocka_unit_test(psi_parse_bad),
	    cmocka_unit_test(psi_collector_rows),
	    cmocka_unit_test(psi_absent_turns_off),
	    cmocka_unit_test(psi_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
