/* bench_syscall_loop [N]: N rounds of a 1-byte read from /dev/zero and a
 * 1-byte write to /dev/null; prints the mean CPU nanoseconds per syscall
 * (the process's own CPU time, so time spent waiting for a CPU on a busy
 * machine is left out). Used by bench/bpf_cost.sh to measure what the eBPF
 * syscall counters cost. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int in = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char c;
	struct timespec t0, t1;
	if (in < 0 || out < 0 || n <= 0) {
		perror("bench_syscall_loop");
		return 1;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (long i = 0; i < n; i++)
		if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1)
			return 1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("%.1f\n", ns / (2.0 * (double)n));
	return 0;
}
