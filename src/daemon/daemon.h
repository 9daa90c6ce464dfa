#ifndef HINDSIGHT_DAEMON_H
#define HINDSIGHT_DAEMON_H

#include <limits.h>
#include <sys/types.h>

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
 * and takes their baselines. On failure *out is still to be passed to
 * daemon_close, which removes what the failed start created. */
int daemon_open(struct daemon **out, const struct config *cfg, const struct daemon_options *opt,
		struct err *e);
/* Runs the event loop until a signal, --duration or --once ends it. */
int daemon_run(struct daemon *d);
void daemon_close(struct daemon *d);

/* Refuses a database path that is empty, a symlink, or lies in another
 * user's directory. */
int check_db_path(const char *path, struct err *e);

/* dbfiles.c: the files around the database. */
#define HINDSIGHT_GROUP "hindsight" /* members may read the database */

enum db_was { DB_WAS_MISSING, DB_WAS_EMPTY, DB_WAS_THERE };

struct db_files {
	char db[PATH_MAX];
	char lock_path[PATH_MAX + 8]; /* <db>-lock */
	int lock_fd;		      /* -1: not held */
	gid_t group;		      /* HINDSIGHT_GROUP's id, when have_group */
	int have_group;
	enum db_was was;	       /* the database file before this start */
	char first_made_dir[PATH_MAX]; /* the outermost directory this start made */
	int started;		       /* the start succeeded: keep what it made */
};

/* Checks the path, makes its directory and takes the lock on <db>-lock,
 * refusing a database another daemon holds (naming its pid). Nothing else
 * is written before the lock is held. */
int db_files_open(struct db_files *f, const char *db, struct err *e);
/* Gives the database, its -wal, -shm and lock files to HINDSIGHT_GROUP
 * when they are in group root. */
void db_files_share(struct db_files *f);
/* Releases the lock; unless started was set, first removes what this start
 * created (a new database, the directories made for it). Call after every
 * connection to the database is closed. */
void db_files_close(struct db_files *f);

#endif
