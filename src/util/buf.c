/* Reading whole /proc and /sys files into a reusable buffer, safely: the
 * roots can point anywhere (a container's mount, a fixture tree), so a
 * source that is a device, a FIFO or a huge file must cost an error, never
 * a blocked daemon or gigabytes of memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

/*
 * The caps (util.h), and why each is what it is:
 *  SOURCE_MAX_TABLE 64 MiB: files with a line per CPU, IRQ, mount, disk,
 *    interface or socket. The largest seen on real machines: cpuinfo at
 *    ~1.5 KiB a CPU (12 MiB for 8192 CPUs), stat's intr line at up to 21
 *    bytes an IRQ, mountinfo at ~200 bytes a mount (20 MiB for 100k
 *    container mounts), net/tcp at 150 bytes a socket (64 MiB is ~450k
 *    sockets; the tcp collector reads sock_diag instead where it can).
 *  SOURCE_MAX_SMALL 1 MiB: files with a fixed set of lines (loadavg,
 *    meminfo, vmstat, pressure, snmp, sockstat, sys/kernel/...) and the
 *    /proc/PID files. All are a few KiB but status, whose Groups line lists
 *    up to NGROUPS_MAX (65536) ids: ~720 KiB at most.
 *  SOURCE_MAX_ATTR 64 KiB: a sysfs attribute is at most one page, and
 *    64 KiB is the largest page size Linux runs with (arm64, ppc64).
 * Buffers grow to the largest file seen and are reused, so a cap also
 * bounds what a reader keeps.
 */

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Room for need bytes, doubling but never past limit (need <= limit). */
static int buf_reserve(struct buf *b, size_t need, size_t limit)
{
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	char *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* "64 MiB", "1 MiB", "64 KiB", "100 bytes": how a cap reads in a log line. */
static const char *size_text(size_t n, char *out, size_t len)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, len, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, len, "%zu KiB", n >> 10);
	else
		snprintf(out, len, "%zu bytes", n);
	return out;
}

static const char *kind_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFDIR:
		return "a directory";
	default:
		return "not a regular file";
	}
}

/* Whether this file was already logged. A refused file stays refused tick
 * after tick, and one line says it; a hostile root with a bad file in
 * every /proc/PID would otherwise log without end, so after a few dozen
 * files the rest are summed up in one last line. */
static int logged_before(int dirfd, const char *path)
{
	enum { REMEMBERED = 64 };
	static uint64_t seen[REMEMBERED];
	static unsigned nseen;
	uint64_t h = 14695981039346656037ull ^ (uint64_t)(unsigned)dirfd;
	for (const char *c = path; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (unsigned i = 0; i < nseen && i < REMEMBERED; i++)
		if (seen[i] == h)
			return 1;
	if (nseen < REMEMBERED) {
		seen[nseen++] = h;
		return 0;
	}
	if (nseen == REMEMBERED) {
		nseen++;
		log_warn("more source files refused; not logging each of them");
	}
	return 1;
}

void source_log_refused(int dirfd, const char *path, int err, size_t max)
{
	char why[96], root[4096] = "";
	struct stat st;
	if (err == -EFBIG) {
		char cap[32];
		snprintf(why, sizeof(why), "larger than %s, the cap for this kind of file",
			 size_text(max, cap, sizeof(cap)));
	} else if (err == -ENXIO || err == -EISDIR) {
		int known = fstatat(dirfd, path, &st, 0) == 0;
		snprintf(why, sizeof(why), "%s, not a regular file",
			 known ? kind_of(st.st_mode) : "not a regular file");
	} else {
		return; /* vanished, permission, I/O: counted, not refused */
	}
	if (logged_before(dirfd, path))
		return;
	if (dirfd != AT_FDCWD && path[0] != '/') {
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		ssize_t n = readlink(link, root, sizeof(root) - 2);
		if (n > 0) {
			root[n] = '/';
			root[n + 1] = '\0';
		}
	}
	log_warn("%s%s: %s; not read (counted as a read error)", root, path, why);
}

int open_regular(int dirfd, const char *path, size_t max)
{
	/* O_NONBLOCK: opening a FIFO waits for a writer without it. */
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	int rc = 0;
	if (fd < 0)
		rc = -errno; /* a socket gives ENXIO */
	else if (fstat(fd, &st))
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		rc = -ENXIO;
	else if ((uint64_t)st.st_size > max) /* procfs says 0: checked again as read */
		rc = -EFBIG;
	if (rc == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return rc;
}

int source_open(int dirfd, const char *path, size_t max)
{
	int fd = open_regular(dirfd, path, max);
	if (fd < 0)
		source_log_refused(dirfd, path, fd, max);
	return fd;
}

int buf_read_fd(struct buf *b, int fd, size_t max)
{
	/* One byte past max tells a file at the cap from one past it; one
	 * more holds the NUL. */
	size_t limit = max + 2;
	b->len = 0;
	for (;;) {
		/* /proc files report size 0, so read until EOF. */
		size_t need = b->len + 4096 < limit ? b->len + 4096 : limit;
		int rc = buf_reserve(b, need, limit);
		if (rc)
			return rc;
		size_t room = (b->cap < limit ? b->cap : limit) - b->len - 1;
		ssize_t n = read(fd, b->data + b->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (b->len + (size_t)n > max)
			rc = -EFBIG;
		if (rc) {
			b->len = 0;
			b->data[0] = '\0';
			return rc;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
	return 0;
}

int buf_read_file(struct buf *b, int dirfd, const char *path, size_t max)
{
	b->len = 0; /* a failed read leaves no stale text behind */
	if (b->data)
		b->data[0] = '\0';
	int fd = source_open(dirfd, path, max);
	if (fd < 0)
		return fd;
	int rc = buf_read_fd(b, fd, max);
	close(fd);
	if (rc == -EFBIG)
		source_log_refused(dirfd, path, rc, max);
	return rc;
}

void tick_errors_count_read(struct tick_errors *te, int neg_errno)
{
	switch (-neg_errno) {
	case ENOENT:
	case ESRCH:
		te->vanished++;
		break;
	case EACCES:
	case EPERM:
		te->permission++;
		break;
	default:
		te->read++;
	}
}
