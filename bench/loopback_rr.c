/* bench_loopback_rr [N] [BYTES]: a request/response loop over TCP on
 * 127.0.0.1, as a small RPC service sees it: a client process sends BYTES
 * (default 64), a server process reads them and answers with as many, N
 * times (default 50,000). Neither is pinned. Prints the CPU microseconds
 * (both processes', the kernel's TCP work in their context included) per
 * round trip. Used by bench/bpf_cost.sh as the realistic syscall-heavy
 * workload. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cputime.h"

/* Reads exactly n bytes; 0 on success. */
static int read_full(int fd, char *buf, size_t n)
{
	while (n) {
		ssize_t r = read(fd, buf, n);
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

static void serve(int lfd, long n, size_t bytes)
{
	char buf[4096];
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(1);
	for (long i = 0; i < n; i++)
		if (read_full(fd, buf, bytes) || write(fd, buf, bytes) != (ssize_t)bytes)
			_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 50000;
	size_t bytes = argc > 2 ? (size_t)atol(argv[2]) : 64;
	char buf[4096];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (n <= 0 || bytes == 0 || bytes > sizeof(buf) || lfd < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen)) {
		perror("bench_loopback_rr");
		return 1;
	}
	pid_t child = fork();
	if (child == 0)
		serve(lfd, n, bytes);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (child < 0 || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("bench_loopback_rr");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(buf, 'x', bytes);
	double c0 = cpu_ns_with_children();
	for (long i = 0; i < n; i++)
		if (write(fd, buf, bytes) != (ssize_t)bytes || read_full(fd, buf, bytes))
			return 1;
	int status;
	waitpid(child, &status, 0);
	double cpu = cpu_ns_with_children() - c0;
	printf("%.2f\n", cpu / 1e3 / (double)n);
	return 0;
}
