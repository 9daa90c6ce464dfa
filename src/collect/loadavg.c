/* /proc/loadavg: load averages and runnable/total threads. Table: loadavg. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/loadavg.h"

/* "12.34" as 1234: the kernel always prints two decimals. */
static int scan_hundredths(const char **p, int64_t *out)
{
	uint64_t whole, frac = 0;
	if (scan_u64(p, &whole) || whole > 100000000)
		return -1;
	if (**p == '.') {
		const char *f = *p + 1;
		int digits = 0;
		while (isdigit((unsigned char)*f) && digits < 2)
			frac = frac * 10 + (uint64_t)(*f++ - '0'), digits++;
		if (digits == 0)
			return -1;
		if (digits == 1)
			frac *= 10;
		while (isdigit((unsigned char)*f))
			f++;
		*p = f;
	}
	*out = (int64_t)(whole * 100 + frac);
	return 0;
}

int loadavg_parse(const char *text, struct loadavg *la, struct err *e)
{
	if (check_complete(text, "/proc/loadavg", e))
		return -1;
	const char *p = text;
	char tok[32];
	memset(la, 0, sizeof(*la));
	for (int i = 0; i < 3; i++)
		if (scan_hundredths(&p, &la->load_x100[i]))
			return err_set(e, "/proc/loadavg: bad load value '%s' (field %d)",
				       token_preview(p, tok, sizeof(tok)), i + 1);
	if (scan_u64(&p, &la->runnable) || *p++ != '/' || scan_u64(&p, &la->threads))
		return err_set(e, "/proc/loadavg: expected runnable/total at '%s'",
			       token_preview(p, tok, sizeof(tok)));
	if (scan_u64(&p, &la->last_pid))
		return err_set(e, "/proc/loadavg: bad last pid '%s'",
			       token_preview(p, tok, sizeof(tok)));
	return 0;
}

/* ---- collector ---- */

struct loadavg_state {
	int proc_fd;
	struct buf buf;
	sqlite3_stmt *ins;
};

static int loadavg_open(void **state, const struct collector_env *env, const void *options,
			struct err *e)
{
	struct store *st = env->store;
	struct loadavg_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->ins = store_prepare(st,
			       "INSERT INTO loadavg(ts, load1_x100, load5_x100, load15_x100, "
			       "runnable_count, threads_count) VALUES (?,?,?,?,?,?)",
			       e);
	return s->ins ? 0 : -1;
}

static int loadavg_sample(void *state, struct tick *t, struct err *e)
{
	struct loadavg_state *s = state;
	struct loadavg la;
	struct err perr;
	int rc = buf_read_file(&s->buf, s->proc_fd, "loadavg", SOURCE_MAX_SMALL);
	if (rc < 0) {
		tick_errors_count_read(t->errors, rc);
		return 0;
	}
	if (loadavg_parse(s->buf.data, &la, &perr)) {
		t->errors->parse++;
		log_debug("%s", perr.msg);
		return 0;
	}
	sqlite3_bind_int64(s->ins, 1, t->ts);
	bind_int64s(s->ins, 2, la.load_x100, 3);
	uint64_t counts[] = {la.runnable, la.threads};
	bind_u64s(s->ins, 5, counts, 2);
	t->rows++;
	return store_exec_stmt(t->store, s->ins, e);
}

static void loadavg_close(void *state)
{
	struct loadavg_state *s = state;
	if (!s)
		return;
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_load = {
    .name = "loadavg",
    .open = loadavg_open,
    .sample = loadavg_sample,
    .close = loadavg_close,
};
