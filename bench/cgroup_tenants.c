/* bench_cgroup_tenants: one process per line of stdin, "idle|busy DIR...",
 * each moving itself into the cgroup directories given (writing its pid to
 * DIR/cgroup.procs) before it idles in pause() or, busy, spins 200 us of
 * CPU every 900 ms. Prints "ready N" once all are placed, and ends them
 * all when stdin closes. bench/cgroups measures the cgroups collector
 * against these. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Writes this process's pid into each DIR/cgroup.procs of the line. */
static int enter(char *dirs)
{
	char pid[32], path[4200];
	int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (char *d = strtok(dirs, " \n"); d; d = strtok(NULL, " \n")) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", d);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, (size_t)n) != n) {
			perror(path);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void tenant(int busy)
{
	for (;;) {
		if (!busy) {
			pause();
			continue;
		}
		long long end = cpu_us() + 200;
		while (cpu_us() < end)
			;
		usleep(900000);
	}
}

int main(void)
{
	char line[16384];
	int n = 0, cap = 0;
	pid_t *kids = NULL;
	while (fgets(line, sizeof(line), stdin) && strcmp(line, "go\n") != 0) {
		int busy = strncmp(line, "busy ", 5) == 0;
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (enter(line + 5))
				_exit(1);
			tenant(busy);
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			kids = realloc(kids, (size_t)cap * sizeof(*kids));
			if (!kids)
				return 1;
		}
		kids[n++] = pid;
	}
	usleep(200000);
	printf("ready %d\n", n);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
