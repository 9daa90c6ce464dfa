#ifndef HINDSIGHT_COLLECT_NET_H
#define HINDSIGHT_COLLECT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* /proc/net/dev: 8 receive then 8 transmit counters per interface. */
#define NET_COUNTERS 16
#define NET_NAME_MAX 64

struct net_if {
	char name[NET_NAME_MAX];
	uint64_t v[NET_COUNTERS];
};

struct net_dev {
	struct net_if *ifs;
	size_t n, cap;
};

/* Parses /proc/net/dev text. The name is split from the counters on the LAST
 * ':' of the line, since interface names may themselves contain colons and
 * a large counter may touch the colon ("eth0:123456789"). */
int net_dev_parse(const char *text, struct net_dev *out, struct err *e);
void net_dev_free(struct net_dev *d);

/* Deltas of all counters of one interface. When most counters that moved went
 * backwards together, the interface was reset (driver restart, re-created
 * under the same name): every delta is then the new value, never a wrap.
 * Otherwise a counter that went back wrapped at 32 bits when that is
 * plausible, and is a glitch (delta 0) when it is not.
 * Returns 1 when it judged the interface reset. */
int net_if_deltas(const uint64_t prev[NET_COUNTERS], const uint64_t cur[NET_COUNTERS],
		  uint64_t out[NET_COUNTERS]);

struct collector_ops;
extern const struct collector_ops collector_net;

#endif
