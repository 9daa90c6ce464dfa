/* The replay screen's layout on any text the database may hold (names,
 * command lines and kernel log lines are bytes the kernel took from
 * programs: broken UTF-8, control characters) and any terminal size: it
 * must never write past a line or the last row. The first bytes choose the
 * size, the sort and the filter; the rest is cut into the rows' texts. */
#include "fuzz.h"
#include "query/replay.h"

/* The next piece of the input, up to a 0xff byte, as a string in buf. */
static const uint8_t *piece(const uint8_t *p, const uint8_t *end, char *buf, size_t n)
{
	size_t len = 0;
	while (p < end && *p != 0xff && len + 1 < n)
		buf[len++] = (char)(*p ? *p : ' '), p++;
	buf[len] = '\0';
	return p < end ? p + 1 : p;
}

static void add_rows(struct rp_list *l, const uint8_t **p, const uint8_t *end, int n)
{
	l->rows = calloc((size_t)n, sizeof(*l->rows));
	if (!l->rows)
		return;
	l->cap = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct rp_row *r = &l->rows[l->n++];
		*p = piece(*p, end, r->name, sizeof(r->name));
		*p = piece(*p, end, r->group, sizeof(r->group));
		*p = piece(*p, end, r->cmd, sizeof(r->cmd));
		r->pid = i;
		r->cpu_pct = (i * 37) % 101;
		r->rss_kb = i % 3 ? -1 : (int64_t)i << 20;
		r->procs = i % 2 ? -1 : i;
		r->read_bps = i % 5 ? i * 1e6 : -1;
		r->write_bps = i * 1e9;
	}
}

/* Every line must be whole UTF-8 of at most cols characters. */
static void check_lines(const struct rp_line *lines, int n, int cols)
{
	for (int i = 0; i < n; i++) {
		int chars = 0;
		for (const unsigned char *c = (const unsigned char *)lines[i].text; *c; chars++) {
			int len = *c < 0x80		? 1
				  : (*c & 0xe0) == 0xc0 ? 2
				  : (*c & 0xf0) == 0xe0 ? 3
				  : (*c & 0xf8) == 0xf0 ? 4
							: 0;
			if (len == 0)
				abort();
			for (int k = 1; k < len; k++)
				if ((c[k] & 0xc0) != 0x80)
					abort();
			c += len;
		}
		if (chars > cols)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	int cols = 1 + data[0] % 220, rows = 1 + data[1] % 70;
	struct rp_ui ui = {0};
	ui.sort = (enum rp_sort)(data[2] % 3);
	ui.help = data[2] & 0x80;
	ui.following = data[3] & 1;
	const uint8_t *p = data + 4, *end = data + size;
	p = piece(p, end, ui.filter, sizeof(ui.filter) > 8 ? 8 : sizeof(ui.filter));
	p = piece(p, end, ui.host, sizeof(ui.host));
	p = piece(p, end, ui.message, sizeof(ui.message));
	struct rp_tick t;
	memset(&t, 0, sizeof(t));
	t.ts = 1795144320;
	t.dur_ms = data[3] * 1000;
	t.lo = t.ts - data[3];
	t.tier = data[3] % NTIERS;
	t.has_cpu = t.has_mem = t.has_load = 1;
	t.mem_total_kb = 1 << 24;
	t.ndisk = data[0] % (RP_MAX_DEV + 1);
	t.nnet = data[1] % (RP_MAX_DEV + 1);
	for (int i = 0; i < t.ndisk; i++)
		p = piece(p, end, t.disk[i].name, sizeof(t.disk[i].name));
	for (int i = 0; i < t.nnet; i++)
		p = piece(p, end, t.net[i].name, sizeof(t.net[i].name));
	p = piece(p, end, t.note[RV_PSI], sizeof(t.note[RV_PSI]));
	p = piece(p, end, t.ended, sizeof(t.ended));
	t.exits = data[2];
	add_rows(&t.groups, &p, end, data[0] % 20);
	add_rows(&t.procs, &p, end, data[1] % 40);
	add_rows(&t.services, &p, end, data[2] % 5);
	t.nevents = data[3] % (RP_MAX_EVENTS + 1);
	for (int i = 0; i < t.nevents; i++) {
		t.events[i].ts = t.ts - i;
		p = piece(p, end, t.events[i].kind, sizeof(t.events[i].kind));
		p = piece(p, end, t.events[i].text, sizeof(t.events[i].text));
	}
	struct rp_line *lines = calloc((size_t)rows, sizeof(*lines));
	if (lines) {
		check_lines(lines, rp_layout(&t, &ui, cols, rows, lines), cols);
		check_lines(lines, rp_layout(NULL, &ui, cols, rows, lines), cols);
	}
	free(lines);
	rp_tick_free(&t);
	return 0;
}
