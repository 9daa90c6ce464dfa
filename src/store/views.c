/* Saved views: parsing their header comment and installing them. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store.h"
#include "store/tiers.h"
#include "util/embedded.h"

static void copy_trimmed(char *dst, size_t n, const char *src, size_t len)
{
	while (len && isspace((unsigned char)*src))
		src++, len--;
	while (len && isspace((unsigned char)src[len - 1]))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Finds "CREATE VIEW [IF NOT EXISTS] name" and copies the name. */
static int view_name(const char *create, struct view_header *h, int line, struct err *e)
{
	const char *p = create + strlen("create view");
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "if not exists", 13) == 0) {
		p += 13;
		while (isspace((unsigned char)*p))
			p++;
	}
	size_t len = 0;
	while (isalnum((unsigned char)p[len]) || p[len] == '_')
		len++;
	if (len == 0 || len >= sizeof(h->name))
		return err_set(e, "line %d: CREATE VIEW without a plain name (letters, digits, _)",
			       line);
	memcpy(h->name, p, len);
	h->name[len] = '\0';
	return 0;
}

int view_header_parse(const char *sql, struct view_header *h, struct err *e)
{
	memset(h, 0, sizeof(*h));
	const char *p = sql;
	int line = 1;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *s = p;
		while (s < p + len && isspace((unsigned char)*s))
			s++;
		if (strncmp(s, "--", 2) == 0) {
			const char *kv = s + 2;
			size_t kvlen = (size_t)(p + len - kv);
			while (kvlen && isspace((unsigned char)*kv))
				kv++, kvlen--;
			if (kvlen >= 6 && strncasecmp(kv, "title:", 6) == 0)
				copy_trimmed(h->title, sizeof(h->title), kv + 6, kvlen - 6);
			else if (kvlen >= 12 && strncasecmp(kv, "description:", 12) == 0)
				copy_trimmed(h->description, sizeof(h->description), kv + 12,
					     kvlen - 12);
		} else if (s < p + len) {
			if (strncasecmp(s, "create view", 11) != 0)
				return err_set(
				    e, "line %d: expected header comments then CREATE VIEW", line);
			if (view_name(s, h, line, e))
				return -1;
			if (!h->title[0] || !h->description[0])
				return err_set(e,
					       "line %d: view %s lacks a '-- title:' or "
					       "'-- description:' header line",
					       line, h->name);
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
		line++;
	}
	return err_set(e, "line %d: no CREATE VIEW statement", line);
}

/* Installs one view unless the catalog already holds the same text. */
static int install_view(struct store *s, const char *origin, const char *sql, struct err *e)
{
	struct view_header h;
	struct err inner;
	if (view_header_parse(sql, &h, &inner))
		return err_set(e, "view %s: %s", origin, inner.msg);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(s->db, "SELECT sql FROM view_catalog WHERE name=?1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, h.name, -1, SQLITE_STATIC);
	int same = sqlite3_step(st) == SQLITE_ROW &&
		   strcmp((const char *)sqlite3_column_text(st, 0), sql) == 0;
	sqlite3_finalize(st);
	if (same) {
		char q[160];
		snprintf(q, sizeof(q),
			 "SELECT count(*) FROM sqlite_master WHERE type='view' AND name='%s'",
			 h.name);
		if (store_query_int(s, q, 0) == 1)
			return 0;
	}
	char drop[128];
	snprintf(drop, sizeof(drop), "DROP VIEW IF EXISTS \"%s\"", h.name);
	if (store_exec(s, drop, &inner) || store_exec(s, sql, &inner))
		return err_set(e, "view %s: %s", origin, inner.msg);
	sqlite3_prepare_v2(s->db,
			   "INSERT OR REPLACE INTO view_catalog(name, title, description, sql) "
			   "VALUES (?1, ?2, ?3, ?4)",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, h.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h.title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, h.description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sql, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return err_set(e, "view %s: %s", origin, sqlite3_errmsg(s->db));
	log_debug("installed view %s", h.name);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Users' own views: every *.sql file in dir, in name order. */
static int install_dir_views(struct store *s, const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, "views directory %s: %s", dir, strerror(errno));
	char *names[512];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < ARRAY_LEN(names)) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".sql") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	int rc = 0;
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		int r = rc ? 0 : buf_read_file(&b, AT_FDCWD, path, SOURCE_MAX_SMALL);
		if (r < 0)
			rc = err_set(e, "view %s: cannot read: %s", path, strerror(-r));
		else if (rc == 0)
			rc = install_view(s, path, b.data, e);
		free(names[i]);
	}
	buf_free(&b);
	return rc;
}

int store_install_views(struct store *s, const char *extra_dir, struct err *e)
{
	struct err inner;
	/* The saved views read the tiers' generated <t>_auto views. */
	if (tiers_sync_schema(s, e))
		return -1;
	if (store_exec(s, "BEGIN IMMEDIATE", &inner))
		return err_set(e, "installing views: %s", inner.msg);
	for (const struct embedded_file *f = embedded_views; f->name; f++) {
		if (install_view(s, f->name, f->text, e)) {
			store_rollback(s);
			return -1;
		}
	}
	if (extra_dir && install_dir_views(s, extra_dir, e)) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, e);
}

struct labeller {
	const char *(*collector_of)(const char *view);
};

/* The SQL function view_collector(name) over the caller's lookup. */
static void view_collector_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct labeller *l = sqlite3_user_data(ctx);
	const unsigned char *name = sqlite3_value_text(argv[0]);
	const char *c = name ? l->collector_of((const char *)name) : NULL;
	if (c)
		sqlite3_result_text(ctx, c, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

int store_label_views(struct store *s, const char *(*collector_of)(const char *view), struct err *e)
{
	struct labeller l = {collector_of};
	struct err inner;
	if (sqlite3_create_function(s->db, "view_collector", 1, SQLITE_UTF8, &l, view_collector_fn,
				    NULL, NULL) != SQLITE_OK)
		return err_set(e, "labelling views: %s", sqlite3_errmsg(s->db));
	int rc = store_exec(s,
			    "UPDATE view_catalog SET collector = view_collector(name) "
			    "WHERE collector IS NOT view_collector(name)",
			    &inner);
	sqlite3_create_function(s->db, "view_collector", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
	return rc ? err_set(e, "labelling views: %s", inner.msg) : 0;
}
