#ifndef HINDSIGHT_UTIL_JSON_H
#define HINDSIGHT_UTIL_JSON_H

#include <stddef.h>

/*
 * One string out of a JSON document, found by its keys: for
 * {"Config": {"Image": "nginx:1.25"}} the keys {"Config", "Image"} give
 * nginx:1.25. Enough to read a container runtime's files on disk (docker's
 * config.v2.json, an OCI bundle's config.json) without a JSON library; no
 * allocation, no recursion deeper than JSON_MAX_DEPTH.
 *
 * Returns 0 and the unescaped string in out (cut to n - 1 bytes; \u escapes
 * outside ASCII become '?'), 1 when the document has no string at that
 * place, -1 when the text is not JSON (truncated, nested too deep, bad
 * escape or token).
 */
#define JSON_MAX_DEPTH 64

int json_get_string(const char *text, size_t len, const char *const *keys, size_t nkeys, char *out,
		    size_t n);

#endif
