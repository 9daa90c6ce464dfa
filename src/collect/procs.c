/* Processes and process groups: per-tick group rows (counters as deltas,
 * gauges as values), the top processes, and the process table.
 * Tables: proc_group, group_sample, process, process_top. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect/collect.h"
#include "daemon/config.h"
#include "proc/cmdline.h"
#include "proc/groups.h"
#include "proc/scan.h"

/* Counters of a group, summed over its processes, in ms and counts. */
enum {
	G_USER,
	G_SYS,
	G_RUSER,
	G_RSYS,
	G_READ,
	G_WRITE,
	G_MINFLT,
	G_MAJFLT,
	G_VCSW,
	G_IVCSW,
	G_NCOUNTERS
};
/* Gauges, recomputed every tick. */
enum {
	G_PROCS,
	G_THREADS,
	G_RSS,
	G_VM,
	G_SWAP,
	G_PSS,
	G_FDS,
	G_FDPCT,
	G_OLDEST,
	G_RUN,
	G_SLEEP,
	G_DISK,
	G_ZOMBIE,
	G_OTHER,
	G_NGAUGES
};

struct group {
	char *name;
	int64_t db_id;		       /* proc_group id, refreshed when used */
	uint64_t pending[G_NCOUNTERS]; /* since the last committed row */
	int64_t gauge[G_NGAUGES];      /* this tick */
	int64_t written[G_NGAUGES];    /* as in the last committed row */
	int64_t candidate[G_NGAUGES];  /* as in this tick's row, until commit */
	int wrote;		       /* a row was written this tick */
};

struct procs {
	const struct config *cfg;
	int proc_fd;
	struct proc_scan scan;
	struct group_rules rules;
	struct dim groups_dim;
	struct group *groups;
	size_t ngroups, capgroups;
	uint32_t *gslots; /* name hash -> index + 1 */
	size_t ngslots;
	int64_t boot_s;
	long hz;
	uint64_t store_rollbacks;
	struct store *store;
	struct tick_errors baseline_errors;
	sqlite3_stmt *ins_group, *ins_proc, *ins_top, *ins_scan;
	char argv[GROUP_ARGV_MAX];
	char text[8192];
	int exits_reported; /* eBPF reports exits: reaped children are not added */
};

static struct procs *current; /* for procs_group_classify/add */

/* ---- groups by name ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static uint32_t *gslot(struct procs *ps, const char *name)
{
	size_t i = name_hash(name) & (ps->ngslots - 1);
	while (ps->gslots[i] && strcmp(ps->groups[ps->gslots[i] - 1].name, name))
		i = (i + 1) & (ps->ngslots - 1);
	return &ps->gslots[i];
}

static int groups_rehash(struct procs *ps, size_t n)
{
	uint32_t *s = calloc(n, sizeof(*s));
	if (!s)
		return -1;
	free(ps->gslots);
	ps->gslots = s;
	ps->ngslots = n;
	for (size_t i = 0; i < ps->ngroups; i++)
		*gslot(ps, ps->groups[i].name) = (uint32_t)i + 1;
	return 0;
}

/* The group's index, created on first use; -1 when out of memory. */
static int32_t group_index(struct procs *ps, const char *name)
{
	uint32_t *slot = gslot(ps, name);
	if (*slot)
		return (int32_t)*slot - 1;
	if (ps->ngroups == ps->capgroups) {
		size_t cap = ps->capgroups ? ps->capgroups * 2 : 64;
		struct group *g = realloc(ps->groups, cap * sizeof(*g));
		if (!g)
			return -1;
		ps->groups = g;
		ps->capgroups = cap;
	}
	struct group *g = &ps->groups[ps->ngroups];
	memset(g, 0, sizeof(*g));
	if (!(g->name = strdup(name)))
		return -1;
	ps->ngroups++;
	if (ps->ngroups * 2 > ps->ngslots)
		groups_rehash(ps, ps->ngslots * 2);
	else
		*slot = (uint32_t)ps->ngroups;
	return (int32_t)ps->ngroups - 1;
}

/* ---- classification ---- */

static void read_argv(struct procs *ps, const struct proc_entry *p, size_t *len)
{
	int n = proc_read_cmdline(&ps->scan, p->pid, ps->argv, sizeof(ps->argv));
	*len = n > 0 ? (size_t)n : 0;
}

static int32_t classify_ident(struct procs *ps, const struct proc_ident *id, int32_t ppid,
			      int depth);

/* The group of p: its own rule, else (children on) its parent's group. */
static int32_t classify(struct procs *ps, struct proc_entry *p, int depth)
{
	if (p->class_gen)
		return p->group;
	size_t len = 0;
	if (ps->rules.needs & GROUP_NEEDS_ARGV)
		read_argv(ps, p, &len);
	char cg[1024] = "";
	if (ps->rules.needs & GROUP_NEEDS_CGROUPS && proc_read(&ps->scan, p->pid, "cgroup") == 0)
		snprintf(cg, sizeof(cg), "%s", ps->scan.buf.data);
	struct proc_ident id = {.comm = p->comm,
				.argv = ps->argv,
				.argv_len = len,
				.uid = p->uid,
				.pid = p->pid,
				.start_ticks = p->start_ticks,
				.boot_s = ps->boot_s,
				.cgroups = cg,
				.kthread = !!(p->flags & PF_KTHREAD)};
	p->class_gen = ps->scan.gen;
	p->group = classify_ident(ps, &id, p->ppid, depth);
	return p->group;
}

static int32_t classify_ident(struct procs *ps, const struct proc_ident *id, int32_t ppid,
			      int depth)
{
	char name[256];
	if (group_rules_match(&ps->rules, id, name, sizeof(name)))
		return group_index(ps, name);
	if (!ps->cfg->children || depth > 64 || ppid <= 0 || ppid == id->pid)
		return -1;
	struct proc_entry *parent = proc_scan_find(&ps->scan, ppid);
	if (!parent)
		return -1;
	return classify(ps, parent, depth + 1);
}

/* Young processes that match no rule, or that exec'd (comm changed), are
 * classified again while younger than recheck_with_time_limit: a wrapper
 * script becomes the program it starts. */
static void recheck(struct procs *ps, struct proc_entry *p, uint64_t now_ticks)
{
	uint64_t limit = (uint64_t)ps->cfg->recheck_ms * (uint64_t)ps->hz / 1000;
	if (!limit || !(p->flags & PF_READ) || now_ticks - p->start_ticks > limit)
		return;
	if (p->group >= 0 && !(p->flags & PF_COMM_CHANGED))
		return;
	int32_t before = p->group;
	p->class_gen = 0;
	if (classify(ps, p, 0) != before)
		p->row_id = -p->row_id; /* the process row's group is updated */
}

static uint64_t boot_ticks_now(long hz)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * (uint64_t)hz +
	       (uint64_t)ts.tv_nsec * (uint64_t)hz / 1000000000u;
}

static void classify_all(struct procs *ps)
{
	uint64_t now = boot_ticks_now(ps->hz);
	for (uint32_t i = 0; i < ps->scan.nent; i++) {
		struct proc_entry *p = &ps->scan.ent[i];
		if (!p->class_gen)
			classify(ps, p, 0);
		else if (ps->cfg->recheck_ms)
			recheck(ps, p, now);
	}
}

/* ---- aggregation ---- */

static int state_gauge(char state)
{
	switch (state) {
	case 'R':
		return G_RUN;
	case 'S':
		return G_SLEEP;
	case 'D':
		return G_DISK;
	case 'Z':
		return G_ZOMBIE;
	default:
		return G_OTHER;
	}
}

static void add_process(struct procs *ps, struct group *g, const struct proc_entry *p)
{
	static const struct proc_counters none;
	/* An exit reported by eBPF already brought the final usage, and each
	 * reaped child its own: neither a zombie's reading nor cutime adds. */
	const struct proc_counters *d = p->flags & PF_EXITED ? &none : &p->delta;
	uint64_t ru = ps->exits_reported ? 0 : p->reaped_utime;
	uint64_t rs = ps->exits_reported ? 0 : p->reaped_stime;
	uint64_t add[G_NCOUNTERS] = {ticks_to_ms(d->utime + ru, ps->hz),
				     ticks_to_ms(d->stime + rs, ps->hz),
				     ticks_to_ms(ru, ps->hz),
				     ticks_to_ms(rs, ps->hz),
				     d->read_bytes,
				     d->write_bytes,
				     d->minflt,
				     d->majflt,
				     d->vcsw,
				     d->ivcsw};
	for (int i = 0; i < G_NCOUNTERS; i++)
		g->pending[i] += add[i];
	int64_t start = ps->boot_s + (int64_t)(p->start_ticks / (uint64_t)ps->hz);
	g->gauge[G_PROCS]++;
	g->gauge[G_THREADS] += p->threads;
	g->gauge[G_RSS] += (int64_t)p->rss_kb;
	g->gauge[G_VM] += (int64_t)p->vsize_kb;
	g->gauge[G_SWAP] += (int64_t)p->swap_kb;
	g->gauge[G_PSS] += (int64_t)p->pss_kb;
	g->gauge[G_FDS] += (int64_t)p->fds;
	if (p->fd_limit && p->fd_limit != UINT64_MAX) {
		int64_t pct = (int64_t)(p->fds * 10000 / p->fd_limit);
		if (pct > g->gauge[G_FDPCT])
			g->gauge[G_FDPCT] = pct;
	}
	if (!g->gauge[G_OLDEST] || start < g->gauge[G_OLDEST])
		g->gauge[G_OLDEST] = start;
	g->gauge[state_gauge(p->state)]++;
}

static void aggregate(struct procs *ps)
{
	for (size_t i = 0; i < ps->ngroups; i++)
		memset(ps->groups[i].gauge, 0, sizeof(ps->groups[i].gauge));
	for (uint32_t i = 0; i < ps->scan.nent; i++) {
		const struct proc_entry *p = &ps->scan.ent[i];
		if (p->group >= 0)
			add_process(ps, &ps->groups[p->group], p);
	}
}

/* ---- rows ---- */

static int write_group(struct procs *ps, struct tick *t, struct group *g, struct err *e)
{
	int moved = memcmp(g->gauge, g->written, sizeof(g->gauge)) != 0;
	for (int i = 0; i < G_NCOUNTERS && !moved; i++)
		moved = g->pending[i] != 0;
	g->wrote = 0;
	if (!moved)
		return 0;
	if ((g->db_id = dim_id(&ps->groups_dim, g->name, e)) < 0)
		return -1;
	sqlite3_stmt *st = ps->ins_group;
	int64_t head[] = {t->ts, g->db_id, t->dur_ms, g->gauge[G_PROCS], g->gauge[G_THREADS]};
	bind_int64s(st, 1, head, 5);
	bind_u64s(st, 6, g->pending, G_NCOUNTERS);
	bind_int64s(st, 6 + G_NCOUNTERS, g->gauge + G_RSS, G_NGAUGES - G_RSS);
	memcpy(g->candidate, g->gauge, sizeof(g->gauge));
	g->wrote = 1;
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

/* The process row, inserted when first seen (and its group updated after a
 * recheck). The upsert returns the row id either way. */
static int write_process(struct procs *ps, struct tick *t, struct proc_entry *p, struct err *e)
{
	sqlite3_stmt *st = ps->ins_proc;
	char cmd[8192];
	size_t len;
	read_argv(ps, p, &len);
	size_t max = (size_t)ps->cfg->cmdline_max_bytes < sizeof(cmd) - 1
			 ? (size_t)ps->cfg->cmdline_max_bytes
			 : sizeof(cmd) - 1;
	cmdline_format(ps->argv, len, ps->cfg->cmdline_redact, cmd, max);
	int64_t gid = p->group >= 0 ? dim_id(&ps->groups_dim, ps->groups[p->group].name, e) : 0;
	if (gid < 0)
		return -1;
	int64_t v[] = {ps->boot_s,
		       p->pid,
		       (int64_t)p->start_ticks,
		       ps->boot_s + (int64_t)(p->start_ticks / (uint64_t)ps->hz),
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
	const struct proc_counters *d = &p->delta;
	int64_t gid = p->group >= 0 ? dim_id(&ps->groups_dim, ps->groups[p->group].name, e) : 0;
	if (gid < 0)
		return -1;
	uint64_t v[] = {ticks_to_ms(d->utime, ps->hz),
			ticks_to_ms(d->stime, ps->hz),
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
	size_t n = (size_t)ps->cfg->top_processes;
	if (!n)
		return 0;
	uint32_t top[2 * 1000];
	size_t a = pick_top(&ps->scan, key_cpu, top, n);
	size_t b = pick_top(&ps->scan, key_rss, top + a, n);
	for (size_t i = 0; i < a + b; i++) {
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = top[j] == top[i];
		if (!dup && write_top_row(ps, t, &ps->scan.ent[top[i]], e))
			return -1;
	}
	return 0;
}

static int write_scan(struct procs *ps, struct tick *t, struct err *e)
{
	const struct proc_scan_stats *st = &ps->scan.st;
	uint64_t v[] = {st->procs, st->full, st->skipped, st->vanished, st->added, ps->scan.nfds};
	sqlite3_bind_int64(ps->ins_scan, 1, t->ts);
	bind_u64s(ps->ins_scan, 2, v, (int)ARRAY_LEN(v));
	t->rows++;
	return store_exec_stmt(t->store, ps->ins_scan, e);
}

/* ---- the collector ---- */

static int64_t read_boot_s(int proc_fd)
{
	struct buf b = {0};
	int64_t boot = 0;
	if (buf_read_file(&b, proc_fd, "stat", SOURCE_MAX_TABLE) == 0) {
		const char *p = strstr(b.data, "\nbtime ");
		uint64_t v;
		if (p && (p += 7, scan_u64(&p, &v) == 0))
			boot = (int64_t)v;
	}
	buf_free(&b);
	return boot;
}

static int load_rules(struct procs *ps, struct err *e)
{
	const struct config *c = ps->cfg;
	if (c->process_config[0])
		return group_rules_load(&ps->rules, c->process_config, e);
	if (c->process_names_inline && c->file[0])
		return group_rules_load(&ps->rules, c->file, e);
	group_rules_default(&ps->rules);
	return 0;
}

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
	    "cmdline, group_id, first_seen_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
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

static int procs_open(void **state, struct store *st, const struct sources *src, struct err *e)
{
	struct procs *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return err_set(e, "out of memory");
	*state = ps;
	ps->cfg = src->cfg;
	ps->proc_fd = src->proc_fd;
	ps->store = st;
	ps->store_rollbacks = st->rollbacks;
	ps->hz = clock_ticks_per_s();
	ps->boot_s = read_boot_s(src->proc_fd);
	int64_t ticks = ps->cfg->interval_ms ? ps->cfg->procs_refresh_ms / ps->cfg->interval_ms : 0;
	struct proc_scan_opts o = {.refresh = (unsigned)(ticks > 0 ? ticks : 0),
				   .pss = ps->cfg->procs_pss};
	if (load_rules(ps, e) || prepare(ps, st, e) || groups_rehash(ps, 128) ||
	    proc_scan_init(&ps->scan, src->proc_fd, &o, e))
		return -1;
	/* the baseline: what runs now counts only its growth from here */
	if (proc_scan_run(&ps->scan, &ps->baseline_errors, e))
		return -1;
	classify_all(ps);
	current = ps;
	return 0;
}

/* A process first seen as a zombie while eBPF reports exits ended before
 * the scan: its exit record (already counted whole, or still to come) holds
 * its usage, so /proc's reading of it must add nothing. */
static void mark_new_zombies(struct procs *ps)
{
	for (uint32_t i = 0; i < ps->scan.nent; i++) {
		struct proc_entry *p = &ps->scan.ent[i];
		if (p->flags & PF_NEW && p->state == 'Z')
			p->flags |= PF_EXITED | PF_UNCOUNTED;
	}
}

/* After a rolled-back tick the process rows it inserted are gone. */
static void forget_rolled_back(struct procs *ps)
{
	if (ps->store_rollbacks == ps->store->rollbacks)
		return;
	ps->store_rollbacks = ps->store->rollbacks;
	for (uint32_t i = 0; i < ps->scan.nent; i++)
		ps->scan.ent[i].row_id = 0;
}

static int procs_sample(void *state, struct tick *t, struct err *e)
{
	struct procs *ps = state;
	struct err serr;
	if (proc_scan_run(&ps->scan, t->errors, &serr)) {
		t->errors->read++;
		log_debug("processes: %s", serr.msg);
		return 0;
	}
	forget_rolled_back(ps);
	if (ps->exits_reported)
		mark_new_zombies(ps);
	classify_all(ps);
	aggregate(ps);
	for (size_t i = 0; i < ps->ngroups; i++)
		if (write_group(ps, t, &ps->groups[i], e))
			return -1;
	for (uint32_t i = 0; i < ps->scan.nent; i++) {
		struct proc_entry *p = &ps->scan.ent[i];
		if (p->row_id <= 0 && write_process(ps, t, p, e))
			return -1;
	}
	return write_tops(ps, t, e) || write_scan(ps, t, e) ? -1 : 0;
}

static void procs_commit(void *state)
{
	struct procs *ps = state;
	for (size_t i = 0; i < ps->ngroups; i++) {
		struct group *g = &ps->groups[i];
		if (!g->wrote)
			continue;
		memset(g->pending, 0, sizeof(g->pending));
		memcpy(g->written, g->candidate, sizeof(g->written));
		g->wrote = 0;
	}
}

static void procs_close(void *state)
{
	struct procs *ps = state;
	if (!ps)
		return;
	if (current == ps)
		current = NULL;
	proc_scan_free(&ps->scan);
	group_rules_free(&ps->rules);
	dim_free(&ps->groups_dim);
	for (size_t i = 0; i < ps->ngroups; i++)
		free(ps->groups[i].name);
	free(ps->groups);
	free(ps->gslots);
	free(ps);
}

const struct collector_ops collector_procs = {
    .name = "procs",
    .open = procs_open,
    .sample = procs_sample,
    .commit = procs_commit,
    .close = procs_close,
};

/* ---- the hook for other collectors (groups.h) ---- */

int64_t procs_group_classify(const char *comm, const char *argv, size_t argv_len, uint32_t uid,
			     int32_t pid, int32_t ppid)
{
	struct procs *ps = current;
	if (!ps)
		return -1;
	struct proc_ident id = {.comm = comm,
				.argv = argv,
				.argv_len = argv_len,
				.uid = uid,
				.pid = pid,
				.boot_s = ps->boot_s,
				.cgroups = ""};
	int32_t gi = classify_ident(ps, &id, ppid, 0);
	if (gi < 0)
		return -1;
	struct err e;
	return ps->groups[gi].db_id = dim_id(&ps->groups_dim, ps->groups[gi].name, &e);
}

int procs_group_add(int64_t group_id, const struct group_usage *u)
{
	struct procs *ps = current;
	if (!ps || group_id <= 0)
		return -1;
	for (size_t i = 0; i < ps->ngroups; i++) {
		struct group *g = &ps->groups[i];
		struct err e;
		if (g->db_id != group_id && dim_id(&ps->groups_dim, g->name, &e) != group_id)
			continue;
		g->db_id = group_id;
		uint64_t add[G_NCOUNTERS] = {u->user_ms,    u->system_ms,   0,	       0,
					     u->read_bytes, u->write_bytes, u->minflt, u->majflt,
					     u->vcsw,	    u->ivcsw};
		for (int k = 0; k < G_NCOUNTERS; k++)
			g->pending[k] += add[k];
		return 0;
	}
	return -1;
}

/* ---- exits reported by eBPF (groups.h) ---- */

void procs_exits_reported(int on)
{
	if (current)
		current->exits_reported = on;
}

/* Rounded to the nearest ms: over many short processes the sum is unbiased,
 * where truncating would lose half a ms per process. */
static uint64_t ns_to_ms(uint64_t ns)
{
	return (ns + 500000) / 1000000;
}

static void add_usage(struct group *g, const uint64_t add[G_NCOUNTERS])
{
	for (int k = 0; k < G_NCOUNTERS; k++)
		g->pending[k] += add[k];
}

/* The last reading of (pid, start): a tracked process, or one the last
 * scan saw vanish (its exit reported a tick late). */
static struct proc_entry *last_reading(struct procs *ps, const struct proc_exit *x)
{
	struct proc_entry *p = proc_scan_find(&ps->scan, x->pid);
	if (p && p->start_ticks == x->start_ticks)
		return p;
	for (uint32_t i = 0; i < ps->scan.ngone; i++)
		if (ps->scan.gone[i].pid == x->pid &&
		    ps->scan.gone[i].start_ticks == x->start_ticks)
			return &ps->scan.gone[i];
	return NULL;
}

int procs_exit(const struct proc_exit *x)
{
	struct procs *ps = current;
	if (!ps)
		return -1;
	uint64_t tick_ns = 1000000000u / (uint64_t)ps->hz;
	struct proc_counters fin = {
	    x->utime_ns / tick_ns, x->stime_ns / tick_ns, x->minflt, x->majflt, x->vcsw, x->ivcsw,
	    x->read_bytes,	   x->write_bytes};
	struct proc_entry *p = last_reading(ps, x);
	if (p && p->flags & PF_UNCOUNTED) {
		/* /proc met it only as a zombie and counted nothing: all of it */
		memset(&p->last, 0, sizeof(p->last));
		p->flags &= ~(uint32_t)(PF_EXITED | PF_UNCOUNTED);
	}
	if (p) {
		/* Seen by /proc: the growth since, in ms from the exact final
		 * times less the last reading's whole ticks. */
		if (p->group >= 0 && !(p->flags & PF_EXITED)) {
			uint64_t u = ns_to_ms(x->utime_ns), s = ns_to_ms(x->stime_ns);
			uint64_t lu = ticks_to_ms(p->last.utime, ps->hz);
			uint64_t ls = ticks_to_ms(p->last.stime, ps->hz);
			uint64_t add[G_NCOUNTERS] = {
			    u > lu ? u - lu : 0,
			    s > ls ? s - ls : 0,
			    0,
			    0,
			    counter_delta(p->last.read_bytes, fin.read_bytes),
			    counter_delta(p->last.write_bytes, fin.write_bytes),
			    counter_delta(p->last.minflt, fin.minflt),
			    counter_delta(p->last.majflt, fin.majflt),
			    counter_delta(p->last.vcsw, fin.vcsw),
			    counter_delta(p->last.ivcsw, fin.ivcsw)};
			add_usage(&ps->groups[p->group], add);
		}
		p->flags |= PF_EXITED;
		p->last = fin;
		return 0;
	}
	/* Never seen: classified like a scanned process, counted whole. */
	struct proc_ident id = {.comm = x->comm,
				.argv = x->argv ? x->argv : "",
				.argv_len = x->argv ? x->argv_len : 0,
				.uid = x->uid,
				.pid = x->pid,
				.start_ticks = x->start_ticks,
				.boot_s = ps->boot_s,
				.cgroups = ""};
	int32_t gi = classify_ident(ps, &id, x->ppid, 0);
	if (gi >= 0) {
		uint64_t add[G_NCOUNTERS] = {ns_to_ms(x->utime_ns),
					     ns_to_ms(x->stime_ns),
					     0,
					     0,
					     x->read_bytes,
					     x->write_bytes,
					     x->minflt,
					     x->majflt,
					     x->vcsw,
					     x->ivcsw};
		add_usage(&ps->groups[gi], add);
	}
	return 0;
}
