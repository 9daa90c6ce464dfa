/* The query tool's output files: the database and the files beside it are
 * refused by any name, link or race; other files are written as before. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "query/query.h"

#define DB_TEXT "SQLite format 3 -- stands for the database"

struct fixture {
	char *dir;
	char db[512];
};

static void path_in(const struct fixture *f, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *w = fopen(path, "w");
	assert_non_null(w);
	fputs(text, w);
	assert_int_equal(fclose(w), 0);
}

static char *read_text(const char *path)
{
	static char text[4096];
	FILE *r = fopen(path, "r");
	if (!r)
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, r);
	text[n] = '\0';
	fclose(r);
	return text;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = temp_dir();
	path_in(f, "d.db", f->db, sizeof(f->db));
	write_text(f->db, DB_TEXT);
	char wal[600];
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	write_text(wal, "frames");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void assert_refused(const struct fixture *f, const char *path, const char *what)
{
	struct err e = {{0}};
	FILE *out = outfile_open(path, f->db, "-o", &e);
	if (out)
		fail_msg("%s (%s) was opened for writing", path, what);
	if (!strstr(e.msg, "refused") || !strstr(e.msg, what))
		fail_msg("the error for %s does not say it is %s: %s", path, what, e.msg);
	assert_string_equal(read_text(f->db), DB_TEXT);
}

static int exists(const char *dir, const char *name)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* Every way of naming the database or a file beside it. */
static void refused_by_any_name(void **state)
{
	struct fixture *f = *state;
	char p[600], q[600];
	assert_refused(f, f->db, "the database ");
	path_in(f, "./d.db", p, sizeof(p));
	assert_refused(f, p, "the database ");
	path_in(f, "d.db-wal", p, sizeof(p));
	assert_refused(f, p, "write-ahead log");
	/* not there yet: by directory and name, and nothing is created */
	path_in(f, "d.db-shm", p, sizeof(p));
	assert_refused(f, p, "shared-memory index");
	path_in(f, "d.db-journal", p, sizeof(p));
	assert_refused(f, p, "rollback journal");
	path_in(f, "d.db-reserve", p, sizeof(p));
	assert_refused(f, p, "disk reserve");
	path_in(f, "d.db-lock", p, sizeof(p));
	assert_refused(f, p, "lock file");
	assert_false(exists(f->dir, "d.db-shm") || exists(f->dir, "d.db-journal") ||
		     exists(f->dir, "d.db-reserve") || exists(f->dir, "d.db-lock"));
	/* links */
	path_in(f, "sym.csv", p, sizeof(p));
	assert_int_equal(symlink("d.db", p), 0);
	assert_refused(f, p, "the database ");
	unlink(p);
	assert_int_equal(symlink("d.db-lock", p), 0);
	assert_refused(f, p, "lock file");
	assert_false(exists(f->dir, "d.db-lock"));
	unlink(p);
	path_in(f, "hard.csv", p, sizeof(p));
	assert_int_equal(link(f->db, p), 0);
	assert_refused(f, p, "the database ");
	unlink(p);
	path_in(f, "dirlink", q, sizeof(q));
	assert_int_equal(symlink(f->dir, q), 0);
	path_in(f, "dirlink/d.db-shm", p, sizeof(p));
	assert_refused(f, p, "shared-memory index");
	unlink(q);
}

/* Other files: created, or replaced whole; a link to a missing file is
 * an error rather than a file made somewhere unseen. */
static void other_files_written(void **state)
{
	struct fixture *f = *state;
	char p[600];
	struct err e = {{0}};
	path_in(f, "old.csv", p, sizeof(p));
	write_text(p, "a much longer old content that must not survive\n");
	FILE *out = outfile_open(p, f->db, "-o", &e);
	assert_non_null(out);
	fputs("new\n", out);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(read_text(p), "new\n");
	path_in(f, "new.csv", p, sizeof(p));
	out = outfile_open(p, f->db, "-o", &e);
	assert_non_null(out);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(read_text(p), "");
	path_in(f, "dangling.csv", p, sizeof(p));
	assert_int_equal(symlink("missing.csv", p), 0);
	assert_null(outfile_open(p, f->db, "-o", &e));
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_false(exists(f->dir, "missing.csv"));
	out = outfile_open("/dev/null", f->db, "-o", &e);
	assert_non_null(out);
	fclose(out);
}

struct flipper {
	const struct fixture *f;
	atomic_int stop;
	int flips;
};

/* Swaps the output path between a fresh regular file and a link to the
 * database, each by an atomic rename, as fast as it can. */
static void *flip(void *arg)
{
	struct flipper *fl = arg;
	char out[600], link_tmp[600], file_tmp[600];
	path_in(fl->f, "race.csv", out, sizeof(out));
	path_in(fl->f, "race.link", link_tmp, sizeof(link_tmp));
	path_in(fl->f, "race.file", file_tmp, sizeof(file_tmp));
	while (!atomic_load(&fl->stop)) {
		unlink(link_tmp);
		if (symlink("d.db", link_tmp) == 0)
			rename(link_tmp, out);
		int fd = open(file_tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			close(fd);
			rename(file_tmp, out);
		}
		fl->flips++;
	}
	return NULL;
}

/* A link planted between the check of the name and the open: the open file
 * is checked again before anything is truncated or written. */
static void planted_link_race(void **state)
{
	struct fixture *f = *state;
	struct flipper fl = {.f = f};
	pthread_t t;
	char out[600];
	path_in(f, "race.csv", out, sizeof(out));
	assert_int_equal(pthread_create(&t, NULL, flip, &fl), 0);
	int written = 0, refused = 0;
	for (int i = 0; i < 3000 || (written == 0 && i < 100000); i++) {
		struct err e = {{0}};
		FILE *w = outfile_open(out, f->db, "-o", &e);
		if (w) {
			fputs("rows\n", w);
			fclose(w);
			written++;
		} else if (strstr(e.msg, "refused")) {
			refused++;
		}
	}
	atomic_store(&fl.stop, 1);
	pthread_join(t, NULL);
	print_message("race: %d written, %d refused, %d flips\n", written, refused, fl.flips);
	assert_string_equal(read_text(f->db), DB_TEXT);
	assert_true(written > 0 && refused > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(refused_by_any_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(other_files_written, setup, teardown),
	    cmocka_unit_test_setup_teardown(planted_link_race, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
