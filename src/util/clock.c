/* Wall, monotonic and CPU clocks, and the daemon's own resident set. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

static int64_t timespec_us(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

/* Tests step the wall clock without root through this offset (seconds). */
static int64_t wall_offset_s(void)
{
	static int loaded;
	static int64_t offset;
	if (!loaded) {
		const char *v = getenv("HINDSIGHT_CLOCK_OFFSET_S");
		offset = v ? strtoll(v, NULL, 10) : 0;
		loaded = 1;
	}
	return offset;
}

int64_t clock_wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec + wall_offset_s();
}

int64_t clock_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_us(&ts);
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
