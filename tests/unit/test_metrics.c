/* The naming table and the series built from it: loading and checking the
 * table, rows fed through the SQLite tap, commit and rollback, the
 * exposition text, numbers, content negotiation and the request head. */
#include "testutil.h"

#include <math.h>

#include "metrics/metrics.h"
#include "store/store.h"

static char *dir;
static struct store st;
static struct metric_map map;
static struct metric_set *set;

static void sql(const char *text)
{
	struct err e;
	if (store_exec(&st, text, &e))
		fail_msg("%s", e.msg);
}

/* A migrated database, its naming table loaded and a set tapping it. */
static int setup(void **state)
{
	struct err e;
	char path[4200];
	dir = temp_dir();
	snprintf(path, sizeof(path), "%s/h.db", dir);
	assert_int_equal(store_open(&st, path, 0, &e), 0);
	assert_int_equal(store_migrate(&st, &e), 0);
	if (metric_map_load(&map, st.db, &e))
		fail_msg("%s", e.msg);
	assert_non_null(set = metric_set_new(&map));
	assert_int_equal(metric_set_load(set, st.db, &e), 0);
	metric_set_tap(set, st.db);
	return 0;
}

static int teardown(void **state)
{
	metric_set_tap(NULL, st.db);
	metric_set_free(set);
	metric_map_free(&map);
	store_close(&st);
	rm_rf(dir);
	free(dir);
	return 0;
}

/* One tick: the SQL in a transaction, then the set's commit. */
static void tick(const char *text)
{
	sql("BEGIN");
	sql(text);
	sql("COMMIT");
	metric_set_commit(set);
}

static double value(const char *family, const char *labels)
{
	double v;
	if (metric_set_value(set, family, labels, &v))
		fail_msg("no sample %s{%s}", family, labels);
	return v;
}

static int has(const char *family, const char *labels)
{
	double v;
	return metric_set_value(set, family, labels, &v) == 0;
}

static void shipped_table_loads(void **state)
{
	assert_true(map.nfamilies > 150);
	int f = metric_map_family(&map, "node_cpu_seconds_total");
	assert_true(f >= 0);
	assert_int_equal(map.families[f].type, METRIC_COUNTER);
	assert_int_equal(map.families[f].sums, 1);
	assert_string_equal(map.families[f].unit, "seconds");
	f = metric_map_family(&map, "node_netstat_Tcp_CurrEstab");
	assert_int_equal(map.families[f].type, METRIC_UNTYPED);
	assert_int_equal(map.families[f].sums, 0);
	assert_true(metric_map_family(&map, "namedprocess_namegroup_cpu_seconds_total") >= 0);
	int t = metric_map_table(&map, "boot");
	assert_true(t >= 0 && map.tables[t].state);
	assert_false(map.tables[metric_map_table(&map, "cpu")].state);
	/* families are sorted: the renderer's order and the binary search */
	for (size_t i = 1; i < map.nfamilies; i++)
		assert_true(strcmp(map.families[i - 1].name, map.families[i].name) < 0);
}

/* Counters add the tick's deltas, scaled exactly; the all-CPU line (-1)
 * has no series, as in node_exporter. */
static void counters_sum_and_filter(void **state)
{
	tick("INSERT INTO cpu VALUES (10, -1, 1000, 50, 0, 20, 900, 0, 0, 0, 0, 0, 0);"
	     "INSERT INTO cpu VALUES (10, 0, 1000, 30, 0, 10, 450, 10, 0, 0, 0, 0, 0)");
	tick("INSERT INTO cpu VALUES (11, 0, 1000, 70, 0, 10, 450, 10, 0, 0, 0, 0, 0)");
	assert_true(fabs(value("node_cpu_seconds_total", "cpu=\"0\",mode=\"user\"") - 0.1) < 1e-12);
	assert_true(fabs(value("node_cpu_seconds_total", "cpu=\"0\",mode=\"idle\"") - 0.9) < 1e-12);
	assert_false(has("node_cpu_seconds_total", "cpu=\"-1\",mode=\"user\""));
	struct expo_out o = {0};
	expo_render(&o, set, EXPO_TEXT);
	assert_non_null(strstr(o.data, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 0.1\n"));
	assert_non_null(strstr(o.data, "# TYPE node_cpu_seconds_total counter\n"));
	expo_out_free(&o);
}

/* A rolled-back tick leaves no trace; its deltas come with the next one. */
static void rollback_discards(void **state)
{
	tick("INSERT INTO kernel_activity VALUES (10, 1000, 100, 5, 2, 3, 0)");
	sql("BEGIN");
	sql("INSERT INTO kernel_activity VALUES (11, 1000, 100, 5, 2, 9, 1)");
	sql("ROLLBACK");
	metric_set_discard(set);
	assert_true(value("node_context_switches_total", "") == 100);
	assert_true(value("node_procs_running", "") == 3);
	tick("INSERT INTO kernel_activity VALUES (12, 2000, 250, 5, 2, 4, 0)");
	assert_true(value("node_context_switches_total", "") == 350);
	assert_true(value("node_procs_running", "") == 4);
}

/* Labels come from dimension rows, including ones inserted in the same
 * tick and ones updated later (a new series then). */
static void dimension_labels(void **state)
{
	tick("INSERT INTO net_interface(id, name) VALUES (1, 'eth0');"
	     "INSERT INTO net VALUES (10, 1, 1000, 1500, 2, 0,0,0,0,0,0, 700, 1, 0,0,0,0,0,0)");
	assert_true(value("node_network_receive_bytes_total", "device=\"eth0\"") == 1500);
	assert_true(value("node_network_transmit_packets_total", "device=\"eth0\"") == 1);
	tick("INSERT INTO filesystem_mount(id, name, fstype, source) VALUES (3, '/', 'ext4', "
	     "'/dev/vda');"
	     "INSERT INTO filesystem VALUES (10, 3, 100, 40, 30, 1000, 900)");
	assert_true(value("node_filesystem_avail_bytes",
			  "device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"") == 30 * 1024);
	tick("UPDATE filesystem_mount SET fstype = 'xfs' WHERE id = 3;"
	     "INSERT INTO filesystem VALUES (11, 3, 100, 40, 20, 1000, 900)");
	assert_true(value("node_filesystem_avail_bytes",
			  "device=\"/dev/vda\",fstype=\"xfs\",mountpoint=\"/\"") == 20 * 1024);
}

/* A device this run named but that had nothing to count shows counters at
 * 0, as node_exporter lists an idle interface; one named only by rows of
 * an earlier run does not. */
static void idle_devices(void **state)
{
	struct err e;
	sql("INSERT INTO net_interface(id, name) VALUES (5, 'old0')");
	metric_set_free(set);
	assert_non_null(set = metric_set_new(&map));
	assert_int_equal(metric_set_load(set, st.db, &e), 0);
	metric_set_tap(set, st.db);
	tick("INSERT INTO net_interface(id, name) VALUES (1, 'eth1');"
	     "INSERT INTO net_link VALUES (10, 1, 1500, NULL, 'down', 0)");
	assert_true(value("node_network_receive_bytes_total", "device=\"eth1\"") == 0);
	assert_true(value("node_network_transmit_carrier_total", "device=\"eth1\"") == 0);
	assert_false(has("node_network_receive_bytes_total", "device=\"old0\""));
	tick("INSERT INTO disk_device(id, name, whole_disk) VALUES (1, 'vdb', 1), (2, 'vdb1', 0)");
	assert_true(value("node_disk_reads_completed_total", "device=\"vdb\"") == 0);
	assert_false(has("node_disk_io_now", "device=\"vdb\""));
	assert_false(has("node_disk_reads_completed_total", "device=\"vdb1\""));
	tick("INSERT INTO net VALUES (11, 1, 1000, 10, 1, 0,0,0,0,0,0, 0, 0, 0,0,0,0,0,0)");
	assert_true(value("node_network_receive_bytes_total", "device=\"eth1\"") == 10);
}

/* A filter on a dimension's column: whole disks only. */
static void dimension_filter(void **state)
{
	tick("INSERT INTO disk_device(id, name, whole_disk) VALUES (1, 'vda', 1), (2, 'vda1', 0);"
	     "INSERT INTO disk(ts, disk_id, dur_ms, reads_count, reads_merged_count, read_bytes, "
	     "read_ms, writes_count, writes_merged_count, write_bytes, write_ms, in_flight_count, "
	     "io_ms, weighted_io_ms, discard_bytes) VALUES "
	     "(10, 1, 1000, 4, 0, 4096, 56608, 0, 0, 0, 0, 2, 0, 0, 1024),"
	     "(10, 2, 1000, 4, 0, 4096, 3, 0, 0, 0, 0, 0, 0, 0, NULL)");
	assert_true(value("node_disk_reads_completed_total", "device=\"vda\"") == 4);
	assert_true(value("node_disk_discarded_sectors_total", "device=\"vda\"") == 2);
	assert_false(has("node_disk_reads_completed_total", "device=\"vda1\""));
	assert_true(value("node_disk_io_now", "device=\"vda\"") == 2);
	/* the exact decimal, not 56.608000000000004 */
	struct expo_out o = {0};
	expo_render(&o, set, EXPO_TEXT);
	assert_non_null(
	    strstr(o.data, "node_disk_read_time_seconds_total{device=\"vda\"} 56.608\n"));
	expo_out_free(&o);
}

/* Row filters pick the resource; NULL values give no sample. */
static void row_filters_and_nulls(void **state)
{
	tick("INSERT INTO psi VALUES (10, 0, 1000, 0, NULL, 250000, NULL),"
	     "(10, 2, 1000, 0, 0, 1000, 500)");
	assert_true(fabs(value("node_pressure_cpu_waiting_seconds_total", "") - 0.25) < 1e-12);
	assert_false(has("node_pressure_cpu_stalled_seconds_total", ""));
	assert_true(fabs(value("node_pressure_io_stalled_seconds_total", "") - 0.0005) < 1e-12);
}

/* Info labels from text rows; '*' counts rows; the state tables replay. */
static void info_and_state(void **state)
{
	tick("INSERT INTO inventory VALUES (10, 'host.hostname', 'web1'),"
	     "(10, 'kernel.release', '6.1.0'), (10, 'cpu.model', 'x')");
	assert_true(value("node_uname_info", "nodename=\"web1\",release=\"6.1.0\"") == 1);
	tick("INSERT INTO inventory VALUES (11, 'host.hostname', 'web2')");
	assert_true(value("node_uname_info", "nodename=\"web2\",release=\"6.1.0\"") == 1);
	tick("INSERT INTO agent(ts, dur_ms, tick_wall_us, tick_cpu_us, last_commit_us, rss_kb, "
	     "rows_count, vanished_count, permission_errors_count, read_errors_count, "
	     "parse_errors_count, commit_failures_count, clock_held_s, clock_step_s) VALUES "
	     "(10, 1000, 500, 400, 100, 8000, 50, 0, 0, 0, 0, 0, 0, 0),"
	     "(11, 1000, 500, 400, 100, 8100, 50, 0, 0, 0, 0, 0, 0, 7)");
	assert_true(value("hindsight_ticks_total", "") == 2);
	assert_true(value("hindsight_clock_steps_total", "") == 1);
	assert_true(value("hindsight_resident_memory_bytes", "") == 8100 * 1024);
	assert_true(value("node_time_seconds", "") == 11);
	tick("INSERT INTO net_interface(id, name) VALUES (1, 'eth0');"
	     "INSERT INTO net_link VALUES (10, 1, 1500, 1000, 'up', 1)");
	assert_true(value("node_network_up", "device=\"eth0\"") == 1);
	assert_true(value("node_network_speed_bytes", "device=\"eth0\"") == 125000000);
	tick("INSERT INTO net_link VALUES (20, 1, 1500, NULL, 'down', 0)");
	assert_true(value("node_network_up", "device=\"eth0\"") == 0);

	/* a new set over the same database starts from the stored state */
	struct err e;
	struct metric_set *again = metric_set_new(&map);
	assert_int_equal(metric_set_load(again, st.db, &e), 0);
	double v;
	assert_int_equal(metric_set_value(again, "node_network_up", "device=\"eth0\"", &v), 0);
	assert_true(v == 0);
	assert_int_equal(
	    metric_set_value(again, "node_uname_info", "nodename=\"web2\",release=\"6.1.0\"", &v),
	    0);
	assert_int_equal(metric_set_value(again, "hindsight_ticks_total", "", &v), -1);
	metric_set_free(again);
}

/* Group rows carry process-exporter's labels. */
static void process_groups(void **state)
{
	tick("INSERT INTO proc_group(id, name) VALUES (7, 'nginx');"
	     "INSERT INTO group_sample VALUES (10, 7, 1000, 3, 5, 120, 30, 0, 0, 4096, 0, 10, 1, "
	     "2, 3, 2048, 4096, 0, 0, 12, 2500, 1700000000, 1, 2, 0, 0, 0)");
	assert_true(value("namedprocess_namegroup_num_procs", "groupname=\"nginx\"") == 3);
	assert_true(fabs(value("namedprocess_namegroup_cpu_seconds_total",
			       "groupname=\"nginx\",mode=\"user\"") -
			 0.12) < 1e-12);
	assert_true(value("namedprocess_namegroup_memory_bytes",
			  "groupname=\"nginx\",memtype=\"resident\"") == 2048 * 1024);
	assert_false(has("namedprocess_namegroup_memory_bytes",
			 "groupname=\"nginx\",memtype=\"proportionalResident\""));
	assert_true(fabs(value("namedprocess_namegroup_worst_fd_ratio", "groupname=\"nginx\"") -
			 0.25) < 1e-12);
	assert_true(
	    value("namedprocess_namegroup_states", "groupname=\"nginx\",state=\"Sleeping\"") == 2);
	assert_true(value("namedprocess_namegroup_context_switches_total",
			  "ctxswitchtype=\"voluntary\",groupname=\"nginx\"") == 2);
}

/* A cgroup row, as the collector writes it. */
static void add_cgroup(int id, const char *path, const char *container)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "INSERT INTO cgroup(id, inode, path, kind, name, container_name, first_seen_ts) "
		 "VALUES (%d, %d, '%s', 'container', '%s', '%s', 10)",
		 id, 1000 + id, path, container, container);
	sql(text);
}

static void cgroup_cpu(int ts, int id, int usage_us)
{
	char text[256];
	snprintf(text, sizeof(text),
		 "INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us, tasks_count) "
		 "VALUES (%d, %d, 1000, %d, 3)",
		 ts, id, usage_us);
	sql(text);
}

static int rendered(const char *needle)
{
	struct expo_out o = {0};
	expo_render(&o, set, EXPO_TEXT);
	assert_false(o.failed);
	int found = o.data && strstr(o.data, needle) != NULL;
	expo_out_free(&o);
	return found;
}

/* A cgroup found gone takes its series with it, at the commit of the tick
 * that marked it (not at a rollback); an idle one that still exists keeps
 * its series though it writes no row; a series another cgroup also gives
 * (a service restarted under the same path) stays until that one goes. */
static void gone_cgroup_series_leave(void **state)
{
	sql("BEGIN");
	add_cgroup(1, "/docker/a", "web");
	add_cgroup(2, "/docker/b", "db");
	cgroup_cpu(10, 1, 500000);
	cgroup_cpu(10, 2, 250000);
	sql("INSERT INTO cgroup_io_stat(ts, cgroup_id, major, minor, dur_ms, read_bytes) "
	    "VALUES (10, 1, 8, 0, 1000, 4096)");
	sql("COMMIT");
	metric_set_commit(set);
	size_t base = metric_set_series_count(set);
	tick(
	    "INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) VALUES (11, 1, 1000, 1)");
	const char *a = "container_cpu_usage_seconds_total{cpu=\"total\",id=\"/docker/a\","
			"image=\"\",name=\"web\"} 0.500001\n";
	const char *b = "container_cpu_usage_seconds_total{cpu=\"total\",id=\"/docker/b\","
			"image=\"\",name=\"db\"} 0.25\n";
	assert_true(rendered(a));
	assert_true(rendered(b));
	assert_true(rendered("container_fs_reads_bytes_total{"));

	sql("BEGIN");
	sql("UPDATE cgroup SET gone_ts = 12 WHERE id = 1");
	sql("ROLLBACK");
	metric_set_discard(set);
	metric_set_commit(set);
	assert_true(rendered(a));

	uint64_t gen = metric_set_generation(set);
	tick("UPDATE cgroup SET gone_ts = 12 WHERE id = 1 AND gone_ts IS NULL");
	assert_true(metric_set_generation(set) > gen); /* a renderer's cache sees it */
	assert_false(rendered("id=\"/docker/a\""));
	assert_false(rendered("container_fs_reads_bytes_total{"));
	assert_true(rendered(b)); /* idle since tick 10, still there */
	assert_true(value("container_threads", "id=\"/docker/b\",image=\"\",name=\"db\"") == 3);
	assert_true(metric_set_series_count(set) < base);

	/* /docker/b restarted: a new row under the same path shares its series */
	sql("BEGIN");
	add_cgroup(3, "/docker/b", "db");
	cgroup_cpu(13, 3, 1000000);
	sql("UPDATE cgroup SET gone_ts = 13 WHERE id = 2");
	sql("COMMIT");
	metric_set_commit(set);
	assert_true(fabs(value("container_cpu_usage_seconds_total",
			       "cpu=\"total\",id=\"/docker/b\",image=\"\",name=\"db\"") -
			 1.25) < 1e-12);
	tick(
	    "INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) VALUES (14, 3, 1000, 1)");
	assert_true(rendered("id=\"/docker/b\",image=\"\",name=\"db\"} 1.250001\n"));
	tick("UPDATE cgroup SET gone_ts = 15 WHERE id = 3");
	assert_false(rendered("id=\"/docker/b\""));
	assert_false(rendered("container_"));

	/* a row already gone when the daemon starts is not loaded */
	struct err e;
	sql("INSERT INTO cgroup(id, inode, path, kind, name, first_seen_ts, gone_ts) "
	    "VALUES (4, 4, '/docker/c', 'container', 'c', 10, 11)");
	metric_set_tap(NULL, st.db);
	metric_set_free(set);
	assert_non_null(set = metric_set_new(&map));
	assert_int_equal(metric_set_load(set, st.db, &e), 0);
	metric_set_tap(set, st.db);
	tick(
	    "INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) VALUES (16, 4, 1000, 1)");
	assert_false(rendered("/docker/c"));
}

/* Containers coming and going by the thousands: the set's series (and the
 * rows behind them) return to what they were, so /metrics stays bounded. */
static void churn_is_bounded(void **state)
{
	enum { TOTAL = 2000, PER_TICK = 100 };
	tick("INSERT INTO kernel_activity VALUES (10, 1000, 100, 5, 2, 3, 0)");
	sql("BEGIN");
	add_cgroup(1, "/system.slice/idle.service", "");
	cgroup_cpu(10, 1, 1000);
	sql("COMMIT");
	metric_set_commit(set);
	size_t base = metric_set_series_count(set);
	int cpu = metric_map_family(&map, "container_cpu_usage_seconds_total");
	size_t base_cpu = metric_set_family_count(set, cpu);
	for (int from = 100; from < 100 + TOTAL + PER_TICK; from += PER_TICK) {
		int ts = 10 + from / PER_TICK;
		char text[160];
		sql("BEGIN");
		for (int id = from; id < from + PER_TICK && id < 100 + TOTAL; id++) {
			snprintf(text, sizeof(text), "/docker/c%d", id);
			add_cgroup(id, text, text + 8);
			cgroup_cpu(ts, id, id);
			snprintf(text, sizeof(text),
				 "INSERT INTO cgroup_io_stat(ts, cgroup_id, major, minor, dur_ms, "
				 "write_bytes) VALUES (%d, %d, 8, %d, 1000, 512)",
				 ts, id, id % 3);
			sql(text);
		}
		snprintf(text, sizeof(text),
			 "UPDATE cgroup SET gone_ts = %d WHERE id >= 100 AND id < %d", ts, from);
		sql(text);
		sql("COMMIT");
		metric_set_commit(set);
		if (from == 100 + TOTAL / 2)
			assert_true(metric_set_series_count(set) > base + PER_TICK);
	}
	assert_int_equal(metric_set_series_count(set), base);
	assert_int_equal(metric_set_family_count(set, cpu), base_cpu);
	assert_true(rendered("id=\"/system.slice/idle.service\""));
	assert_false(rendered("/docker/"));
	assert_true(value("node_context_switches_total", "") == 100);
}

/* A user's extension: a bad row is refused naming the row. */
static void expect_load_error(const char *insert, const char *needle)
{
	struct err e;
	struct metric_map m;
	sql("SAVEPOINT bad");
	sql(insert);
	int rc = metric_map_load(&m, st.db, &e);
	sql("ROLLBACK TO bad");
	sql("RELEASE bad");
	expect_error(rc, &e, needle);
}

static void bad_naming_rows(void **state)
{
	expect_load_error("INSERT INTO metric_family VALUES ('x_total', 'gauge', 'h', '')",
			  "only a counter's name may end in _total");
	expect_load_error("INSERT INTO metric_family VALUES ('x_count', 'counter', 'h', '')",
			  "a counter's name ends in _total");
	expect_load_error("INSERT INTO metric_family VALUES ('x_ms', 'gauge', 'h', 'seconds')",
			  "unit 'seconds' is not the end of its name");
	expect_load_error("INSERT INTO metric_family VALUES ('9x', 'gauge', 'h', '')",
			  "9x: not a valid metric name");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family) "
			  "VALUES ('cpu', 'nope_ms', 'node_cpu_seconds_total')",
			  "cpu has no column nope_ms");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family) "
			  "VALUES ('nope', 'x', 'node_load1')",
			  "table nope does not exist");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family) "
			  "VALUES ('memory', 'free_kb', 'node_forks_total')",
			  "a counter from a column of values");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family) "
			  "VALUES ('kernel_activity', 'forks_count', 'node_load1')",
			  "a gauge from a column of deltas");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family, row_filter) "
			  "VALUES ('loadavg', 'load1_x100', 'node_load5', 'load1_x100 >')",
			  "expected <column> <op> <literal>");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family, row_filter) "
			  "VALUES ('loadavg', 'load1_x100', 'node_load5', 'nope = 1')",
			  "row_filter names nope");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family, row_filter) "
			  "VALUES ('loadavg', 'load1_x100', 'node_load5', 'disk_device.x = 1')",
			  "no key of loadavg has dimension disk_device");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family, labels) "
			  "VALUES ('net', 'rx_bytes', 'node_network_receive_bytes_total', "
			  "'device=\"x\"')",
			  "label device is also a key's");
	expect_load_error("INSERT INTO metric_column(table_name, column_name, family, labels) "
			  "VALUES ('loadavg', 'load1_x100', 'node_load5', 'a=\"x')",
			  "expected a=\"value\"");
	expect_load_error("INSERT INTO metric_key VALUES ('net', 'interface_id', 'dev', "
			  "'nope_dim', 'name')",
			  "nope_dim");
}

static void filters_and_labels_parse(void **state)
{
	struct filter_term *t;
	struct metric_label *l;
	size_t n;
	struct err e;
	assert_int_equal(metric_filter_parse("cpu_id >= 0 and key = 'it''s'", &t, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].column, "cpu_id");
	assert_int_equal(t[0].op, OP_GE);
	assert_int_equal(t[0].num, 0);
	assert_string_equal(t[1].text, "it's");
	metric_filter_free(t, n);
	assert_int_equal(metric_filter_parse("", &t, &n, &e), 0);
	assert_int_equal(n, 0);
	expect_error(metric_filter_parse("a = 1 AND", &t, &n, &e), &e, "nothing after AND");
	expect_error(metric_filter_parse("a = 1 OR b = 2", &t, &n, &e), &e, "expected AND");
	expect_error(metric_filter_parse("a = 'x", &t, &n, &e), &e, "expected <column>");
	expect_error(metric_filter_parse("a = 1.5", &t, &n, &e), &e, "expected <column>");
	expect_error(metric_filter_parse("a. = 1", &t, &n, &e), &e, "expected <column>");
	assert_int_equal(metric_labels_parse("b=\"y\\\"z\\n\", a=\"\"", &l, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].value, "y\"z\n");
	assert_string_equal(l[1].name, "a");
	metric_labels_free(l, n);
	expect_error(metric_labels_parse("__x=\"1\"", &l, &n, &e), &e, "bad label name");
	expect_error(metric_labels_parse("a=\"1\",a=\"2\"", &l, &n, &e), &e, "given twice");
	expect_error(metric_labels_parse("a=\"1\" b=\"2\"", &l, &n, &e), &e, "expected ','");
}

static const char *scaled(double v, double factor)
{
	static char out[64];
	struct metric_scale sc;
	assert_int_equal(metric_scale_of(factor, &sc), 0);
	expo_scaled(out, sizeof(out), v, &sc);
	return out;
}

static const char *number(double v)
{
	static char out[64];
	expo_number(out, sizeof(out), v);
	return out;
}

static void numbers(void **state)
{
	assert_string_equal(scaled(56608, 0.001), "56.608");
	assert_string_equal(scaled(1, 0.000001), "0.000001");
	assert_string_equal(scaled(-5, 0.01), "-0.05");
	assert_string_equal(scaled(1536, 0.001953125), "3");
	assert_string_equal(scaled(24683748, 1024), "25276157952");
	assert_string_equal(scaled(0, 0.001), "0");
	assert_string_equal(scaled(1000, 0.001), "1");
	assert_string_equal(scaled(0.5, 0.001), "0.0005");
	/* nanoseconds to seconds: the smallest factor kept exact */
	assert_string_equal(scaled(997733, 0.000000001), "0.000997733");
	assert_string_equal(scaled(1500000000, 0.000000001), "1.5");
	assert_string_equal(number(1e6), "1000000");
	assert_string_equal(number(0.1), "0.1");
	assert_string_equal(number(1.0 / 3), "0.3333333333333333");
	assert_string_equal(number(1e20), "1e+20");
	assert_string_equal(number(NAN), "NaN");
	assert_string_equal(number(INFINITY), "+Inf");
	assert_string_equal(number(-INFINITY), "-Inf");
	assert_string_equal(number(-3), "-3");
}

/* OpenMetrics: counter families without _total, unknown for untyped,
 * UNIT, escaped HELP, # EOF. */
static void openmetrics_text(void **state)
{
	tick("INSERT INTO cpu VALUES (10, 0, 1000, 30, 0, 10, 450, 10, 0, 0, 0, 0, 0);"
	     "INSERT INTO vmstat(ts, dur_ms, pgfault_count) VALUES (10, 1000, 12);"
	     "INSERT INTO net_interface(id, name) VALUES (1, 'we\"ird\\\\');"
	     "INSERT INTO net VALUES (10, 1, 1000, 1, 0, 0,0,0,0,0,0, 0, 0, 0,0,0,0,0,0)");
	struct expo_out o = {0};
	expo_render(&o, set, EXPO_OM_1);
	expo_end(&o, EXPO_OM_1);
	assert_non_null(strstr(o.data, "# TYPE node_cpu_seconds counter\n"
				       "# UNIT node_cpu_seconds seconds\n"
				       "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 0.45\n"));
	assert_non_null(
	    strstr(o.data, "# TYPE node_vmstat_pgfault unknown\nnode_vmstat_pgfault 12\n"));
	assert_non_null(strstr(o.data, "device=\"we\\\"ird\\\\\\\\\""));
	assert_null(strstr(o.data, "\n\n"));
	assert_int_equal(strcmp(o.data + o.len - 6, "# EOF\n"), 0);
	expo_out_free(&o);
	expo_render(&o, set, EXPO_TEXT);
	assert_non_null(strstr(o.data, "# TYPE node_vmstat_pgfault untyped\n"));
	assert_null(strstr(o.data, "# EOF"));
	assert_null(strstr(o.data, "# UNIT"));
	expo_out_free(&o);
}

/* A comm is any bytes; Prometheus refuses a scrape with a label value
 * that is not UTF-8. */
static void label_values_utf8(void **state)
{
	struct expo_out o = {0};
	expo_label_value(&o, "caf\xc3\xa9 \xff\xfe x\xe2\x82 \"q\"\\\n\xf0\x9f\x98\x80\xc0\xaf");
	assert_string_equal(o.data,
			    "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd x\xef\xbf\xbd\xef\xbf\xbd "
			    "\\\"q\\\"\\\\\\n\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd");
	expo_out_free(&o);
}

static void negotiation(void **state)
{
	/* what Prometheus 2.42 sends */
	assert_int_equal(
	    expo_negotiate("application/openmetrics-text;version=1.0.0,application/"
			   "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
			   "*;q=0.1"),
	    EXPO_OM_1);
	assert_int_equal(expo_negotiate("application/openmetrics-text; version=0.0.1"),
			 EXPO_OM_001);
	assert_int_equal(expo_negotiate("Application/OpenMetrics-Text"), EXPO_OM_1);
	assert_int_equal(expo_negotiate(NULL), EXPO_TEXT);
	assert_int_equal(expo_negotiate(""), EXPO_TEXT);
	assert_int_equal(expo_negotiate("*/*"), EXPO_TEXT);
	assert_int_equal(expo_negotiate("text/html, application/json"), EXPO_TEXT);
	assert_int_equal(
	    expo_negotiate("application/openmetrics-text;version=2.0.0, text/plain;q=0.5"),
	    EXPO_TEXT);
	assert_int_equal(expo_negotiate("text/plain;q=0.9, application/openmetrics-text;q=0.8"),
			 EXPO_TEXT);
	assert_int_equal(expo_negotiate("application/openmetrics-text;q=0, text/plain;q=0.1"),
			 EXPO_TEXT);
	assert_int_equal(expo_negotiate("application/openmetrics-text; version=\"1.0.0\"; q=1"),
			 EXPO_OM_1);
	assert_int_equal(expo_negotiate("text/plain;version=0.0.3"), EXPO_TEXT);
	assert_string_equal(expo_content_type(EXPO_OM_1),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static int head(const char *text, struct http_head *h)
{
	return http_head_parse(text, strlen(text), h);
}

static void request_heads(void **state)
{
	struct http_head h;
	const char *get = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n"
			  "accept: application/openmetrics-text\r\n\r\nGET / HTTP/1.1\r\n\r\n";
	int n = head(get, &h);
	assert_int_equal(n, (int)(strstr(get, "\r\n\r\n") - get) + 4);
	assert_int_equal(h.method, HTTP_GET);
	assert_string_equal(h.path, "/metrics");
	assert_string_equal(h.accept, "text/plain, application/openmetrics-text");
	assert_true(h.keep_alive);
	assert_int_equal(head("GET /metrics HTTP/1.1\r\nHost: a\r\n", &h), 0);
	assert_int_equal(head("GET /metrics HTTP/1.0\n\n", &h), 23);
	assert_false(h.keep_alive);
	assert_true(head("HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0);
	assert_true(h.keep_alive && h.method == HTTP_HEAD);
	assert_true(head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h) > 0);
	assert_false(h.keep_alive);
	assert_true(head("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &h) > 0);
	assert_true(h.method == HTTP_OTHER && h.has_body);
	assert_true(head("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &h) > 0);
	assert_false(h.has_body);
	assert_true(head("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
	assert_true(h.has_body);
	assert_true(head("GET http://h:9256/metrics HTTP/1.1\r\n\r\n", &h) > 0);
	assert_string_equal(h.path, "/metrics");
	assert_true(head("OPTIONS * HTTP/1.1\r\n\r\n", &h) > 0);
	assert_int_equal(h.method, HTTP_OTHER);
	assert_int_equal(head("GET / HTTP/2.0\r\n\r\n", &h), -505);
	assert_int_equal(head("GET / HTTP/1.1 x\r\n\r\n", &h), -400);
	assert_int_equal(head("G(T / HTTP/1.1\r\n\r\n", &h), -400);
	assert_int_equal(head("GET  HTTP/1.1\r\n\r\n", &h), -400);
	assert_int_equal(head("GET metrics HTTP/1.1\r\n\r\n", &h), -400);
	assert_int_equal(head("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", &h), -400);
	assert_int_equal(head("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &h), -400);
	assert_int_equal(head("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", &h), -400);
	assert_int_equal(head("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &h), -400);
	char big[HTTP_HEAD_MAX + 64];
	snprintf(big, sizeof(big), "GET /%0300d HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(head(big, &h), -414);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(http_head_parse(big, sizeof(big), &h), -431);
	assert_int_equal(http_head_parse(big, HTTP_HEAD_MAX - 1, &h), 0);
}

static void listen_addresses(void **state)
{
	struct sockaddr_storage sa;
	socklen_t len;
	struct err e;
	assert_int_equal(metrics_parse_listen("127.0.0.1:9256", &sa, &len, &e), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(metrics_parse_listen(":9256", &sa, &len, &e), 0);
	assert_int_equal(metrics_parse_listen("[::]:9256", &sa, &len, &e), 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(metrics_parse_listen("localhost:0", &sa, &len, &e), 0);
	expect_error(metrics_parse_listen("9256", &sa, &len, &e), &e, "address:port");
	expect_error(metrics_parse_listen("1.2.3.4:", &sa, &len, &e), &e, "0 to 65535");
	expect_error(metrics_parse_listen("1.2.3.4:+80", &sa, &len, &e), &e, "0 to 65535");
	expect_error(metrics_parse_listen("[::1:80", &sa, &len, &e), &e, "[IPv6 address]");
	expect_error(metrics_parse_listen("1.2.3:80", &sa, &len, &e), &e, "not a numeric");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(shipped_table_loads, setup, teardown),
	    cmocka_unit_test_setup_teardown(counters_sum_and_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(rollback_discards, setup, teardown),
	    cmocka_unit_test_setup_teardown(dimension_labels, setup, teardown),
	    cmocka_unit_test_setup_teardown(idle_devices, setup, teardown),
	    cmocka_unit_test_setup_teardown(dimension_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(row_filters_and_nulls, setup, teardown),
	    cmocka_unit_test_setup_teardown(info_and_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(process_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(gone_cgroup_series_leave, setup, teardown),
	    cmocka_unit_test_setup_teardown(churn_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_naming_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(openmetrics_text, setup, teardown),
	    cmocka_unit_test(filters_and_labels_parse),
	    cmocka_unit_test(numbers),
	    cmocka_unit_test(label_values_utf8),
	    cmocka_unit_test(negotiation),
	    cmocka_unit_test(request_heads),
	    cmocka_unit_test(listen_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
