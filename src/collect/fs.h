#ifndef HINDSIGHT_COLLECT_FS_H
#define HINDSIGHT_COLLECT_FS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* One line of /proc/<pid>/mountinfo. The strings point into the parsed text,
 * which the parser unescapes in place (\040 -> ' ' and the like). */
struct mount {
	unsigned major, minor;
	const char *root;	/* the part of the filesystem mounted here */
	const char *mountpoint; /* relative to the process's root */
	const char *fstype;	/* "ext4", "fuse.sshfs", ... */
	const char *source;	/* "/dev/vda1", "tmpfs", ... */
};

struct mountinfo {
	struct mount *m;
	size_t n, cap;
};

/* Parses mountinfo text in place. Returns -1 naming the line on bad input. */
int mountinfo_parse(char *text, struct mountinfo *out, struct err *e);
void mountinfo_free(struct mountinfo *mi);

/* 1 for filesystems with nothing to measure (proc, sysfs, cgroup, ...). */
int fs_is_pseudo(const char *fstype);

/* Marks which mounts to measure: real filesystems that are not hidden by a
 * later mount on the same mount point, and of several mounts of one device
 * (bind mounts) only one, preferring the mount of its root.
 * keep[i] is set to 1 or 0 for each mount. */
void mountinfo_select(const struct mountinfo *mi, unsigned char *keep);

struct collector_ops;
extern const struct collector_ops collector_fs;

#endif
