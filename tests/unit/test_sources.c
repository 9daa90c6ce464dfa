/* Reading sources safely: a FIFO, a device, a socket or a directory where a
 * /proc or /sys file should be is refused at once (never blocks, never
 * reads /dev/zero to the end of memory); a file past its cap is refused
 * whole and the buffer stays within the cap; each refusal is logged once. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static char *dir;
static int dfd;

/* A read that blocks fails the test instead of hanging it. */
static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "a source read blocked\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static int setup(void **state)
{
	(void)state;
	dir = temp_dir();
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	signal(SIGALRM, on_alarm);
	alarm(10);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	close(dfd);
	rm_rf(dir);
	free(dir);
	return 0;
}

static void sized_file(const char *name, off_t size)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void fifo_does_not_block(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_int_equal(mkfifoat(dfd, "loadavg", 0644), 0);
	assert_int_equal(buf_read_file(&b, dfd, "loadavg", SOURCE_MAX_SMALL), -ENXIO);
	assert_int_equal(source_open(dfd, "loadavg", SOURCE_MAX_SMALL), -ENXIO);
	buf_free(&b);
}

static void devices_are_refused_unread(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_int_equal(symlinkat("/dev/zero", dfd, "stat"), 0);
	assert_int_equal(symlinkat("/dev/urandom", dfd, "snmp"), 0);
	assert_int_equal(buf_read_file(&b, dfd, "stat", SOURCE_MAX_TABLE), -ENXIO);
	assert_int_equal(buf_read_file(&b, dfd, "snmp", SOURCE_MAX_SMALL), -ENXIO);
	assert_true(b.cap == 0); /* not a byte read */
	buf_free(&b);
}

static void sockets_and_directories_are_refused(void **state)
{
	(void)state;
	struct buf b = {0};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/cpu", dir);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(buf_read_file(&b, dfd, "cpu", SOURCE_MAX_SMALL), -ENXIO);
	close(s);
	assert_int_equal(mkdirat(dfd, "cpuinfo", 0755), 0);
	assert_int_equal(buf_read_file(&b, dfd, "cpuinfo", SOURCE_MAX_TABLE), -EISDIR);
	buf_free(&b);
}

/* A regular file known to be too large is refused before a byte is read. */
static void large_file_refused_by_size(void **state)
{
	(void)state;
	struct buf b = {0};
	sized_file("meminfo", 100 << 20);
	assert_int_equal(buf_read_file(&b, dfd, "meminfo", SOURCE_MAX_SMALL), -EFBIG);
	assert_int_equal(buf_read_file(&b, dfd, "meminfo", SOURCE_MAX_TABLE), -EFBIG);
	assert_true(b.cap == 0);
	buf_free(&b);
}

static void cap_is_inclusive(void **state)
{
	(void)state;
	struct buf b = {0};
	sized_file("at", 100);
	sized_file("past", 101);
	assert_int_equal(buf_read_file(&b, dfd, "at", 100), 0);
	assert_int_equal(b.len, 100);
	assert_int_equal(buf_read_file(&b, dfd, "past", 100), -EFBIG);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

/* procfs reports size 0, so the cap is also kept while reading; the buffer
 * never grows past it. */
static void cap_holds_when_size_is_unknown(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_int_equal(buf_read_file(&b, AT_FDCWD, "/proc/self/maps", 64), -EFBIG);
	assert_true(b.cap <= 66);
	assert_int_equal(buf_read_file(&b, AT_FDCWD, "/proc/self/stat", SOURCE_MAX_SMALL), 0);
	assert_true(b.len > 0 && b.data[b.len - 1] == '\n');
	buf_free(&b);
}

/* Reading the same files again allocates nothing more. */
static void buffer_is_reused(void **state)
{
	(void)state;
	struct buf b = {0};
	sized_file("a", 10000);
	sized_file("b", 300);
	assert_int_equal(buf_read_file(&b, dfd, "a", SOURCE_MAX_SMALL), 0);
	size_t cap = b.cap;
	char *data = b.data;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(buf_read_file(&b, dfd, i % 2 ? "a" : "b", SOURCE_MAX_SMALL), 0);
		assert_true(b.cap == cap && b.data == data);
	}
	buf_free(&b);
}

/* Runs fn with stderr in a file and returns how many lines name needle. */
static int log_lines(void (*fn)(void), const char *needle)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	struct buf b = {0};
	assert_int_equal(buf_read_file(&b, AT_FDCWD, path, SOURCE_MAX_SMALL), 0);
	int n = 0;
	for (const char *p = b.data; (p = strstr(p, needle)); p++)
		n++;
	buf_free(&b);
	return n;
}

static void read_fifo_three_times(void)
{
	struct buf b = {0};
	for (int i = 0; i < 3; i++)
		assert_int_equal(buf_read_file(&b, dfd, "pipe", SOURCE_MAX_SMALL), -ENXIO);
	buf_free(&b);
}

static void each_refusal_logged_once(void **state)
{
	(void)state;
	assert_int_equal(mkfifoat(dfd, "pipe", 0644), 0);
	char needle[4200];
	snprintf(needle, sizeof(needle), "%s/pipe: a FIFO, not a regular file", dir);
	assert_int_equal(log_lines(read_fifo_three_times, needle), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(fifo_does_not_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(devices_are_refused_unread, setup, teardown),
	    cmocka_unit_test_setup_teardown(sockets_and_directories_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(large_file_refused_by_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(cap_is_inclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(cap_holds_when_size_is_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(buffer_is_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(each_refusal_logged_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
