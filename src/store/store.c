/* The SQLite store: opening, schema migrations, statements and transactions. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/embedded.h"

int store_schema_latest(void)
{
	int n = 0;
	while (embedded_schema[n].name)
		n++;
	return n;
}

int64_t store_query_int(struct store *s, const char *sql, int64_t dflt)
{
	return db_query_int(s->db, sql, dflt);
}

int64_t db_query_int(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_schema_version(struct store *s)
{
	return (int)store_query_int(s, "PRAGMA user_version", 0);
}

int store_exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	s->last_errcode = sqlite3_extended_errcode(s->db);
	err_set(e, "%s (in: %.80s)", msg ? msg : sqlite3_errmsg(s->db), sql);
	sqlite3_free(msg);
	return -1;
}

/* A brand-new file gets its page size and incremental auto-vacuum before the
 * first table exists: retention deletes old rows and must be able to return
 * the pages to the file system, which auto_vacuum cannot be switched to later
 * without a full VACUUM. */
static int store_init_new_file(struct store *s, struct err *e)
{
	if (store_query_int(s, "SELECT count(*) FROM sqlite_master", 0) != 0)
		return 0;
	return store_exec(s, "PRAGMA page_size=4096; PRAGMA auto_vacuum=INCREMENTAL;", e);
}

/* A URI for path (SQLITE_OPEN_URI) with a query string: every byte but the
 * unreserved ones is percent-encoded, so '?', '#' and '%' in a file name stay
 * part of it, and an absolute path gets an empty authority ("file://" then
 * the path), so one that starts with "//" is not read as a host name. The
 * caller frees it. */
static char *file_uri(const char *path, const char *query)
{
	size_t cap = strlen(path) * 3 + strlen(query) + 16, n = 0;
	char *uri = malloc(cap);
	if (!uri)
		return NULL;
	n += (size_t)snprintf(uri, cap, "%s", path[0] == '/' ? "file://" : "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		n += (size_t)snprintf(uri + n, cap - n,
				      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					      (*p >= '0' && *p <= '9') || strchr("/._-~", *p)
					  ? "%c"
					  : "%%%02X",
				      *p);
	snprintf(uri + n, cap - n, "?%s", query);
	return uri;
}

static int exists_beside(const char *path, const char *suffix)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

/* Opens an existing file for the probe without writing anything, not even
 * the -wal and -shm files a read-only connection to a WAL database creates
 * (and leaves behind). With no -wal and no hot -journal beside it, every
 * committed page is in the main file, so it is read as immutable; otherwise
 * the journal must be seen, and an ordinary read-only connection reads it
 * through the files that are already there. */
static int probe_connect(const char *path, sqlite3 **db)
{
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	*db = NULL;
	if (exists_beside(path, "-wal") || exists_beside(path, "-journal"))
		return sqlite3_open_v2(path, db, flags, NULL);
	char *uri = file_uri(path, "immutable=1");
	if (!uri)
		return SQLITE_NOMEM;
	int rc = sqlite3_open_v2(uri, db, flags | SQLITE_OPEN_URI, NULL);
	free(uri);
	return rc;
}

/* What the probe reads: the schema version, how many schema objects there
 * are, and whether hindsight's meta table (schema/001_init.sql) is there. */
static int probe_read(sqlite3 *db, int *version, int64_t *objects, int *has_meta)
{
	static const char sql[] =
	    "SELECT (SELECT user_version FROM pragma_user_version), "
	    "(SELECT count(*) FROM sqlite_master), "
	    "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta') AND "
	    "(SELECT count(*) = 2 AND sum(name = 'key' AND pk = 1) = 1 AND sum(name = 'value') = 1 "
	    " FROM pragma_table_info('meta'))";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		*objects = sqlite3_column_int64(st, 1);
		*has_meta = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Only a hindsight database, an empty one, or none at all may be opened for
 * writing: another application's SQLite file pointed at by mistake would
 * otherwise get our schema and a header switched to WAL. The decision is
 * made on a read-only connection, before any write. */
int store_probe(const char *path, struct err *e)
{
	struct stat st;
	if (!path[0])
		return err_set(e, "the database path is empty");
	if (lstat(path, &st) != 0)
		return errno == ENOENT
			   ? STORE_FILE_NEW
			   : err_set(e, "cannot open database %s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return err_set(e, "refusing database %s: it is a symbolic link", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, "refusing database %s: not a regular file", path);
	if (st.st_size == 0)
		return STORE_FILE_NEW; /* (SQLite ignores a -wal beside an empty file) */
	sqlite3 *db;
	int version = 0, has_meta = 0;
	int64_t objects = 0;
	int rc = probe_connect(path, &db);
	if (rc != SQLITE_OK || probe_read(db, &version, &objects, &has_meta)) {
		err_set(e, "cannot read database %s: %s", path,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	int latest = store_schema_latest();
	if (version > latest)
		return err_set(e,
			       "database %s has schema version %d, newer than this binary's %d; "
			       "use a newer hindsight (the file was not modified)",
			       path, version, latest);
	if (version == 0 && objects == 0)
		return STORE_FILE_NEW; /* a first start stopped before its schema */
	if (version >= 0 && !has_meta)
		return err_set(e,
			       "%s is not a hindsight database: it is a SQLite file without "
			       "hindsight's meta table (another application's?); refusing to "
			       "write to it (the file was not modified)",
			       path);
	if (version <= 0)
		return err_set(
		    e,
		    "database %s has schema version %d (PRAGMA user_version), which "
		    "no hindsight writes: it is damaged or was changed by hand; refusing "
		    "to migrate it (the file was not modified)",
		    path, version);
	return STORE_FILE_OURS;
}

int store_open(struct store *s, const char *path, int flags, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->readonly = (flags & STORE_READONLY) != 0;
	int kind = STORE_FILE_OURS;
	if (!s->readonly && (kind = store_probe(path, e)) < 0)
		return -1;
	int oflags = s->readonly	      ? SQLITE_OPEN_READONLY
		     : kind == STORE_FILE_NEW ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
					      : SQLITE_OPEN_READWRITE;
	/* A connection is only ever used by the thread that opened it (the
	 * checkpointer has its own), so SQLite's per-call mutex is pure cost:
	 * two lock pairs per cell when a query streams millions of them. */
	oflags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		err_set(e, "cannot open database %s: %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(s->db, 1);
	/* Reading user_version is the first access: it fails cleanly on a file
	 * that is not a database, and a newer schema is refused before any pragma
	 * below could write to the file. */
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW) {
			err_set(e, "cannot read database %s: %s", path, sqlite3_errmsg(s->db));
			store_close(s);
			return -1;
		}
		if (version > store_schema_latest()) {
			err_set(e,
				"database %s has schema version %d, newer than this binary's %d; "
				"use a newer hindsight (the file was not modified)",
				path, version, store_schema_latest());
			store_close(s);
			return -1;
		}
	} else {
		err_set(e, "cannot read database %s: %s", path, sqlite3_errmsg(s->db));
		store_close(s);
		return -1;
	}
	if (s->readonly)
		return 0;
	if ((kind == STORE_FILE_NEW && store_init_new_file(s, e)) ||
	    store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", e)) {
		store_close(s);
		return -1;
	}
	return 0;
}

void store_close(struct store *s)
{
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i]);
	s->nstmts = 0;
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

int store_migrate(struct store *s, struct err *e)
{
	int have = store_schema_version(s);
	int latest = store_schema_latest();
	if (have < 0 || have > latest) /* store_open refuses these; never index by them */
		return err_set(e,
			       "cannot migrate from schema version %d (this binary knows 1 to %d)",
			       have, latest);
	for (int v = have; v < latest; v++) {
		const struct embedded_file *m = &embedded_schema[v];
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version=%d;", v + 1);
		struct err inner;
		if (store_exec(s, "BEGIN IMMEDIATE", &inner) || store_exec(s, m->text, &inner) ||
		    store_exec(s, bump, &inner) || store_exec(s, "COMMIT", &inner)) {
			store_rollback(s);
			return err_set(e, "schema migration %s failed: %s", m->name, inner.msg);
		}
		log_info("database schema migrated to version %d (%s)", v + 1, m->name);
	}
	return 0;
}

sqlite3_stmt *store_prepare(struct store *s, const char *sql, struct err *e)
{
	sqlite3_stmt *st;
	if (s->nstmts == STORE_MAX_STMTS) {
		err_set(e, "too many prepared statements (limit %d)", STORE_MAX_STMTS);
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		err_set(e, "cannot prepare statement: %s (in: %.120s)", sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	s->stmts[s->nstmts++] = st;
	return st;
}

int store_exec_stmt(struct store *s, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return err_set(e, "%s (in: %.120s)", sqlite3_errmsg(s->db), sqlite3_sql(st));
}

int store_begin(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN IMMEDIATE", e);
}

int store_commit(struct store *s, struct err *e)
{
	if (store_exec(s, "COMMIT", e) == 0)
		return 0;
	store_rollback(s);
	return -1;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->rollbacks++;
}
