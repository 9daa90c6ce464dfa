/* /proc/vmstat: paging, swapping, reclaim, OOM kills, compaction and THP
 * events as deltas. Table: vmstat, one row per tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/counter.h"
#include "collect/vmstat.h"

/* The per-zone and per-type splits a prefix key sums. Only these: e.g.
 * pgscan_direct_throttle is a different event, not a part of pgscan_direct. */
static int is_split_suffix(const char *s, size_t len)
{
	static const char *const parts[] = {"dma",     "dma32",	 "normal", "high", "highmem",
					    "movable", "device", "anon",   "file"};
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		if (strlen(parts[i]) == len && memcmp(s, parts[i], len) == 0)
			return 1;
	return 0;
}

static int key_matches(const struct vmstat_key *k, const char *name, size_t len)
{
	size_t kl = strlen(k->name);
	if (len < kl || memcmp(name, k->name, kl) != 0)
		return 0;
	return len == kl ||
	       (k->prefix && name[kl] == '_' && is_split_suffix(name + kl + 1, len - kl - 1));
}

int vmstat_parse(const char *text, const struct vmstat_key *keys, size_t n, uint64_t *out,
		 unsigned char *found, struct err *e)
{
	memset(out, 0, n * sizeof(*out));
	memset(found, 0, n);
	if (check_complete(text, "/proc/vmstat", e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		const char *name = p;
		while (p < eol && *p != ' ')
			p++;
		size_t len = (size_t)(p - name);
		uint64_t v;
		char tok[32];
		if (len == 0 || scan_field_u64(&p, &v) || p != eol)
			return err_set(e, "/proc/vmstat line %d (%.*s): bad value '%s'", line,
				       (int)(len < 40 ? len : 40), name,
				       token_preview(p, tok, sizeof(tok)));
		for (size_t i = 0; i < n; i++)
			if (key_matches(&keys[i], name, len)) {
				out[i] += v;
				found[i] = 1;
			}
		p = eol + 1;
	}
	return 0;
}

/* ---- collector ---- */

static const struct vmstat_key keys[] = {
    {"pgpgin", "pgpgin_kb", 0}, /* the kernel counts these in KiB */
    {"pgpgout", "pgpgout_kb", 0},
    {"pswpin", "pswpin_pages", 0},
    {"pswpout", "pswpout_pages", 0},
    {"pgfault", "pgfault_count", 0},
    {"pgmajfault", "pgmajfault_count", 0},
    {"pgscan_kswapd", "pgscan_kswapd_pages", 1},
    {"pgscan_direct", "pgscan_direct_pages", 1},
    {"pgsteal_kswapd", "pgsteal_kswapd_pages", 1},
    {"pgsteal_direct", "pgsteal_direct_pages", 1},
    {"allocstall", "allocstall_count", 1},
    {"oom_kill", "oom_kill_count", 0},
    {"workingset_refault", "workingset_refault_pages", 1},
    {"compact_stall", "compact_stall_count", 0},
    {"compact_fail", "compact_fail_count", 0},
    {"thp_fault_alloc", "thp_fault_alloc_count", 0},
    {"thp_fault_fallback", "thp_fault_fallback_count", 0},
    {"thp_collapse_alloc", "thp_collapse_alloc_count", 0},
    {"thp_split_page", "thp_split_page_count", 0},
};
#define NKEYS ARRAY_LEN(keys)

struct vmstat_state {
	int proc_fd;
	struct buf buf;
	uint64_t snap[2][NKEYS];
	unsigned char found[2][NKEYS];
	int cur, have, filled;
	sqlite3_stmt *ins;
};

static int vmstat_read(struct vmstat_state *s, int idx, struct tick_errors *te)
{
	struct err e;
	int rc = buf_read_file(&s->buf, s->proc_fd, "vmstat", SOURCE_MAX_SMALL);
	if (rc < 0) {
		if (te)
			tick_errors_count_read(te, rc);
		return -1;
	}
	if (vmstat_parse(s->buf.data, keys, NKEYS, s->snap[idx], s->found[idx], &e)) {
		if (te)
			te->parse++;
		log_debug("%s", e.msg);
		return -1;
	}
	return 0;
}

static int vmstat_open(void **state, const struct collector_env *env, const void *options,
		       struct err *e)
{
	struct store *st = env->store;
	struct vmstat_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	char sql[2048];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO vmstat(ts, dur_ms");
	for (size_t i = 0; i < NKEYS; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s", keys[i].column);
	len += (size_t)snprintf(sql + len, sizeof(sql) - len, ") VALUES (?,?");
	for (size_t i = 0; i < NKEYS; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ",?");
	snprintf(sql + len, sizeof(sql) - len, ")");
	if (!(s->ins = store_prepare(st, sql, e)))
		return -1;
	s->have = vmstat_read(s, 0, NULL) == 0;
	s->cur = 1;
	return 0;
}

static int vmstat_sample(void *state, struct tick *t, struct err *e)
{
	struct vmstat_state *s = state;
	s->filled = vmstat_read(s, s->cur, t->errors) == 0;
	if (!s->filled || !s->have)
		return 0;
	const uint64_t *c = s->snap[s->cur], *p = s->snap[!s->cur];
	sqlite3_bind_int64(s->ins, 1, t->ts);
	sqlite3_bind_int64(s->ins, 2, t->dur_ms);
	for (size_t i = 0; i < NKEYS; i++) {
		if (!s->found[s->cur][i] || !s->found[!s->cur][i]) {
			sqlite3_bind_null(s->ins, 3 + (int)i);
			continue;
		}
		uint64_t d = counter_delta_wrap32(p[i], c[i]);
		bind_u64s(s->ins, 3 + (int)i, &d, 1);
	}
	t->rows++;
	return store_exec_stmt(t->store, s->ins, e);
}

static void vmstat_commit(void *state)
{
	struct vmstat_state *s = state;
	if (!s->filled)
		return;
	s->have = 1;
	s->cur = !s->cur;
}

static void vmstat_close(void *state)
{
	struct vmstat_state *s = state;
	if (!s)
		return;
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_vmstat = {
    .name = "vmstat",
    .open = vmstat_open,
    .sample = vmstat_sample,
    .commit = vmstat_commit,
    .close = vmstat_close,
};
