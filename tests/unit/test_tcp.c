/* TCP and UDP: the snmp, netstat, sockstat and /proc/net/tcp parsers
 * (kernel variants, truncated and garbage input) and the tcp collector's rows. */
#include "rig.h"

#include "collect/tcp.h"

static const struct stat_key tkeys[] = {
    {"Tcp", "MaxConn", "", 0},	      {"Tcp", "RetransSegs", "", 0}, {"Tcp", "InCsumErrors", "", 0},
    {"Udp", "NoPorts", "", 0},	      {"TCP", "tw", "", 1},	     {"TCP", "mem", "", 1},
    {"TcpExt", "TCPTimeouts", "", 0},
};

static void tcp_parse_variants(void **state)
{
	int64_t v[ARRAY_LEN(tkeys)];
	struct err e;
	char *t = fixture_text("proc/net/snmp.6_18");
	assert_int_equal(snmp_parse(t, "snmp", tkeys, ARRAY_LEN(tkeys), v, &e), 0);
	assert_int_equal(v[0], -1);
	assert_true(v[1] >= 0 && v[2] >= 0 && v[3] >= 0);
	assert_true(v[4] == STAT_ABSENT && v[6] == STAT_ABSENT);
	free(t);
	t = fixture_text("proc/net/snmp.3_10");
	assert_int_equal(snmp_parse(t, "snmp", tkeys, ARRAY_LEN(tkeys), v, &e), 0);
	assert_int_equal(v[1], 12);
	assert_true(v[2] == STAT_ABSENT); /* InCsumErrors came in 3.10+ */
	assert_int_equal(v[3], 1);
	free(t);
	t = fixture_text("proc/net/netstat.6_18");
	assert_int_equal(snmp_parse(t, "netstat", tkeys, ARRAY_LEN(tkeys), v, &e), 0);
	assert_true(v[6] >= 0);
	free(t);
	t = fixture_text("proc/net/sockstat.6_18");
	assert_int_equal(sockstat_parse(t, tkeys, ARRAY_LEN(tkeys), v, &e), 0);
	assert_int_equal(v[4], 0);
	assert_int_equal(v[5], 137);
	free(t);
	uint64_t counts[TCP_STATES] = {0};
	t = fixture_text("proc/net/tcp.states");
	assert_int_equal(proc_net_tcp_count(t, "tcp", counts, &e), 0);
	assert_int_equal(counts[1], 2);	 /* ESTABLISHED */
	assert_int_equal(counts[6], 1);	 /* TIME_WAIT */
	assert_int_equal(counts[10], 1); /* LISTEN */
	free(t);
	t = fixture_text("proc/net/tcp.6_18");
	assert_int_equal(proc_net_tcp_count(t, "tcp", counts, &e), 0);
	free(t);
}

static void tcp_parse_bad(void **state)
{
	int64_t v[ARRAY_LEN(tkeys)];
	uint64_t counts[TCP_STATES] = {0};
	struct err e;
	char *t;
	expect_error(snmp_parse(t = fixture_text("proc/net/snmp.garbage"), "snmp", tkeys,
				ARRAY_LEN(tkeys), v, &e),
		     &e, "snmp line 2: Tcp value 3 (ActiveOpens): bad number '7x0'");
	free(t);
	expect_error(snmp_parse(t = fixture_text("proc/net/snmp.no_values"), "snmp", tkeys,
				ARRAY_LEN(tkeys), v, &e),
		     &e, "line 1: Tcp has names but no values line");
	free(t);
	expect_error(snmp_parse(t = fixture_text("proc/net/snmp.short_values"), "snmp", tkeys,
				ARRAY_LEN(tkeys), v, &e),
		     &e, "Tcp value 3 (ActiveOpens): bad number 'end of line'");
	free(t);
	expect_error(snmp_parse("Tcp: A\nUdp: 1\n", "snmp", tkeys, ARRAY_LEN(tkeys), v, &e), &e,
		     "line 2: expected the values of Tcp");
	expect_error(snmp_parse("Tcp: A\nTcp: 1", "snmp", tkeys, ARRAY_LEN(tkeys), v, &e), &e,
		     "truncated");
	expect_error(sockstat_parse("TCP: inuse x\n", tkeys, ARRAY_LEN(tkeys), v, &e), &e,
		     "line 1: TCP inuse: bad number 'x'");
	expect_error(sockstat_parse("garbage\n", tkeys, ARRAY_LEN(tkeys), v, &e), &e,
		     "line 1: expected 'SECTION: name value'");
	expect_error(
	    proc_net_tcp_count(t = fixture_text("proc/net/tcp.garbage"), "tcp", counts, &e), &e,
	    "tcp line 2: bad state 'ZZ'");
	free(t);
	expect_error(proc_net_tcp_count("hdr\n 0: a b\n", "tcp6", counts, &e), &e,
		     "tcp6 line 2: bad state 'end of line'");
}

static void tcp_collector_rows(void **state)
{
	struct rig r;
	rig_init(&r);
	char *snmp = fixture_text("proc/net/snmp.3_10");
	put(r.proc, "net/snmp", snmp);
	put(r.proc, "net/netstat", "TcpExt: ListenDrops TCPTimeouts\nTcpExt: 5 100\n");
	put(r.proc, "net/sockstat", "sockets: used 9\nTCP: inuse 3 orphan 0 tw 1 alloc 4 mem 2\n");
	char *tcp = fixture_text("proc/net/tcp.states");
	put(r.proc, "net/tcp", tcp);
	free(tcp);
	rig_open(&r, &collector_tcp, NULL);
	/* RetransSegs 12 -> 20; ListenDrops 5 -> 7; TCPTimeouts reset to 3. */
	char *p = strstr(snmp, "5000 4000 12");
	memcpy(p, "5000 4000 20", 12);
	put(r.proc, "net/snmp", snmp);
	put(r.proc, "net/netstat", "TcpExt: ListenDrops TCPTimeouts\nTcpExt: 7 3\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT retrans_segs_count FROM tcp"), 8);
	assert_int_equal(q(&r, "SELECT listen_drops_count FROM tcp"), 2);
	assert_int_equal(q(&r, "SELECT timeouts_count FROM tcp_stat"), 3);
	assert_int_equal(q(&r, "SELECT curr_estab_count FROM tcp"), 4);
	assert_int_equal(q(&r, "SELECT tcp_tw_count FROM tcp_stat"), 1);
	assert_int_equal(q(&r, "SELECT established_count FROM tcp"), 2);
	assert_int_equal(q(&r, "SELECT listen_count FROM tcp"), 1);
	/* Not on this kernel: NULL, not zero. */
	assert_int_equal(q(&r, "SELECT in_csum_errors_count IS NULL FROM tcp_stat"), 1);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM tcp WHERE established_count IS NULL"), 1);
	/* No socket in use and none in TIME_WAIT: the table walk is skipped
	 * (here: the stale net/tcp is not read) and every state counts 0. */
	put(r.proc, "net/sockstat", "sockets: used 9\nTCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\n");
	put(r.proc, "net/sockstat6", "TCP6: inuse 0\n");
	for (int i = 0; i < 5; i++)
		rig_tick(&r);
	assert_int_equal(q(&r, "SELECT established_count + listen_count FROM tcp ORDER BY ts DESC"),
			 0);
	free(snmp);
	rig_free(&r);
}

static int fz_snmp(char *t, size_t n, struct err *e)
{
	int64_t v[ARRAY_LEN(tkeys)];
	return snmp_parse(t, "snmp", tkeys, ARRAY_LEN(tkeys), v, e);
}

static int fz_sockstat(char *t, size_t n, struct err *e)
{
	int64_t v[ARRAY_LEN(tkeys)];
	return sockstat_parse(t, tkeys, ARRAY_LEN(tkeys), v, e);
}

static int fz_tcp(char *t, size_t n, struct err *e)
{
	uint64_t c[TCP_STATES] = {0};
	return proc_net_tcp_count(t, "tcp", c, e);
}

static void tcp_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_snmp, "proc/net/snmp.6_18");
	parser_survives_cuts_and_garbage(fz_snmp, "proc/net/netstat.6_18");
	parser_survives_cuts_and_garbage(fz_sockstat, "proc/net/sockstat.6_18");
	parser_survives_cuts_and_garbage(fz_tcp, "proc/net/tcp.states");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tcp_parse_variants),
	    cmocka_unit_test(tcp_parse_bad),
	    cmocka_unit_test(tcp_collector_rows),
	    cmocka_unit_test(tcp_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
