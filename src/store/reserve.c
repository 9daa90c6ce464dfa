/* The disk reserve: a file of allocated space next to the database, given
 * back to the file system when the disk fills. On a full disk SQLite cannot
 * even delete (a delete appends to the WAL, and a checkpoint may extend the
 * file), so without some space of its own the daemon could not prune its way
 * out. The reserve is that space; it is taken again once the disk has room. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store/store.h"

void reserve_init(struct reserve *r, const char *db_path, int64_t bytes)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s-reserve", db_path);
	r->bytes = bytes;
	reserve_restore(r);
}

int64_t reserve_fs_available(const struct reserve *r)
{
	char dir[sizeof(r->path)];
	snprintf(dir, sizeof(dir), "%s", r->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	struct statvfs sv;
	if (statvfs(slash ? dir : ".", &sv) != 0)
		return -1;
	return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

int reserve_restore(struct reserve *r)
{
	if (r->held || r->bytes <= 0)
		return 0;
	struct stat st;
	if (lstat(r->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_blocks * 512 >= r->bytes) {
		r->held = 1; /* kept from the last run */
		return 1;
	}
	/* Only with room to spare, or taking it would fill the disk again. */
	int64_t avail = reserve_fs_available(r);
	if (avail >= 0 && avail < 2 * r->bytes)
		return 0;
	int fd = open(r->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return 0;
	int rc = posix_fallocate(fd, 0, (off_t)r->bytes);
	close(fd);
	if (rc != 0) {
		unlink(r->path);
		return 0;
	}
	r->held = 1;
	return 1;
}

int64_t reserve_release(struct reserve *r)
{
	if (!r->held)
		return 0;
	r->held = 0;
	return unlink(r->path) == 0 ? r->bytes : 0;
}
