/* /proc/stat: CPU time by mode per CPU, context switches, interrupts, forks,
 * runnable and blocked tasks, boot time. Tables: cpu, kernel_activity, boot. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/stat.h"

static int parse_cpu_line(const char *p, struct cpu_times *c, int line, struct err *e)
{
	int n = 0;
	memset(c->ticks, 0, sizeof(c->ticks));
	while (n < CPU_MODES) {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '\n' || *q == '\0')
			break;
		if (scan_field_u64(&p, &c->ticks[n])) {
			char tok[32];
			return err_set(e, "/proc/stat line %d: bad number '%s' in cpu line", line,
				       token_preview(p, tok, sizeof(tok)));
		}
		n++;
	}
	if (n < 4)
		return err_set(e, "/proc/stat line %d: cpu line has %d values, expected at least 4",
			       line, n);
	return 0;
}

static int push_cpu(struct proc_stat *s, const struct cpu_times *c)
{
	if (s->ncpus == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct cpu_times *p = realloc(s->cpus, cap * sizeof(*p));
		if (!p)
			return -1;
		s->cpus = p;
		s->cap = cap;
	}
	s->cpus[s->ncpus++] = *c;
	return 0;
}

/* A "key value" line; the value is the first number after the key. */
static int parse_scalar(const char *p, uint64_t *out, const char *key, int line, struct err *e)
{
	if (scan_field_u64(&p, out)) {
		char tok[32];
		return err_set(e, "/proc/stat line %d: bad value '%s' for %s", line,
			       token_preview(p, tok, sizeof(tok)), key);
	}
	return 0;
}

int proc_stat_parse(const char *text, struct proc_stat *s, struct err *e)
{
	if (check_complete(text, "/proc/stat", e))
		return -1;
	static const struct {
		const char *key;
		size_t off;
	} scalars[] = {
	    {"ctxt", offsetof(struct proc_stat, ctxt)},
	    {"intr", offsetof(struct proc_stat, intr)},
	    {"processes", offsetof(struct proc_stat, processes)},
	    {"procs_running", offsetof(struct proc_stat, procs_running)},
	    {"procs_blocked", offsetof(struct proc_stat, procs_blocked)},
	    {"btime", offsetof(struct proc_stat, btime)},
	};
	int have_total = 0;
	s->ncpus = 0;
	s->ctxt = s->intr = s->processes = s->procs_running = s->procs_blocked = s->btime = 0;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		char key[32];
		const char *rest = p;
		scan_token(&rest, key, sizeof(key));
		if (strcmp(key, "cpu") == 0) {
			s->total.id = -1;
			if (parse_cpu_line(rest, &s->total, line, e))
				return -1;
			have_total = 1;
		} else if (strncmp(key, "cpu", 3) == 0 && key[3] >= '0' && key[3] <= '9') {
			struct cpu_times c;
			char *end;
			long id = strtol(key + 3, &end, 10);
			if (*end || id < 0 || id > 1 << 20)
				return err_set(e, "/proc/stat line %d: bad cpu name '%s'", line,
					       key);
			c.id = (int)id;
			if (parse_cpu_line(rest, &c, line, e))
				return -1;
			if (push_cpu(s, &c))
				return err_set(e, "out of memory");
		} else {
			for (size_t i = 0; i < ARRAY_LEN(scalars); i++)
				if (strcmp(key, scalars[i].key) == 0 &&
				    parse_scalar(rest, (uint64_t *)((char *)s + scalars[i].off),
						 key, line, e))
					return -1;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	if (!have_total)
		return err_set(e,
			       "/proc/stat: no 'cpu' summary line (truncated or not /proc/stat)");
	return 0;
}

void proc_stat_free(struct proc_stat *s)
{
	free(s->cpus);
	s->cpus = NULL;
	s->ncpus = s->cap = 0;
}

void cpu_times_delta_ms(const struct cpu_times *prev, const struct cpu_times *cur, long hz,
			uint64_t out_ms[CPU_MODES])
{
	for (int m = 0; m < CPU_MODES; m++) {
		uint64_t d = cur->ticks[m] >= prev->ticks[m] ? cur->ticks[m] - prev->ticks[m] : 0;
		out_ms[m] = ticks_to_ms(d, hz);
	}
}

/* ---- collector ---- */

struct stat_state {
	int proc_fd;
	struct buf buf;
	struct proc_stat snap[2];
	int cur;	  /* index of the snapshot being filled this tick */
	int have;	  /* a baseline exists */
	int filled;	  /* this tick's snapshot was read */
	char boot_id[64]; /* the kernel's boot id, "" when it has none */
	int boot_stored;  /* this boot's row is committed */
	int boot_written; /* ... or written in this tick */
	sqlite3_stmt *ins_cpu, *ins_activity, *ins_boot;
};

static int stat_read(struct stat_state *s, struct proc_stat *out, struct tick_errors *te,
		     struct err *e)
{
	int rc = buf_read_file(&s->buf, s->proc_fd, "stat", SOURCE_MAX_TABLE);
	if (rc < 0) {
		if (te)
			tick_errors_count_read(te, rc);
		return err_set(e, "/proc/stat: %s", strerror(-rc));
	}
	if (proc_stat_parse(s->buf.data, out, e)) {
		if (te)
			te->parse++;
		return -1;
	}
	return 0;
}

/* The boot id, or "" when the kernel (or a fixture tree) has none. */
static void read_boot_id(struct stat_state *s)
{
	s->boot_id[0] = '\0';
	if (buf_read_file(&s->buf, s->proc_fd, "sys/kernel/random/boot_id", SOURCE_MAX_ATTR) < 0)
		return;
	const char *p = s->buf.data;
	scan_token(&p, s->boot_id, sizeof(s->boot_id));
}

/* Whether an earlier run in this boot stored its row already. */
static int boot_id_stored(struct store *st, const char *boot_id)
{
	sqlite3_stmt *q;
	int found = 0;
	if (!boot_id[0] ||
	    sqlite3_prepare_v2(st->db, "SELECT 1 FROM boot WHERE boot_id = ?1", -1, &q, NULL))
		return 0;
	sqlite3_bind_text(q, 1, boot_id, -1, SQLITE_STATIC);
	found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return found;
}

static int stat_open(void **state, const struct collector_env *env, const void *options,
		     struct err *e)
{
	struct store *st = env->store;
	struct stat_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	if (!(s->ins_cpu =
		  store_prepare(st,
				"INSERT INTO cpu(ts, cpu_id, dur_ms, user_ms, nice_ms, "
				"system_ms, idle_ms, iowait_ms, irq_ms, softirq_ms, steal_ms, "
				"guest_ms, guest_nice_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
				e)) ||
	    !(s->ins_activity = store_prepare(
		  st,
		  "INSERT INTO kernel_activity(ts, dur_ms, context_switches_count, "
		  "interrupts_count, forks_count, procs_running_count, procs_blocked_count) "
		  "VALUES (?,?,?,?,?,?,?)",
		  e)) ||
	    !(s->ins_boot =
		  store_prepare(st,
				"INSERT INTO boot(boot_ts, first_seen_ts, boot_id) VALUES (?,?,?) "
				"ON CONFLICT(boot_ts) DO UPDATE SET boot_id = coalesce(boot_id, "
				"excluded.boot_id)",
				e)))
		return -1;
	read_boot_id(s);
	s->boot_stored = boot_id_stored(st, s->boot_id);
	struct err ignored;
	s->have = stat_read(s, &s->snap[0], NULL, &ignored) == 0;
	s->cur = 1;
	return 0;
}

static const struct cpu_times *find_cpu(const struct proc_stat *p, int id)
{
	for (size_t i = 0; i < p->ncpus; i++)
		if (p->cpus[i].id == id)
			return &p->cpus[i];
	return NULL;
}

static int write_cpu_row(struct stat_state *s, struct tick *t, const struct cpu_times *prev,
			 const struct cpu_times *cur, struct err *e)
{
	uint64_t ms[CPU_MODES];
	cpu_times_delta_ms(prev, cur, clock_ticks_per_s(), ms);
	sqlite3_bind_int64(s->ins_cpu, 1, t->ts);
	sqlite3_bind_int(s->ins_cpu, 2, cur->id);
	sqlite3_bind_int64(s->ins_cpu, 3, t->dur_ms);
	bind_u64s(s->ins_cpu, 4, ms, CPU_MODES);
	t->rows++;
	return store_exec_stmt(t->store, s->ins_cpu, e);
}

/* One row per boot: btime follows the wall clock, so within a run a new
 * btime is a clock step, and across runs the boot id tells a restart from a
 * reboot. Without a boot id a run records its boot once, by btime. */
static int write_boot(struct stat_state *s, struct tick *t, uint64_t btime, struct err *e)
{
	sqlite3_bind_int64(s->ins_boot, 1, (int64_t)btime);
	sqlite3_bind_int64(s->ins_boot, 2, t->ts);
	if (s->boot_id[0])
		sqlite3_bind_text(s->ins_boot, 3, s->boot_id, -1, SQLITE_STATIC);
	s->boot_written = 1;
	return store_exec_stmt(t->store, s->ins_boot, e);
}

static int stat_sample(void *state, struct tick *t, struct err *e)
{
	struct stat_state *s = state;
	struct proc_stat *cur = &s->snap[s->cur], *prev = &s->snap[!s->cur];
	struct err rerr;
	s->filled = stat_read(s, cur, t->errors, &rerr) == 0;
	if (!s->filled)
		log_debug("%s", rerr.msg);
	if (!s->filled || !s->have)
		return 0;
	if (write_cpu_row(s, t, &prev->total, &cur->total, e))
		return -1;
	for (size_t i = 0; i < cur->ncpus; i++) {
		/* A CPU that just came online has no baseline yet: it starts next tick. */
		const struct cpu_times *p = find_cpu(prev, cur->cpus[i].id);
		if (p && write_cpu_row(s, t, p, &cur->cpus[i], e))
			return -1;
	}
	uint64_t v[] = {counter_delta(prev->ctxt, cur->ctxt), counter_delta(prev->intr, cur->intr),
			counter_delta(prev->processes, cur->processes), cur->procs_running,
			cur->procs_blocked};
	sqlite3_bind_int64(s->ins_activity, 1, t->ts);
	sqlite3_bind_int64(s->ins_activity, 2, t->dur_ms);
	bind_u64s(s->ins_activity, 3, v, (int)ARRAY_LEN(v));
	t->rows++;
	if (store_exec_stmt(t->store, s->ins_activity, e))
		return -1;
	return s->boot_stored ? 0 : write_boot(s, t, cur->btime, e);
}

static void stat_commit(void *state)
{
	struct stat_state *s = state;
	if (!s->filled)
		return;
	if (s->boot_written)
		s->boot_stored = 1;
	s->have = 1;
	s->cur = !s->cur;
}

static void stat_close(void *state)
{
	struct stat_state *s = state;
	if (!s)
		return;
	proc_stat_free(&s->snap[0]);
	proc_stat_free(&s->snap[1]);
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_cpu = {
    .name = "stat",
    .open = stat_open,
    .sample = stat_sample,
    .commit = stat_commit,
    .close = stat_close,
};
