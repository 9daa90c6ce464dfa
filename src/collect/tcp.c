/* TCP and UDP: protocol counters from /proc/net/snmp and /proc/net/netstat
 * as deltas, socket gauges from /proc/net/sockstat, and connections by TCP
 * state from a sock_diag netlink dump (/proc/net/tcp{,6} as the fallback).
 * Table: tcp_stat, one row per tick. */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/counter.h"
#include "collect/procnet.h"
#include "collect/tcp.h"

static const char *line_end(const char *p)
{
	const char *eol = strchr(p, '\n');
	return eol ? eol : p + strlen(p);
}

/* The index of keys[] matching section/name, or -1. */
static int key_index(const struct stat_key *keys, size_t n, const char *section, const char *name,
		     size_t name_len)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].section, section) == 0 && strlen(keys[i].name) == name_len &&
		    memcmp(keys[i].name, name, name_len) == 0)
			return (int)i;
	return -1;
}

/* Reads "Section:" at p into sec; returns the rest of the line. */
static const char *section_of(const char *p, const char *eol, char *sec, size_t n)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p));
	if (!colon || (size_t)(colon - p) >= n)
		return NULL;
	memcpy(sec, p, (size_t)(colon - p));
	sec[colon - p] = '\0';
	return colon + 1;
}

static int snmp_pair(const char *names, const char *values, const char *vend, const char *sec,
		     const struct stat_key *keys, size_t n, int64_t *out, const char *what,
		     int line, struct err *e)
{
	const char *p = names, *v = values;
	for (int col = 1;; col++) {
		while (*p == ' ')
			p++;
		if (*p == '\n' || *p == '\0')
			break;
		const char *name = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		int64_t val;
		char tok[32];
		while (*v == ' ')
			v++;
		const char *vstart = v;
		if (v >= vend || scan_i64(&v, &val) || (*v != ' ' && *v != '\n' && *v != '\0'))
			return err_set(e, "%s line %d: %s value %d (%.*s): bad number '%s'", what,
				       line, sec, col, (int)(p - name), name,
				       vstart >= vend ? "end of line"
						      : token_preview(vstart, tok, sizeof(tok)));
		int k = key_index(keys, n, sec, name, (size_t)(p - name));
		if (k >= 0)
			out[k] = val;
	}
	return 0;
}

int snmp_parse(const char *text, const char *what, const struct stat_key *keys, size_t n,
	       int64_t *out, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		out[i] = STAT_ABSENT;
	if (check_complete(text, what, e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line += 2) {
		const char *eol = line_end(p);
		char sec[32], sec2[32];
		const char *names = section_of(p, eol, sec, sizeof(sec));
		if (!names)
			return err_set(e, "%s line %d: expected 'Section: names...'", what, line);
		if (!*eol || !eol[1])
			return err_set(e, "%s line %d: %s has names but no values line", what, line,
				       sec);
		const char *vl = eol + 1, *veol = line_end(vl);
		const char *values = section_of(vl, veol, sec2, sizeof(sec2));
		if (!values || strcmp(sec, sec2) != 0)
			return err_set(e, "%s line %d: expected the values of %s", what, line + 1,
				       sec);
		if (snmp_pair(names, values, veol, sec, keys, n, out, what, line + 1, e))
			return -1;
		p = *veol ? veol + 1 : veol;
	}
	return 0;
}

int sockstat_parse(const char *text, const struct stat_key *keys, size_t n, int64_t *out,
		   struct err *e)
{
	for (size_t i = 0; i < n; i++)
		out[i] = STAT_ABSENT;
	if (check_complete(text, "/proc/net/sockstat", e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = line_end(p);
		char sec[32];
		const char *q = section_of(p, eol, sec, sizeof(sec));
		if (!q)
			return err_set(
			    e, "/proc/net/sockstat line %d: expected 'SECTION: name value'", line);
		while (q < eol) {
			char name[32], tok[32];
			int64_t val;
			size_t len = scan_token(&q, name, sizeof(name));
			if (len == 0)
				break;
			if (scan_i64(&q, &val))
				return err_set(e,
					       "/proc/net/sockstat line %d: %s %s: bad number '%s'",
					       line, sec, name, token_preview(q, tok, sizeof(tok)));
			int k = key_index(keys, n, sec, name, strlen(name));
			if (k >= 0)
				out[k] = val;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

int proc_net_tcp_count(const char *text, const char *what, uint64_t counts[TCP_STATES],
		       struct err *e)
{
	if (check_complete(text, what, e))
		return -1;
	const char *p = strchr(text, '\n') + 1; /* the header */
	for (int line = 2; *p; line++) {
		const char *eol = line_end(p);
		char tok[64];
		for (int i = 0; i < 3; i++)
			scan_token(&p, tok, sizeof(tok));
		size_t len = scan_token(&p, tok, sizeof(tok));
		char *end;
		unsigned long st = strtoul(tok, &end, 16);
		if (p > eol || len != 2 || *end || st == 0 || st >= TCP_STATES)
			return err_set(e, "%s line %d: bad state '%s' (4th field, 2 hex digits)",
				       what, line, len ? tok : "end of line");
		counts[st]++;
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

/* ---- collector ---- */

static const struct stat_key counters[] = {
    {"Tcp", "ActiveOpens", "active_opens_count", 0},
    {"Tcp", "PassiveOpens", "passive_opens_count", 0},
    {"Tcp", "AttemptFails", "attempt_fails_count", 0},
    {"Tcp", "EstabResets", "estab_resets_count", 0},
    {"Tcp", "InSegs", "in_segs_count", 0},
    {"Tcp", "OutSegs", "out_segs_count", 0},
    {"Tcp", "RetransSegs", "retrans_segs_count", 0},
    {"Tcp", "InErrs", "in_errs_count", 0},
    {"Tcp", "OutRsts", "out_rsts_count", 0},
    {"Tcp", "InCsumErrors", "in_csum_errors_count", 0},
    {"Tcp", "CurrEstab", "curr_estab_count", 1},
    {"Udp", "InDatagrams", "udp_in_datagrams_count", 0},
    {"Udp", "OutDatagrams", "udp_out_datagrams_count", 0},
    {"Udp", "NoPorts", "udp_no_ports_count", 0},
    {"Udp", "InErrors", "udp_in_errors_count", 0},
    {"Udp", "RcvbufErrors", "udp_rcvbuf_errors_count", 0},
    {"Udp", "SndbufErrors", "udp_sndbuf_errors_count", 0},
    {"TcpExt", "ListenOverflows", "listen_overflows_count", 0},
    {"TcpExt", "ListenDrops", "listen_drops_count", 0},
    {"TcpExt", "TCPTimeouts", "timeouts_count", 0},
    {"TcpExt", "TCPSynRetrans", "syn_retrans_count", 0},
    {"TcpExt", "SyncookiesSent", "syncookies_sent_count", 0},
    {"TcpExt", "TCPAbortOnTimeout", "abort_on_timeout_count", 0},
    {"TcpExt", "TCPAbortOnData", "abort_on_data_count", 0},
    {"TcpExt", "TCPBacklogDrop", "backlog_drop_count", 0},
    {"TcpExt", "TCPRcvQDrop", "rcvq_drop_count", 0},
    {"TcpExt", "TW", "time_wait_closed_count", 0},
};
#define NCOUNTERS ARRAY_LEN(counters)
#define NSNMP	  17 /* the first NSNMP counters come from /proc/net/snmp */

static const struct stat_key gauges[] = {
    {"sockets", "used", "sockets_used_count", 0}, {"TCP", "inuse", "tcp_inuse_count", 0},
    {"TCP", "orphan", "tcp_orphan_count", 0},	  {"TCP", "tw", "tcp_tw_count", 0},
    {"TCP", "alloc", "tcp_alloc_count", 0},	  {"TCP", "mem", "tcp_mem_pages", 0},
    {"UDP", "inuse", "udp_inuse_count", 0},	  {"UDP", "mem", "udp_mem_pages", 0},
};
#define NGAUGES		   ARRAY_LEN(gauges)
#define SOCKSTAT_TCP_INUSE 1 /* indexes in gauges[] */
#define SOCKSTAT_TCP_TW	   3

static const char *const state_columns[TCP_STATES] = {
    NULL,
    "established_count",
    "syn_sent_count",
    "syn_recv_count",
    "fin_wait1_count",
    "fin_wait2_count",
    "time_wait_count",
    "close_count",
    "close_wait_count",
    "last_ack_count",
    "listen_count",
    "closing_count",
};

/* Counting sockets by state walks every bucket of the kernel's TCP hash
 * tables, empty or not: about 1.6 ms per address family on a machine with
 * 256K buckets (sized by RAM), the same for netlink and /proc/net/tcp. So
 * the breakdown is taken once every this many ticks (the other rows have
 * NULL there); curr_estab_count and the sockstat gauges come every tick. */
#define STATES_EVERY_TICKS 6

struct tcp_state {
	int proc_fd;
	const char *dir; /* net or 1/net, see proc_net_dir */
	int use_netlink;
	uint64_t ticks;
	struct buf buf;
	int64_t snap[2][NCOUNTERS];
	int cur, have, filled;
	sqlite3_stmt *ins;
	char nlbuf[65536];
};

/* Reads the counters of snmp (the first NSNMP keys) and netstat (the rest). */
static int read_counters(struct tcp_state *s, int64_t *out, struct tick_errors *te)
{
	struct err e;
	char path[32];
	snprintf(path, sizeof(path), "%s/snmp", s->dir);
	int rc = buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_SMALL);
	if (rc == 0 && snmp_parse(s->buf.data, "/proc/net/snmp", counters, NSNMP, out, &e))
		goto parse;
	snprintf(path, sizeof(path), "%s/netstat", s->dir);
	if (rc == 0 && (rc = buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_SMALL)) == 0 &&
	    snmp_parse(s->buf.data, "/proc/net/netstat", counters + NSNMP, NCOUNTERS - NSNMP,
		       out + NSNMP, &e))
		goto parse;
	if (rc < 0 && te)
		tick_errors_count_read(te, rc);
	return rc < 0 ? -1 : 0;
parse:
	if (te)
		te->parse++;
	log_debug("%s", e.msg);
	return -1;
}

static int tcp_open(void **state, const struct collector_env *env, const void *options,
		    struct err *e)
{
	struct store *st = env->store;
	struct tcp_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->dir = proc_net_dir(env);
	/* A netlink socket sees this process's network namespace: the one the
	 * files show only when they are this process's own. */
	s->use_netlink = env->own_proc && strcmp(s->dir, "net") == 0;
	char sql[4096];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO tcp_stat(ts, dur_ms");
	size_t ncols = 2;
	for (size_t i = 0; i < NCOUNTERS; i++, ncols++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s", counters[i].column);
	for (size_t i = 0; i < NGAUGES; i++, ncols++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s", gauges[i].column);
	for (size_t i = 1; i < TCP_STATES; i++, ncols++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s", state_columns[i]);
	len += (size_t)snprintf(sql + len, sizeof(sql) - len, ") VALUES (?");
	for (size_t i = 1; i < ncols; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ",?");
	snprintf(sql + len, sizeof(sql) - len, ")");
	if (!(s->ins = store_prepare(st, sql, e)))
		return -1;
	s->have = read_counters(s, s->snap[0], NULL) == 0;
	s->cur = 1;
	return 0;
}

/* Counts sockets by state for one address family through sock_diag. Only
 * the fixed inet_diag_msg header is asked for (no extensions), so a dump of
 * 100,000 sockets moves about 7 MB and no per-socket text is formatted. */
static int netlink_count(struct tcp_state *s, int family, uint64_t counts[TCP_STATES])
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
	    .nlh = {.nlmsg_len = sizeof(msg),
		    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
	    .req = {.sdiag_family = (uint8_t)family,
		    .sdiag_protocol = IPPROTO_TCP,
		    .idiag_states = ~0U},
	};
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	int rc = 0;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		rc = -errno;
	for (int done = 0; rc == 0 && !done;) {
		ssize_t n = recv(fd, s->nlbuf, sizeof(s->nlbuf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)s->nlbuf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *err = NLMSG_DATA(h);
				rc = err->error ? err->error : -EPROTO;
				break;
			}
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			/* Request sockets (TCP_NEW_SYN_RECV, 12) are what
			 * /proc/net/tcp shows as SYN_RECV. */
			unsigned st = m->idiag_state == 12 ? 3 : m->idiag_state;
			if (st > 0 && st < TCP_STATES)
				counts[st]++;
		}
	}
	close(fd);
	return rc;
}

static int proc_count(struct tcp_state *s, const int skip[2], uint64_t counts[TCP_STATES],
		      struct tick_errors *te)
{
	static const char *const files[] = {"tcp", "tcp6"};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		struct err e;
		if (skip[i])
			continue;
		char path[32];
		snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
		int rc = buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_TABLE);
		if (rc == -ENOENT && i == 1)
			continue; /* no IPv6 */
		if (rc < 0) {
			tick_errors_count_read(te, rc);
			return -1;
		}
		if (proc_net_tcp_count(s->buf.data, path, counts, &e)) {
			te->parse++;
			log_debug("%s", e.msg);
			return -1;
		}
	}
	return 0;
}

/* Whether a family can have any TCP socket to count: none in use (which
 * includes listeners, so no pending requests either) and no TIME_WAIT
 * sockets means an empty dump, and its hash-table walk can be skipped.
 * g holds the sockstat gauges (TCP inuse, tw); IPv6's inuse is in sockstat6. */
static void empty_families(struct tcp_state *s, const int64_t *g, int *skip4, int *skip6)
{
	static const struct stat_key tcp6[] = {{"TCP6", "inuse", "", 1}};
	int64_t inuse6 = STAT_ABSENT;
	char path[32];
	struct err e;
	snprintf(path, sizeof(path), "%s/sockstat6", s->dir);
	if (buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_SMALL) == 0 &&
	    sockstat_parse(s->buf.data, tcp6, 1, &inuse6, &e) != 0)
		inuse6 = STAT_ABSENT;
	int no_tw = g[SOCKSTAT_TCP_TW] == 0;
	*skip4 = no_tw && g[SOCKSTAT_TCP_INUSE] == 0;
	*skip6 = no_tw && inuse6 == 0;
}

static int count_states(struct tcp_state *s, const int64_t *g, uint64_t counts[TCP_STATES],
			struct tick_errors *te)
{
	int skip4, skip6;
	memset(counts, 0, TCP_STATES * sizeof(counts[0]));
	empty_families(s, g, &skip4, &skip6);
	if (s->use_netlink) {
		int rc = skip4 ? 0 : netlink_count(s, AF_INET, counts);
		if (rc == 0 && !skip6) {
			rc = netlink_count(s, AF_INET6, counts);
			if (rc == -ENOENT || rc == -EAFNOSUPPORT)
				rc = 0; /* no IPv6 */
		}
		if (rc == 0)
			return 0;
		log_info(
		    "tcp: sock_diag netlink dump failed (%s); reading /proc/net/tcp from now on",
		    strerror(-rc));
		s->use_netlink = 0;
		memset(counts, 0, TCP_STATES * sizeof(counts[0]));
	}
	int skip[2] = {skip4, skip6};
	return proc_count(s, skip, counts, te);
}

static void bind_value(sqlite3_stmt *st, int col, int64_t v)
{
	if (v == STAT_ABSENT)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

static int tcp_sample(void *state, struct tick *t, struct err *e)
{
	struct tcp_state *s = state;
	int64_t *cur = s->snap[s->cur], *prev = s->snap[!s->cur];
	s->filled = read_counters(s, cur, t->errors) == 0;
	if (!s->filled || !s->have)
		return 0;
	int64_t g[NGAUGES];
	struct err perr;
	char path[32];
	snprintf(path, sizeof(path), "%s/sockstat", s->dir);
	int rc = buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_SMALL);
	if (rc < 0 || sockstat_parse(s->buf.data, gauges, NGAUGES, g, &perr)) {
		for (size_t i = 0; i < NGAUGES; i++)
			g[i] = STAT_ABSENT;
		if (rc < 0)
			tick_errors_count_read(t->errors, rc);
		else
			t->errors->parse++;
	}
	uint64_t states[TCP_STATES];
	int have_states =
	    s->ticks % STATES_EVERY_TICKS == 0 && count_states(s, g, states, t->errors) == 0;
	int col = 1;
	sqlite3_bind_int64(s->ins, col++, t->ts);
	sqlite3_bind_int64(s->ins, col++, t->dur_ms);
	for (size_t i = 0; i < NCOUNTERS; i++, col++) {
		if (counters[i].gauge)
			bind_value(s->ins, col, cur[i]);
		else if (cur[i] == STAT_ABSENT || prev[i] == STAT_ABSENT)
			sqlite3_bind_null(s->ins, col);
		else
			sqlite3_bind_int64(
			    s->ins, col,
			    (int64_t)counter_delta_wrap32((uint64_t)prev[i], (uint64_t)cur[i]));
	}
	for (size_t i = 0; i < NGAUGES; i++, col++)
		bind_value(s->ins, col, g[i]);
	for (size_t i = 1; i < TCP_STATES; i++, col++)
		bind_value(s->ins, col, have_states ? (int64_t)states[i] : STAT_ABSENT);
	t->rows++;
	return store_exec_stmt(t->store, s->ins, e);
}

static void tcp_commit(void *state)
{
	struct tcp_state *s = state;
	if (!s->filled)
		return;
	s->ticks++;
	s->have = 1;
	s->cur = !s->cur;
}

static void tcp_close(void *state)
{
	struct tcp_state *s = state;
	if (!s)
		return;
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_tcp = {
    .name = "tcp",
    .open = tcp_open,
    .sample = tcp_sample,
    .commit = tcp_commit,
    .close = tcp_close,
};
