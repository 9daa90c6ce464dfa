/* /proc/diskstats and /sys/block: the disk collector's parser (kernel
 * variants, truncated and garbage input) and its rows from a fixture tree. */
#include "rig.h"

#include "collect/disk.h"

static void disk_parse_variants(void **state)
{
	struct diskstats d = {0};
	struct err e;
	char *t = fixture_text("proc/diskstats.6_18");
	assert_int_equal(diskstats_parse(t, &d, &e), 0);
	assert_true(d.n >= 2);
	for (size_t i = 0; i < d.n; i++)
		assert_int_equal(d.devs[i].nfields, 17);
	free(t);
	t = fixture_text("proc/diskstats.4_19");
	assert_int_equal(diskstats_parse(t, &d, &e), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.devs[0].nfields, 15);
	assert_int_equal(d.devs[0].v[DISK_DISCARD_SECTORS], 64);
	assert_int_equal(d.devs[0].v[DISK_IN_FLIGHT], 3);
	free(t);
	t = fixture_text("proc/diskstats.4_9");
	assert_int_equal(diskstats_parse(t, &d, &e), 0);
	assert_string_equal(d.devs[0].name, "cciss/c0d0");
	assert_int_equal(d.devs[0].major, 104);
	assert_int_equal(d.devs[0].nfields, 11);
	assert_int_equal(d.devs[2].nfields, 4);
	assert_int_equal(d.devs[2].v[DISK_WRITE_SECTORS], 48);
	free(t);
	diskstats_free(&d);
}

static void disk_parse_bad(void **state)
{
	struct diskstats d = {0};
	struct err e;
	char *t;
	expect_error(diskstats_parse(t = fixture_text("proc/diskstats.short"), &d, &e), &e,
		     "line 1 (sda): 10 values, expected 11, 15 or 17");
	free(t);
	expect_error(diskstats_parse(t = fixture_text("proc/diskstats.garbage"), &d, &e), &e,
		     "line 1 (sda): value 11: bad number '14x00'");
	free(t);
	expect_error(diskstats_parse("   8 0 sda 1 2 3", &d, &e), &e, "truncated");
	expect_error(diskstats_parse("x 0 sda 1\n", &d, &e), &e, "line 1: bad major/minor 'x 0");
	expect_error(diskstats_parse("8 0\n", &d, &e), &e, "line 1: no device name");
	expect_error(
	    diskstats_parse("8 0 a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n", &d, &e), &e,
	    "more than 17");
	diskstats_free(&d);
}

static void disk_collector_rows(void **state)
{
	struct rig r;
	struct disk_options opt = {0};
	rig_init(&r);
	put(r.proc, "diskstats",
	    "   8 0 sda 10 0 100 5 10 0 100 5 0 10 10 0 0 0 0 0 0\n"
	    "   8 1 sda1 10 0 100 5 10 0 100 5 0 10 10 0 0 0 0 0 0\n"
	    "   7 0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.sys, "block/sda/sda1/partition", "1\n");
	rig_open(&r, &collector_disk, &opt);
	put(r.proc, "diskstats",
	    "   8 0 sda 20 1 300 9 30 2 500 25 2 5010 9000 1 0 8 1 4 2\n"
	    "   8 1 sda1 20 0 300 9 10 0 100 5 0 10 10 0 0 0 0 0 0\n"
	    "   7 0 loop0 9 0 800 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT read_bytes FROM disk_io WHERE disk='sda'"), 200 * 512);
	assert_int_equal(q(&r, "SELECT write_bytes FROM disk_io WHERE disk='sda'"), 400 * 512);
	assert_int_equal(q(&r, "SELECT in_flight_count FROM disk_io WHERE disk='sda'"), 2);
	assert_int_equal(q(&r, "SELECT util_pct FROM disk_io WHERE disk='sda'"), 50);
	assert_int_equal(q(&r, "SELECT avg_wait_ms * 1000 FROM disk_io WHERE disk='sda'"), 800);
	assert_int_equal(q(&r, "SELECT flushes_count FROM disk WHERE disk_id="
			       "(SELECT id FROM disk_device WHERE name='sda')"),
			 4);
	assert_int_equal(q(&r, "SELECT whole_disk FROM disk_device WHERE name='sda'"), 1);
	assert_int_equal(q(&r, "SELECT whole_disk FROM disk_device WHERE name='sda1'"), 0);
	assert_int_equal(q(&r, "SELECT count(*) FROM disk_device WHERE name='loop0'"), 0);
	/* The disk was replaced (counters start over) and a 4.19 kernel's
	 * lines have no flush fields: those are NULL, not zero. */
	put(r.proc, "diskstats", "   8 0 sda 3 0 16 1 0 0 0 0 0 1 1 0 0 0 0\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT read_bytes FROM disk_io WHERE disk='sda' ORDER BY ts DESC"),
			 16 * 512);
	assert_int_equal(q(&r, "SELECT count(*) FROM disk WHERE flushes_count IS NULL"), 1);
	assert_int_equal(q(&r, "SELECT min(read_bytes) >= 0 FROM disk"), 1);
	rig_free(&r);
}

static void disk_collector_loop_when_configured(void **state)
{
	struct rig r;
	struct disk_options opt = {.include_loop = 1};
	rig_init(&r);
	put(r.proc, "diskstats", "   7 0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.sys, "block/loop0/size", "0\n");
	rig_open(&r, &collector_disk, &opt);
	put(r.proc, "diskstats", "   7 0 loop0 9 0 800 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT read_bytes FROM disk_io WHERE disk='loop0'"), 792 * 512);
	rig_free(&r);
}

static int fz_disk(char *t, size_t n, struct err *e)
{
	static struct diskstats d;
	int rc = diskstats_parse(t, &d, e);
	diskstats_free(&d);
	return rc;
}

static void disk_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_disk, "proc/diskstats.6_18");
	parser_survives_cuts_and_garbage(fz_disk, "proc/diskstats.4_9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(disk_parse_variants),
	    cmocka_unit_test(disk_parse_bad),
	    cmocka_unit_test(disk_collector_rows),
	    cmocka_unit_test(disk_collector_loop_when_configured),
	    cmocka_unit_test(disk_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
