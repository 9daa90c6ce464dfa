#ifndef HINDSIGHT_BPF_RECORDS_H
#define HINDSIGHT_BPF_RECORDS_H
/* The eBPF records as the daemon holds them between ticks, and the pure
 * conversions from kernel units to table columns. No libbpf here, so these
 * are built and tested whether or not eBPF is. */
#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/events.h"
#include "util/util.h"

/* bpf_state.id in the schema. */
enum { BPF_STATE_OFF = 0, BPF_STATE_RUNNING = 1, BPF_STATE_NOT_BUILT = 2, BPF_STATE_FAILED = 3 };

/* Records copied out of the ring buffer, in arrival order, in one bounded
 * byte arena that is reused after every stored tick. */
struct record_buf {
	unsigned char *data;
	size_t len, cap;
	size_t max;	    /* the arena never grows past this */
	uint64_t malformed; /* records refused for a bad size or type */
};

struct record {
	int64_t epoch_ns; /* the event's wall-clock time */
	uint32_t size;
	const unsigned char *data; /* starts with struct hs_header */
};

void record_buf_init(struct record_buf *b, size_t max);
void record_buf_free(struct record_buf *b);
void record_buf_clear(struct record_buf *b);
/* Appends a record whose header time is CLOCK_BOOTTIME. Returns 0, -1 when
 * the arena is full (the caller counts the drop), or 1 for a malformed
 * record (counted in b->malformed). */
int record_buf_push(struct record_buf *b, const void *data, size_t size, int64_t boot_to_epoch_ns);
/* Iterates: *pos starts at 0. Returns 0 at the end. */
int record_buf_next(const struct record_buf *b, size_t *pos, struct record *r);
uint32_t record_type(const struct record *r);

/* argv of an exec record as text: arguments joined by one space. Returns the
 * length written (out is NUL-terminated; outlen >= 1). */
size_t exec_args_text(const struct hs_exec *x, size_t size, char *out, size_t outlen);

/* An exit record in table units. */
struct exit_usage {
	int64_t start_clock_ticks; /* /proc/PID/stat starttime */
	int64_t lifetime_us;
	int exit_code; /* valid when signal == 0 */
	int signal;    /* the signal that ended it, 0 for a normal exit */
	int core_dumped;
	int64_t peak_rss_kb;
};
void exit_usage_from(const struct hs_exit *x, long hz, long page_size, struct exit_usage *u);

/* User and system time scaled so they add up to the scheduler's runtime,
 * as /proc/PID/stat reports them (the kernel's tick-sampled split applied to
 * the exact total). */
void exit_cpu_split(const struct hs_exit *x, uint64_t *user_ns, uint64_t *system_ns);

#endif
