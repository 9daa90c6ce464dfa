/* /proc/net/dev and /sys/class/net: the net collector's parser (kernel variants,
 * truncated and garbage input) and its rows from a fixture tree. */
#include "rig.h"

#include "collect/counter.h"
#include "collect/net.h"

static void net_parse_variants(void **state)
{
	struct net_dev d = {0};
	struct err e;
	char *t = fixture_text("proc/net/dev.6_18");
	assert_int_equal(net_dev_parse(t, &d, &e), 0);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.ifs[0].name, "lo");
	assert_string_equal(d.ifs[3].name, "eth0");
	assert_int_equal(d.ifs[3].v[0], 51723478);
	assert_int_equal(d.ifs[3].v[9], 1120);
	free(t);
	t = fixture_text("proc/net/dev.colon_names");
	assert_int_equal(net_dev_parse(t, &d, &e), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.ifs[1].name, "eth0:1");
	assert_int_equal(d.ifs[1].v[0], 123456789012ULL);
	assert_int_equal(d.ifs[1].v[15], 14);
	assert_string_equal(d.ifs[2].name, "veth:a:b");
	assert_int_equal(d.ifs[2].v[8], 20);
	free(t);
	t = fixture_text("proc/net/dev.2_6");
	assert_int_equal(net_dev_parse(t, &d, &e), 0);
	assert_int_equal(d.ifs[1].v[14], 10);
	free(t);
	net_dev_free(&d);
}

static void net_parse_bad(void **state)
{
	struct net_dev d = {0};
	struct err e;
	char *t;
	expect_error(net_dev_parse(t = fixture_text("proc/net/dev.truncated"), &d, &e), &e,
		     "line 3 (eth0): counter 11: bad number 'end of line'");
	free(t);
	expect_error(net_dev_parse(t = fixture_text("proc/net/dev.garbage"), &d, &e), &e,
		     "line 3 (eth0): counter 16: bad number '1x6'");
	free(t);
	expect_error(net_dev_parse("", &d, &e), &e, "empty");
	expect_error(net_dev_parse("Inter-| x\n face |\n  eth0 1 2", &d, &e), &e, "truncated");
	expect_error(net_dev_parse("garbage\n", &d, &e), &e, "line 1: expected the column header");
	expect_error(net_dev_parse("a|\nb|\n  eth0 1 2\n", &d, &e), &e, "line 3: no ':'");
	net_dev_free(&d);
}

static void net_deltas_wrap_and_reset(void **state)
{
	/* Forward, a 32-bit wrap, a 64-bit counter going back (reset). */
	assert_int_equal(counter_delta_wrap32(100, 150), 50);
	assert_int_equal(counter_delta_wrap32(4294967000ULL, 200), 296 + 200);
	assert_int_equal(counter_delta_wrap32(5000000000ULL, 200), 200);
	/* Backwards by little within 32 bits is a reset, not a 4 GB wrap. */
	assert_int_equal(counter_delta_wrap32(1000, 10), 10);

	uint64_t prev[NET_COUNTERS] = {4294967000ULL, 1000}, cur[NET_COUNTERS] = {100, 1010};
	uint64_t out[NET_COUNTERS];
	/* rx bytes wrapped while packets went on: a wrap. */
	assert_int_equal(net_if_deltas(prev, cur, out), 0);
	assert_int_equal(out[0], 396);
	assert_int_equal(out[1], 10);
	/* One counter a little back while the rest went on: a glitch, 0. */
	uint64_t cur3[NET_COUNTERS] = {4294967100ULL, 1010};
	uint64_t prev3[NET_COUNTERS] = {4294967000ULL, 1000, 0, 500};
	cur3[3] = 499;
	assert_int_equal(net_if_deltas(prev3, cur3, out), 0);
	assert_int_equal(out[0], 100);
	assert_int_equal(out[3], 0);
	/* Bytes and packets both back: the interface was reset. */
	uint64_t cur2[NET_COUNTERS] = {100, 2};
	assert_int_equal(net_if_deltas(prev, cur2, out), 1);
	assert_int_equal(out[0], 100);
	assert_int_equal(out[1], 2);
}

static void net_dev_text(char *out, size_t n, const char *ifs)
{
	snprintf(out, n,
		 "Inter-|   Receive |  Transmit\n face |bytes    packets|bytes    packets\n%s",
		 ifs);
}

static void net_collector_rows(void **state)
{
	struct rig r;
	char t[2048];
	rig_init(&r);
	net_dev_text(t, sizeof(t),
		     "  eth0: 4294967000 10 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n"
		     "  idle: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "net/dev", t);
	put(r.sys, "class/net/eth0/mtu", "1500\n");
	put(r.sys, "class/net/eth0/operstate", "up\n");
	put(r.sys, "class/net/eth0/carrier", "1\n");
	rig_open(&r, &collector_net, NULL);
	/* eth0's rx bytes wrap at 32 bits; a new interface appears. */
	net_dev_text(t, sizeof(t),
		     "  eth0: 100 20 0 0 0 0 0 0 700 7 0 0 0 0 0 0\n"
		     "  idle: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
		     "  new0: 999999 9 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	put(r.proc, "net/dev", t);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT rx_bytes FROM net JOIN net_interface i ON i.id=interface_id "
			       "WHERE name='eth0'"),
			 396);
	assert_int_equal(q(&r, "SELECT tx_bytes FROM net_rates WHERE interface='eth0'"), 200);
	/* Idle interfaces and ones without a baseline write no row. */
	assert_int_equal(q(&r, "SELECT count(*) FROM net"), 1);
	assert_int_equal(q(&r, "SELECT mtu_bytes FROM net_link JOIN net_interface i ON "
			       "i.id=interface_id WHERE name='eth0'"),
			 1500);
	assert_int_equal(q(&r, "SELECT speed_mbps IS NULL FROM net_link l JOIN net_interface i ON "
			       "i.id=interface_id WHERE name='eth0'"),
			 1);
	/* eth0 disappears; new0 is reset (re-created): delta = new value. */
	net_dev_text(t, sizeof(t),
		     "  idle: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
		     "  new0: 50 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	put(r.proc, "net/dev", t);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT rx_bytes FROM net_rates WHERE interface='new0'"), 50);
	assert_int_equal(q(&r, "SELECT min(rx_bytes) >= 0 AND max(rx_bytes) < 1000000 FROM net"),
			 1);
	/* A link row only when the link changed. */
	int64_t links = q(&r, "SELECT count(*) FROM net_link");
	for (int i = 0; i < 7; i++)
		rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM net_link"), links);
	rig_free(&r);
}

/* With the host's /proc mounted elsewhere, /proc/net (self) would be the
 * container's namespace: PID 1's is read instead. */
static void net_reads_pid1_under_host_proc(void **state)
{
	struct rig r;
	char t[512];
	rig_init(&r);
	r.env.own_proc = 0; /* the daemon's proc root is not /proc */
	net_dev_text(t, sizeof(t), "  self0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "net/dev", t);
	net_dev_text(t, sizeof(t), "  host0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "1/net/dev", t);
	rig_open(&r, &collector_net, NULL);
	net_dev_text(t, sizeof(t), "  host0: 9 2 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "1/net/dev", t);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT rx_bytes FROM net_rates WHERE interface='host0'"), 8);
	assert_int_equal(q(&r, "SELECT count(*) FROM net_interface WHERE name='self0'"), 0);
	rig_free(&r);
}

static int fz_net(char *t, size_t n, struct err *e)
{
	static struct net_dev d;
	int rc = net_dev_parse(t, &d, e);
	net_dev_free(&d);
	return rc;
}

static void net_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_net, "proc/net/dev.6_18");
	parser_survives_cuts_and_garbage(fz_net, "proc/net/dev.colon_names");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(net_parse_variants),
	    cmocka_unit_test(net_parse_bad),
	    cmocka_unit_test(net_deltas_wrap_and_reset),
	    cmocka_unit_test(net_collector_rows),
	    cmocka_unit_test(net_reads_pid1_under_host_proc),
	    cmocka_unit_test(net_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
