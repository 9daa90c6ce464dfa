/* /proc/meminfo: memory and swap gauges in KiB. Table: memory. */
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/meminfo.h"

#define MEMINFO_KEY(key, column) #key,
static const char *const meminfo_keys[] = {MEMINFO_FIELDS(MEMINFO_KEY)};
#undef MEMINFO_KEY
#define MEMINFO_COLUMN(key, column) ", " #column
#define MEMINFO_PARAM(key, column)  ",?"
static const char meminfo_insert_sql[] = "INSERT INTO memory(ts" MEMINFO_FIELDS(
    MEMINFO_COLUMN) ") VALUES (?" MEMINFO_FIELDS(MEMINFO_PARAM) ")";
#undef MEMINFO_COLUMN
#undef MEMINFO_PARAM

static int meminfo_key_index(const char *key, size_t len)
{
	for (int i = 0; i < MEMINFO_NFIELDS; i++)
		if (strlen(meminfo_keys[i]) == len && memcmp(meminfo_keys[i], key, len) == 0)
			return i;
	return -1;
}

int meminfo_parse(const char *text, struct meminfo *m, struct err *e)
{
	if (check_complete(text, "/proc/meminfo", e))
		return -1;
	memset(m, 0, sizeof(*m));
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		const char *colon = strchr(p, ':');
		if (eol == p) { /* blank line */
			p++;
			continue;
		}
		if (!colon || (eol && colon > eol)) {
			char tok[40];
			return err_set(e, "/proc/meminfo line %d: expected 'Key: value', got '%s'",
				       line, token_preview(p, tok, sizeof(tok)));
		}
		const char *v = colon + 1;
		uint64_t value;
		if (scan_field_u64(&v, &value)) {
			char tok[40];
			return err_set(e, "/proc/meminfo line %d: bad number '%s' for %.*s", line,
				       token_preview(v, tok, sizeof(tok)), (int)(colon - p), p);
		}
		int idx = meminfo_key_index(p, (size_t)(colon - p));
		if (idx >= 0) {
			m->value[idx] = value;
			m->present |= 1u << idx;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	if (!(m->present & (1u << MEM_MemTotal)))
		return err_set(e, "/proc/meminfo: no MemTotal line (truncated or not meminfo)");
	return 0;
}

/* ---- collector ---- */

struct meminfo_state {
	int proc_fd;
	struct buf buf;
	sqlite3_stmt *ins;
};

static int meminfo_open(void **state, const struct collector_env *env, const void *options,
			struct err *e)
{
	struct store *st = env->store;
	struct meminfo_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->ins = store_prepare(st, meminfo_insert_sql, e);
	return s->ins ? 0 : -1;
}

static int meminfo_sample(void *state, struct tick *t, struct err *e)
{
	struct meminfo_state *s = state;
	struct meminfo m;
	struct err perr;
	int rc = buf_read_file(&s->buf, s->proc_fd, "meminfo", SOURCE_MAX_SMALL);
	if (rc < 0) {
		tick_errors_count_read(t->errors, rc);
		return 0;
	}
	if (meminfo_parse(s->buf.data, &m, &perr)) {
		t->errors->parse++;
		log_debug("%s", perr.msg);
		return 0;
	}
	sqlite3_bind_int64(s->ins, 1, t->ts);
	for (int i = 0; i < MEMINFO_NFIELDS; i++) {
		if (m.present & (1u << i))
			sqlite3_bind_int64(s->ins, 2 + i, (int64_t)m.value[i]);
		else
			sqlite3_bind_null(s->ins, 2 + i); /* absent on this kernel */
	}
	t->rows++;
	return store_exec_stmt(t->store, s->ins, e);
}

static void meminfo_close(void *state)
{
	struct meminfo_state *s = state;
	if (!s)
		return;
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_memory = {
    .name = "meminfo",
    .open = meminfo_open,
    .sample = meminfo_sample,
    .close = meminfo_close,
};
