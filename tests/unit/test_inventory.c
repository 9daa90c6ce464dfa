/* Host inventory: the cpuinfo parser, the change set diff, and the
 * inventory collector's history of changes from a fixture tree. */
#include "rig.h"

#include "collect/inventory.h"

static void inventory_cpuinfo(void **state)
{
	struct cpuinfo ci;
	struct err e;
	char *t = fixture_text("proc/cpuinfo.2socket");
	assert_int_equal(cpuinfo_parse(t, &ci, &e), 0);
	assert_string_equal(ci.model, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
	assert_int_equal(ci.threads, 4);
	assert_int_equal(ci.sockets, 2);
	assert_int_equal(ci.cores, 3);
	assert_string_equal(ci.flags, "fpu vme ht");
	free(t);
	t = fixture_text("proc/cpuinfo.arm64");
	assert_int_equal(cpuinfo_parse(t, &ci, &e), 0);
	assert_int_equal(ci.threads, 2);
	assert_int_equal(ci.sockets, 0);
	assert_string_equal(ci.model, "");
	assert_true(strncmp(ci.flags, "fp asimd", 8) == 0);
	free(t);
	t = fixture_text("proc/cpuinfo.6_18");
	assert_int_equal(cpuinfo_parse(t, &ci, &e), 0);
	assert_true(ci.threads >= 1 && ci.model[0]);
	free(t);
	expect_error(cpuinfo_parse(t = fixture_text("proc/cpuinfo.garbage"), &ci, &e), &e,
		     "line 2: bad physical id 'x1'");
	free(t);
	expect_error(cpuinfo_parse(t = fixture_text("proc/cpuinfo.no_processor"), &ci, &e), &e,
		     "no 'processor' lines");
	free(t);
	expect_error(cpuinfo_parse("processor : 0", &ci, &e), &e, "truncated");
}

static void inventory_diff(void **state)
{
	struct inv_set a = {0}, b = {0}, d = {0};
	assert_int_equal(inv_set_put(&a, "x", "host.hostname"), 0);
	assert_int_equal(inv_set_put(&a, "1", "disk.%s.rotational", "sda"), 0);
	assert_int_equal(inv_set_put(&b, "y", "host.hostname"), 0);
	assert_int_equal(inv_set_put(&b, "6.1", "kernel.release"), 0);
	assert_int_equal(inv_set_diff(&a, &b, &d), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.items[0].key, "disk.sda.rotational");
	assert_null(d.items[0].value); /* gone */
	assert_string_equal(d.items[1].value, "y");
	assert_string_equal(d.items[2].value, "6.1");
	assert_int_equal(inv_set_diff(&b, &b, &d), 0);
	assert_int_equal(d.n, 0);
	inv_set_free(&a);
	inv_set_free(&b);
	inv_set_free(&d);
}

static void inventory_collector_history(void **state)
{
	struct rig r;
	rig_init(&r);
	put(r.proc, "sys/kernel/hostname", "web1\n");
	put(r.proc, "sys/kernel/osrelease", "6.18.0\n");
	put(r.proc, "sys/kernel/random/boot_id", "b1\n");
	put(r.proc, "stat", "cpu  1 2 3 4\nbtime 1700000000\n");
	put(r.proc, "meminfo", "MemTotal:       24683656 kB\n");
	char *ci = fixture_text("proc/cpuinfo.2socket");
	put(r.proc, "cpuinfo", ci);
	free(ci);
	put(r.sys, "devices/system/node/node0/meminfo", "Node 0 MemTotal:        5465888 kB\n");
	put(r.sys, "block/sda/size", "2048\n");
	put(r.sys, "block/sda/queue/rotational", "0\n");
	put(r.sys, "block/sda/device/model", "Fast SSD\n");
	put(r.sys, "block/loop0/size", "2048\n");
	rig_open(&r, &collector_inventory, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT value FROM host_inventory WHERE key='cpu.sockets'"), 2);
	assert_int_equal(q(&r, "SELECT value FROM host_inventory WHERE key='disk.sda.size_bytes'"),
			 2048 * 512);
	assert_int_equal(q(&r, "SELECT value FROM host_inventory WHERE key='boot.time'"),
			 1700000000);
	assert_int_equal(q(&r, "SELECT value FROM host_inventory WHERE key='numa.node0.memory_kb'"),
			 5465888);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory WHERE key LIKE 'disk.loop0%'"), 0);
	int64_t rows = q(&r, "SELECT count(*) FROM inventory");
	/* No change: nothing written, even after a restart. */
	rig_tick(&r);
	rig_close(&r);
	put(r.proc, "stat", "cpu  1 2 3 4\nbtime 1700000001\n"); /* btime wobble */
	rig_open(&r, &collector_inventory, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory"), rows);
	/* The host was renamed and its disk removed. */
	rig_close(&r);
	put(r.proc, "sys/kernel/hostname", "web2\n");
	char path[1200];
	snprintf(path, sizeof(path), "%s/block/sda/size", r.sys);
	unlink(path);
	rig_open(&r, &collector_inventory, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory"), rows + 4);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory_changes WHERE key='host.hostname' "
			       "AND old_value='web1' AND new_value='web2'"),
			 1);
	assert_int_equal(q(&r, "SELECT count(*) FROM host_inventory WHERE key LIKE 'disk.sda%'"),
			 0);
	rig_free(&r);
}

static int fz_cpuinfo(char *t, size_t n, struct err *e)
{
	struct cpuinfo ci;
	return cpuinfo_parse(t, &ci, e);
}

static void inventory_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_cpuinfo, "proc/cpuinfo.2socket");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inventory_cpuinfo),
	    cmocka_unit_test(inventory_diff),
	    cmocka_unit_test(inventory_collector_history),
	    cmocka_unit_test(inventory_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
