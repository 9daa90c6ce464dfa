/* Small scanners shared by the pure parsers, and the duration syntax. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int scan_u64(const char **p, uint64_t *out)
{
	const char *s = skip_blanks(*p);
	if (!isdigit((unsigned char)*s)) {
		*p = s;
		return -1;
	}
	uint64_t v = 0;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*p = skip_blanks(*p);
			return -1;
		}
		v = v * 10 + d;
		s++;
	}
	*out = v;
	*p = s;
	return 0;
}

int scan_field_u64(const char **p, uint64_t *out)
{
	const char *start = skip_blanks(*p);
	const char *s = start;
	if (scan_u64(&s, out) || (*s && !isspace((unsigned char)*s))) {
		*p = start;
		return -1;
	}
	*p = s;
	return 0;
}

int scan_i64(const char **p, int64_t *out)
{
	const char *s = skip_blanks(*p);
	int neg = *s == '-';
	const char *digits = s + neg;
	uint64_t v;
	if (scan_u64(&digits, &v) || v > (uint64_t)INT64_MAX) {
		*p = s;
		return -1;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	*p = digits;
	return 0;
}

size_t scan_token(const char **p, char *out, size_t n)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = 0;
	while (*s && !isspace((unsigned char)*s)) {
		if (len + 1 < n)
			out[len++] = *s;
		s++;
	}
	if (n)
		out[len] = '\0';
	*p = s;
	return len;
}

const char *token_preview(const char *p, char *out, size_t n)
{
	size_t len = 0;
	while (p[len] && p[len] != '\n' && len + 1 < n)
		len++;
	memcpy(out, p, len);
	out[len] = '\0';
	if (len == 0)
		strncpy(out, p[0] == '\n' ? "end of line" : "end of input", n - 1);
	return out;
}

int check_complete(const char *text, const char *what, struct err *e)
{
	size_t len = strlen(text);
	if (len == 0)
		return err_set(e, "%s: empty", what);
	if (text[len - 1] != '\n')
		return err_set(e, "%s: truncated (the last line has no newline)", what);
	return 0;
}

uint64_t counter_delta(uint64_t prev, uint64_t cur)
{
	return cur >= prev ? cur - prev : cur;
}

/* The part of text at p that reads as one duration term ("70000000y"),
 * for error messages. */
static const char *duration_term(const char *p, char *out, size_t n)
{
	size_t len = 0;
	p = skip_blanks(p);
	while (isdigit((unsigned char)p[len]))
		len++;
	while (isalpha((unsigned char)p[len]))
		len++;
	snprintf(out, n, "%.*s", (int)len, p);
	return out;
}

/* Each term is checked against what is left of DURATION_MAX_MS, so no sum
 * or product can overflow, however many terms there are. */
int parse_duration_ms(const char *text, int64_t *out_ms, struct err *e)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {{"ms", 1},	      {"s", 1000},	  {"m", 60000},	       {"h", 3600000},
		     {"d", 86400000}, {"w", 604800000LL}, {"y", 31536000000LL}};
	static const char usage[] = "expected e.g. 10, 10s, 500ms, 5m, 2h, 3d, 2w, 1y, 1h30m";
	const char *p = text;
	int64_t total = 0;
	int parts = 0;
	while (*p) {
		const char *term = p;
		char tok[48];
		uint64_t n;
		if (scan_u64(&p, &n)) {
			if (!isdigit((unsigned char)*p))
				return err_set(e, "bad duration '%s': %s", text, usage);
			while (isdigit((unsigned char)*p))
				p++;
			n = UINT64_MAX; /* more digits than a uint64 holds: too long */
		}
		int64_t scale = 0;
		for (size_t i = 0; i < ARRAY_LEN(units); i++) {
			size_t l = strlen(units[i].suffix);
			if (strncmp(p, units[i].suffix, l) == 0 && !isalpha((unsigned char)p[l])) {
				scale = units[i].ms;
				p += l;
				break;
			}
		}
		if (!scale && *p == '\0' && parts == 0)
			scale = 1000; /* a plain number is seconds */
		if (!scale)
			return err_set(e, "bad duration '%s': %s", text, usage);
		if (n > (uint64_t)((DURATION_MAX_MS - total) / scale))
			return err_set(e,
				       "bad duration '%s': '%s' makes it longer than %lldy, the "
				       "longest accepted",
				       text, duration_term(term, tok, sizeof(tok)),
				       (long long)(DURATION_MAX_MS / units[6].ms));
		total += (int64_t)n * scale;
		parts++;
	}
	if (parts == 0)
		return err_set(e, "bad duration '%s': empty", text);
	*out_ms = total;
	return 0;
}
