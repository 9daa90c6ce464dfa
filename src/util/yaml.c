/* Loading a YAML file safely, and walking the loaded document.
 *
 * The daemon loads its configuration at start and again on SIGHUP, inside
 * the event loop, so loading must cost time and memory in proportion to a
 * small file, and a file that says something twice must not be read as
 * saying it once:
 *  - YAML_MAX_FILE (1 MiB): the largest real configurations (a
 *    process-exporter file with a few hundred rules) are a few KiB; libyaml
 *    builds ~20 bytes of document per byte of text, so 1 MiB costs ~20 MiB
 *    for a moment, where a 10 MB file cost 212 MB.
 *  - YAML_MAX_DEPTH (32): the deepest key path the configuration has is 4
 *    (process_names, an entry, cmdline, a regex). libyaml's scanner
 *    rescans every open flow level for each token, so a depth of 100k
 *    nested '[' took over 30 s of CPU; a depth checked while parsing, event
 *    by event, stops it after 32 levels, before the document is built.
 *  - YAML_MAX_NODES (100000): a node costs libyaml ~170 bytes (the node,
 *    its value, its tag), so a 1 MiB file of one-character values would
 *    still take ~90 MiB; 100k values, 10 times what a process-exporter
 *    file of a thousand rules holds, cap it near 17 MiB.
 *  - one document: a second one ('---') was silently ignored.
 *  - no aliases: each use of an alias walks the anchored node again, so a
 *    small file of aliases of aliases expands without bound (a million
 *    compiled regexes from a few KiB); configurations do not need them.
 *  - no key twice in one mapping: libyaml keeps both and the walkers took
 *    one or the other silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/yaml.h"

/* The file's text, refusing what is not a small regular file. */
static int read_text(struct buf *b, const char *path, struct err *e)
{
	int fd = open_regular(AT_FDCWD, path, YAML_MAX_FILE);
	int rc = fd < 0 ? fd : buf_read_fd(b, fd, YAML_MAX_FILE);
	if (fd >= 0)
		close(fd);
	if (rc == -EFBIG)
		return err_set(e, "%s: larger than %zu KiB, the most a configuration file may be",
			       path, YAML_MAX_FILE >> 10);
	if (rc == -ENXIO || rc == -EISDIR)
		return err_set(e, "%s: not a regular file", path);
	if (rc < 0)
		return err_set(e, "%s: %s", path, strerror(-rc));
	return 0;
}

static int parser_error(const yaml_parser_t *p, const char *path, struct err *e)
{
	return err_set(e, "%s:%zu:%zu: %s%s%s", path, p->problem_mark.line + 1,
		       p->problem_mark.column + 1, p->problem ? p->problem : "bad YAML",
		       p->context ? " " : "", p->context ? p->context : "");
}

/* Why an event is refused ("" when it is not), into why. */
static void refuse_event(const yaml_event_t *ev, int *depth, int *nodes, int *docs, char *why,
			 size_t n)
{
	why[0] = '\0';
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			snprintf(why, n, "a second YAML document; the file must hold one");
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > YAML_MAX_DEPTH)
			snprintf(why, n, "nested deeper than %d levels", YAML_MAX_DEPTH);
		else if (++*nodes > YAML_MAX_NODES) /* a collection is a value too */
			snprintf(why, n, "more than %d values in one file", YAML_MAX_NODES);
		break;
	case YAML_SCALAR_EVENT:
		if (++*nodes > YAML_MAX_NODES)
			snprintf(why, n, "more than %d values in one file", YAML_MAX_NODES);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		break;
	case YAML_ALIAS_EVENT:
		snprintf(why, n, "alias '*%.64s': anchors and aliases are not supported",
			 (const char *)ev->data.alias.anchor);
		break;
	default:
		break;
	}
}

/* One pass over the events, stopping at the first one refused: what a
 * document would only show once built, at a cost that is not linear. */
static int check_events(const struct buf *b, const char *path, struct err *e)
{
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)b->data, b->len);
	int rc = 0, depth = 0, nodes = 0, docs = 0, done = 0;
	while (!rc && !done) {
		yaml_event_t ev;
		char why[128];
		if (!yaml_parser_parse(&p, &ev)) {
			rc = parser_error(&p, path, e);
			break;
		}
		refuse_event(&ev, &depth, &nodes, &docs, why, sizeof(why));
		if (why[0])
			rc = err_set(e, "%s:%zu:%zu: %s", path, ev.start_mark.line + 1,
				     ev.start_mark.column + 1, why);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

static int key_order(const void *a, const void *b)
{
	const yaml_node_t *x = *(const yaml_node_t *const *)a, *y = *(const yaml_node_t *const *)b;
	size_t n = x->data.scalar.length < y->data.scalar.length ? x->data.scalar.length
								 : y->data.scalar.length;
	int c = memcmp(x->data.scalar.value, y->data.scalar.value, n);
	if (c || x->data.scalar.length != y->data.scalar.length)
		return c ? c : x->data.scalar.length < y->data.scalar.length ? -1 : 1;
	return x->start_mark.index < y->start_mark.index ? -1 : 1;
}

/* The first key (in file order) of one mapping that an earlier key of the
 * same mapping already gave, or NULL; *first is that earlier key. Sorting
 * keeps the cost at n log n for a mapping of n keys. */
static const yaml_node_t *repeated_key(yaml_document_t *doc, const yaml_node_t *map,
				       yaml_node_t ***keys, size_t *cap, const yaml_node_t **first)
{
	size_t n = 0, want = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	if (want > *cap) {
		yaml_node_t **k = realloc(*keys, want * sizeof(*k));
		if (!k)
			return map; /* reported as out of memory by the caller */
		*keys = k;
		*cap = want;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE)
			(*keys)[n++] = k;
	}
	qsort(*keys, n, sizeof(**keys), key_order);
	/* Equal keys sort together in file order: the second of each run is
	 * its first repetition. */
	const yaml_node_t *dup = NULL;
	for (size_t i = 1, run = 0; i < n; i++) {
		const yaml_node_t *a = (*keys)[i - 1], *b = (*keys)[i];
		if (a->data.scalar.length != b->data.scalar.length ||
		    memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length)) {
			run = i;
			continue;
		}
		if (i == run + 1 && (!dup || b->start_mark.index < dup->start_mark.index)) {
			dup = b;
			*first = a;
		}
	}
	return dup;
}

/* Every mapping of the document, each node once (the document holds each
 * node once however it is reached). */
static int check_keys(yaml_document_t *doc, const char *path, struct err *e)
{
	yaml_node_t **keys = NULL;
	size_t cap = 0;
	int rc = 0;
	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top && !rc; n++) {
		const yaml_node_t *first = NULL, *dup;
		if (n->type != YAML_MAPPING_NODE ||
		    n->data.mapping.pairs.top - n->data.mapping.pairs.start < 2)
			continue;
		if (!(dup = repeated_key(doc, n, &keys, &cap, &first)))
			continue;
		if (dup == n)
			rc = err_set(e, "%s: out of memory", path);
		else
			rc = err_set(e,
				     "%s:%zu:%zu: duplicate key '%s' (first at line %zu, column "
				     "%zu)",
				     path, dup->start_mark.line + 1, dup->start_mark.column + 1,
				     (const char *)dup->data.scalar.value,
				     first->start_mark.line + 1, first->start_mark.column + 1);
	}
	free(keys);
	return rc;
}

int yaml_load_file(yaml_document_t *doc, const char *path, struct err *e)
{
	struct buf b = {0};
	int rc = read_text(&b, path, e);
	if (!rc)
		rc = check_events(&b, path, e);
	if (!rc) {
		yaml_parser_t p;
		yaml_parser_initialize(&p);
		yaml_parser_set_input_string(&p, (const unsigned char *)b.data, b.len);
		if (!yaml_parser_load(&p, doc))
			rc = parser_error(&p, path, e);
		yaml_parser_delete(&p);
		if (!rc && (rc = check_keys(doc, path, e)))
			yaml_document_delete(doc);
	}
	buf_free(&b);
	return rc;
}

/* ---- walking ---- */

const char *yaml_where(const struct yaml_walk *w, const yaml_node_t *n, char *out, size_t len)
{
	snprintf(out, len, "%s:%zu:%zu", w->file, n->start_mark.line + 1, n->start_mark.column + 1);
	return out;
}

const char *yaml_scalar(const struct yaml_walk *w, yaml_node_t *n, const char *what, struct err *e)
{
	char where[PATH_MAX + 32];
	if (!n || n->type != YAML_SCALAR_NODE) {
		err_set(e, "%s: %s must be a single value",
			n ? yaml_where(w, n, where, sizeof(where)) : w->file, what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

int yaml_duration_ms(const struct yaml_walk *w, yaml_node_t *n, const char *what, int64_t *out,
		     struct err *e)
{
	const char *v = yaml_scalar(w, n, what, e);
	struct err inner;
	char where[PATH_MAX + 32];
	if (!v)
		return -1;
	if (parse_duration_ms(v, out, &inner))
		return err_set(e, "%s: %s: %s", yaml_where(w, n, where, sizeof(where)), what,
			       inner.msg);
	return 0;
}

int yaml_bool(const struct yaml_walk *w, yaml_node_t *n, const char *what, int *out, struct err *e)
{
	const char *v = yaml_scalar(w, n, what, e);
	char where[PATH_MAX + 32];
	if (!v)
		return -1;
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = 0;
	else
		return err_set(e, "%s: %s: expected true or false, got '%s'",
			       yaml_where(w, n, where, sizeof(where)), what, v);
	return 0;
}

int yaml_int(const struct yaml_walk *w, yaml_node_t *n, const char *what, int64_t min, int64_t max,
	     int64_t *out, struct err *e)
{
	const char *v = yaml_scalar(w, n, what, e);
	char where[PATH_MAX + 32];
	if (!v)
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < min || x > max)
		return err_set(e, "%s: %s: expected a whole number from %lld to %lld, got '%s'",
			       yaml_where(w, n, where, sizeof(where)), what, (long long)min,
			       (long long)max, v);
	*out = x;
	return 0;
}

int yaml_path(const struct yaml_walk *w, yaml_node_t *n, const char *what, char *out, size_t len,
	      struct err *e)
{
	const char *v = yaml_scalar(w, n, what, e);
	char where[PATH_MAX + 32];
	if (!v)
		return -1;
	if (!*v || strlen(v) >= len)
		return err_set(e, "%s: %s: path is empty or too long",
			       yaml_where(w, n, where, sizeof(where)), what);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}
