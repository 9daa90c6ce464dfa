/* The process scanner on fake proc trees: baseline versus new processes, pid
 * reuse, vanishing processes, threads exiting, skipped idle processes,
 * reaped children; and on the real /proc (permission errors on PID 1). */
#include "fakeproc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "proc/scan.h"

struct fixture {
	char *root;
	int fd;
	struct proc_scan s;
	struct tick_errors te;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->root = temp_dir();
	f->fd = open(f->root, O_RDONLY | O_DIRECTORY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	proc_scan_free(&f->s);
	close(f->fd);
	rm_rf(f->root);
	free(f->root);
	free(f);
	return 0;
}

static void scan(struct fixture *f)
{
	struct err e;
	memset(&f->te, 0, sizeof(f->te));
	assert_int_equal(proc_scan_run(&f->s, &f->te, &e), 0);
}

static void init(struct fixture *f, unsigned refresh)
{
	struct proc_scan_opts o = {.refresh = refresh, .start_ticks = 1000};
	struct err e;
	assert_int_equal(proc_scan_init(&f->s, f->fd, &o, &e), 0);
}

static void baseline_then_growth(void **state)
{
	struct fixture *f = *state;
	struct fake_proc kt = {.pid = 2, .comm = "kthreadd", .kthread = 1, .start = 1, .run_ns = 1};
	fake_proc_write(f->root, &kt);
	struct fake_proc old = {.pid = 10,
				.ppid = 1,
				.comm = "old one",
				.utime = 500,
				.stime = 100,
				.start = 500,
				.run_ns = 1,
				.slices = 1,
				.vcsw = 40,
				.read_bytes = 4096,
				.rss_pages = 10,
				.fds = 3};
	fake_proc_write(f->root, &old);
	init(f, 0);
	scan(f);
	struct proc_entry *p = proc_scan_find(&f->s, 10);
	assert_non_null(p);
	assert_string_equal(p->comm, "old one");
	assert_int_equal(p->delta.utime, 0); /* running before the daemon: growth only */
	assert_int_equal(p->fds, 3);
	assert_int_equal(p->fd_limit, 1024);
	assert_int_equal(p->flags & PF_KTHREAD, 0);
	assert_true(proc_scan_find(&f->s, 2)->flags & PF_KTHREAD);

	old.utime = 530, old.vcsw = 45, old.read_bytes = 8192, old.run_ns = 2, old.slices = 2;
	fake_proc_write(f->root, &old);
	struct fake_proc young = {.pid = 11,
				  .ppid = 10,
				  .comm = "young",
				  .utime = 70,
				  .stime = 5,
				  .start = 2000,
				  .run_ns = 5,
				  .slices = 1,
				  .write_bytes = 100};
	fake_proc_write(f->root, &young);
	scan(f);
	p = proc_scan_find(&f->s, 10);
	assert_int_equal(p->delta.utime, 30);
	assert_int_equal(p->delta.vcsw, 5);
	assert_int_equal(p->delta.read_bytes, 4096);
	assert_int_equal(p->flags & PF_NEW, 0);
	p = proc_scan_find(&f->s, 11);
	assert_true(p->flags & PF_NEW);
	assert_int_equal(p->delta.utime, 70); /* started since: whole counters */
	assert_int_equal(p->delta.stime, 5);
	assert_int_equal(p->delta.write_bytes, 100);
	assert_int_equal(f->s.st.procs, 3);
}

static void idle_process_is_not_reread(void **state)
{
	struct fixture *f = *state;
	struct fake_proc a = {
	    .pid = 20, .comm = "idle", .utime = 10, .start = 1, .run_ns = 7, .slices = 3};
	fake_proc_write(f->root, &a);
	init(f, 0);
	scan(f);
	/* stat changes but schedstat does not: the process did not run, so the
	 * scanner must not read stat (proof that it skips) */
	a.utime = 99;
	fake_proc_write(f->root, &a);
	scan(f);
	struct proc_entry *p = proc_scan_find(&f->s, 20);
	assert_int_equal(p->delta.utime, 0);
	assert_int_equal(f->s.st.skipped, 1);
	assert_int_equal(f->s.st.full, 0);
	/* once it runs, the growth hidden by the skip is counted: nothing lost */
	a.run_ns = 8;
	fake_proc_write(f->root, &a);
	scan(f);
	p = proc_scan_find(&f->s, 20);
	assert_int_equal(p->delta.utime, 89);
}

static void multi_threaded_reads_stat(void **state)
{
	struct fixture *f = *state;
	struct fake_proc a = {.pid = 21,
			      .comm = "java",
			      .utime = 10,
			      .start = 1,
			      .run_ns = 7,
			      .slices = 3,
			      .threads = 8,
			      .vcsw = 100};
	fake_proc_write(f->root, &a);
	init(f, 0);
	scan(f);
	a.utime = 40; /* a worker ran; the main thread (schedstat) did not */
	a.vcsw = 90;  /* and a thread exited: summed switches went down */
	a.threads = 7;
	fake_proc_write(f->root, &a);
	scan(f);
	struct proc_entry *p = proc_scan_find(&f->s, 21);
	assert_int_equal(p->delta.utime, 30);
	assert_int_equal(p->delta.vcsw, 0); /* never an underflow */
	assert_int_equal(p->threads, 7);
	a.vcsw = 95;
	fake_proc_write(f->root, &a); /* stat unchanged: status not re-read */
	scan(f);
	p = proc_scan_find(&f->s, 21);
	assert_int_equal(p->delta.vcsw, 0);
	assert_int_equal(f->s.st.skipped, 1);
}

static void pid_reuse_and_vanishing(void **state)
{
	struct fixture *f = *state;
	struct fake_proc a = {.pid = 30, .comm = "first", .utime = 10, .start = 1, .run_ns = 1};
	struct fake_proc b = {.pid = 31, .comm = "goner", .utime = 10, .start = 1, .run_ns = 1};
	fake_proc_write(f->root, &a);
	fake_proc_write(f->root, &b);
	init(f, 0);
	scan(f);
	fake_proc_remove(f->root, 30);
	fake_proc_remove(f->root, 31);
	struct fake_proc a2 = {.pid = 30, .comm = "second", .utime = 3, .start = 5000, .run_ns = 1};
	fake_proc_write(f->root, &a2); /* same pid, same schedstat, new start time */
	scan(f);
	/* same schedstat means the scanner trusts the cache for pid 30 until the
	 * process runs; so give it a run and check the new identity is taken */
	a2.run_ns = 2;
	fake_proc_write(f->root, &a2);
	scan(f);
	struct proc_entry *p = proc_scan_find(&f->s, 30);
	assert_string_equal(p->comm, "second");
	assert_int_equal(p->start_ticks, 5000);
	assert_true(p->flags & PF_NEW);
	assert_int_equal(p->delta.utime, 3);
	assert_int_equal(f->s.ngone, 1);
	assert_string_equal(f->s.gone[0].comm, "first");
	assert_null(proc_scan_find(&f->s, 31));
}

static void reaped_children(void **state)
{
	struct fixture *f = *state;
	struct fake_proc par = {.pid = 40, .comm = "shell", .start = 1, .run_ns = 1, .cutime = 5};
	struct fake_proc kid = {.pid = 41,
				.ppid = 40,
				.comm = "make",
				.start = 1,
				.run_ns = 1,
				.utime = 50,
				.stime = 20,
				.cutime = 8};
	fake_proc_write(f->root, &par);
	fake_proc_write(f->root, &kid);
	init(f, 0);
	scan(f);
	/* the child ran 30 more ticks of user time, exited and was reaped; an
	 * unseen short-lived child also used 100 user + 10 system */
	fake_proc_remove(f->root, 41);
	par.run_ns = 2, par.cutime = 5 + (80 + 8) + 100, par.cstime = 20 + 10;
	fake_proc_write(f->root, &par);
	scan(f);
	struct proc_entry *p = proc_scan_find(&f->s, 40);
	assert_int_equal(p->reaped_utime, 30 + 100);
	assert_int_equal(p->reaped_stime, 10);
	assert_int_equal(p->delta.utime, 0);
}

static void reaped_child_seen_late(void **state)
{
	struct fixture *f = *state;
	struct fake_proc par = {.pid = 50, .comm = "shell", .start = 1, .run_ns = 1};
	struct fake_proc kid = {
	    .pid = 51, .ppid = 50, .comm = "cc", .start = 1, .run_ns = 1, .utime = 50};
	fake_proc_write(f->root, &par);
	fake_proc_write(f->root, &kid);
	init(f, 0);
	scan(f);
	/* the child is gone but the parent's cutime shows it only a scan later */
	fake_proc_remove(f->root, 51);
	scan(f);
	par.run_ns = 2, par.cutime = 60;
	fake_proc_write(f->root, &par);
	scan(f);
	assert_int_equal(proc_scan_find(&f->s, 50)->reaped_utime, 10);
	/* an unmatched credit does not eat later growth forever */
	par.run_ns = 3, par.cutime = 80;
	fake_proc_write(f->root, &par);
	scan(f);
	assert_int_equal(proc_scan_find(&f->s, 50)->reaped_utime, 20);
}

/* A child and its own child both exit between two scans (a make running cc
 * running cc1): the grandchild's seen CPU is in the grandparent's cutime
 * growth, through the child's cutime, but not in the child's last reading,
 * so the child's credit alone would count it twice. */
static void reaped_grandchild(void **state)
{
	struct fixture *f = *state;
	struct fake_proc mk = {.pid = 60, .comm = "make", .start = 1, .run_ns = 1};
	struct fake_proc cc = {
	    .pid = 61, .ppid = 60, .comm = "cc", .start = 1, .run_ns = 1, .utime = 3};
	struct fake_proc cc1 = {
	    .pid = 62, .ppid = 61, .comm = "cc1", .start = 1, .run_ns = 1, .utime = 10};
	fake_proc_write(f->root, &mk);
	fake_proc_write(f->root, &cc);
	fake_proc_write(f->root, &cc1);
	init(f, 0);
	scan(f);
	/* cc1 is seen using 30 more ticks */
	cc1.run_ns = 2, cc1.utime = 40, cc1.stime = 4;
	fake_proc_write(f->root, &cc1);
	scan(f);
	assert_int_equal(proc_scan_find(&f->s, 62)->delta.utime, 30);
	/* cc1 runs 5 more and is reaped by cc, which runs 2 more and is reaped
	 * by make: make's cutime grows by cc's whole totals */
	fake_proc_remove(f->root, 62);
	fake_proc_remove(f->root, 61);
	mk.run_ns = 2, mk.cutime = (3 + 2) + (40 + 5), mk.cstime = 4;
	fake_proc_write(f->root, &mk);
	scan(f);
	struct proc_entry *p = proc_scan_find(&f->s, 60);
	assert_int_equal(p->reaped_utime, 5 + 2);
	assert_int_equal(p->reaped_stime, 0);
}

static void refresh_rereads_everything(void **state)
{
	struct fixture *f = *state;
	struct fake_proc a = {.pid = 60, .comm = "idle", .start = 1, .run_ns = 1, .rss_pages = 10};
	fake_proc_write(f->root, &a);
	init(f, 2);
	scan(f);
	a.rss_pages = 5; /* reclaimed while asleep */
	fake_proc_write(f->root, &a);
	scan(f);
	scan(f);
	assert_int_equal(proc_scan_find(&f->s, 60)->rss_kb,
			 5 * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024));
}

static void garbage_is_counted_not_fatal(void **state)
{
	struct fixture *f = *state;
	struct fake_proc a = {.pid = 70, .comm = "ok", .start = 1, .run_ns = 1};
	struct fake_proc b = {.pid = 71, .comm = "bad", .start = 1, .run_ns = 1};
	fake_proc_write(f->root, &a);
	fake_proc_write(f->root, &b);
	fake_write(f->root, 71, "stat", "71 (bad) S 1 2 3");
	init(f, 0);
	scan(f);
	assert_int_equal(f->te.parse, 1);
	assert_non_null(proc_scan_find(&f->s, 70));
	assert_null(proc_scan_find(&f->s, 71));
	/* a known process that turns unreadable is kept, not counted again */
	a.utime = 5, a.run_ns = 2;
	fake_proc_write(f->root, &a);
	fake_write(f->root, 70, "stat", "garbage");
	scan(f);
	assert_int_equal(f->te.parse, 2); /* 70 and, still, 71 */
	struct proc_entry *p = proc_scan_find(&f->s, 70);
	assert_non_null(p);
	assert_int_equal(p->delta.utime, 0);
	assert_int_equal(f->s.ngone, 0);
	fake_proc_write(f->root, &a);
	scan(f);
	assert_int_equal(proc_scan_find(&f->s, 70)->delta.utime, 5);
}

/* Files that are not what /proc holds: a FIFO, /dev/zero, a status past
 * the cap of a /proc/PID file. Each is a read error; the scan neither
 * blocks nor reads the device, and the buffer stays within the cap. */
static void hostile_files_are_refused(void **state)
{
	struct fixture *f = *state;
	struct fake_proc a = {.pid = 90, .comm = "fifo", .start = 1, .run_ns = 1};
	struct fake_proc b = {.pid = 91, .comm = "zero", .start = 1, .run_ns = 1};
	struct fake_proc c = {.pid = 92, .comm = "big", .start = 1, .run_ns = 1};
	fake_proc_write(f->root, &a);
	fake_proc_write(f->root, &b);
	fake_proc_write(f->root, &c);
	char path[4200];
	snprintf(path, sizeof(path), "%s/90/schedstat", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/90/stat", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/91/stat", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/dev/zero", path), 0);
	snprintf(path, sizeof(path), "%s/92/status", f->root);
	assert_int_equal(truncate(path, 2 << 20), 0);
	init(f, 0);
	scan(f);
	assert_int_equal(f->te.read, 3); /* 90 stat, 91 stat, 92 status */
	assert_null(proc_scan_find(&f->s, 90));
	assert_null(proc_scan_find(&f->s, 91));
	assert_non_null(proc_scan_find(&f->s, 92)); /* stat read, status refused */
	assert_true(f->s.buf.cap <= SOURCE_MAX_SMALL + 2);
	char argv[64];
	snprintf(path, sizeof(path), "%s/92/cmdline", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(proc_read_cmdline(&f->s, 92, argv, sizeof(argv)), -ENXIO);
}

/* Many processes coming and going: the table (open addressing with
 * backward-shift deletion, growing) must find exactly the live ones. */
static void churn(void **state)
{
	struct fixture *f = *state;
	enum { N = 700 };
	static char live[N];
	memset(live, 0, sizeof(live));
	srand(42);
	init(f, 0);
	for (int i = 0; i < N; i++) {
		struct fake_proc p = {.pid = i + 2, .comm = "c", .start = 1, .run_ns = 1};
		fake_proc_write(f->root, &p);
		live[i] = 1;
	}
	for (int round = 0; round < 12; round++) {
		/* a process leaves or comes back by renaming its directory */
		for (int k = 0; k < 300; k++) {
			int i = rand() % N;
			char a[4200], b[4200];
			snprintf(a, sizeof(a), "%s/%d", f->root, i + 2);
			snprintf(b, sizeof(b), "%s/gone-%d", f->root, i + 2);
			assert_int_equal(live[i] ? rename(a, b) : rename(b, a), 0);
			live[i] = !live[i];
		}
		scan(f);
		int count = 0;
		for (int i = 0; i < N; i++) {
			struct proc_entry *p = proc_scan_find(&f->s, i + 2);
			if (live[i] != (p != NULL))
				fail_msg("round %d: pid %d live %d found %d", round, i + 2, live[i],
					 p != NULL);
			count += live[i];
		}
		assert_int_equal(f->s.nent, count);
	}
}

/* An unreadable io file (another user's process, read without privilege) is
 * a partial read: counted, the rest of the process still read. Root reads
 * everything, so the scan runs in a child that became nobody. */
static void permission_error_is_partial_read(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0)
		skip();
	struct fake_proc a = {
	    .pid = 80, .comm = "secret", .start = 1, .run_ns = 1, .utime = 9, .read_bytes = 100};
	fake_proc_write(f->root, &a);
	char path[4200];
	snprintf(path, sizeof(path), "%s/80/io", f->root);
	assert_int_equal(chmod(path, 0), 0);
	snprintf(path, sizeof(path), "%s/80/fd", f->root);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(chmod(f->root, 0755), 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		init(f, 0);
		scan(f);
		struct proc_entry *p = proc_scan_find(&f->s, 80);
		int rc = !p ? 11 : f->te.permission != 2 ? 12 : p->last.read_bytes != 0 ? 13 : 0;
		if (!rc)
			rc = !(p->flags & PF_IO_DENIED) ? 14 : !(p->flags & PF_FD_DENIED) ? 15 : 0;
		_exit(rc ? rc : p->last.utime != 9 ? 16 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* On procfs schedstat stays open: an idle process costs one pread, and a
 * process that exits is noticed (ESRCH) and its descriptor closed. */
static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* An idle child, with `threads` threads, that dies with the test. */
static pid_t idle_child(int threads)
{
	pid_t kid = fork();
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 1; i < threads; i++) {
			pthread_t t;
			pthread_create(&t, NULL, sleeper, NULL);
		}
		for (;;)
			pause();
	}
	return kid;
}

static uint32_t count_kept(const struct proc_scan *s)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nent; i++)
		n += s->ent[i].kfd >= 0;
	return n;
}

/* On procfs the file read every tick stays open: schedstat for a
 * single-threaded process, stat for a multi-threaded one; an idle process
 * costs one pread, and one that exits is noticed (ESRCH) and its
 * descriptor closed. */
static void real_proc_keeps_files_open(void **state)
{
	(void)state;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);
	struct proc_scan_opts o = {0};
	struct err e;
	struct proc_scan s;
	pid_t one = idle_child(1), four = idle_child(4);
	usleep(200000);
	assert_int_equal(proc_scan_init(&s, fd, &o, &e), 0);
	assert_true(s.fd_budget > 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(proc_scan_run(&s, NULL, &e), 0);
	struct proc_entry *p = proc_scan_find(&s, one), *q = proc_scan_find(&s, four);
	assert_non_null(p);
	assert_non_null(q);
	assert_true(p->kfd >= 0 && !(p->flags & PF_KFD_STAT));
	assert_true(q->kfd >= 0 && (q->flags & PF_KFD_STAT));
	assert_int_equal(q->threads, 4);
	/* idle: skipped through the kept descriptors */
	assert_int_equal(p->flags & PF_READ, 0);
	assert_int_equal(q->flags & PF_READ, 0);
	assert_int_equal(count_kept(&s), s.nfds);
	kill(one, SIGKILL);
	kill(four, SIGKILL);
	waitpid(one, NULL, 0);
	waitpid(four, NULL, 0);
	assert_int_equal(proc_scan_run(&s, NULL, &e), 0);
	assert_null(proc_scan_find(&s, one));
	assert_null(proc_scan_find(&s, four));
	assert_int_equal(count_kept(&s), s.nfds); /* theirs were closed */
	proc_scan_free(&s);
	close(fd);
}

static void real_proc(void **state)
{
	struct fixture *f = *state;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);
	struct proc_scan_opts o = {0};
	struct err e;
	struct proc_scan s;
	struct tick_errors te = {0};
	assert_int_equal(proc_scan_init(&s, fd, &o, &e), 0);
	assert_int_equal(proc_scan_run(&s, &te, &e), 0);
	struct proc_entry *me = proc_scan_find(&s, getpid());
	assert_non_null(me);
	assert_string_equal(me->comm, "test_scan");
	assert_int_equal(me->ppid, getppid());
	assert_true(s.st.procs > 2);
	/* PID 1 hides io from root here: a partial read, counted, not fatal */
	if (geteuid() == 0 && access("/proc/1/io", R_OK) == 0 && open("/proc/1/io", O_RDONLY) < 0) {
		assert_true(te.permission >= 1);
		assert_non_null(proc_scan_find(&s, 1));
	}
	proc_scan_free(&s);
	close(fd);
	(void)f;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(baseline_then_growth, setup, teardown),
	    cmocka_unit_test_setup_teardown(idle_process_is_not_reread, setup, teardown),
	    cmocka_unit_test_setup_teardown(multi_threaded_reads_stat, setup, teardown),
	    cmocka_unit_test_setup_teardown(pid_reuse_and_vanishing, setup, teardown),
	    cmocka_unit_test_setup_teardown(reaped_children, setup, teardown),
	    cmocka_unit_test_setup_teardown(reaped_child_seen_late, setup, teardown),
	    cmocka_unit_test_setup_teardown(reaped_grandchild, setup, teardown),
	    cmocka_unit_test_setup_teardown(refresh_rereads_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(garbage_is_counted_not_fatal, setup, teardown),
	    cmocka_unit_test_setup_teardown(hostile_files_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(churn, setup, teardown),
	    cmocka_unit_test_setup_teardown(permission_error_is_partial_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(real_proc, setup, teardown),
	    cmocka_unit_test(real_proc_keeps_files_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
