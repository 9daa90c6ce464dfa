/* The system collectors: pure parsers on fixture text (kernel variants,
 * truncated and garbage input), and collectors run over a fixture /proc and
 * /sys tree into a real SQLite database. */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "collect/collect.h"
#include "collect/counter.h"
#include "collect/disk.h"
#include "collect/fs.h"
#include "collect/inventory.h"
#include "collect/kmsg.h"
#include "collect/net.h"
#include "collect/psi.h"
#include "collect/tcp.h"
#include "collect/vmstat.h"
#include "daemon/config.h"

/* ---- a fixture tree and a database to run a collector against ---- */

struct rig {
	char *dir;
	char proc[1024], sys[1024];
	struct store st;
	struct sources src;
	struct config *cfg;
	const struct collector_ops *ops;
	void *state;
	int64_t ts;
};

static void mkdirs(const char *root, const char *rel)
{
	char path[4200];
	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		fail_msg("path too long");
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

/* Writes text to <root>/<rel>, creating the directories on the way. */
static void put(const char *root, const char *rel, const char *text)
{
	char path[4200], dir[4200];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(root, dir);
	}
	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		fail_msg("path too long");
	write_file(path, text);
}

static void rig_init(struct rig *r)
{
	struct err e;
	memset(r, 0, sizeof(*r));
	r->dir = temp_dir();
	snprintf(r->proc, sizeof(r->proc), "%s/proc", r->dir);
	snprintf(r->sys, sizeof(r->sys), "%s/sys", r->dir);
	mkdir(r->proc, 0755);
	mkdir(r->sys, 0755);
	char db[4200];
	snprintf(db, sizeof(db), "%s/h.db", r->dir);
	if (store_open(&r->st, db, 0, &e) || store_migrate(&r->st, &e) ||
	    store_install_views(&r->st, NULL, &e))
		fail_msg("store: %s", e.msg);
	r->ts = 1700000000;
}

static void rig_open(struct rig *r, const struct collector_ops *ops)
{
	struct err e;
	r->src.proc_fd = open(r->proc, O_RDONLY | O_DIRECTORY);
	r->src.sys_fd = open(r->sys, O_RDONLY | O_DIRECTORY);
	r->src.cfg = r->cfg;
	r->ops = ops;
	if (ops->open(&r->state, &r->st, &r->src, &e))
		fail_msg("open %s: %s", ops->name, e.msg);
}

/* One tick of 10 s, committed. */
static void rig_tick(struct rig *r)
{
	struct err e;
	struct tick_errors te = {0};
	struct tick t = {.ts = r->ts += 10, .dur_ms = 10000, .store = &r->st, .errors = &te};
	assert_int_equal(store_begin(&r->st, &e), 0);
	if (r->ops->sample(r->state, &t, &e))
		fail_msg("sample: %s", e.msg);
	assert_int_equal(store_commit(&r->st, &e), 0);
	if (r->ops->commit)
		r->ops->commit(r->state);
}

static int64_t q(struct rig *r, const char *sql)
{
	return store_query_int(&r->st, sql, -999);
}

static void rig_free(struct rig *r)
{
	r->ops->close(r->state);
	store_close(&r->st);
	close(r->src.proc_fd);
	close(r->src.sys_fd);
	rm_rf(r->dir);
	free(r->dir);
}

/* ---- net ---- */

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
	rig_open(&r, &collector_net);
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
	struct config cfg;
	char t[512];
	config_defaults(&cfg);
	rig_init(&r);
	snprintf(cfg.proc_root, sizeof(cfg.proc_root), "%s", r.proc);
	r.cfg = &cfg;
	net_dev_text(t, sizeof(t), "  self0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "net/dev", t);
	net_dev_text(t, sizeof(t), "  host0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "1/net/dev", t);
	rig_open(&r, &collector_net);
	net_dev_text(t, sizeof(t), "  host0: 9 2 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.proc, "1/net/dev", t);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT rx_bytes FROM net_rates WHERE interface='host0'"), 8);
	assert_int_equal(q(&r, "SELECT count(*) FROM net_interface WHERE name='self0'"), 0);
	rig_free(&r);
}

/* ---- disk ---- */

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
	struct config cfg;
	config_defaults(&cfg);
	rig_init(&r);
	r.cfg = &cfg;
	put(r.proc, "diskstats",
	    "   8 0 sda 10 0 100 5 10 0 100 5 0 10 10 0 0 0 0 0 0\n"
	    "   8 1 sda1 10 0 100 5 10 0 100 5 0 10 10 0 0 0 0 0 0\n"
	    "   7 0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.sys, "block/sda/sda1/partition", "1\n");
	rig_open(&r, &collector_disk);
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
	struct config cfg;
	config_defaults(&cfg);
	cfg.disks_include_loop = 1;
	rig_init(&r);
	r.cfg = &cfg;
	put(r.proc, "diskstats", "   7 0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	put(r.sys, "block/loop0/size", "0\n");
	rig_open(&r, &collector_disk);
	put(r.proc, "diskstats", "   7 0 loop0 9 0 800 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT read_bytes FROM disk_io WHERE disk='loop0'"), 792 * 512);
	rig_free(&r);
}

/* ---- fs ---- */

static void fs_parse_and_select(void **state)
{
	struct mountinfo mi = {0};
	struct err e;
	char *t = fixture_text("proc/mountinfo.escapes");
	assert_int_equal(mountinfo_parse(t, &mi, &e), 0);
	assert_int_equal(mi.n, 8);
	assert_string_equal(mi.m[0].mountpoint, "/mnt/parent");
	assert_string_equal(mi.m[0].fstype, "ext3");
	assert_string_equal(mi.m[1].source, "/dev/sda1");
	assert_string_equal(mi.m[2].mountpoint, "/srv/my files");
	assert_int_equal(mi.m[2].major, 8);
	assert_int_equal(mi.m[2].minor, 1);
	unsigned char keep[8];
	mountinfo_select(&mi, keep);
	/* sda1 twice: the mount of its root wins; sda2 twice (both binds of
	 * subdirectories): the first; sysfs is pseudo; of two tmpfs on one
	 * mount point only the visible (last) one. */
	unsigned char want[8] = {1, 1, 0, 1, 0, 0, 0, 1};
	assert_memory_equal(keep, want, 8);
	free(t);
	t = fixture_text("proc/mountinfo.host");
	assert_int_equal(mountinfo_parse(t, &mi, &e), 0);
	assert_true(mi.n > 5);
	free(t);
	mountinfo_free(&mi);
}

static void fs_parse_bad(void **state)
{
	struct mountinfo mi = {0};
	struct err e;
	char *t;
	expect_error(mountinfo_parse(t = fixture_text("proc/mountinfo.no_separator"), &mi, &e), &e,
		     "line 1: no '- fstype source'");
	free(t);
	expect_error(mountinfo_parse(t = fixture_text("proc/mountinfo.garbage"), &mi, &e), &e,
		     "line 2: bad major:minor '9x:1'");
	free(t);
	expect_error(mountinfo_parse(t = fixture_text("proc/mountinfo.truncated"), &mi, &e), &e,
		     "truncated");
	free(t);
	char short_line[] = "1 2 3:4\n";
	expect_error(mountinfo_parse(short_line, &mi, &e), &e, "line 1: 3 fields");
	mountinfo_free(&mi);
}

static void fs_collector_rows(void **state)
{
	struct rig r;
	rig_init(&r);
	/* This process's view, measured through <proc>/self/root = "/". */
	char link[1100];
	snprintf(link, sizeof(link), "%s/self", r.proc);
	mkdir(link, 0755);
	snprintf(link, sizeof(link), "%s/self/root", r.proc);
	assert_int_equal(symlink("/", link), 0);
	char mi[512];
	struct stat st;
	assert_int_equal(stat(r.dir, &st), 0);
	snprintf(mi, sizeof(mi),
		 "1 0 %u:%u / %s rw - testfs /dev/test rw\n"
		 "2 1 0:99 / /proc rw - proc proc rw\n",
		 major(st.st_dev), minor(st.st_dev), r.dir);
	put(r.proc, "self/mountinfo", mi);
	rig_open(&r, &collector_fs);
	rig_tick(&r);
	struct statvfs sv;
	assert_int_equal(statvfs(r.dir, &sv), 0);
	assert_int_equal(q(&r, "SELECT count(*) FROM filesystem_usage"), 1);
	assert_int_equal(q(&r, "SELECT size_kb FROM filesystem_usage WHERE fstype='testfs'"),
			 (int64_t)(sv.f_blocks * sv.f_frsize / 1024));
	assert_int_equal(
	    q(&r, "SELECT inodes_used_count + inodes_free_count FROM filesystem_usage"),
	    (int64_t)sv.f_files);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM filesystem_usage"), 2);
	rig_free(&r);
}

/* ---- tcp ---- */

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
	rig_open(&r, &collector_tcp);
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

/* ---- psi ---- */

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
	rig_open(&r, &collector_psi);
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
	rig_open(&r, &collector_psi);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM pressure"), 0);
	rig_free(&r);
}

/* ---- vmstat ---- */

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
	rig_open(&r, &collector_vmstat);
	put(r.proc, "vmstat", "pgfault 300\npgmajfault 5\noom_kill 2\npgscan_kswapd_normal 9\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT pgfault_count FROM vmstat"), 200);
	assert_int_equal(q(&r, "SELECT faults_per_s FROM vmstat_rates"), 20);
	assert_int_equal(q(&r, "SELECT oom_kill_count FROM vmstat_rates"), 1);
	assert_int_equal(q(&r, "SELECT pgscan_kswapd_pages FROM vmstat"), 2);
	assert_int_equal(q(&r, "SELECT thp_fault_alloc_count IS NULL FROM vmstat"), 1);
	rig_free(&r);
}

/* ---- kmsg ---- */

static void kmsg_parse_records(void **state)
{
	struct kmsg_record r;
	struct err e;
	char *t = fixture_text("kmsg/records.dict");
	size_t len = strlen(t), off = 0;
	assert_int_equal(kmsg_parse(t, len, &r, &e), 0);
	assert_int_equal(r.seq, 339);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 0);
	assert_int_equal(r.mono_us, 5140900);
	assert_null(r.dict);
	off += r.len;
	assert_int_equal(kmsg_parse(t + off, len - off, &r, &e), 0);
	assert_int_equal(r.seq, 340);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.dict_len, strlen("SUBSYSTEM=usb\n DEVICE=c189:1"));
	char msg[256];
	kmsg_unescape(r.msg, r.msg_len, msg, sizeof(msg));
	assert_string_equal(msg, "usb 1-1: device descriptor read/64, error -71\nsecond line");
	off += r.len;
	assert_int_equal(kmsg_parse(t + off, len - off, &r, &e), 0);
	assert_int_equal(r.cont, 'c');
	assert_int_equal(off + r.len, len);
	free(t);
	t = fixture_text("kmsg/records.6_18");
	len = strlen(t);
	int n = 0;
	for (off = 0; off < len; off += r.len, n++)
		assert_int_equal(kmsg_parse(t + off, len - off, &r, &e), 0);
	assert_true(n > 10);
	free(t);
	/* A short output buffer truncates, never overflows. */
	assert_int_equal(kmsg_unescape("abc\\x41def", 10, msg, 4), 3);
	assert_string_equal(msg, "abc");
	assert_int_equal(kmsg_unescape("a\\x4", 4, msg, sizeof(msg)), 4);
}

static void kmsg_parse_bad(void **state)
{
	struct kmsg_record r;
	struct err e;
	static const struct {
		const char *file, *needle;
	} bad[] = {
	    {"kmsg/bad.noflags", "bad header"},
	    {"kmsg/bad.seq", "kmsg record '6,x39,5140900,-': bad header"},
	    {"kmsg/bad.nosemi", "no ';' after the header"},
	    {"kmsg/bad.truncated", "truncated (no newline)"},
	    {"kmsg/bad.dict_truncated", "kmsg record 339: truncated dictionary line"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *t = fixture_text(bad[i].file);
		expect_error(kmsg_parse(t, strlen(t), &r, &e), &e, bad[i].needle);
		free(t);
	}
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void kmsg_collector_resumes(void **state)
{
	struct rig r;
	char path[1200];
	rig_init(&r);
	put(r.proc, "sys/kernel/random/boot_id", "11111111-aaaa\n");
	snprintf(path, sizeof(path), "%s/kmsg", r.dir);
	kmsg_path = path;
	put(r.dir, "kmsg", "6,1,1000,-;first\n6,2,2000,-;second\n SUBSYSTEM=x\n DEVICE=y\n");
	rig_open(&r, &collector_kmsg);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM kernel_log"), 2);
	assert_int_equal(q(&r, "SELECT dict = 'SUBSYSTEM=x' || char(10) || 'DEVICE=y' FROM kmsg "
			       "WHERE seq=2"),
			 1);
	/* Records 3 and 4 were overwritten before we read 5. */
	append(path, "3,5,5000,-;fifth\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT lost_count FROM kmsg_loss"), 2);
	assert_int_equal(q(&r, "SELECT priority FROM kernel_log WHERE seq=5"), 3);
	/* A restart reads the whole buffer again and stores only what is new. */
	r.ops->close(r.state);
	append(path, "6,6,6000,-;sixth\n");
	rig_open(&r, &collector_kmsg);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM kmsg"), 4);
	assert_int_equal(q(&r, "SELECT count(*) FROM kmsg WHERE seq=6"), 1);
	assert_int_equal(q(&r, "SELECT count(DISTINCT seq) FROM kmsg"), 4);
	/* A reboot: sequence numbers start over under a new boot id. */
	r.ops->close(r.state);
	put(r.proc, "sys/kernel/random/boot_id", "22222222-bbbb\n");
	rig_open(&r, &collector_kmsg);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM kmsg"), 8);
	assert_int_equal(q(&r, "SELECT count(DISTINCT boot) FROM kernel_log"), 2);
	kmsg_path = "/dev/kmsg";
	rig_free(&r);
}

/* ---- inventory ---- */

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
	rig_open(&r, &collector_inventory);
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
	r.ops->close(r.state);
	put(r.proc, "stat", "cpu  1 2 3 4\nbtime 1700000001\n"); /* btime wobble */
	rig_open(&r, &collector_inventory);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory"), rows);
	/* The host was renamed and its disk removed. */
	r.ops->close(r.state);
	put(r.proc, "sys/kernel/hostname", "web2\n");
	char path[1200];
	snprintf(path, sizeof(path), "%s/block/sda/size", r.sys);
	unlink(path);
	rig_open(&r, &collector_inventory);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory"), rows + 4);
	assert_int_equal(q(&r, "SELECT count(*) FROM inventory_changes WHERE key='host.hostname' "
			       "AND old_value='web1' AND new_value='web2'"),
			 1);
	assert_int_equal(q(&r, "SELECT count(*) FROM host_inventory WHERE key LIKE 'disk.sda%'"),
			 0);
	rig_free(&r);
}

/* ---- every parser on every cut and mutation of its fixtures ---- */

typedef int (*parse_fn)(char *text, size_t len, struct err *e);

static int fz_net(char *t, size_t n, struct err *e)
{
	static struct net_dev d;
	int rc = net_dev_parse(t, &d, e);
	net_dev_free(&d);
	return rc;
}
static int fz_disk(char *t, size_t n, struct err *e)
{
	static struct diskstats d;
	int rc = diskstats_parse(t, &d, e);
	diskstats_free(&d);
	return rc;
}
static int fz_mount(char *t, size_t n, struct err *e)
{
	static struct mountinfo mi;
	int rc = mountinfo_parse(t, &mi, e);
	if (rc == 0) {
		unsigned char *keep = malloc(mi.n + 1);
		mountinfo_select(&mi, keep);
		free(keep);
	}
	mountinfo_free(&mi);
	return rc;
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
static int fz_psi(char *t, size_t n, struct err *e)
{
	struct psi p;
	return psi_parse(t, "psi", &p, e);
}
static int fz_vmstat(char *t, size_t n, struct err *e)
{
	uint64_t v[ARRAY_LEN(vkeys)];
	unsigned char f[ARRAY_LEN(vkeys)];
	return vmstat_parse(t, vkeys, ARRAY_LEN(vkeys), v, f, e);
}
static int fz_kmsg(char *t, size_t n, struct err *e)
{
	struct kmsg_record r;
	char msg[64];
	for (size_t off = 0; off < n;) {
		if (kmsg_parse(t + off, n - off, &r, e))
			return -1;
		assert_true(r.len > 0 && off + r.len <= n);
		kmsg_unescape(r.msg, r.msg_len, msg, sizeof(msg));
		off += r.len;
	}
	return 0;
}
static int fz_cpuinfo(char *t, size_t n, struct err *e)
{
	struct cpuinfo ci;
	return cpuinfo_parse(t, &ci, e);
}

/* Runs fn on text[0..len) in a buffer of exactly that size (plus the NUL),
 * so ASan sees any read past the end. Either it parses or it says why. */
static void fz_one(parse_fn fn, const char *text, size_t len, const char *what)
{
	char *copy = malloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	struct err e = {{0}};
	int rc = fn(copy, len, &e);
	if (rc != 0 && (rc != -1 || !e.msg[0]))
		fail_msg("%s: rc %d with no message on %zu bytes", what, rc, len);
	free(copy);
}

static void parsers_survive_cuts_and_garbage(void **state)
{
	static const struct {
		const char *fixture;
		parse_fn fn;
	} cases[] = {
	    {"proc/net/dev.6_18", fz_net},	  {"proc/net/dev.colon_names", fz_net},
	    {"proc/diskstats.6_18", fz_disk},	  {"proc/diskstats.4_9", fz_disk},
	    {"proc/mountinfo.escapes", fz_mount}, {"proc/net/snmp.6_18", fz_snmp},
	    {"proc/net/netstat.6_18", fz_snmp},	  {"proc/net/sockstat.6_18", fz_sockstat},
	    {"proc/net/tcp.states", fz_tcp},	  {"proc/pressure/io.6_18", fz_psi},
	    {"proc/vmstat.3_10", fz_vmstat},	  {"kmsg/records.dict", fz_kmsg},
	    {"proc/cpuinfo.2socket", fz_cpuinfo},
	};
	static const char garbage[] = {'x', ':', '\n', ' ', '-', '9', '\\', ';', ',', '|'};
	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		char *t = fixture_text(cases[c].fixture);
		size_t len = strlen(t);
		for (size_t cut = 0; cut <= len; cut++)
			fz_one(cases[c].fn, t, cut, cases[c].fixture);
		size_t stride = len > 2000 ? 7 : 1;
		for (size_t i = 0; i < len; i += stride)
			for (size_t g = 0; g < ARRAY_LEN(garbage); g++) {
				char saved = t[i];
				t[i] = garbage[g];
				fz_one(cases[c].fn, t, len, cases[c].fixture);
				t[i] = saved;
			}
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(net_parse_variants),
	    cmocka_unit_test(net_parse_bad),
	    cmocka_unit_test(net_deltas_wrap_and_reset),
	    cmocka_unit_test(net_collector_rows),
	    cmocka_unit_test(net_reads_pid1_under_host_proc),
	    cmocka_unit_test(disk_parse_variants),
	    cmocka_unit_test(disk_parse_bad),
	    cmocka_unit_test(disk_collector_rows),
	    cmocka_unit_test(disk_collector_loop_when_configured),
	    cmocka_unit_test(fs_parse_and_select),
	    cmocka_unit_test(fs_parse_bad),
	    cmocka_unit_test(fs_collector_rows),
	    cmocka_unit_test(tcp_parse_variants),
	    cmocka_unit_test(tcp_parse_bad),
	    cmocka_unit_test(tcp_collector_rows),
	    cmocka_unit_test(psi_parse_variants),
	    cmocka_unit_test(psi_parse_bad),
	    cmocka_unit_test(psi_collector_rows),
	    cmocka_unit_test(psi_absent_turns_off),
	    cmocka_unit_test(vmstat_parse_variants),
	    cmocka_unit_test(vmstat_parse_bad),
	    cmocka_unit_test(vmstat_collector_rows),
	    cmocka_unit_test(kmsg_parse_records),
	    cmocka_unit_test(kmsg_parse_bad),
	    cmocka_unit_test(kmsg_collector_resumes),
	    cmocka_unit_test(inventory_cpuinfo),
	    cmocka_unit_test(inventory_diff),
	    cmocka_unit_test(inventory_collector_history),
	    cmocka_unit_test(parsers_survive_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
