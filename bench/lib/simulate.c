/* Synthetic per-group history with known totals (bench_simulate, the
 * retention tests and bench_retention). Values have realistic magnitudes,
 * so bytes per row measured on it mean something: CPU milliseconds in the
 * hundreds, I/O bytes mostly zero with bursts, RSS a slow random walk. */
#include <stdio.h>
#include <string.h>

#include "simulate.h"

static const char sim_schema[] =
    "CREATE TABLE IF NOT EXISTS sim_group (\n"
    "  ts INTEGER NOT NULL, group_id INTEGER NOT NULL, dur_ms INTEGER NOT NULL,\n"
    "  user_ms INTEGER NOT NULL, system_ms INTEGER NOT NULL,\n"
    "  read_bytes INTEGER NOT NULL, write_bytes INTEGER NOT NULL,\n"
    "  rss_kb INTEGER NOT NULL, procs_count INTEGER NOT NULL, threads_count INTEGER NOT NULL,\n"
    "  PRIMARY KEY (ts, group_id)) WITHOUT ROWID;\n"
    "INSERT OR IGNORE INTO series_column(table_name, column_name, kind) VALUES\n"
    "  ('sim_group', 'group_id', 'key'), ('sim_group', 'dur_ms', 'counter'),\n"
    "  ('sim_group', 'user_ms', 'counter'), ('sim_group', 'system_ms', 'counter'),\n"
    "  ('sim_group', 'read_bytes', 'counter'), ('sim_group', 'write_bytes', 'counter'),\n"
    "  ('sim_group', 'rss_kb', 'gauge_peak'), ('sim_group', 'procs_count', 'gauge'),\n"
    "  ('sim_group', 'threads_count', 'gauge_peak');\n";

static uint64_t rnd(struct sim *m)
{
	/* xorshift64*: fast, deterministic for a given seed */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 2685821657736338717ULL;
}

int sim_open(struct sim *m, struct store *s, int groups, int interval_s, int64_t start_ts,
	     struct err *e)
{
	memset(m, 0, sizeof(*m));
	if (groups < 1 || groups > SIM_MAX_GROUPS || interval_s < 1)
		return err_set(e, "simulate: groups must be 1..%d and the interval at least 1s",
			       SIM_MAX_GROUPS);
	m->groups = groups;
	m->interval_s = interval_s;
	m->rng = 0x9E3779B97F4A7C15ULL;
	m->next_ts = start_ts;
	m->min_rss_kb = INT64_MAX;
	for (int g = 0; g < groups; g++)
		m->rss_kb[g] = 4096 + (int64_t)(rnd(m) % 2000000);
	if (store_exec(s, sim_schema, e))
		return -1;
	m->ins = store_prepare(s, "INSERT INTO sim_group VALUES (?,?,?,?,?,?,?,?,?,?)", e);
	return m->ins ? 0 : -1;
}

int sim_reattach(struct sim *m, struct store *s, struct err *e)
{
	m->ins = store_prepare(s, "INSERT INTO sim_group VALUES (?,?,?,?,?,?,?,?,?,?)", e);
	return m->ins ? 0 : -1;
}

static int write_tick(struct sim *m, struct store *s, int64_t ts, struct err *e)
{
	for (int g = 0; g < m->groups; g++) {
		uint64_t r = rnd(m);
		int64_t dur = m->interval_s * 1000 + (int64_t)(r % 7) - 3;
		int64_t user = (int64_t)((r >> 8) % 400) * (g % 4 == 0 ? 10 : 1);
		int64_t sys = (int64_t)((r >> 20) % 150);
		int64_t rd = (r >> 30) % 8 == 0 ? (int64_t)((r >> 33) % 4000000) : 0;
		int64_t wr = (r >> 40) % 5 == 0 ? (int64_t)((r >> 43) % 1000000) : 0;
		int64_t step = (int64_t)((r >> 50) % 2049) - 1024;
		m->rss_kb[g] = m->rss_kb[g] + step < 1024 ? 1024 : m->rss_kb[g] + step;
		int64_t rss = m->rss_kb[g];
		int64_t procs = 1 + g % 17, threads = procs * (1 + (int64_t)((r >> 58) % 8));
		int64_t v[] = {ts, g, dur, user, sys, rd, wr, rss, procs, threads};
		for (int i = 0; i < (int)ARRAY_LEN(v); i++)
			sqlite3_bind_int64(m->ins, i + 1, v[i]);
		if (store_exec_stmt(s, m->ins, e))
			return -1;
		m->rows++;
		m->sum_dur_ms += dur;
		m->sum_user_ms += user;
		m->sum_system_ms += sys;
		m->sum_read_bytes += rd;
		m->sum_write_bytes += wr;
		m->sum_rss_kb += rss;
		if (rss > m->max_rss_kb)
			m->max_rss_kb = rss;
		if (rss < m->min_rss_kb)
			m->min_rss_kb = rss;
	}
	return 0;
}

int sim_write_until(struct sim *m, struct store *s, int64_t until, struct err *e)
{
	while (m->next_ts < until) {
		if (store_begin(s, e))
			return -1;
		int64_t end = m->next_ts + 3600;
		for (; m->next_ts < until && m->next_ts < end; m->next_ts += m->interval_s) {
			if (m->next_ts >= m->gap_from && m->next_ts < m->gap_to)
				continue;
			if (write_tick(m, s, m->next_ts, e)) {
				store_rollback(s);
				return -1;
			}
		}
		if (store_commit(s, e))
			return -1;
	}
	return 0;
}
