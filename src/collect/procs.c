/* The processes collector: writes the rows of the process accounting
 * (proc/accounting.h) the daemon hands it: per-group rows (counters as
 * deltas, gauges as values), the top processes, the process table.
 * Tables: proc_group, group_sample, process, process_top, procs_scan. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/cgroup.h"
#include "collect/collect.h"
#include "collect/procs.h"
#include "proc/accounting.h"
#include "proc/cmdline.h"

/* What was written of a group (the accounting's group of the same index). */
struct group_row {
	int64_t db_id;			 /* proc_group id, refreshed when used */
	int64_t written[ACCT_NGAUGES];	 /* as in the last committed row */
	int64_t candidate[ACCT_NGAUGES]; /* as in this tick's row, until commit */
	int wrote;			 /* a row was written this tick */
};

struct procs {
	struct procs_options opt;
	struct proc_accounting *acct;
	int proc_fd;
	struct store *store;
	uint64_t store_rollbacks;
	struct dim groups_dim;
	struct cg_hiers cgroups; /* to name each process's cgroup by its id */
	struct group_row *rows;	 /* one per accounting group */
	size_t nrows;
	sqlite3_stmt *ins_group, *ins_proc, *ins_top, *ins_scan;
	char text[8192];
};

/* Keeps one group_row per accounting group; groups are only ever added. */
static int grow_rows(struct procs *ps, struct err *e)
{
	size_t n = ps->acct->ngroups;
	if (n <= ps->nrows)
		return 0;
	struct group_row *r = realloc(ps->rows, n * sizeof(*r));
	if (!r)
		return err_set(e, "out of memory");
	memset(r + ps->nrows, 0, (n - ps->nrows) * sizeof(*r));
	ps->rows = r;
	ps->nrows = n;
	return 0;
}

/* ---- rows ---- */

static int write_group(struct procs *ps, struct tick *t, struct acct_group *g, struct group_row *r,
		       struct err *e)
{
	int moved = memcmp(g->gauge, r->written, sizeof(g->gauge)) != 0;
	for (int i = 0; i < ACCT_NCOUNTERS && !moved; i++)
		moved = g->pending[i] != 0;
	r->wrote = 0;
	if (!moved)
		return 0;
	if ((r->db_id = dim_id(&ps->groups_dim, g->name, e)) < 0)
		return -1;
	sqlite3_stmt *st = ps->ins_group;
	int64_t head[] = {t->ts, r->db_id, t->dur_ms, g->gauge[ACCT_PROCS], g->gauge[ACCT_THREADS]};
	bind_int64s(st, 1, head, 5);
	bind_u64s(st, 6, g->pending, ACCT_NCOUNTERS);
	bind_int64s(st, 6 + ACCT_NCOUNTERS, g->gauge + ACCT_RSS_KB, ACCT_NGAUGES - ACCT_RSS_KB);
	memcpy(r->candidate, g->gauge, sizeof(g->gauge));
	r->wrote = 1;
	t->rows++;
	return store_exec_stmt(t->store, st, e);
}

static const char *exe_of(struct procs *ps, int32_t pid, struct tick_errors *te)
{
	char path[64];
	snprintf(path, sizeof(path), "%d/exe", pid);
	ssize_t n = readlinkat(ps->proc_fd, path, ps->text, sizeof(ps->text) - 1);
	if (n < 0) {
		/* kernel threads have none (ENOENT); PID 1 hides it (EACCES) */
		if (errno == EACCES || errno == EPERM)
			te->permission++;
		n = 0;
	}
	ps->text[n] = '\0';
	return ps->text;
}

/* The group's id in proc_group, 0 for a process in no group. */
static int64_t group_id_of(struct procs *ps, const struct proc_entry *p, struct err *e)
{
	if (p->group < 0)
		return 0;
	ASSERT((size_t)p->group < ps->acct->ngroups);
	return dim_id(&ps->groups_dim, ps->acct->groups[p->group].name, e);
}

/* The kernel's id of the cgroup a process is in (cgroup.inode), 0 when
 * unknown: the process is gone, or no cgroup hierarchy is mounted. */
static int64_t cgroup_of(struct procs *ps, int32_t pid)
{
	if (!ps->cgroups.n || proc_read(&ps->acct->scan, pid, "cgroup"))
		return 0;
	return cg_proc_cgroup_id(&ps->cgroups, ps->acct->scan.buf.data);
}

/* The process row, inserted when first seen (and its group updated after a
 * recheck). The upsert returns the row id either way. */
static int write_process(struct procs *ps, struct tick *t, struct proc_entry *p, struct err *e)
{
	struct proc_accounting *a = ps->acct;
	sqlite3_stmt *st = ps->ins_proc;
	char cmd[8192];
	size_t len;
	const char *argv = acct_argv(a, p, &len);
	size_t max = (size_t)ps->opt.cmdline_max_bytes < sizeof(cmd) - 1
			 ? (size_t)ps->opt.cmdline_max_bytes
			 : sizeof(cmd) - 1;
	cmdline_format(argv, len, ps->opt.cmdline_redact, cmd, max);
	int64_t gid = group_id_of(ps, p, e);
	if (gid < 0)
		return -1;
	int64_t v[] = {a->boot_s,
		       p->pid,
		       (int64_t)p->start_ticks,
		       a->boot_s + (int64_t)(p->start_ticks / (uint64_t)a->hz),
		       p->ppid,
		       p->uid};
	bind_int64s(st, 1, v, 6);
	sqlite3_bind_text(st, 7, proc_user_name(p->uid), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, p->comm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, exe_of(ps, p->pid, t->errors), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, cmd, -1, SQLITE_TRANSIENT);
	if (gid)
		sqlite3_bind_int64(st, 11, gid);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_int64(st, 12, t->ts);
	int64_t cg = p->row_id ? 0 : cgroup_of(ps, p->pid);
	if (cg)
		sqlite3_bind_int64(st, 13, cg);
	else
		sqlite3_bind_null(st, 13);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		p->row_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return err_set(e, "process row: %s", sqlite3_errmsg(t->store->db));
	t->rows++;
	return 0;
}

static int write_top_row(struct procs *ps, struct tick *t, const struct proc_entry *p,
			 struct err *e)
{
	long hz = ps->acct->hz;
	const struct proc_counters *d = &p->delta;
	int64_t gid = group_id_of(ps, p, e);
	if (gid < 0)
		return -1;
	uint64_t v[] = {ticks_to_ms(d->utime, hz),
			ticks_to_ms(d->stime, hz),
			d->read_bytes,
			d->write_bytes,
			d->minflt,
			d->majflt,
			d->vcsw,
			d->ivcsw,
			p->rss_kb,
			p->vsize_kb,
			p->swap_kb,
			(uint64_t)p->threads,
			p->fds};
	int64_t head[] = {t->ts, p->row_id, t->dur_ms};
	bind_int64s(ps->ins_top, 1, head, 3);
	if (gid > 0)
		sqlite3_bind_int64(ps->ins_top, 4, gid);
	else
		sqlite3_bind_null(ps->ins_top, 4);
	bind_u64s(ps->ins_top, 5, v, (int)ARRAY_LEN(v));
	t->rows++;
	return store_exec_stmt(t->store, ps->ins_top, e);
}

static uint64_t key_cpu(const struct proc_entry *p)
{
	return p->delta.utime + p->delta.stime;
}

static uint64_t key_rss(const struct proc_entry *p)
{
	return p->rss_kb;
}

/* The n entries with the largest non-zero key, into top[] (indices). */
static size_t pick_top(const struct proc_scan *s, uint64_t (*key)(const struct proc_entry *),
		       uint32_t *top, size_t n)
{
	size_t have = 0;
	for (uint32_t i = 0; i < s->nent; i++) {
		uint64_t k = key(&s->ent[i]);
		if (!k)
			continue;
		size_t pos = have < n ? have++ : n;
		if (pos == n && k <= key(&s->ent[top[n - 1]]))
			continue;
		if (pos == n)
			pos = n - 1;
		while (pos > 0 && key(&s->ent[top[pos - 1]]) < k) {
			top[pos] = top[pos - 1];
			pos--;
		}
		top[pos] = i;
	}
	return have;
}

static int write_tops(struct procs *ps, struct tick *t, struct err *e)
{
	const struct proc_scan *s = &ps->acct->scan;
	size_t n = (size_t)ps->opt.top_processes;
	uint32_t top[2 * PROCS_TOP_MAX];
	if (!n)
		return 0;
	ASSERT(n <= PROCS_TOP_MAX); /* the configuration bounds it */
	size_t a = pick_top(s, key_cpu, top, n);
	size_t b = pick_top(s, key_rss, top + a, n);
	for (size_t i = 0; i < a + b; i++) {
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = top[j] == top[i];
		if (!dup && write_top_row(ps, t, &s->ent[top[i]], e))
			return -1;
	}
	return 0;
}

static int write_scan(struct procs *ps, struct tick *t, struct err *e)
{
	const struct proc_scan *s = &ps->acct->scan;
	const struct proc_scan_stats *st = &s->st;
	uint64_t v[] = {st->procs, st->full, st->skipped, st->vanished, st->added, s->nfds};
	sqlite3_bind_int64(ps->ins_scan, 1, t->ts);
	bind_u64s(ps->ins_scan, 2, v, (int)ARRAY_LEN(v));
	t->rows++;
	return store_exec_stmt(t->store, ps->ins_scan, e);
}

/* ---- the collector ---- */

static int prepare(struct procs *ps, struct store *st, struct err *e)
{
	ps->ins_group = store_prepare(
	    st,
	    "INSERT INTO group_sample(ts, group_id, dur_ms, procs_count, threads_count, user_ms, "
	    "system_ms, reaped_user_ms, reaped_system_ms, read_bytes, write_bytes, "
	    "minor_faults_count, major_faults_count, voluntary_switches_count, "
	    "involuntary_switches_count, rss_kb, vm_kb, swap_kb, pss_kb, fds_count, "
	    "worst_fd_pct_x100, "
	    "oldest_start_ts, running_count, sleeping_count, disk_wait_count, zombie_count, "
	    "other_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    e);
	ps->ins_proc = store_prepare(
	    st,
	    "INSERT INTO process(boot_ts, pid, start_ticks, start_ts, ppid, uid, user, comm, exe, "
	    "cmdline, group_id, first_seen_ts, cgroup_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT(boot_ts, pid, start_ticks) DO UPDATE SET group_id = excluded.group_id "
	    "RETURNING id",
	    e);
	ps->ins_top = store_prepare(
	    st,
	    "INSERT INTO process_top(ts, process_id, dur_ms, group_id, user_ms, system_ms, "
	    "read_bytes, write_bytes, minor_faults_count, major_faults_count, "
	    "voluntary_switches_count, involuntary_switches_count, rss_kb, vm_kb, swap_kb, "
	    "threads_count, fds_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    e);
	ps->ins_scan =
	    store_prepare(st,
			  "INSERT INTO procs_scan(ts, procs_count, full_count, skipped_count, "
			  "vanished_count, new_count, kept_fds_count) VALUES (?,?,?,?,?,?,?)",
			  e);
	if (!ps->ins_group || !ps->ins_proc || !ps->ins_top || !ps->ins_scan)
		return -1;
	return dim_init(&ps->groups_dim, st, "proc_group", e);
}

/* The rows start from the accounting's baseline, taken here: what runs now
 * counts only its growth from here. */
static int procs_open(void **state, const struct collector_env *env, const void *options,
		      struct err *e)
{
	ASSERT(env->acct != NULL && options != NULL);
	struct procs *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return err_set(e, "out of memory");
	*state = ps;
	ps->opt = *(const struct procs_options *)options;
	ps->acct = env->acct;
	ps->proc_fd = env->proc_fd;
	ps->store = env->store;
	ps->store_rollbacks = env->store->rollbacks;
	if (prepare(ps, env->store, e) || acct_baseline(ps->acct, e) ||
	    cg_hiers_open(&ps->cgroups, env->sys_fd, e))
		return -1;
	return 0;
}

/* After a rolled-back tick the process rows it inserted are gone. */
static void forget_rolled_back(struct procs *ps)
{
	struct proc_scan *s = &ps->acct->scan;
	if (ps->store_rollbacks == ps->store->rollbacks)
		return;
	ps->store_rollbacks = ps->store->rollbacks;
	for (uint32_t i = 0; i < s->nent; i++)
		s->ent[i].row_id = 0;
}

static int procs_sample(void *state, struct tick *t, struct err *e)
{
	struct procs *ps = state;
	struct proc_accounting *a = ps->acct;
	struct err serr;
	if (acct_scan(a, t->errors, &serr)) {
		t->errors->read++;
		log_debug("processes: %s", serr.msg);
		return 0;
	}
	forget_rolled_back(ps);
	if (grow_rows(ps, e))
		return -1;
	for (size_t i = 0; i < a->ngroups; i++)
		if (write_group(ps, t, &a->groups[i], &ps->rows[i], e))
			return -1;
	for (uint32_t i = 0; i < a->scan.nent; i++) {
		struct proc_entry *p = &a->scan.ent[i];
		if (p->row_id <= 0 && write_process(ps, t, p, e))
			return -1;
	}
	return write_tops(ps, t, e) || write_scan(ps, t, e) ? -1 : 0;
}

static void procs_commit(void *state)
{
	struct procs *ps = state;
	for (size_t i = 0; i < ps->nrows; i++) {
		struct group_row *r = &ps->rows[i];
		if (!r->wrote)
			continue;
		memset(ps->acct->groups[i].pending, 0, sizeof(ps->acct->groups[i].pending));
		memcpy(r->written, r->candidate, sizeof(r->written));
		r->wrote = 0;
	}
}

static void procs_close(void *state)
{
	struct procs *ps = state;
	if (!ps)
		return;
	dim_free(&ps->groups_dim);
	cg_hiers_close(&ps->cgroups);
	free(ps->rows);
	free(ps);
}

const struct collector_ops collector_procs = {
    .name = "procs",
    .open = procs_open,
    .sample = procs_sample,
    .commit = procs_commit,
    .close = procs_close,
};
