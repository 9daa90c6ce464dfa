/* The processes collector on a fake proc tree and a real SQLite file:
 * group rows (whole counters for new processes, growth for old ones,
 * reaped children, sparse rows), children joining their parent's group,
 * the process table with redacted command lines, the top processes. */
#include "fakeproc.h"

#include <time.h>

#include "collect/collect.h"
#include "collect/procs.h"
#include "proc/accounting.h"
#include "proc/cmdline.h"
#include "store/store.h"

struct fx {
	char *dir, root[4200], db[4200];
	int fd;
	struct acct_options acct_opt;
	struct procs_options opt;
	struct proc_accounting *acct;
	struct store st;
	void *state;
	int64_t ts;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = temp_dir();
	snprintf(f->root, sizeof(f->root), "%s/proc", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/h.db", f->dir);
	mkdir(f->root, 0755);
	f->fd = open(f->root, O_RDONLY | O_DIRECTORY);
	acct_options_default(&f->acct_opt);
	f->acct_opt.refresh_ms = 0;
	procs_options_default(&f->opt);
	f->ts = 1000;
	struct err e;
	assert_int_equal(store_open(&f->st, f->db, 0, &e), 0);
	assert_int_equal(store_migrate(&f->st, &e), 0);
	assert_int_equal(store_install_views(&f->st, NULL, &e), 0);
	*state = f;
	return 0;
}

/* The collector and the accounting it writes, as the daemon closes them. */
static void stop(struct fx *f)
{
	if (f->state)
		collector_procs.close(f->state);
	acct_close(f->acct);
	f->state = NULL;
	f->acct = NULL;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	stop(f);
	store_close(&f->st);
	close(f->fd);
	rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Opens the accounting and the collector as the daemon does (1 s ticks). */
static void start(struct fx *f)
{
	struct err e;
	if (acct_open(&f->acct, &f->acct_opt, f->fd, 1000, &e))
		fail_msg("accounting: %s", e.msg);
	struct collector_env env = {
	    .store = &f->st, .proc_fd = f->fd, .sys_fd = -1, .acct = f->acct};
	if (collector_procs.open(&f->state, &env, &f->opt, &e))
		fail_msg("open: %s", e.msg);
}

static void tick(struct fx *f)
{
	struct tick_errors te = {0};
	struct tick t = {.ts = ++f->ts, .dur_ms = 1000, .store = &f->st, .errors = &te};
	struct err e;
	assert_int_equal(store_begin(&f->st, &e), 0);
	if (collector_procs.sample(f->state, &t, &e))
		fail_msg("sample: %s", e.msg);
	assert_int_equal(store_commit(&f->st, &e), 0);
	collector_procs.commit(f->state);
}

static int64_t q(struct fx *f, const char *sql)
{
	return store_query_int(&f->st, sql, -1);
}

static char *qs(struct fx *f, const char *sql)
{
	static char out[1024];
	sqlite3_stmt *st;
	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(f->st.db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* Clock ticks "now" for fake processes: the scanner takes processes that
 * started after the daemon from CLOCK_BOOTTIME, so a start far in the
 * future is "new" and 1 is "old". */
#define OLD 1
#define NEW 0xFFFFFFFFFFULL

static void counters_and_sparse_rows(void **state)
{
	struct fx *f = *state;
	struct fake_proc a = {.pid = 100,
			      .comm = "svc",
			      .cmdline = "svc --serve",
			      .start = OLD,
			      .utime = 1000,
			      .stime = 500,
			      .run_ns = 1,
			      .rss_pages = 100,
			      .read_bytes = 1 << 20,
			      .fds = 5,
			      .nofile = 10};
	fake_proc_write(f->root, &a);
	start(f);
	tick(f); /* nothing ran: the first row carries the gauges */
	assert_int_equal(q(f, "SELECT user_ms FROM group_cpu WHERE group_name='svc'"), 0);
	assert_int_equal(q(f, "SELECT worst_fd_pct_x100 FROM group_sample"), 5000);
	tick(f); /* still nothing: no row (sparse) */
	assert_int_equal(q(f, "SELECT count(*) FROM group_sample"), 1);
	/* and the scanner skipped the idle process */
	assert_int_equal(q(f,
			   "SELECT procs_count*100 + full_count*10 + skipped_count FROM procs_scan "
			   "ORDER BY ts DESC LIMIT 1"),
			 101);

	a.utime += 30, a.stime += 20, a.run_ns = 2, a.read_bytes += 4096;
	fake_proc_write(f->root, &a);
	struct fake_proc b = {
	    .pid = 101, .ppid = 100, .comm = "svc", .start = NEW, .utime = 7, .run_ns = 1};
	fake_proc_write(f->root, &b);
	tick(f);
	int64_t ts = f->ts;
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT user_ms*1000000 + system_ms*1000 FROM group_cpu WHERE ts=%lld",
		 (long long)ts);
	assert_int_equal(q(f, sql), (300 + 70) * 1000000LL + 200 * 1000);
	snprintf(sql, sizeof(sql),
		 "SELECT procs_count*10000 + threads_count*1000 + sleeping_count*100 + "
		 "running_count*10 + zombie_count FROM group_tasks WHERE ts=%lld",
		 (long long)ts);
	assert_int_equal(q(f, sql), 2 * 10000 + 2 * 1000 + 2 * 100);
	snprintf(sql, sizeof(sql), "SELECT read_bytes FROM group_io WHERE ts=%lld", (long long)ts);
	assert_int_equal(q(f, sql), 4096);
	assert_int_equal(q(f, "SELECT count(*) FROM process"), 2);

	/* b exits; the parent reaps it (its 7 ticks plus 3 more) and a child
	 * never seen (50 ticks): the group gets 3 + 50 ticks, nothing twice */
	fake_proc_remove(f->root, 101);
	a.cutime = 7 + 3 + 50, a.run_ns = 3;
	fake_proc_write(f->root, &a);
	tick(f);
	snprintf(sql, sizeof(sql),
		 "SELECT user_ms*1000 + reaped_cpu_ms FROM group_cpu WHERE ts=%lld",
		 (long long)f->ts);
	assert_int_equal(q(f, sql), 530 * 1000 + 530);
}

static void children_join_parent(void **state)
{
	struct fx *f = *state;
	char rules[4300];
	snprintf(rules, sizeof(rules), "%s/pe.yml", f->dir);
	write_file(rules, "process_names:\n"
			  "  - name: 'app:{{.Matches.role}}'\n"
			  "    comm: [app]\n"
			  "    cmdline: ['--role=(?P<role>\\w+)']\n");
	memcpy(f->acct_opt.rules_file, rules, strlen(rules) + 1);
	struct fake_proc app = {
	    .pid = 200, .comm = "app", .cmdline = "app --role=web", .start = OLD, .run_ns = 1};
	struct fake_proc sh = {
	    .pid = 201, .ppid = 200, .comm = "sh", .cmdline = "sh -c x", .start = OLD, .run_ns = 1};
	struct fake_proc grand = {.pid = 150,
				  .ppid = 201,
				  .comm = "worker",
				  .start = OLD,
				  .run_ns = 1}; /* a lower pid than its parents */
	struct fake_proc other = {.pid = 300, .comm = "cron", .start = OLD, .run_ns = 1};
	fake_proc_write(f->root, &app);
	fake_proc_write(f->root, &sh);
	fake_proc_write(f->root, &grand);
	fake_proc_write(f->root, &other);
	start(f);
	tick(f);
	assert_string_equal(qs(f, "SELECT group_concat(name) FROM proc_group"), "app:web");
	assert_int_equal(q(f, "SELECT procs_count FROM group_sample"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM process WHERE group_id IS NULL"), 1);

	stop(f);
	f->acct_opt.children = 0;
	start(f);
	tick(f);
	assert_int_equal(q(f, "SELECT procs_count FROM group_sample ORDER BY ts DESC"), 1);
}

static void process_rows_and_top(void **state)
{
	struct fx *f = *state;
	f->opt.cmdline_max_bytes = 40;
	f->opt.top_processes = 1;
	struct fake_proc a = {.pid = 400,
			      .comm = "db",
			      .start = OLD,
			      .run_ns = 1,
			      .uid = 0,
			      .cmdline = "db --password=hunter2 --token abc --x=0123456789abcdef",
			      .rss_pages = 1000};
	struct fake_proc b = {
	    .pid = 401, .comm = "busy", .start = OLD, .run_ns = 1, .rss_pages = 10};
	fake_proc_write(f->root, &a);
	fake_proc_write(f->root, &b);
	start(f);
	b.utime = 100, b.run_ns = 2;
	fake_proc_write(f->root, &b);
	tick(f);
	assert_string_equal(qs(f, "SELECT cmdline FROM process WHERE pid=400"),
			    "db --password=*** --token *** --x=012345");
	assert_string_equal(qs(f, "SELECT user FROM process WHERE pid=400"), "root");
	/* top 1 by CPU is busy, top 1 by RSS is db */
	assert_string_equal(qs(f, "SELECT group_concat(comm || ':' || cpu_pct, ' ') FROM "
				  "(SELECT * FROM top_processes ORDER BY pid)"),
			    "db:0.0 busy:100.0");

	/* pid reuse: a new process row, the old one kept */
	fake_proc_remove(f->root, 401);
	struct fake_proc c = {.pid = 401, .comm = "new", .start = NEW, .run_ns = 9};
	fake_proc_write(f->root, &c);
	tick(f);
	assert_int_equal(q(f, "SELECT count(*) FROM process WHERE pid=401"), 2);
	assert_string_equal(qs(f, "SELECT group_concat(comm) FROM process WHERE pid=401"),
			    "busy,new");
}

static void recheck_wrapper_that_execs(void **state)
{
	struct fx *f = *state;
	char rules[4300];
	snprintf(rules, sizeof(rules), "%s/pe.yml", f->dir);
	write_file(rules, "process_names:\n  - {name: java, comm: [java]}\n");
	memcpy(f->acct_opt.rules_file, rules, strlen(rules) + 1);
	f->acct_opt.recheck_ms = 3600 * 1000;
	/* started "now" as seen from CLOCK_BOOTTIME, so inside the window */
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	unsigned long long now =
	    (unsigned long long)ts.tv_sec * (unsigned long long)sysconf(_SC_CLK_TCK);
	struct fake_proc w = {.pid = 500, .comm = "run.sh", .start = now, .run_ns = 1};
	fake_proc_write(f->root, &w);
	start(f);
	tick(f);
	assert_int_equal(q(f, "SELECT count(*) FROM group_sample"), 0); /* not tracked yet */
	assert_int_equal(q(f, "SELECT group_id IS NULL FROM process WHERE pid=500"), 1);
	w.comm = "java", w.run_ns = 2, w.utime = 40;
	fake_proc_write(f->root, &w);
	tick(f);
	assert_string_equal(qs(f, "SELECT group_name || ':' || user_ms FROM group_cpu"),
			    "java:400");
	assert_string_equal(
	    qs(f, "SELECT g.name FROM process p JOIN proc_group g ON g.id = p.group_id "
		  "WHERE pid=500"),
	    "java");
}

/* An exit of a process the scanner never saw (it lived and died between two
 * ticks) goes to the group of its own rule, else, when children join their
 * parent's group, to its parent's: here nginx's, since only nginx has a
 * rule. */
static void exit_never_scanned_joins_parent(void **state)
{
	struct fx *f = *state;
	char rules[4300];
	snprintf(rules, sizeof(rules), "%s/pe.yml", f->dir);
	write_file(rules, "process_names:\n  - {name: web, comm: [nginx]}\n");
	memcpy(f->acct_opt.rules_file, rules, strlen(rules) + 1);
	struct fake_proc p = {.pid = 600, .comm = "nginx", .start = OLD, .run_ns = 1};
	fake_proc_write(f->root, &p);
	start(f);
	tick(f);
	acct_exits_reported(f->acct, 1);
	struct proc_exit x = {.pid = 602,
			      .ppid = 600,
			      .start_ticks = NEW,
			      .comm = "sh",
			      .argv = "sh\0",
			      .argv_len = 3,
			      .utime_ns = 120000000,
			      .stime_ns = 30000000,
			      .read_bytes = 4096};
	acct_exit(f->acct, &x);
	x = (struct proc_exit){.pid = 603, .ppid = 1, .start_ticks = NEW, .comm = "orphan"};
	x.utime_ns = 50000000;
	acct_exit(f->acct, &x); /* no rule, no tracked parent: in no group */
	tick(f);
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "SELECT user_ms*1000 + system_ms FROM group_cpu WHERE ts=%lld AND "
		 "group_name='web'",
		 (long long)f->ts);
	assert_int_equal(q(f, sql), 120 * 1000 + 30);
	assert_int_equal(q(f, "SELECT count(*) FROM proc_group"), 1);
	assert_int_equal(q(f, "SELECT sum(read_bytes) FROM group_io"), 4096);
}

/* Exits reported by eBPF: a tracked process adds its growth since its last
 * reading (and nothing as a zombie), one never seen is classified and
 * counted whole, and a parent's cutime growth is not added again. */
static void exits_reported_by_ebpf(void **state)
{
	struct fx *f = *state;
	struct fake_proc make = {
	    .pid = 700, .comm = "make", .utime = 100, .start = OLD, .run_ns = 1};
	struct fake_proc cc = {
	    .pid = 701, .ppid = 700, .comm = "cc", .utime = 50, .start = OLD, .run_ns = 1};
	struct fake_proc as = {
	    .pid = 703, .ppid = 700, .comm = "as", .utime = 20, .start = OLD, .run_ns = 1};
	fake_proc_write(f->root, &make);
	fake_proc_write(f->root, &cc);
	fake_proc_write(f->root, &as);
	start(f);
	tick(f);
	/* cc exits and is reaped; as exits and stays a zombie a while longer. */
	fake_proc_remove(f->root, 701);
	as.state = 'Z';
	as.utime = 25;
	as.run_ns = 2;
	fake_proc_write(f->root, &as);
	make.cutime = 65;
	make.run_ns = 2;
	fake_proc_write(f->root, &make);
	acct_exits_reported(f->acct, 1);
	struct proc_exit x = {.pid = 701,
			      .ppid = 700,
			      .start_ticks = OLD,
			      .comm = "cc",
			      .utime_ns = 650000000,
			      .read_bytes = 4096};
	acct_exit(f->acct, &x);
	x = (struct proc_exit){
	    .pid = 703, .ppid = 700, .start_ticks = OLD, .comm = "as", .utime_ns = 230000000};
	acct_exit(f->acct, &x);
	x = (struct proc_exit){.pid = 702,
			       .ppid = 700,
			       .start_ticks = 12345,
			       .comm = "ld",
			       .utime_ns = 12400000,
			       .stime_ns = 3600000};
	acct_exit(f->acct, &x);
	tick(f);
	char sql[200];
	const struct {
		const char *group;
		int64_t user_ms, system_ms;
	} want[] = {{"cc", 150, 0}, {"as", 30, 0}, {"ld", 12, 4}, {"make", 0, 0}};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT coalesce(sum(user_ms * 1000 + system_ms), 0) FROM group_cpu "
			 "WHERE ts = %lld AND group_name = '%s'",
			 (long long)f->ts, want[i].group);
		if (q(f, sql) != want[i].user_ms * 1000 + want[i].system_ms)
			fail_msg("group %s: %lld, expected user %lld system %lld ms", want[i].group,
				 (long long)q(f, sql), (long long)want[i].user_ms,
				 (long long)want[i].system_ms);
	}
	assert_int_equal(q(f, "SELECT sum(reaped_cpu_ms) FROM group_cpu"), 0);
	/* The zombie's later reading adds nothing either. */
	as.utime = 26;
	as.run_ns = 3;
	fake_proc_write(f->root, &as);
	tick(f);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM group_cpu WHERE ts = %lld AND group_name = 'as' AND "
		 "user_ms > 0",
		 (long long)f->ts);
	assert_int_equal(q(f, sql), 0);
}

/* A process that /proc first meets as a zombie while eBPF reports exits is
 * counted once, whether its exit record came before the scan or after. */
static void zombies_counted_once(void **state)
{
	struct fx *f = *state;
	struct fake_proc make = {.pid = 800, .comm = "make", .start = OLD, .run_ns = 1};
	fake_proc_write(f->root, &make);
	start(f);
	acct_exits_reported(f->acct, 1);
	tick(f);
	/* The record first, then the zombie. */
	struct proc_exit x = {
	    .pid = 801, .ppid = 800, .start_ticks = NEW, .comm = "cc", .utime_ns = 300000000};
	acct_exit(f->acct, &x);
	struct fake_proc cc = {
	    .pid = 801, .ppid = 800, .comm = "cc", .state = 'Z', .utime = 30, .start = NEW};
	fake_proc_write(f->root, &cc);
	tick(f);
	/* The zombie first, then the record. */
	struct fake_proc ld = {
	    .pid = 802, .ppid = 800, .comm = "ld", .state = 'Z', .utime = 10, .start = NEW};
	fake_proc_write(f->root, &ld);
	tick(f);
	x = (struct proc_exit){
	    .pid = 802, .ppid = 800, .start_ticks = NEW, .comm = "ld", .utime_ns = 100000000};
	acct_exit(f->acct, &x);
	tick(f);
	tick(f);
	assert_int_equal(q(f, "SELECT sum(user_ms) FROM group_cpu WHERE group_name = 'cc'"), 300);
	assert_int_equal(q(f, "SELECT sum(user_ms) FROM group_cpu WHERE group_name = 'ld'"), 100);
}

/* A tick whose transaction is rolled back loses nothing: the next stored
 * row carries both intervals' counters, and process rows inserted by the
 * lost tick are written again (its top rows are not). */
static void rolled_back_tick(void **state)
{
	struct fx *f = *state;
	struct fake_proc a = {.pid = 700, .comm = "svc", .start = OLD, .run_ns = 1};
	fake_proc_write(f->root, &a);
	start(f);
	tick(f);
	a.utime = 10, a.run_ns = 2;
	fake_proc_write(f->root, &a);
	struct fake_proc b = {.pid = 701, .comm = "svc", .start = NEW, .run_ns = 1, .utime = 5};
	fake_proc_write(f->root, &b);
	struct tick_errors te = {0};
	struct tick t = {.ts = ++f->ts, .dur_ms = 1000, .store = &f->st, .errors = &te};
	struct err e;
	assert_int_equal(store_begin(&f->st, &e), 0);
	assert_int_equal(collector_procs.sample(f->state, &t, &e), 0);
	store_rollback(&f->st); /* and no commit hook */
	a.utime = 30, a.run_ns = 3;
	fake_proc_write(f->root, &a);
	tick(f);
	assert_int_equal(q(f, "SELECT sum(user_ms) FROM group_cpu"), (30 + 5) * 10);
	assert_int_equal(q(f, "SELECT count(*) FROM process WHERE pid=701"), 1);
}

static void cmdline_redaction(void **state)
{
	char out[64];
	const char argv[] = "mysql\0-uroot\0--PASSWORD\0s3cret\0db_password=x\0plain\0";
	cmdline_format(argv, sizeof(argv) - 1, "password=\n--password", out, sizeof(out) - 1);
	assert_string_equal(out, "mysql -uroot --PASSWORD *** db_password=*** plain");
	cmdline_format(argv, sizeof(argv) - 1, "", out, sizeof(out) - 1);
	assert_string_equal(out, "mysql -uroot --PASSWORD s3cret db_password=x plain");
	const char utf[] = "echo\0h\xc3\xa9llo\0";
	cmdline_format(utf, sizeof(utf) - 1, "", out, 7); /* would cut inside é */
	assert_string_equal(out, "echo h");
	cmdline_format("", 0, "", out, 10);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(counters_and_sparse_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(children_join_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(process_rows_and_top, setup, teardown),
	    cmocka_unit_test_setup_teardown(recheck_wrapper_that_execs, setup, teardown),
	    cmocka_unit_test_setup_teardown(exit_never_scanned_joins_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(exits_reported_by_ebpf, setup, teardown),
	    cmocka_unit_test_setup_teardown(zombies_counted_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(rolled_back_tick, setup, teardown),
	    cmocka_unit_test(cmdline_redaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
