/* The cgroups collector: every control group as a row of the cgroup table,
 * and per tick what each used: CPU, memory, I/O per device, pressure,
 * limits (docs/cgroups.md). Tables: cgroup, cgroup_cpu_stat,
 * cgroup_memory_stat, cgroup_io_stat, cgroup_pressure_stat, cgroup_limit,
 * cgroup_scan.
 *
 * A cgroup is a path; on hosts with several hierarchies (v1, hybrid) the
 * directories of one path in each are one cgroup, each family of figures
 * read from one of them: cgroup2 where it has the controller (CPU usage and
 * pressure it always has), else the v1 hierarchy that does.
 *
 * What is read per tick, and why (docs/cgroups.md has the details): a
 * tick's cost is the number of cgroup files read, a few microseconds of
 * system time each, so the rule is "read only what can have changed":
 *  - the tree: an inotify watch on every cgroup directory reports new and
 *    removed cgroups, and changes of cgroup.events (populated),
 *    memory.events and the limit files; directories are listed only then.
 *  - a cgroup with nothing in it (populated 0) is read once more when it
 *    empties (its final figures) and then not at all.
 *  - CPU usage is read first. It is hierarchical and only grows: a parent
 *    whose usage did not move had nothing running below it (so for I/O
 *    and pressure), and once the children read explain a parent's growth,
 *    its other children did not run. A cgroup that ran is read further;
 *    memory details when its memory moved.
 *  - pressure, and an idle cgroup's memory and I/O (reclaim, writeback),
 *    once a `refresh` period, spread over the ticks: a change found late is
 *    stored late, never lost, since deltas are taken against the last
 *    reading.
 *  - the files read most are kept open (a pread instead of
 *    open/read/close), up to max_open_files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/cgroup.h"
#include "collect/collect.h"
#include "collect/psi.h"

/* ---- the figures of one cgroup ---- */

enum cg_val {
	V_USAGE, /* cpu: counters in microseconds and counts */
	V_USER,
	V_SYSTEM,
	V_PERIODS,
	V_THROTTLED,
	V_THROTTLED_US,
	V_TASKS, /* gauge */
	V_MEM,	 /* memory gauges in bytes */
	V_SWAP,
	V_ANON,
	V_FILE,
	V_KERNEL,
	V_SLAB,
	V_SOCK,
	V_SHMEM,
	V_DIRTY,
	V_WRITEBACK,
	V_INACTIVE_FILE,
	V_PGFAULT, /* memory counters */
	V_PGMAJFAULT,
	V_REFAULT,
	V_EV_LOW,
	V_EV_HIGH,
	V_EV_MAX,
	V_EV_OOM,
	V_EV_OOM_KILL,
	V_CPU_SOME, /* pressure stall time, microseconds */
	V_CPU_FULL,
	V_MEM_SOME,
	V_MEM_FULL,
	V_IO_SOME,
	V_IO_FULL,
	NVALS
};
#define BIT(v)	     (1ULL << (v))
#define RANGE(a, b)  ((BIT(b) - BIT(a)) | BIT(b))
#define CPU_VALS     RANGE(V_USAGE, V_TASKS)
#define MEM_GAUGES   RANGE(V_MEM, V_INACTIVE_FILE)
#define MEM_COUNTERS RANGE(V_PGFAULT, V_EV_OOM_KILL)
#define MEM_VALS     (MEM_GAUGES | MEM_COUNTERS)
#define PSI_VALS     RANGE(V_CPU_SOME, V_IO_FULL)
#define GAUGES	     (BIT(V_TASKS) | MEM_GAUGES)
#define COUNTERS     (((BIT(NVALS) - 1)) & ~GAUGES)

/* Limits, stored when they change. CG_NO_LIMIT: none (or not reported). */
enum { L_MEM_MAX, L_MEM_HIGH, L_SWAP_MAX, L_CPU_QUOTA, L_CPU_PERIOD, L_PIDS_MAX, NLIMITS };

/* Families of files and the hierarchy each is read from. */
enum cg_fam { F_EVENTS, F_USAGE, F_THROTTLE, F_MEMORY, F_IO, F_PIDS, F_PSI, NFAM };

enum cg_flags {
	N_RESCAN = 1 << 0,	 /* list its directories (a child came or went) */
	N_EVENTS = 1 << 1,	 /* cgroup.events changed */
	N_MEMEV = 1 << 2,	 /* memory.events changed */
	N_LIMITS = 1 << 3,	 /* a limit file was written */
	N_PROBE = 1 << 4,	 /* find its sources again (controllers changed) */
	N_POPULATED = 1 << 5,	 /* has a task in its subtree (assumed without cgroup2) */
	N_FINAL_DONE = 1 << 6,	 /* emptied, and its final figures were read */
	N_READ_ONCE = 1 << 7,	 /* its figures were read at least once */
	N_FROM_ZERO = 1 << 8,	 /* created while the daemon ran: its counters began at 0 */
	N_UNWATCHED = 1 << 9,	 /* no inotify watch: listed every tick */
	N_GONE = 1 << 10,	 /* removed; freed once the tick that says so commits */
	N_IO_BASE = 1 << 11,	 /* its I/O has a baseline: new devices count from 0 */
	N_CHILD_PROBE = 1 << 12, /* its cgroup.subtree_control changed */
	N_VANISHED = 1 << 13,	 /* a read found its directory gone */
	N_RAN = 1 << 14,	 /* it ran since its pressure was last read */
};

/* Gates a visited cgroup hands its children: "this did not move in my
 * subtree" for a family read from the same hierarchy. */
enum { G_USAGE = 1, G_IO = 2, G_PSI_CPU = 4, G_PSI_MEM = 8, G_PSI_IO = 16, G_BUDGET = 32 };

struct io_slot {
	struct cg_io cur;
	uint64_t base[CG_IO_N];
	uint8_t have_base, read_now;
};

struct cg_node {
	char *path; /* "/" or "/a/b" */
	char *meta; /* container name, image, pod name, NUL-separated; NULL: none */
	int64_t inode, row_id, mtime_s;
	int32_t parent, child, next, prev; /* the tree, as indices; -1: none */
	uint32_t flags;
	uint16_t hmask; /* hierarchies holding its directory */
	uint16_t seen;	/* during a listing of its parent */
	int8_t src[NFAM];
	uint8_t gate;
	uint64_t unaccounted;	/* its usage growth this tick not explained by children read */
	uint32_t children_read; /* ... whose usage was read this tick */
	int wd[CG_MAX_HIERS];
	int kfd_usage, kfd_mem; /* kept open, -1: none */
	int kfd_psi[3];		/* cpu, memory, io pressure, kept once it ran */
	int64_t refresh_ts;	/* when its idle figures are due again */
	int64_t psi_ts;		/* when its pressure was last read (the row's span) */
	uint32_t untracked;	/* children left out at its last listing (max_cgroups) */
	uint64_t cur[NVALS];
	uint64_t base[NVALS]; /* counters: last committed reading; gauges: last stored */
	uint64_t have_base, known, read_now, wrote;
	uint64_t lim[NLIMITS], lim_stored[NLIMITS];
	int lim_read, lim_wrote;
	struct io_slot *io;
	uint8_t nio, capio;
};

/* An open-addressing map of 64-bit keys to int32 values. */
#define MAP_EMPTY (-1)
#define MAP_TOMB  (-2)
struct map {
	uint64_t *keys;
	int32_t *vals;
	size_t cap, used; /* used counts tombstones too */
};

struct scan_stats {
	uint64_t reads, skipped, added, gone, vanished, errors;
};

struct cgs {
	struct cgroup_options opt;
	struct cg_hiers hs;
	struct store *store;
	int proc_fd, runtime_fd, ifd;
	long hz;
	int64_t boot_s;
	int swap_on;
	struct cg_node *nodes;
	uint32_t nnodes, cap, live, free_head; /* free slots chain through parent */
	int32_t root;
	struct map by_path, by_wd;
	int rescan_all;
	uint32_t tick_no;
	int64_t refresh_s;
	uint32_t kept, max_kept;
	uint64_t untracked;
	int32_t *stack;
	size_t capstack;
	int32_t *gone; /* gone nodes waiting for the tick's commit */
	size_t ngone, capgone;
	int64_t *startup_ids; /* live rows of this boot when the daemon started */
	uint8_t *startup_claimed;
	size_t nstartup;
	int startup_done;
	uint64_t rollbacks_seen;
	struct scan_stats st;
	struct buf buf, meta_buf;
	struct tick *tick;
	int64_t tick_ts; /* of the tick being committed */
	struct cg_io iobuf[CG_IO_DEVS_MAX];
	sqlite3_stmt *ins_cpu, *ins_mem, *ins_io, *ins_psi, *ins_limit, *ins_scan;
	sqlite3_stmt *find_row, *ins_row, *upd_row, *gone_row, *stale_boot;
};

/* ---- maps ---- */

static int map_init(struct map *m, size_t cap)
{
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	if (!m->keys || !m->vals)
		return -1;
	for (size_t i = 0; i < cap; i++)
		m->vals[i] = MAP_EMPTY;
	m->cap = cap;
	m->used = 0;
	return 0;
}

static void map_free(struct map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static int map_put(struct map *m, uint64_t key, int32_t val);

static int map_grow(struct map *m)
{
	struct map old = *m;
	size_t live = 0;
	for (size_t i = 0; i < old.cap; i++)
		live += old.vals[i] >= 0;
	size_t cap = old.cap;
	while (cap < 4 * (live + 1))
		cap *= 2;
	if (map_init(m, cap)) {
		map_free(m);
		*m = old;
		return -1;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.vals[i] >= 0)
			map_put(m, old.keys[i], old.vals[i]);
	map_free(&old);
	return 0;
}

/* Adds key -> val (a key may hold several values: paths hash to keys). */
static int map_put(struct map *m, uint64_t key, int32_t val)
{
	if ((m->used + 1) * 2 > m->cap && map_grow(m))
		return -1;
	size_t i = key & (m->cap - 1);
	while (m->vals[i] >= 0)
		i = (i + 1) & (m->cap - 1);
	if (m->vals[i] == MAP_EMPTY)
		m->used++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

static void map_del(struct map *m, uint64_t key, int32_t val)
{
	for (size_t i = key & (m->cap - 1); m->vals[i] != MAP_EMPTY; i = (i + 1) & (m->cap - 1))
		if (m->vals[i] == val && m->keys[i] == key) {
			m->vals[i] = MAP_TOMB;
			return;
		}
}

static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int32_t node_by_path(struct cgs *s, const char *path)
{
	uint64_t key = path_hash(path);
	struct map *m = &s->by_path;
	for (size_t i = key & (m->cap - 1); m->vals[i] != MAP_EMPTY; i = (i + 1) & (m->cap - 1))
		if (m->vals[i] >= 0 && m->keys[i] == key &&
		    strcmp(s->nodes[m->vals[i]].path, path) == 0)
			return m->vals[i];
	return -1;
}

/* The node and hierarchy of a watch (value: node * CG_MAX_HIERS + h). */
static int32_t watch_of(struct cgs *s, int wd)
{
	struct map *m = &s->by_wd;
	uint64_t key = (uint64_t)(uint32_t)wd;
	for (size_t i = key & (m->cap - 1); m->vals[i] != MAP_EMPTY; i = (i + 1) & (m->cap - 1))
		if (m->vals[i] >= 0 && m->keys[i] == key)
			return m->vals[i];
	return -1;
}

/* ---- reading ---- */

/* The path of a cgroup's file relative to a hierarchy's root. */
static void rel_file(char *out, size_t n, const struct cg_node *c, const char *file)
{
	const char *p = c->path;
	while (*p == '/')
		p++;
	if (!file)
		snprintf(out, n, "%s", *p ? p : ".");
	else if (*p)
		snprintf(out, n, "%s/%s", p, file);
	else
		snprintf(out, n, "%s", file);
}

/* Reads a cgroup file from offset 0 into b. The kernel generates it whole
 * by one read when the buffer is large enough, so a short read is its end:
 * one system call a file. */
static int read_fd(struct buf *b, int fd)
{
	size_t off = 0;
	for (;;) {
		if (b->cap < off + 4097) {
			size_t cap = b->cap ? b->cap * 2 : 8192;
			while (cap < off + 4097)
				cap *= 2;
			if (cap > SOURCE_MAX_SMALL + 1)
				return -EFBIG;
			char *p = realloc(b->data, cap);
			if (!p)
				return -ENOMEM;
			b->data = p;
			b->cap = cap;
		}
		size_t want = b->cap - off - 1;
		ssize_t r = pread(fd, b->data + off, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		off += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	b->data[off] = '\0';
	b->len = off;
	return 0;
}

/* Reads a cgroup's file of hierarchy h into s->buf, through *kept when it
 * is open (and opening it there when the budget allows). 0 or -errno. */
static int cg_read(struct cgs *s, struct cg_node *c, int h, const char *file, int *kept)
{
	const struct cg_hier *hier = &s->hs.h[h];
	char path[PATH_MAX];
	s->st.reads++;
	if (kept && *kept >= 0) {
		int rc = read_fd(&s->buf, *kept);
		if (rc == 0)
			return 0;
		close(*kept);
		*kept = -1;
		s->kept--;
		return rc;
	}
	rel_file(path, sizeof(path), c, file);
	if (!hier->cgroupfs) /* a copy in plain files: checked like /proc */
		return buf_read_file(&s->buf, hier->fd, path, SOURCE_MAX_SMALL);
	int fd = openat(hier->fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = read_fd(&s->buf, fd);
	if (rc == 0 && kept && s->kept < s->max_kept) {
		*kept = fd;
		s->kept++;
		return 0;
	}
	close(fd);
	return rc;
}

/* Whether a cgroup's directory in hierarchy h is still there. */
static int dir_exists(struct cgs *s, const struct cg_node *c, int h)
{
	char path[PATH_MAX];
	struct stat st;
	rel_file(path, sizeof(path), c, NULL);
	return fstatat(s->hs.h[h].fd, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* A failed read: a removed cgroup (ENODEV through a kept file, ENOENT), a
 * file the kernel does not have (its controller was turned off: the sources
 * are found again), or an error. Returns 1 when the cgroup is gone. */
static int read_failed(struct cgs *s, struct cg_node *c, int h, const char *file, int rc)
{
	if (rc == -ENODEV || rc == -ENOENT) {
		if (!dir_exists(s, c, h)) {
			s->st.vanished++;
			if (s->tick)
				s->tick->errors->vanished++;
			c->flags |= N_VANISHED;
			return 1;
		}
		c->flags |= N_PROBE;
		return 0;
	}
	s->st.errors++;
	if (s->tick)
		tick_errors_count_read(s->tick->errors, rc);
	log_debug("cgroups: %s%s/%s: %s", s->hs.h[h].name, c->path, file, strerror(-rc));
	return 0;
}

static void parse_failed(struct cgs *s, const struct err *e)
{
	s->st.errors++;
	if (s->tick)
		s->tick->errors->parse++;
	log_debug("cgroups: %s", e->msg);
}

/* Reads a flat-keyed file into values: vals[i] receives keys[i] times
 * mul / div. Returns -1 when the cgroup is gone. */
static int read_keyed(struct cgs *s, struct cg_node *c, int fam, const char *file,
		      const char *const *keys, const int *vals, size_t nkeys, uint64_t mul,
		      uint64_t div, int *kept)
{
	int h = c->src[fam];
	uint64_t v[64], found;
	char what[PATH_MAX + 80];
	struct err e;
	int rc = cg_read(s, c, h, file, kept);
	if (rc)
		return read_failed(s, c, h, file, rc) ? -1 : 0;
	snprintf(what, sizeof(what), "%s%s/%s", s->hs.h[h].name, c->path, file);
	if (cg_parse_keyed(s->buf.data, what, keys, nkeys, v, &found, &e)) {
		parse_failed(s, &e);
		return 0;
	}
	for (size_t i = 0; i < nkeys; i++)
		if (found & (1ULL << i) && vals[i] >= 0) {
			c->cur[vals[i]] = v[i] / div * mul + v[i] % div * mul / div;
			c->read_now |= BIT(vals[i]);
			c->known |= BIT(vals[i]);
		}
	return 0;
}

/* Reads a one-value file; CG_NO_LIMIT for "max". -1: gone; 1: no value. */
static int read_value(struct cgs *s, struct cg_node *c, int h, const char *file, uint64_t *out,
		      int *kept)
{
	char what[PATH_MAX + 80];
	struct err e;
	int rc = cg_read(s, c, h, file, kept);
	if (rc)
		return read_failed(s, c, h, file, rc) ? -1 : 1;
	snprintf(what, sizeof(what), "%s%s/%s", s->hs.h[h].name, c->path, file);
	if (cg_parse_value(s->buf.data, what, out, &e)) {
		parse_failed(s, &e);
		return 1;
	}
	return 0;
}

static void set_val(struct cg_node *c, int v, uint64_t x)
{
	c->cur[v] = x;
	c->read_now |= BIT(v);
	c->known |= BIT(v);
}

/* CPU usage (v2 cpu.stat gives user, system and throttling with it). */
static int read_usage(struct cgs *s, struct cg_node *c)
{
	int h = c->src[F_USAGE];
	if (s->hs.h[h].v2) {
		static const char *const keys[] = {"usage_usec", "user_usec",	 "system_usec",
						   "nr_periods", "nr_throttled", "throttled_usec"};
		static const int vals[] = {V_USAGE,   V_USER,	   V_SYSTEM,
					   V_PERIODS, V_THROTTLED, V_THROTTLED_US};
		return read_keyed(s, c, F_USAGE, "cpu.stat", keys, vals, 6, 1, 1, &c->kfd_usage);
	}
	uint64_t ns;
	int rc = read_value(s, c, h, "cpuacct.usage", &ns, &c->kfd_usage);
	if (rc == 0 && ns != CG_NO_LIMIT)
		set_val(c, V_USAGE, ns / 1000);
	return rc < 0 ? -1 : 0;
}

/* v1: user and system (clock ticks), and throttling when a quota is set. */
static int read_cpu_v1_details(struct cgs *s, struct cg_node *c)
{
	if (c->src[F_USAGE] >= 0 && !s->hs.h[c->src[F_USAGE]].v2) {
		static const char *const keys[] = {"user", "system"};
		static const int vals[] = {V_USER, V_SYSTEM};
		if (read_keyed(s, c, F_USAGE, "cpuacct.stat", keys, vals, 2, 1000000,
			       (uint64_t)s->hz, NULL))
			return -1;
	}
	int h = c->src[F_THROTTLE];
	if (h >= 0 && !s->hs.h[h].v2 && c->lim[L_CPU_QUOTA] != CG_NO_LIMIT) {
		static const char *const keys[] = {"nr_periods", "nr_throttled", "throttled_time"};
		static const int vals[] = {V_PERIODS, V_THROTTLED, V_THROTTLED_US};
		if (read_keyed(s, c, F_THROTTLE, "cpu.stat", keys, vals, 3, 1, 1, NULL))
			return -1;
		if (c->read_now & BIT(V_THROTTLED_US)) /* v1 counts nanoseconds */
			c->cur[V_THROTTLED_US] /= 1000;
	}
	return 0;
}

static int read_pids(struct cgs *s, struct cg_node *c)
{
	uint64_t v;
	if (c->src[F_PIDS] < 0)
		return 0;
	int rc = read_value(s, c, c->src[F_PIDS], "pids.current", &v, NULL);
	if (rc == 0 && v != CG_NO_LIMIT)
		set_val(c, V_TASKS, v);
	return rc < 0 ? -1 : 0;
}

/* memory.current (v1 usage_in_bytes), and the swap in use when the host
 * has swap. Sets *moved when the usage differs from the one last stored. */
static int read_mem_current(struct cgs *s, struct cg_node *c, int *moved)
{
	int h = c->src[F_MEMORY];
	int v2 = s->hs.h[h].v2;
	uint64_t v, sw;
	int rc =
	    read_value(s, c, h, v2 ? "memory.current" : "memory.usage_in_bytes", &v, &c->kfd_mem);
	if (rc)
		return rc < 0 ? -1 : 0;
	*moved = !(c->have_base & BIT(V_MEM)) || c->base[V_MEM] != v;
	set_val(c, V_MEM, v);
	if (!s->swap_on)
		return 0;
	rc = read_value(s, c, h, v2 ? "memory.swap.current" : "memory.memsw.usage_in_bytes", &sw,
			NULL);
	if (rc < 0)
		return -1;
	if (rc == 0)
		set_val(c, V_SWAP, v2 ? sw : sw > v ? sw - v : 0);
	return 0;
}

/* memory.stat: the sizes (gauges) and the fault and refault counts. v1's
 * total_* fields are the hierarchical ones, like every v2 figure. Refaults
 * are split by type since 5.9 (v1 too); the sum is the older counter. */
static int read_mem_stat(struct cgs *s, struct cg_node *c)
{
	static const char *const v2keys[] = {"anon",
					     "file",
					     "kernel",
					     "slab",
					     "sock",
					     "shmem",
					     "file_dirty",
					     "file_writeback",
					     "inactive_file",
					     "pgfault",
					     "pgmajfault",
					     "workingset_refault_anon",
					     "workingset_refault_file",
					     "workingset_refault"};
	static const char *const v1keys[] = {"total_rss",
					     "total_cache",
					     NULL,
					     NULL,
					     NULL,
					     "total_shmem",
					     "total_dirty",
					     "total_writeback",
					     "total_inactive_file",
					     "total_pgfault",
					     "total_pgmajfault",
					     "total_workingset_refault_anon",
					     "total_workingset_refault_file",
					     NULL};
	static const int vals[] = {V_ANON,	 V_FILE,  V_KERNEL,    V_SLAB,		V_SOCK,
				   V_SHMEM,	 V_DIRTY, V_WRITEBACK, V_INACTIVE_FILE, V_PGFAULT,
				   V_PGMAJFAULT, -1,	  -1,	       V_REFAULT};
	int h = c->src[F_MEMORY], v2 = s->hs.h[h].v2;
	const char *keys[ARRAY_LEN(vals)];
	size_t n = 0;
	int slot[ARRAY_LEN(vals)];
	for (size_t i = 0; i < ARRAY_LEN(vals); i++) {
		const char *k = v2 ? v2keys[i] : v1keys[i];
		if (k) {
			slot[n] = (int)i;
			keys[n++] = k;
		}
	}
	uint64_t v[ARRAY_LEN(vals)], found, refault[2] = {0, 0};
	char what[PATH_MAX + 80];
	struct err e;
	int rc = cg_read(s, c, h, "memory.stat", NULL);
	if (rc)
		return read_failed(s, c, h, "memory.stat", rc) ? -1 : 0;
	snprintf(what, sizeof(what), "%s%s/memory.stat", s->hs.h[h].name, c->path);
	if (cg_parse_keyed(s->buf.data, what, keys, n, v, &found, &e)) {
		parse_failed(s, &e);
		return 0;
	}
	int split = 0;
	for (size_t k = 0; k < n; k++) {
		if (!(found & (1ULL << k)))
			continue;
		int i = slot[k];
		if (vals[i] >= 0)
			set_val(c, vals[i], v[k]);
		else {
			refault[i - 11] = v[k];
			split++;
		}
	}
	if (split == 2)
		set_val(c, V_REFAULT, refault[0] + refault[1]);
	return 0;
}

static int read_mem_events(struct cgs *s, struct cg_node *c)
{
	if (s->hs.h[c->src[F_MEMORY]].v2) {
		static const char *const keys[] = {"low", "high", "max", "oom", "oom_kill"};
		static const int vals[] = {V_EV_LOW, V_EV_HIGH, V_EV_MAX, V_EV_OOM, V_EV_OOM_KILL};
		return read_keyed(s, c, F_MEMORY, "memory.events", keys, vals, 5, 1, 1, NULL);
	}
	static const char *const keys[] = {"oom_kill"};
	static const int vals[] = {V_EV_OOM_KILL};
	return read_keyed(s, c, F_MEMORY, "memory.oom_control", keys, vals, 1, 1, 1, NULL);
}

/* Whether a device's byte counts differ from the last reading. */
static int io_bytes_moved(const struct cg_node *c, const struct cg_io *io, size_t n)
{
	if (n != c->nio)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const struct io_slot *sl = NULL;
		for (uint8_t k = 0; k < c->nio && !sl; k++)
			if (c->io[k].cur.major == io[i].major && c->io[k].cur.minor == io[i].minor)
				sl = &c->io[k];
		if (!sl || sl->cur.v[CG_IO_RBYTES] != io[i].v[CG_IO_RBYTES] ||
		    sl->cur.v[CG_IO_WBYTES] != io[i].v[CG_IO_WBYTES] ||
		    sl->cur.v[CG_IO_DBYTES] != io[i].v[CG_IO_DBYTES])
			return 1;
	}
	return 0;
}

/* The request counts of the last reading, for a reading that skipped them. */
static void keep_io_counts(const struct cg_node *c, struct cg_io *io, size_t n)
{
	static const int counts[] = {CG_IO_RIOS, CG_IO_WIOS, CG_IO_DIOS};
	for (size_t i = 0; i < n; i++)
		for (uint8_t k = 0; k < c->nio; k++) {
			const struct cg_io *old = &c->io[k].cur;
			if (old->major != io[i].major || old->minor != io[i].minor)
				continue;
			for (size_t j = 0; j < ARRAY_LEN(counts); j++) {
				io[i].v[counts[j]] = old->v[counts[j]];
				io[i].known |= (uint8_t)(old->known & (1u << counts[j]));
			}
		}
}

static struct io_slot *io_slot(struct cg_node *c, uint32_t major, uint32_t minor)
{
	for (uint8_t i = 0; i < c->nio; i++)
		if (c->io[i].cur.major == major && c->io[i].cur.minor == minor)
			return &c->io[i];
	if (c->nio == CG_IO_DEVS_MAX)
		return NULL;
	if (c->nio == c->capio) {
		size_t cap = c->capio ? c->capio * 2u : 2u;
		struct io_slot *p = realloc(c->io, cap * sizeof(*p));
		if (!p)
			return NULL;
		c->io = p;
		c->capio = (uint8_t)(cap > CG_IO_DEVS_MAX ? CG_IO_DEVS_MAX : cap);
	}
	struct io_slot *sl = &c->io[c->nio++];
	memset(sl, 0, sizeof(*sl));
	sl->cur.major = major;
	sl->cur.minor = minor;
	return sl;
}

/* io.stat, or v1's two blkio files (the request counts only when the
 * bytes moved). Sets *moved when a device's figures changed since their
 * baseline. */
static int read_io(struct cgs *s, struct cg_node *c, int *moved, int first)
{
	int h = c->src[F_IO];
	size_t n = 0;
	char what[PATH_MAX + 80];
	struct err e;
	static const char *const v1files[] = {"blkio.throttle.io_service_bytes_recursive",
					      "blkio.throttle.io_serviced_recursive"};
	int files = s->hs.h[h].v2 ? 1 : 2;
	for (int f = 0; f < files; f++) {
		const char *file = s->hs.h[h].v2 ? "io.stat" : v1files[f];
		int rc = cg_read(s, c, h, file, NULL);
		if (rc)
			return read_failed(s, c, h, file, rc) ? -1 : 0;
		snprintf(what, sizeof(what), "%s%s/%s", s->hs.h[h].name, c->path, file);
		rc = s->hs.h[h].v2
			 ? cg_parse_io_stat(s->buf.data, what, s->iobuf, CG_IO_DEVS_MAX, &n, &e)
			 : cg_parse_blkio(s->buf.data, what, f, s->iobuf, CG_IO_DEVS_MAX, &n, &e);
		if (rc) {
			parse_failed(s, &e);
			return 0;
		}
		if (f == 0 && files == 2 && !first && !io_bytes_moved(c, s->iobuf, n)) {
			keep_io_counts(c, s->iobuf, n); /* no bytes, no requests */
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct io_slot *sl = io_slot(c, s->iobuf[i].major, s->iobuf[i].minor);
		if (!sl)
			continue;
		sl->cur = s->iobuf[i];
		sl->read_now = 1;
		if (!sl->have_base || memcmp(sl->base, sl->cur.v, sizeof(sl->base)))
			*moved = 1;
	}
	return 0;
}

/* One of cpu.pressure, memory.pressure, io.pressure. */
static int read_psi(struct cgs *s, struct cg_node *c, int res)
{
	static const char *const files[] = {"cpu.pressure", "memory.pressure", "io.pressure"};
	int h = c->src[F_PSI];
	char what[PATH_MAX + 80];
	struct err e;
	struct psi p;
	int rc = cg_read(s, c, h, files[res], &c->kfd_psi[res]);
	if (rc)
		return read_failed(s, c, h, files[res], rc) ? -1 : 0;
	snprintf(what, sizeof(what), "%s%s/%s", s->hs.h[h].name, c->path, files[res]);
	if (psi_parse(s->buf.data, what, &p, &e)) {
		parse_failed(s, &e);
		return 0;
	}
	if (p.has_some)
		set_val(c, V_CPU_SOME + 2 * res, p.some.total_us);
	if (p.has_full)
		set_val(c, V_CPU_FULL + 2 * res, p.full.total_us);
	return 0;
}

static int moved(const struct cg_node *c, int v)
{
	return (c->read_now & BIT(v)) && (!(c->have_base & BIT(v)) || c->base[v] != c->cur[v]);
}

/* The limits; a value not reported stays CG_NO_LIMIT. */
static int read_limits(struct cgs *s, struct cg_node *c)
{
	for (int i = 0; i < NLIMITS; i++)
		c->lim[i] = CG_NO_LIMIT;
	int hm = c->src[F_MEMORY], hc = c->src[F_THROTTLE], hp = c->src[F_PIDS];
	uint64_t v, period;
	int rc = 0;
	if (hm >= 0 && s->hs.h[hm].v2) {
		static const char *const files[] = {"memory.max", "memory.high", "memory.swap.max"};
		for (int i = 0; i < 3 && rc >= 0; i++)
			if ((rc = read_value(s, c, hm, files[i], &v, NULL)) == 0)
				c->lim[L_MEM_MAX + i] = v;
	} else if (hm >= 0) {
		/* v1 prints "no limit" as the largest page-aligned counter */
		if ((rc = read_value(s, c, hm, "memory.limit_in_bytes", &v, NULL)) == 0)
			c->lim[L_MEM_MAX] = v >= (1ULL << 62) ? CG_NO_LIMIT : v;
	}
	if (rc >= 0 && hc >= 0 && s->hs.h[hc].v2) {
		if ((rc = cg_read(s, c, hc, "cpu.max", NULL)) != 0) {
			rc = read_failed(s, c, hc, "cpu.max", rc) ? -1 : 0;
		} else {
			struct err e;
			if (cg_parse_cpu_max(s->buf.data, "cpu.max", &v, &period, &e) == 0) {
				c->lim[L_CPU_QUOTA] = v;
				c->lim[L_CPU_PERIOD] = v == CG_NO_LIMIT ? CG_NO_LIMIT : period;
			} else {
				parse_failed(s, &e);
			}
		}
	} else if (rc >= 0 && hc >= 0) {
		if ((rc = read_value(s, c, hc, "cpu.cfs_quota_us", &v, NULL)) == 0 &&
		    v != CG_NO_LIMIT &&
		    (rc = read_value(s, c, hc, "cpu.cfs_period_us", &period, NULL)) == 0) {
			c->lim[L_CPU_QUOTA] = v;
			c->lim[L_CPU_PERIOD] = period;
		}
	}
	if (rc >= 0 && hp >= 0 && (rc = read_value(s, c, hp, "pids.max", &v, NULL)) == 0)
		c->lim[L_PIDS_MAX] = v;
	c->lim_read = rc >= 0;
	return rc < 0 ? -1 : 0;
}

/* ---- sources ---- */

static int has_file(struct cgs *s, const struct cg_node *c, int h, const char *file)
{
	char path[PATH_MAX];
	rel_file(path, sizeof(path), c, file);
	return faccessat(s->hs.h[h].fd, path, F_OK, 0) == 0;
}

/* The first hierarchy holding c that has ctrl and the file. */
static int v1_source(struct cgs *s, const struct cg_node *c, unsigned ctrl, const char *file)
{
	for (size_t h = 0; h < s->hs.n; h++)
		if (!s->hs.h[h].v2 && (s->hs.h[h].ctrl & ctrl) && (c->hmask & (1u << h)) &&
		    has_file(s, c, (int)h, file))
			return (int)h;
	return -1;
}

/* Closes the files a cgroup kept open. */
static void close_kept(struct cgs *s, struct cg_node *c)
{
	int *fds[] = {&c->kfd_usage, &c->kfd_mem, &c->kfd_psi[0], &c->kfd_psi[1], &c->kfd_psi[2]};
	for (size_t k = 0; k < ARRAY_LEN(fds); k++)
		if (*fds[k] >= 0) {
			close(*fds[k]);
			*fds[k] = -1;
			s->kept--;
		}
}

/* Which hierarchy each family is read from: cgroup2 where its directory has
 * the controller's files (CPU usage and pressure are always there), else a
 * v1 hierarchy with the controller. */
static void probe_sources(struct cgs *s, struct cg_node *c)
{
	int v2 = s->hs.v2 >= 0 && (c->hmask & (1u << s->hs.v2)) ? s->hs.v2 : -1;
	for (int f = 0; f < NFAM; f++)
		c->src[f] = -1;
	if (v2 >= 0) {
		c->src[F_EVENTS] = (int8_t)(has_file(s, c, v2, "cgroup.events") ? v2 : -1);
		c->src[F_USAGE] = (int8_t)(has_file(s, c, v2, "cpu.stat") ? v2 : -1);
		c->src[F_THROTTLE] = (int8_t)(has_file(s, c, v2, "cpu.max") ? v2 : -1);
		c->src[F_MEMORY] = (int8_t)(has_file(s, c, v2, "memory.current") ? v2 : -1);
		c->src[F_IO] = (int8_t)(has_file(s, c, v2, "io.stat") ? v2 : -1);
		c->src[F_PIDS] = (int8_t)(has_file(s, c, v2, "pids.current") ? v2 : -1);
		c->src[F_PSI] = (int8_t)(has_file(s, c, v2, "cpu.pressure") ? v2 : -1);
	}
	if (c->src[F_USAGE] < 0)
		c->src[F_USAGE] = (int8_t)v1_source(s, c, CG_CPUACCT, "cpuacct.usage");
	if (c->src[F_THROTTLE] < 0)
		c->src[F_THROTTLE] = (int8_t)v1_source(s, c, CG_CPU, "cpu.cfs_quota_us");
	if (c->src[F_MEMORY] < 0)
		c->src[F_MEMORY] = (int8_t)v1_source(s, c, CG_MEMORY, "memory.usage_in_bytes");
	if (c->src[F_IO] < 0)
		c->src[F_IO] =
		    (int8_t)v1_source(s, c, CG_IO, "blkio.throttle.io_service_bytes_recursive");
	if (c->src[F_PIDS] < 0)
		c->src[F_PIDS] = (int8_t)v1_source(s, c, CG_PIDS, "pids.current");
	if (c->src[F_EVENTS] < 0)
		c->flags |= N_POPULATED; /* v1 has no populated flag */
	close_kept(s, c);
	c->flags &= ~(uint32_t)N_PROBE;
}

/* ---- the tree ---- */

static int push_gone(struct cgs *s, int32_t i)
{
	if (s->ngone == s->capgone) {
		size_t cap = s->capgone ? s->capgone * 2 : 64;
		int32_t *p = realloc(s->gone, cap * sizeof(*p));
		if (!p)
			return -1;
		s->gone = p;
		s->capgone = cap;
	}
	s->gone[s->ngone++] = i;
	return 0;
}

static void unwatch(struct cgs *s, int32_t i, int h)
{
	struct cg_node *c = &s->nodes[i];
	if (c->wd[h] < 0)
		return;
	map_del(&s->by_wd, (uint64_t)(uint32_t)c->wd[h], i * CG_MAX_HIERS + h);
	inotify_rm_watch(s->ifd, c->wd[h]);
	c->wd[h] = -1;
}

static void watch(struct cgs *s, int32_t i, int h)
{
	struct cg_node *c = &s->nodes[i];
	char path[PATH_MAX + 64], rel[PATH_MAX];
	if (s->ifd < 0) {
		c->flags |= N_UNWATCHED;
		return;
	}
	rel_file(rel, sizeof(rel), c, NULL);
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", s->hs.h[h].fd, rel);
	int wd = inotify_add_watch(s->ifd, path,
				   IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO |
				       IN_DELETE_SELF | IN_ONLYDIR);
	if (wd < 0 || map_put(&s->by_wd, (uint64_t)(uint32_t)wd, i * CG_MAX_HIERS + h)) {
		if (wd >= 0)
			inotify_rm_watch(s->ifd, wd);
		c->flags |= N_UNWATCHED;
		return;
	}
	c->wd[h] = wd;
}

/* Unlinks i from its parent's children. */
static void unlink_node(struct cgs *s, int32_t i)
{
	struct cg_node *c = &s->nodes[i];
	if (c->prev >= 0)
		s->nodes[c->prev].next = c->next;
	else if (c->parent >= 0)
		s->nodes[c->parent].child = c->next;
	if (c->next >= 0)
		s->nodes[c->next].prev = c->prev;
	c->next = c->prev = -1;
}

/* Closes what a node holds; its slot stays until the tick commits. */
static void node_release(struct cgs *s, int32_t i)
{
	struct cg_node *c = &s->nodes[i];
	for (size_t h = 0; h < s->hs.n; h++)
		unwatch(s, i, (int)h);
	close_kept(s, c);
	map_del(&s->by_path, path_hash(c->path), i);
	s->untracked -= c->untracked;
	c->untracked = 0;
}

/* A cgroup (and everything under it) is gone. */
static int node_gone(struct cgs *s, int32_t i)
{
	while (s->nodes[i].child >= 0)
		if (node_gone(s, s->nodes[i].child))
			return -1;
	struct cg_node *c = &s->nodes[i];
	c->flags |= N_GONE;
	node_release(s, i);
	unlink_node(s, i);
	s->live--;
	s->st.gone++;
	return push_gone(s, i);
}

static void node_free(struct cgs *s, int32_t i)
{
	struct cg_node *c = &s->nodes[i];
	free(c->path);
	free(c->meta);
	free(c->io);
	memset(c, 0, sizeof(*c));
	c->parent = (int32_t)s->free_head;
	s->free_head = (uint32_t)i;
}

/* A fresh node slot (reused from the free chain, else appended). */
static int32_t node_alloc(struct cgs *s)
{
	int32_t i;
	if (s->free_head != UINT32_MAX) {
		i = (int32_t)s->free_head;
		s->free_head = (uint32_t)s->nodes[i].parent;
	} else {
		if (s->nnodes == s->cap) {
			uint32_t cap = s->cap ? s->cap * 2 : 64;
			struct cg_node *p = realloc(s->nodes, cap * sizeof(*p));
			if (!p)
				return -1;
			s->nodes = p;
			s->cap = cap;
		}
		i = (int32_t)s->nnodes++;
	}
	struct cg_node *c = &s->nodes[i];
	memset(c, 0, sizeof(*c));
	c->parent = c->child = c->next = c->prev = -1;
	c->kfd_usage = c->kfd_mem = -1;
	for (int k = 0; k < 3; k++)
		c->kfd_psi[k] = -1;
	for (int h = 0; h < CG_MAX_HIERS; h++)
		c->wd[h] = -1;
	for (int k = 0; k < NLIMITS; k++)
		c->lim[k] = c->lim_stored[k] = CG_NO_LIMIT;
	return i;
}

/* Container name, image and pod name, from the runtime's files, or
 * inherited from the parent in the same container or pod. */
static void node_meta(struct cgs *s, int32_t i, const struct cg_label *l)
{
	struct cg_node *c = &s->nodes[i];
	struct cg_label pl;
	struct cg_meta m;
	int32_t p = c->parent;
	if (p >= 0 && s->nodes[p].meta) {
		cgroup_label(s->nodes[p].path, &pl);
		if (strcmp(pl.container_id, l->container_id) == 0 &&
		    strcmp(pl.pod_uid, l->pod_uid) == 0) {
			size_t n = 0;
			for (int k = 0; k < 3; k++)
				n += strlen(s->nodes[p].meta + n) + 1;
			c->meta = malloc(n);
			if (c->meta)
				memcpy(c->meta, s->nodes[p].meta, n);
			return;
		}
	}
	if (l->kind != CG_KIND_CONTAINER && l->kind != CG_KIND_POD)
		return;
	cg_meta_read(s->runtime_fd, l, &s->meta_buf, &m);
	if (!m.container_name[0] && !m.image[0] && !m.pod_name[0])
		return;
	size_t a = strlen(m.container_name) + 1, b = strlen(m.image) + 1,
	       n = a + b + strlen(m.pod_name) + 1;
	if (!(c->meta = malloc(n)))
		return;
	memcpy(c->meta, m.container_name, a);
	memcpy(c->meta + a, m.image, b);
	memcpy(c->meta + a + b, m.pod_name, n - a - b);
}

/* A new cgroup under parent: its node, watches and sources. */
static int32_t node_add(struct cgs *s, int32_t parent, const char *path, uint16_t hmask,
			int from_zero)
{
	int32_t i = node_alloc(s);
	if (i < 0)
		return -1;
	struct cg_node *c = &s->nodes[i];
	c->path = strdup(path);
	if (!c->path || map_put(&s->by_path, path_hash(path), i)) {
		free(c->path);
		c->path = NULL;
		node_free(s, i);
		return -1;
	}
	c->parent = parent;
	c->hmask = hmask;
	c->inode = cg_identity(&s->hs, path, &c->mtime_s);
	if (!c->inode) { /* gone between the listing and now */
		map_del(&s->by_path, path_hash(path), i);
		node_free(s, i);
		s->st.vanished++;
		if (s->tick)
			s->tick->errors->vanished++;
		return -2;
	}
	c->flags = N_RESCAN | (from_zero ? N_FROM_ZERO : 0);
	if (parent >= 0) {
		struct cg_node *p = &s->nodes[parent];
		c->next = p->child;
		if (p->child >= 0)
			s->nodes[p->child].prev = i;
		p->child = i;
	}
	for (size_t h = 0; h < s->hs.n; h++)
		if (hmask & (1u << h))
			watch(s, i, (int)h);
	probe_sources(s, c);
	struct cg_label l;
	cgroup_label(path, &l);
	node_meta(s, i, &l);
	s->live++;
	s->st.added++;
	return i;
}

static void child_path(char *out, size_t n, const char *parent, const char *name)
{
	snprintf(out, n, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", name);
}

/* Lists c's directory in hierarchy h, marking the children seen there and
 * adding new ones. */
static int list_hier(struct cgs *s, int32_t i, int h)
{
	char rel[PATH_MAX], path[PATH_MAX];
	rel_file(rel, sizeof(rel), &s->nodes[i], NULL);
	int fd = openat(s->hs.h[h].fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0; /* gone: its parent's listing will say so */
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR) {
			struct stat st;
			if (de->d_type != DT_UNKNOWN || fstatat(dirfd(d), de->d_name, &st, 0) ||
			    !S_ISDIR(st.st_mode))
				continue;
		}
		child_path(path, sizeof(path), s->nodes[i].path, de->d_name);
		if (strlen(path) >= sizeof(path) - 64)
			continue;
		int32_t k = node_by_path(s, path);
		if (k >= 0) {
			s->nodes[k].seen |= (uint16_t)(1u << h);
			continue;
		}
		if (s->live >= (uint64_t)s->opt.max_cgroups) {
			s->nodes[i].untracked++;
			s->untracked++;
			continue;
		}
		k = node_add(s, i, path, (uint16_t)(1u << h), s->startup_done || s->tick_no > 0);
		if (k == -2)
			continue;
		if (k < 0) {
			closedir(d);
			return -1;
		}
		s->nodes[k].seen = (uint16_t)(1u << h);
	}
	closedir(d);
	return 0;
}

/* Lists a cgroup's directories in every hierarchy holding it: new children
 * are added, children no longer anywhere are gone, children that left one
 * hierarchy lose it. */
static int rescan(struct cgs *s, int32_t i)
{
	struct cg_node *c = &s->nodes[i];
	c->flags &= ~(uint32_t)N_RESCAN;
	s->untracked -= c->untracked;
	c->untracked = 0;
	for (int32_t k = c->child; k >= 0; k = s->nodes[k].next)
		s->nodes[k].seen = 0;
	for (size_t h = 0; h < s->hs.n; h++)
		if ((s->nodes[i].hmask & (1u << h)) && list_hier(s, i, (int)h))
			return -1;
	for (int32_t k = s->nodes[i].child, next; k >= 0; k = next) {
		struct cg_node *ch = &s->nodes[k];
		next = ch->next;
		/* a cgroup removed and made again under its name (a restarted
		 * unit) is a new one: its id and its counters start anew */
		int remade = ch->seen && cg_identity(&s->hs, ch->path, NULL) != ch->inode;
		if (!ch->seen || remade) {
			if (node_gone(s, k))
				return -1;
			if (remade)
				s->nodes[i].flags |= N_RESCAN;
			continue;
		}
		if (ch->seen == ch->hmask)
			continue;
		for (size_t h = 0; h < s->hs.n; h++) {
			uint16_t b = (uint16_t)(1u << h);
			if ((ch->hmask & b) && !(ch->seen & b))
				unwatch(s, k, (int)h);
			if (!(ch->hmask & b) && (ch->seen & b))
				watch(s, k, (int)h);
		}
		ch->hmask = ch->seen;
		ch->flags |= N_PROBE | N_RESCAN;
	}
	return 0;
}

/* Lists every directory flagged (and every one without a watch), new
 * cgroups' included, depth first. */
static int rescan_flagged(struct cgs *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct cg_node *c = &s->nodes[i];
		if (!c->path || (c->flags & N_GONE))
			continue;
		if (s->rescan_all || (c->flags & N_UNWATCHED))
			c->flags |= N_RESCAN;
	}
	s->rescan_all = 0;
	for (int again = 1; again;) {
		again = 0;
		for (uint32_t i = 0; i < s->nnodes; i++) {
			struct cg_node *c = &s->nodes[i];
			if (!c->path || (c->flags & N_GONE) || !(c->flags & N_RESCAN))
				continue;
			if (rescan(s, (int32_t)i))
				return -1;
			again = 1;
		}
	}
	return 0;
}

/* ---- inotify ---- */

static uint32_t flag_for_file(const char *name)
{
	static const char *const limits[] = {
	    "memory.max", "memory.high",	   "memory.swap.max",  "cpu.max",
	    "pids.max",	  "memory.limit_in_bytes", "cpu.cfs_quota_us", "cpu.cfs_period_us"};
	if (strcmp(name, "cgroup.events") == 0)
		return N_EVENTS;
	if (strcmp(name, "memory.events") == 0)
		return N_MEMEV;
	if (strcmp(name, "cgroup.subtree_control") == 0)
		return N_CHILD_PROBE;
	if (strcmp(name, "cgroup.procs") == 0 || strcmp(name, "tasks") == 0)
		return N_EVENTS; /* v1: a task moved in */
	for (size_t i = 0; i < ARRAY_LEN(limits); i++)
		if (strcmp(name, limits[i]) == 0)
			return N_LIMITS;
	return 0;
}

static void on_event(struct cgs *s, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		s->rescan_all = 1;
		for (uint32_t i = 0; i < s->nnodes; i++)
			s->nodes[i].flags |= N_EVENTS | N_MEMEV | N_LIMITS;
		return;
	}
	int32_t w = watch_of(s, ev->wd);
	if (w < 0)
		return;
	int32_t i = w / CG_MAX_HIERS;
	struct cg_node *c = &s->nodes[i];
	if (ev->mask & (IN_DELETE_SELF | IN_IGNORED)) {
		if (ev->mask & IN_IGNORED) { /* the kernel dropped the watch */
			map_del(&s->by_wd, (uint64_t)(uint32_t)ev->wd, w);
			c->wd[w % CG_MAX_HIERS] = -1;
		}
		if (c->parent >= 0)
			s->nodes[c->parent].flags |= N_RESCAN;
		return;
	}
	if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) {
		if (ev->mask & IN_ISDIR)
			c->flags |= N_RESCAN;
		return;
	}
	if ((ev->mask & IN_MODIFY) && ev->len) {
		uint32_t f = flag_for_file(ev->name);
		if (f == N_EVENTS && c->src[F_EVENTS] < 0) {
			c->flags |= N_POPULATED;
			c->flags &= ~(uint32_t)N_FINAL_DONE;
		}
		c->flags |= f;
	}
}

/* Takes what inotify has queued; called when its descriptor is readable and
 * at every tick. */
static void drain(struct cgs *s)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	if (s->ifd < 0)
		return;
	for (;;) {
		ssize_t n = read(s->ifd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			on_event(s, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* ---- rows ---- */

static void bind_opt_u64(sqlite3_stmt *st, int col, int known, uint64_t v)
{
	if (known && v != CG_NO_LIMIT)
		bind_u64s(st, col, &v, 1);
	else
		sqlite3_bind_null(st, col);
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

/* The growth of a counter read in this tick; 0 when it has no baseline yet
 * (unless the cgroup began while the daemon ran, when it counts from 0). */
static uint64_t delta_of(const struct cg_node *c, int v)
{
	if (!(c->read_now & BIT(v)))
		return 0;
	if (c->have_base & BIT(v))
		return counter_delta(c->base[v], c->cur[v]);
	return c->flags & N_FROM_ZERO ? c->cur[v] : 0;
}

static int ensure_row(struct cgs *s, int32_t i, struct err *e);

/* Counters as deltas (NULL where the source has none), gauges as read. */
static void bind_vals(struct cg_node *c, sqlite3_stmt *st, int col, const int *vals, int n)
{
	for (int k = 0; k < n; k++) {
		int v = vals[k];
		int known = (c->known & BIT(v)) != 0;
		uint64_t x = (GAUGES & BIT(v)) ? c->cur[v] : delta_of(c, v);
		bind_opt_u64(st, col + k, known, x);
	}
}

/* The working set as cAdvisor and the kubelet count it (what an OOM kill
 * and eviction look at): memory in use less the inactive file pages, which
 * reclaim frees first. Without memory.stat, all of it. */
static uint64_t working_set(const struct cg_node *c)
{
	uint64_t used = c->cur[V_MEM];
	if (!(c->known & BIT(V_INACTIVE_FILE)) || c->cur[V_INACTIVE_FILE] > used)
		return used;
	return used - c->cur[V_INACTIVE_FILE];
}

static int write_row(struct cgs *s, struct cg_node *c, sqlite3_stmt *st, const int *vals, int n,
		     struct err *e)
{
	sqlite3_bind_int64(st, 1, s->tick->ts);
	sqlite3_bind_int64(st, 2, c->row_id);
	sqlite3_bind_int64(st, 3, s->tick->dur_ms);
	bind_vals(c, st, 4, vals, n);
	s->tick->rows++;
	return store_exec_stmt(s->store, st, e);
}

/* Whether any of vals moved: a counter grew or a gauge differs from the
 * value last stored. */
static int any_moved(const struct cg_node *c, uint64_t mask)
{
	for (int v = 0; v < NVALS; v++) {
		if (!(mask & BIT(v)) || !(c->read_now & BIT(v)))
			continue;
		if ((GAUGES & BIT(v)) ? moved(c, v) : delta_of(c, v) != 0)
			return 1;
	}
	return 0;
}

static int write_io(struct cgs *s, struct cg_node *c, struct err *e)
{
	for (uint8_t k = 0; k < c->nio; k++) {
		struct io_slot *sl = &c->io[k];
		uint64_t d[CG_IO_N], any = 0;
		if (!sl->read_now)
			continue;
		for (int j = 0; j < CG_IO_N; j++) {
			d[j] = sl->have_base ? counter_delta(sl->base[j], sl->cur.v[j])
			       : (c->flags & (N_FROM_ZERO | N_IO_BASE)) ? sl->cur.v[j]
									: 0;
			any |= d[j];
		}
		if (!any)
			continue;
		sqlite3_stmt *st = s->ins_io;
		int64_t head[] = {s->tick->ts, c->row_id, sl->cur.major, sl->cur.minor,
				  s->tick->dur_ms};
		bind_int64s(st, 1, head, 5);
		for (int j = 0; j < CG_IO_N; j++)
			bind_opt_u64(st, 6 + j, sl->cur.known & (1u << j), d[j]);
		s->tick->rows++;
		if (store_exec_stmt(s->store, st, e))
			return -1;
	}
	return 0;
}

static int write_limits(struct cgs *s, struct cg_node *c, struct err *e)
{
	int first = !(c->flags & N_READ_ONCE) && !c->lim_wrote;
	if (!c->lim_read)
		return 0;
	if (first) { /* nothing stored yet: "no limit" is the default */
		int any = 0;
		for (int k = 0; k < NLIMITS; k++)
			any |= c->lim[k] != CG_NO_LIMIT;
		if (!any)
			return 0;
	} else if (memcmp(c->lim, c->lim_stored, sizeof(c->lim)) == 0) {
		return 0;
	}
	sqlite3_stmt *st = s->ins_limit;
	sqlite3_bind_int64(st, 1, s->tick->ts);
	sqlite3_bind_int64(st, 2, c->row_id);
	for (int k = 0; k < NLIMITS; k++)
		bind_opt_u64(st, 3 + k, 1, c->lim[k]);
	c->lim_wrote = 2; /* stored at commit */
	s->tick->rows++;
	return store_exec_stmt(s->store, st, e);
}

static int write_rows(struct cgs *s, int32_t i, struct err *e)
{
	static const int cpu[] = {V_USAGE,     V_USER,	       V_SYSTEM, V_PERIODS,
				  V_THROTTLED, V_THROTTLED_US, V_TASKS};
	static const int mem[] = {V_MEM,	V_SWAP,	     V_ANON,	      V_FILE,
				  V_KERNEL,	V_SLAB,	     V_SOCK,	      V_SHMEM,
				  V_DIRTY,	V_WRITEBACK, V_INACTIVE_FILE, V_PGFAULT,
				  V_PGMAJFAULT, V_REFAULT,   V_EV_LOW,	      V_EV_HIGH,
				  V_EV_MAX,	V_EV_OOM,    V_EV_OOM_KILL};
	static const int psi[] = {V_CPU_SOME, V_CPU_FULL, V_MEM_SOME,
				  V_MEM_FULL, V_IO_SOME,  V_IO_FULL};
	struct cg_node *c = &s->nodes[i];
	c->wrote = 0;
	if ((c->known & BIT(V_USAGE)) && any_moved(c, CPU_VALS)) {
		if (write_row(s, c, s->ins_cpu, cpu, (int)ARRAY_LEN(cpu), e))
			return -1;
		c->wrote |= c->read_now & BIT(V_TASKS);
	}
	if ((c->known & BIT(V_MEM)) && any_moved(c, MEM_VALS)) {
		sqlite3_bind_int64(s->ins_mem, 4 + (int)ARRAY_LEN(mem), (int64_t)working_set(c));
		if (write_row(s, c, s->ins_mem, mem, (int)ARRAY_LEN(mem), e))
			return -1;
		c->wrote |= c->read_now & MEM_GAUGES;
	}
	if (any_moved(c, PSI_VALS)) {
		int64_t dur = s->tick->dur_ms; /* since the last reading */
		if (c->psi_ts > 0 && c->psi_ts < s->tick->ts)
			dur = (s->tick->ts - c->psi_ts) * 1000;
		sqlite3_bind_int64(s->ins_psi, 1, s->tick->ts);
		sqlite3_bind_int64(s->ins_psi, 2, c->row_id);
		sqlite3_bind_int64(s->ins_psi, 3, dur);
		bind_vals(c, s->ins_psi, 4, psi, (int)ARRAY_LEN(psi));
		s->tick->rows++;
		if (store_exec_stmt(s->store, s->ins_psi, e))
			return -1;
	}
	return write_io(s, c, e) || write_limits(s, c, e) ? -1 : 0;
}

/* The cgroup's row: one of this boot still open for its id (a restart, or
 * a tick rolled back), updated to what it is now, else a new one. */
static int ensure_row(struct cgs *s, int32_t i, struct err *e)
{
	struct cg_node *c = &s->nodes[i];
	if (c->row_id > 0)
		return 0;
	if (c->parent >= 0 && ensure_row(s, c->parent, e))
		return -1;
	c = &s->nodes[i];
	int64_t parent_id = c->parent >= 0 ? s->nodes[c->parent].row_id : 0;
	struct cg_label l;
	cgroup_label(c->path, &l);
	const char *cname = c->meta, *image = c->meta ? c->meta + strlen(c->meta) + 1 : NULL;
	const char *pod = image ? image + strlen(image) + 1 : NULL;
	const char *name = cname && *cname && l.kind == CG_KIND_CONTAINER ? cname
			   : pod && *pod && l.kind == CG_KIND_POD	  ? pod
									  : l.name;
	sqlite3_bind_int64(s->find_row, 1, c->inode);
	sqlite3_bind_int64(s->find_row, 2, s->boot_s);
	int64_t id = 0;
	if (sqlite3_step(s->find_row) == SQLITE_ROW)
		id = sqlite3_column_int64(s->find_row, 0);
	sqlite3_reset(s->find_row);
	sqlite3_stmt *st = id ? s->upd_row : s->ins_row;
	const char *text[] = {c->path,	 cg_kind_name(l.kind),
			      name,	 l.unit,
			      l.runtime, l.container_id,
			      cname,	 image,
			      l.pod_uid, pod,
			      l.qos};
	sqlite3_bind_int64(st, 1, c->inode);
	if (parent_id)
		sqlite3_bind_int64(st, 2, parent_id);
	else
		sqlite3_bind_null(st, 2);
	for (int k = 0; k < (int)ARRAY_LEN(text); k++)
		if (k < 3)
			sqlite3_bind_text(st, 3 + k, text[k], -1, SQLITE_TRANSIENT);
		else
			bind_text_or_null(st, 3 + k, text[k]);
	int64_t first = c->mtime_s > 0 && c->mtime_s < s->tick->ts ? c->mtime_s : s->tick->ts;
	sqlite3_bind_int64(st, 14, id ? id : first);
	if (id) {
		if (store_exec_stmt(s->store, st, e))
			return -1;
	} else {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return err_set(e, "cgroup row: %s", sqlite3_errmsg(s->store->db));
		s->tick->rows++;
	}
	c->row_id = id;
	size_t lo = 0, hi = s->nstartup; /* startup_ids is sorted */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->startup_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nstartup && s->startup_ids[lo] == id)
		s->startup_claimed[lo] = 1;
	return 0;
}

/* ---- a tick ---- */

/* cgroup.events: whether a task is in the subtree. A task coming back
 * makes the next reading a full one. Returns -1 when the cgroup is gone. */
static int read_populated(struct cgs *s, struct cg_node *c)
{
	static const char *const keys[] = {"populated"};
	uint64_t v[1], found;
	struct err pe;
	int rc = cg_read(s, c, c->src[F_EVENTS], "cgroup.events", NULL);
	if (rc)
		return read_failed(s, c, c->src[F_EVENTS], "cgroup.events", rc) ? -1 : 0;
	if (cg_parse_keyed(s->buf.data, "cgroup.events", keys, 1, v, &found, &pe) || !found) {
		if (!found)
			err_set(&pe, "%s/cgroup.events: no populated line", c->path);
		parse_failed(s, &pe);
		return 0;
	}
	if (v[0] && !(c->flags & N_POPULATED))
		c->flags &= ~(uint32_t)(N_FINAL_DONE | N_READ_ONCE);
	c->flags = v[0] ? c->flags | N_POPULATED : c->flags & ~(uint32_t)N_POPULATED;
	return 0;
}

/* Whether c's CPU usage need not be read: its parent, read from the same
 * hierarchy, did not move, or its growth is already accounted for by the
 * siblings read before c (usage is the sum of the children's and the
 * parent's own, none negative). Each figure is the kernel's nanoseconds
 * cut to microseconds, so the sum may miss by a microsecond a cgroup. */
static int usage_gated(const struct cg_node *c, const struct cg_node *p)
{
	if (!p || p->src[F_USAGE] != c->src[F_USAGE])
		return 0;
	return (p->gate & G_USAGE) ||
	       ((p->gate & G_BUDGET) && p->unaccounted <= 2 * (uint64_t)(p->children_read + 1));
}

/* Takes a child's growth off its parent's unexplained growth. */
static void account_to_parent(struct cg_node *c, struct cg_node *p)
{
	if (!p || !(p->gate & G_BUDGET) || p->src[F_USAGE] != c->src[F_USAGE])
		return;
	uint64_t d = (c->read_now & BIT(V_USAGE)) &&
			     ((c->have_base & BIT(V_USAGE)) || (c->flags & N_FROM_ZERO))
			 ? delta_of(c, V_USAGE)
			 : p->unaccounted; /* unknown: no more children are skipped */
	p->unaccounted = d >= p->unaccounted ? 0 : p->unaccounted - d;
	p->children_read++;
	if (!(c->read_now & BIT(V_USAGE)) || !(c->have_base & BIT(V_USAGE)))
		p->gate &= (uint8_t)~G_BUDGET;
}

/* Pressure, once a refresh period (its row spans the time since the last
 * reading): stall time is a counter, so it is exact over any span, and a
 * cgroup's tasks stall only while it runs, or blocked in I/O or on a fault
 * without running, which its parent's pressure shows when read now. A
 * parent whose stall time did not move had none below it. */
static int read_pressure(struct cgs *s, struct cg_node *c, const struct cg_node *p, int refresh,
			 int first)
{
	for (int r = 0; r < 3 && c->src[F_PSI] >= 0; r++) {
		int g = G_PSI_CPU << r, v = V_CPU_SOME + 2 * r;
		int same = p && p->src[F_PSI] == c->src[F_PSI];
		if (same && (p->gate & g) && !first) {
			c->gate |= (uint8_t)g;
			continue;
		}
		int parent_moved = same && (p->read_now & BIT(v)) && moved(p, v);
		if (!first && !(refresh && ((c->flags & N_RAN) || parent_moved)))
			continue;
		if (read_psi(s, c, r))
			return -1;
		if (!moved(c, v))
			c->gate |= (uint8_t)g;
	}
	return 0;
}

/* After usage: CPU details, tasks, memory, I/O and pressure. full: the
 * cgroup ran (or emptied, or is new); refresh: it is idle and its slow
 * refresh is due. Returns -1 when the cgroup is gone. */
static int read_details(struct cgs *s, struct cg_node *c, const struct cg_node *p, int full,
			int refresh, int first)
{
	int mem_moved = 0, io_moved = 0;
	int hm = c->src[F_MEMORY];
	if (hm >= 0 && (full || refresh) && read_mem_current(s, c, &mem_moved))
		return -1;
	/* tasks, memory.stat and v1's OOM count move with the memory in use
	 * (a fork or an exit charges or frees pages) */
	int mem_detail = first || mem_moved || (hm < 0 && full);
	if (full && read_cpu_v1_details(s, c))
		return -1;
	if ((full || refresh) && mem_detail && read_pids(s, c))
		return -1;
	if (hm >= 0) {
		int v1 = !s->hs.h[hm].v2;
		if ((full || refresh) && mem_detail && read_mem_stat(s, c))
			return -1;
		if ((first || (c->flags & N_MEMEV) || (v1 && mem_moved) ||
		     ((c->flags & N_UNWATCHED) && full)) &&
		    read_mem_events(s, c))
			return -1;
		c->flags &= ~(uint32_t)N_MEMEV;
	}
	/* an idle cgroup issues I/O only as writeback of its dirty pages */
	int dirty = (c->known & BIT(V_DIRTY)) && (c->cur[V_DIRTY] || c->cur[V_WRITEBACK]);
	int io_gated = p && (p->gate & G_IO) && p->src[F_IO] == c->src[F_IO] && !first;
	if (c->src[F_IO] >= 0 && !io_gated && (full || (refresh && (mem_moved || dirty)))) {
		if (read_io(s, c, &io_moved, first))
			return -1;
		if (!io_moved)
			c->gate |= G_IO;
	} else if (io_gated) {
		c->gate |= G_IO;
	}
	if (full)
		c->flags |= N_RAN;
	return read_pressure(s, c, p, refresh, first);
}

/* Reads what may have moved in cgroup i, as its parent's findings allow.
 * Returns -1 for a database error; a cgroup found gone is marked. */
static int visit(struct cgs *s, int32_t i, struct err *e)
{
	struct cg_node *c = &s->nodes[i];
	c->read_now = 0;
	c->lim_read = 0;
	c->gate = 0;
	c->children_read = 0;
	for (uint8_t k = 0; k < c->nio; k++)
		c->io[k].read_now = 0;
	if (ensure_row(s, i, e))
		return -1;
	c = &s->nodes[i];
	struct cg_node *p = c->parent >= 0 ? &s->nodes[c->parent] : NULL;
	if (!c->refresh_ts) /* after one period, spread over the next by slot */
		c->refresh_ts = s->tick->ts + s->refresh_s +
				(int64_t)((uint64_t)i * 2654435761u % (uint64_t)s->refresh_s);
	int refresh = s->tick->ts >= c->refresh_ts;
	if (refresh) /* the next one in the same phase */
		c->refresh_ts += s->refresh_s * (1 + (s->tick->ts - c->refresh_ts) / s->refresh_s);
	if ((c->flags & N_PROBE) || (p && (p->flags & N_CHILD_PROBE)))
		probe_sources(s, c);
	int first = !(c->flags & N_READ_ONCE);
	/* an empty cgroup is asked again at its refresh: a missed notice */
	if (c->src[F_EVENTS] >= 0 &&
	    (first || (c->flags & (N_EVENTS | N_UNWATCHED)) ||
	     (refresh && !(c->flags & N_POPULATED))) &&
	    read_populated(s, c))
		return 0;
	c->flags &= ~(uint32_t)N_EVENTS;
	first = !(c->flags & N_READ_ONCE);
	int populated = (c->flags & N_POPULATED) != 0;
	int limits = first || (c->flags & N_LIMITS) || (refresh && (c->flags & N_UNWATCHED));
	if (!populated && (c->flags & N_FINAL_DONE) && !limits) {
		s->st.skipped++;
		c->gate = G_USAGE | G_IO | G_PSI_CPU | G_PSI_MEM | G_PSI_IO;
		return 0; /* nothing ran in it: its parent's growth is the others' */
	}
	/* CPU usage first: it says whether anything ran below */
	int active = 1;
	if (c->src[F_USAGE] >= 0 && usage_gated(c, p) && !first) {
		active = 0;
		c->gate |= G_USAGE;
	} else if (c->src[F_USAGE] >= 0) {
		if (read_usage(s, c))
			return 0;
		active = first || moved(c, V_USAGE) || !(c->read_now & BIT(V_USAGE));
		if (!active)
			c->gate |= G_USAGE;
		else if ((c->read_now & BIT(V_USAGE)) && (c->have_base & BIT(V_USAGE))) {
			c->unaccounted = delta_of(c, V_USAGE);
			c->gate |= G_BUDGET;
		}
		account_to_parent(c, p);
	}
	int final = !populated && !(c->flags & N_FINAL_DONE);
	int full = active || final;
	if (c->src[F_USAGE] < 0 && !first && !final) {
		/* without CPU figures, a move of memory.current is the sign of life */
		int mv = 0;
		if (c->src[F_MEMORY] >= 0 && read_mem_current(s, c, &mv))
			return 0;
		full = mv;
	}
	if (read_details(s, c, p, full, refresh, first))
		return 0;
	if (limits && read_limits(s, c))
		return 0;
	c->flags &= ~(uint32_t)N_LIMITS;
	if (!populated)
		c->flags |= N_FINAL_DONE;
	if (!full && !refresh && !limits)
		s->st.skipped++;
	return write_rows(s, i, e);
}

/* Moves i to the front of its parent's children. */
static void to_front(struct cgs *s, int32_t i)
{
	struct cg_node *c = &s->nodes[i];
	if (c->prev < 0)
		return;
	unlink_node(s, i);
	struct cg_node *p = &s->nodes[c->parent];
	c->next = p->child;
	s->nodes[p->child].prev = i;
	p->child = i;
}

/* Every cgroup, parents before children, and children in the order they
 * last moved. */
static int walk(struct cgs *s, struct err *e)
{
	size_t top = 0;
	if (s->root < 0)
		return 0;
	if (s->capstack < 64) {
		free(s->stack);
		if (!(s->stack = malloc(64 * sizeof(*s->stack))))
			return err_set(e, "out of memory");
		s->capstack = 64;
	}
	s->stack[top++] = s->root;
	while (top) {
		int32_t i = s->stack[--top];
		if (visit(s, i, e))
			return -1;
		struct cg_node *c = &s->nodes[i];
		if (c->parent >= 0 && (c->read_now & BIT(V_USAGE)) && moved(c, V_USAGE))
			to_front(s, i); /* the busy first: they explain their parent soonest */
		if (c->flags & N_VANISHED) {
			if (c->parent >= 0)
				s->nodes[c->parent].flags |= N_RESCAN;
			if (node_gone(s, i))
				return err_set(e, "out of memory");
			continue;
		}
		c->flags |= N_READ_ONCE;
		size_t n = 0;
		for (int32_t k = c->child; k >= 0; k = s->nodes[k].next)
			n++;
		if (top + n > s->capstack) {
			size_t cap = s->capstack;
			while (cap < top + n)
				cap *= 2;
			int32_t *p = realloc(s->stack, cap * sizeof(*p));
			if (!p)
				return err_set(e, "out of memory");
			s->stack = p;
			s->capstack = cap;
		}
		/* pushed last to first, so the first child is visited first */
		size_t at = top + n;
		for (int32_t k = s->nodes[i].child; k >= 0; k = s->nodes[k].next)
			s->stack[--at] = k;
		top += n;
	}
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].path && !(s->nodes[i].flags & N_GONE))
			s->nodes[i].flags &= ~(uint32_t)N_CHILD_PROBE;
	return 0;
}

/* The gone cgroups' rows get their end. Repeated after a rolled-back tick. */
static int write_gone(struct cgs *s, size_t from, struct err *e)
{
	for (size_t k = from; k < s->ngone; k++) {
		struct cg_node *c = &s->nodes[s->gone[k]];
		if (c->row_id <= 0) { /* its row id died with a rolled-back tick */
			sqlite3_bind_int64(s->find_row, 1, c->inode);
			sqlite3_bind_int64(s->find_row, 2, s->boot_s);
			if (sqlite3_step(s->find_row) == SQLITE_ROW)
				c->row_id = sqlite3_column_int64(s->find_row, 0);
			sqlite3_reset(s->find_row);
			if (c->row_id <= 0)
				continue;
		}
		sqlite3_bind_int64(s->gone_row, 1, c->row_id);
		sqlite3_bind_int64(s->gone_row, 2, s->tick->ts);
		if (store_exec_stmt(s->store, s->gone_row, e))
			return -1;
	}
	return 0;
}

/* At the daemon's first tick: rows of earlier boots that are still open end
 * at this boot, and this boot's rows whose cgroup is no longer there end
 * now. */
static int close_stale_rows(struct cgs *s, struct err *e)
{
	for (size_t k = 0; k < s->nstartup; k++) {
		if (s->startup_claimed[k])
			continue;
		sqlite3_bind_int64(s->gone_row, 1, s->startup_ids[k]);
		sqlite3_bind_int64(s->gone_row, 2, s->tick->ts);
		if (store_exec_stmt(s->store, s->gone_row, e))
			return -1;
	}
	return 0;
}

static int write_scan(struct cgs *s, struct err *e)
{
	uint64_t populated = 0, unwatched = 0;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		const struct cg_node *c = &s->nodes[i];
		if (!c->path || (c->flags & N_GONE))
			continue;
		populated += (c->flags & N_POPULATED) != 0;
		unwatched += (c->flags & N_UNWATCHED) != 0;
	}
	uint64_t v[] = {s->live,       s->st.gone,  populated,	    s->st.reads,
			s->st.skipped, s->st.added, s->st.vanished, s->st.errors,
			s->untracked,  unwatched,   s->kept};
	sqlite3_bind_int64(s->ins_scan, 1, s->tick->ts);
	sqlite3_bind_int64(s->ins_scan, 2, s->tick->dur_ms);
	bind_u64s(s->ins_scan, 3, v, (int)ARRAY_LEN(v));
	s->tick->rows++;
	return store_exec_stmt(s->store, s->ins_scan, e);
}

/* After a rolled-back tick, the rows it inserted are gone: ids are looked
 * up again, and what it stored is stored again. */
static void forget_rolled_back(struct cgs *s)
{
	if (s->rollbacks_seen == s->store->rollbacks)
		return;
	s->rollbacks_seen = s->store->rollbacks;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct cg_node *c = &s->nodes[i];
		c->row_id = 0;
		if (c->lim_wrote == 2) { /* the row it wrote is gone: read and store again */
			c->lim_wrote = 0;
			c->flags |= N_LIMITS;
		}
	}
}

static int cgs_sample(void *state, struct tick *t, struct err *e)
{
	struct cgs *s = state;
	if (s->root < 0)
		return 0;
	s->tick = t;
	s->tick_no++;
	memset(&s->st, 0, sizeof(s->st));
	forget_rolled_back(s);
	drain(s);
	int rc = 0;
	if (!s->startup_done && s->store->db) {
		sqlite3_bind_int64(s->stale_boot, 1, s->boot_s);
		rc = store_exec_stmt(s->store, s->stale_boot, e);
	}
	/* cgroups found gone by a tick that was rolled back */
	if (rc == 0 && s->ngone)
		rc = write_gone(s, 0, e);
	size_t gone_before = s->ngone;
	if (rc == 0 && rescan_flagged(s))
		rc = err_set(e, "cgroups: out of memory");
	if (rc == 0)
		rc = walk(s, e);
	if (rc == 0)
		rc = write_gone(s, gone_before, e);
	if (rc == 0 && !s->startup_done)
		rc = close_stale_rows(s, e);
	if (rc == 0)
		rc = write_scan(s, e);
	s->tick_ts = t->ts;
	s->tick = NULL;
	return rc;
}

/* The readings of this tick become the baselines; gone cgroups are freed. */
static void cgs_commit(void *state)
{
	struct cgs *s = state;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct cg_node *c = &s->nodes[i];
		if (!c->path || (c->flags & N_GONE))
			continue;
		uint64_t upd = (c->read_now & COUNTERS) | c->wrote;
		for (int v = 0; v < NVALS; v++)
			if (upd & BIT(v))
				c->base[v] = c->cur[v];
		c->have_base |= upd;
		if (c->read_now)
			c->flags &= ~(uint32_t)N_FROM_ZERO;
		if (c->read_now & PSI_VALS) {
			c->psi_ts = s->tick_ts;
			c->flags &= ~(uint32_t)N_RAN;
		}
		int io_read = 0;
		for (uint8_t k = 0; k < c->nio; k++)
			if (c->io[k].read_now) {
				memcpy(c->io[k].base, c->io[k].cur.v, sizeof(c->io[k].base));
				c->io[k].have_base = 1;
				io_read = 1;
			}
		if (io_read || c->src[F_IO] < 0)
			c->flags |= N_IO_BASE;
		if (c->lim_wrote == 2 || (c->lim_read && !c->lim_wrote)) {
			memcpy(c->lim_stored, c->lim, sizeof(c->lim));
			c->lim_wrote = 1;
		}
		c->read_now = 0;
		c->wrote = 0;
	}
	for (size_t k = 0; k < s->ngone; k++)
		node_free(s, s->gone[k]);
	s->ngone = 0;
	s->startup_done = 1;
}

/* ---- open and close ---- */

static int prepare(struct cgs *s, struct store *st, struct err *e)
{
	s->ins_cpu = store_prepare(st,
				   "INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us, "
				   "user_us, system_us, periods_count, throttled_count, "
				   "throttled_us, tasks_count) VALUES (?,?,?,?,?,?,?,?,?,?)",
				   e);
	s->ins_mem = store_prepare(
	    st,
	    "INSERT INTO cgroup_memory_stat(ts, cgroup_id, dur_ms, current_bytes, swap_bytes, "
	    "anon_bytes, file_bytes, kernel_bytes, slab_bytes, sock_bytes, shmem_bytes, "
	    "file_dirty_bytes, file_writeback_bytes, inactive_file_bytes, pgfault_count, "
	    "pgmajfault_count, refault_count, low_events_count, high_events_count, "
	    "max_events_count, oom_events_count, oom_kill_count, working_set_bytes) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    e);
	s->ins_io = store_prepare(st,
				  "INSERT INTO cgroup_io_stat(ts, cgroup_id, major, minor, dur_ms, "
				  "read_bytes, write_bytes, reads_count, writes_count, "
				  "discard_bytes, discards_count) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
				  e);
	s->ins_psi = store_prepare(st,
				   "INSERT INTO cgroup_pressure_stat(ts, cgroup_id, dur_ms, "
				   "cpu_some_us, cpu_full_us, memory_some_us, memory_full_us, "
				   "io_some_us, io_full_us) VALUES (?,?,?,?,?,?,?,?,?)",
				   e);
	s->ins_limit = store_prepare(st,
				     "INSERT INTO cgroup_limit(ts, cgroup_id, memory_max_bytes, "
				     "memory_high_bytes, swap_max_bytes, cpu_quota_us, "
				     "cpu_period_us, pids_max_count) VALUES (?,?,?,?,?,?,?,?)",
				     e);
	s->ins_scan = store_prepare(
	    st,
	    "INSERT INTO cgroup_scan(ts, dur_ms, cgroups_count, gone_count, populated_count, "
	    "read_count, skipped_count, new_count, vanished_count, error_count, "
	    "untracked_count, unwatched_count, kept_fds_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    e);
	s->find_row = store_prepare(st,
				    "SELECT id FROM cgroup WHERE inode = ?1 AND gone_ts IS NULL "
				    "AND first_seen_ts >= ?2 ORDER BY id DESC LIMIT 1",
				    e);
	s->ins_row = store_prepare(
	    st,
	    "INSERT INTO cgroup(inode, parent_id, path, kind, name, unit, runtime, container_id, "
	    "container_name, image, pod_uid, pod_name, qos, first_seen_ts) "
	    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) RETURNING id",
	    e);
	s->upd_row = store_prepare(
	    st,
	    "UPDATE cgroup SET inode = ?1, parent_id = ?2, path = ?3, kind = ?4, name = ?5, "
	    "unit = ?6, runtime = ?7, container_id = ?8, container_name = ?9, image = ?10, "
	    "pod_uid = ?11, pod_name = ?12, qos = ?13 WHERE id = ?14",
	    e);
	s->gone_row = store_prepare(
	    st, "UPDATE cgroup SET gone_ts = ?2 WHERE id = ?1 AND gone_ts IS NULL", e);
	s->stale_boot = store_prepare(st,
				      "UPDATE cgroup SET gone_ts = ?1 WHERE gone_ts IS NULL AND "
				      "first_seen_ts < ?1",
				      e);
	if (!s->ins_cpu || !s->ins_mem || !s->ins_io || !s->ins_psi || !s->ins_limit ||
	    !s->ins_scan || !s->find_row || !s->ins_row || !s->upd_row || !s->gone_row ||
	    !s->stale_boot)
		return -1;
	return 0;
}

/* The rows of this boot the last run left open, to be claimed or closed at
 * the first tick. */
static int load_open_rows(struct cgs *s, struct err *e)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
		s->store->db,
		"SELECT id FROM cgroup WHERE gone_ts IS NULL AND first_seen_ts >= ?1 "
		"ORDER BY id",
		-1, &q, NULL) != SQLITE_OK)
		return err_set(e, "cgroup rows: %s", sqlite3_errmsg(s->store->db));
	sqlite3_bind_int64(q, 1, s->boot_s);
	size_t cap = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (s->nstartup == cap) {
			cap = cap ? cap * 2 : 256;
			int64_t *p = realloc(s->startup_ids, cap * sizeof(*p));
			uint8_t *f = realloc(s->startup_claimed, cap);
			if (p)
				s->startup_ids = p;
			if (f)
				s->startup_claimed = f;
			if (!p || !f) {
				sqlite3_finalize(q);
				return err_set(e, "out of memory");
			}
		}
		s->startup_claimed[s->nstartup] = 0;
		s->startup_ids[s->nstartup++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	return 0;
}

/* Reads a number after "key" in a /proc file (btime in stat, SwapTotal in
 * meminfo); -1 when absent. */
static int64_t proc_number(struct cgs *s, const char *file, const char *key)
{
	if (buf_read_file(&s->buf, s->proc_fd, file, SOURCE_MAX_TABLE) < 0)
		return -1;
	size_t n = strlen(key);
	for (const char *p = s->buf.data; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0) {
			const char *v = p + n;
			uint64_t x;
			return scan_u64(&v, &x) == 0 ? (int64_t)x : -1;
		}
	return -1;
}

/* How many cgroup files may stay open: the configured budget, within a
 * quarter of the descriptor limit. */
static uint32_t kept_budget(const struct cgroup_options *o)
{
	struct rlimit rl;
	uint64_t b = (uint64_t)o->max_open_files;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 4 < b)
		b = rl.rlim_cur / 4;
	return (uint32_t)b;
}

/* The first reading: every cgroup's figures become the baselines. */
static int baseline(struct cgs *s, struct err *e)
{
	uint16_t all = 0;
	for (size_t h = 0; h < s->hs.n; h++)
		all |= (uint16_t)(1u << h);
	s->root = node_add(s, -1, "/", all, 0);
	if (s->root == -2)
		return err_set(e, "cgroups: the cgroup root is not a directory");
	if (s->root < 0 || rescan_flagged(s))
		return err_set(e, "cgroups: out of memory");
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct cg_node *c = &s->nodes[i];
		if (!c->path || (c->flags & N_GONE))
			continue;
		int mv = 0;
		if (read_limits(s, c) || (c->src[F_USAGE] >= 0 && read_usage(s, c)) ||
		    (c->src[F_MEMORY] >= 0 && (read_mem_current(s, c, &mv) || read_mem_stat(s, c) ||
					       read_mem_events(s, c))) ||
		    read_cpu_v1_details(s, c) || read_pids(s, c) ||
		    (c->src[F_IO] >= 0 && read_io(s, c, &mv, 1)))
			continue;
		for (int r = 0; r < 3 && c->src[F_PSI] >= 0; r++)
			if (read_psi(s, c, r))
				break;
	}
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct cg_node *c = &s->nodes[i];
		for (int v = 0; v < NVALS; v++)
			if (c->read_now & COUNTERS & BIT(v))
				c->base[v] = c->cur[v];
		c->have_base |= c->read_now & COUNTERS;
		for (uint8_t k = 0; k < c->nio; k++)
			if (c->io[k].read_now) {
				memcpy(c->io[k].base, c->io[k].cur.v, sizeof(c->io[k].base));
				c->io[k].have_base = 1;
			}
		if (c->src[F_IO] >= 0)
			c->flags |= N_IO_BASE;
		c->psi_ts = clock_wall_s();
		c->read_now = 0;
		c->lim_read = 0;
	}
	/* the vanished ones are simply not there */
	for (size_t k = 0; k < s->ngone; k++)
		node_free(s, s->gone[k]);
	s->ngone = 0;
	return 0;
}

static void cgs_close(void *state);

static int cgs_open(void **state, const struct collector_env *env, const void *options,
		    struct err *e)
{
	struct cgs *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->opt = *(const struct cgroup_options *)options;
	s->store = env->store;
	s->proc_fd = env->proc_fd;
	s->root = -1;
	s->ifd = s->runtime_fd = -1;
	s->free_head = UINT32_MAX;
	s->hz = clock_ticks_per_s();
	s->rollbacks_seen = env->store->rollbacks;
	if (!s->opt.enabled)
		return 0;
	if (cg_hiers_open(&s->hs, env->sys_fd, e))
		return -1;
	if (!s->hs.n) {
		log_info("cgroups: no cgroup hierarchy under <sys>/fs/cgroup; not collected");
		return 0;
	}
	s->runtime_fd = open(s->opt.runtime_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->runtime_fd < 0)
		log_info("cgroups: runtime root %s: %s; containers are named by id only",
			 s->opt.runtime_root, strerror(errno));
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd < 0)
		log_warn("cgroups: inotify: %s; every cgroup directory is listed every tick",
			 strerror(errno));
	s->boot_s = proc_number(s, "stat", "btime ");
	if (s->boot_s < 0)
		s->boot_s = 0;
	s->swap_on = proc_number(s, "meminfo", "SwapTotal:") > 0;
	s->max_kept = kept_budget(&s->opt);
	s->refresh_s = s->opt.refresh_ms / 1000 > 0 ? s->opt.refresh_ms / 1000 : 1;
	if (map_init(&s->by_path, 1024) || map_init(&s->by_wd, 1024))
		return err_set(e, "out of memory");
	if (prepare(s, env->store, e) || load_open_rows(s, e))
		return -1;
	return baseline(s, e);
}

static void cgs_close(void *state)
{
	struct cgs *s = state;
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].path) {
			if (!(s->nodes[i].flags & N_GONE))
				node_release(s, (int32_t)i);
			free(s->nodes[i].path);
			free(s->nodes[i].meta);
			free(s->nodes[i].io);
		}
	free(s->nodes);
	map_free(&s->by_path);
	map_free(&s->by_wd);
	free(s->stack);
	free(s->gone);
	free(s->startup_ids);
	free(s->startup_claimed);
	buf_free(&s->buf);
	buf_free(&s->meta_buf);
	if (s->ifd >= 0)
		close(s->ifd);
	if (s->runtime_fd >= 0)
		close(s->runtime_fd);
	cg_hiers_close(&s->hs);
	free(s);
}

static int cgs_event_fd(void *state)
{
	return ((struct cgs *)state)->ifd;
}

static void cgs_on_readable(void *state)
{
	drain(state);
}

const struct collector_ops collector_cgroup = {
    .name = "cgroups",
    .open = cgs_open,
    .sample = cgs_sample,
    .commit = cgs_commit,
    .close = cgs_close,
    .event_fd = cgs_event_fd,
    .on_readable = cgs_on_readable,
};
