/* How far an event lies from a window of time, in words a person reads at a
 * glance ("+2m10s after", "-45s before", "inside"), for the event sections
 * of top and the replay screen. The formatting is pure; the SQL function
 * that calls it is registered on the tool's own connection. */
#include <stdio.h>

#include "query/query.h"

size_t format_duration_short(int64_t s, char *buf, size_t n)
{
	ASSERT(n > 0);
	if (s < 0)
		s = -s;
	int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
	int len;
	/* Two units at most: past an hour the seconds are noise. */
	if (d)
		len = h ? snprintf(buf, n, "%lldd%lldh", (long long)d, (long long)h)
			: snprintf(buf, n, "%lldd", (long long)d);
	else if (h)
		len = m ? snprintf(buf, n, "%lldh%02lldm", (long long)h, (long long)m)
			: snprintf(buf, n, "%lldh", (long long)h);
	else if (m)
		len = sec ? snprintf(buf, n, "%lldm%02llds", (long long)m, (long long)sec)
			  : snprintf(buf, n, "%lldm", (long long)m);
	else
		len = snprintf(buf, n, "%llds", (long long)sec);
	return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

size_t window_distance_format(int64_t ts, int64_t lo, int64_t hi, char *buf, size_t n)
{
	ASSERT(lo <= hi && n > 0);
	char d[32];
	int len;
	if (ts < lo) {
		format_duration_short(lo - ts, d, sizeof(d));
		len = snprintf(buf, n, "-%s before", d);
	} else if (ts > hi) {
		format_duration_short(ts - hi, d, sizeof(d));
		len = snprintf(buf, n, "+%s after", d);
	} else {
		len = snprintf(buf, n, "inside");
	}
	return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

/* window_distance(ts, lo, hi): the text above; NULL for a NULL argument. */
static void window_distance_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char buf[64];
	ASSERT(argc == 3);
	for (int i = 0; i < argc; i++)
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
			sqlite3_result_null(ctx);
			return;
		}
	int64_t ts = sqlite3_value_int64(argv[0]), lo = sqlite3_value_int64(argv[1]),
		hi = sqlite3_value_int64(argv[2]);
	if (lo > hi) {
		sqlite3_result_error(ctx, "window_distance: the window ends before it starts", -1);
		return;
	}
	size_t len = window_distance_format(ts, lo, hi, buf, sizeof(buf));
	sqlite3_result_text(ctx, buf, (int)len, SQLITE_TRANSIENT);
}

int window_distance_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "window_distance", 3,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       window_distance_sql, NULL, NULL) == SQLITE_OK
		   ? 0
		   : -1;
}
