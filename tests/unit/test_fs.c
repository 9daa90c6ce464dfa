/* Filesystems: the mountinfo parser and mount selection, and the fs
 * collector's rows measured through a fixture /proc. */
#include "rig.h"

#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "collect/fs.h"

static void fs_parse_and_select(void **state)
{
	struct mountinfo mi = {0};
	struct err e;
	char *t = fixture_text("proc/mountinfo.escapes");
	assert_int_equal(mountinfo_parse(t, &mi, &e), 0);
	assert_int_equal(mi.n, 8);
	assert_string_equal(mi.m[0].mountpoint, "/mnt/parent");
	assert_string_equal(mi.m[0].fstype, "ext3");
	assert_string_equal(mi.m[1].source, "/dev/sda1");
	assert_string_equal(mi.m[2].mountpoint, "/srv/my files");
	assert_int_equal(mi.m[2].major, 8);
	assert_int_equal(mi.m[2].minor, 1);
	unsigned char keep[8];
	mountinfo_select(&mi, keep);
	/* sda1 twice: the mount of its root wins; sda2 twice (both binds of
	 * subdirectories): the first; sysfs is pseudo; of two tmpfs on one
	 * mount point only the visible (last) one. */
	unsigned char want[8] = {1, 1, 0, 1, 0, 0, 0, 1};
	assert_memory_equal(keep, want, 8);
	free(t);
	t = fixture_text("proc/mountinfo.host");
	assert_int_equal(mountinfo_parse(t, &mi, &e), 0);
	assert_true(mi.n > 5);
	free(t);
	mountinfo_free(&mi);
}

static void fs_parse_bad(void **state)
{
	struct mountinfo mi = {0};
	struct err e;
	char *t;
	expect_error(mountinfo_parse(t = fixture_text("proc/mountinfo.no_separator"), &mi, &e), &e,
		     "line 1: no '- fstype source'");
	free(t);
	expect_error(mountinfo_parse(t = fixture_text("proc/mountinfo.garbage"), &mi, &e), &e,
		     "line 2: bad major:minor '9x:1'");
	free(t);
	expect_error(mountinfo_parse(t = fixture_text("proc/mountinfo.truncated"), &mi, &e), &e,
		     "truncated");
	free(t);
	char short_line[] = "1 2 3:4\n";
	expect_error(mountinfo_parse(short_line, &mi, &e), &e, "line 1: 3 fields");
	mountinfo_free(&mi);
}

static void fs_collector_rows(void **state)
{
	struct rig r;
	rig_init(&r);
	/* This process's view, measured through <proc>/self/root = "/". */
	char link[1100];
	snprintf(link, sizeof(link), "%s/self", r.proc);
	mkdir(link, 0755);
	snprintf(link, sizeof(link), "%s/self/root", r.proc);
	assert_int_equal(symlink("/", link), 0);
	char mi[512];
	struct stat st;
	assert_int_equal(stat(r.dir, &st), 0);
	snprintf(mi, sizeof(mi),
		 "1 0 %u:%u / %s rw - testfs /dev/test rw\n"
		 "2 1 0:99 / /proc rw - proc proc rw\n",
		 major(st.st_dev), minor(st.st_dev), r.dir);
	put(r.proc, "self/mountinfo", mi);
	rig_open(&r, &collector_fs, NULL);
	rig_tick(&r);
	struct statvfs sv;
	assert_int_equal(statvfs(r.dir, &sv), 0);
	assert_int_equal(q(&r, "SELECT count(*) FROM filesystem_usage"), 1);
	assert_int_equal(q(&r, "SELECT size_kb FROM filesystem_usage WHERE fstype='testfs'"),
			 (int64_t)(sv.f_blocks * sv.f_frsize / 1024));
	assert_int_equal(
	    q(&r, "SELECT inodes_used_count + inodes_free_count FROM filesystem_usage"),
	    (int64_t)sv.f_files);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM filesystem_usage"), 2);
	rig_free(&r);
}

static int fz_mount(char *t, size_t n, struct err *e)
{
	static struct mountinfo mi;
	int rc = mountinfo_parse(t, &mi, e);
	if (rc == 0) {
		unsigned char *keep = malloc(mi.n + 1);
		mountinfo_select(&mi, keep);
		free(keep);
	}
	mountinfo_free(&mi);
	return rc;
}

static void fs_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_mount, "proc/mountinfo.escapes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fs_parse_and_select),
	    cmocka_unit_test(fs_parse_bad),
	    cmocka_unit_test(fs_collector_rows),
	    cmocka_unit_test(fs_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
