#ifndef HINDSIGHT_EMBEDDED_H
#define HINDSIGHT_EMBEDDED_H

/* A file compiled into the binary by cmake/embed.cmake. Arrays end with {0, 0}. */
struct embedded_file {
	const char *name;
	const char *text;
};

extern const struct embedded_file embedded_schema[]; /* schema/NNN_*.sql, by name */
extern const struct embedded_file embedded_views[];  /* sql/views/NAME.sql, by name */

#endif
