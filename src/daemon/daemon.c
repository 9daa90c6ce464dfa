/* The daemon: one libevent loop driving the tick, the retention work,
 * signals, and the collectors fed by a descriptor (/dev/kmsg, the eBPF ring
 * buffer). Every tick is one transaction. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/registry.h"
#include "metrics/metrics.h"
#include "metrics/remote.h"
#include "proc/accounting.h"

#define NCOLLECTORS collector_registry_len

struct collector_slot {
	const struct collector_entry *entry; /* its registry line */
	const struct collector_ops *ops;
	void *state;
	int64_t id;	 /* row in the collector table */
	int64_t cpu_us;	 /* this tick */
	int64_t wall_us; /* this tick */
	struct event *fd_ev;
};

struct daemon {
	struct config cfg;
	struct daemon_options opt;
	struct store store;
	struct db_files files;
	struct collector_env env;
	struct proc_accounting *acct;
	struct metrics *metrics;      /* NULL: no /metrics endpoint */
	struct remote_writer *remote; /* NULL: no remote write */
	struct collector_slot *slots; /* one per registry line, in its order */
	struct event_base *base;
	struct event *tick_ev;
	struct event *retention_ev;
	struct tiers tiers;
	int tiers_open;
	int retention_failing;
	int ticked; /* a tick has run */
	struct event *sig_ev[3];
	sqlite3_stmt *ins_agent;
	sqlite3_stmt *ins_agent_collector;

	int64_t start_us;	/* monotonic start, for --duration */
	int64_t baseline_us;	/* monotonic time of the last committed sample */
	int64_t last_ts;	/* ts of the last committed tick */
	struct wall_clock wall; /* the wall clock checked against boottime */
	int64_t next_ts;	/* the boundary the next tick is for (0: none yet) */
	int64_t next_boot_us;	/* its boottime */
	int64_t step_s;		/* a step seen since the last stored tick, for its row */
	int64_t last_commit_us; /* how long the last commit took */
	int64_t interval_us;
	uint64_t commit_failures; /* since the last committed tick */
	int failing;		  /* inside a run of failed commits: log once */
	int disk_full;		  /* from a full disk until it has room again */
	struct reserve reserve;
	int clock_held; /* ts is being held after stored ticks that trusted time has not reached */
	int exit_code;
};

static int open_root(const char *path, const char *what, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err_set(e, "%s %s: %s", what, path, strerror(errno));
	return fd;
}

static int daemon_prepare(struct daemon *d, struct err *e)
{
	struct store *s = &d->store;
	d->ins_agent = store_prepare(
	    s,
	    "INSERT INTO agent(ts, dur_ms, tick_wall_us, tick_cpu_us, last_commit_us, rss_kb, "
	    "rows_count, vanished_count, permission_errors_count, read_errors_count, "
	    "parse_errors_count, commit_failures_count, clock_held_s, retention_us, "
	    "pruned_rows_count, clock_step_s, db_bytes, rw_requests_count, rw_samples_count, "
	    "rw_sent_bytes, rw_retries_count, rw_dropped_count, rw_lag_s, bpf_run_us, "
	    "bpf_runs_count) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, :bpf_run_us, :bpf_runs)",
	    e);
	d->ins_agent_collector = store_prepare(
	    s, "INSERT INTO agent_collector(ts, collector_id, cpu_us, wall_us) VALUES (?,?,?,?)",
	    e);
	if (!d->ins_agent || !d->ins_agent_collector)
		return -1;
	struct dim names;
	if (dim_init(&names, s, "collector", e))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < NCOLLECTORS && rc == 0; i++)
		if ((d->slots[i].id = dim_id(&names, d->slots[i].ops->name, e)) < 0)
			rc = -1;
	dim_free(&names);
	return rc;
}

/* A collector reads its counters' baseline when it opens, and the first
 * tick's dur_ms runs from the clock read after the last one opened. The
 * slow ones (registry.c: loading eBPF, reading the inventory and the kernel
 * log's backlog, the first scan of every process take tens of ms, more on
 * a loaded machine) open first, so no baseline is older than that clock by
 * more than the few ms the cheap ones take: /proc/stat read before the eBPF
 * load made the first tick's CPU modes add up to 9% more than its interval.
 * Each collector is handed its own options only. */
static int daemon_open_collectors(struct daemon *d, struct err *e)
{
	for (int slow = 1; slow >= 0; slow--) {
		for (size_t i = 0; i < NCOLLECTORS; i++) {
			struct collector_slot *c = &d->slots[i];
			const struct collector_entry *r = c->entry;
			const void *options =
			    r->options == NO_OPTIONS ? NULL : (const char *)&d->cfg + r->options;
			struct err inner;
			if (!r->opens_slowly != !slow)
				continue;
			if (c->ops->open(&c->state, &d->env, options, &inner))
				return err_set(e, "collector %s: %s", c->ops->name, inner.msg);
		}
	}
	return 0;
}

/* Installs the saved views and records which collector provides each. */
static int install_views(struct daemon *d, const char *views_dir, struct err *e)
{
	return store_install_views(&d->store, views_dir[0] ? views_dir : NULL, e) ||
		       store_label_views(&d->store, registry_view_collector, e)
		   ? -1
		   : 0;
}

/* The process accounting, for the collectors whose registry line has a
 * role in it. */
static int open_accounting(struct daemon *d, struct err *e)
{
	struct err inner;
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		if (d->slots[i].entry->role == ROLE_PLAIN)
			continue;
		if (acct_open(&d->acct, &d->cfg.accounting, d->env.proc_fd, d->cfg.interval_ms,
			      &inner))
			return err_set(e, "process accounting: %s", inner.msg);
		d->env.acct = d->acct;
		return 0;
	}
	return 0;
}

/* A wall clock step is taken as a correction after WALL_STEP_SETTLE_S; tests
 * shorten that through HINDSIGHT_CLOCK_SETTLE_S. */
static int64_t clock_settle_us(void)
{
	const char *v = getenv("HINDSIGHT_CLOCK_SETTLE_S");
	long long sec = v && *v ? strtoll(v, NULL, 10) : WALL_STEP_SETTLE_S;
	return (sec < 0 ? 0 : sec) * 1000000;
}

int daemon_open(struct daemon **out, const struct config *cfg, const struct daemon_options *opt,
		struct err *e)
{
	struct daemon *d = calloc(1, sizeof(*d));
	if (!d)
		return err_set(e, "out of memory");
	*out = d;
	d->cfg = *cfg;
	d->opt = *opt;
	d->env.proc_fd = d->env.sys_fd = -1;
	d->env.store = &d->store;
	d->env.own_proc = strcmp(cfg->proc_root, "/proc") == 0;
	d->files.lock_fd = -1;
	struct err bad;
	if (registry_check(collector_registry, collector_registry_len, &bad)) {
		log_error("%s", bad.msg);
		ASSERT(!"the collector registry is consistent");
	}
	if (!(d->slots = calloc(NCOLLECTORS, sizeof(*d->slots))))
		return err_set(e, "out of memory");
	/* Everything that can be checked without the database is checked
	 * before its directory, lock or file is made; what fails after that
	 * is undone by daemon_close (db_files_close). */
	if ((d->env.proc_fd = open_root(cfg->proc_root, "proc root", e)) < 0 ||
	    (d->env.sys_fd = open_root(cfg->sys_root, "sys root", e)) < 0 ||
	    db_files_open(&d->files, cfg->db, e) || store_open(&d->store, cfg->db, 0, e))
		return -1;
	db_files_share(&d->files); /* before the first migration: its -wal and -shm exist */
	if (store_migrate(&d->store, e) || tiers_open(&d->tiers, &d->store, e) ||
	    (d->tiers_open = 1, tiers_configure(&d->tiers, &cfg->retention, e)) ||
	    tiers_background_checkpoints(&d->tiers, e) || install_views(d, cfg->views_dir, e))
		return -1;
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		d->slots[i].entry = &collector_registry[i];
		d->slots[i].ops = collector_registry[i].ops;
	}
	/* before anything of this run writes a row, so the tap sees them all */
	if (cfg->metrics.listen[0] && metrics_open(&d->metrics, &cfg->metrics, &d->store, e))
		return -1;
	if (cfg->remote_write.url[0] &&
	    remote_writer_open(&d->remote, &cfg->remote_write, &d->store, cfg->db, e))
		return -1;
	if (daemon_prepare(d, e) || open_accounting(d, e) || daemon_open_collectors(d, e))
		return -1;
	/* one sample needs no room to prune in later */
	reserve_init(&d->reserve, cfg->db, opt->once ? 0 : cfg->retention.disk_reserve_bytes);
	d->files.started = 1;
	/* A restart continues after the last stored tick even if the wall clock
	 * now reads earlier, so no insert ever collides with an old row (nor
	 * lands in a minute already rolled up, should the size cap have pruned
	 * the raw agent rows). */
	d->last_ts = store_query_int(&d->store,
				     "SELECT max(coalesce((SELECT max(ts) FROM agent), 0), "
				     "coalesce((SELECT max(rolled_ts) FROM rollup_state), 0))",
				     0);
	d->interval_us = cfg->interval_ms * 1000;
	d->start_us = d->baseline_us = clock_mono_us();
	int64_t wall_us, boot_us;
	clock_read_wall_boot(&wall_us, &boot_us);
	wall_clock_init(&d->wall, wall_us, boot_us, clock_settle_us());
	clock_publish_trusted(&d->wall);
	return 0;
}

static int64_t round_s(int64_t us)
{
	return (us + (us < 0 ? -500000 : 500000)) / 1000000;
}

/* "+34560000 s (400.0 days)": a step's size for the log. */
static const char *step_text(int64_t step_us, char *out, size_t n)
{
	long long sec = (long long)round_s(step_us), mag = sec < 0 ? -sec : sec;
	if (mag >= 86400)
		snprintf(out, n, "%+lld s (%.1f days)", sec, (double)mag / 86400);
	else if (mag >= 3600)
		snprintf(out, n, "%+lld s (%.1f hours)", sec, (double)mag / 3600);
	else
		snprintf(out, n, "%+.1f s", (double)step_us / 1e6);
	return out;
}

/* Reads the wall clock against boottime at the tick, logs a step once when
 * it is seen, when it is undone and when it is accepted, keeps its size for
 * the tick's agent row, and returns the trusted time (µs) to date the tick by. */
static int64_t tick_trusted_us(struct daemon *d)
{
	int64_t wall_us, boot_us, step_us;
	char size[64];
	clock_read_wall_boot(&wall_us, &boot_us);
	switch (wall_clock_observe(&d->wall, wall_us, boot_us, &step_us)) {
	case WALL_STEPPED:
		d->step_s = round_s(step_us);
		log_warn("wall clock stepped %s by %s; ticks keep the time the boot clock carried "
			 "on, and nothing is pruned by age, until it comes back or stays %llds",
			 step_us < 0 ? "back" : "forward", step_text(step_us, size, sizeof(size)),
			 (long long)(d->wall.settle_us / 1000000));
		break;
	case WALL_BACK:
		log_info("wall clock back in step with the boot clock after a step of %s; "
			 "following it again",
			 step_text(step_us, size, sizeof(size)));
		break;
	case WALL_ACCEPTED:
		log_warn("wall clock step of %s outlasted the settle period (%llds): taken as a "
			 "correction; ticks follow the wall clock again",
			 step_text(step_us, size, sizeof(size)),
			 (long long)(d->wall.settle_us / 1000000));
		break;
	default:
		break;
	}
	clock_publish_trusted(&d->wall);
	return wall_clock_trusted_us(&d->wall, boot_us);
}

/* The tick's ts: the interval boundary it was scheduled for, or the latest
 * boundary it ran after when it ran more than an interval late. Never at or
 * before the last stored tick, so no insert collides with an older row nor
 * lands in a minute already rolled up: while trusted time is behind the
 * stored history (a backward correction accepted, or a restart on a clock
 * behind it), ts is held one second after the last tick until trusted time
 * passes it. *held_s is how far ts is ahead of trusted time. */
static int64_t tick_timestamp(struct daemon *d, int64_t trusted_us, int64_t *held_s)
{
	int64_t now_s = align_down(trusted_us, 1000000) / 1000000;
	int64_t at = align_down(now_s, d->interval_us / 1000000);
	int64_t ts = d->next_ts > at ? d->next_ts : at;
	if (ts <= d->last_ts) {
		if (!d->clock_held)
			log_warn("trusted time %lld is %llds behind the last stored tick %lld; "
				 "storing ticks just after it until time passes it (clock_held_s)",
				 (long long)now_s, (long long)(d->last_ts - now_s),
				 (long long)d->last_ts);
		d->clock_held = 1;
		ts = d->last_ts + 1;
	} else if (d->clock_held) {
		log_info("trusted time passed the last stored tick; ts is on interval boundaries "
			 "again");
		d->clock_held = 0;
	}
	*held_s = ts > now_s ? ts - now_s : 0;
	ASSERT(ts > d->last_ts); /* time only moves forward in the database */
	return ts;
}

/* The kernel time of the eBPF programs, NULL when it was not measured. */
static void bind_kernel_cost(sqlite3_stmt *st, const struct tick *t)
{
	int us = sqlite3_bind_parameter_index(st, ":bpf_run_us");
	int runs = sqlite3_bind_parameter_index(st, ":bpf_runs");
	ASSERT(us > 0 && runs > 0);
	if (t->kernel_run_ns < 0) {
		sqlite3_bind_null(st, us);
		sqlite3_bind_null(st, runs);
		return;
	}
	sqlite3_bind_int64(st, us, (t->kernel_run_ns + 500) / 1000);
	sqlite3_bind_int64(st, runs, t->kernel_runs);
}

static int write_agent_rows(struct daemon *d, struct tick *t, int64_t held_s, int64_t wall_us,
			    int64_t cpu_us, struct err *e)
{
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		struct collector_slot *c = &d->slots[i];
		int64_t v[] = {t->ts, c->id, c->cpu_us, c->wall_us};
		bind_int64s(d->ins_agent_collector, 1, v, 4);
		if (store_exec_stmt(&d->store, d->ins_agent_collector, e))
			return -1;
		t->rows++;
	}
	t->rows++; /* the agent row itself */
	struct remote_write_stats rw = {0};
	if (d->remote)
		remote_writer_take_stats(d->remote, &rw);
	int64_t v[] = {t->ts,
		       t->dur_ms,
		       wall_us,
		       cpu_us,
		       d->last_commit_us,
		       self_rss_kb(),
		       (int64_t)t->rows,
		       (int64_t)t->errors->vanished,
		       (int64_t)t->errors->permission,
		       (int64_t)t->errors->read,
		       (int64_t)t->errors->parse,
		       (int64_t)d->commit_failures,
		       held_s,
		       d->tiers.stats.work_us,
		       d->tiers.stats.removed_rows,
		       d->step_s,
		       tiers_file_bytes(&d->tiers),
		       (int64_t)rw.requests,
		       (int64_t)rw.samples,
		       (int64_t)rw.bytes,
		       (int64_t)rw.retries,
		       (int64_t)rw.dropped_samples,
		       rw.lag_s};
	bind_int64s(d->ins_agent, 1, v, (int)ARRAY_LEN(v));
	bind_kernel_cost(d->ins_agent, t);
	return store_exec_stmt(&d->store, d->ins_agent, e);
}

static int run_collectors(struct daemon *d, struct tick *t, struct err *e)
{
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		struct collector_slot *c = &d->slots[i];
		int64_t cpu0 = clock_thread_cpu_us(), wall0 = clock_mono_us();
		int rc = c->ops->sample(c->state, t, e);
		c->cpu_us = clock_thread_cpu_us() - cpu0;
		c->wall_us = clock_mono_us() - wall0;
		if (rc)
			return -1;
	}
	return 0;
}

/* The disk filled: give back the reserve so SQLite has room to delete in,
 * and prune the oldest rows already rolled up to keep room in the file. */
static void disk_full_begin(struct daemon *d)
{
	int64_t room = d->reserve.bytes;
	d->disk_full = 1;
	int64_t freed = reserve_release(&d->reserve);
	tiers_disk_full(&d->tiers, room > (1 << 20) ? room : (1 << 20));
	log_warn("disk full: %s; pruning the oldest rows already rolled up to keep "
		 "room for new ticks",
		 freed ? "released the disk reserve" : "no disk reserve to release");
	struct timeval now = {0, 0};
	if (d->retention_ev)
		evtimer_add(d->retention_ev, &now);
}

/* Checked after each stored tick while the disk was full: once it has room
 * for the reserve twice over, the reserve is taken again. */
static void disk_full_check(struct daemon *d)
{
	int64_t room = d->reserve.bytes;
	int back = room > 0 ? reserve_restore(&d->reserve)
			    : reserve_fs_available(&d->reserve) >= 2 * (1 << 20);
	if (!back)
		return;
	d->disk_full = 0;
	tiers_disk_full(&d->tiers, 0);
	log_info("the disk has room again%s", room > 0 ? "; disk reserve taken back" : "");
}

/* A failed tick is logged once per run of failures (and once per full
 * disk); the baseline stays, so the next successful tick's deltas cover the
 * whole gap. */
static void tick_failed(struct daemon *d, const char *what, const char *why, int code)
{
	d->commit_failures++;
	if (!d->failing && !d->disk_full)
		log_error("tick not stored (%s): %s; retrying every tick", what, why);
	d->failing = 1;
	if (store_errcode_full(code) && !d->disk_full)
		disk_full_begin(d);
}

/* The tick's rows were rolled back: /metrics never shows them. */
static void tick_discarded(struct daemon *d)
{
	if (d->metrics)
		metrics_discard(d->metrics);
}

static void tick_stored(struct daemon *d, struct tick *t, int64_t now_us)
{
	for (size_t i = 0; i < NCOLLECTORS; i++)
		if (d->slots[i].ops->commit)
			d->slots[i].ops->commit(d->slots[i].state);
	if (d->failing)
		log_info("ticks stored again after %llu failures",
			 (unsigned long long)d->commit_failures);
	d->failing = 0;
	d->commit_failures = 0;
	if (d->disk_full)
		disk_full_check(d);
	d->last_ts = t->ts;
	d->baseline_us = now_us;
	d->step_s = 0;
	memset(&d->tiers.stats, 0, sizeof(d->tiers.stats)); /* stored in this tick's agent row */
}

static void on_collector_fd(evutil_socket_t fd, short what, void *arg)
{
	struct collector_slot *c = arg;
	c->ops->on_readable(c->state);
}

/* Collectors fed by a descriptor get a persistent read event in the loop. */
static void watch_collector_fds(struct daemon *d)
{
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		struct collector_slot *c = &d->slots[i];
		int fd = c->ops->event_fd && c->ops->on_readable ? c->ops->event_fd(c->state) : -1;
		if (fd < 0)
			continue;
		c->fd_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_collector_fd, c);
		event_add(c->fd_ev, NULL);
	}
}

static void daemon_tick(struct daemon *d)
{
	int64_t now_us = clock_mono_us();
	int64_t cpu0 = clock_process_cpu_us();
	int64_t held_s;
	int64_t ts = tick_timestamp(d, tick_trusted_us(d), &held_s);
	struct tick_errors errors = {0};
	struct tick t = {
	    .ts = ts,
	    .dur_ms = (now_us - d->baseline_us + 500) / 1000,
	    .store = &d->store,
	    .errors = &errors,
	    .kernel_run_ns = -1,
	    .kernel_runs = -1,
	};
	struct err e;
	if (store_begin(&d->store, &e)) {
		tick_discarded(d);
		tick_failed(d, "begin", e.msg, d->store.last_errcode);
		return;
	}
	if (run_collectors(d, &t, &e) || write_agent_rows(d, &t, held_s, clock_mono_us() - now_us,
							  clock_process_cpu_us() - cpu0, &e)) {
		int code = sqlite3_extended_errcode(d->store.db);
		store_rollback(&d->store);
		tick_discarded(d);
		tick_failed(d, "write", e.msg, code);
		return;
	}
	int64_t commit0 = clock_mono_us();
	if (store_commit(&d->store, &e)) {
		tick_discarded(d);
		tick_failed(d, "commit", e.msg, d->store.last_errcode);
		return;
	}
	d->last_commit_us = clock_mono_us() - commit0;
	if (d->metrics)
		metrics_commit(d->metrics);
	if (d->remote)
		remote_writer_committed(d->remote, t.ts);
	tick_stored(d, &t, now_us);
	log_debug("tick ts=%lld dur_ms=%lld rows=%llu", (long long)t.ts, (long long)t.dur_ms,
		  (unsigned long long)t.rows);
}

static void arm_tick(struct daemon *d, int64_t delay_us)
{
	struct timeval tv = {0, 0};
	if (delay_us > 0) {
		tv.tv_sec = (time_t)(delay_us / 1000000);
		tv.tv_usec = (suseconds_t)(delay_us % 1000000);
	}
	/* Inside a callback libevent adds the delay to the time it woke up at,
	 * before the tick ran; without a fresh time the timer fires early by the
	 * tick's length. */
	if (d->base)
		event_base_update_cache_time(d->base);
	evtimer_add(d->tick_ev, &tv);
}

/* Ticks fall on the boundaries of the interval on the trusted wall clock (as
 * sar's do), so ts is the true end of each interval and jitter never puts two
 * ticks in one second: the next tick is for the first boundary after now, a
 * first tick for the first at least half an interval after the baselines (so
 * its interval is not a sliver). The boundary is timed as a delay on the
 * boot clock, which a stepped wall clock does not move. When trusted time
 * is only a little behind the last stored tick (the wall clock stepped back
 * by less than the tolerance and was followed), the tick waits for the first
 * boundary after that tick rather than hold ts off the boundaries. */
static void schedule_next(struct daemon *d)
{
	int64_t boot = clock_boot_us();
	int64_t now = wall_clock_trusted_us(&d->wall, boot);
	int64_t iv = d->interval_us;
	int64_t next = d->next_ts ? align_down(now, iv) + iv : align_up(now + iv / 2, iv);
	int64_t after_last = align_down(d->last_ts * 1000000, iv) + iv;
	if (next < after_last && after_last - now <= iv + WALL_STEP_TOLERANCE_US)
		next = after_last;
	d->next_ts = next / 1000000;
	d->next_boot_us = next - d->wall.offset_us;
	arm_tick(d, d->next_boot_us - boot);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	/* never sample before the boundary the tick is for */
	int64_t early_us = d->next_boot_us - clock_boot_us();
	if (early_us > 0) {
		arm_tick(d, early_us);
		return;
	}
	int64_t began_us = clock_mono_us();
	daemon_tick(d);
	/* the first tick can come after the retention timer's first run (it
	 * waits for a boundary): roll up right after it too */
	if (!d->ticked) {
		struct timeval soon = {0, 20000};
		d->ticked = 1;
		evtimer_add(d->retention_ev, &soon);
	}
	/* --duration ends with the tick on the boundary nearest to it */
	if (d->opt.once ||
	    (d->cfg.duration_ms &&
	     began_us - d->start_us >= d->cfg.duration_ms * 1000 - d->interval_us / 2)) {
		event_base_loopbreak(d->base);
		return;
	}
	schedule_next(d);
}

/* Rolling up and pruning, a few milliseconds at a time between ticks: soon
 * again while work is left, else every 5 s (an idle pass costs about 1 ms). */
static void on_retention(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct err e;
	int more = 0;
	int64_t boot = clock_boot_us();
	tiers_age_clock(&d->tiers,
			align_down(wall_clock_trusted_us(&d->wall, boot), 1000000) / 1000000,
			!wall_clock_settled(&d->wall, boot));
	if (tiers_run(&d->tiers, &d->cfg.retention, d->last_ts, 3000, &more, &e)) {
		if (!d->retention_failing)
			log_error("retention: %s; retrying", e.msg);
		d->retention_failing = 1;
	} else {
		d->retention_failing = 0;
	}
	struct timeval tv = {more ? 0 : 5, more ? 20000 : 0};
	evtimer_add(d->retention_ev, &tv);
}

static void apply_reload(struct daemon *d, const struct config *next)
{
	if (strcmp(next->db, d->cfg.db) || strcmp(next->proc_root, d->cfg.proc_root) ||
	    strcmp(next->sys_root, d->cfg.sys_root))
		log_warn("db, proc_root and sys_root changes take effect after a restart");
	if (memcmp(&next->bpf, &d->cfg.bpf, sizeof(next->bpf)))
		log_warn("bpf changes take effect after a restart");
	if (strcmp(next->metrics.listen, d->cfg.metrics.listen))
		log_warn("metrics changes take effect after a restart");
	if (memcmp(&next->remote_write, &d->cfg.remote_write, sizeof(next->remote_write)))
		log_warn("remote_write changes take effect after a restart");
	if (next->accounting.rules_file[0] || d->cfg.accounting.rules_file[0])
		log_warn("process group rules and settings take effect after a restart");
	log_set_level(next->log_level);
	if (strcmp(next->views_dir, d->cfg.views_dir)) {
		struct err e;
		if (install_views(d, next->views_dir, &e))
			log_error("reload: %s", e.msg);
	}
	snprintf(d->cfg.views_dir, sizeof(d->cfg.views_dir), "%s", next->views_dir);
	d->cfg.log_level = next->log_level;
	if (next->interval_ms != d->cfg.interval_ms) {
		d->cfg.interval_ms = next->interval_ms;
		d->interval_us = next->interval_ms * 1000;
		schedule_next(d);
	}
	d->cfg.retention = next->retention;
	struct err re;
	if (tiers_configure(&d->tiers, &d->cfg.retention, &re))
		log_error("reload: retention: %s", re.msg);
	log_info("configuration reloaded");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (sig == SIGHUP) {
		struct config next;
		struct err e;
		if (!d->opt.reload) {
			log_info("SIGHUP: no configuration to reload");
			return;
		}
		if (d->opt.reload(&next, d->opt.reload_arg, &e) || config_validate(&next, &e)) {
			log_error("reload failed, keeping the running configuration: %s", e.msg);
			return;
		}
		apply_reload(d, &next);
		return;
	}
	log_info("%s: stopping after the current tick", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(d->base);
}

int daemon_run(struct daemon *d)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	/* libevent's default clock is CLOCK_MONOTONIC_COARSE, which lags the
	 * precise clock the ticks' boundaries are timed with by up to a jiffy:
	 * timers would fire a few ms early, each then re-armed for the rest.
	 * The precise timer keeps both on one clock. */
	struct event_config *ecfg = event_config_new();
	if (ecfg)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	d->base = ecfg ? event_base_new_with_config(ecfg) : NULL;
	if (ecfg)
		event_config_free(ecfg);
	if (!d->base) {
		log_error("cannot create the event loop");
		return 1;
	}
	d->tick_ev = evtimer_new(d->base, on_tick, d);
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++) {
		d->sig_ev[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		event_add(d->sig_ev[i], NULL);
	}
	watch_collector_fds(d);
	struct err e;
	if ((d->metrics && metrics_start(d->metrics, d->base, &e)) ||
	    (d->remote && remote_writer_start(d->remote, &e))) {
		log_error("%s", e.msg);
		return 1;
	}
	d->retention_ev = evtimer_new(d->base, on_retention, d);
	struct timeval first = {1, 0};
	evtimer_add(d->retention_ev, &first);
	log_info("sampling every %llds, on the wall clock's boundaries, into %s",
		 (long long)(d->cfg.interval_ms / 1000), d->cfg.db);
	schedule_next(d);
	event_base_dispatch(d->base);
	return d->exit_code;
}

void daemon_close(struct daemon *d)
{
	if (!d)
		return;
	for (size_t i = 0; d->slots && i < NCOLLECTORS; i++) {
		if (d->slots[i].fd_ev)
			event_free(d->slots[i].fd_ev);
		if (d->slots[i].ops && d->slots[i].state)
			d->slots[i].ops->close(d->slots[i].state);
	}
	free(d->slots);
	acct_close(d->acct);
	metrics_close(d->metrics);
	remote_writer_close(d->remote);
	for (size_t i = 0; i < ARRAY_LEN(d->sig_ev); i++)
		if (d->sig_ev[i])
			event_free(d->sig_ev[i]);
	if (d->tick_ev)
		event_free(d->tick_ev);
	if (d->retention_ev)
		event_free(d->retention_ev);
	if (d->tiers_open)
		tiers_close(&d->tiers);
	if (d->base)
		event_base_free(d->base);
	store_close(&d->store);
	db_files_close(&d->files);
	if (d->env.proc_fd >= 0)
		close(d->env.proc_fd);
	if (d->env.sys_fd >= 0)
		close(d->env.sys_fd);
	free(d);
}
