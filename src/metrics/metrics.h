/* Prometheus names for our rows: the naming table (schema/009_metrics.sql)
 * in memory, a set of series built by feeding it rows, their exposition
 * (Prometheus text 0.0.4, OpenMetrics 1.0), and hindsightd's /metrics
 * endpoint. The endpoint, the history export and remote write are renderers
 * of the same mapping (docs/prometheus.md).
 *
 *   naming.c   loads and checks metric_family, metric_key and metric_column
 *   set.c      series from rows: counters summed, gauges replaced; a tick's
 *              samples are pending until committed; the SQLite tap
 *   expo.c     exposition text, number formatting, content negotiation
 *   http.c     the endpoint: a small HTTP/1.1 server on libevent
 *   httphead.c the request head parser (pure, fuzzed)
 *   live.c     the daemon's metrics: the three above over its connection
 *   history.c  the stored history as samples, tick by tick (history.h)
 */
#ifndef HINDSIGHT_METRICS_H
#define HINDSIGHT_METRICS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store/store.h"
#include "util/util.h"

struct event_base;

/* ---- options (the `metrics:` section of the configuration) ---- */

struct metrics_options {
	char listen[128]; /* "" : no endpoint; "127.0.0.1:9256", "[::1]:9256", ":9256" */
};

/* "host:port" with a numeric IPv4 address, "[IPv6]:port", or ":port" for
 * every address, into a socket address. */
int metrics_parse_listen(const char *text, struct sockaddr_storage *sa, socklen_t *len,
			 struct err *e);

/* ---- the naming table ---- */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_UNTYPED };

/* value x scale, kept exact where the scale is a power of ten or an
 * integer: value * mul / 10^shift. */
struct metric_scale {
	double factor;
	int64_t mul;
	int shift; /* -1: not exact, use factor */
};
int metric_scale_of(double factor, struct metric_scale *out);

struct metric_family {
	char *name; /* as sampled (a counter's ends in _total) */
	char *help;
	char *unit; /* "" or the OpenMetrics unit the name ends with */
	enum metric_type type;
	/* 1: its columns hold deltas (a series table's counter columns, an
	 * event table's, or '*' counting rows), summed since the start; 0: the
	 * newest value wins. One or the other for all its columns. */
	int sums;
};

enum filter_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

/* One term of a row filter: <column> <op> <literal>. */
struct filter_term {
	char column[64]; /* as written: col or dim_table.col */
	int key;	 /* -1: the table's own column; else the key whose dimension has it */
	int col;	 /* index in the table's row, or in the dimension's columns */
	enum filter_op op;
	int is_text;
	int64_t num;
	char *text;
};

/* Parses "a >= 0 AND b = 'x'" (the grammar of metric_column.row_filter).
 * Terms only; columns are resolved by the loader. */
int metric_filter_parse(const char *text, struct filter_term **out, size_t *n, struct err *e);
void metric_filter_free(struct filter_term *t, size_t n);

/* A key column and the labels it gives. */
struct metric_key {
	char column[64];
	int col; /* index in the table's row */
	int dim; /* index in map->dims, -1: the key's own value */
	size_t nlabels;
	struct {
		char *label;
		int dim_col; /* index in the dimension's columns; -1 with dim -1 */
	} labels[4];
};

/* A label: name and value (unescaped). */
struct metric_label {
	char *name;
	char *value;
};

/* Parses constant labels in exposition syntax: a="x",b="y\"z". */
int metric_labels_parse(const char *text, struct metric_label **out, size_t *n, struct err *e);
void metric_labels_free(struct metric_label *l, size_t n);
/* Whether name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, with
 * label set, a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not __reserved). */
int metric_name_ok(const char *name, int label);

/* One metric_column row. */
struct metric_mapping {
	int col;    /* index in the table's row; -1: '*' (the value 1) */
	int family; /* index in map->families */
	struct metric_scale scale;
	struct metric_label *labels; /* constant labels */
	size_t nlabels;
	char *value_label;
	struct filter_term *filter;
	size_t nfilter;
};

/* A table some rows map from. state: neither a time series nor an event
 * table (boot, net_link, inventory): its newest rows are the current state,
 * replayed when a set is opened. */
struct metric_table {
	char name[64];
	int ncols;
	char (*cols)[64]; /* its columns in table order */
	struct metric_key *keys;
	size_t nkeys;
	struct metric_mapping *maps;
	size_t nmaps;
	int state;
};

/* A dimension table some key names (id INTEGER PRIMARY KEY, then columns). */
struct metric_dim {
	char name[64];
	int id_col; /* index of id in the table's row */
	int ncols;  /* columns kept */
	char (*cols)[64];
	int *col; /* index of each kept column in the table's row */
	/* index in the table's row of the column that ends a row (dimension_table,
	 * schema/010_cgroups.sql: cgroup.gone_ts), -1: none. A row with it set
	 * names a thing that no longer exists (a cgroup removed). */
	int gone_col;
	char gone_name[64]; /* its name */
};

struct metric_map {
	struct metric_family *families; /* sorted by name */
	size_t nfamilies;
	struct metric_table *tables;
	size_t ntables;
	struct metric_dim *dims;
	size_t ndims;
};

/* Reads and checks the naming table of the database: every table, column,
 * dimension and label it names must exist and be well formed; an error names
 * the offending row. Works on a read-only connection. */
int metric_map_load(struct metric_map *m, sqlite3 *db, struct err *e);
void metric_map_free(struct metric_map *m);
int metric_map_table(const struct metric_map *m, const char *name);  /* -1: none */
int metric_map_dim(const struct metric_map *m, const char *name);    /* -1: none */
int metric_map_family(const struct metric_map *m, const char *name); /* -1: none */

/* ---- series ---- */

struct metric_series;
struct metric_set;

/* A column of the row being fed (in table order), NULL when absent. Asked
 * for METRIC_ROW_WEIGHT, how many samples the row stands for (a rollup
 * row's samples_count; NULL: one), which '*' counts. */
#define METRIC_ROW_WEIGHT (-1)
typedef sqlite3_value *(*metric_row_fn)(void *row, int col);

/* An empty set over a map (which must outlive it). */
struct metric_set *metric_set_new(const struct metric_map *m);
void metric_set_free(struct metric_set *s);
/* Feeds a row of table t (metric_map_table): its samples are pending until
 * metric_set_commit. Returns -1 only when out of memory. */
int metric_set_row(struct metric_set *s, int table, metric_row_fn get, void *row);
/* A row inserted or updated in a dimension table (metric_map_dim): applied
 * at once, so a name and the rows that use it can come in one tick. */
int metric_set_dim_row(struct metric_set *s, int dim, metric_row_fn get, void *row);
/* A dimension row is gone (its end is set): the series whose labels came
 * from it leave at the next commit. The tap does this by itself; a reader
 * of stored rows (history.c) says so when its replay reaches the end. */
int metric_set_dim_gone(struct metric_set *s, int dim, int64_t id);
/* The pending samples become the values (counters add, gauges replace). */
void metric_set_commit(struct metric_set *s);
/* The pending samples are dropped (the transaction rolled back). */
void metric_set_discard(struct metric_set *s);
/* Bumped by every commit that changed a value: a renderer's cache key. */
uint64_t metric_set_generation(const struct metric_set *s);
size_t metric_set_series_count(const struct metric_set *s);

/* Loads every dimension's rows (but those already gone) and replays the state tables (their rows in
 * key order, the newest last), then commits. */
int metric_set_load(struct metric_set *s, sqlite3 *db, struct err *e);
/* Rows fed from now on are this run's, as the tap's are: a device, mount or
 * group they name shows its counters at 0 until it counts something. */
void metric_set_follow(struct metric_set *s);
/* Every counter's value becomes 0 (they count from here). */
void metric_set_zero_counters(struct metric_set *s);
/* Taps db: from now on every row inserted or updated in a mapped table or
 * dimension is fed to the set (sqlite3_preupdate_hook). The caller commits
 * or discards with its transactions. NULL set removes the tap. A tapped set
 * forgets what is gone: when a dimension row gets its end (gone_col), the series
 * whose labels came from it leave the set at the commit. */
void metric_set_tap(struct metric_set *s, sqlite3 *db);

const struct metric_map *metric_set_map(const struct metric_set *s);
/* How many series of a family have a committed value. */
size_t metric_set_family_count(const struct metric_set *s, int family);
/* Visits the committed series of one family in the order they appeared:
 * labels as rendered (a="x",b="y", no braces), value in the unit of the
 * column it came from, and the scale to the family's unit. */
typedef void (*metric_series_fn)(void *arg, const char *labels, double value,
				 const struct metric_scale *scale);
void metric_set_visit(const struct metric_set *s, int family, metric_series_fn fn, void *arg);
/* How many times metric_set_commit ran. */
uint64_t metric_set_commits(const struct metric_set *s);
/* metric_set_visit, also saying from which commit (metric_set_commits
 * after it) each series has had a value. */
typedef void (*metric_born_fn)(void *arg, const char *labels, double value,
			       const struct metric_scale *scale, uint64_t born);
void metric_set_visit_born(const struct metric_set *s, int family, metric_born_fn fn, void *arg);
/* The committed value of one series (labels as rendered, without braces:
 * a="x",b="y"); returns -1 when it has none. For tests. */
int metric_set_value(const struct metric_set *s, const char *family, const char *labels,
		     double *out);

/* ---- exposition ---- */

enum expo_format {
	EXPO_TEXT,   /* text/plain; version=0.0.4 */
	EXPO_OM_1,   /* application/openmetrics-text; version=1.0.0 */
	EXPO_OM_001, /* the same body announced as version=0.0.1 */
};
const char *expo_content_type(enum expo_format f);
/* The format to answer an Accept header with (NULL or empty: text), as
 * Prometheus' client libraries choose: the acceptable entry with the
 * highest q, the first of equals; text when nothing is acceptable. */
enum expo_format expo_negotiate(const char *accept);

/* A growable output buffer. */
struct expo_out {
	char *data;
	size_t len, cap;
	int failed; /* out of memory: the text is incomplete */
};
void expo_out_free(struct expo_out *o);
void expo_out_add(struct expo_out *o, const char *s, size_t n);
void expo_out_str(struct expo_out *o, const char *s);

/* Writes every family of the set that has a value, sorted by name, with
 * HELP and TYPE (and UNIT in OpenMetrics); no "# EOF" (expo_end adds it). */
void expo_render(struct expo_out *o, const struct metric_set *s, enum expo_format f);
/* A family rendered by hand (the endpoint's own counters). */
void expo_family_head(struct expo_out *o, const char *name, enum metric_type type, const char *help,
		      const char *unit, enum expo_format f);
void expo_sample(struct expo_out *o, const char *name, const char *labels, double value);
void expo_end(struct expo_out *o, enum expo_format f);
/* A number as exposition writes it: integers exactly, others as the shortest
 * text that reads back the same; NaN, +Inf, -Inf. Returns the length. */
size_t expo_number(char *out, size_t n, double v);
/* value x scale, exact for exact scales (1024, 0.001): "56.608" not
 * "56.608000000000004". */
size_t expo_scaled(char *out, size_t n, double value, const struct metric_scale *sc);
/* Appends a label value escaped for exposition (\\, \", \n). */
void expo_label_value(struct expo_out *o, const char *v);

/* ---- the HTTP request head (httphead.c) ---- */

#define HTTP_HEAD_MAX 8192 /* request line and headers */

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_head {
	enum http_method method;
	char path[256];	  /* the target up to '?' */
	char accept[512]; /* Accept headers joined by ", " (cut at the end when longer) */
	int minor;	  /* HTTP/1.<minor> */
	int keep_alive;	  /* the connection stays open after the answer */
	int has_body;	  /* Content-Length > 0 or a Transfer-Encoding */
};

/* Parses a request head from the start of buf. Returns its length (through
 * the empty line) when complete, 0 when more bytes are needed, or -status
 * for a request that is refused: -400 malformed, -414 target too long,
 * -431 head over HTTP_HEAD_MAX, -505 not HTTP/1.x. A method other than GET
 * and HEAD parses (HTTP_OTHER) for the caller to refuse. */
int http_head_parse(const char *buf, size_t len, struct http_head *h);
const char *http_reason(int status);

/* ---- the endpoint (http.c) ---- */

struct metrics_server;

/* Binds the listening socket now, so a taken port stops the start. */
int metrics_server_open(struct metrics_server **out, const struct metrics_options *o,
			struct metric_set *set, struct err *e);
/* Starts accepting on the loop. */
int metrics_server_start(struct metrics_server *srv, struct event_base *base, struct err *e);
void metrics_server_close(struct metrics_server *srv);

/* ---- the daemon's metrics (live.c) ---- */

struct metrics;

/* Loads the naming table and the current state from the database, taps
 * its connection and binds the endpoint. Call after the migrations and
 * before anything writes rows of this run. */
int metrics_open(struct metrics **out, const struct metrics_options *o, struct store *s,
		 struct err *e);
int metrics_start(struct metrics *m, struct event_base *base, struct err *e);
/* The tick's transaction committed: its rows are what /metrics shows. */
void metrics_commit(struct metrics *m);
/* It rolled back: its rows never happened. */
void metrics_discard(struct metrics *m);
void metrics_close(struct metrics *m);

#endif
