/* The rig the collectors' unit tests share (one test file per collector): a
 * fixture /proc and /sys tree and a real SQLite database to run one
 * collector against, and the check that a parser survives every cut and
 * mutation of its fixtures. */
#ifndef HINDSIGHT_RIG_H
#define HINDSIGHT_RIG_H

#include "testutil.h"

#include <sys/stat.h>

#include "collect/collect.h"
#include "store/store.h"

struct rig {
	char *dir;
	char proc[1024], sys[1024];
	struct store st;
	struct collector_env env; /* own_proc 0: the tree is not this process's /proc */
	const struct collector_ops *ops;
	void *state;
	int64_t ts;
};

static inline void rig_mkdirs(const char *root, const char *rel)
{
	char path[4200];
	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		fail_msg("path too long");
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

/* Writes text to <root>/<rel>, creating the directories on the way. */
static inline void put(const char *root, const char *rel, const char *text)
{
	char path[4200], dir[4200];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		rig_mkdirs(root, dir);
	}
	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		fail_msg("path too long");
	write_file(path, text);
}

/* An empty proc and sys tree and a migrated database with the views. */
static inline void rig_init(struct rig *r)
{
	struct err e;
	memset(r, 0, sizeof(*r));
	r->dir = temp_dir();
	snprintf(r->proc, sizeof(r->proc), "%s/proc", r->dir);
	snprintf(r->sys, sizeof(r->sys), "%s/sys", r->dir);
	mkdir(r->proc, 0755);
	mkdir(r->sys, 0755);
	char db[4200];
	snprintf(db, sizeof(db), "%s/h.db", r->dir);
	if (store_open(&r->st, db, 0, &e) || store_migrate(&r->st, &e) ||
	    store_install_views(&r->st, NULL, &e))
		fail_msg("store: %s", e.msg);
	r->env.store = &r->st;
	r->env.proc_fd = open(r->proc, O_RDONLY | O_DIRECTORY);
	r->env.sys_fd = open(r->sys, O_RDONLY | O_DIRECTORY);
	r->ts = 1700000000;
}

/* Opens the collector with its options (NULL for one without). */
static inline void rig_open(struct rig *r, const struct collector_ops *ops, const void *options)
{
	struct err e;
	r->ops = ops;
	if (ops->open(&r->state, &r->env, options, &e))
		fail_msg("open %s: %s", ops->name, e.msg);
}

/* Closes the collector, as a daemon stopping does; rig_open starts it again. */
static inline void rig_close(struct rig *r)
{
	r->ops->close(r->state);
	r->state = NULL;
}

/* One tick of 10 s, committed. */
static inline void rig_tick(struct rig *r)
{
	struct err e;
	struct tick_errors te = {0};
	struct tick t = {.ts = r->ts += 10, .dur_ms = 10000, .store = &r->st, .errors = &te};
	assert_int_equal(store_begin(&r->st, &e), 0);
	if (r->ops->sample(r->state, &t, &e))
		fail_msg("sample: %s", e.msg);
	assert_int_equal(store_commit(&r->st, &e), 0);
	if (r->ops->commit)
		r->ops->commit(r->state);
}

static inline int64_t q(struct rig *r, const char *sql)
{
	return store_query_int(&r->st, sql, -999);
}

static inline void rig_free(struct rig *r)
{
	if (r->state)
		rig_close(r);
	store_close(&r->st);
	close(r->env.proc_fd);
	close(r->env.sys_fd);
	rm_rf(r->dir);
	free(r->dir);
}

/* ---- every parser on every cut and mutation of its fixtures ---- */

/* Parses text[0..len): 0, or -1 with a message. */
typedef int (*parse_fn)(char *text, size_t len, struct err *e);

/* Runs fn on text[0..len) in a buffer of exactly that size (plus the NUL),
 * so ASan sees any read past the end. Either it parses or it says why. */
static inline void parse_one(parse_fn fn, const char *text, size_t len, const char *what)
{
	char *copy = malloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	struct err e = {{0}};
	int rc = fn(copy, len, &e);
	if (rc != 0 && (rc != -1 || !e.msg[0]))
		fail_msg("%s: rc %d with no message on %zu bytes", what, rc, len);
	free(copy);
}

/* The fixture cut at every length, and every byte (every 7th in a long
 * file) replaced by each of a few troublesome characters. */
static inline void parser_survives_cuts_and_garbage(parse_fn fn, const char *fixture)
{
	static const char garbage[] = {'x', ':', '\n', ' ', '-', '9', '\\', ';', ',', '|'};
	char *t = fixture_text(fixture);
	size_t len = strlen(t);
	for (size_t cut = 0; cut <= len; cut++)
		parse_one(fn, t, cut, fixture);
	size_t stride = len > 2000 ? 7 : 1;
	for (size_t i = 0; i < len; i += stride)
		for (size_t g = 0; g < ARRAY_LEN(garbage); g++) {
			char saved = t[i];
			t[i] = garbage[g];
			parse_one(fn, t, len, fixture);
			t[i] = saved;
		}
	free(t);
}

#endif
