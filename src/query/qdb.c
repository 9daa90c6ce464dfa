/* The query tool's connection: read-only, with an authorizer that refuses
 * anything but reading, a time limit per statement and a memory limit. The
 * daemon writes in WAL mode, so a reader never blocks it; the tool keeps its
 * read transactions short (see paging.c) so checkpoints are not held back. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "query/query.h"
#include "store/tiers.h"

static int deny(struct qdb *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int deny(struct qdb *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->denied, sizeof(q->denied), fmt, ap);
	va_end(ap);
	return SQLITE_DENY;
}

/* Pragmas that only report; the first group takes a name as argument
 * (table_info(cpu)), the second must have none (user_version=5 sets it). */
static int pragma_reads(const char *name, const char *arg)
{
	static const char *const with_arg[] = {
	    "table_info",	"table_xinfo",	   "index_list",     "index_info",    "index_xinfo",
	    "foreign_key_list", "database_list",   "collation_list", "function_list", "module_list",
	    "pragma_list",	"compile_options", "table_list",
	};
	static const char *const bare[] = {
	    "page_count",      "page_size",    "freelist_count", "user_version", "schema_version",
	    "application_id",  "data_version", "journal_mode",	 "auto_vacuum",	 "encoding",
	    "integrity_check", "quick_check",  "max_page_count",
	};
	for (size_t i = 0; i < ARRAY_LEN(with_arg); i++)
		if (strcasecmp(name, with_arg[i]) == 0)
			return 1;
	for (size_t i = 0; i < ARRAY_LEN(bare); i++)
		if (strcasecmp(name, bare[i]) == 0)
			return arg == NULL;
	return 0;
}

static const char *action_name(int action)
{
	switch (action) {
	case SQLITE_INSERT:
		return "INSERT";
	case SQLITE_UPDATE:
		return "UPDATE";
	case SQLITE_DELETE:
		return "DELETE";
	case SQLITE_ALTER_TABLE:
		return "ALTER TABLE";
	case SQLITE_REINDEX:
		return "REINDEX";
	case SQLITE_ANALYZE:
		return "ANALYZE";
	case SQLITE_CREATE_VTABLE:
		return "CREATE VIRTUAL TABLE";
	case SQLITE_DROP_VTABLE:
		return "DROP VIRTUAL TABLE";
	default:
		if (action >= SQLITE_CREATE_INDEX && action <= SQLITE_DROP_VIEW)
			return "CREATE or DROP";
		return "this statement";
	}
}

/* The authorizer: SQLite asks it about every action while compiling a
 * statement, so a refusal happens before anything runs. */
static int authorize(void *arg, int action, const char *a1, const char *a2, const char *dbname,
		     const char *trigger)
{
	struct qdb *q = arg;
	if (q->pinning)
		return SQLITE_OK; /* the tool's own TEMP views (qdb_pin) */
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_FUNCTION:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		if (pragma_reads(a1, a2))
			return SQLITE_OK;
		return deny(q,
			    "PRAGMA %s%s%s is refused: hindsight does not change database "
			    "settings (read-only pragmas such as table_info(NAME) are allowed)",
			    a1, a2 ? " " : "", a2 ? a2 : "");
	case SQLITE_UPDATE:
		/* SQLite itself asks this while it sets up a built-in virtual
		 * table such as dbstat. A user's UPDATE of the schema table is
		 * still refused: qdb_prepare_user runs only statements that
		 * sqlite3_stmt_readonly() calls read-only, on a read-only file. */
		if (a1 && strcmp(a1, "sqlite_master") == 0)
			return SQLITE_OK;
		return deny(q, "UPDATE is refused: hindsight opens the database read-only and runs "
			       "only SELECT, WITH, EXPLAIN and read-only PRAGMAs");
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
		return deny(q, "%s is refused: hindsight reads only the database it opened",
			    action == SQLITE_ATTACH ? "ATTACH" : "DETACH");
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return deny(q, "transaction statements are refused: each query runs on its own "
			       "and holds no transaction open");
	case SQLITE_INSERT:
	case SQLITE_DELETE:
		/* CREATE and DROP first ask to change the schema table. */
		if (a1 &&
		    (strcmp(a1, "sqlite_master") == 0 || strcmp(a1, "sqlite_temp_master") == 0))
			return deny(q, "changing the schema (CREATE, DROP) is refused: hindsight "
				       "opens the database read-only");
		return deny(q,
			    "%s is refused: hindsight opens the database read-only and runs only "
			    "SELECT, WITH, EXPLAIN and read-only PRAGMAs",
			    action_name(action));
	default:
		return deny(q,
			    "%s is refused: hindsight opens the database read-only and runs only "
			    "SELECT, WITH, EXPLAIN and read-only PRAGMAs",
			    action_name(action));
	}
}

/* Called every few thousand virtual machine steps: a non-zero return
 * interrupts the statement. */
static int progress(void *arg)
{
	struct qdb *q = arg;
	if (stop_signal())
		return 1;
	if (q->deadline_us && clock_mono_us() > q->deadline_us) {
		q->timed_out = 1;
		return 1;
	}
	return 0;
}

void qdb_arm(struct qdb *q)
{
	q->timed_out = 0;
	q->denied[0] = '\0';
	int64_t now = clock_mono_us();
	/* A limit too far away to count in microseconds is no limit. */
	q->deadline_us = q->timeout_ms > 0 && q->timeout_ms < (INT64_MAX - now) / 1000
			     ? now + q->timeout_ms * 1000
			     : 0;
}

/* A WAL database with no -wal file, in a directory this user cannot write
 * (the daemon stopped; a reader in its group): SQLite cannot create the -shm
 * file it needs, so the file is opened as immutable instead. That is safe
 * here because with no -wal file every committed row is in the main file,
 * and a daemon that starts meanwhile writes to a new WAL, not to it. */
static int open_immutable(struct qdb *q, const char *path, struct err *e)
{
	char wal[4200], uri[13000];
	struct stat st;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0 || access(path, R_OK) != 0)
		return -1; /* keep the first error */
	size_t n = (size_t)snprintf(uri, sizeof(uri), "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < sizeof(uri); p++)
		n += isalnum(*p) || strchr("/._-~", *p)
			 ? (size_t)snprintf(uri + n, sizeof(uri) - n, "%c", *p)
			 : (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X", *p);
	snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
	memset(&q->store, 0, sizeof(q->store));
	q->store.readonly = 1;
	if (sqlite3_open_v2(uri, &q->store.db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		store_close(&q->store);
		return -1;
	}
	int version = (int)store_query_int(&q->store, "PRAGMA user_version", -1);
	if (version < 0 || version > store_schema_latest()) {
		err_set(e, "cannot read database %s: %s", path,
			version < 0 ? sqlite3_errmsg(q->store.db)
				    : "schema newer than this binary");
		store_close(&q->store);
		return -1;
	}
	return 0;
}

int qdb_open(struct qdb *q, const struct qopts *o, struct err *e)
{
	memset(q, 0, sizeof(*q));
	q->timeout_ms = o->timeout_ms;
	q->memory_limit_mb = o->memory_limit_mb;
	struct stat st;
	if (stat(o->db, &st) != 0) {
		if (errno == EACCES && dbfiles_explain_access(o->db, e))
			return -1;
		return err_set(e,
			       "cannot open database %s: %s (give --db PATH or set $HINDSIGHT_DB)",
			       o->db, strerror(errno));
	}
	/* A process-wide cap: SQLite fails an allocation past it with NOMEM
	 * instead of letting one query take the machine's memory. */
	if (q->memory_limit_mb > 0)
		sqlite3_hard_heap_limit64(q->memory_limit_mb * 1024 * 1024);
	struct err inner;
	if (store_open(&q->store, o->db, STORE_READONLY, &inner) &&
	    open_immutable(q, o->db, &inner)) {
		if (dbfiles_explain_access(o->db, e))
			return -1;
		return err_set(e, "%s", inner.msg);
	}
	q->db = q->store.db;
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_limit(q->db, SQLITE_LIMIT_ATTACHED, 0);
	/* Pages are read through a map of the file, not a pread call each: on
	 * a month's export or status's count of every table that was most of
	 * the time, spent in the kernel. SQLite maps at most 2 GiB (the
	 * default size cap is 1 GiB), remaps at each read transaction when the
	 * file has grown, and in WAL mode never shrinks the file under a
	 * reader. The daemon, which writes, keeps reading with pread.
	 * Temporary storage (sorts, DISTINCT, GROUP BY, materialized views,
	 * recursive queries) stays in memory, under the memory limit: SQLite
	 * otherwise spills it to files in the temporary directory without any
	 * limit, and that disk may be the daemon's. With it in memory SQLite's
	 * sorter never writes a file either (vdbesort.c spills only when
	 * temporary storage is on disk). */
	if (store_exec(&q->store,
		       "PRAGMA mmap_size=2147418112; PRAGMA temp_store=MEMORY; PRAGMA query_only=1",
		       &inner)) {
		qdb_close(q);
		return err_set(e, "%s", inner.msg);
	}
	sqlite3_set_authorizer(q->db, authorize, q);
	sqlite3_progress_handler(q->db, 4000, progress, q);
	return 0;
}

int qdb_pin(struct qdb *q, unsigned tiers, struct err *e)
{
	struct err inner, after;
	q->pinning = 1;
	int rc = store_exec(&q->store, "PRAGMA query_only=0", &inner) ||
		 read_plan_pin(q->db, &q->plan, tiers, q->uses, &inner);
	if (store_exec(&q->store, "PRAGMA query_only=1", &after) && rc == 0) {
		inner = after;
		rc = -1;
	}
	q->pinning = 0;
	q->pinned = tiers;
	return rc ? err_set(e, "choosing the tiers to read: %s", inner.msg) : 0;
}

int64_t qdb_edge_ts(struct qdb *q, const char *relation, int64_t lo, int64_t hi, int newest)
{
	ASSERT(qdb_name_ok(relation));
	unsigned pinned = q->pinned;
	struct read_plan p = q->plan;
	unsigned held = read_plan_tiers(&p, lo, hi);
	int64_t found = -1;
	struct err ignored;
	/* newest: raw, 1m, 1h; oldest: 1h, 1m, raw */
	for (int i = 0; i < NTIERS && found < 0; i++) {
		int tier = newest ? i : NTIERS - 1 - i;
		int64_t a, b;
		read_plan_part(&p, tier, &a, &b);
		a = a > lo ? a : lo;
		b = b < hi ? b : hi;
		if (!(held & (1u << tier)) || a > b)
			continue;
		if (q->pinned != 1u << tier && qdb_pin(q, 1u << tier, &ignored))
			break;
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "SELECT %s(ts) FROM \"%s\" WHERE ts >= %lld AND ts <= %lld",
			 newest ? "max" : "min", relation, (long long)a, (long long)b);
		qdb_arm(q);
		found = store_query_int(&q->store, sql, -1);
	}
	if (q->pinned != pinned)
		qdb_pin(q, pinned, &ignored);
	return found;
}

int qdb_open_reader(struct qdb *r, const struct qdb *q, const struct qopts *o, struct err *e)
{
	if (qdb_open(r, o, e))
		return -1;
	r->plan = q->plan;
	r->tiers = q->tiers;
	r->uses = q->uses;
	if (q->pinned && qdb_pin(r, q->pinned, e)) {
		qdb_close(r);
		return -1;
	}
	return 0;
}

int qdb_plan(struct qdb *q, const struct qopts *o, int64_t since, int64_t until, int points,
	     struct err *e)
{
	int64_t end = until < o->now ? until : o->now;
	int tier = o->resolution	       ? tier_by_name(o->resolution)
		   : points > 0 && end > since ? read_plan_auto_tier(since, end, points)
					       : TIER_RAW;
	if (tier < 0)
		return err_set(e, "--resolution: expected raw, 1m, 1h or auto, got '%s'",
			       o->resolution);
	read_plan_get(q->db, tier, &q->plan);
	q->tiers = read_plan_tiers(&q->plan, since, until);
	if (!o->resolution && tier != TIER_RAW && isatty(STDERR_FILENO))
		fprintf(stderr,
			"hindsight: reading %s rollups for this range (--resolution raw for every "
			"sample)\n",
			tier == TIER_1M ? "1-minute" : "1-hour");
	/* Over several tiers at the finest, the database's own views already
	 * read what the plan would. */
	int own = tier == TIER_RAW && (q->tiers & (q->tiers - 1));
	return qdb_pin(q, own ? 0 : q->tiers, e);
}

void qdb_close(struct qdb *q)
{
	store_close(&q->store);
	q->db = NULL;
}

int qdb_fail(struct qdb *q, int rc, const char *what, struct err *e)
{
	if (q->denied[0])
		return err_set(e, "%s", q->denied);
	if (stop_signal())
		return err_set(e, "%s stopped by signal %d", what, stop_signal());
	if (q->timed_out || (rc & 0xff) == SQLITE_INTERRUPT)
		return err_set(
		    e, "%s stopped after the time limit of %lld ms (raise it with --timeout)", what,
		    (long long)q->timeout_ms);
	if ((rc & 0xff) == SQLITE_NOMEM)
		return err_set(e,
			       "%s needed more than the memory limit of %lld MiB, sorting and "
			       "temporary tables included (raise it with --memory-limit)",
			       what, (long long)q->memory_limit_mb);
	return err_set(e, "%s: %s", what, sqlite3_errmsg(q->db));
}

int qdb_prepare(struct qdb *q, const char *sql, sqlite3_stmt **st, struct err *e)
{
	q->denied[0] = '\0';
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK)
		return qdb_fail(q, rc, "query", e);
	return 0;
}

int qdb_prepare_user(struct qdb *q, const char *sql, sqlite3_stmt **st, struct err *e)
{
	const char *tail = NULL;
	q->denied[0] = '\0';
	*st = NULL;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, &tail);
	if (rc != SQLITE_OK)
		return qdb_fail(q, rc, "SQL", e);
	if (!*st)
		return err_set(e, "SQL: no statement given");
	/* Anything after the first statement would silently not run. */
	while (tail && *tail) {
		if (*tail == ';' || isspace((unsigned char)*tail)) {
			tail++;
		} else if (tail[0] == '-' && tail[1] == '-') {
			tail = strchr(tail, '\n');
		} else {
			sqlite3_finalize(*st);
			*st = NULL;
			return err_set(e,
				       "SQL: give one statement at a time (found more after ';')");
		}
	}
	/* The authorizer has seen every action; this catches what has none
	 * (VACUUM, for one). */
	if (!sqlite3_stmt_readonly(*st)) {
		sqlite3_finalize(*st);
		*st = NULL;
		return err_set(e, "SQL: this statement is refused: hindsight opens the database "
				  "read-only and runs only SELECT, WITH, EXPLAIN and read-only "
				  "PRAGMAs");
	}
	return 0;
}

int qdb_name_ok(const char *name)
{
	if (!name || !*name || isdigit((unsigned char)*name) || strlen(name) >= 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

int qdb_relation_exists(struct qdb *q, const char *name)
{
	sqlite3_stmt *st;
	if (!qdb_name_ok(name) ||
	    sqlite3_prepare_v2(q->db,
			       "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') "
			       "AND name = ?1 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int qdb_bind_guess(sqlite3_stmt *st, int idx, const char *text)
{
	char *end;
	errno = 0;
	long long i = strtoll(text, &end, 10);
	if (*text && !isspace((unsigned char)*text) && *end == '\0' && errno == 0)
		return sqlite3_bind_int64(st, idx, i);
	double d = strtod(text, &end);
	if (*text && !isspace((unsigned char)*text) && *end == '\0' && errno == 0 &&
	    strcasecmp(text, "nan") != 0 && strncasecmp(text, "inf", 3) != 0 &&
	    strncasecmp(text + 1, "inf", 3) != 0 && strncasecmp(text, "0x", 2) != 0)
		return sqlite3_bind_double(st, idx, d);
	return sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
}

int qdb_prepare_columns(struct qdb *q, const char *sql, const char *columns, sqlite3_stmt **st,
			struct err *e)
{
	if (qdb_prepare(q, sql, st, e) || !columns)
		return *st ? 0 : -1;
	int n = sqlite3_column_count(*st);
	char **cols = calloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; cols && i < n; i++)
		cols[i] = (char *)sqlite3_column_name(*st, i);
	char select[2048], *wrapped = NULL;
	int rc = cols ? columns_parse(columns, cols, select, sizeof(select), e)
		      : err_set(e, "out of memory");
	free(cols); /* the names belong to the statement */
	sqlite3_finalize(*st);
	*st = NULL;
	if (rc == 0 && asprintf(&wrapped, "SELECT %s FROM (%s)", select, sql) < 0)
		rc = err_set(e, "out of memory");
	if (rc == 0)
		rc = qdb_prepare(q, wrapped, st, e);
	free(wrapped);
	return rc;
}

int qdb_emit(struct qdb *q, sqlite3_stmt *st, const struct qopts *o, const char *what)
{
	struct out out;
	struct err e;
	if (out_open(&out, o->format, o->time, o->out_path, o->db, &e)) {
		sqlite3_finalize(st);
		qdb_close(q);
		return qfail(1, &e);
	}
	out_columns(&out, st);
	int rc, status = 0;
	qdb_arm(q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		out_row(&out, st);
	if (rc != SQLITE_DONE)
		status = qdb_fail(q, rc, what, &e);
	sqlite3_finalize(st);
	qdb_close(q);
	if (out_close(&out, status ? NULL : &e) || status)
		return qfail(1, &e);
	return 0;
}
