/* The eBPF collector: loads bpf/hindsight.bpf.c, keeps its ring buffer in the
 * daemon's event loop, holds the records until the tick and writes them with
 * the kernel counters in the tick's transaction. Tables: exec_event,
 * process_exit, oom_kill, kernel_counters, bpf_tick.
 *
 * Any reason eBPF cannot run (not root, no BTF, verifier, attach) is one log
 * line and state 'failed' in bpf_tick; the daemon and every /proc collector go
 * on without it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/ebpf.h"
#include "bpf/records.h"
#include "collect/collect.h"
#include "proc/accounting.h"
#include "hindsight.skel.h"

#define MAX_LINKS  8
#define EXEC_SLOTS 4096 /* pids whose exec record is looked up per tick */

/* The latest exec record of a pid in the held records, so an exit can be
 * classified by its argv. */
struct exec_slot {
	int32_t pid;
	uint32_t gen;
	const struct hs_exec *x;
	size_t size;
};

/* One loaded program's run count and kernel time (bpf_prog_info), read
 * every tick while BPF statistics are on. */
struct prog_cost {
	int fd;
	const char *name;
	uint64_t base_runs, base_ns; /* at the last stored tick */
	uint64_t cur_runs, cur_ns;
};

struct bpf_state {
	struct bpf_options cfg;
	struct proc_accounting *acct; /* where exits go; NULL: nowhere */
	int state;		      /* BPF_STATE_* */
	struct hindsight_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	size_t nlinks;
	struct prog_cost progs[MAX_LINKS]; /* the attached programs */
	size_t nprogs;
	int stats_fd;	/* BPF_ENABLE_STATS: statistics on while it is open; -1 */
	int progs_ok;	/* progs[].cur was read in this tick */
	int progs_base; /* progs[].base holds a reading */
	struct dim prog_dim;
	struct ring_buffer *rb;
	int ncpus;
	uint64_t *percpu; /* one counter slot's values, per possible CPU */

	struct record_buf recs;	    /* held until the tick is stored */
	uint64_t buffer_drops;	    /* since the last stored tick */
	uint64_t exec_buffer_drops; /* the exec records among them */
	int64_t boot_to_epoch_ns;   /* refreshed before each consume */

	uint64_t base[HS_C_COUNT]; /* counters at the last stored tick */
	uint64_t cur[HS_C_COUNT];
	int have_base;
	int cur_ok; /* cur was read in this tick */

	size_t reported_pos; /* records before this were reported to procs */
	uint32_t exec_gen;
	struct exec_slot execs[EXEC_SLOTS];

	sqlite3_stmt *ins_tick, *ins_counters, *ins_exec, *ins_exit, *ins_oom, *ins_prog;
};

/* libbpf's own messages (the verifier log among them) at debug level. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	if (log_get_level() < LOG_DEBUG)
		return 0;
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

/* Event times are boottime; the wall clock is the daemon's trusted one, so
 * an event is not dated by a stepped clock. */
static int64_t boot_to_epoch_ns(void)
{
	return clock_wall_minus_boot_us() * 1000;
}

/* Called by ring_buffer__consume for each record. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct bpf_state *s = ctx;
	if (record_buf_push(&s->recs, data, size, s->boot_to_epoch_ns) < 0) {
		uint32_t type = size >= sizeof(uint32_t) ? *(const uint32_t *)data : 0;
		s->buffer_drops++;
		s->exec_buffer_drops += type == HS_EV_EXEC || type == HS_EV_EXEC_FAILED;
	}
	return 0;
}

static void drain_ring(struct bpf_state *s)
{
	if (!s->rb)
		return;
	s->boot_to_epoch_ns = boot_to_epoch_ns();
	int n = ring_buffer__consume(s->rb);
	if (n < 0)
		log_debug("eBPF ring buffer: %s", strerror(-n));
}

/* Which programs a configuration needs. */
static void choose_programs(struct hindsight_bpf *k, const struct bpf_options *c)
{
	bpf_program__set_autoload(k->progs.on_exec, c->exec || c->tasks);
	bpf_program__set_autoload(k->progs.on_sys_exit, c->syscalls || c->failed_execs);
	bpf_program__set_autoload(k->progs.on_fork, c->tasks);
	bpf_program__set_autoload(k->progs.on_exit, c->exits || c->tasks);
	bpf_program__set_autoload(k->progs.on_switch, c->exits);
	bpf_program__set_autoload(k->progs.on_oom_victim, c->oom);
	bpf_program__set_autoload(k->progs.on_tcp_retransmit, c->tcp);
	k->rodata->args_max = (__u32)c->args_bytes;
	k->rodata->want_exec_events = c->exec;
	k->rodata->want_exit_events = c->exits;
	k->rodata->count_tasks = c->tasks;
	k->rodata->count_syscalls = c->syscalls;
	k->rodata->want_failed_execs = c->failed_execs;
	k->rodata->wakeup_bytes = (__u64)c->ring_kb * 1024 / 4;
}

static int attach_all(struct bpf_state *s, struct err *e)
{
	struct bpf_program *p;
	bpf_object__for_each_program(p, s->skel->obj)
	{
		if (!bpf_program__autoload(p))
			continue;
		if (s->nlinks == MAX_LINKS)
			return err_set(e, "more programs than links (%d)", MAX_LINKS);
		struct bpf_link *l = bpf_program__attach(p);
		if (!l)
			return err_set(e, "cannot attach %s (%s): %s", bpf_program__name(p),
				       bpf_program__section_name(p), strerror(errno));
		s->links[s->nlinks++] = l;
		s->progs[s->nprogs++] =
		    (struct prog_cost){.fd = bpf_program__fd(p), .name = bpf_program__name(p)};
	}
	return 0;
}

/* Whether kernel.bpf_stats_enabled is on already (another tool set it). */
static int stats_sysctl_on(void)
{
	char c = '0';
	int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c == '1';
}

/* With bpf.prog_stats, asks the kernel to count the run time of BPF
 * programs for as long as the daemon holds the descriptor: closing it (also
 * by a crash) turns the statistics off again unless something else holds
 * them on, so the sysctl is never left changed. It is off by default: the
 * switch is global, so while it is on every BPF program on the host, not
 * only ours, reads the clock twice per run (bench/bpf_cost.sh). */
static void stats_start(struct bpf_state *s)
{
	s->stats_fd = -1;
	if (!s->cfg.prog_stats)
		return;
	s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (s->stats_fd < 0)
		log_info("eBPF programs' kernel time not measured: BPF statistics refused (%s)",
			 strerror(errno));
}

/* Whether the programs' run times are being counted: by our request, or
 * because kernel.bpf_stats_enabled is on anyway (then reading them is free). */
static int stats_counting(const struct bpf_state *s)
{
	return s->stats_fd >= 0 || stats_sysctl_on();
}

/* Reads each program's counters; 0, or -errno. */
static int read_prog_costs(struct bpf_state *s)
{
	for (size_t i = 0; i < s->nprogs; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(s->progs[i].fd, &info, &len))
			return -errno;
		s->progs[i].cur_runs = info.run_cnt;
		s->progs[i].cur_ns = info.run_time_ns;
	}
	return 0;
}

/* Loads and attaches the programs; the error says why not in one line. */
static int bpf_start(struct bpf_state *s, struct err *e)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return err_set(e,
			       "no kernel BTF (/sys/kernel/btf/vmlinux: %s); the kernel needs "
			       "CONFIG_DEBUG_INFO_BTF",
			       strerror(errno));
	libbpf_set_print(libbpf_log);
	if (!(s->skel = hindsight_bpf__open()))
		return err_set(e, "cannot open the eBPF object: %s", strerror(errno));
	choose_programs(s->skel, &s->cfg);
	if (bpf_map__set_max_entries(s->skel->maps.events, (__u32)(s->cfg.ring_kb * 1024)))
		return err_set(e, "bpf.ring_kb %lld rejected", (long long)s->cfg.ring_kb);
	int rc = hindsight_bpf__load(s->skel);
	if (rc) {
		if (rc == -EPERM || rc == -EACCES)
			return err_set(e,
				       "permission denied loading eBPF programs (%s); run as root "
				       "or with CAP_BPF and CAP_PERFMON",
				       geteuid() ? "not root"
						 : "root, but refused: lockdown or LSM?");
		return err_set(e,
			       "the kernel refused the eBPF programs (verifier or missing "
			       "feature): %s; --log-level debug shows libbpf's log",
			       strerror(-rc));
	}
	if (attach_all(s, e))
		return -1;
	stats_start(s);
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_record, s, NULL);
	if (!s->rb)
		return err_set(e, "cannot open the eBPF ring buffer: %s", strerror(errno));
	if ((s->ncpus = libbpf_num_possible_cpus()) <= 0)
		return err_set(e, "cannot count possible CPUs: %s", strerror(-s->ncpus));
	if (!(s->percpu = calloc((size_t)s->ncpus, sizeof(uint64_t))))
		return err_set(e, "out of memory");
	return 0;
}

static void bpf_stop(struct bpf_state *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
	for (size_t i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	s->nlinks = 0;
	s->nprogs = 0;
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	s->stats_fd = -1;
	hindsight_bpf__destroy(s->skel);
	s->skel = NULL;
	free(s->percpu);
	s->percpu = NULL;
}

/* Sums each counter over the CPUs; the ring's peak fill is a maximum. */
static int read_counters(struct bpf_state *s, uint64_t out[HS_C_COUNT])
{
	int fd = bpf_map__fd(s->skel->maps.counters);
	for (uint32_t k = 0; k < HS_C_COUNT; k++) {
		if (bpf_map_lookup_elem(fd, &k, s->percpu))
			return -errno;
		out[k] = 0;
		for (int c = 0; c < s->ncpus; c++)
			out[k] = k == HS_C_RING_PEAK
				     ? (s->percpu[c] > out[k] ? s->percpu[c] : out[k])
				     : out[k] + s->percpu[c];
	}
	return 0;
}

/* Starts the ring's peak over for the next tick. A sender that raises it
 * between the read and this reset is lost: the peak can only be low by
 * what arrived in those microseconds. */
static void reset_ring_peak(struct bpf_state *s)
{
	uint32_t k = HS_C_RING_PEAK;
	memset(s->percpu, 0, (size_t)s->ncpus * sizeof(uint64_t));
	bpf_map_update_elem(bpf_map__fd(s->skel->maps.counters), &k, s->percpu, BPF_ANY);
}

static int prepare(struct bpf_state *s, struct store *st, struct err *e)
{
	return !(s->ins_tick = store_prepare(
		     st,
		     "INSERT INTO bpf_tick(ts, dur_ms, state_id, events_count, ring_drops_count, "
		     "buffer_drops_count, exec_drops_count, ring_peak_bytes) "
		     "VALUES (?,?,?,?,?,?,?,?)",
		     e)) ||
		       !(s->ins_counters = store_prepare(
			     st,
			     "INSERT INTO kernel_counters(ts, dur_ms, processes_created_count, "
			     "threads_created_count, execs_count, execs_failed_count, "
			     "process_exits_count, thread_exits_count, file_opens_count, "
			     "file_opens_failed_count, file_closes_count, read_calls_count, "
			     "read_bytes, read_errors_count, write_calls_count, write_bytes, "
			     "write_errors_count, oom_kills_count, tcp_retransmits_count) "
			     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			     e)) ||
		       !(s->ins_exec = store_prepare(
			     st,
			     "INSERT INTO exec_event(ts, time_ns, pid, ppid, uid, cgroup_id, ret, "
			     "comm, filename, args, args_truncated, parent_comm) "
			     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			     e)) ||
		       !(s->ins_exit = store_prepare(
			     st,
			     "INSERT INTO process_exit(ts, time_ns, pid, ppid, uid, cgroup_id, "
			     "comm, "
			     "start_clock_ticks, exit_code, signal, core_dumped, lifetime_us, "
			     "cpu_us, user_us, system_us, minor_faults_count, major_faults_count, "
			     "voluntary_switches_count, involuntary_switches_count, read_bytes, "
			     "write_bytes, peak_rss_kb) "
			     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			     e)) ||
		       !(s->ins_oom = store_prepare(
			     st,
			     "INSERT INTO oom_kill(ts, time_ns, pid, uid, cgroup_id, comm, "
			     "oom_score_adj, total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb) "
			     "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
			     e)) ||
		       !(s->ins_prog = store_prepare(
			     st,
			     "INSERT INTO bpf_program_cost(ts, program_id, dur_ms, runs_count, "
			     "run_ns) VALUES (?,?,?,?,?)",
			     e)) ||
		       dim_init(&s->prog_dim, st, "bpf_program", e)
		   ? -1
		   : 0;
}

static int bpf_open(void **state, const struct collector_env *env, const void *options,
		    struct err *e)
{
	struct store *st = env->store;
	struct bpf_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->stats_fd = -1;
	ASSERT(options != NULL);
	s->cfg = *(const struct bpf_options *)options;
	s->acct = env->acct;
	record_buf_init(&s->recs, (size_t)s->cfg.buffer_kb * 1024);
	if (prepare(s, st, e))
		return -1;
	if (!s->cfg.enabled) {
		s->state = BPF_STATE_OFF;
		log_info("eBPF collectors off (--no-bpf or bpf.enabled: false)");
		return 0;
	}
	struct err why;
	if (bpf_start(s, &why)) {
		bpf_stop(s);
		s->state = BPF_STATE_FAILED;
		log_warn("eBPF unavailable, /proc sampling goes on without it: %s", why.msg);
		return 0;
	}
	s->state = BPF_STATE_RUNNING;
	s->have_base = read_counters(s, s->base) == 0;
	s->progs_base = stats_counting(s) && read_prog_costs(s) == 0;
	for (size_t i = 0; s->progs_base && i < s->nprogs; i++) {
		s->progs[i].base_runs = s->progs[i].cur_runs;
		s->progs[i].base_ns = s->progs[i].cur_ns;
	}
	log_info("eBPF collectors running (%zu programs)", s->nlinks);
	return 0;
}

/* A counter column: NULL when its family is off. */
static void bind_counter(sqlite3_stmt *st, int col, int on, uint64_t delta)
{
	if (on)
		sqlite3_bind_int64(st, col, delta > INT64_MAX ? INT64_MAX : (int64_t)delta);
	else
		sqlite3_bind_null(st, col);
}

static int write_counters(struct bpf_state *s, struct tick *t, struct err *e)
{
	const struct bpf_options *c = &s->cfg;
	int sys_exit = c->syscalls || c->failed_execs;
	/* Column order of the insert, and the family switch that turns each on. */
	const struct {
		int slot, on;
	} cols[] = {
	    {HS_C_PROCS_CREATED, c->tasks},   {HS_C_THREADS_CREATED, c->tasks},
	    {HS_C_EXECS, c->tasks},	      {HS_C_EXECS_FAILED, sys_exit},
	    {HS_C_PROC_EXITS, c->tasks},      {HS_C_THREAD_EXITS, c->tasks},
	    {HS_C_OPENS, c->syscalls},	      {HS_C_OPENS_FAILED, c->syscalls},
	    {HS_C_CLOSES, c->syscalls},	      {HS_C_READS, c->syscalls},
	    {HS_C_READ_BYTES, c->syscalls},   {HS_C_READ_ERRORS, c->syscalls},
	    {HS_C_WRITES, c->syscalls},	      {HS_C_WRITE_BYTES, c->syscalls},
	    {HS_C_WRITE_ERRORS, c->syscalls}, {HS_C_OOM_KILLS, c->oom},
	    {HS_C_TCP_RETRANSMITS, c->tcp},
	};
	sqlite3_bind_int64(s->ins_counters, 1, t->ts);
	sqlite3_bind_int64(s->ins_counters, 2, t->dur_ms);
	for (size_t i = 0; i < ARRAY_LEN(cols); i++)
		bind_counter(s->ins_counters, 3 + (int)i, cols[i].on,
			     counter_delta(s->base[cols[i].slot], s->cur[cols[i].slot]));
	t->rows++;
	return store_exec_stmt(t->store, s->ins_counters, e);
}

/* ---- one record into its table ---- */

static void bind_text(sqlite3_stmt *st, int col, const char *s, size_t max)
{
	sqlite3_bind_text(st, col, s, (int)strnlen(s, max), SQLITE_TRANSIENT);
}

static int write_exec(struct bpf_state *s, const struct record *r, struct tick *t, struct err *e)
{
	const struct hs_exec *x = (const void *)r->data;
	char args[HS_ARGS_MAX + 1];
	size_t n = exec_args_text(x, r->size, args, sizeof(args));
	sqlite3_stmt *st = s->ins_exec;
	int64_t v[] = {r->epoch_ns / 1000000000, r->epoch_ns, x->h.pid, x->ppid, x->uid,
		       (int64_t)x->cgroup_id,	 x->ret};
	bind_int64s(st, 1, v, (int)ARRAY_LEN(v));
	bind_text(st, 8, x->comm, sizeof(x->comm));
	bind_text(st, 9, x->filename, sizeof(x->filename));
	sqlite3_bind_text(st, 10, args, (int)n, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 11, x->args_truncated != 0);
	bind_text(st, 12, x->parent_comm, sizeof(x->parent_comm));
	t->rows++;
	return store_exec_stmt(t->store, st, e);
}

static int write_exit(struct bpf_state *s, const struct record *r, struct tick *t, struct err *e)
{
	const struct hs_exit *x = (const void *)r->data;
	struct exit_usage u;
	exit_usage_from(x, clock_ticks_per_s(), sysconf(_SC_PAGESIZE), &u);
	sqlite3_stmt *st = s->ins_exit;
	int64_t head[] = {r->epoch_ns / 1000000000, r->epoch_ns, x->h.pid, x->ppid, x->uid,
			  (int64_t)x->cgroup_id};
	bind_int64s(st, 1, head, (int)ARRAY_LEN(head));
	bind_text(st, 7, x->comm, sizeof(x->comm));
	sqlite3_bind_int64(st, 8, u.start_clock_ticks);
	if (u.signal) {
		sqlite3_bind_null(st, 9);
		sqlite3_bind_int(st, 10, u.signal);
	} else {
		sqlite3_bind_int(st, 9, u.exit_code);
		sqlite3_bind_null(st, 10);
	}
	sqlite3_bind_int(st, 11, u.core_dumped);
	int64_t tail[] = {u.lifetime_us,
			  (int64_t)(x->cpu_ns / 1000),
			  (int64_t)(x->utime_ns / 1000),
			  (int64_t)(x->stime_ns / 1000),
			  (int64_t)x->min_flt,
			  (int64_t)x->maj_flt,
			  (int64_t)x->nvcsw,
			  (int64_t)x->nivcsw,
			  (int64_t)x->read_bytes,
			  (int64_t)x->write_bytes,
			  u.peak_rss_kb};
	bind_int64s(st, 12, tail, (int)ARRAY_LEN(tail));
	t->rows++;
	return store_exec_stmt(t->store, st, e);
}

static int write_oom(struct bpf_state *s, const struct record *r, struct tick *t, struct err *e)
{
	const struct hs_oom *x = (const void *)r->data;
	int64_t kb = sysconf(_SC_PAGESIZE) / 1024;
	sqlite3_stmt *st = s->ins_oom;
	int64_t head[] = {r->epoch_ns / 1000000000, r->epoch_ns, x->h.pid, x->uid,
			  (int64_t)x->cgroup_id};
	bind_int64s(st, 1, head, (int)ARRAY_LEN(head));
	bind_text(st, 6, x->comm, sizeof(x->comm));
	int64_t tail[] = {x->oom_score_adj, (int64_t)x->total_vm_pages * kb,
			  (int64_t)x->anon_rss_pages * kb, (int64_t)x->file_rss_pages * kb,
			  (int64_t)x->shmem_rss_pages * kb};
	bind_int64s(st, 7, tail, (int)ARRAY_LEN(tail));
	t->rows++;
	return store_exec_stmt(t->store, st, e);
}

static struct exec_slot *exec_slot(struct bpf_state *s, int32_t pid, int insert)
{
	for (uint32_t i = 0, h = (uint32_t)pid * 2654435761u; i < 16; i++) {
		struct exec_slot *e = &s->execs[(h + i) % EXEC_SLOTS];
		if (e->gen == s->exec_gen && e->pid == pid)
			return e;
		if (e->gen != s->exec_gen)
			return insert ? e : NULL;
	}
	return NULL; /* crowded: the exit is classified without argv */
}

/* Hands each exit not yet reported to the process accounting, which adds
 * it to its group; a tick that is retried reports nothing twice. */
static void report_exits(struct bpf_state *s)
{
	struct record r;
	size_t pos = 0, at;
	s->exec_gen++;
	while (at = pos, record_buf_next(&s->recs, &pos, &r)) {
		uint32_t type = record_type(&r);
		if (type == HS_EV_EXEC) {
			const struct hs_exec *x = (const void *)r.data;
			struct exec_slot *e = exec_slot(s, (int32_t)x->h.pid, 1);
			if (e)
				*e = (struct exec_slot){(int32_t)x->h.pid, s->exec_gen, x, r.size};
		}
		if (type != HS_EV_EXIT || at < s->reported_pos)
			continue;
		struct hs_exit x;
		memcpy(&x, r.data, sizeof(x));
		struct proc_exit pe = {.pid = (int32_t)x.h.pid,
				       .ppid = (int32_t)x.ppid,
				       .uid = x.uid,
				       .comm = x.comm,
				       .read_bytes = x.read_bytes,
				       .write_bytes = x.write_bytes,
				       .minflt = x.min_flt,
				       .majflt = x.maj_flt,
				       .vcsw = x.nvcsw,
				       .ivcsw = x.nivcsw};
		struct exit_usage u;
		exit_usage_from(&x, clock_ticks_per_s(), 4096, &u);
		pe.start_ticks = (uint64_t)u.start_clock_ticks;
		exit_cpu_split(&x, &pe.utime_ns, &pe.stime_ns);
		x.comm[HS_COMM_LEN - 1] = '\0';
		struct exec_slot *e = exec_slot(s, pe.pid, 0);
		if (e) {
			size_t have = e->size - offsetof(struct hs_exec, args);
			pe.argv = e->x->args;
			pe.argv_len = e->x->args_len < have ? e->x->args_len : have;
		}
		acct_exit(s->acct, &pe);
	}
	s->reported_pos = s->recs.len;
}

static int write_records(struct bpf_state *s, struct tick *t, uint64_t *events, struct err *e)
{
	struct record r;
	size_t pos = 0;
	while (record_buf_next(&s->recs, &pos, &r)) {
		int rc = 0;
		switch (record_type(&r)) {
		case HS_EV_EXEC:
		case HS_EV_EXEC_FAILED:
			rc = write_exec(s, &r, t, e);
			break;
		case HS_EV_EXIT:
			rc = write_exit(s, &r, t, e);
			break;
		case HS_EV_OOM:
			rc = write_oom(s, &r, t, e);
			break;
		default:
			continue; /* record_buf_push only keeps known types */
		}
		if (rc)
			return -1;
		(*events)++;
	}
	return 0;
}

/* A row per program that ran in the tick, and the sum for the agent row. */
static int write_prog_costs(struct bpf_state *s, struct tick *t, struct err *e)
{
	int64_t total_ns = 0, total_runs = 0;
	for (size_t i = 0; i < s->nprogs; i++) {
		const struct prog_cost *p = &s->progs[i];
		int64_t runs = (int64_t)counter_delta(p->base_runs, p->cur_runs);
		int64_t ns = (int64_t)counter_delta(p->base_ns, p->cur_ns);
		total_ns += ns;
		total_runs += runs;
		if (!runs)
			continue;
		int64_t id = dim_id(&s->prog_dim, p->name, e);
		if (id < 0)
			return -1;
		int64_t v[] = {t->ts, id, t->dur_ms, runs, ns};
		bind_int64s(s->ins_prog, 1, v, (int)ARRAY_LEN(v));
		t->rows++;
		if (store_exec_stmt(t->store, s->ins_prog, e))
			return -1;
	}
	t->kernel_run_ns = total_ns;
	t->kernel_runs = total_runs;
	return 0;
}

static int bpf_sample(void *state, struct tick *t, struct err *e)
{
	struct bpf_state *s = state;
	uint64_t events = 0, ring_drops = 0, exec_ring_drops = 0;
	if (s->state == BPF_STATE_RUNNING) {
		drain_ring(s); /* everything up to now belongs to this tick */
		s->cur_ok = read_counters(s, s->cur) == 0;
		if (!s->cur_ok) {
			t->errors->read++;
		} else if (s->have_base) {
			ring_drops =
			    counter_delta(s->base[HS_C_RING_DROPS], s->cur[HS_C_RING_DROPS]);
			exec_ring_drops = counter_delta(s->base[HS_C_EXEC_RING_DROPS],
							s->cur[HS_C_EXEC_RING_DROPS]);
			if (write_counters(s, t, e))
				return -1;
		}
		if (write_records(s, t, &events, e))
			return -1;
		/* statistics switched off by someone else: no base to count from */
		s->progs_ok = stats_counting(s) && read_prog_costs(s) == 0;
		s->progs_base &= s->progs_ok;
		if (s->progs_ok && s->progs_base && write_prog_costs(s, t, e))
			return -1;
		if (s->acct) {
			acct_exits_reported(s->acct, s->cfg.exits);
			if (s->cfg.exits)
				report_exits(s);
		}
		t->errors->parse += s->recs.malformed;
		s->recs.malformed = 0;
	}
	int64_t v[] = {t->ts,
		       t->dur_ms,
		       s->state,
		       (int64_t)events,
		       (int64_t)ring_drops,
		       (int64_t)s->buffer_drops,
		       (int64_t)(exec_ring_drops + s->exec_buffer_drops)};
	bind_int64s(s->ins_tick, 1, v, (int)ARRAY_LEN(v));
	if (s->state == BPF_STATE_RUNNING && s->cur_ok)
		sqlite3_bind_int64(s->ins_tick, 8, (int64_t)s->cur[HS_C_RING_PEAK]);
	else
		sqlite3_bind_null(s->ins_tick, 8);
	t->rows++;
	return store_exec_stmt(t->store, s->ins_tick, e);
}

static void bpf_commit(void *state)
{
	struct bpf_state *s = state;
	if (s->state != BPF_STATE_RUNNING)
		return;
	if (s->cur_ok) {
		memcpy(s->base, s->cur, sizeof(s->base));
		s->have_base = 1;
		reset_ring_peak(s);
	}
	for (size_t i = 0; s->progs_ok && i < s->nprogs; i++) {
		s->progs[i].base_runs = s->progs[i].cur_runs;
		s->progs[i].base_ns = s->progs[i].cur_ns;
	}
	s->progs_base |= s->progs_ok;
	record_buf_clear(&s->recs);
	s->reported_pos = 0;
	s->buffer_drops = 0;
	s->exec_buffer_drops = 0;
}

static void bpf_close(void *state)
{
	struct bpf_state *s = state;
	if (!s)
		return;
	bpf_stop(s);
	dim_free(&s->prog_dim);
	record_buf_free(&s->recs);
	free(s);
}

static int bpf_event_fd(void *state)
{
	struct bpf_state *s = state;
	return s->rb ? ring_buffer__epoll_fd(s->rb) : -1;
}

static void bpf_on_readable(void *state)
{
	drain_ring(state);
}

const struct collector_ops collector_bpf = {
    .name = "bpf",
    .open = bpf_open,
    .sample = bpf_sample,
    .commit = bpf_commit,
    .close = bpf_close,
    .event_fd = bpf_event_fd,
    .on_readable = bpf_on_readable,
};
