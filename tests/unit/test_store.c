/* The store on real SQLite files: migrations, refusal of newer databases,
 * other applications' files and impossible versions, saved views, dimension
 * ids, and the view header parser. */
#include "testutil.h"

#include <sys/stat.h>

#include "store/store.h"
#include "util/embedded.h"

static char *dir;
static char path[4200];

static int setup(void **state)
{
	dir = temp_dir();
	snprintf(path, sizeof(path), "%s/h.db", dir);
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	free(dir);
	return 0;
}

static void migrate_new_file(void **state)
{
	struct store s;
	struct err e;
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	assert_int_equal(store_schema_version(&s), store_schema_latest());
	assert_int_equal(store_query_int(&s, "PRAGMA auto_vacuum", -1), 2); /* incremental */
	assert_int_equal(store_query_int(&s, "PRAGMA page_size", -1), 4096);
	assert_int_equal(
	    store_query_int(&s, "SELECT count(*) FROM sqlite_master WHERE name='cpu'", 0), 1);
	/* Migrating again is a no-op. */
	assert_int_equal(store_migrate(&s, &e), 0);
	store_close(&s);
}

static char *file_bytes(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	char *b = malloc(*len + 1);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static void newer_database_refused_untouched(void **state)
{
	struct store s;
	struct err e;
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	char bump[64];
	snprintf(bump, sizeof(bump), "PRAGMA journal_mode=DELETE; PRAGMA user_version=%d",
		 store_schema_latest() + 1);
	assert_int_equal(store_exec(&s, bump, &e), 0);
	store_close(&s);

	size_t len1, len2;
	char *before = file_bytes(path, &len1);
	struct stat st1, st2;
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(store_open(&s, path, 0, &e), -1);
	assert_non_null(strstr(e.msg, "newer than this binary"));
	char *after = file_bytes(path, &len2);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(len1, len2);
	assert_memory_equal(before, after, len1);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	char wal[4300];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(access(wal, F_OK), -1); /* no WAL was created either */
	free(before);
	free(after);
}

static void not_a_database(void **state)
{
	struct store s;
	struct err e;
	write_file(path, "this is not a database file, it is text long enough to matter......\n");
	assert_int_equal(store_open(&s, path, 0, &e), -1);
	assert_non_null(strstr(e.msg, path));
}

/* A database written by sqlite3 itself, as another application would. */
static void make_foreign(const char *p, const char *journal_mode, int user_version)
{
	sqlite3 *db;
	char sql[300];
	snprintf(sql, sizeof(sql),
		 "PRAGMA journal_mode=%s; CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); "
		 "INSERT INTO users(name) VALUES ('ann'); PRAGMA user_version=%d;",
		 journal_mode, user_version);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void set_user_version(const char *p, int version)
{
	sqlite3 *db;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int beside_exists(const char *p, const char *suffix)
{
	char q[4600];
	snprintf(q, sizeof(q), "%s%s", p, suffix);
	return access(q, F_OK) == 0;
}

/* store_open for writing fails with a message containing needle and leaves
 * the file byte-identical, with no -wal, -shm or -journal beside it. */
static void refused_untouched(const char *needle)
{
	struct store s;
	struct err e;
	size_t len1, len2;
	char *before = file_bytes(path, &len1);
	int had_wal = beside_exists(path, "-wal"), had_shm = beside_exists(path, "-shm");
	assert_int_equal(store_open(&s, path, 0, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
	assert_non_null(strstr(e.msg, path));
	char *after = file_bytes(path, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(before, after, len1);
	assert_int_equal(beside_exists(path, "-wal"), had_wal);
	assert_int_equal(beside_exists(path, "-shm"), had_shm);
	assert_false(beside_exists(path, "-journal"));
	free(before);
	free(after);
}

static void foreign_database_refused_untouched(void **state)
{
	make_foreign(path, "DELETE", 0);
	refused_untouched("not a hindsight database");
	/* A WAL file with no -wal beside it is read without creating one. */
	assert_int_equal(unlink(path), 0);
	make_foreign(path, "WAL", 0);
	assert_false(beside_exists(path, "-wal"));
	refused_untouched("not a hindsight database");
	/* A version hindsight knows does not make it hindsight's. */
	assert_int_equal(unlink(path), 0);
	make_foreign(path, "DELETE", 2);
	refused_untouched("not a hindsight database");
	/* The read-only tool may still look at it. */
	struct store s;
	struct err e;
	assert_int_equal(store_open(&s, path, STORE_READONLY, &e), 0);
	store_close(&s);
}

static void impossible_versions_refused(void **state)
{
	static const int versions[] = {-1, -2147483647 - 1, 0};
	struct store s;
	struct err e;
	for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
		assert_int_equal(store_open(&s, path, 0, &e), 0);
		assert_int_equal(store_migrate(&s, &e), 0);
		assert_int_equal(store_exec(&s, "PRAGMA journal_mode=DELETE", &e), 0);
		store_close(&s);
		set_user_version(path, versions[i]);
		char needle[64];
		snprintf(needle, sizeof(needle), "schema version %d (PRAGMA user_version)",
			 versions[i]);
		refused_untouched(needle);
		/* Migrating from a negative version is refused too, never
		 * indexing the list of migrations with it. */
		assert_int_equal(store_open(&s, path, STORE_READONLY, &e), 0);
		assert_int_equal(store_migrate(&s, &e), -1);
		if (versions[i] < 0)
			assert_non_null(strstr(e.msg, "cannot migrate from schema version"));
		store_close(&s);
		assert_int_equal(unlink(path), 0);
	}
}

static void new_files_taken(void **state)
{
	struct store s;
	struct err e;
	write_file(path, ""); /* zero-length */
	assert_int_equal(store_probe(path, &e), STORE_FILE_NEW);
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	assert_int_equal(store_probe(path, &e), STORE_FILE_OURS);
	store_close(&s);
	assert_int_equal(store_probe(path, &e), STORE_FILE_OURS);
	assert_int_equal(unlink(path), 0);
	/* A header and no schema: a first start stopped before its migration. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(store_probe(path, &e), STORE_FILE_NEW);
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	store_close(&s);
}

/* The probe opens a URI: characters that mean something in one stay part of
 * the file name. */
static void probe_names_with_uri_characters(void **state)
{
	char odd[4300], db_path[4400];
	snprintf(odd, sizeof(odd), "%s/a?b#c%%d e&f=g", dir);
	assert_int_equal(mkdir(odd, 0700), 0);
	snprintf(db_path, sizeof(db_path), "%s/h.db", odd);
	struct store s;
	struct err e;
	assert_int_equal(store_open(&s, db_path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	store_close(&s);
	assert_false(beside_exists(db_path, "-wal")); /* read as immutable next */
	assert_int_equal(store_probe(db_path, &e), STORE_FILE_OURS);
	assert_int_equal(store_open(&s, db_path, 0, &e), 0);
	store_close(&s);
}

static void probe_refuses_what_is_not_a_file(void **state)
{
	struct err e;
	assert_int_equal(store_probe("", &e), -1);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(store_probe(dir, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	char link[4300];
	snprintf(link, sizeof(link), "%s/link.db", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(store_probe(link, &e), -1);
	assert_non_null(strstr(e.msg, "symbolic link"));
}

static void views_installed_and_refreshed(void **state)
{
	struct store s;
	struct err e;
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	assert_int_equal(store_install_views(&s, NULL, &e), 0);
	int64_t n = store_query_int(&s, "SELECT count(*) FROM view_catalog", 0);
	int embedded = 0;
	while (embedded_views[embedded].name)
		embedded++;
	assert_int_equal(n, embedded);
	assert_int_equal(
	    store_query_int(&s,
			    "SELECT count(*) FROM sqlite_master WHERE type='view' AND name IN "
			    "(SELECT name FROM view_catalog)", /* not the tiers' generated views */
			    0),
	    n);
	/* Every view runs on an empty database. */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(s.db, "SELECT name FROM view_catalog", -1, &st, NULL),
			 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char q[200];
		snprintf(q, sizeof(q), "SELECT * FROM \"%s\"", sqlite3_column_text(st, 0));
		assert_int_equal(store_exec(&s, q, &e), 0);
	}
	sqlite3_finalize(st);

	/* A changed view text is replaced; users' own views come from a directory. */
	assert_int_equal(store_exec(&s, "UPDATE view_catalog SET sql='x' WHERE name='load'", &e),
			 0);
	char vdir[4300], vfile[4400];
	snprintf(vdir, sizeof(vdir), "%s/views", dir);
	mkdir(vdir, 0755);
	snprintf(vfile, sizeof(vfile), "%s/mine.sql", vdir);
	write_file(vfile, "-- title: Mine\n-- description: Busy CPU only.\n"
			  "CREATE VIEW mine AS SELECT ts, busy_pct FROM cpu_usage;\n");
	assert_int_equal(store_install_views(&s, vdir, &e), 0);
	assert_int_equal(store_query_int(&s, "SELECT count(*) FROM view_catalog WHERE sql='x'", 1),
			 0);
	assert_int_equal(
	    store_query_int(&s, "SELECT count(*) FROM view_catalog WHERE name='mine'", 0), 1);

	/* A bad user view is reported with its file name and installs nothing. */
	write_file(vfile, "CREATE VIEW broken AS SELECT 1;\n");
	assert_int_equal(store_install_views(&s, vdir, &e), -1);
	assert_non_null(strstr(e.msg, "mine.sql"));
	store_close(&s);
}

/* user_version counts applied migrations, so the files must be numbered
 * 001, 002, ... without gaps or repeats, in the order they are embedded. */
static void migrations_numbered_without_gaps(void **state)
{
	for (int i = 0; embedded_schema[i].name; i++) {
		char want[16];
		snprintf(want, sizeof(want), "%03d_", i + 1);
		if (strncmp(embedded_schema[i].name, want, 4) != 0)
			fail_msg("schema file %s should be numbered %.3s", embedded_schema[i].name,
				 want);
	}
}

static void view_headers(void **state)
{
	struct view_header h;
	struct err e;
	assert_int_equal(view_header_parse("-- title: CPU\n--description:  Busy.  \n\n"
					   "CREATE VIEW IF NOT EXISTS cpu_x AS SELECT 1 AS ts;",
					   &h, &e),
			 0);
	assert_string_equal(h.name, "cpu_x");
	assert_string_equal(h.title, "CPU");
	assert_string_equal(h.description, "Busy.");
	assert_int_equal(view_header_parse("-- title: x\nSELECT 1;", &h, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(view_header_parse("-- title: x\nCREATE VIEW v AS SELECT 1;", &h, &e), -1);
	assert_non_null(strstr(e.msg, "description"));
	assert_int_equal(view_header_parse("-- title: x\n-- description: y\n", &h, &e), -1);
	assert_int_equal(view_header_parse("-- title: x\n-- description: y\nCREATE VIEW (", &h, &e),
			 -1);
	assert_int_equal(view_header_parse("", &h, &e), -1);
}

static void dimension_ids(void **state)
{
	struct store s;
	struct err e;
	struct dim d;
	assert_int_equal(store_open(&s, path, 0, &e), 0);
	assert_int_equal(store_migrate(&s, &e), 0);
	assert_int_equal(dim_init(&d, &s, "collector", &e), 0);
	int64_t ids[200];
	for (int i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof(name), "c%d", i);
		ids[i] = dim_id(&d, name, &e);
		assert_true(ids[i] > 0);
	}
	assert_int_equal(dim_id(&d, "c7", &e), ids[7]);
	/* An id inserted by a rolled-back transaction is not reused from cache. */
	assert_int_equal(store_begin(&s, &e), 0);
	int64_t tmp = dim_id(&d, "ephemeral", &e);
	assert_true(tmp > 0);
	store_rollback(&s);
	assert_int_equal(
	    store_query_int(&s, "SELECT count(*) FROM collector WHERE name='ephemeral'", 1), 0);
	assert_int_equal(dim_id(&d, "c150", &e), ids[150]);
	int64_t again = dim_id(&d, "ephemeral", &e);
	assert_int_equal(store_query_int(&s, "SELECT id FROM collector WHERE name='ephemeral'", -1),
			 again);
	dim_free(&d);
	store_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(migrate_new_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(newer_database_refused_untouched, setup, teardown),
	    cmocka_unit_test_setup_teardown(not_a_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(foreign_database_refused_untouched, setup, teardown),
	    cmocka_unit_test_setup_teardown(impossible_versions_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(new_files_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(probe_names_with_uri_characters, setup, teardown),
	    cmocka_unit_test_setup_teardown(probe_refuses_what_is_not_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(views_installed_and_refreshed, setup, teardown),
	    cmocka_unit_test(migrations_numbered_without_gaps),
	    cmocka_unit_test(view_headers),
	    cmocka_unit_test_setup_teardown(dimension_ids, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
