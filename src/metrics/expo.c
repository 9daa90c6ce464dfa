/* Exposition: a set's families as Prometheus text 0.0.4 or OpenMetrics 1.0,
 * the numbers in them, and which of the two an Accept header asks for. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

/* ---- output buffer ---- */

void expo_out_free(struct expo_out *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

void expo_out_add(struct expo_out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *p = realloc(o->data, cap);
		if (!p) {
			o->failed = 1;
			return;
		}
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, s, n);
	o->len += n;
	o->data[o->len] = '\0';
}

void expo_out_str(struct expo_out *o, const char *s)
{
	expo_out_add(o, s, strlen(s));
}

/* Copies n bytes of s with \\, \n and (when quote) \" escaped, in runs. */
static void add_escaped_n(struct expo_out *o, const char *s, size_t n, int quote)
{
	const char *run = s, *end = s + n;
	for (; s < end; s++) {
		const char *esc = *s == '\\'	       ? "\\\\"
				  : *s == '\n'	       ? "\\n"
				  : quote && *s == '"' ? "\\\""
						       : NULL;
		if (!esc)
			continue;
		expo_out_add(o, run, (size_t)(s - run));
		expo_out_add(o, esc, 2);
		run = s + 1;
	}
	expo_out_add(o, run, (size_t)(s - run));
}

static void add_escaped(struct expo_out *o, const char *s, int quote)
{
	add_escaped_n(o, s, strlen(s), quote);
}

/* The length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (!n || (p[0] >= 0xf8))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) ||
	    (p[0] == 0xed && p[1] >= 0xa0) || /* overlong, surrogates */
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

/* Label values must be UTF-8 (Prometheus refuses the whole scrape
 * otherwise); a process's comm is any bytes: an invalid byte becomes
 * U+FFFD. */
void expo_label_value(struct expo_out *o, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	while (*p) {
		const unsigned char *run = p;
		size_t n;
		while (*p && (n = utf8_len(p)))
			p += n;
		add_escaped_n(o, (const char *)run, (size_t)(p - run), 1);
		if (*p) {
			expo_out_add(o, "\xef\xbf\xbd", 3);
			p++;
		}
	}
}

/* ---- numbers ---- */

/* Decimal digits of |v| into out (no sign); returns the length. In 64
 * bits when it fits: a 128-bit division is a library call per digit. */
static size_t udigits(char *out, unsigned __int128 v)
{
	char tmp[48];
	size_t n = 0;
	while (v > UINT64_MAX) {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	}
	uint64_t w = (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + (int)(w % 10));
		w /= 10;
	} while (w);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t expo_number(char *out, size_t n, double v)
{
	if (isnan(v))
		return (size_t)snprintf(out, n, "NaN");
	if (isinf(v))
		return (size_t)snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15) {
		if (n < 20)
			return (size_t)snprintf(out, n, "%.0f", v);
		size_t len = 0;
		if (v < 0)
			out[len++] = '-';
		len += udigits(out + len, (unsigned __int128)fabs(v));
		out[len] = '\0';
		return len;
	}
	/* the shortest text that reads back as the same double */
	for (int prec = 15; prec <= 17; prec++) {
		int len = snprintf(out, n, "%.*g", prec, v);
		if (prec == 17 || strtod(out, NULL) == v)
			return (size_t)len;
	}
	return 0;
}

size_t expo_scaled(char *out, size_t n, double value, const struct metric_scale *sc)
{
	if (sc->shift < 0 || value != floor(value) || fabs(value) > 9e15 || n < 48)
		return expo_number(out, n, value * sc->factor);
	__int128 x = (__int128)value * sc->mul;
	int neg = x < 0;
	unsigned __int128 ux = (unsigned __int128)(neg ? -x : x);
	char digits[48];
	size_t nd = udigits(digits, ux), len = 0;
	if (neg && ux)
		out[len++] = '-';
	size_t shift = (size_t)sc->shift;
	if (nd <= shift) { /* 0.000123 */
		out[len++] = '0';
		out[len++] = '.';
		for (size_t i = nd; i < shift; i++)
			out[len++] = '0';
		memcpy(out + len, digits, nd);
		len += nd;
	} else {
		memcpy(out + len, digits, nd - shift);
		len += nd - shift;
		if (shift) {
			out[len++] = '.';
			memcpy(out + len, digits + nd - shift, shift);
			len += shift;
		}
	}
	if (shift) { /* no trailing zeros, no bare point */
		while (out[len - 1] == '0')
			len--;
		if (out[len - 1] == '.')
			len--;
	}
	out[len] = '\0';
	return len;
}

/* ---- families ---- */

static const char *type_name(enum metric_type t, enum expo_format f)
{
	switch (t) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	default:
		return f == EXPO_TEXT ? "untyped" : "unknown";
	}
}

void expo_family_head(struct expo_out *o, const char *name, enum metric_type type, const char *help,
		      const char *unit, enum expo_format f)
{
	size_t n = strlen(name);
	/* OpenMetrics names a counter family without the _total its samples have */
	if (f != EXPO_TEXT && type == METRIC_COUNTER && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	expo_out_add(o, "# HELP ", 7);
	expo_out_add(o, name, n);
	expo_out_add(o, " ", 1);
	add_escaped(o, help, f != EXPO_TEXT);
	expo_out_add(o, "\n# TYPE ", 8);
	expo_out_add(o, name, n);
	expo_out_add(o, " ", 1);
	expo_out_str(o, type_name(type, f));
	expo_out_add(o, "\n", 1);
	if (f != EXPO_TEXT && unit && unit[0]) {
		expo_out_add(o, "# UNIT ", 7);
		expo_out_add(o, name, n);
		expo_out_add(o, " ", 1);
		expo_out_str(o, unit);
		expo_out_add(o, "\n", 1);
	}
}

static void sample_line(struct expo_out *o, const char *name, const char *labels, const char *num,
			size_t numlen)
{
	expo_out_str(o, name);
	if (labels && labels[0]) {
		expo_out_add(o, "{", 1);
		expo_out_str(o, labels);
		expo_out_add(o, "}", 1);
	}
	expo_out_add(o, " ", 1);
	expo_out_add(o, num, numlen);
	expo_out_add(o, "\n", 1);
}

void expo_sample(struct expo_out *o, const char *name, const char *labels, double value)
{
	char num[64];
	size_t n = expo_number(num, sizeof(num), value);
	sample_line(o, name, labels, num, n);
}

struct line_ctx {
	struct expo_out *o;
	const char *name;
};

static void series_line(void *arg, const char *labels, double value,
			const struct metric_scale *scale)
{
	struct line_ctx *c = arg;
	char num[64];
	size_t n = expo_scaled(num, sizeof(num), value, scale);
	sample_line(c->o, c->name, labels, num, n);
}

void expo_render(struct expo_out *o, const struct metric_set *s, enum expo_format f)
{
	const struct metric_map *m = metric_set_map(s);
	for (size_t i = 0; i < m->nfamilies; i++) {
		const struct metric_family *fam = &m->families[i];
		if (!metric_set_family_count(s, (int)i))
			continue;
		expo_family_head(o, fam->name, fam->type, fam->help, fam->unit, f);
		struct line_ctx c = {o, fam->name};
		metric_set_visit(s, (int)i, series_line, &c);
	}
}

void expo_end(struct expo_out *o, enum expo_format f)
{
	if (f != EXPO_TEXT)
		expo_out_add(o, "# EOF\n", 6);
}

/* ---- content negotiation ---- */

const char *expo_content_type(enum expo_format f)
{
	switch (f) {
	case EXPO_OM_1:
		return "application/openmetrics-text; version=1.0.0; charset=utf-8";
	case EXPO_OM_001:
		return "application/openmetrics-text; version=0.0.1; charset=utf-8";
	default:
		return "text/plain; version=0.0.4; charset=utf-8";
	}
}

/* One Accept entry, "type/subtype; k=v; q=0.5", between p and end. */
struct media_range {
	char type[64];
	char version[32];
	int q; /* thousandths */
};

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* A token or quoted-string value, copied (cut to n-1 bytes). */
static const char *param_value(const char *p, const char *end, char *out, size_t n)
{
	size_t len = 0;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (len + 1 < n)
				out[len++] = *p;
		}
		if (p < end)
			p++;
	} else {
		for (; p < end && *p != ';' && *p != ' ' && *p != '\t'; p++)
			if (len + 1 < n)
				out[len++] = *p;
	}
	out[len] = '\0';
	return p;
}

/* q=0.5 -> 500; a malformed q counts as 0 (not acceptable). */
static int parse_q(const char *v)
{
	if (v[0] == '1') {
		for (const char *p = v + (v[1] == '.' ? 2 : 1); *p; p++)
			if (*p != '0')
				return 0;
		return v[1] == '\0' || v[1] == '.' ? 1000 : 0;
	}
	if (v[0] != '0')
		return 0;
	if (v[1] == '\0')
		return 0;
	if (v[1] != '.')
		return 0;
	int q = 0, digits = 0;
	for (const char *p = v + 2; *p; p++, digits++) {
		if (!isdigit((unsigned char)*p) || digits == 3)
			return 0;
		q = q * 10 + (*p - '0');
	}
	while (digits++ < 3)
		q *= 10;
	return q;
}

static void media_range_parse(const char *p, const char *end, struct media_range *r)
{
	size_t len = 0;
	memset(r, 0, sizeof(*r));
	r->q = 1000;
	p = skip_ows(p, end);
	for (; p < end && *p != ';' && *p != ' ' && *p != '\t'; p++)
		if (len + 1 < sizeof(r->type))
			r->type[len++] = (char)tolower((unsigned char)*p);
	r->type[len] = '\0';
	while (p < end) {
		char key[16], value[32];
		size_t kl = 0;
		p = skip_ows(p, end);
		if (p < end && *p == ';')
			p++;
		p = skip_ows(p, end);
		for (; p < end && *p != '=' && *p != ';'; p++)
			if (kl + 1 < sizeof(key))
				key[kl++] = (char)tolower((unsigned char)*p);
		while (kl && (key[kl - 1] == ' ' || key[kl - 1] == '\t'))
			kl--;
		key[kl] = '\0';
		if (p >= end || *p != '=')
			continue;
		p = param_value(skip_ows(p + 1, end), end, value, sizeof(value));
		if (strcmp(key, "q") == 0)
			r->q = parse_q(value);
		else if (strcmp(key, "version") == 0)
			snprintf(r->version, sizeof(r->version), "%s", value);
	}
}

/* The format an entry accepts, or -1. */
static int range_format(const struct media_range *r)
{
	if (strcmp(r->type, "application/openmetrics-text") == 0) {
		if (!r->version[0] || strcmp(r->version, "1.0.0") == 0)
			return EXPO_OM_1;
		return strcmp(r->version, "0.0.1") == 0 ? EXPO_OM_001 : -1;
	}
	if (strcmp(r->type, "text/plain") == 0)
		return !r->version[0] || strcmp(r->version, "0.0.4") == 0 ? EXPO_TEXT : -1;
	if (strcmp(r->type, "*/*") == 0 || strcmp(r->type, "text/*") == 0)
		return EXPO_TEXT;
	return -1;
}

enum expo_format expo_negotiate(const char *accept)
{
	int best = EXPO_TEXT, best_q = 0;
	if (!accept)
		return EXPO_TEXT;
	const char *p = accept, *end = accept + strlen(accept);
	while (p < end) {
		const char *comma = p;
		int quoted = 0;
		while (comma < end && (quoted || *comma != ',')) {
			if (*comma == '"')
				quoted = !quoted;
			else if (*comma == '\\' && quoted && comma + 1 < end)
				comma++;
			comma++;
		}
		struct media_range r;
		media_range_parse(p, comma, &r);
		int f = range_format(&r);
		if (f >= 0 && r.q > best_q) {
			best = f;
			best_q = r.q;
		}
		p = comma < end ? comma + 1 : end;
	}
	return (enum expo_format)best;
}
