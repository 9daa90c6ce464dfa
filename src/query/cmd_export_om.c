/* hindsight export --openmetrics: the stored history as OpenMetrics 1.0 text
 * with timestamps, the input of `promtool tsdb create-blocks-from
 * openmetrics`. The samples come from metrics/history.c (what /metrics
 * would have shown at every stored tick); this file only writes them.
 *
 * Ticks come in time order and every tick repeats each series, so the
 * samples of one series are in order, which is what promtool needs (it
 * drops a sample older than one before it, silently). Families are
 * announced (HELP, TYPE, UNIT) before their first sample; later ticks'
 * samples of a family follow other families' (promtool 2.42 reads that). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/history.h"
#include "query/query.h"

struct om_writer {
	FILE *f;
	const struct metric_map *map;
	unsigned char *announced; /* per family */
	struct expo_out head;
	int64_t samples;
};

/* HELP, TYPE and UNIT of a family, before its first sample. */
static void announce(struct om_writer *w, const struct history_sample *s)
{
	w->head.len = 0;
	expo_family_head(&w->head, s->fam->name, s->fam->type, s->fam->help, s->fam->unit,
			 EXPO_OM_1);
	fwrite(w->head.data, 1, w->head.len, w->f);
	w->announced[s->family] = 1;
}

static void sample_line(struct om_writer *w, const struct history_sample *s, const char *num,
			size_t n, int64_t ts)
{
	fputs(s->fam->name, w->f);
	if (s->labels[0]) {
		putc('{', w->f);
		fputs(s->labels, w->f);
		putc('}', w->f);
	}
	putc(' ', w->f);
	fwrite(num, 1, n, w->f);
	fprintf(w->f, " %" PRId64 "\n", ts);
	w->samples++;
}

/* One sample line: name{labels} value timestamp. */
static int write_sample(void *arg, const struct history_sample *s)
{
	struct om_writer *w = arg;
	char num[64];
	if (!w->announced[s->family])
		announce(w, s);
	/* a counter that appeared: its 0 at the tick before, so Prometheus'
	 * increase() counts its first delta */
	if (s->zero_ts != INT64_MIN)
		sample_line(w, s, "0", 1, s->zero_ts);
	size_t n = expo_scaled(num, sizeof(num), s->raw, s->scale);
	sample_line(w, s, num, n, s->ts);
	return 0;
}

/* Writes every tick of the history, then # EOF. */
static int write_history(struct qdb *q, struct metric_history *h, struct om_writer *w,
			 struct err *e)
{
	int64_t ts;
	int rc;
	qdb_arm(q);
	while ((rc = metric_history_next(h, &ts, e)) == 1) {
		metric_history_samples(h, write_sample, w);
		if (ferror(w->f))
			return err_set(e, "writing: %s", strerror(errno));
		qdb_arm(q);
	}
	if (rc < 0)
		return -1;
	fputs("# EOF\n", w->f);
	return 0;
}

int cmd_export_openmetrics(struct qopts *o)
{
	struct qdb q;
	struct err e;
	int64_t since, until;
	if (o->nwhere || o->time != OUT_TIME_DEFAULT || o->columns || o->all || o->raw) {
		fprintf(stderr,
			"hindsight: export --openmetrics takes no --where, -c, --all, --raw, "
			"--epoch or --iso "
			"(the names pick what to export; timestamps are epoch seconds)\n");
		return 2;
	}
	if (qopts_range(o, NULL, &since, &until, &e))
		return qfail(2, &e);
	if (qdb_open(&q, o, &e))
		return qfail(1, &e);
	/* --resolution 1m or 1h: the views read that tier where it holds rows */
	if (o->resolution && qdb_plan(&q, o, since, until, 0, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	struct metric_history *h;
	qdb_arm(&q);
	if (metric_history_open(&h, q.db, since - 1, until, (const char *const *)o->args,
				(size_t)o->nargs, &e)) {
		qdb_close(&q);
		return qfail(2, &e);
	}
	FILE *f = stdout;
	if (o->out_path && !(f = outfile_open(o->out_path, o->db, "--output", &e))) {
		metric_history_close(h);
		qdb_close(&q);
		return qfail(1, &e);
	}
	static char buf[1 << 20];
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	struct om_writer w = {.f = f, .map = metric_history_map(h)};
	w.announced = calloc(w.map->nfamilies + 1, 1);
	int rc = w.announced ? write_history(&q, h, &w, &e) : err_set(&e, "out of memory");
	metric_history_close(h);
	qdb_close(&q);
	free(w.announced);
	expo_out_free(&w.head);
	if (fflush(f) && !rc)
		rc = err_set(&e, "writing %s: %s", o->out_path ? o->out_path : "the output",
			     strerror(errno));
	if (f != stdout && fclose(f) && !rc)
		rc = err_set(&e, "writing %s: %s", o->out_path, strerror(errno));
	if (rc)
		return qfail(1, &e);
	if (w.samples == 0)
		fprintf(stderr, "hindsight: no stored tick in the range: the export holds no "
				"sample\n");
	return 0;
}
