/* Pressure stall information, /proc/pressure/{cpu,memory,io,irq}: the
 * kernel's own 10 s averages and the stall time as a delta. Absent on kernels
 * without PSI (or booted with psi=0): the collector then turns itself off.
 * Tables: pressure_resource, psi (the view is named pressure). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/counter.h"
#include "collect/psi.h"

/* "17.41" -> 1741. */
static int scan_x100(const char **p, int64_t *out)
{
	uint64_t whole, frac = 0;
	if (scan_u64(p, &whole) || whole > 100000)
		return -1;
	if (**p == '.') {
		const char *f = *p + 1;
		if (f[0] < '0' || f[0] > '9' || f[1] < '0' || f[1] > '9')
			return -1;
		frac = (uint64_t)(f[0] - '0') * 10 + (uint64_t)(f[1] - '0');
		*p = f + 2;
	}
	*out = (int64_t)(whole * 100 + frac);
	return 0;
}

static int expect_key(const char **p, const char *key)
{
	while (**p == ' ')
		(*p)++;
	size_t n = strlen(key);
	if (strncmp(*p, key, n) != 0)
		return -1;
	*p += n;
	return 0;
}

static int parse_line(const char *p, struct psi_line *l, const char *what, int line, struct err *e)
{
	static const char *const keys[] = {"avg10=", "avg60=", "avg300="};
	int64_t *avgs[] = {&l->avg10_x100, &l->avg60_x100, &l->avg300_x100};
	char tok[32];
	for (int i = 0; i < 3; i++)
		if (expect_key(&p, keys[i]) || scan_x100(&p, avgs[i]))
			return err_set(e, "%s line %d: expected %s<percent>, got '%s'", what, line,
				       keys[i], token_preview(p, tok, sizeof(tok)));
	if (expect_key(&p, "total=") || scan_field_u64(&p, &l->total_us))
		return err_set(e, "%s line %d: expected total=<us>, got '%s'", what, line,
			       token_preview(p, tok, sizeof(tok)));
	return 0;
}

int psi_parse(const char *text, const char *what, struct psi *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (check_complete(text, what, e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		if (strncmp(p, "some ", 5) == 0) {
			if (parse_line(p + 5, &out->some, what, line, e))
				return -1;
			out->has_some = 1;
		} else if (strncmp(p, "full ", 5) == 0) {
			if (parse_line(p + 5, &out->full, what, line, e))
				return -1;
			out->has_full = 1;
		} else {
			char tok[32];
			return err_set(e, "%s line %d: expected 'some' or 'full', got '%s'", what,
				       line, token_preview(p, tok, sizeof(tok)));
		}
		p = eol + 1;
	}
	if (!out->has_some && !out->has_full)
		return err_set(e, "%s: no 'some' or 'full' line", what);
	return 0;
}

/* ---- collector ---- */

/* Ids as in the pressure_resource table. irq exists since 6.1 (with
 * CONFIG_IRQ_TIME_ACCOUNTING) and has only a "full" line. */
static const char *const resources[] = {"cpu", "memory", "io", "irq"};
#define NRES ARRAY_LEN(resources)

struct psi_state {
	int proc_fd;
	int off;
	struct buf buf;
	struct psi snap[2][NRES];
	unsigned char ok[2][NRES];
	int cur;
	sqlite3_stmt *ins;
};

static void psi_read_all(struct psi_state *s, int idx, struct tick_errors *te)
{
	for (size_t r = 0; r < NRES; r++) {
		char path[32], what[48];
		struct err e;
		snprintf(path, sizeof(path), "pressure/%s", resources[r]);
		snprintf(what, sizeof(what), "/proc/%s", path);
		s->ok[idx][r] = 0;
		int rc = buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_SMALL);
		if (rc < 0) {
			if (te && !(r == 3 && (rc == -ENOENT || rc == -EOPNOTSUPP)))
				tick_errors_count_read(te, rc);
			continue;
		}
		if (psi_parse(s->buf.data, what, &s->snap[idx][r], &e)) {
			if (te)
				te->parse++;
			log_debug("%s", e.msg);
			continue;
		}
		s->ok[idx][r] = 1;
	}
}

static int psi_open(void **state, const struct collector_env *env, const void *options,
		    struct err *e)
{
	struct store *st = env->store;
	struct psi_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	int rc = buf_read_file(&s->buf, s->proc_fd, "pressure/cpu", SOURCE_MAX_SMALL);
	if (rc < 0) {
		/* ENOENT: no CONFIG_PSI; EOPNOTSUPP: booted with psi=0. */
		log_info("psi: /proc/pressure/cpu: %s; pressure is not collected", strerror(-rc));
		s->off = 1;
		return 0;
	}
	if (!(s->ins = store_prepare(st,
				     "INSERT INTO psi(ts, resource_id, dur_ms, some_avg10_x100, "
				     "full_avg10_x100, some_stall_us, full_stall_us) "
				     "VALUES (?,?,?,?,?,?,?)",
				     e)))
		return -1;
	psi_read_all(s, 0, NULL);
	s->cur = 1;
	return 0;
}

static int psi_sample(void *state, struct tick *t, struct err *e)
{
	struct psi_state *s = state;
	if (s->off)
		return 0;
	psi_read_all(s, s->cur, t->errors);
	for (size_t r = 0; r < NRES; r++) {
		const struct psi *c = &s->snap[s->cur][r], *p = &s->snap[!s->cur][r];
		if (!s->ok[s->cur][r] || !s->ok[!s->cur][r])
			continue;
		sqlite3_stmt *st = s->ins;
		sqlite3_bind_int64(st, 1, t->ts);
		sqlite3_bind_int64(st, 2, (int64_t)r);
		sqlite3_bind_int64(st, 3, t->dur_ms);
		uint64_t some = counter_delta(p->some.total_us, c->some.total_us);
		uint64_t full = counter_delta(p->full.total_us, c->full.total_us);
		if (c->has_some) {
			sqlite3_bind_int64(st, 4, c->some.avg10_x100);
			bind_u64s(st, 6, &some, 1);
		} else {
			sqlite3_bind_null(st, 4);
			sqlite3_bind_null(st, 6);
		}
		if (c->has_full) {
			sqlite3_bind_int64(st, 5, c->full.avg10_x100);
			bind_u64s(st, 7, &full, 1);
		} else {
			sqlite3_bind_null(st, 5);
			sqlite3_bind_null(st, 7);
		}
		t->rows++;
		if (store_exec_stmt(t->store, st, e))
			return -1;
	}
	return 0;
}

/* The snapshot read this tick becomes the baseline. A resource that could
 * not be read keeps no baseline and starts again next tick. */
static void psi_commit(void *state)
{
	struct psi_state *s = state;
	if (!s->off)
		s->cur = !s->cur;
}

static void psi_close(void *state)
{
	struct psi_state *s = state;
	if (!s)
		return;
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_psi = {
    .name = "psi",
    .open = psi_open,
    .sample = psi_sample,
    .commit = psi_commit,
    .close = psi_close,
};
