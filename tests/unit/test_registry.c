/* The collector registry against what it describes: every saved view in
 * sql/views is provided by exactly one registry line or is the daemon's own,
 * every view and table a line names exists, every table of the schema is
 * someone's; the order rules registry_check enforces; the catalog's
 * collector column; the listing scripts read. */
#include "testutil.h"

#include <sys/stat.h>

#include "daemon/registry.h"
#include "store/store.h"
#include "store/tiers.h"
#include "util/embedded.h"

/* Who lists word among the registry's (or the daemon's) words of one kind:
 * the number of lines, and the last one's name in *who. */
static int owners(const char *word, int views, const char **who)
{
	int n = 0;
	for (size_t i = 0; i < collector_registry_len; i++) {
		const struct collector_entry *c = &collector_registry[i];
		if (registry_lists(views ? c->views : c->tables, word)) {
			n++;
			*who = c->ops->name;
		}
	}
	if (registry_lists(views ? daemon_views : daemon_tables, word)) {
		n++;
		*who = "hindsightd";
	}
	return n;
}

/* Calls fn on every word of a space-separated list. */
static void each_word(const char *list, void (*fn)(const char *word, void *arg), void *arg)
{
	char w[128];
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		assert_true(n > 0 && n < sizeof(w));
		memcpy(w, p, n);
		w[n] = '\0';
		fn(w, arg);
		p += n + (p[n] == ' ');
	}
}

static int is_saved_view(const char *name)
{
	struct view_header h;
	struct err e;
	for (const struct embedded_file *f = embedded_views; f->name; f++)
		if (view_header_parse(f->text, &h, &e) == 0 && strcmp(h.name, name) == 0)
			return 1;
	return 0;
}

static void every_saved_view_has_one_provider(void **state)
{
	struct view_header h;
	struct err e;
	for (const struct embedded_file *f = embedded_views; f->name; f++) {
		const char *who = NULL;
		assert_int_equal(view_header_parse(f->text, &h, &e), 0);
		int n = owners(h.name, 1, &who);
		if (n != 1)
			fail_msg("view %s (%s) is listed by %d registry lines, expected 1", h.name,
				 f->name, n);
		const char *c = registry_view_collector(h.name);
		if (strcmp(who, "hindsightd") ? !c || strcmp(c, who) : c != NULL)
			fail_msg("view %s: registry_view_collector says %s", h.name,
				 c ? c : "NULL");
	}
}

static void view_exists(const char *word, void *arg)
{
	if (!is_saved_view(word))
		fail_msg("%s lists view %s, which sql/views does not hold", (const char *)arg,
			 word);
}

static void every_listed_view_exists(void **state)
{
	for (size_t i = 0; i < collector_registry_len; i++)
		each_word(collector_registry[i].views, view_exists,
			  (void *)collector_registry[i].ops->name);
	each_word(daemon_views, view_exists, "the daemon");
}

struct schema {
	struct store s;
	char *dir;
};

static void open_schema(struct schema *sc)
{
	char path[4200];
	struct err e;
	sc->dir = temp_dir();
	snprintf(path, sizeof(path), "%s/h.db", sc->dir);
	if (store_open(&sc->s, path, 0, &e) || store_migrate(&sc->s, &e) ||
	    store_install_views(&sc->s, NULL, &e))
		fail_msg("store: %s", e.msg);
}

static void close_schema(struct schema *sc)
{
	store_close(&sc->s);
	rm_rf(sc->dir);
	free(sc->dir);
}

static void table_exists(const char *word, void *arg)
{
	struct schema *sc = arg;
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", word);
	if (store_query_int(&sc->s, sql, 0) != 1)
		fail_msg("the registry lists table %s, which the schema does not create", word);
}

/* Every table a line names exists, and every table the migrations create
 * (not the tiers' generated <t>_1m and <t>_1h) is named by exactly one
 * line: the listing is the docs' table list. */
static void every_table_has_one_owner(void **state)
{
	struct schema sc;
	open_schema(&sc);
	for (size_t i = 0; i < collector_registry_len; i++)
		each_word(collector_registry[i].tables, table_exists, &sc);
	each_word(daemon_tables, table_exists, &sc);
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(sc.s.db,
			       "SELECT name FROM sqlite_master WHERE type='table' "
			       "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%\\_1m' "
			       "ESCAPE '\\' AND name NOT LIKE '%\\_1h' ESCAPE '\\'",
			       -1, &st, NULL),
	    SQLITE_OK);
	int tables = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0), *who = NULL;
		int n = owners(name, 0, &who);
		if (n != 1)
			fail_msg("table %s is listed by %d registry lines, expected 1", name, n);
		tables++;
	}
	sqlite3_finalize(st);
	assert_true(tables > 20);
	close_schema(&sc);
}

static int stub_open(void **state, const struct collector_env *env, const void *options,
		     struct err *e)
{
	return 0;
}
static int stub_sample(void *state, struct tick *t, struct err *e)
{
	return 0;
}
static void stub_close(void *state)
{
}
static const struct collector_ops fake_a = {
    .name = "a", .open = stub_open, .sample = stub_sample, .close = stub_close};
static const struct collector_ops fake_b = {
    .name = "b", .open = stub_open, .sample = stub_sample, .close = stub_close};
static const struct collector_ops fake_nameless = {.open = stub_open};

static void order_rules(void **state)
{
	struct err e;
	assert_int_equal(registry_check(collector_registry, collector_registry_len, &e), 0);
	const struct collector_entry writer_first[] = {
	    {.ops = &fake_a, .role = ROLE_WRITES_ACCOUNTING},
	    {.ops = &fake_b, .role = ROLE_FEEDS_ACCOUNTING},
	};
	expect_error(registry_check(writer_first, 2, &e), &e,
		     "b feeds the process accounting after a has written it");
	const struct collector_entry feeder_alone[] = {
	    {.ops = &fake_b, .role = ROLE_FEEDS_ACCOUNTING}};
	expect_error(registry_check(feeder_alone, 1, &e), &e, "which nothing writes");
	const struct collector_entry twice[] = {{.ops = &fake_a}, {.ops = &fake_a}};
	expect_error(registry_check(twice, 2, &e), &e, "collector a is listed twice");
	const struct collector_entry two_writers[] = {
	    {.ops = &fake_a, .role = ROLE_WRITES_ACCOUNTING},
	    {.ops = &fake_b, .role = ROLE_WRITES_ACCOUNTING},
	};
	expect_error(registry_check(two_writers, 2, &e), &e, "both a and b write");
	const struct collector_entry nameless[] = {{.ops = &fake_nameless}};
	expect_error(registry_check(nameless, 1, &e), &e, "line 1: a collector needs a name");
	const struct collector_entry fine[] = {
	    {.ops = &fake_a, .role = ROLE_FEEDS_ACCOUNTING},
	    {.ops = &fake_b, .role = ROLE_WRITES_ACCOUNTING},
	};
	assert_int_equal(registry_check(fine, 2, &e), 0);
}

/* view_catalog.collector: the registry's name for a collector's view, NULL
 * for the daemon's own and a user's; kept right across reinstalls. */
static void catalog_names_collectors(void **state)
{
	struct schema sc;
	struct err e;
	open_schema(&sc);
	char views[4300];
	snprintf(views, sizeof(views), "%s/views", sc.dir);
	mkdir(views, 0755);
	char file[4400];
	snprintf(file, sizeof(file), "%s/mine.sql", views);
	write_file(file,
		   "-- title: Mine\n-- description: mine.\nCREATE VIEW mine AS SELECT 1 AS x;\n");
	assert_int_equal(store_install_views(&sc.s, views, &e), 0);
	assert_int_equal(store_label_views(&sc.s, registry_view_collector, &e), 0);
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(sc.s.db, "SELECT name, collector FROM view_catalog ORDER BY name",
			       -1, &st, NULL),
	    SQLITE_OK);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *got = (const char *)sqlite3_column_text(st, 1);
		const char *want = registry_view_collector(name);
		if (want ? !got || strcmp(got, want) : got != NULL)
			fail_msg("view %s: collector %s, expected %s", name, got ? got : "NULL",
				 want ? want : "NULL");
		n++;
	}
	sqlite3_finalize(st);
	assert_true(n > 20);
	assert_int_equal(
	    store_query_int(&sc.s,
			    "SELECT count(*) FROM view_catalog WHERE collector = 'disk' "
			    "AND name = 'disk_io'",
			    0),
	    1);
	assert_int_equal(
	    store_query_int(&sc.s, "SELECT count(*) FROM view_catalog WHERE collector IS NULL", 0),
	    2); /* agent_health and mine */
	/* A wrong label (an older daemon's) is put right. */
	assert_int_equal(
	    store_exec(&sc.s, "UPDATE view_catalog SET collector='x' WHERE name='load'", &e), 0);
	assert_int_equal(store_label_views(&sc.s, registry_view_collector, &e), 0);
	assert_int_equal(store_query_int(&sc.s,
					 "SELECT collector = 'loadavg' FROM view_catalog WHERE "
					 "name = 'load'",
					 0),
			 1);
	close_schema(&sc);
}

/* A database from before view_catalog had the column (schema 6) gets it
 * from migration 007 and its views labelled at the next start. */
static void older_database_gets_labels(void **state)
{
	struct store s;
	struct err e;
	char *dir = temp_dir(), path[4200], bump[64];
	snprintf(path, sizeof(path), "%s/h.db", dir);
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	for (int v = 0; v < 6; v++) {
		snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", v + 1);
		if (store_exec(&s, embedded_schema[v].text, &e) || store_exec(&s, bump, &e))
			fail_msg("%s: %s", embedded_schema[v].name, e.msg);
	}
	assert_int_equal(store_query_int(&s,
					 "SELECT count(*) FROM pragma_table_info('view_catalog') "
					 "WHERE name = 'collector'",
					 -1),
			 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	assert_int_equal(store_install_views(&s, NULL, &e), 0);
	assert_int_equal(store_label_views(&s, registry_view_collector, &e), 0);
	assert_int_equal(
	    store_query_int(&s,
			    "SELECT count(*) FROM view_catalog WHERE name = 'group_cpu' "
			    "AND collector = 'procs'",
			    0),
	    1);
	store_close(&s);
	rm_rf(dir);
	free(dir);
}

/* --list-collectors=names: scripts (bench/tick) read the sample order. */
static void names_listing(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	registry_print(f, REGISTRY_NAMES);
	fclose(f);
	char want[1024] = "";
	for (size_t i = 0; i < collector_registry_len; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s\n",
			 collector_registry[i].ops->name);
	assert_string_equal(text, want);
	free(text);
	enum registry_format fmt;
	assert_int_equal(registry_format_by_name("markdown", &fmt), 0);
	assert_int_equal(fmt, REGISTRY_MARKDOWN);
	assert_int_equal(registry_format_by_name("table", &fmt), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_saved_view_has_one_provider),
	    cmocka_unit_test(every_listed_view_exists),
	    cmocka_unit_test(every_table_has_one_owner),
	    cmocka_unit_test(order_rules),
	    cmocka_unit_test(catalog_names_collectors),
	    cmocka_unit_test(older_database_gets_labels),
	    cmocka_unit_test(names_listing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
