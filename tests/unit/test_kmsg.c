/* The kernel log: the /dev/kmsg record parser (bad records included) and
 * the kmsg collector resuming across restarts and reboots. */
#include "rig.h"

#include "collect/kmsg.h"

static void kmsg_parse_records(void **state)
{
	struct kmsg_record r;
	struct err e;
	char *t = fixture_text("kmsg/records.dict");
	size_t len = strlen(t), off = 0;
	assert_int_equal(kmsg_parse(t, len, &r, &e), 0);
	assert_int_equal(r.seq, 339);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 0);
	assert_int_equal(r.mono_us, 5140900);
	assert_null(r.dict);
	off += r.len;
	assert_int_equal(kmsg_parse(t + off, len - off, &r, &e), 0);
	assert_int_equal(r.seq, 340);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.dict_len, strlen("SUBSYSTEM=usb\n DEVICE=c189:1"));
	char msg[256];
	kmsg_unescape(r.msg, r.msg_len, msg, sizeof(msg));
	assert_string_equal(msg, "usb 1-1: device descriptor read/64, error -71\nsecond line");
	off += r.len;
	assert_int_equal(kmsg_parse(t + off, len - off, &r, &e), 0);
	assert_int_equal(r.cont, 'c');
	assert_int_equal(off + r.len, len);
	free(t);
	t = fixture_text("kmsg/records.6_18");
	len = strlen(t);
	int n = 0;
	for (off = 0; off < len; off += r.len, n++)
		assert_int_equal(kmsg_parse(t + off, len - off, &r, &e), 0);
	assert_true(n > 10);
	free(t);
	/* A short output buffer truncates, never overflows. */
	assert_int_equal(kmsg_unescape("abc\\x41def", 10, msg, 4), 3);
	assert_string_equal(msg, "abc");
	assert_int_equal(kmsg_unescape("a\\x4", 4, msg, sizeof(msg)), 4);
}

static void kmsg_parse_bad(void **state)
{
	struct kmsg_record r;
	struct err e;
	static const struct {
		const char *file, *needle;
	} bad[] = {
	    {"kmsg/bad.noflags", "bad header"},
	    {"kmsg/bad.seq", "kmsg record '6,x39,5140900,-': bad header"},
	    {"kmsg/bad.nosemi", "no ';' after the header"},
	    {"kmsg/bad.truncated", "truncated (no newline)"},
	    {"kmsg/bad.dict_truncated", "kmsg record 339: truncated dictionary line"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *t = fixture_text(bad[i].file);
		expect_error(kmsg_parse(t, strlen(t), &r, &e), &e, bad[i].needle);
		free(t);
	}
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void kmsg_collector_resumes(void **state)
{
	struct rig r;
	char path[1200];
	rig_init(&r);
	put(r.proc, "sys/kernel/random/boot_id", "11111111-aaaa\n");
	snprintf(path, sizeof(path), "%s/kmsg", r.dir);
	kmsg_path = path;
	put(r.dir, "kmsg", "6,1,1000,-;first\n6,2,2000,-;second\n SUBSYSTEM=x\n DEVICE=y\n");
	rig_open(&r, &collector_kmsg, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM kernel_log"), 2);
	assert_int_equal(q(&r, "SELECT dict = 'SUBSYSTEM=x' || char(10) || 'DEVICE=y' FROM kmsg "
			       "WHERE seq=2"),
			 1);
	/* Records 3 and 4 were overwritten before we read 5. */
	append(path, "3,5,5000,-;fifth\n");
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT lost_count FROM kmsg_loss"), 2);
	assert_int_equal(q(&r, "SELECT priority FROM kernel_log WHERE seq=5"), 3);
	/* A restart reads the whole buffer again and stores only what is new. */
	rig_close(&r);
	append(path, "6,6,6000,-;sixth\n");
	rig_open(&r, &collector_kmsg, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM kmsg"), 4);
	assert_int_equal(q(&r, "SELECT count(*) FROM kmsg WHERE seq=6"), 1);
	assert_int_equal(q(&r, "SELECT count(DISTINCT seq) FROM kmsg"), 4);
	/* A reboot: sequence numbers start over under a new boot id. */
	rig_close(&r);
	put(r.proc, "sys/kernel/random/boot_id", "22222222-bbbb\n");
	rig_open(&r, &collector_kmsg, NULL);
	rig_tick(&r);
	assert_int_equal(q(&r, "SELECT count(*) FROM kmsg"), 8);
	assert_int_equal(q(&r, "SELECT count(DISTINCT boot) FROM kernel_log"), 2);
	kmsg_path = "/dev/kmsg";
	rig_free(&r);
}

static int fz_kmsg(char *t, size_t n, struct err *e)
{
	struct kmsg_record r;
	char msg[64];
	for (size_t off = 0; off < n;) {
		if (kmsg_parse(t + off, n - off, &r, e))
			return -1;
		assert_true(r.len > 0 && off + r.len <= n);
		kmsg_unescape(r.msg, r.msg_len, msg, sizeof(msg));
		off += r.len;
	}
	return 0;
}

static void kmsg_parser_survives_cuts_and_garbage(void **state)
{
	parser_survives_cuts_and_garbage(fz_kmsg, "kmsg/records.dict");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kmsg_parse_records),
	    cmocka_unit_test(kmsg_parse_bad),
	    cmocka_unit_test(kmsg_collector_resumes),
	    cmocka_unit_test(kmsg_parser_survives_cuts_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
