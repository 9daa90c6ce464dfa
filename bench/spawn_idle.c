/* bench_spawn_idle N [T]: starts N idle processes (each blocked in pause(),
 * with T threads each, default 1), prints "ready" once all exist, and ends
 * them when stdin closes. The processes benchmark measures the daemon
 * against these. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	pid_t *kids = calloc((size_t)n, sizeof(*kids));
	if (!kids)
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			n = i;
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			prctl(PR_SET_NAME, "bench_idle");
			for (int t = 1; t < threads; t++) {
				pthread_t tid;
				pthread_create(&tid, NULL, sleeper, NULL);
			}
			for (;;)
				pause();
		}
		kids[i] = pid;
	}
	usleep(200000); /* let the threads start */
	printf("ready %d\n", n);
	fflush(stdout);
	char buf[64];
	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		;
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	return 0;
}
