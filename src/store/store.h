#ifndef HINDSIGHT_STORE_H
#define HINDSIGHT_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "util/util.h"

#define STORE_MAX_STMTS	      256
#define STORE_BUSY_TIMEOUT_MS 5000 /* how long a write waits for another writer */

/* One SQLite database: the daemon's read-write handle or the query tool's
 * read-only one. Statements prepared through it live until store_close. */
struct store {
	sqlite3 *db;
	int readonly;
	sqlite3_stmt *stmts[STORE_MAX_STMTS];
	size_t nstmts;
	uint64_t rollbacks; /* transactions rolled back so far */
	int last_errcode;   /* of the last failed store_exec (extended) */
};

enum store_flags {
	STORE_READONLY = 1, /* open for reading only; never create */
};

/* Opens (creating if allowed) the database at path. A database whose schema is
 * newer than this binary is refused before anything is written to it; opened
 * for writing, so is any file store_probe refuses. */
int store_open(struct store *s, const char *path, int flags, struct err *e);

/* What the file at path is for a writer, decided without writing: */
enum store_file_kind {
	STORE_FILE_NEW,	 /* missing, zero-length, or a SQLite file without any schema */
	STORE_FILE_OURS, /* a hindsight database this binary can open */
};
/* Returns the kind, or -1 with a message for a file that must not be written:
 * another application's SQLite file (no hindsight meta table), an impossible
 * or newer schema version, a symbolic link, not a regular file. */
int store_probe(const char *path, struct err *e);
void store_close(struct store *s);

/* The newest schema version this binary knows (the number of schema files). */
int store_schema_latest(void);
int store_schema_version(struct store *s);

/* Applies every pending migration, each in one transaction. */
int store_migrate(struct store *s, struct err *e);

/* Installs the saved views (the embedded ones, then *.sql in extra_dir when not
 * NULL), replacing any whose text changed. */
int store_install_views(struct store *s, const char *extra_dir, struct err *e);
/* Records in view_catalog.collector which collector provides each view:
 * collector_of(name), NULL for none. Only rows that change are written. */
int store_label_views(struct store *s, const char *(*collector_of)(const char *view),
		      struct err *e);

/* A saved view's header: "-- title: ..." and "-- description: ..." lines
 * before the CREATE VIEW; name is taken from the CREATE VIEW itself. */
struct view_header {
	char name[64];
	char title[128];
	char description[256];
};
int view_header_parse(const char *sql, struct view_header *h, struct err *e);

/* A statement kept for the life of the store. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql, struct err *e);
/* Steps a write statement to completion and resets it for the next use. */
int store_exec_stmt(struct store *s, sqlite3_stmt *st, struct err *e);
/* Runs SQL text (no results), naming the failing statement in the error. */
int store_exec(struct store *s, const char *sql, struct err *e);

int store_begin(struct store *s, struct err *e); /* BEGIN IMMEDIATE */
int store_commit(struct store *s, struct err *e);
void store_rollback(struct store *s);

/* A single integer from a query, or dflt when it returns no row or NULL. */
int64_t store_query_int(struct store *s, const char *sql, int64_t dflt);
/* Whether an error code means the disk (or the file system quota) is full. */
static inline int store_errcode_full(int code)
{
	return (code & 0xff) == SQLITE_FULL;
}

/* reserve.c: a file of allocated disk space next to the database
 * (<db>-reserve), released when the disk fills so retention has room to
 * prune in, and taken again once the file system has twice its size free. */
struct reserve {
	char path[4200];
	int64_t bytes; /* 0: no reserve */
	int held;
};
void reserve_init(struct reserve *r, const char *db_path, int64_t bytes);
/* Returns the bytes it gave back (0 when none was held). */
int64_t reserve_release(struct reserve *r);
/* Takes the reserve again when there is room; returns 1 when it did. */
int reserve_restore(struct reserve *r);
/* Free space for this user on the reserve's file system; -1 unknown. */
int64_t reserve_fs_available(const struct reserve *r);

/* The same on any connection (a reader's). */
int64_t db_query_int(sqlite3 *db, const char *sql, int64_t dflt);

/* Ids of names in a small dimension table (id INTEGER PRIMARY KEY, name TEXT
 * UNIQUE), cached in memory so a tick looks up each name without SQL. */
struct dim_entry;
struct dim {
	sqlite3_stmt *select;
	sqlite3_stmt *insert;
	struct store *store;
	struct dim_entry *slots;
	size_t nslots;
	size_t count;
	uint64_t rollbacks_seen;
};
int dim_init(struct dim *d, struct store *s, const char *table, struct err *e);
int64_t dim_id(struct dim *d, const char *name, struct err *e); /* -1 on error */
void dim_free(struct dim *d);

#endif
