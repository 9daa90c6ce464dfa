#ifndef HINDSIGHT_UTIL_YAML_H
#define HINDSIGHT_UTIL_YAML_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "util/util.h"

/* Limits on a YAML file (the configuration, a process-exporter file); the
 * reasons are in yaml.c. */
#define YAML_MAX_FILE  ((size_t)1 << 20)
#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 100000

/* Loads a YAML file that is one document into doc, refusing with an error
 * naming file:line:column: a file that is not a regular file or is larger
 * than YAML_MAX_FILE, bad YAML, nesting deeper than YAML_MAX_DEPTH, more than
 * YAML_MAX_NODES values, a second
 * document, an alias, and a key repeated in one mapping. The cost is linear
 * in the file's size. On success the caller owns doc (yaml_document_delete). */
int yaml_load_file(yaml_document_t *doc, const char *path, struct err *e);

/* Walking a loaded YAML document. */
struct yaml_walk {
	yaml_document_t *doc;
	const char *file;
};
/* "file:line:col" of a node, for error messages. */
const char *yaml_where(const struct yaml_walk *w, const yaml_node_t *n, char *out, size_t len);
/* The text of a scalar node, or NULL with an error naming what was expected. */
const char *yaml_scalar(const struct yaml_walk *w, yaml_node_t *n, const char *what, struct err *e);
int yaml_duration_ms(const struct yaml_walk *w, yaml_node_t *n, const char *what, int64_t *out,
		     struct err *e);
int yaml_bool(const struct yaml_walk *w, yaml_node_t *n, const char *what, int *out, struct err *e);
int yaml_int(const struct yaml_walk *w, yaml_node_t *n, const char *what, int64_t min, int64_t max,
	     int64_t *out, struct err *e);
int yaml_path(const struct yaml_walk *w, yaml_node_t *n, const char *what, char *out, size_t len,
	      struct err *e);

#endif
