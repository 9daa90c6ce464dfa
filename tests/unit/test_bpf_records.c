/* The eBPF records on the daemon's side: the bounded arena, malformed
 * records, argv text, exit status and units; and the `bpf:` config section. */
#include "testutil.h"

#include "bpf/records.h"
#include "daemon/config.h"

static struct hs_exec exec_rec(const char *args, size_t len)
{
	struct hs_exec x;
	memset(&x, 0, sizeof(x));
	x.h.type = HS_EV_EXEC;
	x.h.pid = 42;
	x.h.time_ns = 5000;
	memcpy(x.args, args, len);
	x.args_len = (uint32_t)len;
	return x;
}

static size_t exec_size(const struct hs_exec *x)
{
	return offsetof(struct hs_exec, args) + x->args_len;
}

static void arena_keeps_order_and_converts_time(void **state)
{
	struct record_buf b;
	record_buf_init(&b, 1 << 20);
	struct hs_exec x = exec_rec("ls\0-l\0", 6);
	struct hs_exit y;
	memset(&y, 0, sizeof(y));
	y.h.type = HS_EV_EXIT;
	y.h.time_ns = 7000;
	assert_int_equal(record_buf_push(&b, &x, exec_size(&x), 1000000), 0);
	assert_int_equal(record_buf_push(&b, &y, sizeof(y), 1000000), 0);
	struct record r;
	size_t pos = 0;
	assert_true(record_buf_next(&b, &pos, &r));
	assert_int_equal(record_type(&r), HS_EV_EXEC);
	assert_int_equal(r.epoch_ns, 1005000);
	assert_int_equal(r.size, exec_size(&x));
	assert_memory_equal(r.data, &x, r.size);
	assert_true(record_buf_next(&b, &pos, &r));
	assert_int_equal(record_type(&r), HS_EV_EXIT);
	assert_int_equal(r.epoch_ns, 1007000);
	assert_false(record_buf_next(&b, &pos, &r));
	record_buf_clear(&b);
	pos = 0;
	assert_false(record_buf_next(&b, &pos, &r));
	record_buf_free(&b);
}

static void arena_is_bounded(void **state)
{
	struct record_buf b;
	record_buf_init(&b, 64 * 1024);
	struct hs_exit y;
	memset(&y, 0, sizeof(y));
	y.h.type = HS_EV_EXIT;
	int pushed = 0, rc;
	while ((rc = record_buf_push(&b, &y, sizeof(y), 0)) == 0)
		pushed++;
	assert_int_equal(rc, -1);
	assert_true(pushed > 100);
	assert_true(b.cap <= 64 * 1024);
	/* After a stored tick the same memory is reused. */
	record_buf_clear(&b);
	assert_int_equal(record_buf_push(&b, &y, sizeof(y), 0), 0);
	record_buf_free(&b);
}

static void malformed_records_are_refused(void **state)
{
	struct record_buf b;
	record_buf_init(&b, 1 << 20);
	struct hs_exec x = exec_rec("a", 1);
	assert_int_equal(record_buf_push(&b, &x, 4, 0), 1); /* shorter than a header */
	assert_int_equal(record_buf_push(&b, &x, offsetof(struct hs_exec, args) - 1, 0), 1);
	assert_int_equal(record_buf_push(&b, &x, sizeof(x) + 1, 0), 1);
	x.h.type = 99;
	assert_int_equal(record_buf_push(&b, &x, exec_size(&x), 0), 1);
	struct hs_exit y = {.h.type = HS_EV_EXIT};
	assert_int_equal(record_buf_push(&b, &y, sizeof(y) - 8, 0), 1);
	assert_int_equal(b.malformed, 5);
	assert_int_equal(b.len, 0);
	record_buf_free(&b);
}

static void argv_as_text(void **state)
{
	char out[HS_ARGS_MAX + 1];
	struct hs_exec x = exec_rec("sh\0-c\0exit 7\0", 14);
	assert_int_equal(exec_args_text(&x, exec_size(&x), out, sizeof(out)), 12);
	assert_string_equal(out, "sh -c exit 7");
	/* Cut by the configured limit: no terminating NUL. */
	x = exec_rec("make\0-j", 7);
	exec_args_text(&x, exec_size(&x), out, sizeof(out));
	assert_string_equal(out, "make -j");
	/* args_len claims more than the record carries: only what arrived. */
	x = exec_rec("abc\0def\0", 8);
	exec_args_text(&x, offsetof(struct hs_exec, args) + 3, out, sizeof(out));
	assert_string_equal(out, "abc");
	/* A small output buffer. */
	exec_args_text(&x, exec_size(&x), out, 5);
	assert_string_equal(out, "abc");
	x = exec_rec("", 0);
	assert_int_equal(exec_args_text(&x, exec_size(&x), out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void exit_status_and_units(void **state)
{
	struct hs_exit y;
	struct exit_usage u;
	memset(&y, 0, sizeof(y));
	y.h.time_ns = 12500000000ull;
	y.start_boottime_ns = 10000000000ull; /* 10 s after boot */
	y.exit_code = 7 << 8;
	y.maxrss_pages = 100;
	exit_usage_from(&y, 100, 4096, &u);
	assert_int_equal(u.start_clock_ticks, 1000);
	assert_int_equal(u.lifetime_us, 2500000);
	assert_int_equal(u.exit_code, 7);
	assert_int_equal(u.signal, 0);
	assert_int_equal(u.core_dumped, 0);
	assert_int_equal(u.peak_rss_kb, 400);
	y.exit_code = 9; /* SIGKILL */
	exit_usage_from(&y, 100, 4096, &u);
	assert_int_equal(u.signal, 9);
	assert_int_equal(u.core_dumped, 0);
	y.exit_code = 0x80 | 11; /* SIGSEGV, core dumped */
	exit_usage_from(&y, 100, 4096, &u);
	assert_int_equal(u.signal, 11);
	assert_int_equal(u.core_dumped, 1);
	/* A start after the event (clock oddity) never gives a negative life. */
	y.start_boottime_ns = y.h.time_ns + 1;
	exit_usage_from(&y, 250, 4096, &u);
	assert_int_equal(u.lifetime_us, 0);
	assert_int_equal(u.start_clock_ticks, 12500000000ll / 4000000);
}

static void cpu_split_like_proc(void **state)
{
	struct hs_exit y;
	uint64_t u, s;
	memset(&y, 0, sizeof(y));
	y.cpu_ns = 3000000; /* 3 ms, no tick sampled it */
	exit_cpu_split(&y, &u, &s);
	assert_true(u == 3000000 && s == 0);
	y.utime_ns = 4000000; /* one tick in user mode, one in system */
	y.stime_ns = 4000000;
	y.cpu_ns = 6000000;
	exit_cpu_split(&y, &u, &s);
	assert_true(u == 3000000 && s == 3000000);
	y.utime_ns = 0;
	exit_cpu_split(&y, &u, &s);
	assert_true(u == 0 && s == 6000000);
	y.utime_ns = 1ull << 62; /* no overflow in the scaling */
	y.stime_ns = 1ull << 62;
	y.cpu_ns = 1ull << 63;
	exit_cpu_split(&y, &u, &s);
	assert_true(u == 1ull << 62 && s == 1ull << 62);
}

static int load(struct config *c, const char *yaml, struct err *e)
{
	char *dir = temp_dir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	write_file(path, yaml);
	config_defaults(c);
	int rc = config_load_file(c, path, e);
	if (rc == 0)
		rc = config_validate(c, e);
	rm_rf(dir);
	free(dir);
	return rc;
}

static void config_bpf_section(void **state)
{
	struct config c;
	struct err e;
	assert_int_equal(load(&c, "interval: 5s\n", &e), 0);
	assert_true(c.bpf.enabled && c.bpf.exec && c.bpf.tcp);
	/* the syscall-exit hook costs every process's every system call, and
	 * BPF statistics every BPF program's every run */
	assert_false(c.bpf.syscalls || c.bpf.failed_execs || c.bpf.prog_stats);
	assert_int_equal(c.bpf.args_bytes, 256);
	assert_int_equal(load(&c,
			      "bpf:\n  syscalls: true\n  tcp: off\n  args_bytes: 1024\n"
			      "  ring_kb: 64\n  enabled: yes\n  prog_stats: true\n",
			      &e),
			 0);
	assert_true(c.bpf.syscalls && c.bpf.prog_stats);
	assert_false(c.bpf.tcp);
	assert_true(c.bpf.enabled && c.bpf.exec);
	assert_int_equal(c.bpf.args_bytes, 1024);
	assert_int_equal(c.bpf.ring_kb, 64);

	assert_int_equal(load(&c, "bpf:\n  syscals: false\n", &e), -1);
	assert_non_null(strstr(e.msg, ":2:3: unknown key 'bpf.syscals'"));
	assert_int_equal(load(&c, "bpf:\n  exec: maybe\n", &e), -1);
	assert_non_null(strstr(e.msg, "bpf.exec: expected true or false, got 'maybe'"));
	assert_int_equal(load(&c, "bpf:\n  args_bytes: 5000\n", &e), -1);
	assert_non_null(strstr(e.msg, "bpf.args_bytes: expected a whole number from 0 to 4096"));
	assert_int_equal(load(&c, "bpf: true\n", &e), -1);
	assert_non_null(strstr(e.msg, "bpf must be a mapping"));
	assert_int_equal(load(&c, "bpf:\n  ring_kb: 48\n", &e), -1);
	assert_non_null(strstr(e.msg, "bpf.ring_kb must be a power of two"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(arena_keeps_order_and_converts_time),
	    cmocka_unit_test(arena_is_bounded),
	    cmocka_unit_test(malformed_records_are_refused),
	    cmocka_unit_test(argv_as_text),
	    cmocka_unit_test(exit_status_and_units),
	    cmocka_unit_test(cpu_split_like_proc),
	    cmocka_unit_test(config_bpf_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
