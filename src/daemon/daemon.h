#ifndef HINDSIGHT_DAEMON_H
#define HINDSIGHT_DAEMON_H

#include "collect/collect.h"
#include "daemon/config.h"

struct daemon;

/* Builds the configuration anew (defaults, file, environment, flags) for
 * SIGHUP. Returns -1 with a message when the new configuration is bad. */
typedef int (*config_loader)(struct config *out, void *arg, struct err *e);

struct daemon_options {
	int once; /* take one sample after one interval, then exit */
	config_loader reload;
	void *reload_arg;
};

/* Opens the database, migrates it, installs the views, opens the collectors
 * and takes their baselines. */
int daemon_open(struct daemon **out, const struct config *cfg, const struct daemon_options *opt,
		struct err *e);
/* Runs the event loop until a signal, --duration or --once ends it. */
int daemon_run(struct daemon *d);
void daemon_close(struct daemon *d);

/* Creates the directory that will hold path (0750) when it is missing. */
int ensure_parent_dir(const char *path, struct err *e);
/* Refuses a database path that is a symlink or lies in another user's directory. */
int check_db_path(const char *path, struct err *e);

#endif
