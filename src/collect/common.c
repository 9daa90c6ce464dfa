/* Helpers every collector shares. */
#include "collect/collect.h"

void bind_int64s(sqlite3_stmt *st, int first, const int64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, first + i, v[i]);
}

void bind_u64s(sqlite3_stmt *st, int first, const uint64_t *v, int n)
{
	/* Counters above INT64_MAX do not occur in /proc deltas; clamp rather
	 * than store a negative number if one ever does. */
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, first + i, v[i] > INT64_MAX ? INT64_MAX : (int64_t)v[i]);
}
