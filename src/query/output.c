/* Output writers: an aligned table for people, CSV (RFC 4180), a JSON array
 * and NDJSON for programs. Rows are written as they come; only the table
 * holds rows back, a bounded number, to choose its column widths and fit
 * them to the terminal. (libsmartcols holds a whole table and was ten times
 * slower on a day of rows: docs/architecture.md has the figures.) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "query/query.h"
#include "query/timespec.h"

/* The table prints its first rows together so their widths line up; rows
 * after that reuse the widths (a wider cell just pushes its row). */
#define TABLE_BATCH 2000

/* Output is built in a block and written a block at a time: a cell is a
 * few bytes, and a stdio call per piece cost more than the query itself. */
#define OUT_BLOCK (1 << 16)
/* Room the widest formatted number or timestamp needs. */
#define OUT_CELL 64

/* A text column gives way down to its header's width, and no further than
 * this share of the width allowed (or its own width, when narrower): a key
 * such as a group's name stays whole, and a long message keeps room. */
#define TABLE_TEXT_SHARE 3

struct out_table {
	char **cells; /* TABLE_BATCH * ncols strings; NULL for SQL NULL */
	unsigned char *numeric;
	unsigned char *unit; /* enum unit of each column */
	struct fit_col *fit; /* width, and whether shown, per column */
	const char **rest;   /* per column, what of a cell is still to print */
	size_t nrows;
	int header_done;
	int shown; /* columns shown (fit_columns) */
};

struct out_prefs out_prefs;

/* 10^0 to 10^19, every power of ten a uint64_t holds. */
static const uint64_t pow10_u64[] = {1,
				     10,
				     100,
				     1000,
				     10000,
				     100000,
				     1000000,
				     10000000,
				     100000000,
				     1000000000,
				     10000000000,
				     100000000000,
				     1000000000000,
				     10000000000000,
				     100000000000000,
				     1000000000000000,
				     10000000000000000,
				     100000000000000000,
				     1000000000000000000,
				     10000000000000000000u};

/* Decimal text of v and a NUL into buf (room for 21 bytes), without
 * printf: the digits are counted first, then written two per division
 * straight into place, since most cells of a month's export are integers.
 * Measured on bench/query's history (3 days, 200 groups; callgrind, and
 * the median of 7 runs on 2 cores): about 35 instructions a cell against
 * 690 through snprintf; export cpu takes 0.36 G instructions against
 * 0.97 G (60 ms against 91 ms), show group_cpu --since 24h 1.40 G
 * against 2.71 G (212 ms against 281 ms; reals' digits come from here too). */
size_t format_int(int64_t v, char *buf)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = buf;
	if (v < 0)
		*p++ = '-';
	/* log10(2) is about 1233 / 4096: the bit length gives the digits or
	 * one less (u | 1 crosses no power of ten, and makes 0 one digit) */
	size_t log10_floor = (64 - (size_t)__builtin_clzll(u | 1)) * 1233 >> 12;
	size_t digits = log10_floor + ((u | 1) >= pow10_u64[log10_floor]);
	char *end = p + digits;
	*end = '\0';
	while (u >= 100) {
		end -= 2;
		memcpy(end, pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10)
		memcpy(end - 2, pairs + 2 * u, 2);
	else
		end[-1] = (char)('0' + u);
	return (size_t)(p - buf) + digits;
}

/* Puts a decimal point k digits from the right of the n digits at
 * buf, moving digits rather than dividing: 5 with k 2 is 0.05, 5 with k 0
 * is 5.0. Returns the new length; buf has room for it and a NUL. */
static size_t point_digits(char *buf, size_t n, size_t k)
{
	if (k == 0) {
		memcpy(buf + n, ".0", 3);
		return n + 2;
	}
	if (n <= k) { /* 0.0...: the digits move right past the zeros */
		size_t lead = k - n + 1;
		memmove(buf + lead, buf, n);
		memset(buf, '0', lead);
		n += lead;
	}
	memmove(buf + n - k + 1, buf + n - k, k);
	buf[n - k] = '.';
	buf[n + 1] = '\0';
	return n + 1;
}

/* r * 10^-k in decimal, without the trailing zeros of its fraction. */
static size_t point_digits_trimmed(char *buf, uint64_t r, size_t k)
{
	while (k > 0 && r % 10 == 0) {
		r /= 10;
		k--;
	}
	return point_digits(buf, format_int((int64_t)r, buf), k);
}

/* Whether the decimal r * 10^-k reads back as v = m * 2^-s (p10 = 10^k):
 * whether it lies within half the gap to v's neighbours, scaled by
 * 2 * 2^s * 10^k into integers (below 2^125 here). The neighbour below a
 * power of two is half as far; a tie reads as the even mantissa. */
static int reads_back(uint64_t r, int s, uint64_t m, unsigned __int128 p10)
{
	unsigned __int128 d = (unsigned __int128)r << (s + 1), x = (unsigned __int128)m * p10 * 2;
	unsigned __int128 dist = d > x ? d - x : x - d;
	unsigned __int128 bound = d < x && m == 1ull << 52 ? p10 / 2 : p10;
	return dist < bound || (dist == bound && m % 2 == 0);
}

/* 10^k in 128 bits, k <= 38. */
static unsigned __int128 pow10_u128(size_t k)
{
	size_t top = ARRAY_LEN(pow10_u64) - 1;
	return k <= top ? pow10_u64[k] : (unsigned __int128)pow10_u64[top] * pow10_u64[k - top];
}

/* The integer r nearest to v * 10^k, v = m * 2^-s (ties to even, as
 * printf rounds), computed exactly; whether r * 10^-k reads back as v. */
static int nearest_reads_back(uint64_t m, int s, size_t k, uint64_t *r)
{
	unsigned __int128 p10 = pow10_u128(k), x = (unsigned __int128)m * p10;
	unsigned __int128 half = (unsigned __int128)1 << (s - 1), rest = x & ((half << 1) - 1);
	*r = (uint64_t)(x >> s);
	*r += rest > half || (rest == half && *r % 2 == 1);
	return reads_back(*r, s, m, p10);
}

/* The decimal with the fewest decimals k that reads back as v, v in
 * [1e-4, 1e15), where printf's %g writes fixed notation: the first k at
 * which the integer nearest to v * 10^k, r, reads back as r * 10^-k. That
 * is printf's shortest text, found without printf and strtod (a microsecond
 * or more a cell). More decimals are never farther from v, so once one k
 * reads back every larger one does, and 17 digits always do: the first k
 * is found by bisection. */
static size_t format_fixed(double v, char *buf)
{
	/* Most values the views write have at most three decimals: below
	 * 10^12, v * 1000 is within far less than 0.5 of such an r, and no
	 * other r reads back as v, so one step in doubles finds it. */
	size_t lo = 0;
	if (v < 1e12) {
		double r = (double)(uint64_t)(v * 1000 + 0.5);
		if (r / 1000 == v)
			return point_digits_trimmed(buf, (uint64_t)r, 3);
		lo = 4;
	}
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	uint64_t m = (bits & ((1ull << 52) - 1)) | 1ull << 52;
	int s = 1075 - (int)(bits >> 52); /* v = m * 2^-s; 3 <= s <= 66 here */
	/* 17 significant digits: 16 - floor(log10 v) decimals */
	static const double decades[] = {1e-3, 1e-2, 1e-1, 1e0, 1e1,  1e2,  1e3,  1e4,	1e5,
					 1e6,  1e7,  1e8,  1e9, 1e10, 1e11, 1e12, 1e13, 1e14};
	int log10_v = -4;
	while (log10_v < 14 && v >= decades[log10_v + 4])
		log10_v++;
	size_t hi = (size_t)(16 - log10_v);
	uint64_t r, r_hi;
	/* An average like 10 / 6 needs 17 digits, 25 / 6 16: look there first */
	if (!nearest_reads_back(m, s, hi - 1, &r_hi)) {
		while (!nearest_reads_back(m, s, hi, &r_hi)) /* a decade's edge, misjudged */
			hi++;
		return point_digits_trimmed(buf, r_hi, hi);
	}
	hi--;
	if (hi > lo) { /* 16 digits, as most are, unless 15 do */
		if (!nearest_reads_back(m, s, hi - 1, &r))
			return point_digits_trimmed(buf, r_hi, hi);
		hi--;
		r_hi = r;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (nearest_reads_back(m, s, mid, &r)) {
			hi = mid;
			r_hi = r;
		} else {
			lo = mid + 1;
		}
	}
	return point_digits_trimmed(buf, r_hi, hi);
}

/* Measured on bench/query's history (3 days, 200 groups; callgrind, and
 * the median of 7 runs on 2 cores): a 1-minute average takes about 250
 * instructions here against 4,900 through snprintf and strtod (the loop
 * below, for every value); show group_memory --since 24h, 2.2 M such
 * cells, takes 2.53 G instructions against 13.04 G (307 ms against
 * 1,090 ms), show group_tasks 2.79 G against 10.35 G. */
size_t format_real(double v, char *buf, size_t n)
{
	if (!isfinite(v))
		return (size_t)snprintf(buf, n, "%s",
					isnan(v) ? "NaN"
					: v > 0	 ? "Infinity"
						 : "-Infinity");
	/* Where printf's %g writes fixed notation the digits are found
	 * directly (format_fixed); elsewhere printf finds them. */
	double a = fabs(v);
	if (((a >= 1e-4 && a < 1e15) || a == 0) && n >= OUT_CELL) {
		int minus = v < 0 || (v == 0 && signbit(v));
		buf[0] = '-';
		return (size_t)minus + format_fixed(a, buf + minus);
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* Keep a real looking like a real: 5 prints as 5.0. */
	if (!strpbrk(buf, ".eEn") && strlen(buf) + 2 < n)
		strcat(buf, ".0");
	return strlen(buf);
}

/* Nothing more is written once a signal stops the command (stop.c): a
 * write could block on a pipe nobody reads. */
static void out_write_block(struct out *o)
{
	if (o->len && !stop_signal())
		fwrite(o->buf, 1, o->len, o->f);
	o->len = 0;
}

/* Makes room for n more bytes: a stream's block is written out; a page's
 * buffer grows. A page that cannot grow is marked and refilled from the
 * start, so writing goes on in bounds and out_page_failed reports it. */
static void out_make_room(struct out *o, size_t n)
{
	if (o->f) {
		out_write_block(o);
		return;
	}
	size_t cap = o->cap;
	while (cap < o->len + n)
		cap *= 2;
	char *grown = realloc(o->buf, cap);
	if (!grown) {
		o->nomem = 1;
		o->len = 0;
		return;
	}
	o->buf = grown;
	o->cap = cap;
}

static void put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		out_make_room(o, n);
		if (o->len + n > o->cap) {
			if (o->f)
				fwrite(p, 1, n, o->f);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_s(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_c(struct out *o, char c)
{
	if (o->len == o->cap)
		out_make_room(o, 1);
	o->buf[o->len++] = c;
}

/* Space for one formatted cell at the end of the block; the caller adds
 * what it wrote to o->len. */
static char *cell_room(struct out *o)
{
	if (o->len + OUT_CELL > o->cap)
		out_make_room(o, OUT_CELL);
	return o->buf + o->len;
}

static int is_time_name(const char *name)
{
	size_t l = strlen(name);
	return strcmp(name, "ts") == 0 || (l > 3 && strcmp(name + l - 3, "_ts") == 0);
}

int out_open(struct out *o, enum out_format fmt, enum out_time t, const char *path, const char *db,
	     struct err *e)
{
	memset(o, 0, sizeof(*o));
	o->f = stdout;
	if (path && strcmp(path, "-") != 0) {
		o->f = outfile_open(path, db, "-o", e);
		if (!o->f)
			return -1;
		o->close_f = 1;
	}
	/* One thread writes: skip stdio's per-call locking, and write in
	 * large blocks; a month of rows is millions of small writes. */
	__fsetlocking(o->f, FSETLOCKING_BYCALLER);
	o->cap = OUT_BLOCK;
	o->buf = malloc(o->cap);
	if (!o->buf) {
		if (o->close_f)
			fclose(o->f);
		return err_set(e, "out of memory");
	}
	if (fmt == OUT_DEFAULT) {
		fmt = !o->close_f && isatty(fileno(stdout)) ? OUT_TABLE : OUT_CSV;
		/* Piped to less, the table would turn into CSV unannounced. */
		if (fmt == OUT_CSV && !o->close_f && isatty(STDERR_FILENO))
			fputs("hindsight: stdout is not a terminal: writing CSV (--table keeps "
			      "the table)\n",
			      stderr);
	}
	o->fmt = fmt;
	o->human = fmt == OUT_TABLE && !out_prefs.raw;
	o->width = o->close_f ? 0 : out_terminal_width();
	o->wrap = 1;
	if (t == OUT_TIME_DEFAULT) {
		t = fmt == OUT_CSV || fmt == OUT_TABLE ? OUT_TIME_ISO : OUT_TIME_EPOCH;
		o->local_time = fmt == OUT_TABLE;
	}
	o->time = t;
	return 0;
}

int out_columns(struct out *o, sqlite3_stmt *st)
{
	if (o->names)
		return 0;
	o->ncols = sqlite3_column_count(st);
	o->names = calloc((size_t)o->ncols + 1, sizeof(char *));
	o->is_time = calloc((size_t)o->ncols + 1, 1);
	for (int i = 0; i < o->ncols; i++) {
		const char *n = sqlite3_column_name(st, i);
		o->names[i] = strdup(n ? n : "?");
		o->is_time[i] = is_time_name(o->names[i]);
	}
	if (o->fmt == OUT_TABLE) {
		size_t n = (size_t)o->ncols + 1;
		struct out_table *t = o->table = calloc(1, sizeof(*o->table));
		t->cells = calloc((size_t)TABLE_BATCH * (size_t)o->ncols + 1, sizeof(char *));
		t->numeric = calloc(n, 1);
		t->unit = calloc(n, 1);
		t->fit = calloc(n, sizeof(*t->fit));
		t->rest = calloc(n, sizeof(*t->rest));
		for (int i = 0; i < o->ncols; i++)
			t->unit[i] = (unsigned char)unit_of(o->names[i]);
	} else if (o->fmt == OUT_CSV) {
		for (int i = 0; i < o->ncols; i++) {
			put_s(o, i ? "," : "");
			/* Column names are SQL identifiers, but an alias can be anything. */
			if (strpbrk(o->names[i], ",\"\r\n")) {
				put_c(o, '"');
				for (const char *p = o->names[i]; *p; p++)
					put_s(o, *p == '"' ? "\"\"" : (char[2]){*p, 0});
				put_c(o, '"');
			} else {
				put_s(o, o->names[i]);
			}
		}
		put_s(o, "\r\n");
	} else if (o->fmt == OUT_JSON) {
		put_c(o, '[');
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static int utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	int n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || (p[0] >= 0xf8))
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 0; /* overlong, or a UTF-16 surrogate */
	if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return n;
}

/* Writes text as valid UTF-8 (bytes that are not become U+FFFD), escaped for
 * JSON or for a quoted CSV field. */
static void put_text(struct out *o, const unsigned char *s, int json)
{
	while (*s) {
		/* a run of plain ASCII goes out in one write */
		const unsigned char *run = s;
		while (*s >= 0x20 && *s < 0x80 && *s != '"' && !(json && *s == '\\'))
			s++;
		if (s > run)
			put(o, run, (size_t)(s - run));
		if (!*s)
			break;
		int n = utf8_len(s);
		if (n == 0) {
			put(o, "\xef\xbf\xbd", 3);
			s++;
			continue;
		}
		if (json && (*s == '"' || *s == '\\')) {
			put_c(o, '\\');
			put_c(o, (char)*s);
		} else if (json && *s < 0x20) {
			o->len += (size_t)snprintf(cell_room(o), OUT_CELL, "\\u%04x", *s);
		} else if (!json && *s == '"') {
			put(o, "\"\"", 2);
		} else {
			put(o, s, (size_t)n);
		}
		s += n;
	}
}

void json_write_string(FILE *f, const char *s)
{
	struct out o = {.f = f, .cap = OUT_BLOCK};
	o.buf = malloc(o.cap);
	if (!o.buf)
		return;
	put_c(&o, '"');
	put_text(&o, (const unsigned char *)s, 1);
	put_c(&o, '"');
	out_write_block(&o);
	free(o.buf);
}

static void put_hex(struct out *o, const unsigned char *p, int n)
{
	for (int i = 0; i < n; i++)
		o->len += (size_t)snprintf(cell_room(o), OUT_CELL, "%02x", p[i]);
}

/* A timestamp column's value as the chosen time format, kept per column
 * (struct out_time_cell). buf has room for a cell's text (every caller
 * passes a cell of OUT_CELL or 64 bytes). */
static size_t format_time(struct out *o, int col, int64_t ts, char *buf)
{
	if (o->time == OUT_TIME_EPOCH)
		return format_int(ts, buf);
	struct out_time_cell *c = &o->time_cell[col % OUT_TIME_SLOTS];
	if (!c->valid || c->value != ts) {
		if (o->local_time)
			time_format_local(ts, c->text, sizeof(c->text));
		else
			time_format_iso_utc(ts, c->text, sizeof(c->text));
		c->value = ts;
		c->len = strlen(c->text);
		c->valid = 1;
	}
	memcpy(buf, c->text, sizeof(c->text)); /* a fixed size: inlined */
	return c->len;
}

static void put_int(struct out *o, int64_t v)
{
	o->len += format_int(v, cell_room(o));
}

static void put_real(struct out *o, double v)
{
	o->len += format_real(v, cell_room(o), OUT_CELL);
}

static void put_time(struct out *o, int col, int64_t ts)
{
	o->len += format_time(o, col, ts, cell_room(o));
}

/* Length of the leading run of printable ASCII that CSV writes unquoted. */
static size_t csv_plain_len(const unsigned char *s)
{
	/* 0x20-0x7f but '"' (0x22) and ',' (0x2c) */
	static const unsigned char plain[256] = {
	    [0x20 ... 0x21] = 1, [0x23 ... 0x2b] = 1, [0x2d ... 0x7f] = 1};
	const unsigned char *p = s;
	while (plain[*p])
		p++;
	return (size_t)(p - s);
}

/* Cells are read through sqlite3_column_value: one API call per cell
 * instead of two (type, then value), each of which checks the connection. */
static void csv_row(struct out *o, sqlite3_stmt *st)
{
	for (int i = 0; i < o->ncols; i++) {
		if (i)
			put_c(o, ',');
		sqlite3_value *v = sqlite3_column_value(st, i);
		switch (sqlite3_value_type(v)) {
		case SQLITE_NULL:
			break;
		case SQLITE_INTEGER:
			if (o->is_time[i])
				put_time(o, i, sqlite3_value_int64(v));
			else
				put_int(o, sqlite3_value_int64(v));
			break;
		case SQLITE_FLOAT:
			put_real(o, sqlite3_value_double(v));
			break;
		case SQLITE_BLOB:
			put_hex(o, sqlite3_value_blob(v), sqlite3_value_bytes(v));
			break;
		default: {
			const unsigned char *t = sqlite3_value_text(v);
			size_t plain = csv_plain_len(t);
			/* Quote when needed (RFC 4180), and also an empty string so it
			 * differs from NULL. */
			if (plain && !t[plain]) {
				put(o, t, plain); /* the usual name or label: as it is */
			} else if (*t && !strpbrk((const char *)t, ",\"\r\n")) {
				put_text(o, t, 0);
			} else {
				put_c(o, '"');
				put_text(o, t, 0);
				put_c(o, '"');
			}
		}
		}
	}
	put(o, "\r\n", 2);
}

static void json_value(struct out *o, sqlite3_value *v, int col)
{
	switch (sqlite3_value_type(v)) {
	case SQLITE_NULL:
		put_s(o, "null");
		break;
	case SQLITE_INTEGER:
		if (o->is_time[col] && o->time != OUT_TIME_EPOCH) {
			put_c(o, '"');
			put_time(o, col, sqlite3_value_int64(v));
			put_c(o, '"');
		} else {
			put_int(o, sqlite3_value_int64(v));
		}
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_value_double(v);
		if (!isfinite(d)) {
			put_s(o, "null"); /* JSON has no NaN or infinity */
		} else {
			put_real(o, d);
		}
		break;
	}
	case SQLITE_BLOB:
		put_c(o, '"');
		put_hex(o, sqlite3_value_blob(v), sqlite3_value_bytes(v));
		put_c(o, '"');
		break;
	default:
		put_c(o, '"');
		put_text(o, sqlite3_value_text(v), 1);
		put_c(o, '"');
	}
}

static void json_row(struct out *o, sqlite3_stmt *st)
{
	if (o->fmt == OUT_JSON)
		put_s(o, o->rows || o->page ? ",\n" : "\n");
	put_c(o, '{');
	for (int i = 0; i < o->ncols; i++) {
		put_s(o, i ? "," : "");
		put_c(o, '"');
		put_text(o, (const unsigned char *)o->names[i], 1);
		put_s(o, "\":");
		json_value(o, sqlite3_column_value(st, i), i);
	}
	put_c(o, '}');
	if (o->fmt == OUT_NDJSON)
		put_c(o, '\n');
}

static void table_pad(struct out *o, size_t n)
{
	while (n--)
		put_c(o, ' ');
}

size_t out_terminal_width(void)
{
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *env = getenv("COLUMNS");
	char *end;
	long v = env ? strtol(env, &end, 10) : 0;
	return env && *env && !*end && v > 0 && v < 100000 ? (size_t)v : 0;
}

/* Writes a table line: one piece of each shown column's cell, aligned,
 * and more lines while a cell wraps. Spaces are owed rather than written,
 * so no line ends in blanks. */
static void table_line(struct out *o, char *const *cells)
{
	struct out_table *t = o->table;
	for (int i = 0; i < o->ncols; i++)
		t->rest[i] = cells[i] ? cells[i] : "";
	int more = 1;
	while (more) {
		size_t owed = 0;
		int first = 1;
		more = 0;
		for (int i = 0; i < o->ncols; i++) {
			if (!t->fit[i].shown)
				continue;
			const char *c = t->rest[i], *next = "";
			size_t width = t->fit[i].width, w = text_width(c), len = strlen(c);
			int cut = 0;
			owed += first ? 0 : 2;
			first = 0;
			if (w > width && o->width && !t->numeric[i]) {
				if (o->wrap) {
					len = wrap_piece(c, width, &next);
					more |= *next != '\0';
				} else {
					len = truncate_piece(c, width);
					cut = 1;
				}
				w = cut; /* the "…" */
				for (size_t k = 0; k < len; k++)
					w += ((unsigned char)c[k] & 0xc0) != 0x80;
			}
			size_t pad = width > w ? width - w : 0;
			if (t->numeric[i])
				owed += pad;
			if (len || cut) {
				table_pad(o, owed);
				owed = 0;
				put(o, c, len);
				if (cut)
					put_s(o, "\xe2\x80\xa6"); /* … */
			}
			if (!t->numeric[i])
				owed += pad;
			t->rest[i] = next;
		}
		put_c(o, '\n');
	}
}

/* The first rows decide the columns: each as wide as its widest cell, then
 * fitted to the width allowed (fit_columns). */
static void table_layout(struct out *o)
{
	struct out_table *t = o->table;
	for (int i = 0; i < o->ncols; i++) {
		size_t head = text_width(o->names[i]), width = head;
		for (size_t r = 0; r < t->nrows; r++) {
			const char *c = t->cells[r * (size_t)o->ncols + (size_t)i];
			size_t w = c ? text_width(c) : 0;
			if (w > width)
				width = w;
		}
		t->fit[i].width = width;
		/* numbers and times never give way; text down to its share */
		size_t share = o->width / TABLE_TEXT_SHARE;
		size_t least = width < share ? width : share;
		t->fit[i].min = t->numeric[i] || o->is_time[i] ? width
				: head > least		       ? head
							       : least;
	}
	t->shown = fit_columns(t->fit, o->ncols, o->width);
}

static void table_flush(struct out *o)
{
	struct out_table *t = o->table;
	if (!t)
		return;
	if (!t->header_done) {
		table_layout(o);
		table_line(o, o->names);
		int first = 1;
		for (int i = 0; i < o->ncols; i++) {
			if (!t->fit[i].shown)
				continue;
			put_s(o, first ? "" : "  ");
			first = 0;
			for (size_t k = 0; k < t->fit[i].width; k++)
				put_c(o, '-');
		}
		put_c(o, '\n');
		t->header_done = 1;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = &t->cells[r * (size_t)o->ncols];
		table_line(o, row);
		for (int i = 0; i < o->ncols; i++) {
			free(row[i]);
			row[i] = NULL;
		}
	}
	t->nrows = 0;
}

/* A number as the table writes it: in its column's unit for people, or
 * exactly (--raw; integers of no unit always). */
static void table_number(struct out *o, int col, sqlite3_value *v, char *buf)
{
	enum unit u = (enum unit)o->table->unit[col];
	if (sqlite3_value_type(v) == SQLITE_INTEGER) {
		int64_t i = sqlite3_value_int64(v);
		if (o->human && u != UNIT_NONE)
			format_unit(u, (double)i, buf);
		else
			format_int(i, buf);
	} else if (o->human) {
		format_unit(u, sqlite3_value_double(v), buf);
	} else {
		format_real_table(sqlite3_value_double(v), buf);
	}
}

static void table_row(struct out *o, sqlite3_stmt *st)
{
	struct out_table *t = o->table;
	char buf[64];
	if (t->nrows == TABLE_BATCH)
		table_flush(o);
	char **row = &t->cells[t->nrows++ * (size_t)o->ncols];
	for (int i = 0; i < o->ncols; i++) {
		sqlite3_value *v = sqlite3_column_value(st, i);
		int type = sqlite3_value_type(v);
		const char *text = buf;
		if (type == SQLITE_NULL) {
			row[i] = NULL;
			continue;
		} else if (type == SQLITE_INTEGER && o->is_time[i]) {
			format_time(o, i, sqlite3_value_int64(v), buf);
		} else if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
			table_number(o, i, v, buf);
			t->numeric[i] = 1;
		} else if (type == SQLITE_BLOB) {
			snprintf(buf, sizeof(buf), "(%d bytes)", sqlite3_value_bytes(v));
		} else {
			text = (const char *)sqlite3_value_text(v);
		}
		/* A control character would break the table's lines. */
		row[i] = strdup(text);
		for (char *p = row[i]; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
	}
}

void out_row(struct out *o, sqlite3_stmt *st)
{
	if (!o->names)
		out_columns(o, st);
	switch (o->fmt) {
	case OUT_TABLE:
		table_row(o, st);
		break;
	case OUT_JSON:
	case OUT_NDJSON:
		json_row(o, st);
		break;
	default:
		csv_row(o, st);
		break;
	}
	o->rows++;
}

int out_page_open(struct out *page, const struct out *o)
{
	memset(page, 0, sizeof(*page));
	page->fmt = o->fmt;
	page->time = o->time;
	page->local_time = o->local_time;
	page->ncols = o->ncols;
	page->names = o->names;
	page->is_time = o->is_time;
	page->page = 1;
	page->cap = OUT_BLOCK;
	page->buf = malloc(page->cap);
	return page->buf ? 0 : -1;
}

int out_page_failed(const struct out *page)
{
	return page->nomem;
}

void out_page_append(struct out *o, struct out *page)
{
	/* A page's JSON rows each start with a separator; the first row of
	 * the whole array has none. */
	size_t skip = o->fmt == OUT_JSON && o->rows == 0 && page->len > 0;
	put(o, page->buf + skip, page->len - skip);
	o->rows += page->rows;
	page->rows = 0;
	page->len = 0;
}

void out_page_close(struct out *page)
{
	free(page->buf);
	memset(page, 0, sizeof(*page));
}

/* Says which columns the terminal had no room for, after the table, where
 * it is seen, and how to get them: one line within the width, naming as
 * many as fit. */
static void note_left_out(const struct out *o)
{
	const struct out_table *t = o->table;
	int left = o->ncols - t->shown, listed = 0;
	char head[96], names[512];
	snprintf(head, sizeof(head),
		 "hindsight: %d more column%s (-c picks, --csv has all): ", left,
		 left == 1 ? "" : "s");
	size_t len = 0, room = o->width > strlen(head) + 24 ? o->width - strlen(head) : 24;
	names[0] = '\0';
	for (int i = 0; i < o->ncols; i++) {
		if (t->fit[i].shown)
			continue;
		size_t need = strlen(o->names[i]) + (listed ? 2 : 0);
		/* room for ", ..." after it unless it is the last */
		if (len + need + (listed + 1 < left ? 5 : 0) > room ||
		    len + need >= sizeof(names) - 8)
			break;
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
					listed ? ", " : "", o->names[i]);
		listed++;
	}
	if (stop_signal())
		return;
	fprintf(stderr, "%s%s%s\n", head, names, listed < left ? (listed ? ", ..." : "...") : "");
}

int out_close(struct out *o, struct err *e)
{
	int rc = 0;
	if (o->fmt == OUT_TABLE && o->table && !(o->rows == 0 && o->silent_empty)) {
		table_flush(o);
		if (o->rows == 0)
			put_s(o, "(no rows)\n");
	} else if (o->fmt == OUT_JSON) {
		put_s(o, o->names ? (o->rows ? "\n]\n" : "]\n") : "[]\n");
	}
	out_write_block(o);
	if (fflush(o->f) != 0 || ferror(o->f))
		rc = err_set(e, "writing the output failed: %s", strerror(errno));
	if (o->close_f && fclose(o->f) != 0 && rc == 0)
		rc = err_set(e, "writing the output failed: %s", strerror(errno));
	if (o->table) {
		if (o->table->header_done && o->table->shown < o->ncols)
			note_left_out(o);
		free(o->table->cells);
		free(o->table->numeric);
		free(o->table->unit);
		free(o->table->fit);
		free(o->table->rest);
		free(o->table);
	}
	for (int i = 0; i < o->ncols; i++)
		free(o->names[i]);
	free(o->names);
	free(o->is_time);
	free(o->buf);
	memset(o, 0, sizeof(*o));
	return rc;
}
