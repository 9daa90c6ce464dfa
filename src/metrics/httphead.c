/* The head of an HTTP/1.x request: the request line and the headers, up to
 * the empty line. Pure: bytes in, a struct or a status out; no I/O. Only
 * what the endpoint needs is kept (method, path, Accept, whether the
 * connection stays open, whether a body follows); the rest is checked for
 * shape and skipped. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "metrics/metrics.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* RFC 9110 tchar. */
static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The end of the line starting at p (the '\n'), or NULL when not in buf. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl;
}

/* Length of the line's text without its CR. */
static size_t text_len(const char *p, const char *nl)
{
	return (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
}

/* "GET /metrics?x HTTP/1.1" */
static int request_line(const char *p, size_t n, struct http_head *h)
{
	const char *end = p + n, *sp = memchr(p, ' ', n);
	if (!sp || sp == p)
		return -400;
	for (const char *c = p; c < sp; c++)
		if (!is_tchar((unsigned char)*c))
			return -400;
	size_t ml = (size_t)(sp - p);
	h->method = ml == 3 && !memcmp(p, "GET", 3)    ? HTTP_GET
		    : ml == 4 && !memcmp(p, "HEAD", 4) ? HTTP_HEAD
						       : HTTP_OTHER;
	const char *target = sp + 1, *sp2 = memchr(target, ' ', (size_t)(end - target));
	if (!sp2 || sp2 == target)
		return -400;
	for (const char *c = target; c < sp2; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7f)
			return -400;
	const char *version = sp2 + 1;
	size_t vl = (size_t)(end - version);
	if (vl != 8 || memcmp(version, "HTTP/", 5) || !isdigit((unsigned char)version[5]) ||
	    version[6] != '.' || !isdigit((unsigned char)version[7]))
		return -400;
	if (version[5] != '1')
		return -505;
	h->minor = version[7] - '0';
	h->keep_alive = h->minor >= 1;
	/* origin form "/path?query"; absolute form "http://host/path" */
	if (*target != '/') {
		const char *scheme = memchr(target, ':', (size_t)(sp2 - target));
		if (!scheme || sp2 - scheme < 3 || memcmp(scheme, "://", 3))
			return h->method == HTTP_OTHER ? 0 : -400; /* OPTIONS *: refused later */
		target = memchr(scheme + 3, '/', (size_t)(sp2 - scheme - 3));
		if (!target) { /* "http://host" is "/" */
			snprintf(h->path, sizeof(h->path), "/");
			return 0;
		}
	}
	const char *q = memchr(target, '?', (size_t)(sp2 - target));
	size_t pl = (size_t)((q ? q : sp2) - target);
	if (pl >= sizeof(h->path))
		return -414;
	memcpy(h->path, target, pl);
	h->path[pl] = '\0';
	return 0;
}

/* Whether the comma-separated tokens of a header value include word. */
static int has_token(const char *v, size_t n, const char *word)
{
	size_t wl = strlen(word);
	const char *p = v, *end = v + n;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		const char *t = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if ((size_t)(p - t) == wl && strncasecmp(t, word, wl) == 0)
			return 1;
	}
	return 0;
}

static void add_accept(struct http_head *h, const char *v, size_t n)
{
	size_t len = strlen(h->accept), room = sizeof(h->accept) - 1 - len;
	if (len && room >= 2) {
		memcpy(h->accept + len, ", ", 2);
		len += 2;
		room -= 2;
	}
	if (n > room)
		n = room;
	memcpy(h->accept + len, v, n);
	h->accept[len + n] = '\0';
}

/* "Name: value" */
static int header_line(const char *p, size_t n, struct http_head *h)
{
	const char *colon = memchr(p, ':', n);
	if (!colon || colon == p)
		return -400;
	for (const char *c = p; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return -400; /* also a space before the colon, and folded lines */
	size_t nl = (size_t)(colon - p);
	const char *v = colon + 1, *end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *c = v; c < end; c++)
		if ((unsigned char)*c < ' ' && *c != '\t')
			return -400;
	size_t vl = (size_t)(end - v);
	if (nl == 6 && strncasecmp(p, "accept", 6) == 0) {
		add_accept(h, v, vl);
	} else if (nl == 10 && strncasecmp(p, "connection", 10) == 0) {
		if (has_token(v, vl, "close"))
			h->keep_alive = 0;
		else if (has_token(v, vl, "keep-alive"))
			h->keep_alive = 1;
	} else if (nl == 14 && strncasecmp(p, "content-length", 14) == 0) {
		for (const char *c = v; c < end; c++)
			if (!isdigit((unsigned char)*c))
				return -400;
		if (vl == 0)
			return -400;
		for (const char *c = v; c < end; c++)
			if (*c != '0')
				h->has_body = 1;
	} else if (nl == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
		h->has_body = 1;
	}
	return 0;
}

int http_head_parse(const char *buf, size_t len, struct http_head *h)
{
	const char *p = buf, *end = buf + (len > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : len);
	memset(h, 0, sizeof(*h));
	/* empty lines before the request line are allowed (RFC 9112 2.2) */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	const char *nl = line_end(p, end);
	if (!nl)
		return len >= HTTP_HEAD_MAX ? -431 : 0;
	int rc = request_line(p, text_len(p, nl), h);
	if (rc)
		return rc;
	for (p = nl + 1;; p = nl + 1) {
		if (!(nl = line_end(p, end)))
			return len >= HTTP_HEAD_MAX ? -431 : 0;
		size_t n = text_len(p, nl);
		if (n == 0)
			return (int)(nl + 1 - buf);
		if ((rc = header_line(p, n, h)))
			return rc;
	}
}
