/* The kernel log, /dev/kmsg: read non-blocking whenever the loop sees it
 * readable, buffered, and written in the next tick's transaction. Resumes
 * after the last stored record of this boot, so a restart stores nothing
 * twice; records the kernel overwrote before we read them are counted as
 * lost from the gaps in their sequence numbers. Tables: kmsg_boot, kmsg,
 * kmsg_resume, kmsg_loss (the view is kernel_log). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/kmsg.h"

const char *kmsg_path = "/dev/kmsg";

static int parse_header_u64(const char **p, const char *end, uint64_t *out, char stop)
{
	uint64_t v = 0;
	const char *s = *p;
	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (s >= end || *s != stop)
		return -1;
	*out = v;
	*p = s + 1;
	return 0;
}

int kmsg_parse(const char *text, size_t len, struct kmsg_record *out, struct err *e)
{
	const char *end = text + len, *p = text;
	const char *semi = memchr(text, ';', len);
	const char *nl = memchr(text, '\n', len);
	if (!nl)
		return err_set(e, "kmsg record: truncated (no newline)");
	if (!semi || semi > nl)
		return err_set(e, "kmsg record '%.40s': no ';' after the header", text);
	uint64_t prio, seq, usec;
	if (parse_header_u64(&p, semi, &prio, ',') || parse_header_u64(&p, semi, &seq, ',') ||
	    parse_header_u64(&p, semi, &usec, ',') || prio > 1023)
		return err_set(e, "kmsg record '%.*s': bad header (expected prio,seq,usec,flags)",
			       (int)(semi - text < 40 ? semi - text : 40), text);
	if (p >= semi)
		return err_set(e, "kmsg record '%.*s': no flags field", (int)(semi - text), text);
	out->level = (int)(prio & 7);
	out->facility = (int)(prio >> 3);
	out->seq = seq;
	out->mono_us = usec;
	out->cont = *p;
	out->msg = semi + 1;
	out->msg_len = (size_t)(nl - semi - 1);
	/* Dictionary lines start with a space and run to the next record. */
	const char *d = nl + 1, *q = d;
	while (q < end && *q == ' ') {
		const char *l = memchr(q, '\n', (size_t)(end - q));
		if (!l)
			return err_set(e, "kmsg record %llu: truncated dictionary line",
				       (unsigned long long)seq);
		q = l + 1;
	}
	out->dict = q > d ? d + 1 : NULL;
	out->dict_len = q > d ? (size_t)(q - d - 2) : 0;
	out->len = (size_t)(q - text);
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

size_t kmsg_unescape(const char *msg, size_t len, char *out, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < len && w + 1 < n; i++) {
		if (msg[i] == '\\' && i + 3 < len && msg[i + 1] == 'x' && hexval(msg[i + 2]) >= 0 &&
		    hexval(msg[i + 3]) >= 0) {
			out[w++] = (char)(hexval(msg[i + 2]) * 16 + hexval(msg[i + 3]));
			i += 3;
		} else {
			out[w++] = msg[i];
		}
	}
	out[w] = '\0';
	return w;
}

/* ---- collector ---- */

/* The buffer between reads and the next tick: bounded, so a flood of kernel
 * messages while the database is slow cannot grow the daemon. What does not
 * fit is counted as dropped. 1 MiB holds a whole default kernel log. */
#define ARENA_BYTES (1 << 20)
#define MAX_RECORDS 8192
#define READ_BYTES  16384 /* above the kernel's 8 KiB record limit */

struct pending {
	uint64_t seq, mono_us;
	int level, facility;
	size_t msg_off, msg_len, dict_off, dict_len; /* unescaped, in the arena */
};

struct kmsg_state {
	int fd;
	char boot_id[40];
	int64_t boot_dim;
	uint64_t resume_seq; /* last seq stored for this boot (0 with have_resume unset) */
	int have_resume;
	uint64_t last_seq_seen; /* for gaps: the last record read */
	int seen_any;
	struct pending *recs;
	size_t nrecs;
	char *arena;
	size_t arena_used;
	uint64_t lost, dropped; /* since the last committed tick */
	size_t written_recs;	/* records written by sample, cleared on commit */
	uint64_t written_lost, written_dropped;
	char readbuf[READ_BYTES + 1];
	struct dim boots;
	sqlite3_stmt *ins, *ins_loss, *upd_resume;
};

static void kmsg_buffer(struct kmsg_state *s, const struct kmsg_record *r)
{
	if (s->have_resume && r->seq <= s->resume_seq)
		return; /* stored before a restart */
	if (s->seen_any && r->seq > s->last_seq_seen + 1)
		s->lost += r->seq - s->last_seq_seen - 1;
	else if (!s->seen_any && s->have_resume && r->seq > s->resume_seq + 1)
		s->lost += r->seq - s->resume_seq - 1; /* overwritten while we were down */
	s->last_seq_seen = r->seq;
	s->seen_any = 1;
	size_t need = r->msg_len + r->dict_len + 2;
	if (s->nrecs == MAX_RECORDS || s->arena_used + need > ARENA_BYTES) {
		s->dropped++;
		return;
	}
	struct pending *p = &s->recs[s->nrecs++];
	p->seq = r->seq;
	p->mono_us = r->mono_us;
	p->level = r->level;
	p->facility = r->facility;
	p->msg_off = s->arena_used;
	p->msg_len = kmsg_unescape(r->msg, r->msg_len, s->arena + s->arena_used,
				   ARENA_BYTES - s->arena_used);
	s->arena_used += p->msg_len + 1;
	p->dict_off = s->arena_used;
	p->dict_len = 0;
	if (r->dict) {
		/* Dictionary lines are " KEY=value"; keep them as KEY=value lines. */
		char *w = s->arena + s->arena_used;
		for (size_t i = 0; i < r->dict_len; i++) {
			w[p->dict_len++] = r->dict[i];
			if (r->dict[i] == '\n' && i + 1 < r->dict_len && r->dict[i + 1] == ' ')
				i++;
		}
		w[p->dict_len] = '\0';
		s->arena_used += p->dict_len + 1;
	}
}

/* Reads every record available now. EAGAIN ends it; EPIPE means the kernel
 * overwrote records we had not read yet: the next read continues at the
 * oldest one left, and the gap in sequence numbers counts the loss. */
static void kmsg_drain(struct kmsg_state *s)
{
	if (s->fd < 0)
		return;
	for (;;) {
		ssize_t n = read(s->fd, s->readbuf, READ_BYTES);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return; /* EAGAIN, or the end of a plain file */
		s->readbuf[n] = '\0';
		size_t off = 0;
		while (off < (size_t)n) {
			struct kmsg_record r;
			struct err e;
			if (kmsg_parse(s->readbuf + off, (size_t)n - off, &r, &e)) {
				log_debug("%s: %s", kmsg_path, e.msg);
				break;
			}
			kmsg_buffer(s, &r);
			off += r.len;
		}
	}
}

static int read_boot_id(int proc_fd, char *out, size_t n)
{
	struct buf b = {0};
	int rc = buf_read_file(&b, proc_fd, "sys/kernel/random/boot_id", SOURCE_MAX_SMALL);
	if (rc == 0) {
		const char *p = b.data;
		scan_token(&p, out, n);
	}
	buf_free(&b);
	return rc == 0 && out[0] ? 0 : -1;
}

static int kmsg_open(void **state, const struct collector_env *env, const void *options,
		     struct err *e)
{
	struct store *st = env->store;
	struct kmsg_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->fd = -1;
	if (read_boot_id(env->proc_fd, s->boot_id, sizeof(s->boot_id))) {
		log_info("kmsg: no boot id in /proc/sys/kernel/random/boot_id; kernel log not "
			 "collected");
		return 0;
	}
	if (dim_init(&s->boots, st, "kmsg_boot", e))
		return -1;
	if ((s->boot_dim = dim_id(&s->boots, s->boot_id, e)) < 0)
		return -1;
	s->ins = store_prepare(st,
			       "INSERT INTO kmsg(ts, boot_id, seq, time_us, priority, facility, "
			       "message, dict) VALUES (?,?,?,?,?,?,?,?)",
			       e);
	s->ins_loss = store_prepare(
	    st, "INSERT INTO kmsg_loss(ts, lost_count, dropped_count) VALUES (?,?,?)", e);
	s->upd_resume = store_prepare(
	    st, "INSERT OR REPLACE INTO kmsg_resume(boot_id, last_seq) VALUES (?,?)", e);
	if (!s->ins || !s->ins_loss || !s->upd_resume)
		return -1;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT last_seq FROM kmsg_resume WHERE boot_id=%lld",
		 (long long)s->boot_dim);
	int64_t last = store_query_int(st, sql, -1);
	s->have_resume = last >= 0;
	s->resume_seq = last >= 0 ? (uint64_t)last : 0;
	s->recs = calloc(MAX_RECORDS, sizeof(*s->recs));
	s->arena = malloc(ARENA_BYTES);
	if (!s->recs || !s->arena)
		return err_set(e, "out of memory");
	s->fd = open(kmsg_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0)
		log_info("kmsg: %s: %s; kernel log not collected", kmsg_path, strerror(errno));
	return 0;
}

static int kmsg_event_fd(void *state)
{
	struct kmsg_state *s = state;
	return s->fd;
}

static void kmsg_on_readable(void *state)
{
	kmsg_drain(state);
}

/* The record's kernel time as wall-clock microseconds: printk stamps with a
 * clock that, like CLOCK_MONOTONIC, stops during suspend. The wall clock is
 * the daemon's trusted one, so a record is not dated by a stepped clock. */
static int64_t wall_us_of(uint64_t mono_us)
{
	int64_t off = clock_wall_minus_boot_us() + clock_boot_us() - clock_mono_us();
	return off + (int64_t)mono_us;
}

static int kmsg_sample(void *state, struct tick *t, struct err *e)
{
	struct kmsg_state *s = state;
	if (s->fd < 0)
		return 0;
	kmsg_drain(s); /* what arrived since the last event, and the startup backlog */
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct pending *p = &s->recs[i];
		int64_t us = wall_us_of(p->mono_us);
		sqlite3_stmt *st = s->ins;
		sqlite3_bind_int64(st, 1, us / 1000000);
		sqlite3_bind_int64(st, 2, s->boot_dim);
		sqlite3_bind_int64(st, 3, (int64_t)p->seq);
		sqlite3_bind_int64(st, 4, us);
		sqlite3_bind_int(st, 5, p->level);
		sqlite3_bind_int(st, 6, p->facility);
		sqlite3_bind_text(st, 7, s->arena + p->msg_off, (int)p->msg_len, SQLITE_STATIC);
		if (p->dict_len)
			sqlite3_bind_text(st, 8, s->arena + p->dict_off, (int)p->dict_len,
					  SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 8);
		t->rows++;
		if (store_exec_stmt(t->store, st, e))
			return -1;
	}
	if (s->nrecs) {
		sqlite3_bind_int64(s->upd_resume, 1, s->boot_dim);
		sqlite3_bind_int64(s->upd_resume, 2, (int64_t)s->recs[s->nrecs - 1].seq);
		if (store_exec_stmt(t->store, s->upd_resume, e))
			return -1;
	}
	if (s->lost || s->dropped) {
		uint64_t v[] = {s->lost, s->dropped};
		sqlite3_bind_int64(s->ins_loss, 1, t->ts);
		bind_u64s(s->ins_loss, 2, v, 2);
		t->rows++;
		if (store_exec_stmt(t->store, s->ins_loss, e))
			return -1;
	}
	s->written_recs = s->nrecs;
	s->written_lost = s->lost;
	s->written_dropped = s->dropped;
	return 0;
}

/* Written records leave the buffer only once their tick committed: after a
 * rolled-back tick the next one writes them again. (Nothing is read between
 * sample and commit: the loop runs both in one callback.) */
static void kmsg_commit(void *state)
{
	struct kmsg_state *s = state;
	if (s->fd < 0)
		return;
	if (s->written_recs) {
		s->resume_seq = s->recs[s->written_recs - 1].seq;
		s->have_resume = 1;
	}
	s->nrecs = 0;
	s->arena_used = 0;
	s->lost -= s->written_lost;
	s->dropped -= s->written_dropped;
	s->written_recs = 0;
	s->written_lost = s->written_dropped = 0;
}

static void kmsg_close(void *state)
{
	struct kmsg_state *s = state;
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->boots.slots)
		dim_free(&s->boots);
	free(s->recs);
	free(s->arena);
	free(s);
}

const struct collector_ops collector_kmsg = {
    .name = "kmsg",
    .open = kmsg_open,
    .sample = kmsg_sample,
    .commit = kmsg_commit,
    .close = kmsg_close,
    .event_fd = kmsg_event_fd,
    .on_readable = kmsg_on_readable,
};
