#ifndef HINDSIGHT_UTIL_H
#define HINDSIGHT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An invariant of the code itself, never of its input: when it fails the
 * program is wrong and going on would store wrong history, so it stops with
 * the condition and file:line. Unlike assert() it is kept in every build
 * type (CMake's Release and RelWithDebInfo, and packagers' builds, define
 * NDEBUG), so use it only where the check is cheap. */
#define ASSERT(cond) ((cond) ? (void)0 : assert_failed(#cond, __FILE__, __LINE__))
_Noreturn void assert_failed(const char *cond, const char *file, int line);

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

/* Problems met while reading sources during one tick. None of them stops a
 * tick; all of them are stored in the self-metrics. */
struct tick_errors {
	uint64_t vanished;   /* file gone: a process exited mid-read */
	uint64_t permission; /* EACCES/EPERM: partial read */
	uint64_t read;	     /* any other read error */
	uint64_t parse;	     /* malformed text */
};
/* Counts a failed read by its errno (negative, as buf_read_file returns it). */
void tick_errors_count_read(struct tick_errors *te, int neg_errno);

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

/* Clocks. */
int64_t clock_wall_s(void);
int64_t clock_mono_us(void);
int64_t clock_boot_us(void); /* CLOCK_BOOTTIME: monotonic, counts suspend */
/* The wall clock and CLOCK_BOOTTIME read as one instant (µs). */
void clock_read_wall_boot(int64_t *wall_us, int64_t *boot_us);
int64_t clock_process_cpu_us(void);
int64_t clock_thread_cpu_us(void);

/* The wall clock as the daemon trusts it. The kernel slews CLOCK_REALTIME
 * and CLOCK_BOOTTIME alike (NTP's frequency and offset corrections change
 * both), so their difference moves only when the wall clock is stepped
 * (settimeofday, clock_settime, adjtimex ADJ_SETOFFSET, a leap second); a
 * suspend advances both. Trusted time is boottime plus an anchor that
 * follows the wall clock while the difference stays within
 * WALL_STEP_TOLERANCE_US. A larger change is a step: trusted time carries on
 * from the anchor until the wall clock comes back to it or stays stepped for
 * settle_us, when the step is taken as a correction and the anchor moves. */
#define WALL_STEP_TOLERANCE_US 1500000 /* a leap second, NTP's first small steps */
#define WALL_STEP_SETTLE_S     300     /* a step lasting this long is a correction */

struct wall_clock {
	int64_t offset_us;    /* trusted wall time minus boottime */
	int64_t step_us;      /* an unsettled step (wall clock minus trusted time); 0: none */
	int64_t step_seen_us; /* boottime the step was first seen at */
	int64_t started_us;   /* boottime of the first reading */
	int64_t settle_us;
};
enum wall_event {
	WALL_STEADY,	/* within tolerance: followed */
	WALL_STEPPED,	/* a new step (*step_us: its size) */
	WALL_UNSETTLED, /* the step seen before, not settled yet */
	WALL_BACK,	/* the wall clock came back (*step_us: the step that ended) */
	WALL_ACCEPTED,	/* the step lasted settle_us: now trusted (*step_us: its size) */
};
void wall_clock_init(struct wall_clock *w, int64_t wall_us, int64_t boot_us, int64_t settle_us);
/* One reading of both clocks: updates the anchor and says what happened. */
enum wall_event wall_clock_observe(struct wall_clock *w, int64_t wall_us, int64_t boot_us,
				   int64_t *step_us);
static inline int64_t wall_clock_trusted_us(const struct wall_clock *w, int64_t boot_us)
{
	return boot_us + w->offset_us;
}
/* Whether trusted time may date things by age (pruning): not while a step
 * is unsettled, nor before the clock was watched for a settle period (a
 * daemon started on a wrong clock would otherwise prune by it at once). */
int wall_clock_settled(const struct wall_clock *w, int64_t boot_us);
/* Collectors that date events by the wall clock (kernel log records, eBPF
 * events) take trusted time too: the daemon publishes its anchor at every
 * tick; before that, and in other programs, this reads the clocks. */
void clock_publish_trusted(const struct wall_clock *w);
int64_t clock_wall_minus_boot_us(void);

/* The kernel's clock tick (USER_HZ), for converting /proc jiffies to ms. */
long clock_ticks_per_s(void);
static inline uint64_t ticks_to_ms(uint64_t ticks, long hz)
{
	return hz == 100 ? ticks * 10 : ticks * 1000 / (uint64_t)hz;
}

/* This process's resident set in KiB (from /proc/self/statm). */
int64_t self_rss_kb(void);

#endif
