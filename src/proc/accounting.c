/* Process accounting: classification into groups, and each group's usage
 * from the scans and from exits reported by eBPF. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc/accounting.h"

/* ---- groups by name ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static uint32_t *gslot(struct proc_accounting *a, const char *name)
{
	size_t i = name_hash(name) & (a->ngslots - 1);
	while (a->gslots[i] && strcmp(a->groups[a->gslots[i] - 1].name, name))
		i = (i + 1) & (a->ngslots - 1);
	return &a->gslots[i];
}

static int groups_rehash(struct proc_accounting *a, size_t n)
{
	ASSERT(n && (n & (n - 1)) == 0); /* gslot masks with n - 1 */
	uint32_t *s = calloc(n, sizeof(*s));
	if (!s)
		return -1;
	free(a->gslots);
	a->gslots = s;
	a->ngslots = n;
	for (size_t i = 0; i < a->ngroups; i++)
		*gslot(a, a->groups[i].name) = (uint32_t)i + 1;
	return 0;
}

/* The group's index, created on first use; -1 when out of memory. */
static int32_t group_index(struct proc_accounting *a, const char *name)
{
	uint32_t *slot = gslot(a, name);
	if (*slot)
		return (int32_t)*slot - 1;
	if (a->ngroups == a->capgroups) {
		size_t cap = a->capgroups ? a->capgroups * 2 : 64;
		struct acct_group *g = realloc(a->groups, cap * sizeof(*g));
		if (!g)
			return -1;
		a->groups = g;
		a->capgroups = cap;
	}
	struct acct_group *g = &a->groups[a->ngroups];
	memset(g, 0, sizeof(*g));
	if (!(g->name = strdup(name)))
		return -1;
	a->ngroups++;
	if (a->ngroups * 2 > a->ngslots)
		groups_rehash(a, a->ngslots * 2);
	else
		*slot = (uint32_t)a->ngroups;
	return (int32_t)a->ngroups - 1;
}

/* ---- classification ---- */

const char *acct_argv(struct proc_accounting *a, const struct proc_entry *p, size_t *len)
{
	int n = proc_read_cmdline(&a->scan, p->pid, a->argv, sizeof(a->argv));
	*len = n > 0 ? (size_t)n : 0;
	return a->argv;
}

static int32_t classify_ident(struct proc_accounting *a, const struct proc_ident *id, int32_t ppid,
			      int depth);

/* The group of p: its own rule, else (children on) its parent's group. */
static int32_t classify(struct proc_accounting *a, struct proc_entry *p, int depth)
{
	if (p->class_gen)
		return p->group;
	size_t len = 0;
	if (a->rules.needs & GROUP_NEEDS_ARGV)
		acct_argv(a, p, &len);
	char cg[1024] = "";
	if (a->rules.needs & GROUP_NEEDS_CGROUPS && proc_read(&a->scan, p->pid, "cgroup") == 0)
		snprintf(cg, sizeof(cg), "%s", a->scan.buf.data);
	struct proc_ident id = {.comm = p->comm,
				.argv = a->argv,
				.argv_len = len,
				.uid = p->uid,
				.pid = p->pid,
				.start_ticks = p->start_ticks,
				.boot_s = a->boot_s,
				.cgroups = cg,
				.kthread = !!(p->flags & PF_KTHREAD)};
	p->class_gen = a->scan.gen;
	p->group = classify_ident(a, &id, p->ppid, depth);
	return p->group;
}

static int32_t classify_ident(struct proc_accounting *a, const struct proc_ident *id, int32_t ppid,
			      int depth)
{
	char name[256];
	if (group_rules_match(&a->rules, id, name, sizeof(name)))
		return group_index(a, name);
	if (!a->opt.children || depth > 64 || ppid <= 0 || ppid == id->pid)
		return -1;
	struct proc_entry *parent = proc_scan_find(&a->scan, ppid);
	if (!parent)
		return -1;
	return classify(a, parent, depth + 1);
}

/* Young processes that match no rule, or that exec'd (comm changed), are
 * classified again while younger than recheck_with_time_limit: a wrapper
 * script becomes the program it starts. */
static void recheck(struct proc_accounting *a, struct proc_entry *p, uint64_t now_ticks)
{
	uint64_t limit = (uint64_t)a->opt.recheck_ms * (uint64_t)a->hz / 1000;
	if (!limit || !(p->flags & PF_READ) || now_ticks - p->start_ticks > limit)
		return;
	if (p->group >= 0 && !(p->flags & PF_COMM_CHANGED))
		return;
	int32_t before = p->group;
	p->class_gen = 0;
	if (classify(a, p, 0) != before)
		p->row_id = -p->row_id; /* the process row's group is updated */
}

static uint64_t boot_ticks_now(long hz)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * (uint64_t)hz +
	       (uint64_t)ts.tv_nsec * (uint64_t)hz / 1000000000u;
}

static void classify_all(struct proc_accounting *a)
{
	uint64_t now = boot_ticks_now(a->hz);
	for (uint32_t i = 0; i < a->scan.nent; i++) {
		struct proc_entry *p = &a->scan.ent[i];
		if (!p->class_gen)
			classify(a, p, 0);
		else if (a->opt.recheck_ms)
			recheck(a, p, now);
	}
}

/* ---- aggregation ---- */

static int state_gauge(char state)
{
	switch (state) {
	case 'R':
		return ACCT_RUNNING;
	case 'S':
		return ACCT_SLEEPING;
	case 'D':
		return ACCT_DISK_WAIT;
	case 'Z':
		return ACCT_ZOMBIE;
	default:
		return ACCT_OTHER;
	}
}

static void add_process(struct proc_accounting *a, struct acct_group *g, const struct proc_entry *p)
{
	static const struct proc_counters none;
	/* An exit reported by eBPF already brought the final usage, and each
	 * reaped child its own: neither a zombie's reading nor cutime adds. */
	const struct proc_counters *d = p->flags & PF_EXITED ? &none : &p->delta;
	uint64_t ru = a->exits_reported ? 0 : p->reaped_utime;
	uint64_t rs = a->exits_reported ? 0 : p->reaped_stime;
	uint64_t add[ACCT_NCOUNTERS] = {ticks_to_ms(d->utime + ru, a->hz),
					ticks_to_ms(d->stime + rs, a->hz),
					ticks_to_ms(ru, a->hz),
					ticks_to_ms(rs, a->hz),
					d->read_bytes,
					d->write_bytes,
					d->minflt,
					d->majflt,
					d->vcsw,
					d->ivcsw};
	for (int i = 0; i < ACCT_NCOUNTERS; i++)
		g->pending[i] += add[i];
	int64_t start = a->boot_s + (int64_t)(p->start_ticks / (uint64_t)a->hz);
	g->gauge[ACCT_PROCS]++;
	g->gauge[ACCT_THREADS] += p->threads;
	g->gauge[ACCT_RSS_KB] += (int64_t)p->rss_kb;
	g->gauge[ACCT_VM_KB] += (int64_t)p->vsize_kb;
	g->gauge[ACCT_SWAP_KB] += (int64_t)p->swap_kb;
	g->gauge[ACCT_PSS_KB] += (int64_t)p->pss_kb;
	g->gauge[ACCT_FDS] += (int64_t)p->fds;
	if (p->fd_limit && p->fd_limit != UINT64_MAX) {
		int64_t pct = (int64_t)(p->fds * 10000 / p->fd_limit);
		if (pct > g->gauge[ACCT_WORST_FD_PCT_X100])
			g->gauge[ACCT_WORST_FD_PCT_X100] = pct;
	}
	if (!g->gauge[ACCT_OLDEST_START_TS] || start < g->gauge[ACCT_OLDEST_START_TS])
		g->gauge[ACCT_OLDEST_START_TS] = start;
	g->gauge[state_gauge(p->state)]++;
}

static void aggregate(struct proc_accounting *a)
{
	for (size_t i = 0; i < a->ngroups; i++)
		memset(a->groups[i].gauge, 0, sizeof(a->groups[i].gauge));
	for (uint32_t i = 0; i < a->scan.nent; i++) {
		const struct proc_entry *p = &a->scan.ent[i];
		if (p->group >= 0) {
			ASSERT((size_t)p->group < a->ngroups);
			add_process(a, &a->groups[p->group], p);
		}
	}
}

/* A process first seen as a zombie while eBPF reports exits ended before
 * the scan: its exit record (already counted whole, or still to come) holds
 * its usage, so /proc's reading of it must add nothing. */
static void mark_new_zombies(struct proc_accounting *a)
{
	for (uint32_t i = 0; i < a->scan.nent; i++) {
		struct proc_entry *p = &a->scan.ent[i];
		if (p->flags & PF_NEW && p->state == 'Z')
			p->flags |= PF_EXITED | PF_UNCOUNTED;
	}
}

/* ---- life ---- */

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

int acct_open(struct proc_accounting **out, const struct acct_options *o, int proc_fd,
	      int64_t interval_ms, struct err *e)
{
	struct proc_accounting *a = calloc(1, sizeof(*a));
	*out = a;
	if (!a)
		return err_set(e, "out of memory");
	a->opt = *o;
	a->proc_fd = proc_fd;
	a->hz = clock_ticks_per_s();
	a->boot_s = read_boot_s(proc_fd);
	int64_t ticks = interval_ms ? o->refresh_ms / interval_ms : 0;
	a->scan_opt =
	    (struct proc_scan_opts){.refresh = (unsigned)(ticks > 0 ? ticks : 0), .pss = o->pss};
	if (o->rules_file[0]) {
		if (group_rules_load(&a->rules, o->rules_file, e))
			return -1;
	} else {
		group_rules_default(&a->rules);
	}
	if (groups_rehash(a, 128))
		return err_set(e, "out of memory");
	return 0;
}

int acct_baseline(struct proc_accounting *a, struct err *e)
{
	struct tick_errors ignored = {0};
	ASSERT(a->scan.scans == 0 && a->scan.slots == NULL);
	if (proc_scan_init(&a->scan, a->proc_fd, &a->scan_opt, e) ||
	    proc_scan_run(&a->scan, &ignored, e))
		return -1;
	classify_all(a);
	return 0;
}

int acct_scan(struct proc_accounting *a, struct tick_errors *te, struct err *e)
{
	ASSERT(a->scan.scans > 0); /* after acct_baseline */
	if (proc_scan_run(&a->scan, te, e))
		return -1;
	if (a->exits_reported)
		mark_new_zombies(a);
	classify_all(a);
	aggregate(a);
	return 0;
}

void acct_close(struct proc_accounting *a)
{
	if (!a)
		return;
	proc_scan_free(&a->scan);
	group_rules_free(&a->rules);
	for (size_t i = 0; i < a->ngroups; i++)
		free(a->groups[i].name);
	free(a->groups);
	free(a->gslots);
	free(a);
}

/* ---- exits reported by eBPF ---- */

void acct_exits_reported(struct proc_accounting *a, int on)
{
	a->exits_reported = on;
}

/* Rounded to the nearest ms: over many short processes the sum is unbiased,
 * where truncating would lose half a ms per process. */
static uint64_t ns_to_ms(uint64_t ns)
{
	return (ns + 500000) / 1000000;
}

static void add_usage(struct acct_group *g, const uint64_t add[ACCT_NCOUNTERS])
{
	for (int k = 0; k < ACCT_NCOUNTERS; k++)
		g->pending[k] += add[k];
}

/* The last reading of (pid, start): a tracked process, or one the last
 * scan saw vanish (its exit reported a tick late). */
static struct proc_entry *last_reading(struct proc_accounting *a, const struct proc_exit *x)
{
	struct proc_entry *p = proc_scan_find(&a->scan, x->pid);
	if (p && p->start_ticks == x->start_ticks)
		return p;
	for (uint32_t i = 0; i < a->scan.ngone; i++)
		if (a->scan.gone[i].pid == x->pid && a->scan.gone[i].start_ticks == x->start_ticks)
			return &a->scan.gone[i];
	return NULL;
}

/* Seen by /proc: the growth since its last reading, in ms from the exact
 * final times less the last reading's whole ticks. */
static void add_growth(struct proc_accounting *a, struct proc_entry *p, const struct proc_exit *x,
		       const struct proc_counters *fin)
{
	uint64_t u = ns_to_ms(x->utime_ns), s = ns_to_ms(x->stime_ns);
	uint64_t lu = ticks_to_ms(p->last.utime, a->hz);
	uint64_t ls = ticks_to_ms(p->last.stime, a->hz);
	uint64_t add[ACCT_NCOUNTERS] = {u > lu ? u - lu : 0,
					s > ls ? s - ls : 0,
					0,
					0,
					counter_delta(p->last.read_bytes, fin->read_bytes),
					counter_delta(p->last.write_bytes, fin->write_bytes),
					counter_delta(p->last.minflt, fin->minflt),
					counter_delta(p->last.majflt, fin->majflt),
					counter_delta(p->last.vcsw, fin->vcsw),
					counter_delta(p->last.ivcsw, fin->ivcsw)};
	ASSERT((size_t)p->group < a->ngroups);
	add_usage(&a->groups[p->group], add);
}

void acct_exit(struct proc_accounting *a, const struct proc_exit *x)
{
	if (!a->scan.scans)
		return; /* no baseline: nothing is counted yet */
	uint64_t tick_ns = 1000000000u / (uint64_t)a->hz;
	struct proc_counters fin = {
	    x->utime_ns / tick_ns, x->stime_ns / tick_ns, x->minflt, x->majflt, x->vcsw, x->ivcsw,
	    x->read_bytes,	   x->write_bytes};
	struct proc_entry *p = last_reading(a, x);
	if (p && p->flags & PF_UNCOUNTED) {
		/* /proc met it only as a zombie and counted nothing: all of it */
		memset(&p->last, 0, sizeof(p->last));
		p->flags &= ~(uint32_t)(PF_EXITED | PF_UNCOUNTED);
	}
	if (p) {
		if (p->group >= 0 && !(p->flags & PF_EXITED))
			add_growth(a, p, x, &fin);
		p->flags |= PF_EXITED;
		p->last = fin;
		return;
	}
	/* Never seen: classified like a scanned process, counted whole. */
	struct proc_ident id = {.comm = x->comm,
				.argv = x->argv ? x->argv : "",
				.argv_len = x->argv ? x->argv_len : 0,
				.uid = x->uid,
				.pid = x->pid,
				.start_ticks = x->start_ticks,
				.boot_s = a->boot_s,
				.cgroups = ""};
	int32_t gi = classify_ident(a, &id, x->ppid, 0);
	if (gi >= 0) {
		uint64_t add[ACCT_NCOUNTERS] = {ns_to_ms(x->utime_ns),
						ns_to_ms(x->stime_ns),
						0,
						0,
						x->read_bytes,
						x->write_bytes,
						x->minflt,
						x->majflt,
						x->vcsw,
						x->ivcsw};
		add_usage(&a->groups[gi], add);
	}
}
