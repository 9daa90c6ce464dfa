/* Defaults both programs share: where the daemon writes and the query tool
 * reads unless told otherwise. */
#ifndef HINDSIGHT_DEFAULTS_H
#define HINDSIGHT_DEFAULTS_H

#define DEFAULT_DB_PATH "/var/lib/hindsight/hindsight.db"

#endif
