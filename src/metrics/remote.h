/* Remote write: hindsightd pushes its stored history to a Prometheus
 * remote-write 1.0 receiver (protobuf + snappy over HTTP POST), with the
 * names and labels of the naming table. The history in SQLite is the queue:
 * a sender thread reads committed ticks on its own connection, sends them in
 * order, and records the last acknowledged tick in remote_write_state
 * (schema/013), so an outage or a restart resumes where it stopped
 * (docs/prometheus.md, "Remote write").
 *
 *   rwproto.c  the pure protocol: the WriteRequest encoder and what an
 *              answer means (sent, retry, drop)
 *   remote.c   the sender thread, its HTTP client (libcurl) and its state
 */
#ifndef HINDSIGHT_REMOTE_H
#define HINDSIGHT_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "store/store.h"
#include "util/util.h"

/* ---- options (the `remote_write:` section of the configuration) ---- */

#define RW_MAX_LABELS 8

struct remote_write_options {
	char url[1024]; /* "": no remote write; http:// or https:// */
	char username[256];
	char password_file[4096];
	char bearer_token_file[4096];
	char ca_file[4096];	/* "" : the system's CA certificates */
	int64_t batch_ticks;	/* ticks per request at most while catching up */
	int64_t timeout_ms;	/* a request's whole time, connect to answer */
	int64_t max_backoff_ms; /* the longest wait between retries */
	/* labels added to every series (a series' own label of the same name
	 * wins); instance defaults to the host name, job to "hindsight" */
	size_t nlabels;
	struct {
		char name[64];
		char value[256];
	} labels[RW_MAX_LABELS];
};

void remote_write_options_default(struct remote_write_options *o);
/* Checks what only makes sense together (a scheme, one way to log in) and
 * reads nothing: the secret files are read when the sender starts. */
int remote_write_options_check(const struct remote_write_options *o, struct err *e);

/* ---- the WriteRequest encoder (pure) ---- */

/* A WriteRequest being built: series after series, each with its samples. */
struct rw_request {
	struct expo_out body;	/* the encoded WriteRequest */
	struct expo_out series; /* the TimeSeries being built */
	size_t nseries, nsamples;
	size_t series_samples; /* in the series being built */
};

void rw_request_reset(struct rw_request *r);
void rw_request_free(struct rw_request *r);
/* Starts a series: labels sorted by name, empty values left out, duplicate
 * names refused (-1): the caller merges and sorts (rw_labels_merge). */
int rw_series_begin(struct rw_request *r, const struct metric_label *labels, size_t n);
/* A sample of the current series; ms since the epoch, in ascending order. */
void rw_sample(struct rw_request *r, double value, int64_t ts_ms);
/* Ends the series (one without samples is left out). */
void rw_series_end(struct rw_request *r);

/* The labels of one series as the receiver gets them: __name__, the
 * series' labels and the extra ones (a series label wins over an extra one
 * of the same name), sorted by name. out holds n + nextra + 1 entries; the
 * strings are the callers'. Returns the count. */
size_t rw_labels_merge(const char *name, const struct metric_label *series, size_t n,
		       const struct metric_label *extra, size_t nextra, struct metric_label *out);

/* Snappy block format, as remote write wants it, through libsnappy loaded
 * by rwlib_load (metrics/rwlib.h), which must have succeeded. Returns 0 or
 * -1 (out of memory). */
int rw_compress(const char *in, size_t len, struct expo_out *out);

/* ---- what an answer means (pure) ---- */

enum rw_verdict {
	RW_SENT,  /* 2xx: acknowledged */
	RW_RETRY, /* no answer, 5xx, 429, a 4xx refusing the sender (401, 403, 404),
		     anything unexpected: wait and send again */
	RW_DROP,  /* the data refused for good (400, 413, Prometheus' permanent
		     5xx): skip the batch */
};

/* The verdict on an answer: status is the HTTP status, 0 when none came
 * (connection refused, timeout, a reply that is not HTTP). body is the
 * answer's start (NULL allowed). Prometheus 2.x answers 500 for a sample
 * beyond its out-of-order window ("too old sample", "out of bounds"), which
 * no retry can fix; a 4xx about credentials or the URL is retried, since
 * the same batch is taken once the configuration is fixed. */
enum rw_verdict rw_verdict_of(long status, const char *body, size_t len);
const char *rw_verdict_name(enum rw_verdict v);

/* The wait before retry n (1, 2, ...): doubling from 500 ms, capped. */
int64_t rw_backoff_ms(unsigned retry, int64_t max_ms);

/* ---- the sender ---- */

struct remote_writer;

/* What the sender did since the last call (for the tick's agent row). */
struct remote_write_stats {
	uint64_t requests;	  /* acknowledged */
	uint64_t samples;	  /* acknowledged */
	uint64_t bytes;		  /* compressed bodies acknowledged */
	uint64_t retries;	  /* requests that failed and will be sent again */
	uint64_t dropped_samples; /* in batches refused for good */
	int64_t lag_s;		  /* newest stored tick - last acknowledged, now */
};

/* Reads the secrets and the last acknowledged tick (a new URL starts after
 * the newest tick stored now), opens the sender's connections to db_path.
 * The store is the daemon's, used only here (the sender has its own). */
int remote_writer_open(struct remote_writer **out, const struct remote_write_options *o,
		       struct store *s, const char *db_path, struct err *e);
/* Starts the sender thread. */
int remote_writer_start(struct remote_writer *w, struct err *e);
/* The tick at ts committed: the sender may send up to it. Never waits on
 * the sender beyond a mutex held for a few instructions. */
void remote_writer_committed(struct remote_writer *w, int64_t ts);
/* Takes the counters since the last call. */
void remote_writer_take_stats(struct remote_writer *w, struct remote_write_stats *out);
/* Stops the thread (a request in flight is abandoned) and closes. */
void remote_writer_close(struct remote_writer *w);

#endif
