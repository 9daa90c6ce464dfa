#ifndef HINDSIGHT_UTIL_H
#define HINDSIGHT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An error message naming what went wrong and where (file:line, the bad token). */
struct err {
	char msg[512];
};

/* Formats the message into e (when e is not NULL) and returns -1, so a caller
 * can write `return err_set(e, "...")`. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logging to stderr; the level is set once from the command line or config. */
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_parse_level(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* A growable byte buffer, reused across ticks so reading /proc allocates only
 * until the largest file has been seen once. Always NUL-terminated. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_free(struct buf *b);

/* The most one read of a source may return, by kind of file (the reasons
 * are in buf.c). A file past its cap is refused whole: a table cut short
 * would be parsed as a complete one. */
#define SOURCE_MAX_TABLE ((size_t)64 << 20) /* a line per CPU, mount, disk, socket */
#define SOURCE_MAX_SMALL ((size_t)1 << 20)  /* fixed lines, and /proc/PID files */
#define SOURCE_MAX_ATTR	 ((size_t)64 << 10) /* one sysfs attribute */

/* Opens a file (dirfd may be AT_FDCWD) for reading without blocking,
 * accepting only a regular file, as procfs and sysfs files are. Returns the
 * descriptor or a negative errno: -ENXIO for a device, FIFO or socket,
 * -EISDIR for a directory, -EFBIG when it is larger than max. */
int open_regular(int dirfd, const char *path, size_t max);
/* open_regular for a /proc or /sys file, logging each refused file once. */
int source_open(int dirfd, const char *path, size_t max);
/* Reads fd from its current offset to EOF: 0, or a negative errno; -EFBIG
 * (nothing kept) past max bytes. */
int buf_read_fd(struct buf *b, int fd, size_t max);
/* source_open and buf_read_fd: 0 or a negative errno (b then empty):
 * -ENOENT/-ESRCH for a file that vanished, -EACCES/-EPERM for a permission
 * error, -ENXIO, -EISDIR or -EFBIG for a file refused. */
int buf_read_file(struct buf *b, int dirfd, const char *path, size_t max);
/* Logs, once per file, why it was refused (err: -ENXIO, -EISDIR, -EFBIG;
 * other errors are not refusals and are not logged). */
void source_log_refused(int dirfd, const char *path, int err, size_t max);

/* Text scanning for the pure parsers: skip blanks, then read an unsigned or
 * signed decimal. Return 0 and advance *p, or -1 leaving *p at the bad token. */
int scan_u64(const char **p, uint64_t *out);
int scan_i64(const char **p, int64_t *out);
/* scan_u64 for a whole whitespace-separated field: "4x000" is an error. */
int scan_field_u64(const char **p, uint64_t *out);
/* Copies the next whitespace-delimited token (truncated to n-1 bytes). */
size_t scan_token(const char **p, char *out, size_t n);
/* /proc text always ends with a newline; text without one was cut short and
 * its last number may be missing digits. Returns -1 naming `what` then. */
int check_complete(const char *text, const char *what, struct err *e);
/* Copies the start of the token at p, for error messages. */
const char *token_preview(const char *p, char *out, size_t n);
/* The delta of a monotonic counter: a counter that went backwards was reset,
 * so the delta is the new value (what accumulated since the reset). */
uint64_t counter_delta(uint64_t prev, uint64_t cur);

/* Durations: "10" (seconds), "10s", "500ms", "5m", "2h", "3d", "2w", "1y" (365d),
 * "1h30m". At most DURATION_MAX_MS: 100000 years, which callers may still
 * turn into microseconds (x1000) and add to a clock without overflowing an
 * int64; anything longer is refused, naming the term that passed it. */
#define DURATION_MAX_MS (100000LL * 31536000000LL)
int parse_duration_ms(const char *text, int64_t *out_ms, struct err *e);

/* Clocks. The wall clock can be offset for tests through HINDSIGHT_CLOCK_OFFSET_S. */
int64_t clock_wall_s(void);
int64_t clock_mono_us(void);
int64_t clock_process_cpu_us(void);
int64_t clock_thread_cpu_us(void);

/* The kernel's clock tick (USER_HZ), for converting /proc jiffies to ms. */
long clock_ticks_per_s(void);
static inline uint64_t ticks_to_ms(uint64_t ticks, long hz)
{
	return hz == 100 ? ticks * 10 : ticks * 1000 / (uint64_t)hz;
}

/* This process's resident set in KiB (from /proc/self/statm). */
int64_t self_rss_kb(void);

#endif
