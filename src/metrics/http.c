/* The /metrics endpoint: a small HTTP/1.1 server on the daemon's libevent
 * loop. It answers GET and HEAD from values held in memory (a scrape never
 * reads SQLite), so a tick is never waited on.
 *
 * libevent 2.1's evhttp cannot bound what a hostile client takes: it has no
 * connection limit (evhttp_set_max_connections is 2.2), no way to hand it
 * connections we accepted and counted, and its timeout is per read, so a
 * client sending a byte every few seconds keeps a connection forever. Here
 * every connection has a slot (at most CONN_MAX; past that the listener
 * pauses and new ones wait in the kernel's queue), a request head may take
 * HTTP_HEAD_MAX bytes and HEAD_DEADLINE_S seconds, an answer WRITE_DEADLINE_S,
 * and nothing is read past the head: a request with a body is refused. The
 * answer's body is a rendering shared by every connection that sends it. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics/metrics.h"

#define CONN_MAX	 32
#define HEAD_DEADLINE_S	 10  /* a request head, from its first byte (or the accept) */
#define IDLE_DEADLINE_S	 300 /* a kept-alive connection between requests */
#define WRITE_DEADLINE_S 30  /* an answer, until the client has taken it */
#define LOG_EVERY_S	 60  /* the same kind of trouble is logged once a minute */

enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING };

struct conn {
	struct metrics_server *srv;
	struct bufferevent *bev;
	struct event *deadline;
	enum conn_state state;
	int keep_alive; /* after the answer being written */
	int idle;	/* reading, and no byte of the next request yet */
	char peer[64];
};

/* A rendering of the set, shared by the answers that send it. */
struct body {
	int refs;
	uint64_t generation;
	struct expo_out out;
};

/* Trouble logged at most once per LOG_EVERY_S, with a count of the rest. */
struct ratelog {
	int64_t last_us;
	uint64_t quiet;
};

static const int statuses[] = {200, 400, 404, 405, 408, 413, 414, 431, 505};

struct metrics_server {
	struct metric_set *set;
	int fd;
	char where[160]; /* the address bound, for the log */
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *resume; /* re-enables accepting after an accept error */
	struct conn conns[CONN_MAX];
	int nconns;
	int paused;
	struct body *body[2]; /* [0] text, [1] OpenMetrics */
	uint64_t answered[ARRAY_LEN(statuses)];
	uint64_t accepted, timeouts, renders;
	int64_t render_cpu_us;
	struct ratelog log_malformed, log_large, log_method, log_notfound, log_full, log_slow,
	    log_accept;
};

static void ratelog(struct ratelog *r, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ratelog(struct ratelog *r, enum log_level level, const char *fmt, ...)
{
	int64_t now = clock_mono_us();
	if (r->last_us && now - r->last_us < LOG_EVERY_S * 1000000LL) {
		r->quiet++;
		return;
	}
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->quiet)
		log_msg(level, "%s (and %llu more like it in the last %ds)", msg,
			(unsigned long long)r->quiet, LOG_EVERY_S);
	else
		log_msg(level, "%s", msg);
	r->last_us = now;
	r->quiet = 0;
}

/* ---- the listening address ---- */

int metrics_parse_listen(const char *text, struct sockaddr_storage *sa, socklen_t *len,
			 struct err *e)
{
	char host[64];
	const char *port;
	memset(sa, 0, sizeof(*sa));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
			return err_set(e, "'%s': expected [IPv6 address]:port", text);
		snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host))
			return err_set(e, "'%s': expected address:port (127.0.0.1:9256)", text);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
		if (strchr(host, ':'))
			return err_set(e, "'%s': an IPv6 address goes in brackets ([::1]:9256)",
				       text);
		port = colon + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535 || port[0] == '-' || port[0] == '+')
		return err_set(e, "'%s': port must be a number from 0 to 65535", text);
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (!host[0] || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0; /* "" is INADDR_ANY: every IPv4 address */
	}
	if (text[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
	return err_set(e, "'%s': '%s' is not a numeric IP address (or localhost)", text, host);
}

static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
		port = ntohs(v4->sin_port);
		snprintf(out, n, "%s:%d", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
		port = ntohs(v6->sin6_port);
		snprintf(out, n, "[%s]:%d", ip, port);
	} else {
		snprintf(out, n, "?");
	}
}

/* ---- bodies ---- */

static void body_unref(struct body *b)
{
	if (b && --b->refs == 0) {
		expo_out_free(&b->out);
		free(b);
	}
}

static void body_release(const void *data, size_t len, void *arg)
{
	body_unref(arg);
}

/* The set rendered in format slot k for its current generation: rendered
 * once per tick, whatever the number of scrapes. */
static struct body *current_body(struct metrics_server *srv, enum expo_format f)
{
	int k = f != EXPO_TEXT;
	uint64_t gen = metric_set_generation(srv->set);
	struct body *b = srv->body[k];
	if (b && b->generation == gen)
		return b;
	if (!(b = calloc(1, sizeof(*b))))
		return NULL;
	/* about the size of the last one: no growing on the way */
	if (srv->body[k] && (b->out.data = malloc(srv->body[k]->out.len + 4096)))
		b->out.cap = srv->body[k]->out.len + 4096;
	int64_t cpu0 = clock_thread_cpu_us();
	expo_render(&b->out, srv->set, f);
	srv->render_cpu_us += clock_thread_cpu_us() - cpu0;
	srv->renders++;
	if (b->out.failed) {
		expo_out_free(&b->out);
		free(b);
		return NULL;
	}
	b->refs = 1; /* the server's */
	b->generation = gen;
	body_unref(srv->body[k]);
	srv->body[k] = b;
	return b;
}

/* The endpoint's own counters, rendered with every answer. */
static void own_metrics(struct metrics_server *srv, struct expo_out *o, enum expo_format f)
{
	char labels[32];
	expo_family_head(o, "hindsight_http_requests_total", METRIC_COUNTER,
			 "Requests the metrics endpoint answered, by status.", "", f);
	for (size_t i = 0; i < ARRAY_LEN(statuses); i++) {
		if (!srv->answered[i])
			continue;
		snprintf(labels, sizeof(labels), "code=\"%d\"", statuses[i]);
		expo_sample(o, "hindsight_http_requests_total", labels, (double)srv->answered[i]);
	}
	expo_family_head(o, "hindsight_http_connections_total", METRIC_COUNTER,
			 "Connections the metrics endpoint accepted.", "", f);
	expo_sample(o, "hindsight_http_connections_total", "", (double)srv->accepted);
	expo_family_head(o, "hindsight_http_connections_open", METRIC_GAUGE,
			 "Connections open to the metrics endpoint.", "", f);
	expo_sample(o, "hindsight_http_connections_open", "", srv->nconns);
	expo_family_head(o, "hindsight_http_timeouts_total", METRIC_COUNTER,
			 "Connections closed because a request or its answer took too long.", "",
			 f);
	expo_sample(o, "hindsight_http_timeouts_total", "", (double)srv->timeouts);
	expo_family_head(o, "hindsight_http_renders_total", METRIC_COUNTER,
			 "Renderings of the metrics (one per format per tick at most).", "", f);
	expo_sample(o, "hindsight_http_renders_total", "", (double)srv->renders);
	expo_family_head(o, "hindsight_http_render_seconds_total", METRIC_COUNTER,
			 "CPU time spent rendering the metrics.", "seconds", f);
	expo_sample(o, "hindsight_http_render_seconds_total", "", (double)srv->render_cpu_us / 1e6);
	expo_end(o, f);
}

/* ---- connections ---- */

static void arm(struct conn *c, int seconds)
{
	struct timeval tv = {seconds, 0};
	evtimer_add(c->deadline, &tv);
}

static void conn_close(struct conn *c)
{
	struct metrics_server *srv = c->srv;
	bufferevent_free(c->bev); /* closes the socket */
	c->bev = NULL;
	evtimer_del(c->deadline);
	c->state = CONN_FREE;
	srv->nconns--;
	if (srv->paused) {
		srv->paused = 0;
		evconnlistener_enable(srv->listener);
	}
}

static void count_status(struct metrics_server *srv, int status)
{
	for (size_t i = 0; i < ARRAY_LEN(statuses); i++)
		if (statuses[i] == status)
			srv->answered[i]++;
}

/* Starts an answer: the status line and headers; the body follows. */
static void answer_head(struct conn *c, int status, const char *type, size_t length, int keep)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			    "Connection: %s\r\n%s\r\n",
			    status, http_reason(status), type, length,
			    keep ? "keep-alive" : "close",
			    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	c->keep_alive = keep;
	c->state = CONN_WRITING;
	arm(c, WRITE_DEADLINE_S);
}

static void answer_text(struct conn *c, int status, const char *text, int keep, int head_only)
{
	size_t n = strlen(text);
	count_status(c->srv, status);
	answer_head(c, status, "text/plain; charset=utf-8", n, keep);
	if (!head_only)
		evbuffer_add(bufferevent_get_output(c->bev), text, n);
}

static void answer_metrics(struct conn *c, const struct http_head *h)
{
	struct metrics_server *srv = c->srv;
	enum expo_format f = expo_negotiate(h->accept);
	struct body *b = current_body(srv, f);
	if (!b) {
		answer_text(c, 503, "metrics: out of memory\n", 0, h->method == HTTP_HEAD);
		return;
	}
	count_status(srv, 200); /* before the counters are rendered: this answer counts */
	struct expo_out own = {0};
	own_metrics(srv, &own, f);
	answer_head(c, 200, expo_content_type(f), b->out.len + own.len, h->keep_alive);
	if (h->method != HTTP_HEAD) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		b->refs++;
		if (evbuffer_add_reference(out, b->out.data, b->out.len, body_release, b))
			b->refs--;
		evbuffer_add(out, own.data, own.len);
	}
	expo_out_free(&own);
}

/* A complete request head: the answer. */
static void handle(struct conn *c, const struct http_head *h)
{
	int head_only = h->method == HTTP_HEAD;
	if (h->has_body) {
		ratelog(&c->srv->log_large, LOG_WARN,
			"metrics: refused a request with a body from %s (413)", c->peer);
		answer_text(c, 413, "metrics: requests take no body\n", 0, head_only);
	} else if (h->method == HTTP_OTHER) {
		ratelog(&c->srv->log_method, LOG_WARN,
			"metrics: refused a method other than GET or HEAD from %s (405)", c->peer);
		answer_text(c, 405, "metrics: only GET and HEAD\n", 0, 0);
	} else if (strcmp(h->path, "/metrics") == 0) {
		answer_metrics(c, h);
	} else if (strcmp(h->path, "/") == 0) {
		answer_text(c, 200, "hindsight: the metrics are at /metrics\n", h->keep_alive,
			    head_only);
	} else {
		ratelog(
		    &c->srv->log_notfound, LOG_WARN,
		    "metrics: %s asked for %.100s: not found (404; the metrics are at /metrics)",
		    c->peer, h->path);
		answer_text(c, 404, "metrics: not found; the metrics are at /metrics\n",
			    h->keep_alive, head_only);
	}
}

/* Parses what has arrived; answers a complete head or a bad one. */
static void process_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	if (c->state != CONN_READING || len == 0)
		return;
	if (c->idle) { /* the first byte of the next request */
		c->idle = 0;
		arm(c, HEAD_DEADLINE_S);
	}
	size_t n = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	struct http_head h;
	int rc = data ? http_head_parse(data, n, &h) : -400;
	if (rc == 0)
		return; /* more to come */
	if (rc == -431 || rc == -414)
		ratelog(&c->srv->log_large, LOG_WARN,
			"metrics: refused a request from %s: %s over %d bytes (%d %s)", c->peer,
			rc == -431 ? "head" : "target", rc == -431 ? HTTP_HEAD_MAX : 255, -rc,
			http_reason(-rc));
	else if (rc < 0)
		ratelog(&c->srv->log_malformed, LOG_WARN,
			"metrics: refused a malformed request from %s (%d %s)", c->peer, -rc,
			http_reason(-rc));
	if (rc < 0) {
		evbuffer_drain(in, len);
		answer_text(c, -rc, "metrics: bad request\n", 0, 0);
		return;
	}
	evbuffer_drain(in, (size_t)rc);
	handle(c, &h);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

/* The answer is in the kernel's hands: wait for the next request, or close. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->state != CONN_WRITING)
		return;
	if (!c->keep_alive) {
		conn_close(c);
		return;
	}
	c->state = CONN_READING;
	c->idle = 1;
	arm(c, IDLE_DEADLINE_S);
	process_input(c); /* a pipelined request */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (c->state == CONN_WRITING && !(what & BEV_EVENT_ERROR)) {
		/* the client is done sending: finish the answer, then close */
		c->keep_alive = 0;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (c->state == CONN_READING && !c->idle)
		log_debug("metrics: %s closed the connection before a complete request", c->peer);
	conn_close(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->state == CONN_FREE)
		return;
	if (!(c->state == CONN_READING && c->idle)) {
		c->srv->timeouts++;
		ratelog(
		    &c->srv->log_slow, LOG_WARN,
		    c->state == CONN_READING
			? "metrics: closed the connection from %s: no complete request in %ds"
			: "metrics: closed the connection from %s: the answer was not taken in %ds",
		    c->peer, c->state == CONN_READING ? HEAD_DEADLINE_S : WRITE_DEADLINE_S);
	}
	conn_close(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct metrics_server *srv = arg;
	struct conn *c = NULL;
	for (int i = 0; i < CONN_MAX && !c; i++)
		if (srv->conns[i].state == CONN_FREE)
			c = &srv->conns[i];
	if (!c) { /* not reached: the listener pauses at CONN_MAX */
		close(fd);
		return;
	}
	if (!(c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		close(fd);
		return;
	}
	addr_text(sa, c->peer, sizeof(c->peer));
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_HEAD_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = CONN_READING;
	c->idle = 0;
	arm(c, HEAD_DEADLINE_S);
	srv->accepted++;
	if (++srv->nconns == CONN_MAX) {
		srv->paused = 1;
		evconnlistener_disable(srv->listener);
		ratelog(&srv->log_full, LOG_WARN,
			"metrics: %d connections open, the most served at once; new ones wait "
			"until one closes",
			CONN_MAX);
	}
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_server *srv = arg;
	if (!srv->paused)
		evconnlistener_enable(srv->listener);
}

/* accept() failed for want of descriptors or memory: pause a second
 * rather than spin on a listener that stays readable. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct metrics_server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	ratelog(&srv->log_accept, LOG_WARN, "metrics: accept on %s: %s; pausing 1 s", srv->where,
		strerror(err));
	evconnlistener_disable(l);
	struct timeval tv = {1, 0};
	evtimer_add(srv->resume, &tv);
}

/* ---- the server ---- */

int metrics_server_open(struct metrics_server **out, const struct metrics_options *o,
			struct metric_set *set, struct err *e)
{
	struct sockaddr_storage sa;
	socklen_t len;
	struct err inner;
	*out = NULL;
	if (metrics_parse_listen(o->listen, &sa, &len, &inner))
		return err_set(e, "metrics.listen %s", inner.msg);
	struct metrics_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return err_set(e, "out of memory");
	srv->set = set;
	srv->fd = -1;
	int one = 1;
	srv->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0 || setsockopt(srv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(srv->fd, (struct sockaddr *)&sa, len) || listen(srv->fd, 64)) {
		err_set(e, "metrics.listen %s: %s", o->listen, strerror(errno));
		metrics_server_close(srv);
		return -1;
	}
	len = sizeof(sa);
	getsockname(srv->fd, (struct sockaddr *)&sa, &len);
	addr_text((struct sockaddr *)&sa, srv->where, sizeof(srv->where));
	*out = srv;
	return 0;
}

int metrics_server_start(struct metrics_server *srv, struct event_base *base, struct err *e)
{
	/* libevent writes to sockets with writev, which raises SIGPIPE when a
	 * client has reset the connection and a second write follows: that
	 * killed the daemon. The write fails with EPIPE instead and the
	 * connection is closed. */
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	sigemptyset(&ignore.sa_mask);
	if (sigaction(SIGPIPE, &ignore, NULL))
		return err_set(e, "metrics: cannot ignore SIGPIPE: %s", strerror(errno));
	srv->base = base;
	for (int i = 0; i < CONN_MAX; i++) {
		srv->conns[i].srv = srv;
		if (!(srv->conns[i].deadline = evtimer_new(base, on_deadline, &srv->conns[i])))
			return err_set(e, "metrics: out of memory");
	}
	srv->resume = evtimer_new(base, on_resume, srv);
	srv->listener = evconnlistener_new(
	    base, on_accept, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, srv->fd);
	if (!srv->resume || !srv->listener)
		return err_set(e, "metrics: cannot listen on %s", srv->where);
	srv->fd = -1; /* the listener's now */
	evconnlistener_set_error_cb(srv->listener, on_accept_error);
	log_info("metrics: serving http://%s/metrics", srv->where);
	return 0;
}

void metrics_server_close(struct metrics_server *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < CONN_MAX; i++) {
		if (srv->conns[i].bev)
			bufferevent_free(srv->conns[i].bev);
		if (srv->conns[i].deadline)
			event_free(srv->conns[i].deadline);
	}
	if (srv->listener)
		evconnlistener_free(srv->listener);
	if (srv->resume)
		event_free(srv->resume);
	if (srv->fd >= 0)
		close(srv->fd);
	body_unref(srv->body[0]);
	body_unref(srv->body[1]);
	free(srv);
}
