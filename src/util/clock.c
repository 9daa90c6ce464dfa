/* Wall, monotonic and CPU clocks, and the daemon's own resident set. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

static int64_t timespec_us(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

int64_t clock_wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t clock_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_us(&ts);
}

int64_t clock_boot_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return timespec_us(&ts);
}

/* The wall clock is read between two boottime reads and paired with their
 * midpoint; a pair stretched by preemption is read again (the tightest of
 * three kept), so a step is never confused with a late read. */
void clock_read_wall_boot(int64_t *wall_us, int64_t *boot_us)
{
	int64_t best = INT64_MAX;
	for (int i = 0; i < 3 && best > 100; i++) {
		struct timespec wall;
		int64_t b0 = clock_boot_us();
		clock_gettime(CLOCK_REALTIME, &wall);
		int64_t b1 = clock_boot_us();
		if (b1 - b0 < best) {
			best = b1 - b0;
			*wall_us = timespec_us(&wall);
			*boot_us = b0 + (b1 - b0) / 2;
		}
	}
}

void wall_clock_init(struct wall_clock *w, int64_t wall_us, int64_t boot_us, int64_t settle_us)
{
	w->offset_us = wall_us - boot_us;
	w->step_us = 0;
	w->step_seen_us = 0;
	w->started_us = boot_us;
	w->settle_us = settle_us;
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* The anchor follows the wall clock within the tolerance, so slow
 * corrections never add up to a step; a step is tracked until the wall
 * clock returns to the anchor, moves to another step (a new one, timed
 * afresh) or has stayed settle_us. */
enum wall_event wall_clock_observe(struct wall_clock *w, int64_t wall_us, int64_t boot_us,
				   int64_t *step_us)
{
	int64_t dev = wall_us - wall_clock_trusted_us(w, boot_us);
	*step_us = 0;
	if (abs64(dev) <= WALL_STEP_TOLERANCE_US) {
		w->offset_us = wall_us - boot_us;
		if (!w->step_us)
			return WALL_STEADY;
		*step_us = w->step_us;
		w->step_us = 0;
		return WALL_BACK;
	}
	*step_us = dev;
	if (!w->step_us || abs64(dev - w->step_us) > WALL_STEP_TOLERANCE_US) {
		w->step_us = dev;
		w->step_seen_us = boot_us;
		return WALL_STEPPED;
	}
	w->step_us = dev;
	if (boot_us - w->step_seen_us < w->settle_us)
		return WALL_UNSETTLED;
	w->offset_us = wall_us - boot_us;
	w->step_us = 0;
	return WALL_ACCEPTED;
}

int wall_clock_settled(const struct wall_clock *w, int64_t boot_us)
{
	return !w->step_us && boot_us - w->started_us >= w->settle_us;
}

/* Set by the daemon's loop thread, read by collectors in the same thread. */
static int64_t published_offset_us;
static int published;

void clock_publish_trusted(const struct wall_clock *w)
{
	published_offset_us = w->offset_us;
	published = 1;
}

int64_t clock_wall_minus_boot_us(void)
{
	int64_t wall_us, boot_us;
	if (published)
		return published_offset_us;
	clock_read_wall_boot(&wall_us, &boot_us);
	return wall_us - boot_us;
}

int64_t clock_process_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return timespec_us(&ts);
}

int64_t clock_thread_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return timespec_us(&ts);
}

long clock_ticks_per_s(void)
{
	static long hz;
	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
	}
	return hz;
}

int64_t self_rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long long size, resident;
	int ok = f && fscanf(f, "%lld %lld", &size, &resident) == 2;
	if (f)
		fclose(f);
	return ok ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}
