/* The YAML configuration: values, and errors that name file, line and token. */
#include "testutil.h"

#include <sys/stat.h>

#include "daemon/config.h"

static char *dir;
static char path[4200];

static int setup(void **state)
{
	dir = temp_dir();
	snprintf(path, sizeof(path), "%s/hindsight.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	free(dir);
	return 0;
}

static void good_file(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	write_file(path, "# comment\ndb: /tmp/x.db\ninterval: 1m\nproc_root: /host/proc\n"
			 "log_level: debug\nviews_dir: /etc/hindsight/views\n");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_string_equal(c.db, "/tmp/x.db");
	assert_int_equal(c.interval_ms, 60000);
	assert_string_equal(c.proc_root, "/host/proc");
	assert_string_equal(c.sys_root, "/sys");
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_string_equal(c.file, path);
	assert_int_equal(config_validate(&c, &e), 0);
}

static void empty_file_keeps_defaults(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	write_file(path, "");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_int_equal(c.interval_ms, 10000);
	assert_string_equal(c.db, DEFAULT_DB_PATH);
}

/* The error names path:line:column and the offending token; c is unchanged. */
static void expect_config_error(const char *yaml, const char *where, const char *token)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	write_file(path, yaml);
	assert_int_equal(config_load_file(&c, path, &e), -1);
	char loc[4300];
	snprintf(loc, sizeof(loc), "%s:%s", path, where);
	if (!strstr(e.msg, loc) || !strstr(e.msg, token))
		fail_msg("error '%s' lacks '%s' or '%s'", e.msg, loc, token);
	assert_int_equal(c.interval_ms, 10000);
	assert_string_equal(c.db, DEFAULT_DB_PATH);
}

static void bad_files(void **state)
{
	expect_config_error("db: /tmp/x.db\nintervall: 5s\n", "2:1", "unknown key 'intervall'");
	expect_config_error("db: /tmp/x.db\ninterval: 5 parsecs\n", "2:11", "5 parsecs");
	expect_config_error("log_level: loud\n", "1:12", "'loud'");
	expect_config_error("interval: [1, 2]\n", "1:11", "single value");
	expect_config_error("db: x\n  - broken: [\n", "", "");
	expect_config_error("- a\n- b\n", "1:1", "mapping");
}

/* metrics: {listen}: off by default; a bad address names file:line:column. */
static void metrics_section(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	assert_string_equal(c.metrics.listen, "");
	write_file(path, "metrics:\n  listen: 127.0.0.1:9256\n");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_string_equal(c.metrics.listen, "127.0.0.1:9256");
	write_file(path, "metrics: {listen: '[::1]:0'}\n");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_string_equal(c.metrics.listen, "[::1]:0");
	expect_config_error("metrics:\n  listen: 127.0.0.1\n", "2:11", "address:port");
	expect_config_error("metrics:\n  listen: 127.0.0.1:99999\n", "2:11", "0 to 65535");
	expect_config_error("metrics:\n  listen: example.org:80\n", "2:11", "not a numeric");
	expect_config_error("metrics:\n  listen: ::1:80\n", "2:11", "brackets");
	expect_config_error("metrics:\n  port: 9256\n", "2:3", "unknown key 'metrics.port'");
	expect_config_error("metrics: 9256\n", "1:10", "mapping");
}

/* A remote_write section whose keys parse but which validation refuses. */
static void expect_invalid(const char *yaml, const char *token)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	write_file(path, yaml);
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_int_equal(config_validate(&c, &e), -1);
	if (!strstr(e.msg, token))
		fail_msg("error '%s' lacks '%s'", e.msg, token);
}

/* remote_write: off by default; every key read; errors name file:line:column
 * or, for what only makes sense together, the keys. */
static void remote_write_section(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	assert_string_equal(c.remote_write.url, "");
	assert_int_equal(config_validate(&c, &e), 0);
	write_file(path, "remote_write:\n"
			 "  url: https://prom.example:9090/api/v1/write\n"
			 "  basic_auth: {username: host1, password_file: pw}\n"
			 "  ca_file: /etc/ssl/ca.pem\n"
			 "  batch_ticks: 30\n"
			 "  timeout: 5s\n"
			 "  max_backoff: 1m\n"
			 "  labels: {instance: web1, dc: north}\n");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_int_equal(config_validate(&c, &e), 0);
	assert_string_equal(c.remote_write.url, "https://prom.example:9090/api/v1/write");
	assert_string_equal(c.remote_write.username, "host1");
	assert_string_equal(c.remote_write.password_file, "pw");
	assert_int_equal(c.remote_write.batch_ticks, 30);
	assert_int_equal(c.remote_write.timeout_ms, 5000);
	assert_int_equal(c.remote_write.max_backoff_ms, 60000);
	assert_int_equal(c.remote_write.nlabels, 2);
	assert_string_equal(c.remote_write.labels[1].name, "dc");
	assert_string_equal(c.remote_write.labels[1].value, "north");
	expect_config_error("remote_write:\n  uri: http://x\n", "2:3",
			    "unknown key 'remote_write.uri'");
	expect_config_error("remote_write: http://x\n", "1:15", "mapping");
	expect_config_error("remote_write:\n  batch_ticks: 0\n", "2:16", "batch_ticks");
	expect_config_error("remote_write:\n  timeout: 10ms\n", "2:12", "100ms to 1h");
	expect_config_error("remote_write:\n  labels: {__x: y}\n", "2:12", "not a label name");
	expect_config_error("remote_write:\n  labels: {1a: y}\n", "2:12", "not a label name");
	expect_config_error("remote_write:\n  basic_auth: {user: x}\n", "2:16",
			    "unknown key 'remote_write.basic_auth.user'");
	expect_invalid("remote_write: {url: 'ftp://x/'}\n", "http:// or https://");
	expect_invalid("remote_write: {url: 'http://x/ y'}\n", "white space");
	expect_invalid("remote_write: {url: 'http://x/', basic_auth: {username: u}}\n",
		       "both username and password_file");
	expect_invalid("remote_write: {url: 'http://x/', bearer_token_file: t, basic_auth: "
		       "{username: u, password_file: p}}\n",
		       "not both");
	expect_invalid("remote_write: {url: 'http://x/', ca_file: /ca}\n", "https://");
}

/* A key given twice, at any level, is refused where it is repeated: before,
 * one of the two values was taken silently. */
static void duplicate_keys(void **state)
{
	expect_config_error("interval: 5s\ndb: /tmp/x.db\ninterval: 10s\n", "3:1",
			    "duplicate key 'interval' (first at line 1, column 1)");
	expect_config_error("retention:\n  raw: 7d\n  1m: 30d\n  raw: 1d\n", "4:3",
			    "duplicate key 'raw'");
	expect_config_error("bpf: {exec: true, exec: false}\n", "1:19", "duplicate key 'exec'");
	expect_config_error("process_names:\n  - comm: [a]\n    name: x\n    comm: [b]\n", "4:5",
			    "duplicate key 'comm'");
	/* in the process-exporter file given as process_config: that file named */
	char pe[4200], text[4300];
	snprintf(pe, sizeof(pe), "%s/pe.yml", dir);
	write_file(pe, "process_names:\n  - name: a\n    exe: [x]\n    name: b\n");
	snprintf(text, sizeof(text), "process_config: %s\n", pe);
	struct config c;
	struct err e;
	config_defaults(&c);
	write_file(path, text);
	expect_error(config_load_file(&c, path, &e), &e, "pe.yml:4:5: duplicate key 'name'");
}

/* A second document was ignored; aliases could expand without bound. */
static void one_document_no_aliases(void **state)
{
	expect_config_error("interval: 5s\n---\ninterval: 10s\n", "2:1", "a second YAML document");
	expect_config_error("db: &x /tmp/a.db\nviews_dir: *x\n", "2:12",
			    "alias '*x': anchors and aliases are not supported");
}

/* Writes `interval: ` and depth nested flow sequences. */
static void write_nested(int depth)
{
	size_t n = 16 + 2 * (size_t)depth;
	char *t = malloc(n);
	size_t len = (size_t)snprintf(t, n, "interval: ");
	memset(t + len, '[', (size_t)depth);
	memset(t + len + depth, ']', (size_t)depth);
	memcpy(t + len + 2 * (size_t)depth, "\n", 2);
	write_file(path, t);
	free(t);
}

/* Nesting 100k deep took over 30 s of CPU (libyaml rescans every open flow
 * level per token); it is now refused after 32 levels, in linear time. */
static void deep_nesting(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	write_nested(100000);
	int64_t t0 = clock_process_cpu_us();
	assert_int_equal(config_load_file(&c, path, &e), -1);
	int64_t cpu_us = clock_process_cpu_us() - t0;
	char want[4300];
	snprintf(want, sizeof(want), "%s:1:42: nested deeper than 32 levels", path);
	if (!strstr(e.msg, want))
		fail_msg("error '%s' lacks '%s'", e.msg, want);
	if (cpu_us > 100000)
		fail_msg("refusing depth 100000 took %lld us of CPU", (long long)cpu_us);
	/* 32 levels (the mapping and 31 sequences) are still YAML we read */
	write_nested(31);
	assert_int_equal(config_load_file(&c, path, &e), -1);
	assert_non_null(strstr(e.msg, "interval must be a single value"));
}

/* A 10 MB configuration took 212 MB; anything past 1 MiB is refused before
 * it is parsed, and a FIFO is refused without waiting for a writer. */
static void size_and_kind(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	size_t n = 10 << 20;
	char *t = malloc(n + 1);
	for (size_t i = 0; i < n; i += 16)
		memcpy(t + i, "# a comment ...\n", 16);
	t[n] = '\0';
	write_file(path, t);
	assert_int_equal(config_load_file(&c, path, &e), -1);
	assert_non_null(
	    strstr(e.msg, "larger than 1024 KiB, the most a configuration file may be"));
	t[(1 << 20)] = '\0'; /* exactly 1 MiB of comments is fine */
	write_file(path, t);
	assert_int_equal(config_load_file(&c, path, &e), 0);
	free(t);
	unlink(path);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(config_load_file(&c, path, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(config_load_file(&c, dir, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
}

/* A 1 MiB file of one-character values took ~90 MB as a document; past
 * 100000 values it is refused while parsing. */
static void too_many_values(void **state)
{
	size_t n = 100001;
	char *t = malloc(2 * n + 16);
	size_t len = (size_t)sprintf(t, "x: [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(t + len, i ? ",1" : "1");
	strcpy(t + len, "]\n");
	expect_config_error(t, "1:", "more than 100000 values in one file");
	free(t);
}

/* Durations that do not fit are refused naming the term, and an interval
 * longer than a day (a typo) is refused by validation. */
static void absurd_durations(void **state)
{
	expect_config_error("interval: 100000000d\n", "1:11", "'100000000d' makes it longer");
	expect_config_error("retention:\n  raw: 99999y99999y\n", "2:8",
			    "'99999y' makes it longer than 100000y");
	expect_config_error("procs_refresh: 99999999999999999999999s\n", "1:16",
			    "'99999999999999999999999s'");
	struct config c;
	struct err e;
	config_defaults(&c);
	write_file(path, "interval: 2d\n");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_int_equal(config_validate(&c, &e), -1);
	assert_non_null(strstr(e.msg, "interval must be at most 1d (got 172800s)"));
	write_file(path, "interval: 1d\n");
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_int_equal(config_validate(&c, &e), 0);
}

static void missing_file(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/h.yaml", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/h.yaml"));
}

static void intervals_validated(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	c.interval_ms = 500;
	assert_int_equal(config_validate(&c, &e), -1);
	assert_non_null(strstr(e.msg, "at least 1s"));
	c.interval_ms = 1500;
	assert_int_equal(config_validate(&c, &e), -1);
	c.interval_ms = 2000;
	assert_int_equal(config_validate(&c, &e), 0);
}

static void environment_roots(void **state)
{
	struct config c;
	config_defaults(&c);
	setenv("HOST_PROC", "/host/proc", 1);
	setenv("HOST_SYS", "/host/sys", 1);
	config_apply_env(&c);
	assert_string_equal(c.proc_root, "/host/proc");
	assert_string_equal(c.sys_root, "/host/sys");
	unsetenv("HOST_PROC");
	unsetenv("HOST_SYS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(good_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_file_keeps_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(metrics_section, setup, teardown),
	    cmocka_unit_test_setup_teardown(remote_write_section, setup, teardown),
	    cmocka_unit_test_setup_teardown(duplicate_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(one_document_no_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(deep_nesting, setup, teardown),
	    cmocka_unit_test_setup_teardown(size_and_kind, setup, teardown),
	    cmocka_unit_test_setup_teardown(too_many_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(absurd_durations, setup, teardown),
	    cmocka_unit_test(missing_file),
	    cmocka_unit_test(intervals_validated),
	    cmocka_unit_test(environment_roots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
