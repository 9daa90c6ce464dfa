/* Remote write's sender: a thread that follows the stored history
 * (metrics/history.h) on its own read-only connection, encodes each batch of
 * ticks as a WriteRequest (rwproto.c), posts it with libcurl (loaded at run
 * time, rwlib.h), and records the last acknowledged tick in
 * remote_write_state on a second connection of its own. The tick thread only tells it that a tick
 * committed (a mutex and a condition variable), so a slow, dead or hostile receiver never delays a
 * tick: the ticks wait in the database, which is the queue. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/history.h"
#include "metrics/remote.h"
#include "metrics/rwlib.h"

#define ANSWER_KEEP   512	 /* bytes of an answer's body kept for the verdict and the log */
#define SECRET_MAX    4096	 /* a password or token file */
#define IDLE_WAIT_MS  5000	 /* a wake-up without a commit signal */
#define LOG_EVERY_US  60000000LL /* a repeated kind of trouble is logged once a minute */
#define STOP_GRACE_US 5000000LL	 /* how long a stopping daemon waits for the request in flight */

/* ---- options ---- */

void remote_write_options_default(struct remote_write_options *o)
{
	memset(o, 0, sizeof(*o));
	o->batch_ticks = 10;
	o->timeout_ms = 30000;
	o->max_backoff_ms = 30000;
}

int remote_write_options_check(const struct remote_write_options *o, struct err *e)
{
	if (!o->url[0])
		return 0;
	if (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8))
		return err_set(e, "remote_write.url must start with http:// or https:// (got '%s')",
			       o->url);
	if (o->url[strcspn(o->url, " \t\r\n")])
		return err_set(e, "remote_write.url must not contain white space");
	if (o->bearer_token_file[0] && (o->username[0] || o->password_file[0]))
		return err_set(e, "remote_write: give basic_auth or bearer_token_file, not both");
	if (!o->username[0] != !o->password_file[0])
		return err_set(e, "remote_write.basic_auth needs both username and password_file");
	if (o->ca_file[0] && strncmp(o->url, "https://", 8))
		return err_set(e, "remote_write.ca_file is for an https:// url");
	return 0;
}

/* ---- the writer ---- */

/* A kind of trouble logged once a minute with a count of the rest. */
struct log_limit {
	int64_t last_us;
	uint64_t since;
};

struct remote_writer {
	struct remote_write_options o;
	char db_path[4200];
	sqlite3 *hist;	/* the sender's read-only connection (the iterator's) */
	sqlite3 *state; /* the sender's own connection, for remote_write_state only */
	sqlite3_stmt *save_ack;
	struct metric_history *history;
	CURL *curl;
	struct curl_slist *headers;
	char curl_error[CURL_ERROR_SIZE];
	char answer[ANSWER_KEEP];
	size_t answer_len;
	struct metric_label extra[RW_MAX_LABELS + 2];
	size_t nextra;
	char hostname[256];

	/* the batch being sent */
	struct rw_request req;
	struct expo_out packed;
	int64_t batch_first, batch_last; /* ticks in it */
	size_t batch_ticks;
	/* Ticks still to send one per request after the start: the request
	 * in flight when the daemon last stopped may have reached the receiver
	 * unrecorded, and its counters now count from a new start, so the
	 * receiver refuses those ticks as duplicates (400); alone, no tick it
	 * lacks goes with them. */
	int64_t single_ticks;

	/* the sender's own */
	int64_t acked_ts;	  /* last acknowledged (or dropped) tick */
	int64_t saved_ts;	  /* last written to remote_write_state */
	unsigned failures;	  /* consecutive failed attempts of the batch */
	int64_t outage_start_us;  /* the first failure of this run of them */
	struct log_limit drops;	  /* batches refused for good */
	struct log_limit retries; /* failed attempts (one line per outage, then a minute) */
	struct log_limit read_errors, bad_labels;
	int save_failing;

	/* shared with the tick thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int64_t stop_us; /* when stop was set (monotonic) */
	int64_t committed_ts;
	struct remote_write_stats stats;
	pthread_t thread;
	int started;
};

/* Whether to log a trouble now: the first at once, the rest once a minute
 * (the count says how many were not logged). */
static int log_now(struct log_limit *l, uint64_t *unlogged)
{
	int64_t now = clock_mono_us();
	if (l->last_us && now - l->last_us < LOG_EVERY_US) {
		l->since++;
		return 0;
	}
	*unlogged = l->since;
	l->since = 0;
	l->last_us = now;
	return 1;
}

/* "; and 12 more <what> since the last such line" when some were not
 * logged, else "". */
static const char *more_text(uint64_t unlogged, const char *what, char *out, size_t n)
{
	if (!unlogged)
		return "";
	snprintf(out, n, "; and %llu more %s since the last such line",
		 (unsigned long long)unlogged, what);
	return out;
}

/* A secret file's first line (a password or a token). */
static int read_secret(const char *path, char *out, size_t n, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	ssize_t got = read(fd, out, n - 1);
	int saved = errno;
	close(fd);
	if (got < 0)
		return err_set(e, "%s: %s", path, strerror(saved));
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!out[0])
		return err_set(e, "%s: empty", path);
	return 0;
}

static size_t on_answer(char *data, size_t size, size_t nmemb, void *arg)
{
	struct remote_writer *w = arg;
	size_t n = size * nmemb, room = sizeof(w->answer) - 1 - w->answer_len;
	memcpy(w->answer + w->answer_len, data, n < room ? n : room);
	w->answer_len += n < room ? n : room;
	w->answer[w->answer_len] = '\0';
	return n;
}

/* Called by libcurl while a request runs. A stopping daemon lets the
 * request in flight finish for STOP_GRACE_US, so its acknowledgement is
 * recorded: abandoned, it may have reached the receiver unrecorded, and a
 * restart would send its ticks again with counters from the new start
 * (refused as duplicates, and counted twice across the reset). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct remote_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	int abandon = w->stop && clock_mono_us() - w->stop_us > STOP_GRACE_US;
	pthread_mutex_unlock(&w->mu);
	return abandon;
}

/* The HTTP client: one handle, reused so the connection is kept alive. The
 * headers are the spec's; the credentials are read from their files here,
 * once per start. */
static int curl_setup(struct remote_writer *w, struct err *e)
{
	static const char *headers[] = {
	    "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
	    "X-Prometheus-Remote-Write-Version: 0.1.0", "Expect:", /* no 100-continue round trip */
	};
	char secret[SECRET_MAX], header[SECRET_MAX + 32];
	if (!(w->curl = rwlib.easy_init()))
		return err_set(e, "remote_write: cannot start the HTTP client");
	for (size_t i = 0; i < ARRAY_LEN(headers); i++)
		w->headers = rwlib.slist_append(w->headers, headers[i]);
	if (w->o.bearer_token_file[0]) {
		if (read_secret(w->o.bearer_token_file, secret, sizeof(secret), e))
			return err_set(e, "remote_write.bearer_token_file %s", e->msg);
		snprintf(header, sizeof(header), "Authorization: Bearer %s", secret);
		w->headers = rwlib.slist_append(w->headers, header);
	}
	if (w->o.username[0]) {
		if (read_secret(w->o.password_file, secret, sizeof(secret), e))
			return err_set(e, "remote_write.basic_auth.password_file %s", e->msg);
		rwlib.easy_setopt(w->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		rwlib.easy_setopt(w->curl, CURLOPT_USERNAME, w->o.username);
		rwlib.easy_setopt(w->curl, CURLOPT_PASSWORD, secret);
	}
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(header, sizeof(header));
	if (!w->headers)
		return err_set(e, "out of memory");
	rwlib.easy_setopt(w->curl, CURLOPT_URL, w->o.url);
	rwlib.easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rwlib.easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->headers);
	rwlib.easy_setopt(w->curl, CURLOPT_USERAGENT, "hindsight/" HINDSIGHT_VERSION);
	rwlib.easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	rwlib.easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)w->o.timeout_ms);
	rwlib.easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)w->o.timeout_ms);
	rwlib.easy_setopt(w->curl, CURLOPT_ERRORBUFFER, w->curl_error);
	rwlib.easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_answer);
	rwlib.easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
	rwlib.easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
	rwlib.easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	rwlib.easy_setopt(w->curl, CURLOPT_XFERINFODATA, w);
	if (w->o.ca_file[0])
		rwlib.easy_setopt(w->curl, CURLOPT_CAINFO, w->o.ca_file);
	return 0;
}

/* The labels every series gets: the configured ones, then instance (the
 * host name) and job ("hindsight") unless configured. */
static void extra_labels(struct remote_writer *w)
{
	int has_instance = 0, has_job = 0;
	for (size_t i = 0; i < w->o.nlabels; i++) {
		w->extra[w->nextra++] =
		    (struct metric_label){w->o.labels[i].name, w->o.labels[i].value};
		has_instance |= strcmp(w->o.labels[i].name, "instance") == 0;
		has_job |= strcmp(w->o.labels[i].name, "job") == 0;
	}
	if (!has_instance && gethostname(w->hostname, sizeof(w->hostname) - 1) == 0)
		w->extra[w->nextra++] = (struct metric_label){(char *)"instance", w->hostname};
	if (!has_job)
		w->extra[w->nextra++] = (struct metric_label){(char *)"job", (char *)"hindsight"};
}

/* Where to start: the URL's acknowledged tick, or for a URL seen for the
 * first time the newest tick stored now (its row is written at once, so a
 * restart before the first send starts there too). A new database starts
 * now: the kernel log's backlog, read at the first tick, is dated back to
 * the boot, further back than any receiver takes. */
static int load_ack(struct remote_writer *w, struct store *s, struct err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT acked_ts FROM remote_write_state WHERE url = ?",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return err_set(e, "remote_write: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, w->o.url, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		w->acked_ts = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (found) {
		w->saved_ts = w->acked_ts;
		return 0;
	}
	w->acked_ts = store_query_int(s, "SELECT max(ts) FROM agent", clock_wall_s());
	char *sql = sqlite3_mprintf("INSERT INTO remote_write_state(url, acked_ts, updated_ts) "
				    "VALUES (%Q, %lld, %lld)",
				    w->o.url, (long long)w->acked_ts, (long long)clock_wall_s());
	rc = sql ? store_exec(s, sql, e) : err_set(e, "out of memory");
	sqlite3_free(sql);
	w->saved_ts = w->acked_ts;
	return rc;
}

static int open_db(sqlite3 **db, const char *path, int flags, struct err *e)
{
	if (sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return err_set(e, "remote_write: %s: %s", path,
			       *db ? sqlite3_errmsg(*db) : "out of memory");
	sqlite3_busy_timeout(*db, 1000);
	/* as the daemon's: a commit (the acknowledged tick) syncs nothing */
	sqlite3_exec(*db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	return 0;
}

int remote_writer_open(struct remote_writer **out, const struct remote_write_options *o,
		       struct store *s, const char *db_path, struct err *e)
{
	struct remote_writer *w = calloc(1, sizeof(*w));
	*out = w;
	if (!w)
		return err_set(e, "out of memory");
	w->o = *o;
	pthread_condattr_t ca;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_ms: a wall step moves no wait */
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(w->db_path, sizeof(w->db_path), "%s", db_path);
	if (rwlib_load(e))
		return -1;
	if (rwlib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, "remote_write: cannot initialise libcurl");
	extra_labels(w);
	if (curl_setup(w, e) || load_ack(w, s, e) ||
	    open_db(&w->hist, db_path, SQLITE_OPEN_READONLY, e) ||
	    open_db(&w->state, db_path, SQLITE_OPEN_READWRITE, e))
		return -1;
	if (sqlite3_prepare_v2(w->state,
			       "UPDATE remote_write_state SET acked_ts = ?, updated_ts = ? "
			       "WHERE url = ?",
			       -1, &w->save_ack, NULL) != SQLITE_OK)
		return err_set(e, "remote_write: %s", sqlite3_errmsg(w->state));
	struct err inner;
	if (metric_history_open(&w->history, w->hist, w->acked_ts, INT64_MAX, NULL, 0, &inner))
		return err_set(e, "remote_write: %s", inner.msg);
	/* a tick goes once the next is stored: exits and kernel log records
	 * dated within it are committed by the next tick */
	metric_history_follow(w->history);
	w->committed_ts = w->acked_ts;
	w->single_ticks = w->o.batch_ticks;
	return 0;
}

/* Records the acknowledged tick; a failure (the database busy or full) is
 * logged once and the write tried again after the next batch. */
static void save_ack(struct remote_writer *w)
{
	if (w->saved_ts == w->acked_ts)
		return;
	sqlite3_bind_int64(w->save_ack, 1, w->acked_ts);
	sqlite3_bind_int64(w->save_ack, 2, clock_wall_s());
	sqlite3_bind_text(w->save_ack, 3, w->o.url, -1, SQLITE_STATIC);
	int rc = sqlite3_step(w->save_ack);
	sqlite3_reset(w->save_ack);
	if (rc == SQLITE_DONE) {
		w->saved_ts = w->acked_ts;
		if (w->save_failing)
			log_info("remote_write: the acknowledged tick is recorded again");
		w->save_failing = 0;
	} else if (!w->save_failing) {
		log_warn("remote_write: cannot record the acknowledged tick %lld: %s; a restart "
			 "now would send some ticks again",
			 (long long)w->acked_ts, sqlite3_errmsg(w->state));
		w->save_failing = 1;
	}
}

static void batch_done(struct remote_writer *w, enum rw_verdict v);

/* ---- building a batch ---- */

struct encode_ctx {
	struct remote_writer *w;
	size_t skipped; /* samples whose labels did not parse (never expected) */
};

/* One sample of the tick as a TimeSeries of one sample: a tick's series are
 * all different, and a batch's ticks share their labels, which snappy folds
 * away. */
static int encode_sample(void *arg, const struct history_sample *s)
{
	struct encode_ctx *c = arg;
	struct remote_writer *w = c->w;
	struct metric_label *series = NULL;
	size_t n = 0;
	struct err e;
	if (s->labels[0] && metric_labels_parse(s->labels, &series, &n, &e)) {
		c->skipped++;
		return 0;
	}
	struct metric_label merged[n + w->nextra + 1];
	size_t k = rw_labels_merge(s->fam->name, series, n, w->extra, w->nextra, merged);
	if (rw_series_begin(&w->req, merged, k) == 0) {
		/* a counter that appeared: its 0 at the tick before, so the
		 * receiver counts this tick's delta */
		if (s->zero_ts != INT64_MIN)
			rw_sample(&w->req, 0, s->zero_ts * 1000);
		rw_sample(&w->req, s->value, s->ts * 1000);
		rw_series_end(&w->req);
	}
	metric_labels_free(series, n);
	return 0;
}

/* Fills the batch with the next ticks (at most batch_ticks) and compresses
 * it. Returns the number of ticks, 0 when none is stored yet, -1 on a read
 * error (logged). */
static int build_batch(struct remote_writer *w)
{
	struct encode_ctx c = {.w = w};
	struct err e;
	int64_t ts;
	int got = 0;
	size_t most = w->single_ticks > 0 ? 1 : (size_t)w->o.batch_ticks;
	rw_request_reset(&w->req);
	w->batch_ticks = 0;
	while (w->batch_ticks < most && (got = metric_history_next(w->history, &ts, &e)) == 1) {
		if (!w->batch_ticks)
			w->batch_first = ts;
		w->batch_last = ts;
		w->batch_ticks++;
		metric_history_samples(w->history, encode_sample, &c);
	}
	uint64_t unlogged;
	char more[96];
	if (w->batch_ticks < most && got < 0 && log_now(&w->read_errors, &unlogged))
		log_error("remote_write: reading the history: %s; trying again%s", e.msg,
			  more_text(unlogged, "read errors", more, sizeof(more)));
	if (!w->batch_ticks)
		return got < 0 ? -1 : 0;
	/* no snapshot held while the network is waited for: it would keep the
	 * WAL from being checkpointed for as long as a receiver is down */
	if (metric_history_pause(w->history, &e) && log_now(&w->read_errors, &unlogged))
		log_error("remote_write: %s", e.msg);
	w->single_ticks -= (int64_t)w->batch_ticks;
	if (c.skipped && log_now(&w->bad_labels, &unlogged))
		log_error(
		    "remote_write: %zu samples up to tick %lld have labels that do not parse; "
		    "left out%s",
		    c.skipped, (long long)w->batch_last,
		    more_text(unlogged, "such batches", more, sizeof(more)));
	if (w->req.body.failed || rw_compress(w->req.body.data, w->req.body.len, &w->packed)) {
		log_error("remote_write: out of memory building the batch of ticks %lld..%lld; "
			  "skipped",
			  (long long)w->batch_first, (long long)w->batch_last);
		batch_done(w, RW_DROP);
		return 0;
	}
	return (int)w->batch_ticks;
}

/* ---- sending ---- */

/* Posts the batch once: the verdict, and in why what the receiver or the
 * connection said. */
static enum rw_verdict post_batch(struct remote_writer *w, long *status, char *why, size_t n)
{
	w->answer_len = 0;
	w->answer[0] = w->curl_error[0] = '\0';
	*status = 0;
	rwlib.easy_setopt(w->curl, CURLOPT_POSTFIELDS, w->packed.data);
	rwlib.easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)w->packed.len);
	CURLcode rc = rwlib.easy_perform(w->curl);
	if (rc != CURLE_OK) {
		const char *what =
		    rc == CURLE_OPERATION_TIMEDOUT ? "no answer in time: "
		    : rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_UNSUPPORTED_PROTOCOL
			? "the answer is not HTTP: "
			: "";
		snprintf(why, n, "%s%s", what,
			 w->curl_error[0] ? w->curl_error : rwlib.easy_strerror(rc));
		return RW_RETRY;
	}
	rwlib.easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, status);
	/* the answer's first line, printable, for the log */
	size_t len = strcspn(w->answer, "\r\n");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)w->answer[i] < 0x20 || (unsigned char)w->answer[i] > 0x7e)
			w->answer[i] = '?';
	snprintf(why, n, "HTTP %ld%s%.*s", *status, len ? ": " : "", (int)(len > 200 ? 200 : len),
		 w->answer);
	return rw_verdict_of(*status, w->answer, w->answer_len);
}

static void tick_range(const struct remote_writer *w, char *out, size_t n)
{
	if (w->batch_first == w->batch_last)
		snprintf(out, n, "tick %lld", (long long)w->batch_first);
	else
		snprintf(out, n, "ticks %lld..%lld", (long long)w->batch_first,
			 (long long)w->batch_last);
}

/* Waits up to ms, or until stopped, or (seen >= 0) until a tick after
 * seen commits; returns stop. */
static int wait_ms(struct remote_writer *w, int64_t ms, int64_t seen)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->stop && (seen < 0 || w->committed_ts == seen))
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
			break;
	int stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	return stop;
}

static int stopping(struct remote_writer *w)
{
	pthread_mutex_lock(&w->mu);
	int stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	return stop;
}

/* The batch is done with (acknowledged or refused for good). */
static void batch_done(struct remote_writer *w, enum rw_verdict v)
{
	pthread_mutex_lock(&w->mu);
	if (v == RW_SENT) {
		w->stats.requests++;
		w->stats.samples += w->req.nsamples;
		w->stats.bytes += w->packed.len;
	} else {
		w->stats.dropped_samples += w->req.nsamples;
	}
	w->acked_ts = w->batch_last;
	pthread_mutex_unlock(&w->mu);
	save_ack(w);
}

/* A failed attempt: log the first of an outage and then once a minute;
 * count it; wait the backoff. Returns stop. */
static int batch_failed(struct remote_writer *w, const char *why)
{
	char range[64], more[96];
	uint64_t unlogged;
	tick_range(w, range, sizeof(range));
	if (!w->failures++)
		w->outage_start_us = clock_mono_us();
	if (log_now(&w->retries, &unlogged))
		log_warn("remote_write: %s: %s; %s wait%s in the database, retrying (attempt "
			 "%u)%s",
			 w->o.url, why, range, w->batch_first == w->batch_last ? "s" : "",
			 w->failures, more_text(unlogged, "failed attempts", more, sizeof(more)));
	pthread_mutex_lock(&w->mu);
	w->stats.retries++;
	pthread_mutex_unlock(&w->mu);
	return wait_ms(w, rw_backoff_ms(w->failures, w->o.max_backoff_ms), -1);
}

/* Sends the batch until it is acknowledged or refused for good, or the
 * daemon stops. */
static void send_batch(struct remote_writer *w)
{
	char why[300], range[64];
	long status;
	for (;;) {
		enum rw_verdict v = post_batch(w, &status, why, sizeof(why));
		if (v == RW_RETRY) {
			if (batch_failed(w, why) || stopping(w))
				return;
			continue;
		}
		if (w->failures) {
			log_info("remote_write: %s answers again after %u failed attempts over "
				 "%llds; catching up from %lld",
				 w->o.url, w->failures,
				 (long long)((clock_mono_us() - w->outage_start_us) / 1000000),
				 (long long)w->batch_first);
			w->failures = 0;
			w->retries.last_us = 0;
		}
		if (v == RW_DROP) {
			uint64_t unlogged;
			char more[96];
			tick_range(w, range, sizeof(range));
			if (log_now(&w->drops, &unlogged))
				log_error(
				    "remote_write: %s refused %s for good (%s); skipped its "
				    "%zu samples%s",
				    w->o.url, range, why, w->req.nsamples,
				    more_text(unlogged, "batches skipped", more, sizeof(more)));
		}
		batch_done(w, v);
		return;
	}
}

static void *sender_main(void *arg)
{
	struct remote_writer *w = arg;
	while (!stopping(w)) {
		pthread_mutex_lock(&w->mu);
		int64_t seen = w->committed_ts; /* before reading: no commit is missed */
		pthread_mutex_unlock(&w->mu);
		int got = build_batch(w);
		if (got > 0)
			send_batch(w);
		else if (wait_ms(w, IDLE_WAIT_MS, got < 0 ? -1 : seen))
			break;
	}
	return NULL;
}

int remote_writer_start(struct remote_writer *w, struct err *e)
{
	int rc = pthread_create(&w->thread, NULL, sender_main, w);
	if (rc)
		return err_set(e, "remote_write: cannot start its thread: %s", strerror(rc));
	w->started = 1;
	pthread_setname_np(w->thread, "hs-remote"); /* top -H, bench/remote_write */
	log_info("remote_write: sending to %s from the tick after %lld", w->o.url,
		 (long long)w->acked_ts);
	return 0;
}

void remote_writer_committed(struct remote_writer *w, int64_t ts)
{
	pthread_mutex_lock(&w->mu);
	w->committed_ts = ts;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void remote_writer_take_stats(struct remote_writer *w, struct remote_write_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	out->lag_s = w->committed_ts > w->acked_ts ? w->committed_ts - w->acked_ts : 0;
	memset(&w->stats, 0, sizeof(w->stats));
	pthread_mutex_unlock(&w->mu);
}

void remote_writer_close(struct remote_writer *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		w->stop_us = clock_mono_us();
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	metric_history_close(w->history);
	if (w->save_ack)
		sqlite3_finalize(w->save_ack);
	sqlite3_close(w->hist);
	sqlite3_close(w->state);
	if (w->curl)
		rwlib.easy_cleanup(w->curl);
	if (w->headers) /* set only once rwlib is loaded */
		rwlib.slist_free_all(w->headers);
	rw_request_free(&w->req);
	expo_out_free(&w->packed);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
