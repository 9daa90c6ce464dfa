/* The replay screen as lines of text: a title bar, the system summary (CPU,
 * memory, load, pressure, disks, network), services and containers when
 * the database has them, process groups, the processes of the tick and its
 * events, then a line of keys. Pure: the tick and the screen's state in,
 * lines out, so what a person sees is tested without a terminal. The
 * numbers are in the units every table of hindsight uses (units.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query/replay.h"
#include "query/timespec.h"

int rp_row_matches(const struct rp_row *r, const char *filter)
{
	if (!filter[0])
		return 1;
	char pid[24];
	snprintf(pid, sizeof(pid), "%lld", (long long)r->pid);
	return strcasestr(r->name, filter) || strcasestr(r->group, filter) ||
	       strcasestr(r->cmd, filter) || (r->pid && strcmp(pid, filter) == 0);
}

/* ---- a line being built, in screen columns ---- */

struct lb {
	struct rp_line *line;
	size_t len;
	int col, max;
};

/* Starts an empty line of at most max columns. */
static void lb_start(struct lb *b, struct rp_line *line, int max, enum rp_attr attr)
{
	b->line = line;
	b->len = 0;
	b->col = 0;
	b->max = max;
	line->text[0] = '\0';
	line->attr = attr;
}

/* The length of the UTF-8 sequence at p (1 to 4), or 0 when it is not
 * one: a stray continuation byte, a byte UTF-8 never uses, a lead byte
 * without all its continuation bytes. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = *p < 0x80		 ? 1
		   : (*p & 0xe0) == 0xc0 ? 2
		   : (*p & 0xf0) == 0xe0 ? 3
		   : (*p & 0xf8) == 0xf0 ? 4
					 : 0;
	for (size_t k = 1; k < n; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Appends text, cut at the screen's edge; a UTF-8 sequence counts as one
 * column and is never split. A control character or a byte that is not
 * UTF-8 shows as '?', so a name can neither move the cursor nor be
 * drawn wider than counted. */
static void lb_put(struct lb *b, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	char *out = b->line->text;
	size_t room = sizeof(b->line->text) - 1;
	while (*p && b->col < b->max) {
		size_t n = utf8_len(p);
		if (b->len + (n ? n : 1) > room)
			break;
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			out[b->len++] = '?';
			n = 1;
		} else {
			memcpy(out + b->len, p, n);
			b->len += n;
		}
		p += n;
		b->col++;
	}
	out[b->len] = '\0';
}

/* Spaces up to column to (a table's next field, or the bar's edge). */
static void lb_pad(struct lb *b, int to)
{
	while (b->col < to && b->col < b->max)
		lb_put(b, " ");
}

/* text in a field of width columns, left or right aligned, cut to fit. */
static void lb_field(struct lb *b, const char *text, int width, int right)
{
	int start = b->col;
	int len = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		len += (*p & 0xc0) != 0x80;
	if (right && len < width)
		lb_pad(b, start + width - len);
	int max = b->max;
	b->max = start + width < max ? start + width : max;
	lb_put(b, text);
	b->max = max;
	lb_pad(b, start + width);
}

/* lb_put of a formatted text. */
static void lb_printf(struct lb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lb_printf(struct lb *b, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lb_put(b, buf);
}

/* ---- numbers, in the units of every table (format_unit) ---- */

/* KiB in IEC units, "48.3 MiB"; "-" for unknown (-1). buf holds
 * FORMAT_UNIT_MAX bytes, as do the others'. */
static const char *kb_s(int64_t kb, char *buf)
{
	if (kb < 0)
		return "-";
	format_unit(UNIT_KB, (double)kb, buf);
	return buf;
}

/* Bytes per second, "48.3 MiB/s"; "0" for none, "-" for unknown. */
static const char *rate_s(double bps, char *buf)
{
	if (bps < 0)
		return "-";
	if (bps < 0.5)
		return "0";
	format_unit(UNIT_BYTES_PER_S, bps, buf);
	return buf;
}

/* A percentage, "12.5%" (a small share "0.03%"). */
static const char *pct_s(double v, char *buf)
{
	format_unit(UNIT_PCT, v, buf);
	return buf;
}

/* A duration in milliseconds, "3.2 ms", "850 µs". */
static const char *ms_s(double ms, char *buf)
{
	format_unit(UNIT_MS, ms, buf);
	return buf;
}

/* ---- the parts of the screen ---- */

static void title_line(struct lb *b, const struct rp_tick *t, const struct rp_ui *ui)
{
	char when[32], d[32], right[96];
	static const char *const tier_words[NTIERS] = {"raw", "1-min rollup", "1-hour rollup"};
	lb_put(b, " hindsight replay");
	if (ui->host[0])
		lb_printf(b, "  %s", ui->host);
	if (t) {
		time_format_local(t->ts, when, sizeof(when));
		format_duration_short((t->dur_ms + 500) / 1000, d, sizeof(d));
		lb_printf(b, "  %s  %s tick, %s", when, d, tier_words[t->tier]);
		if (ui->tier != TIER_RAW && ui->tier != t->tier)
			lb_printf(b, " (asked %s)", tier_names[ui->tier]);
	}
	if (ui->following)
		snprintf(right, sizeof(right), "LIVE  ?:help q:quit ");
	else if (t && ui->newest > t->ts) {
		time_format_local(ui->newest, when, sizeof(when));
		snprintf(right, sizeof(right), "newest %s  ?:help q:quit ", when + 11);
	} else
		snprintf(right, sizeof(right), "?:help q:quit ");
	int rlen = (int)strlen(right);
	lb_pad(b, b->max - rlen > b->col + 2 ? b->max - rlen : b->col + 2);
	lb_put(b, right);
	lb_pad(b, b->max);
}

/* The CPU line; returns whether it is hot (90% busy or more). */
static int cpu_line(struct lb *b, const struct rp_tick *t)
{
	char v[6][FORMAT_UNIT_MAX];
	lb_put(b, "CPU   ");
	if (!t->has_cpu) {
		lb_put(b, t->note[RV_CPU][0] ? t->note[RV_CPU] : "no sample at this tick");
		return 0;
	}
	lb_printf(b, "busy %6s   user %6s   sys %6s   iowait %6s   steal %5s   irq %5s",
		  pct_s(t->busy, v[0]), pct_s(t->user, v[1]), pct_s(t->sys, v[2]),
		  pct_s(t->iowait, v[3]), pct_s(t->steal, v[4]), pct_s(t->irq, v[5]));
	return t->busy >= 90;
}

/* The memory line; hot at 90% used or more. */
static int mem_line(struct lb *b, const struct rp_tick *t)
{
	char v[7][FORMAT_UNIT_MAX], pct_text[FORMAT_UNIT_MAX];
	lb_put(b, "MEM   ");
	if (!t->has_mem) {
		lb_put(b, t->note[RV_MEM][0] ? t->note[RV_MEM] : "no sample at this tick");
		return 0;
	}
	double pct = t->mem_total_kb > 0 ? 100.0 * t->mem_used_kb / t->mem_total_kb : 0;
	lb_printf(b, "used %s of %s (%s)   avail %s   cache %s   dirty %s",
		  kb_s(t->mem_used_kb, v[0]), kb_s(t->mem_total_kb, v[1]), pct_s(pct, pct_text),
		  kb_s(t->mem_avail_kb, v[2]), kb_s(t->mem_cache_kb, v[3]),
		  kb_s(t->mem_dirty_kb, v[4]));
	if (t->swap_total_kb > 0)
		lb_printf(b, "   swap %s of %s", kb_s(t->swap_used_kb, v[5]),
			  kb_s(t->swap_total_kb, v[6]));
	else
		lb_put(b, "   no swap");
	return pct >= 90;
}

/* The load averages and the tasks behind them. */
static void load_line(struct lb *b, const struct rp_tick *t)
{
	lb_put(b, "LOAD  ");
	if (!t->has_load) {
		lb_put(b, t->note[RV_LOAD][0] ? t->note[RV_LOAD] : "no sample at this tick");
		return;
	}
	lb_printf(b, "%.2f %.2f %.2f   runnable %lld   threads %lld   blocked %lld   forks %lld",
		  t->load1, t->load5, t->load15, (long long)t->runnable, (long long)t->threads,
		  (long long)t->blocked, (long long)t->forks);
}

/* Pressure as the share of the tick stalled, some/full per resource;
 * hot when some task stalled a tenth of the tick on anything. */
static int psi_line(struct lb *b, const struct rp_tick *t)
{
	int hot = 0;
	lb_put(b, "PSI   ");
	if (t->note[RV_PSI][0]) {
		lb_put(b, t->note[RV_PSI]);
		return 0;
	}
	if (t->npsi == 0)
		lb_put(b, "no sample at this tick");
	else
		lb_put(b, "stalled some/full  ");
	for (int i = 0; i < t->npsi; i++) {
		lb_printf(b, "%s%s %.1f/%.1f%%", i ? "   " : "", t->psi[i].resource,
			  t->psi[i].some_pct, t->psi[i].full_pct);
		hot |= t->psi[i].some_pct >= 10;
	}
	return hot;
}

/* One disk or interface; hot when a disk is 90% busy or an interface
 * had errors or drops. */
static int dev_line(struct lb *b, const char *label, const struct rp_dev *d, int disk)
{
	char v[4][FORMAT_UNIT_MAX];
	lb_put(b, label);
	lb_field(b, d->name, 8, 0);
	if (disk) {
		lb_printf(b, "read %10s   write %10s   util %6s   wait %s", rate_s(d->in_bps, v[0]),
			  rate_s(d->out_bps, v[1]), pct_s(d->util_pct, v[2]),
			  ms_s(d->wait_ms, v[3]));
		return d->util_pct >= 90;
	}
	lb_printf(b, "rx %10s   tx %10s   errors %lld   drops %lld", rate_s(d->in_bps, v[0]),
		  rate_s(d->out_bps, v[1]), (long long)d->errors, (long long)d->drops);
	return d->errors > 0 || d->drops > 0;
}

/* ---- the tables ---- */

static enum rp_sort sort_key;

/* The value rows are sorted by (qsort has no argument for the key). */
static double sort_value(const struct rp_row *r)
{
	switch (sort_key) {
	case SORT_MEM:
		return (double)r->rss_kb;
	case SORT_IO:
		return (r->read_bps > 0 ? r->read_bps : 0) + (r->write_bps > 0 ? r->write_bps : 0);
	default:
		return r->cpu_pct;
	}
}

/* Largest first; ties by CPU, then name and pid, so the order is stable
 * from tick to tick. */
static int by_key(const void *a, const void *b)
{
	const struct rp_row *x = a, *y = b;
	double vx = sort_value(x), vy = sort_value(y);
	if (vx != vy)
		return vx < vy ? 1 : -1;
	if (x->cpu_pct != y->cpu_pct)
		return x->cpu_pct < y->cpu_pct ? 1 : -1;
	int c = strcmp(x->name, y->name);
	return c ? c : x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Sorts a table's rows in place by key. */
static void sort_list(struct rp_list *l, enum rp_sort key)
{
	sort_key = key;
	if (l->n > 1)
		qsort(l->rows, l->n, sizeof(*l->rows), by_key);
}

/* How many rows the filter lets through, for the title's "N of M". */
static size_t count_matches(const struct rp_list *l, const char *filter)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += (size_t)rp_row_matches(&l->rows[i], filter);
	return n;
}

static const char *const sort_words[] = {"CPU", "memory", "I/O"};

/* A section's title: what, by what, how many shown of how many. */
static void table_title(struct lb *b, const char *what, const struct rp_ui *ui, size_t shown,
			size_t matching, size_t total, int sorted)
{
	lb_printf(b, "%s", what);
	if (sorted)
		lb_printf(b, " by %s", sort_words[ui->sort]);
	lb_printf(b, "   %zu of %zu", shown, matching);
	if (ui->filter[0])
		lb_printf(b, " matching '%s' (%zu in all)", ui->filter, total);
	lb_pad(b, b->max);
}

/* Room for "6400.0%", "1023 MiB", "48.3 MiB/s" and a space before. */
enum { COL_CPU = 8, COL_MEM = 9, COL_RATE = 11 };

/* The groups' header: name, CPU, memory, processes, I/O. */
static void group_head(struct lb *b, int name_w)
{
	lb_put(b, "  ");
	lb_field(b, "GROUP", name_w, 0);
	lb_field(b, "CPU", COL_CPU, 1);
	lb_field(b, "RSS", COL_MEM, 1);
	lb_field(b, "PROCS", 7, 1);
	lb_field(b, "READ", COL_RATE, 1);
	lb_field(b, "WRITE", COL_RATE, 1);
	lb_pad(b, b->max);
}

/* One group in the header's columns. */
static void group_row(struct lb *b, const struct rp_row *r, int name_w)
{
	char v[4][FORMAT_UNIT_MAX], procs[24];
	snprintf(procs, sizeof(procs), "%lld", (long long)r->procs);
	lb_put(b, "  ");
	lb_field(b, r->name, name_w, 0);
	lb_field(b, pct_s(r->cpu_pct, v[0]), COL_CPU, 1);
	lb_field(b, kb_s(r->rss_kb, v[1]), COL_MEM, 1);
	lb_field(b, r->procs < 0 ? "-" : procs, 7, 1);
	lb_field(b, rate_s(r->read_bps, v[2]), COL_RATE, 1);
	lb_field(b, rate_s(r->write_bps, v[3]), COL_RATE, 1);
}

/* The services' header: name, kind, CPU. */
static void service_head(struct lb *b, int name_w)
{
	lb_put(b, "  ");
	lb_field(b, "SERVICE OR CONTAINER", name_w, 0);
	lb_field(b, "KIND", 12, 0);
	lb_field(b, "CPU", COL_CPU, 1);
	lb_pad(b, b->max);
}

/* One service or container in the header's columns. */
static void service_row(struct lb *b, const struct rp_row *r, int name_w)
{
	char v[FORMAT_UNIT_MAX];
	lb_put(b, "  ");
	lb_field(b, r->name, name_w, 0);
	lb_field(b, r->group, 12, 0);
	lb_field(b, pct_s(r->cpu_pct, v), COL_CPU, 1);
}

/* Below this many columns a process's reads and writes share one column,
 * so its command line keeps some room. */
enum { PROC_SPLIT_IO_COLS = 120 };

/* The processes' header; the command line takes what is left. */
static void proc_head(struct lb *b, int group_w)
{
	lb_field(b, "PID", 7, 1);
	lb_put(b, "  ");
	lb_field(b, "COMM", 16, 0);
	lb_field(b, "GROUP", group_w + 1, 0);
	lb_field(b, "CPU", COL_CPU, 1);
	lb_field(b, "RSS", COL_MEM, 1);
	if (b->max < PROC_SPLIT_IO_COLS) {
		lb_field(b, "I/O", COL_RATE, 1);
	} else {
		lb_field(b, "READ", COL_RATE, 1);
		lb_field(b, "WRITE", COL_RATE, 1);
	}
	lb_put(b, "  COMMAND");
	lb_pad(b, b->max);
}

/* One process in the header's columns. */
static void proc_row(struct lb *b, const struct rp_row *r, int group_w)
{
	char v[4][FORMAT_UNIT_MAX], pid[24];
	snprintf(pid, sizeof(pid), "%lld", (long long)r->pid);
	lb_field(b, pid, 7, 1);
	lb_put(b, "  ");
	lb_field(b, r->name, 15, 0);
	lb_put(b, " ");
	lb_field(b, r->group, group_w, 0);
	lb_put(b, " ");
	lb_field(b, pct_s(r->cpu_pct, v[0]), COL_CPU, 1);
	lb_field(b, kb_s(r->rss_kb, v[1]), COL_MEM, 1);
	if (b->max < PROC_SPLIT_IO_COLS) {
		double io = r->read_bps < 0 && r->write_bps < 0
				? -1
				: (r->read_bps > 0 ? r->read_bps : 0) +
				      (r->write_bps > 0 ? r->write_bps : 0);
		lb_field(b, rate_s(io, v[2]), COL_RATE, 1);
	} else {
		lb_field(b, rate_s(r->read_bps, v[2]), COL_RATE, 1);
		lb_field(b, rate_s(r->write_bps, v[3]), COL_RATE, 1);
	}
	lb_put(b, "  ");
	lb_put(b, r->cmd[0] ? r->cmd : r->name);
}

/* ---- putting it together ---- */

struct screen {
	struct rp_line *out;
	int cols, rows, n;
};

/* The next line of the screen; the layout never asks for more than
 * it has (ASSERT). */
static struct lb next_line(struct screen *s, enum rp_attr attr)
{
	struct lb b;
	ASSERT(s->n < s->rows);
	lb_start(&b, &s->out[s->n++], s->cols, attr);
	return b;
}

/* Up to limit rows of l that match the filter, under a title and a
 * header; head and row take the width of the name (or group) column. */
static void table(struct screen *s, const char *what, const struct rp_list *l,
		  const struct rp_ui *ui, int limit, int sorted, void (*head)(struct lb *, int),
		  void (*row)(struct lb *, const struct rp_row *, int), int name_w)
{
	size_t matching = count_matches(l, ui->filter);
	size_t shown = matching < (size_t)limit ? matching : (size_t)limit;
	struct lb b = next_line(s, RA_TITLE);
	table_title(&b, what, ui, shown, matching, l->n, sorted);
	b = next_line(s, RA_HEAD);
	head(&b, name_w);
	for (size_t i = 0, done = 0; i < l->n && done < shown; i++) {
		if (!rp_row_matches(&l->rows[i], ui->filter))
			continue;
		b = next_line(s, RA_PLAIN);
		row(&b, &l->rows[i], name_w);
		done++;
	}
}

/* The lines the events want: a line of started and ended processes, one
 * per event, or one saying there were none. */
static int event_lines(const struct rp_tick *t)
{
	int n = t->nevents + (t->exits || t->execs);
	return n ? n : 1;
}

/* The events of the tick in at most lines lines under a title. */
static void events(struct screen *s, const struct rp_tick *t, int lines)
{
	char lo[32], hi[32];
	struct lb b = next_line(s, RA_TITLE);
	time_format_local(t->lo, lo, sizeof(lo));
	time_format_local(t->ts, hi, sizeof(hi));
	lb_printf(&b, "EVENTS after %s until %s", lo + 11, hi + 11);
	lb_pad(&b, b.max);
	int used = 0;
	if (t->exits || t->execs) {
		b = next_line(s, RA_PLAIN);
		lb_printf(&b, "  started %lld, ended %lld%s%s", (long long)t->execs,
			  (long long)t->exits, t->ended[0] ? ": " : "", t->ended);
		used++;
	}
	for (int i = 0; i < t->nevents && used < lines; i++, used++) {
		const struct rp_event *ev = &t->events[i];
		static const char *const hot_kinds[] = {"oom",	"killed", "err",
							"crit", "alert",  "emerg"};
		int hot = 0;
		for (size_t k = 0; k < ARRAY_LEN(hot_kinds); k++)
			hot |= strcmp(ev->kind, hot_kinds[k]) == 0;
		b = next_line(s, hot ? RA_HOT : RA_PLAIN);
		time_format_local(ev->ts, hi, sizeof(hi));
		lb_printf(&b, "  %s  ", hi + 11);
		lb_field(&b, ev->kind, 8, 0);
		lb_put(&b, ev->text);
	}
	if (used == 0) {
		b = next_line(s, RA_PLAIN);
		lb_put(&b, "  ");
		lb_put(&b, t->note[RV_KLOG][0] ? t->note[RV_KLOG] : "none in this tick");
	}
}

static const char *const help_text[] = {
    "Keys",
    "  t  Right   the next tick               T  Left    the tick before",
    "  PgDn       10 ticks on                 PgUp       10 ticks back",
    "  Home       the oldest tick             End        the newest, and follow it",
    "  j  b       jump to a time (as --at: 03:12, 10m, 2026-11-20 03:12, @EPOCH)",
    "  r          resolution: raw, 1-minute, 1-hour rollups",
    "  c  m  i    sort groups and processes by CPU, memory or I/O (also C M D)",
    "  /          show only names, groups or commands containing a text",
    "             (an empty one shows all again)",
    "  ?  h       this help                   q          quit",
    "",
    "Each screen is one tick: the CPU, memory and pressure of that interval,",
    "the groups and processes the daemon recorded in it, and the kernel log,",
    "OOM kills and signals in it. Started without --at it follows the newest",
    "tick as the daemon writes. CPU is a share of one core (100% = one core busy).",
};

/* The last line: a prompt being typed, a message, or the keys. */
static void status_line(struct screen *s, const struct rp_ui *ui)
{
	struct lb b = next_line(s, RA_BAR);
	if (ui->prompt[0])
		lb_printf(&b, " %s%s", ui->prompt, ui->input);
	else if (ui->message[0])
		lb_printf(&b, " %s", ui->message);
	else
		lb_put(&b, " t/T next/prev  j jump  r resolution  c/m/i sort  / filter  ? help"
			   "  q quit");
	lb_pad(&b, b.max);
}

/* A disk or interface line each (as many as fit), or one line saying
 * there was none or why it is not known. */
static void dev_lines(struct screen *s, const char *label, const struct rp_dev *d, int n,
		      const char *note, const char *idle, int disk)
{
	for (int i = 0; i < (n ? n : 1); i++) {
		struct lb b = next_line(s, RA_PLAIN);
		if (n == 0) {
			lb_put(&b, label);
			lb_put(&b, note[0] ? note : idle);
		} else if (dev_line(&b, label, &d[i], disk)) {
			b.line->attr = RA_HOT;
		}
	}
}

/* The system summary: CPU, memory, load, pressure, disks, interfaces. */
static void summary(struct screen *s, const struct rp_tick *t, int devs)
{
	struct lb b = next_line(s, RA_PLAIN);
	if (cpu_line(&b, t))
		b.line->attr = RA_HOT;
	b = next_line(s, RA_PLAIN);
	if (mem_line(&b, t))
		b.line->attr = RA_HOT;
	b = next_line(s, RA_PLAIN);
	load_line(&b, t);
	b = next_line(s, RA_PLAIN);
	if (psi_line(&b, t))
		b.line->attr = RA_HOT;
	dev_lines(s, "DSK   ", t->disk, t->ndisk < devs ? t->ndisk : devs, t->note[RV_DISK],
		  "no disk I/O in this tick", 1);
	dev_lines(s, "NET   ", t->net, t->nnet < devs ? t->nnet : devs, t->note[RV_NET],
		  "no network traffic in this tick", 0);
}

/* A section whose view is not read: its title and the catalog's note. */
static void noted(struct screen *s, const char *what, const char *note)
{
	struct lb b = next_line(s, RA_TITLE);
	lb_printf(&b, "%s  %s", what, note);
	lb_pad(&b, b.max);
}

/* The tables and events share the lines below the summary: events a
 * sixth (fewer when they need fewer), services an eighth, groups a third
 * of the rest, processes what remains. A section that would not fit is
 * left out rather than drawn past the last line. */
static void body(struct screen *s, struct rp_tick *t, const struct rp_ui *ui)
{
	int left = s->rows - 1 - s->n;
	int want = event_lines(t), ev = want < left / 6 ? want : left / 6 > 1 ? left / 6 : 1;
	if (left < 1 + ev)
		return;
	left -= 1 + ev;
	int name_w = s->cols >= 140 ? 32 : 24;
	int services = t->note[RV_SERVICES][0] == '\0' && t->services.n > 0;
	if (services && left >= 3) {
		int n = (int)t->services.n, sv = n < left / 8 ? n : left / 8 > 1 ? left / 8 : 1;
		table(s, "SERVICES AND CONTAINERS", &t->services, ui, sv, 1, service_head,
		      service_row, name_w);
		left -= 2 + sv;
	}
	if (t->note[RV_GROUPS][0] && left >= 1) {
		noted(s, "GROUPS", t->note[RV_GROUPS]);
		left -= 1;
	} else if (left >= 3) {
		int n = (int)t->groups.n, gr = n < (left - 2) / 3 ? n : (left - 2) / 3;
		gr = gr > 1 ? gr : 1;
		table(s, "GROUPS", &t->groups, ui, gr, 1, group_head, group_row, name_w);
		left -= 2 + gr;
	}
	if (t->note[RV_PROCS][0] && left >= 1) {
		noted(s, "PROCESSES", t->note[RV_PROCS]);
		left -= 1;
	} else if (left >= 3) {
		table(s, "PROCESSES", &t->procs, ui, left - 2, 1, proc_head, proc_row,
		      s->cols >= 120 ? 15 : 11);
	}
	events(s, t, ev);
}

int rp_layout(struct rp_tick *t, const struct rp_ui *ui, int cols, int rows, struct rp_line *out)
{
	ASSERT(cols >= 1 && rows >= 1);
	struct screen s = {out, cols, rows, 0};
	struct lb b = next_line(&s, RA_BAR);
	title_line(&b, t, ui);
	int devs = rows >= 40 ? 4 : 2;
	if (ui->help || !t) {
		if (!t && s.n < rows - 1) {
			b = next_line(&s, RA_PLAIN);
			lb_put(&b, "  no samples in this database yet");
		}
		for (size_t i = 0; ui->help && i < ARRAY_LEN(help_text) && s.n < rows - 1; i++) {
			b = next_line(&s, i == 0 ? RA_TITLE : RA_PLAIN);
			lb_put(&b, help_text[i]);
		}
	} else if (rows - 1 - s.n >= 4 + 2 * devs) {
		sort_list(&t->groups, ui->sort);
		sort_list(&t->procs, ui->sort);
		sort_list(&t->services, SORT_CPU);
		summary(&s, t, devs);
		body(&s, t, ui);
	}
	while (s.n < rows - 1) {
		b = next_line(&s, RA_PLAIN);
		(void)b;
	}
	if (s.n < rows)
		status_line(&s, ui);
	return s.n;
}
