/* The query tool's pure parts: number formatting, --where parsing, the CSV,
 * JSON and table writers on awkward values, and the authorizer's refusals. */
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "query/cli.h"
#include "query/query.h"

static void reals_read_back(void **state)
{
	const double values[] = {0.1, 1.0 / 3, 12.3, -2.25e-7, 1e300, 123456789.123456, 5, 0};
	const char *expect[] = {"0.1", NULL, "12.3", "-2.25e-07", "1e+300", "123456789.123456",
				"5.0", "0.0"};
	char buf[64];
	for (size_t i = 0; i < ARRAY_LEN(values); i++) {
		format_real(values[i], buf, sizeof(buf));
		assert_true(strtod(buf, NULL) == values[i]);
		if (expect[i])
			assert_string_equal(buf, expect[i]);
	}
	/* What the views' rounding makes (i / 100, i / 1000): the short form,
	 * exact, on both sides of zero and next to each half. */
	for (int64_t i = -2000000; i <= 2000000; i += 37) {
		for (int k = 2; k <= 3; k++) {
			double v = (double)i / (k == 2 ? 100.0 : 1000.0);
			size_t n = format_real(v, buf, sizeof(buf));
			assert_int_equal(n, strlen(buf));
			assert_true(strtod(buf, NULL) == v);
			const char *dot = strchr(buf, '.');
			assert_non_null(dot);
			assert_true(strlen(dot + 1) <= (size_t)k);
		}
	}
	format_real(-0.0, buf, sizeof(buf));
	assert_string_equal(buf, "-0.0");
	format_real(0.49999999999999994, buf, sizeof(buf));
	assert_true(strtod(buf, NULL) == 0.49999999999999994);
}

/* The shortest of printf's %.15g, %.16g and %.17g that reads back: what
 * format_real wrote through printf alone. */
static void shortest_by_printf(double v, char *buf, size_t n)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
}

/* Ratios (averages of counts), random bit patterns, every magnitude and
 * both signs: the same text as printf's shortest, byte for byte. */
static void reals_match_printf(void **state)
{
	char got[64], want[64];
	unsigned short seed[3] = {1, 2, 3};
	for (int i = 0; i < 200000; i++) {
		double v;
		uint64_t bits = (uint64_t)nrand48(seed) << 32 ^ (uint64_t)nrand48(seed);
		switch (i % 4) {
		case 0:
			v = (double)(nrand48(seed) % 100000) / (double)(1 + nrand48(seed) % 97);
			break;
		case 1:
			memcpy(&v, &bits, sizeof(v));
			if (!isfinite(v))
				continue;
			break;
		case 2:
			v = erand48(seed) * pow(10, (int)(nrand48(seed) % 24) - 6);
			break;
		default:
			v = -(double)(nrand48(seed) % 10000000) / 1000.0;
		}
		format_real(v, got, sizeof(got));
		shortest_by_printf(v, want, sizeof(want));
		if (strcmp(got, want) != 0)
			fail_msg("%.17g: wrote %s, printf's shortest is %s", v, got, want);
	}
}

/* Every length, both signs, the ends of the range, against printf. */
static void ints_match_printf(void **state)
{
	char buf[32], want[32];
	for (int64_t v = 1;; v *= 10) {
		const int64_t around[] = {v - 1, v, v + 1, 7 * v + 3, -v, -(v - 1), -(9 * v)};
		for (size_t j = 0; j < ARRAY_LEN(around); j++) {
			snprintf(want, sizeof(want), "%lld", (long long)around[j]);
			assert_int_equal(format_int(around[j], buf), strlen(want));
			assert_string_equal(buf, want);
		}
		if (v > INT64_MAX / 10)
			break;
	}
	const int64_t ends[] = {0, INT64_MAX, INT64_MIN, INT64_MIN + 1};
	for (size_t j = 0; j < ARRAY_LEN(ends); j++) {
		snprintf(want, sizeof(want), "%lld", (long long)ends[j]);
		assert_int_equal(format_int(ends[j], buf), strlen(want));
		assert_string_equal(buf, want);
	}
}

static void where_filters(void **state)
{
	char *cols[] = {"ts", "group_name", "cpu_pct", NULL};
	struct filter f;
	struct err e;
	assert_int_equal(filter_parse("group_name=nginx", cols, &f, &e), 0);
	assert_string_equal(f.col, "group_name");
	assert_string_equal(f.op, "=");
	assert_string_equal(f.value, "nginx");
	assert_int_equal(filter_parse("cpu_pct>=50", cols, &f, &e), 0);
	assert_string_equal(f.op, ">=");
	assert_string_equal(f.value, "50");
	assert_int_equal(filter_parse("group_name~ng%", cols, &f, &e), 0);
	assert_string_equal(f.op, "~");
	assert_int_equal(filter_parse("cpu_pct!=", cols, &f, &e), 0);
	assert_string_equal(f.value, "");
	assert_int_equal(filter_parse("nosuch=1", cols, &f, &e), -1);
	assert_non_null(strstr(e.msg, "no column 'nosuch'"));
	assert_non_null(strstr(e.msg, "ts, group_name, cpu_pct"));
	assert_int_equal(filter_parse("=1", cols, &f, &e), -1);
	assert_int_equal(filter_parse("cpu_pct", cols, &f, &e), -1);
	assert_int_equal(filter_parse("ts) OR (1=1", cols, &f, &e), -1);
	char sql[256] = "SELECT 1 WHERE 1";
	struct filter two[2];
	filter_parse("cpu_pct>5", cols, &two[0], &e);
	filter_parse("group_name~a%", cols, &two[1], &e);
	filters_sql(two, 2, 3, sql, sizeof(sql));
	assert_string_equal(sql,
			    "SELECT 1 WHERE 1 AND \"cpu_pct\" > ?3 AND \"group_name\" LIKE ?4");
}

/* Runs sql on an in-memory database through the writer into a string. */
static char *render(enum out_format fmt, enum out_time t, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct out o;
	struct err e;
	char path[] = "/tmp/hindsight-out-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(out_open(&o, fmt, t, path, NULL, &e), 0);
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

static const char awkward[] =
    "SELECT 1795144320 AS ts, 'a,b' AS s, NULL AS n, 1.5 AS r, '' AS empty "
    "UNION ALL SELECT 0, 'say \"hi\"' || char(10) || 'next', 7, 2.0, 'x' "
    "UNION ALL SELECT 60, CAST(X'61FF62' AS TEXT), -1, 0.25, 'ü'";

static void csv_rfc4180(void **state)
{
	char *s = render(OUT_CSV, OUT_TIME_DEFAULT, awkward);
	assert_string_equal(s, "ts,s,n,r,empty\r\n"
			       "2026-11-20T03:12:00Z,\"a,b\",,1.5,\"\"\r\n"
			       "1970-01-01T00:00:00Z,\"say \"\"hi\"\"\nnext\",7,2.0,x\r\n"
			       "1970-01-01T00:01:00Z,a\xef\xbf\xbd"
			       "b,-1,0.25,\xc3\xbc\r\n");
	free(s);
	s = render(OUT_CSV, OUT_TIME_EPOCH, "SELECT 5 AS ts, 6 AS start_ts, 7 AS tsx");
	assert_string_equal(s, "ts,start_ts,tsx\r\n5,6,7\r\n");
	free(s);
}

static void json_and_ndjson(void **state)
{
	char *s = render(OUT_JSON, OUT_TIME_DEFAULT, awkward);
	assert_string_equal(
	    s, "[\n"
	       "{\"ts\":1795144320,\"s\":\"a,b\",\"n\":null,\"r\":1.5,\"empty\":\"\"},\n"
	       "{\"ts\":0,\"s\":\"say \\\"hi\\\"\\u000anext\",\"n\":7,\"r\":2.0,"
	       "\"empty\":\"x\"},\n"
	       "{\"ts\":60,\"s\":\"a\xef\xbf\xbd"
	       "b\",\"n\":-1,\"r\":0.25,\"empty\":\"\xc3\xbc\"}\n]\n");
	free(s);
	s = render(OUT_NDJSON, OUT_TIME_ISO, "SELECT 60 AS ts, 1e999 AS inf");
	assert_string_equal(s, "{\"ts\":\"1970-01-01T00:01:00Z\",\"inf\":null}\n");
	free(s);
	s = render(OUT_JSON, OUT_TIME_DEFAULT, "SELECT 1 AS a WHERE 0");
	assert_string_equal(s, "[]\n");
	free(s);
}

static void table_aligned(void **state)
{
	setenv("TZ", "UTC0", 1);
	char *s = render(OUT_TABLE, OUT_TIME_DEFAULT,
			 "SELECT 60 AS ts, 'nginx' AS name, 5 AS n UNION ALL "
			 "SELECT 120, 'db', 12345");
	assert_string_equal(s, "ts                   name       n\n"
			       "-------------------  -----  -----\n"
			       "1970-01-01 00:01:00  nginx      5\n"
			       "1970-01-01 00:02:00  db     12345\n");
	free(s);
	s = render(OUT_TABLE, OUT_TIME_DEFAULT, "SELECT 1 AS a WHERE 0");
	assert_string_equal(s, "a\n-\n(no rows)\n");
	free(s);
}

/* The authorizer on a real file: reads pass, everything else is refused
 * with a message saying what and why. */
static void authorizer_refuses(void **state)
{
	char *dir = temp_dir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/t.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE t (ts INTEGER PRIMARY KEY, v INTEGER);"
				      "INSERT INTO t VALUES (1, 2);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	struct qopts o;
	qopts_defaults(&o);
	o.db = path;
	struct qdb q;
	struct err e;
	sqlite3_stmt *st;
	assert_int_equal(qdb_open(&q, &o, &e), 0);
	assert_int_equal(qdb_prepare_user(&q, "SELECT * FROM t", &st, &e), 0);
	sqlite3_finalize(st);
	assert_int_equal(qdb_prepare_user(&q, "PRAGMA table_info(t)", &st, &e), 0);
	sqlite3_finalize(st);
	const struct {
		const char *sql, *msg;
	} bad[] = {
	    {"INSERT INTO t VALUES (3, 4)", "INSERT is refused"},
	    {"DELETE FROM t", "DELETE is refused"},
	    {"UPDATE t SET v = 1", "UPDATE is refused"},
	    {"DROP TABLE t", "changing the schema"},
	    {"ATTACH 'x.db' AS x", "ATTACH is refused"},
	    {"DETACH x", "DETACH is refused"},
	    {"PRAGMA user_version = 3", "PRAGMA user_version 3 is refused"},
	    {"PRAGMA query_only = 0", "PRAGMA query_only 0 is refused"},
	    {"BEGIN", "transaction statements are refused"},
	    {"VACUUM", "statement is refused"},
	    {"SELECT 1; SELECT 2", "one statement at a time"},
	    {"", "no statement"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		st = NULL;
		if (qdb_prepare_user(&q, bad[i].sql, &st, &e) == 0)
			fail_msg("'%s' was not refused", bad[i].sql);
		assert_null(st);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].sql, e.msg, bad[i].msg);
	}
	qdb_close(&q);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reals_read_back),	  cmocka_unit_test(ints_match_printf),
	    cmocka_unit_test(reals_match_printf), cmocka_unit_test(where_filters),
	    cmocka_unit_test(csv_rfc4180),	  cmocka_unit_test(json_and_ndjson),
	    cmocka_unit_test(table_aligned),	  cmocka_unit_test(authorizer_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
