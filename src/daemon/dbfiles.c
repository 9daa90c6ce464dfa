/* The files around the daemon's database: its directory, the lock that keeps
 * a second daemon off it, the group that may read it, and the undoing of
 * whatever a failed start created. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"

/* Cuts path at its last slash: "a/b/c" -> "a/b", "/c" -> "/", "c" -> "." */
static void parent_of(char *dir, size_t n, const char *path)
{
	snprintf(dir, n, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, n, ".");
	else
		*(slash == dir ? slash + 1 : slash) = '\0';
}

/* The daemon runs with privileges: a database path that is a symbolic link,
 * or that sits in a directory another user owns, could make it write where
 * that user chooses. Both are refused. A directory still to be created is
 * judged by the nearest one that exists, where it would be made. The empty
 * path is refused too: SQLite would take it for a temporary database and
 * the daemon would sample into nothing. */
int check_db_path(const char *path, struct err *e)
{
	struct stat st;
	if (!path[0])
		return err_set(e, "the database path is empty");
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return err_set(e, "refusing database path %s: it is a symbolic link", path);
	char dir[PATH_MAX];
	parent_of(dir, sizeof(dir), path);
	while (stat(dir, &st) != 0 && errno == ENOENT && strcmp(dir, ".") && strcmp(dir, "/")) {
		char up[PATH_MAX];
		parent_of(up, sizeof(up), dir);
		snprintf(dir, sizeof(dir), "%s", up);
	}
	if (stat(dir, &st) == 0 && st.st_uid != geteuid() && st.st_uid != 0)
		return err_set(e, "refusing database path %s: directory %s belongs to user %u",
			       path, dir, (unsigned)st.st_uid);
	return 0;
}

/* Gives a file or directory the daemon made (or one from before the group
 * existed) to the hindsight group, so its members can read the database.
 * Only what is in group root, gid 0, is moved: that is what root creates, and
 * a group an administrator chose is theirs to keep. It is done by path and
 * never through a descriptor of its own: closing one on a file SQLite has
 * open would drop this process's POSIX locks on it, SQLite's included. No
 * other user can swap the file meanwhile: check_db_path saw to the directory. */
static int share(const struct db_files *f, const char *path)
{
	struct stat st;
	if (!f->have_group || f->group == 0 ||
	    fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_gid != 0)
		return 0; /* no group, no such file (-wal, -shm), or not in group root */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return 0;
	if (fchownat(AT_FDCWD, path, (uid_t)-1, f->group, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (geteuid() == 0)
		log_warn("cannot give %s to group %s: %s; its members cannot read the database "
			 "(run hindsightd with group %s, or with CAP_CHOWN)",
			 path, HINDSIGHT_GROUP, strerror(errno), HINDSIGHT_GROUP);
	return 0;
}

/* Creates the missing directories above path (0750, in the hindsight group
 * when there is one) and remembers the first it made, for undoing. */
static int make_parent_dirs(struct db_files *f, const char *path, struct err *e)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char was = *p;
		*p = '\0';
		if (mkdir(dir, 0750) == 0) {
			if (!f->first_made_dir[0])
				snprintf(f->first_made_dir, sizeof(f->first_made_dir), "%s", dir);
			share(f, dir);
		} else if (errno != EEXIST) {
			return err_set(e, "cannot create directory %s: %s", dir, strerror(errno));
		}
		*p = was;
		if (was == '\0')
			return 0;
	}
}

/* The holder's pid as its lock file says, for the message refusing a second
 * daemon; "unknown" while the holder has not written it yet. */
static void lock_holder(int fd, char *out, size_t n)
{
	char text[32];
	ssize_t len = pread(fd, text, sizeof(text) - 1, 0);
	size_t digits = 0;
	while (len > 0 && digits < (size_t)len && digits + 1 < n && text[digits] >= '0' &&
	       text[digits] <= '9')
		digits++;
	if (digits == 0)
		snprintf(out, n, "unknown");
	else
		snprintf(out, n, "%.*s", (int)digits, text);
}

static int lock_write_pid(int fd)
{
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	return ftruncate(fd, 0) || pwrite(fd, pid, (size_t)len, 0) != len ? -1 : 0;
}

/* One daemon per database: flock on <db>-lock, which the kernel releases
 * however its holder ends, so a SIGKILLed daemon never blocks the next. The
 * lock file is removed by its last holder; a file locked after that removal
 * is no longer the one at the path, so the lock is taken again on the new
 * one rather than shared with a daemon holding it. */
static int lock_take(struct db_files *f, struct err *e)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd = open(f->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
			      0640);
		if (fd < 0 && errno == ELOOP)
			return err_set(e, "refusing lock file %s: it is a symbolic link",
				       f->lock_path);
		if (fd < 0)
			return err_set(e, "cannot open lock file %s: %s", f->lock_path,
				       strerror(errno));
		struct stat held, now;
		if (fstat(fd, &held) != 0 || !S_ISREG(held.st_mode)) {
			close(fd);
			return err_set(e, "refusing lock file %s: not a regular file",
				       f->lock_path);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int why = errno;
			char holder[24];
			lock_holder(fd, holder, sizeof(holder));
			close(fd);
			if (why == EWOULDBLOCK)
				return err_set(
				    e,
				    "database %s is in use by another hindsightd (pid %s "
				    "holds %s); stop it first",
				    f->db, holder, f->lock_path);
			return err_set(e, "cannot lock %s: %s", f->lock_path, strerror(why));
		}
		if (stat(f->lock_path, &now) == 0 && now.st_dev == held.st_dev &&
		    now.st_ino == held.st_ino) {
			f->lock_fd = fd;
			/* The pid only names the holder in a message: a full
			 * disk that cannot take it does not stop the start. */
			if (fchmod(fd, 0640) || lock_write_pid(fd))
				log_warn("cannot write this daemon's pid into %s: %s", f->lock_path,
					 strerror(errno));
			return 0;
		}
		close(fd); /* removed by its holder after we opened it */
	}
	return err_set(e, "cannot lock %s: it keeps being replaced", f->lock_path);
}

int db_files_open(struct db_files *f, const char *db, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->lock_fd = -1;
	snprintf(f->db, sizeof(f->db), "%s", db);
	snprintf(f->lock_path, sizeof(f->lock_path), "%s-lock", db);
	struct group *g = getgrnam(HINDSIGHT_GROUP);
	if (g) {
		f->group = g->gr_gid;
		f->have_group = 1;
	}
	if (check_db_path(db, e) || make_parent_dirs(f, db, e) || lock_take(f, e))
		return -1;
	struct stat st;
	if (lstat(db, &st) != 0)
		f->was = DB_WAS_MISSING;
	else
		f->was = st.st_size == 0 ? DB_WAS_EMPTY : DB_WAS_THERE;
	return 0;
}

void db_files_share(struct db_files *f)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	int moved = share(f, f->lock_path);
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
		char path[sizeof(f->db) + 8];
		snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
		moved += share(f, path);
	}
	if (moved && f->was == DB_WAS_THERE)
		log_info("gave %s and its files to group %s, whose members may read it", f->db,
			 HINDSIGHT_GROUP);
}

/* A start that failed leaves the database as it found it: a file it created
 * is removed, a zero-length one is emptied again, the -wal and -shm of either
 * go, and so do the directories it made (rmdir: only while empty). */
static void undo_start(struct db_files *f)
{
	static const char *const journals[] = {"-wal", "-shm", "-journal"};
	if (f->was == DB_WAS_THERE)
		return;
	for (size_t i = 0; i < ARRAY_LEN(journals); i++) {
		char path[sizeof(f->db) + 16];
		snprintf(path, sizeof(path), "%s%s", f->db, journals[i]);
		unlink(path);
	}
	if (f->was == DB_WAS_MISSING) {
		unlink(f->db);
	} else {
		int fd = open(f->db, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, 0) != 0)
			log_warn("cannot empty %s again: %s", f->db, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

static void remove_made_dirs(struct db_files *f)
{
	if (!f->first_made_dir[0])
		return;
	char dir[PATH_MAX];
	parent_of(dir, sizeof(dir), f->db);
	while (rmdir(dir) == 0 && strcmp(dir, f->first_made_dir) != 0) {
		char up[PATH_MAX];
		parent_of(up, sizeof(up), dir);
		snprintf(dir, sizeof(dir), "%s", up);
	}
}

void db_files_close(struct db_files *f)
{
	if (f->lock_fd >= 0) {
		if (!f->started)
			undo_start(f);
		/* Removed while still held: see lock_take. */
		unlink(f->lock_path);
		close(f->lock_fd);
		f->lock_fd = -1;
	}
	if (!f->started)
		remove_made_dirs(f);
}
