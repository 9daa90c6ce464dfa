/* hindsight replay: the stored history one tick per screen, in the
 * terminal, stepping back and forth as atop -r and below replay do. The
 * screen is drawn with ncurses from the lines replay_layout.c makes; the
 * tick is read by replay_data.c. Started without --at it shows the newest
 * tick and follows the daemon as it writes, looking for a new tick every
 * second. Nothing is read while a key is awaited: every statement is done
 * and finalized before the screen is drawn. */
#include <curses.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/replay.h"
#include "query/timespec.h"

/* How often the newest tick is looked for, and the screen redrawn. */
#define REFRESH_MS 1000
/* PgUp and PgDn step this many ticks. */
#define PAGE_TICKS 10

enum { PAIR_HOT = 1, PAIR_HEAD = 2 };

struct replay {
	struct rp_source src;
	struct rp_tick tick;
	struct rp_ui ui;
	int64_t cur; /* the tick shown; -1: none yet */
	int colors;
	struct rp_line *lines;
	int nlines;
	SCREEN *screen;
};

/* The curses attribute of a kind of line: bars reversed, titles bold,
 * headers and hot lines in colour where the terminal has it. */
static int attr_of(const struct replay *r, enum rp_attr a)
{
	switch (a) {
	case RA_BAR:
		return A_REVERSE;
	case RA_TITLE:
		return A_BOLD;
	case RA_HEAD:
		return r->colors ? COLOR_PAIR(PAIR_HEAD) | A_BOLD : A_UNDERLINE;
	case RA_HOT:
		return r->colors ? COLOR_PAIR(PAIR_HOT) | A_BOLD : A_BOLD;
	default:
		return A_NORMAL;
	}
}

/* Draws the layout for the terminal's size now. */
static void draw(struct replay *r)
{
	int rows = LINES > 1 ? LINES : 1, cols = COLS > 1 ? COLS : 1;
	if (rows > r->nlines) {
		struct rp_line *grown = realloc(r->lines, (size_t)rows * sizeof(*grown));
		if (!grown)
			return;
		r->lines = grown;
		r->nlines = rows;
	}
	int n = rp_layout(r->cur >= 0 ? &r->tick : NULL, &r->ui, cols, rows, r->lines);
	erase();
	for (int i = 0; i < n; i++) {
		attrset(attr_of(r, r->lines[i].attr));
		mvaddstr(i, 0, r->lines[i].text);
	}
	attrset(A_NORMAL);
	if (r->ui.prompt[0]) {
		curs_set(1);
		move(rows - 1, 1 + (int)strlen(r->ui.prompt) + (int)strlen(r->ui.input));
	} else {
		curs_set(0);
	}
	refresh();
}

/* Shows tick ts (re-reading it), and whether it is the newest. */
static void show(struct replay *r, int64_t ts)
{
	struct err e;
	if (ts < 0)
		return;
	r->ui.newest = rp_newest(&r->src);
	if (rp_load(&r->src, ts, &r->tick, &e)) {
		snprintf(r->ui.message, sizeof(r->ui.message), "%.150s", e.msg);
		return;
	}
	r->cur = ts;
	r->ui.following = ts >= r->ui.newest;
}

/* A note for the last line, until the next key. */
static void message(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(struct replay *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->ui.message, sizeof(r->ui.message), fmt, ap);
	va_end(ap);
}

/* Steps n ticks (negative: back), stopping at either end. */
static void step(struct replay *r, int n)
{
	int64_t ts = r->cur;
	for (int i = 0; i < abs(n); i++) {
		int64_t next = rp_step(&r->src, ts, n > 0 ? 1 : -1);
		if (next < 0) {
			message(r, n > 0 ? "this is the newest tick" : "this is the oldest tick");
			break;
		}
		ts = next;
	}
	if (ts != r->cur)
		show(r, ts);
}

/* Reads a line on the last row after label; 0 when Enter ended it, -1
 * when Esc (or a signal) did. */
static int prompt(struct replay *r, const char *label)
{
	snprintf(r->ui.prompt, sizeof(r->ui.prompt), "%s", label);
	r->ui.input[0] = '\0';
	int rc = -1;
	for (;;) {
		draw(r);
		int ch = getch();
		size_t len = strlen(r->ui.input);
		if (stop_signal() || ch == 27)
			break;
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			rc = 0;
			break;
		}
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len > 0)
			r->ui.input[len - 1] = '\0';
		else if (ch == 21) /* Ctrl-U */
			r->ui.input[0] = '\0';
		else if (ch >= 32 && ch < 127 && len + 1 < sizeof(r->ui.input))
			r->ui.input[len] = (char)ch, r->ui.input[len + 1] = '\0';
	}
	r->ui.prompt[0] = '\0';
	return rc;
}

/* The first line of an error: the time forms follow in --help and '?'. */
static void first_line(char *text)
{
	text[strcspn(text, ";\n")] = '\0';
}

/* Asks for a time in --at's forms and shows the tick covering it. */
static void jump(struct replay *r)
{
	if (prompt(r, "jump to (03:12, 10m, 2026-11-20 03:12, @EPOCH; Esc cancels): "))
		return;
	struct err e;
	int64_t want;
	if (timespec_parse(r->ui.input, clock_wall_s(), &want, &e)) {
		first_line(e.msg);
		message(r, "jump: %s (? lists the keys, hindsight replay --help the forms)", e.msg);
		return;
	}
	int64_t ts = rp_settle(&r->src, want);
	char t[32];
	time_format_local(want, t, sizeof(t));
	if (ts < 0)
		message(r, "no samples in this database");
	else if (ts < want)
		message(r, "no sample at or after %s: the newest before it", t);
	else
		message(r, "the tick covering %s", t);
	show(r, ts);
}

/* Asks for the text names must contain; empty shows all again. */
static void filter_prompt(struct replay *r)
{
	if (prompt(r, "show names containing (empty: all; Esc cancels): "))
		return;
	snprintf(r->ui.filter, sizeof(r->ui.filter), "%.63s", r->ui.input);
}

/* The next resolution: raw, 1-minute, 1-hour rollups, and round again;
 * the tick covering the time shown is shown at the new one. */
static void resolution(struct replay *r)
{
	struct err e;
	r->src.tier = r->ui.tier = (r->ui.tier + 1) % NTIERS;
	if (rp_replan(&r->src, &e)) {
		message(r, "%.150s", e.msg);
		return;
	}
	message(r, "resolution %s",
		r->ui.tier == TIER_RAW	? "raw"
		: r->ui.tier == TIER_1M ? "1-minute rollups"
					: "1-hour rollups");
	if (r->cur >= 0)
		show(r, rp_settle(&r->src, r->cur));
}

/* Every REFRESH_MS: the daemon may have written a tick (followed when the
 * newest is shown) and rolled up or pruned (the plan moves). */
static void refresh_live(struct replay *r)
{
	struct err e;
	if (rp_replan(&r->src, &e))
		return;
	int64_t newest = rp_newest(&r->src);
	if (newest < 0)
		return;
	if (r->cur < 0 || (r->ui.following && newest != r->cur))
		show(r, newest);
	else
		r->ui.newest = newest;
}

/* One key; returns 0 to go on, 1 to quit. */
static int key(struct replay *r, int ch)
{
	int had_help = r->ui.help;
	r->ui.message[0] = '\0';
	r->ui.help = 0;
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case 't':
	case KEY_RIGHT:
		step(r, 1);
		break;
	case 'T':
	case KEY_LEFT:
		step(r, -1);
		break;
	case KEY_NPAGE:
		step(r, PAGE_TICKS);
		break;
	case KEY_PPAGE:
		step(r, -PAGE_TICKS);
		break;
	case KEY_HOME:
		show(r, rp_settle(&r->src, 0));
		break;
	case KEY_END:
		show(r, rp_newest(&r->src));
		break;
	case 'j':
	case 'b':
		jump(r);
		break;
	case 'r':
		resolution(r);
		break;
	case 'c':
	case 'C':
		r->ui.sort = SORT_CPU;
		break;
	case 'm':
	case 'M':
		r->ui.sort = SORT_MEM;
		break;
	case 'i':
	case 'D':
		r->ui.sort = SORT_IO;
		break;
	case '/':
		filter_prompt(r);
		break;
	case '?':
	case 'h':
		r->ui.help = !had_help;
		break;
	case KEY_RESIZE:
		break;
	default:
		message(r, "no such key: ? lists them");
	}
	return 0;
}

/* Takes over the terminal; -1 when its type is unknown (initscr would
 * end the process there, before the database's files are tidied). */
static int screen_open(struct replay *r, struct err *e)
{
	/* Wide characters for names; numbers keep their '.' (LC_NUMERIC). */
	setlocale(LC_CTYPE, "");
	r->screen = newterm(NULL, stdout, stdin);
	if (!r->screen) {
		const char *term = getenv("TERM");
		return err_set(e,
			       "replay cannot draw on this terminal (TERM=%s): no terminfo entry",
			       term ? term : "");
	}
	set_term(r->screen);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	timeout(REFRESH_MS);
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_HOT, COLOR_RED, -1);
		init_pair(PAIR_HEAD, COLOR_CYAN, -1);
		r->colors = 1;
	}
	return 0;
}

/* Gives the terminal back as it was. */
static void screen_close(struct replay *r)
{
	endwin();
	delscreen(r->screen);
	r->screen = NULL;
}

/* The first tick: the one covering --at, else the newest (followed). */
static int start_at(struct replay *r, const struct qopts *o, struct err *e)
{
	struct err inner;
	int64_t at;
	if (!o->at) {
		r->cur = -1;
		refresh_live(r);
		return 0;
	}
	if (timespec_parse(o->at, o->now, &at, &inner))
		return err_set(e, "--at: %s", inner.msg);
	int64_t ts = rp_settle(&r->src, at);
	r->cur = -1;
	show(r, ts);
	return 0;
}

int cmd_replay(struct qopts *o)
{
	struct replay r;
	struct err e;
	memset(&r, 0, sizeof(r));
	if (o->window || o->context || o->rows_per_section) {
		err_set(&e, "replay takes --at, not --window, --context or --rows");
		return qfail(2, &e);
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err_set(&e,
			"replay draws on a terminal, and %s is not one (for a file or a "
			"pipe: hindsight top --since TIME, or show VIEW)",
			!isatty(STDIN_FILENO) ? "standard input" : "standard output");
		return qfail(2, &e);
	}
	int tier = o->resolution ? tier_by_name(o->resolution) : TIER_RAW;
	if (rp_open(&r.src, o, tier, &e))
		return qfail(1, &e);
	r.ui.tier = tier;
	r.ui.newest = -1;
	snprintf(r.ui.host, sizeof(r.ui.host), "%s", r.src.host);
	if (start_at(&r, o, &e)) {
		rp_close(&r.src);
		return qfail(2, &e);
	}
	if (screen_open(&r, &e)) {
		rp_tick_free(&r.tick);
		rp_close(&r.src);
		return qfail(1, &e);
	}
	int64_t last = clock_mono_us();
	for (;;) {
		draw(&r);
		int ch = getch();
		if (stop_signal())
			break;
		if (ch != ERR && key(&r, ch))
			break;
		if (clock_mono_us() - last >= REFRESH_MS * 1000) {
			refresh_live(&r);
			last = clock_mono_us();
		}
	}
	screen_close(&r);
	rp_tick_free(&r.tick);
	free(r.lines);
	rp_close(&r.src);
	return 0;
}
