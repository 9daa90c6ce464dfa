/* Grouping rules: process-exporter files unchanged, every matcher and
 * template field, the first match winning, and errors naming file:line. */
#include "testutil.h"

#include <time.h>

#include "daemon/config.h"
#include "proc/groups.h"

static char *fixture_path(const char *rel)
{
	static char path[4096];
	const char *root = getenv("FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", root ? root : "tests/fixtures", rel);
	return path;
}

static const char *name_of(const struct group_rules *r, const char *comm, const char *argv,
			   size_t argv_len)
{
	static char out[256];
	struct proc_ident id = {.comm = comm,
				.argv = argv,
				.argv_len = argv_len,
				.uid = 0,
				.pid = 1234,
				.start_ticks = 250,
				.boot_s = 1700000000};
	return group_rules_match(r, &id, out, sizeof(out)) ? out : NULL;
}
#define NAME(r, comm, argv) name_of(r, comm, argv, sizeof(argv) - 1)

static void readme_example(void **state)
{
	struct group_rules r;
	struct err e;
	assert_int_equal(
	    group_rules_load(&r, fixture_path("groups/process-exporter-readme.yml"), &e), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(NAME(&r, "bash", "-bash\0"), "-bash"); /* default {{.ExeBase}} */
	assert_string_equal(NAME(&r, "postgres", "/usr/lib/postgresql/15/bin/postgres\0-D\0x\0"),
			    "postgres");
	assert_string_equal(NAME(&r, "prometheus", "/usr/local/bin/prometheus\0"), "prometheus");
	assert_null(NAME(&r, "prometheus", "/opt/prometheus\0")); /* full path must be exact */
	assert_string_equal(NAME(&r, "process-exporte",
				 "/usr/local/bin/process-exporter\0-config.path\0/etc/pe.yml\0"),
			    "/usr/local/bin/process-exporter:/etc/pe.yml");
	assert_null(NAME(&r, "process-exporte", "/usr/local/bin/process-exporter\0"));
	assert_null(NAME(&r, "sshd", "sshd\0"));
	group_rules_free(&r);
}

static void debian_default(void **state)
{
	struct group_rules r;
	struct err e;
	assert_int_equal(group_rules_load(&r, fixture_path("groups/debian-all.yaml"), &e), 0);
	assert_string_equal(NAME(&r, "sshd", "sshd: root\0"), "sshd");
	assert_null(NAME(&r, "kthreadd", "")); /* kernel threads have no argv */
	group_rules_free(&r);
	group_rules_default(&r);
	assert_string_equal(NAME(&r, "kthreadd", ""), "kthreadd");
	assert_string_equal(NAME(&r, "a/b", "a/b\0"), "a/b"); /* a user comm is kept whole */
	char out[64];
	struct proc_ident k = {.comm = "kworker/u8:2-events_unbound", .argv = "", .kthread = 1};
	assert_int_equal(group_rules_match(&r, &k, out, sizeof(out)), 1);
	assert_string_equal(out, "kworker");
	group_rules_free(&r);
}

static int load_text(struct group_rules *r, const char *yaml, struct err *e)
{
	char *dir = temp_dir(), path[4200];
	snprintf(path, sizeof(path), "%s/pe.yml", dir);
	write_file(path, yaml);
	int rc = group_rules_load(r, path, e);
	rm_rf(dir);
	free(dir);
	return rc;
}

static void every_field_and_matcher(void **state)
{
	struct group_rules r;
	struct err e;
	assert_int_equal(
	    load_text(&r,
		      "process_names:\n"
		      "  - name: '{{.Comm}}|{{.ExeBase}}|{{.ExeFull}}|{{.Username}}|{{ .PID }}'\n"
		      "    comm: [a, b]\n"
		      "  - name: '{{.StartTime}}'\n"
		      "    comm: [st]\n"
		      "  - name: '{{.Matches.first}}-{{.Matches.second}}-{{.Matches.none}}'\n"
		      "    cmdline: ['--one=(?P<first>\\w+)', '--two=(?<second>\\w+)']\n"
		      "  - name: 'both'\n"
		      "    exe: [tool]\n"
		      "    comm: [tool]\n"
		      "  - name: '{{.Cgroups}}'\n"
		      "    comm: [cg]\n",
		      &e),
	    0);
	assert_true(r.needs & GROUP_NEEDS_ARGV);
	assert_true(r.needs & GROUP_NEEDS_CGROUPS);
	assert_string_equal(NAME(&r, "b", "/usr/bin/bee\0x\0"), "b|bee|/usr/bin/bee|root|1234");
	assert_string_equal(NAME(&r, "a", ""), "a|a|a|root|1234"); /* no argv: comm */
	setenv("TZ", "UTC", 1);
	tzset();
	/* boot 1700000000 + 2.5 s, printed as Go prints a time.Time */
	assert_string_equal(NAME(&r, "st", "st\0"), "2023-11-14 22:13:22.5 +0000 UTC");
	assert_string_equal(NAME(&r, "x", "x\0--two=2\0--one=1\0"), "1-2-<no value>");
	assert_null(NAME(&r, "x", "x\0--one=1\0")); /* every regex must match */
	assert_string_equal(NAME(&r, "tool", "/bin/tool\0"), "both");
	assert_null(NAME(&r, "tool", "/bin/other\0")); /* every selector must match */
	assert_null(NAME(&r, "tool2", "/bin/tool\0"));

	char out[256];
	struct proc_ident id = {
	    .comm = "cg", .argv = "", .cgroups = "0::/system.slice/a.service\n"};
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 1);
	assert_string_equal(out, "[/system.slice/a.service]");
	id.cgroups = "12:cpu,cpuacct:/x\n11:memory:/y\n";
	group_rules_match(&r, &id, out, sizeof(out));
	assert_string_equal(out, "[/x /y]");
	group_rules_free(&r);
}

/* cgroup: selects by the paths of /proc/PID/cgroup, names by captures. */
static void cgroup_matcher(void **state)
{
	struct group_rules r;
	struct err e;
	char out[256];
	assert_int_equal(load_text(&r,
				   "process_names:\n"
				   "  - name: '{{.Matches.unit}}'\n"
				   "    cgroup: ['^/system\\.slice/(?P<unit>[^/]+)\\.service$']\n"
				   "  - name: 'docker:{{.Matches.id}}'\n"
				   "    comm: [nginx]\n"
				   "    cgroup: '/docker[-/](?P<id>[0-9a-f]{12})'\n",
				   &e),
			 0);
	assert_true(r.needs & GROUP_NEEDS_CGROUPS);
	assert_false(r.needs & GROUP_NEEDS_ARGV);
	struct proc_ident id = {
	    .comm = "sshd", .argv = "", .cgroups = "0::/system.slice/ssh.service\n"};
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 1);
	assert_string_equal(out, "ssh");
	/* any hierarchy's path may match (v1 and hybrid hosts) */
	id.cgroups = "4:memory:/system.slice/cron.service\n0::/\n";
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 1);
	assert_string_equal(out, "cron");
	id.comm = "nginx";
	id.cgroups = "0::/system.slice/docker-3f2a1b4c5d6e7f80.scope\n";
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 1);
	assert_string_equal(out, "docker:3f2a1b4c5d6e");
	id.comm = "redis"; /* every selector must match */
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 0);
	id.cgroups = ""; /* unknown (gone): no cgroup rule matches */
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 0);
	id.cgroups = NULL;
	assert_int_equal(group_rules_match(&r, &id, out, sizeof(out)), 0);
	group_rules_free(&r);
	expect_error(load_text(&r, "process_names:\n  - cgroup: ['(']\n", &e), &e,
		     "2:5: cgroup regex '(': missing closing parenthesis");
}

static void long_java_command_line(void **state)
{
	struct group_rules r;
	struct err e;
	assert_int_equal(load_text(&r,
				   "process_names:\n"
				   "  - name: 'java:{{.Matches.app}}'\n"
				   "    cmdline: ['-jar\\s+(?P<app>\\S+)\\.jar']\n",
				   &e),
			 0);
	static char argv[20000];
	size_t n = (size_t)snprintf(argv, sizeof(argv), "java%c-cp%c", 0, 0);
	while (n < 15000)
		argv[n++] = 'x'; /* a class path far beyond a page */
	n += (size_t)snprintf(argv + n, sizeof(argv) - n, "%c-jar%cshop.jar", 0, 0) + 1;
	assert_string_equal(name_of(&r, "java", argv, n), "java:shop");
	group_rules_free(&r);
}

static void first_match_wins(void **state)
{
	struct group_rules r;
	struct err e;
	assert_int_equal(load_text(&r,
				   "process_names:\n"
				   "  - {name: first, comm: [sh]}\n"
				   "  - {name: second, cmdline: ['sh']}\n",
				   &e),
			 0);
	assert_string_equal(NAME(&r, "sh", "sh\0"), "first");
	assert_string_equal(NAME(&r, "bash", "bash\0"), "second");
	group_rules_free(&r);
}

/* A repeated process_names key once leaked the first list (found by
 * fuzzing), then silently took the last one; now it is refused, as a key
 * repeated at any level is. */
static void repeated_key_refused(void **state)
{
	struct group_rules r;
	struct err e;
	expect_error(group_rules_load(&r, fixture_path("groups/repeated-key.yml"), &e), &e,
		     "repeated-key.yml:4:1: duplicate key 'process_names' (first at line 1, "
		     "column 1)");
	assert_int_equal(r.n, 0);
	expect_error(load_text(&r, "process_names:\n  - {name: a, comm: [x], name: b}\n", &e), &e,
		     "pe.yml:2:26: duplicate key 'name'");
}

static void errors_name_file_and_line(void **state)
{
	struct group_rules r;
	struct err e;
	expect_error(group_rules_load(&r, fixture_path("groups/bad-regex.yml"), &e), &e,
		     "bad-regex.yml:3:5: cmdline regex 'foo(bar': missing closing parenthesis");
	expect_error(group_rules_load(&r, fixture_path("groups/bad-field.yml"), &e), &e,
		     "bad-field.yml:3:5: name: unknown template field '.Nope'");
	expect_error(group_rules_load(&r, fixture_path("groups/no-selector.yml"), &e), &e,
		     "no-selector.yml:2:5: entry has no selector");
	expect_error(group_rules_load(&r, fixture_path("groups/unknown-key.yml"), &e), &e,
		     "unknown-key.yml:3:5: unknown key 'cmd'");
	expect_error(load_text(&r, "process_names: {comm: x}\n", &e), &e, "must be a list");
	expect_error(load_text(&r, "process_names:\n  - {comm: [a], comm: [b]}\n", &e), &e,
		     "pe.yml:2:17: duplicate key 'comm' (first at line 2, column 6)");
	expect_error(load_text(&r, "process_names:\n  - comm: [\n", &e), &e, "pe.yml:");
}

static void hindsight_config_section(void **state)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	assert_int_equal(c.accounting.children, 1);
	assert_int_equal(config_load_file(&c, fixture_path("groups/hindsight-inline.yml"), &e), 0);
	assert_int_equal(c.process_names_inline, 1);
	assert_int_equal(c.accounting.children, 0);
	assert_int_equal(c.accounting.recheck_ms, 30000);
	assert_int_equal(c.procs.top_processes, 5);
	assert_string_equal(c.procs.cmdline_redact, "password=\n--key");
	assert_int_equal(config_validate(&c, &e), 0);
	/* the rules are read from this file itself */
	assert_string_equal(c.accounting.rules_file, c.file);
	struct group_rules r;
	assert_int_equal(group_rules_load(&r, c.accounting.rules_file, &e), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(NAME(&r, "postgres", "postgres\0"), "db:root");
	group_rules_free(&r);

	/* a process-exporter file given as hindsight's config is accepted too */
	config_defaults(&c);
	assert_int_equal(
	    config_load_file(&c, fixture_path("groups/process-exporter-readme.yml"), &e), 0);
	/* and as process_config; errors inside it name that file */
	char *dir = temp_dir(), path[4200], text[8400];
	snprintf(path, sizeof(path), "%s/h.yml", dir);
	snprintf(text, sizeof(text), "process_config: %s\n", fixture_path("groups/bad-regex.yml"));
	write_file(path, text);
	config_defaults(&c);
	expect_error(config_load_file(&c, path, &e), &e, "bad-regex.yml:3:5");
	snprintf(text, sizeof(text), "process_config: %s\n",
		 fixture_path("groups/process-exporter-readme.yml"));
	write_file(path, text);
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_true(strstr(c.accounting.rules_file, "process-exporter-readme.yml") != NULL);
	assert_int_equal(config_validate(&c, &e), 0);
	/* process_config and process_names in one file: which rules are meant? */
	snprintf(text, sizeof(text), "process_config: %s\nprocess_names:\n  - comm: [x]\n",
		 fixture_path("groups/process-exporter-readme.yml"));
	write_file(path, text);
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, &e), 0);
	expect_error(config_validate(&c, &e), &e, "give either process_config or process_names");
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(readme_example),		cmocka_unit_test(debian_default),
	    cmocka_unit_test(every_field_and_matcher),	cmocka_unit_test(cgroup_matcher),
	    cmocka_unit_test(long_java_command_line),	cmocka_unit_test(first_match_wins),
	    cmocka_unit_test(repeated_key_refused),	cmocka_unit_test(errors_name_file_and_line),
	    cmocka_unit_test(hindsight_config_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
