/* /proc/net/dev: per-interface traffic counters as deltas, and the link state
 * from /sys/class/net/<if>/ (mtu, speed, operstate, carrier), stored only
 * when it changes. Tables: net_interface, net, net_link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/counter.h"
#include "collect/net.h"
#include "collect/procnet.h"

static int net_push(struct net_dev *d, const struct net_if *i)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct net_if *p = realloc(d->ifs, cap * sizeof(*p));
		if (!p)
			return -1;
		d->ifs = p;
		d->cap = cap;
	}
	d->ifs[d->n++] = *i;
	return 0;
}

static int parse_if_line(const char *line, const char *eol, struct net_if *out, int lineno,
			 struct err *e)
{
	const char *colon = NULL;
	for (const char *q = line; q < eol; q++)
		if (*q == ':')
			colon = q;
	if (!colon)
		return err_set(e, "/proc/net/dev line %d: no ':' after the interface name", lineno);
	const char *n = line;
	while (n < colon && (*n == ' ' || *n == '\t'))
		n++;
	size_t len = (size_t)(colon - n);
	if (len == 0 || len >= NET_NAME_MAX)
		return err_set(e, "/proc/net/dev line %d: bad interface name length %zu", lineno,
			       len);
	memcpy(out->name, n, len);
	out->name[len] = '\0';
	const char *p = colon + 1;
	for (int i = 0; i < NET_COUNTERS; i++) {
		if (p >= eol || scan_field_u64(&p, &out->v[i]) || p > eol) {
			char tok[32];
			return err_set(e, "/proc/net/dev line %d (%s): counter %d: bad number '%s'",
				       lineno, out->name, i + 1,
				       p >= eol ? "end of line"
						: token_preview(p, tok, sizeof(tok)));
		}
	}
	return 0;
}

int net_dev_parse(const char *text, struct net_dev *out, struct err *e)
{
	out->n = 0;
	if (check_complete(text, "/proc/net/dev", e))
		return -1;
	const char *p = text;
	int lineno = 1;
	/* Two header lines; the second names the columns. */
	for (; lineno <= 2; lineno++) {
		const char *eol = strchr(p, '\n');
		if (!eol || !strchr(p, '|') || strchr(p, '|') > eol)
			return err_set(e, "/proc/net/dev line %d: expected the column header",
				       lineno);
		p = eol + 1;
	}
	for (; *p; lineno++) {
		const char *eol = strchr(p, '\n');
		struct net_if i;
		if (parse_if_line(p, eol, &i, lineno, e))
			return -1;
		if (net_push(out, &i))
			return err_set(e, "out of memory");
		p = eol + 1;
	}
	return 0;
}

void net_dev_free(struct net_dev *d)
{
	free(d->ifs);
	d->ifs = NULL;
	d->n = d->cap = 0;
}

int net_if_deltas(const uint64_t prev[NET_COUNTERS], const uint64_t cur[NET_COUNTERS],
		  uint64_t out[NET_COUNTERS])
{
	int back = 0, fwd = 0;
	for (int i = 0; i < NET_COUNTERS; i++) {
		back += cur[i] < prev[i];
		fwd += cur[i] > prev[i];
	}
	/* A wrap moves one counter back while its packets keep counting up; a
	 * reset moves most of them back at once (and bytes never move alone).
	 * After a reset every counter restarted from zero: the delta is cur.
	 * Without a reset, a counter that went back and cannot have wrapped
	 * is a driver's glitch (some recount drops): 0, not its whole value. */
	int reset = back > fwd;
	for (int i = 0; i < NET_COUNTERS; i++) {
		uint64_t d = counter_delta_wrap32(prev[i], cur[i]);
		out[i] = reset ? cur[i] : cur[i] < prev[i] && d == cur[i] ? 0 : d;
	}
	return reset;
}

/* ---- collector ---- */

/* Link attributes change rarely; sysfs is read at first sight and then once
 * every this many ticks, and a row is written only when something changed. */
#define LINK_REFRESH_TICKS 6

struct link_info {
	int64_t mtu, speed_mbps, carrier; /* -1: unknown (link down, virtual) */
	char operstate[16];
};

struct net_meta {
	char name[NET_NAME_MAX];
	int64_t id;
	struct link_info stored;  /* last committed link row */
	struct link_info pending; /* written this tick, stored on commit */
	int has_stored, has_pending;
	int seen; /* in this tick's snapshot */
};

struct net_state {
	int proc_fd, sys_fd;
	char dev_path[16]; /* net/dev or 1/net/dev */
	struct buf buf, attr;
	struct net_dev snap[2];
	int cur, have, filled;
	uint64_t ticks;
	struct net_meta *meta;
	size_t nmeta, capmeta;
	struct dim names;
	uint64_t rollbacks_seen; /* ids cached in meta died with a rolled-back tick */
	sqlite3_stmt *ins, *ins_link;
};

static int net_read(struct net_state *s, struct net_dev *out, struct tick_errors *te, struct err *e)
{
	int rc = buf_read_file(&s->buf, s->proc_fd, s->dev_path, SOURCE_MAX_TABLE);
	if (rc < 0) {
		if (te)
			tick_errors_count_read(te, rc);
		return err_set(e, "/proc/net/dev: %s", strerror(-rc));
	}
	if (net_dev_parse(s->buf.data, out, e)) {
		if (te)
			te->parse++;
		return -1;
	}
	return 0;
}

static int net_open(void **state, const struct collector_env *env, const void *options,
		    struct err *e)
{
	struct store *st = env->store;
	struct net_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->sys_fd = env->sys_fd;
	snprintf(s->dev_path, sizeof(s->dev_path), "%s/dev", proc_net_dir(env));
	if (dim_init(&s->names, st, "net_interface", e))
		return -1;
	s->ins = store_prepare(
	    st,
	    "INSERT INTO net(ts, interface_id, dur_ms, rx_bytes, rx_packets_count, "
	    "rx_errors_count, "
	    "rx_dropped_count, rx_fifo_errors_count, rx_frame_errors_count, rx_compressed_count, "
	    "rx_multicast_count, tx_bytes, tx_packets_count, tx_errors_count, tx_dropped_count, "
	    "tx_fifo_errors_count, tx_collisions_count, tx_carrier_errors_count, "
	    "tx_compressed_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    e);
	s->ins_link = store_prepare(st,
				    "INSERT INTO net_link(ts, interface_id, mtu_bytes, speed_mbps, "
				    "operstate, carrier) VALUES (?,?,?,?,?,?)",
				    e);
	if (!s->ins || !s->ins_link)
		return -1;
	struct err ignored;
	s->have = net_read(s, &s->snap[0], NULL, &ignored) == 0;
	s->cur = 1;
	return 0;
}

static struct net_meta *meta_find(struct net_state *s, const char *name, size_t hint)
{
	if (hint < s->nmeta && strcmp(s->meta[hint].name, name) == 0)
		return &s->meta[hint];
	for (size_t i = 0; i < s->nmeta; i++)
		if (strcmp(s->meta[i].name, name) == 0)
			return &s->meta[i];
	if (s->nmeta == s->capmeta) {
		size_t cap = s->capmeta ? s->capmeta * 2 : 16;
		struct net_meta *p = realloc(s->meta, cap * sizeof(*p));
		if (!p)
			return NULL;
		s->meta = p;
		s->capmeta = cap;
	}
	struct net_meta *m = &s->meta[s->nmeta++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->id = -1;
	return m;
}

/* One small sysfs attribute as an integer; -1 when absent or unreadable
 * (speed and carrier fail with EINVAL while the link is down). */
static int64_t sys_attr_int(struct net_state *s, const char *ifname, const char *attr)
{
	char path[160];
	snprintf(path, sizeof(path), "class/net/%s/%s", ifname, attr);
	if (buf_read_file(&s->attr, s->sys_fd, path, SOURCE_MAX_ATTR) < 0)
		return -1;
	const char *p = s->attr.data;
	int64_t v;
	return scan_i64(&p, &v) || v < 0 ? -1 : v;
}

static void read_link(struct net_state *s, const char *ifname, struct link_info *li)
{
	char path[160];
	li->mtu = sys_attr_int(s, ifname, "mtu");
	li->speed_mbps = sys_attr_int(s, ifname, "speed");
	li->carrier = sys_attr_int(s, ifname, "carrier");
	snprintf(path, sizeof(path), "class/net/%s/operstate", ifname);
	li->operstate[0] = '\0';
	if (buf_read_file(&s->attr, s->sys_fd, path, SOURCE_MAX_ATTR) == 0) {
		const char *p = s->attr.data;
		scan_token(&p, li->operstate, sizeof(li->operstate));
	}
}

static void bind_opt(sqlite3_stmt *st, int col, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

static int write_link(struct net_state *s, struct tick *t, struct net_meta *m, struct err *e)
{
	struct link_info li;
	memset(&li, 0, sizeof(li)); /* compared with memcmp */
	read_link(s, m->name, &li);
	m->has_pending = 0;
	if (m->has_stored && memcmp(&li, &m->stored, sizeof(li)) == 0)
		return 0;
	m->pending = li;
	m->has_pending = 1;
	sqlite3_bind_int64(s->ins_link, 1, t->ts);
	sqlite3_bind_int64(s->ins_link, 2, m->id);
	bind_opt(s->ins_link, 3, li.mtu);
	bind_opt(s->ins_link, 4, li.speed_mbps);
	if (li.operstate[0])
		sqlite3_bind_text(s->ins_link, 5, li.operstate, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s->ins_link, 5);
	bind_opt(s->ins_link, 6, li.carrier);
	t->rows++;
	return store_exec_stmt(t->store, s->ins_link, e);
}

static const struct net_if *find_prev(const struct net_dev *prev, const char *name, size_t hint)
{
	if (hint < prev->n && strcmp(prev->ifs[hint].name, name) == 0)
		return &prev->ifs[hint];
	for (size_t i = 0; i < prev->n; i++)
		if (strcmp(prev->ifs[i].name, name) == 0)
			return &prev->ifs[i];
	return NULL;
}

static int write_if(struct net_state *s, struct tick *t, const struct net_if *p,
		    const struct net_if *c, int64_t id, struct err *e)
{
	uint64_t d[NET_COUNTERS], any = 0;
	net_if_deltas(p->v, c->v, d);
	for (int i = 0; i < NET_COUNTERS; i++)
		any |= d[i];
	if (!any)
		return 0; /* sparse: an idle interface writes no row */
	sqlite3_bind_int64(s->ins, 1, t->ts);
	sqlite3_bind_int64(s->ins, 2, id);
	sqlite3_bind_int64(s->ins, 3, t->dur_ms);
	bind_u64s(s->ins, 4, d, NET_COUNTERS);
	t->rows++;
	return store_exec_stmt(t->store, s->ins, e);
}

static int net_sample(void *state, struct tick *t, struct err *e)
{
	struct net_state *s = state;
	struct net_dev *cur = &s->snap[s->cur], *prev = &s->snap[!s->cur];
	struct err rerr;
	s->filled = net_read(s, cur, t->errors, &rerr) == 0;
	if (!s->filled) {
		log_debug("%s", rerr.msg);
		return 0;
	}
	int refresh = s->ticks % LINK_REFRESH_TICKS == 0;
	if (t->store->rollbacks != s->rollbacks_seen) {
		s->rollbacks_seen = t->store->rollbacks;
		for (size_t i = 0; i < s->nmeta; i++) {
			s->meta[i].id = -1;
			s->meta[i].has_pending = 0;
		}
	}
	for (size_t i = 0; i < cur->n; i++) {
		const struct net_if *c = &cur->ifs[i];
		struct net_meta *m = meta_find(s, c->name, i);
		if (!m)
			return err_set(e, "out of memory");
		if (m->id < 0 && (m->id = dim_id(&s->names, c->name, e)) < 0)
			return -1;
		if ((refresh || !m->has_stored) && write_link(s, t, m, e))
			return -1;
		/* An interface without a baseline (new, or renamed to this name)
		 * starts next tick: its counters are not deltas over this interval. */
		const struct net_if *p = s->have ? find_prev(prev, c->name, i) : NULL;
		if (p && write_if(s, t, p, c, m->id, e))
			return -1;
	}
	return 0;
}

static void net_commit(void *state)
{
	struct net_state *s = state;
	for (size_t i = 0; i < s->nmeta; i++) {
		struct net_meta *m = &s->meta[i];
		if (m->has_pending) {
			m->stored = m->pending;
			m->has_stored = 1;
			m->has_pending = 0;
		}
	}
	if (!s->filled)
		return;
	s->ticks++;
	s->have = 1;
	s->cur = !s->cur;
}

static void net_close(void *state)
{
	struct net_state *s = state;
	if (!s)
		return;
	net_dev_free(&s->snap[0]);
	net_dev_free(&s->snap[1]);
	buf_free(&s->buf);
	buf_free(&s->attr);
	dim_free(&s->names);
	free(s->meta);
	free(s);
}

const struct collector_ops collector_net = {
    .name = "net",
    .open = net_open,
    .sample = net_sample,
    .commit = net_commit,
    .close = net_close,
};
