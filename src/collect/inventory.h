#ifndef HINDSIGHT_COLLECT_INVENTORY_H
#define HINDSIGHT_COLLECT_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* What /proc/cpuinfo says about the processors. */
struct cpuinfo {
	char model[128];  /* "model name" (x86), else "Processor"/"cpu model"; "" if none */
	char flags[2048]; /* "flags" (x86) or "Features" (arm) of the first processor */
	unsigned threads; /* logical CPUs listed */
	unsigned sockets; /* distinct "physical id"; 0 when not reported */
	unsigned cores;	  /* distinct (physical id, core id); 0 when not reported */
};

int cpuinfo_parse(const char *text, struct cpuinfo *out, struct err *e);

/* A key and its value, as stored in the inventory table. */
struct inv_item {
	char *key;
	char *value;
};

struct inv_set {
	struct inv_item *items;
	size_t n, cap;
};

/* Adds or replaces key (formatted) with value; both are copied. */
int inv_set_put(struct inv_set *s, const char *value, const char *keyfmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *inv_set_get(const struct inv_set *s, const char *key);
void inv_set_sort(struct inv_set *s);
void inv_set_free(struct inv_set *s);

/* The changes from old to cur: keys new or changed (value set) and keys gone
 * (value NULL), in key order. out is reset first; its strings are copies. */
int inv_set_diff(const struct inv_set *old, const struct inv_set *cur, struct inv_set *out);

struct collector_ops;
extern const struct collector_ops collector_inventory;

#endif
