/* CPU time of this process and of its reaped children, for the cost
 * benchmarks: on a machine shared with builds, wall time mostly measures
 * the wait for a CPU, CPU time what the work itself took. */
#ifndef HINDSIGHT_BENCH_CPUTIME_H
#define HINDSIGHT_BENCH_CPUTIME_H

#include <sys/resource.h>

static inline double tv_ns(struct timeval tv)
{
	return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3;
}

/* User + system ns of this process and its waited-for children. */
static inline double cpu_ns_with_children(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return tv_ns(self.ru_utime) + tv_ns(self.ru_stime) + tv_ns(kids.ru_utime) +
	       tv_ns(kids.ru_stime);
}

#endif
