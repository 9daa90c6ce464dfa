/* The YAML configuration: values, and errors that name file, line and token. */
#include "testutil.h"

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
	    cmocka_unit_test(missing_file),
	    cmocka_unit_test(intervals_validated),
	    cmocka_unit_test(environment_roots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
