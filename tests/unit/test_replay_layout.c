/* The replay screen as text: every line fits the terminal, the tables are
 * sorted and filtered as asked, sections say why they are empty, and no
 * size of terminal, however small, makes it draw past its last line. */
#include "testutil.h"

#include "query/replay.h"

static struct rp_row *add(struct rp_list *l, int64_t pid, const char *name, double cpu,
			  int64_t rss_kb, double write_bps)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->rows = realloc(l->rows, l->cap * sizeof(*l->rows));
		assert_non_null(l->rows);
	}
	struct rp_row *r = &l->rows[l->n++];
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->group, sizeof(r->group), "%s", name);
	snprintf(r->cmd, sizeof(r->cmd), "/usr/bin/%s --a-rather-long-option=value --another",
		 name);
	r->cpu_pct = cpu;
	r->rss_kb = rss_kb;
	r->procs = 1;
	r->read_bps = 0;
	r->write_bps = write_bps;
	return r;
}

/* A tick with three processes whose order differs by CPU, memory, I/O. */
static void make_tick(struct rp_tick *t)
{
	memset(t, 0, sizeof(*t));
	t->ts = 1795144320;
	t->dur_ms = 10000;
	t->lo = t->ts - 10;
	t->has_cpu = t->has_mem = t->has_load = 1;
	t->busy = 97.5;
	t->mem_total_kb = 16 << 20;
	t->mem_used_kb = 3 << 20;
	t->npsi = 1;
	snprintf(t->psi[0].resource, sizeof(t->psi[0].resource), "memory");
	t->psi[0].some_pct = 12.5;
	t->ndisk = 1;
	snprintf(t->disk[0].name, sizeof(t->disk[0].name), "vda");
	t->disk[0].out_bps = 50.6e6;
	add(&t->procs, 101, "burner", 190.0, 2000, 0);
	add(&t->procs, 102, "hog", 2.0, 900000, 1000);
	add(&t->procs, 103, "backup", 20.0, 3000, 80e6);
	/* a name in UTF-8 that must not be cut inside a character */
	add(&t->procs, 104, "\xc3\xa9t\xc3\xa9-\xe6\xbc\xa2\xe5\xad\x97", 1.0, 10, 0);
	/* and broken ones: a lead byte before ASCII, a stray continuation,
	 * bytes no UTF-8 has, a control character */
	add(&t->procs, 105,
	    "a\xc3"
	    "Zb\x80"
	    "c\xff\xfe\xe6\xbc!\x1b[2J",
	    0.5, 10, 0);
	add(&t->groups, 0, "burner", 190.0, 2000, 0);
	add(&t->groups, 0, "hog", 2.0, 900000, 1000);
	t->nevents = 1;
	t->events[0].ts = t->ts - 3;
	snprintf(t->events[0].kind, sizeof(t->events[0].kind), "oom");
	snprintf(t->events[0].text, sizeof(t->events[0].text), "hog (pid 102) killed");
	t->exits = 12;
	snprintf(t->ended, sizeof(t->ended), "gzip x8, sha256sum x4");
}

/* Display columns of a UTF-8 line (one per character). */
static int columns(const char *s)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

static struct rp_line *lay(struct rp_tick *t, const struct rp_ui *ui, int cols, int rows)
{
	struct rp_line *lines = calloc((size_t)rows, sizeof(*lines));
	assert_non_null(lines);
	assert_int_equal(rp_layout(t, ui, cols, rows, lines), rows);
	for (int i = 0; i < rows; i++) {
		if (columns(lines[i].text) > cols)
			fail_msg("line %d is %d columns wide at %d: '%s'", i,
				 columns(lines[i].text), cols, lines[i].text);
		/* every byte sequence is whole UTF-8 */
		for (const unsigned char *p = (const unsigned char *)lines[i].text; *p;) {
			int n = *p < 0x80	      ? 1
				: (*p & 0xe0) == 0xc0 ? 2
				: (*p & 0xf0) == 0xe0 ? 3
						      : 4;
			for (int k = 1; k < n; k++)
				assert_int_equal(p[k] & 0xc0, 0x80);
			p += n;
		}
	}
	assert_int_equal(lines[rows - 1].attr, RA_BAR);
	return lines;
}

static int find(const struct rp_line *lines, int rows, const char *text)
{
	for (int i = 0; i < rows; i++)
		if (strstr(lines[i].text, text))
			return i;
	return -1;
}

/* The pid in the first row under the processes' header. */
static int first_pid(const struct rp_line *lines, int rows)
{
	int head = find(lines, rows, "COMMAND");
	assert_true(head >= 0 && head + 1 < rows);
	return atoi(lines[head + 1].text);
}

static void sorts_and_filters(void **state)
{
	struct rp_tick t;
	struct rp_ui ui = {0};
	make_tick(&t);
	ui.newest = t.ts;
	static const int sizes[][2] = {{100, 30}, {160, 50}, {80, 24}};
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		int cols = sizes[i][0], rows = sizes[i][1];
		ui.sort = SORT_CPU;
		struct rp_line *l = lay(&t, &ui, cols, rows);
		assert_int_equal(first_pid(l, rows), 101);
		assert_true(find(l, rows, "PROCESSES by CPU   5 of 5") >= 0);
		/* "a?Zb?c????!?[2J", written so that no ?? makes a trigraph */
		assert_true(find(l, rows, "a?Zb?c?\x3f?\x3f!?[2J") >= 0);
		assert_true(find(l, rows, "busy  97.5%") >= 0);
		/* in the units of every table (units.c) */
		assert_true(find(l, rows, "write 48.3 MiB/s") >= 0);
		assert_true(find(l, rows, "used 3.0 GiB of 16.0 GiB (18.8%)") >= 0);
		assert_true(find(l, rows, "190.0%") >= 0);
		/* a narrow screen sums reads and writes, to leave the command room */
		assert_true(find(l, rows, cols < 120 ? "  I/O  COMMAND" : "  WRITE  COMMAND") >= 0);
		assert_true(find(l, rows, "879 MiB") >= 0);
		assert_true(find(l, rows, "hog (pid 102) killed") >= 0);
		assert_true(find(l, rows, "ended 12: gzip x8, sha256sum x4") >= 0);
		assert_int_equal(l[find(l, rows, "PSI")].attr, RA_HOT);
		free(l);
		ui.sort = SORT_MEM;
		l = lay(&t, &ui, cols, rows);
		assert_int_equal(first_pid(l, rows), 102);
		free(l);
		ui.sort = SORT_IO;
		l = lay(&t, &ui, cols, rows);
		assert_int_equal(first_pid(l, rows), 103);
		free(l);
		snprintf(ui.filter, sizeof(ui.filter), "BURN");
		l = lay(&t, &ui, cols, rows);
		assert_true(find(l, rows, "PROCESSES by I/O   1 of 1 matching 'BURN' (5 in all)") >=
			    0);
		assert_int_equal(first_pid(l, rows), 101);
		assert_int_equal(find(l, rows, "backup"), -1);
		free(l);
		ui.filter[0] = '\0';
	}
	rp_tick_free(&t);
}

static void every_size(void **state)
{
	struct rp_tick t;
	struct rp_ui ui = {0};
	make_tick(&t);
	for (int i = 0; i < 300; i++)
		add(&t.procs, 1000 + i, "many", i, i, i);
	t.nevents = RP_MAX_EVENTS;
	for (int rows = 1; rows <= 60; rows++)
		for (int cols = 1; cols <= 200; cols += rows % 7 + 1) {
			ui.help = rows % 2;
			free(lay(&t, &ui, cols, rows));
			free(lay(NULL, &ui, cols, rows));
		}
	rp_tick_free(&t);
}

static void notes_and_help(void **state)
{
	struct rp_tick t;
	struct rp_ui ui = {0};
	make_tick(&t);
	t.npsi = 0;
	snprintf(t.note[RV_PSI], sizeof(t.note[RV_PSI]), "no data (collector psi not present)");
	snprintf(t.note[RV_PROCS], sizeof(t.note[RV_PROCS]),
		 "not present (database written by an older hindsightd)");
	struct rp_line *l = lay(&t, &ui, 100, 30);
	assert_true(find(l, 30, "PSI   no data (collector psi not present)") >= 0);
	assert_true(find(l, 30, "PROCESSES  not present (database written by an older") >= 0);
	free(l);
	ui.help = 1;
	l = lay(&t, &ui, 100, 30);
	assert_true(find(l, 30, "jump to a time") >= 0);
	free(l);
	ui.help = 0;
	snprintf(ui.prompt, sizeof(ui.prompt), "jump to: ");
	snprintf(ui.input, sizeof(ui.input), "03:12");
	l = lay(&t, &ui, 100, 30);
	assert_true(strncmp(l[29].text, " jump to: 03:12", 15) == 0);
	free(l);
	rp_tick_free(&t);
}

int main(void)
{
	setenv("TZ", "UTC0", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sorts_and_filters),
	    cmocka_unit_test(every_size),
	    cmocka_unit_test(notes_and_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
