/* How far an event is from top's window: the words, and the SQL function
 * top's event sections call. */
#include "testutil.h"

#include "query/query.h"

static void short_durations(void **state)
{
	static const struct {
		int64_t s;
		const char *text;
	} cases[] = {
	    {0, "0s"},	      {1, "1s"},
	    {59, "59s"},      {60, "1m"},
	    {61, "1m01s"},    {130, "2m10s"},
	    {3599, "59m59s"}, {3600, "1h"},
	    {3661, "1h01m"},  {86399, "23h59m"},
	    {86400, "1d"},    {90000, "1d1h"},
	    {-130, "2m10s"},  {INT64_C(1) << 40, "12725829d"},
	};
	char buf[32];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len = format_duration_short(cases[i].s, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(len, strlen(cases[i].text));
	}
	/* a short buffer is cut, never overrun */
	assert_int_equal(format_duration_short(130, buf, 3), 2);
	assert_string_equal(buf, "2m");
}

static void distances(void **state)
{
	static const struct {
		int64_t ts;
		const char *text;
	} cases[] = {
	    {1000, "inside"},	    {1600, "inside"},		{1300, "inside"},
	    {999, "-1s before"},    {900, "-1m40s before"},	{1601, "+1s after"},
	    {1730, "+2m10s after"}, {1600 + 7200, "+2h after"},
	};
	char buf[64];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		window_distance_format(cases[i].ts, 1000, 1600, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	window_distance_format(5, 5, 5, buf, sizeof(buf));
	assert_string_equal(buf, "inside");
}

static const char *sql_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(buf, n, "%s",
			 sqlite3_column_type(st, 0) == SQLITE_NULL
			     ? "NULL"
			     : (const char *)sqlite3_column_text(st, 0));
	else
		snprintf(buf, n, "error: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return buf;
}

static void sql_function(void **state)
{
	sqlite3 *db;
	char buf[128];
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(window_distance_register(db), 0);
	assert_string_equal(sql_text(db, "SELECT window_distance(870, 1000, 1600)", buf, 128),
			    "-2m10s before");
	assert_string_equal(sql_text(db, "SELECT window_distance(1600, 1000, 1600)", buf, 128),
			    "inside");
	assert_string_equal(sql_text(db, "SELECT window_distance(NULL, 1000, 1600)", buf, 128),
			    "NULL");
	assert_non_null(strstr(sql_text(db, "SELECT window_distance(1, 9, 2)", buf, 128),
			       "ends before it starts"));
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(short_durations),
	    cmocka_unit_test(distances),
	    cmocka_unit_test(sql_function),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
