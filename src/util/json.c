/* One string out of a JSON document by its keys (json.h). */
#include <string.h>

#include "util/json.h"

struct jscan {
	const char *p, *end;
};

static void skip_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Appends one byte to out when there is room; *len counts what the whole
 * string needs, so a caller can tell a string was cut. */
static void put_byte(char *out, size_t n, size_t *len, char c)
{
	if (out && *len + 1 < n)
		out[*len] = c;
	(*len)++;
}

/* The string at s->p (which must be at its opening quote), unescaped into
 * out (NULL: only skipped). Returns its unescaped length, or -1. */
static long scan_string(struct jscan *s, char *out, size_t n)
{
	size_t len = 0;
	if (s->p >= s->end || *s->p != '"')
		return -1;
	s->p++;
	while (s->p < s->end && *s->p != '"') {
		char c = *s->p++;
		if ((unsigned char)c < 0x20)
			return -1;
		if (c != '\\') {
			put_byte(out, n, &len, c);
			continue;
		}
		if (s->p >= s->end)
			return -1;
		char x = *s->p++;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = strchr(from, x);
		if (x && k) {
			put_byte(out, n, &len, to[k - from]);
			continue;
		}
		unsigned u;
		if (x != 'u' || s->end - s->p < 4 || hex4(s->p, &u))
			return -1;
		s->p += 4;
		put_byte(out, n, &len, u < 0x80 && u >= 0x20 ? (char)u : '?');
	}
	if (s->p >= s->end)
		return -1;
	s->p++;
	if (out && n)
		out[len < n ? len : n - 1] = '\0';
	return (long)len;
}

static int skip_value(struct jscan *s, int depth);

/* Skips the members of an object or the items of an array (at its opening
 * bracket). */
static int skip_container(struct jscan *s, int depth)
{
	char close = *s->p == '{' ? '}' : ']';
	int object = close == '}';
	if (depth >= JSON_MAX_DEPTH)
		return -1;
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		if (object) {
			skip_ws(s);
			if (scan_string(s, NULL, 0) < 0)
				return -1;
			skip_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return -1;
		}
		if (skip_value(s, depth + 1))
			return -1;
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		char c = *s->p++;
		if (c == close)
			return 0;
		if (c != ',')
			return -1;
	}
}

/* Skips one value: a string, number, literal, object or array. */
static int skip_value(struct jscan *s, int depth)
{
	skip_ws(s);
	if (s->p >= s->end)
		return -1;
	char c = *s->p;
	if (c == '"')
		return scan_string(s, NULL, 0) < 0 ? -1 : 0;
	if (c == '{' || c == '[')
		return skip_container(s, depth);
	static const char *const literals[] = {"true", "false", "null"};
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(literals[i]);
		if ((size_t)(s->end - s->p) >= l && strncmp(s->p, literals[i], l) == 0) {
			s->p += l;
			return 0;
		}
	}
	const char *start = s->p;
	while (s->p < s->end && *s->p && strchr("+-0123456789.eE", *s->p))
		s->p++;
	return s->p > start ? 0 : -1;
}

/* Looks for keys[0] among the members of the object at s->p, then for the
 * rest of the keys inside its value. */
static int find(struct jscan *s, const char *const *keys, size_t nkeys, char *out, size_t n,
		int depth)
{
	skip_ws(s);
	if (s->p >= s->end)
		return -1;
	if (*s->p != '{')
		return skip_value(s, depth) ? -1 : 1;
	if (depth >= JSON_MAX_DEPTH)
		return -1;
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}')
		return 1;
	for (;;) {
		char key[256];
		skip_ws(s);
		long klen = scan_string(s, key, sizeof(key));
		if (klen < 0)
			return -1;
		skip_ws(s);
		if (s->p >= s->end || *s->p++ != ':')
			return -1;
		skip_ws(s);
		if ((size_t)klen < sizeof(key) && strcmp(key, keys[0]) == 0) {
			if (nkeys > 1)
				return find(s, keys + 1, nkeys - 1, out, n, depth + 1);
			if (s->p < s->end && *s->p == '"')
				return scan_string(s, out, n) < 0 ? -1 : 0;
			return skip_value(s, depth + 1) ? -1 : 1;
		}
		if (skip_value(s, depth + 1))
			return -1;
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		char c = *s->p++;
		if (c == '}')
			return 1;
		if (c != ',')
			return -1;
	}
}

int json_get_string(const char *text, size_t len, const char *const *keys, size_t nkeys, char *out,
		    size_t n)
{
	struct jscan s = {text, text + len};
	if (n)
		out[0] = '\0';
	if (!nkeys)
		return 1;
	int rc = find(&s, keys, nkeys, out, n, 0);
	if (rc != 0 && n)
		out[0] = '\0';
	return rc;
}
