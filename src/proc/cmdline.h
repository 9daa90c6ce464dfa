#ifndef HINDSIGHT_PROC_CMDLINE_H
#define HINDSIGHT_PROC_CMDLINE_H

#include <stddef.h>

/*
 * A command line as stored: argv (NUL-separated, as /proc/PID/cmdline holds
 * it) joined by spaces, secrets redacted, cut at max bytes without splitting
 * a UTF-8 character.
 *
 * Redaction: patterns are literal, '\n'-separated, matched case-insensitively
 * inside each argument. Text after a match up to the argument's end is
 * replaced by "***" ("--db-password=s3cret" -> "--db-password=***"); when the
 * match ends the argument ("--password"), the next argument is replaced.
 * Returns the stored length (out always NUL-terminated; max < out's size).
 */
size_t cmdline_format(const char *argv, size_t argv_len, const char *patterns, char *out,
		      size_t max);

#endif
