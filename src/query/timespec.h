#ifndef HINDSIGHT_TIMESPEC_H
#define HINDSIGHT_TIMESPEC_H

#include <stdint.h>

#include "util/util.h"

/* The accepted time forms, for error messages and --help. */
extern const char timespec_forms[];

/* Parses a point in time into epoch seconds. `now` is passed in (epoch s) so
 * the parser is pure and tests are deterministic; local time follows TZ.
 *   now | today | yesterday              (today = local midnight)
 *   today 13:12 | yesterday 03:00        (that day at that local time)
 *   monday | mon 09:00                   (the last such day, at most now)
 *   15m  2h  3d  1h30m  90s  1w          (that long before now, "ago" optional)
 *   -5m  now-5m  +10m  now+1h            (before or after now)
 *   "2 hours ago"  "1 day ago"  "30 min ago"
 *   2026-11-20  2026-11-20 03:12[:05]    (local time)
 *   2026-11-20T03:12:00Z  …+01:00  …-0530 (the zone given)
 *   03:12[:05]                           (today, local time)
 *   @1763600000  1763600000              (epoch seconds; bare: 9+ digits)
 * A bad time returns -1 with an error naming it and listing the forms; a
 * well-formed one outside the years 0000 to 9999 (UTC), or a number too
 * large to hold, returns -1 with an error saying it is out of range. */
int timespec_parse(const char *text, int64_t now, int64_t *out, struct err *e);

/* Formats epoch seconds as ISO 8601 UTC ("2026-11-20T03:12:00Z") or local
 * time ("2026-11-20 04:12:00"). buf must hold 32 bytes. */
void time_format_iso_utc(int64_t ts, char *buf, size_t n);
void time_format_local(int64_t ts, char *buf, size_t n);

#endif
