/* bench_burn MS FILE: burns MS milliseconds of CPU, then appends the CPU it
 * used by its own clock (microseconds) as one line to FILE. A workload of
 * short-lived processes whose true CPU is known, for bench/bpf_accuracy.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long long want = (long long)(atof(argv[1]) * 1000);
	volatile unsigned long spin = 0;
	while (cpu_us() < want)
		spin++;
	char line[32];
	int n = snprintf(line, sizeof(line), "%lld\n", cpu_us());
	int fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return 1;
	close(fd);
	return 0;
}
