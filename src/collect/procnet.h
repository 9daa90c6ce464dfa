#ifndef HINDSIGHT_COLLECT_PROCNET_H
#define HINDSIGHT_COLLECT_PROCNET_H

#include <unistd.h>

#include "collect/collect.h"

/* Where to read /proc/net files from, relative to the proc root. /proc/net
 * is a link to self/net: the network namespace of the reading process. With
 * the default proc root that is the daemon's own, as the other collectors'
 * view (and netlink's). With another proc root (HOST_PROC: the host's /proc
 * mounted in a container), "self" would still be the container's namespace,
 * so PID 1's (the host's) is read when reachable. */
static inline const char *proc_net_dir(const struct collector_env *env)
{
	if (!env->own_proc && faccessat(env->proc_fd, "1/net/dev", R_OK, 0) == 0)
		return "1/net";
	return "net";
}

#endif
