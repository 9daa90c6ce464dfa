/* bench_ctxswitch_loop [N]: two processes pinned to one CPU pass a byte
 * back and forth over two pipes N times; prints the CPU nanoseconds (both
 * processes') per context switch (each round trip is two switches, and four
 * 1-byte pipe syscalls). Used by bench/bpf_cost.sh to measure what the eBPF hook on the
 * scheduler's switch costs. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cputime.h"

/* Both ends on the CPU the caller runs on, so every hand-over is a switch. */
static void pin_to_current_cpu(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int ping[2], pong[2];
	char c = 0;
	if (n <= 0 || pipe(ping) || pipe(pong)) {
		perror("bench_ctxswitch_loop");
		return 1;
	}
	pin_to_current_cpu();
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		for (long i = 0; i < n; i++)
			if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	double c0 = cpu_ns_with_children();
	for (long i = 0; i < n; i++)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return 1;
	int status;
	waitpid(child, &status, 0);
	double cpu = cpu_ns_with_children() - c0;
	printf("%.1f\n", cpu / (2.0 * (double)n));
	return 0;
}
