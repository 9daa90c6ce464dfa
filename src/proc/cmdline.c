/* Command lines for storage: joined, redacted, bounded. Pure. */
#include <string.h>
#include <strings.h>

#include "proc/cmdline.h"

/* Where the first pattern ends inside arg (an offset > 0), or 0. */
static size_t match_end(const char *arg, size_t len, const char *patterns)
{
	for (const char *p = patterns; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t plen = nl ? (size_t)(nl - p) : strlen(p);
		for (size_t i = 0; plen && i + plen <= len; i++)
			if (!strncasecmp(arg + i, p, plen))
				return i + plen;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

struct sink {
	char *out;
	size_t len, max;
};

static void emit(struct sink *s, const char *t, size_t n)
{
	for (size_t i = 0; i < n && s->len < s->max; i++)
		s->out[s->len++] = t[i];
}

size_t cmdline_format(const char *argv, size_t argv_len, const char *patterns, char *out,
		      size_t max)
{
	struct sink s = {out, 0, max};
	int redact_next = 0;
	for (size_t off = 0; off < argv_len;) {
		const char *arg = argv + off;
		size_t len = strnlen(arg, argv_len - off);
		if (off)
			emit(&s, " ", 1);
		size_t end = redact_next ? 0 : match_end(arg, len, patterns);
		if (redact_next) {
			emit(&s, "***", 3);
			redact_next = 0;
		} else if (end && end < len) {
			emit(&s, arg, end);
			emit(&s, "***", 3);
		} else {
			emit(&s, arg, len);
			redact_next = end == len;
		}
		off += len + 1;
	}
	/* never end inside a UTF-8 sequence */
	if (s.len == max && s.len && ((unsigned char)out[s.len - 1] & 0x80)) {
		size_t i = s.len;
		while (i > 0 && ((unsigned char)out[i - 1] & 0xC0) == 0x80)
			i--;
		if (i > 0 && ((unsigned char)out[i - 1] & 0xC0) == 0xC0)
			i--;
		s.len = i;
	}
	while (s.len && out[s.len - 1] == ' ')
		s.len--;
	out[s.len] = '\0';
	return s.len;
}
