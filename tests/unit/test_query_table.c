/* The table people read: units from column names, fitting a width, and
 * wrapping text; the outputs the issue found unreadable, written as they
 * should read. */
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "query/query.h"

static void units_from_names(void **state)
{
	const struct {
		const char *column;
		enum unit unit;
	} cases[] = {
	    {"rss_kb", UNIT_KB},
	    {"read_bytes", UNIT_BYTES},
	    {"write_bytes_per_s", UNIT_BYTES_PER_S},
	    {"paged_in_kb_per_s", UNIT_KB_PER_S},
	    {"reads_per_s", UNIT_PER_S},
	    {"busy_pct", UNIT_PCT},
	    {"max_busy_pct", UNIT_PCT},
	    {"some_stall_ms", UNIT_MS},
	    {"tick_cpu_us", UNIT_US},
	    {"clock_held_s", UNIT_S},
	    {"forks_count", UNIT_COUNT},
	    {"tcp_mem_pages", UNIT_COUNT},
	    {"load1", UNIT_NONE},
	    {"time_ns", UNIT_NONE},
	    {"pid", UNIT_NONE},
	    {"ts", UNIT_NONE},
	    {"_ms", UNIT_NONE}, /* a suffix alone is no name */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (unit_of(cases[i].column) != cases[i].unit)
			fail_msg("%s: unit %d, expected %d", cases[i].column,
				 unit_of(cases[i].column), cases[i].unit);
}

/* Each value as a person reads it; the first rows are what the issue saw
 * printed (4.83963e+08, 34896.325000000004, 1.9266071428571427). */
static void values_people_read(void **state)
{
	const struct {
		enum unit unit;
		double v;
		const char *text;
	} cases[] = {
	    {UNIT_BYTES_PER_S, 4.83963e8, "462 MiB/s"},
	    {UNIT_MS, 34896.325000000004, "34.9 s"},
	    {UNIT_NONE, 1.9266071428571427, "1.93"},
	    {UNIT_KB, 1258291, "1.2 GiB"},
	    {UNIT_KB, 50636, "49.4 MiB"},
	    {UNIT_KB, 524288, "512 MiB"},
	    {UNIT_KB, 0, "0 B"},
	    {UNIT_BYTES, 512, "512 B"},
	    {UNIT_BYTES, 1023, "1023 B"},
	    {UNIT_BYTES, 1024, "1.0 KiB"},
	    {UNIT_BYTES, 1048575, "1.0 MiB"},
	    {UNIT_BYTES, 12.5, "12.5 B"},
	    {UNIT_BYTES_PER_S, 50645811, "48.3 MiB/s"},
	    {UNIT_KB_PER_S, 2048, "2.0 MiB/s"},
	    {UNIT_PER_S, 1523.4, "1.5k/s"},
	    {UNIT_PER_S, 153, "153/s"},
	    {UNIT_PER_S, 12.5, "12.5/s"},
	    {UNIT_PER_S, 0.03, "0.03/s"},
	    {UNIT_PER_S, 0, "0/s"},
	    {UNIT_PCT, 12.5, "12.5%"},
	    {UNIT_PCT, 100, "100.0%"},
	    {UNIT_PCT, 97.56, "97.6%"},
	    {UNIT_PCT, 0.03, "0.03%"},
	    {UNIT_PCT, 0, "0.0%"},
	    {UNIT_MS, 3.2, "3.2 ms"},
	    {UNIT_MS, 0.85, "850 µs"},
	    {UNIT_MS, 0.0085, "8.5 µs"},
	    {UNIT_MS, 123, "123 ms"},
	    {UNIT_MS, 10000, "10.0 s"},
	    {UNIT_MS, 60000, "1.0 min"},
	    {UNIT_MS, 0, "0"},
	    {UNIT_US, 1500, "1.5 ms"},
	    {UNIT_S, 7200, "2.0 h"},
	    {UNIT_S, 3 * 86400, "3.0 d"},
	    {UNIT_S, -90, "-1.5 min"},
	    {UNIT_COUNT, 4, "4"},
	    {UNIT_COUNT, 4.5, "4.5"},
	    {UNIT_COUNT, 99999, "99999"},
	    {UNIT_COUNT, 123456, "123k"},
	    {UNIT_COUNT, 1234567, "1.2M"},
	    {UNIT_NONE, 5, "5"},
	    {UNIT_NONE, -2.5, "-2.50"},
	    {UNIT_NONE, 0.001234, "0.0012"},
	    {UNIT_NONE, 1e300, "1e+300"},
	};
	char buf[FORMAT_UNIT_MAX];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t n = format_unit(cases[i].unit, cases[i].v, buf);
		assert_int_equal(n, strlen(buf));
		if (strcmp(buf, cases[i].text) != 0)
			fail_msg("unit %d, %.17g: wrote '%s', expected '%s'", cases[i].unit,
				 cases[i].v, buf, cases[i].text);
	}
	format_unit(UNIT_PCT, NAN, buf);
	assert_string_equal(buf, "nan");
	/* --raw tables: exact, but not the binary fraction's tail */
	format_real_table(34896.325000000004, buf);
	assert_string_equal(buf, "34896.325");
	format_real_table(1.9266071428571427, buf);
	assert_string_equal(buf, "1.92660714285714");
}

static void fit(const size_t *width, const size_t *min, int n, size_t limit, const size_t *want,
		int want_shown)
{
	struct fit_col c[16];
	for (int i = 0; i < n; i++)
		c[i] = (struct fit_col){.width = width[i], .min = min[i]};
	assert_int_equal(fit_columns(c, n, limit), want_shown);
	for (int i = 0; i < n; i++) {
		assert_int_equal(c[i].shown, i < want_shown);
		if (i < want_shown && c[i].width != want[i])
			fail_msg("column %d: width %zu, expected %zu", i, c[i].width, want[i]);
	}
}

static void fitting_columns(void **state)
{
	/* no limit, or room enough: as they are */
	fit((size_t[]){19, 40, 8}, (size_t[]){19, 6, 8}, 3, 0, (size_t[]){19, 40, 8}, 3);
	fit((size_t[]){19, 40, 8}, (size_t[]){19, 6, 8}, 3, 100, (size_t[]){19, 40, 8}, 3);
	/* the text gives way, never the numbers: 19 + 2 + 29 + 2 + 8 = 60 */
	fit((size_t[]){19, 40, 8}, (size_t[]){19, 6, 8}, 3, 60, (size_t[]){19, 29, 8}, 3);
	/* the widest text first, down to the next widest, then both */
	fit((size_t[]){30, 20, 5}, (size_t[]){6, 6, 5}, 3, 49, (size_t[]){20, 20, 5}, 3);
	fit((size_t[]){30, 20, 5}, (size_t[]){6, 6, 5}, 3, 45, (size_t[]){18, 18, 5}, 3);
	fit((size_t[]){30, 20, 5}, (size_t[]){6, 6, 5}, 3, 44, (size_t[]){17, 18, 5}, 3);
	/* numbers that cannot fit are left out from the right */
	fit((size_t[]){19, 10, 10, 10}, (size_t[]){19, 10, 10, 10}, 4, 45, (size_t[]){19, 10, 10},
	    3);
	fit((size_t[]){19, 40, 10, 10}, (size_t[]){19, 6, 10, 10}, 4, 40, (size_t[]){19, 7, 10}, 3);
	/* the first column stays, however narrow the terminal */
	fit((size_t[]){19, 10}, (size_t[]){19, 10}, 2, 10, (size_t[]){19}, 1);
}

static void wrapping_text(void **state)
{
	const char *next;
	const char *s = "Per block device: bytes and operations per second";
	size_t n = wrap_piece(s, 20, &next);
	assert_int_equal(n, strlen("Per block device:"));
	assert_string_equal(next, "bytes and operations per second");
	n = wrap_piece(next, 20, &next);
	assert_int_equal(n, strlen("bytes and operations"));
	assert_string_equal(next, "per second");
	n = wrap_piece("bytes and operations", 19, &next);
	assert_int_equal(n, strlen("bytes and"));
	/* a path breaks after a slash; a word longer than half the line
	 * without one is cut */
	n = wrap_piece("/usr/lib/x86_64-linux-gnu/libc.so.6 x", 10, &next);
	assert_int_equal(n, strlen("/usr/lib/"));
	assert_string_equal(next, "x86_64-linux-gnu/libc.so.6 x");
	n = wrap_piece("/root/.pyenv/plugins/python-build/bin/uname", 42, &next);
	assert_int_equal(n, strlen("/root/.pyenv/plugins/python-build/bin/"));
	assert_string_equal(next, "uname");
	n = wrap_piece("x86_64-linux-gnu/libc.so.6", 10, &next);
	assert_int_equal(n, 10);
	assert_string_equal(next, "ux-gnu/libc.so.6");
	/* characters, not bytes */
	n = wrap_piece("ünïcødé ✓ 漢字", 7, &next);
	assert_int_equal(n, strlen("ünïcødé"));
	assert_string_equal(next, "✓ 漢字");
	n = wrap_piece("short", 10, &next);
	assert_int_equal(n, 5);
	assert_string_equal(next, "");
	assert_int_equal(truncate_piece("abcdefgh", 5), 4);
	assert_int_equal(truncate_piece("abcde", 5), 5);
	assert_int_equal(truncate_piece("ééééé✓", 3), strlen("éé"));
	assert_int_equal(text_width("é✓x"), 3);
}

/* Runs sql on an in-memory database into a table of the given width. */
static char *render_table(const char *sql, size_t width, int wrap, int raw)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct out o;
	struct err e;
	char path[] = "/tmp/hindsight-table-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	out_prefs.raw = raw;
	assert_int_equal(out_open(&o, OUT_TABLE, OUT_TIME_DEFAULT, path, NULL, &e), 0);
	out_prefs.raw = 0;
	o.width = width;
	o.wrap = wrap;
	out_columns(&o, st);
	while (sqlite3_step(st) == SQLITE_ROW)
		out_row(&o, st);
	assert_int_equal(out_close(&o, &e), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	struct buf b = {0};
	assert_int_equal(buf_read_file(&b, AT_FDCWD, path, SOURCE_MAX_TABLE), 0);
	unlink(path);
	char *s = strdup(b.data);
	buf_free(&b);
	return s;
}

static const char disk_row[] =
    "SELECT 60 AS ts, 'nvme0n1' AS disk, 483963000.0 AS write_bytes_per_s, 97.56 AS util_pct, "
    "34896.325000000004 AS some_stall_ms, 1.9266071428571427 AS load1, 'a long message that "
    "has to wrap' AS message";

static const char short_row[] = "SELECT 60 AS ts, 'nvme0n1' AS disk, 97.56 AS util_pct, 'a long "
				"message that has to wrap across a few lines' AS message";

static void table_units_and_width(void **state)
{
	setenv("TZ", "UTC0", 1);
	char *s = render_table(disk_row, 0, 1, 0);
	assert_string_equal(
	    s, "ts                   disk     write_bytes_per_s  util_pct  some_stall_ms  load1  "
	       "message\n"
	       "-------------------  -------  -----------------  --------  -------------  -----  "
	       "-------------------------------\n"
	       "1970-01-01 00:01:00  nvme0n1          462 MiB/s     97.6%         34.9 s   1.93  "
	       "a long message that has to wrap\n");
	free(s);
	s = render_table(disk_row, 0, 1, 1);
	assert_non_null(
	    strstr(s, "  483963000     97.56      34896.325  1.92660714285714  a long"));
	free(s);
	/* 60 characters: the message wraps, the numbers stay whole */
	s = render_table(short_row, 60, 1, 0);
	assert_string_equal(s, "ts                   disk     util_pct  message\n"
			       "-------------------  -------  --------  --------------------\n"
			       "1970-01-01 00:01:00  nvme0n1     97.6%  a long message that\n"
			       "                                        has to wrap across a\n"
			       "                                        few lines\n");
	free(s);
	/* or is cut, when the caller asks */
	s = render_table(short_row, 60, 0, 0);
	assert_non_null(strstr(s, "97.6%  a long message that\xe2\x80\xa6\n"));
	free(s);
	/* a text column keeps a third of the width: below that it is left out */
	s = render_table(short_row, 50, 1, 0);
	assert_string_equal(s, "ts                   disk     util_pct\n"
			       "-------------------  -------  --------\n"
			       "1970-01-01 00:01:00  nvme0n1     97.6%\n");
	free(s);
	/* 60 characters: columns are left out from the right */
	s = render_table(disk_row, 60, 1, 0);
	assert_string_equal(s, "ts                   disk     write_bytes_per_s  util_pct\n"
			       "-------------------  -------  -----------------  --------\n"
			       "1970-01-01 00:01:00  nvme0n1          462 MiB/s     97.6%\n");
	free(s);
	/* no line is wider than asked, at any width the first column fits */
	for (size_t w = 20; w <= 140; w++) {
		s = render_table(disk_row, w, w % 2, 0);
		for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
			if (text_width(line) > w)
				fail_msg("width %zu: line of %zu: %s", w, text_width(line), line);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(units_from_names),	     cmocka_unit_test(values_people_read),
	    cmocka_unit_test(fitting_columns),	     cmocka_unit_test(wrapping_text),
	    cmocka_unit_test(table_units_and_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
