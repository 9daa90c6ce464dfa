/* The database's files: the database itself and the files SQLite and
 * hindsightd keep beside it. The query tool never writes any of them (an
 * output that is one is refused), leaves no -wal and -shm behind where there
 * were none, and says which of them a user may not read, and why. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "query/query.h"

/* SQLite's rollback journal, write-ahead log and its index, and
 * hindsightd's disk reserve and lock file are named after the database. */
static const struct {
	const char *suffix;
	const char *what;
} companions[] = {
    {"", "the database"},
    {"-wal", "the database's write-ahead log"},
    {"-shm", "the database's shared-memory index"},
    {"-journal", "the database's rollback journal"},
    {"-reserve", "the database's disk reserve"},
    {"-lock", "the database's lock file"},
};

#define LINK_DEPTH 8

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Which of db's companions (an index into companions) the file st is, by
 * device and inode, so any name or hard link of one is found; -1: none. */
static int companion_by_id(const char *db, const struct stat *st)
{
	char path[PATH_MAX + 16];
	struct stat c;
	for (size_t i = 0; i < ARRAY_LEN(companions); i++) {
		snprintf(path, sizeof(path), "%s%s", db, companions[i].suffix);
		if (stat(path, &c) == 0 && same_file(&c, st))
			return (int)i;
	}
	return -1;
}

/* The directory holding path ("." when it names none) and the last name;
 * -1 when the directory does not fit. */
static int split_path(const char *path, char *dir, size_t n, const char **name)
{
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	size_t len = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	if (len >= n)
		return -1;
	if (!slash)
		return snprintf(dir, n, "."), 0;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return 0;
}

/* Which companion a file that does not exist yet would be: the same
 * directory (by device and inode, whatever path leads there) and the
 * database's name with the companion's suffix. A -wal that does not exist
 * now may be created by the daemon at any moment. */
static int companion_by_name(const char *db, const char *path)
{
	char pdir[PATH_MAX], ddir[PATH_MAX];
	const char *pname, *dname;
	struct stat ps, ds;
	if (split_path(path, pdir, sizeof(pdir), &pname) ||
	    split_path(db, ddir, sizeof(ddir), &dname) || stat(pdir, &ps) || stat(ddir, &ds) ||
	    !same_file(&ps, &ds))
		return -1;
	size_t len = strlen(dname);
	if (strncmp(pname, dname, len) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(companions); i++)
		if (strcmp(pname + len, companions[i].suffix) == 0)
			return (int)i;
	return -1;
}

/* Which companion path is or would be once written: an existing file by
 * identity; a symbolic link to a missing file by where it points. */
static int companion_of(const char *db, const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return companion_by_id(db, &st);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char target[PATH_MAX], resolved[2 * PATH_MAX + 2];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0 || depth >= LINK_DEPTH)
			return -1;
		target[n] = '\0';
		const char *name;
		char dir[PATH_MAX];
		if (target[0] == '/' || split_path(path, dir, sizeof(dir), &name))
			snprintf(resolved, sizeof(resolved), "%s", target);
		else
			snprintf(resolved, sizeof(resolved), "%s/%s", dir, target);
		return companion_of(db, resolved, depth + 1);
	}
	return companion_by_name(db, path);
}

static int refuse(struct err *e, const char *option, const char *path, const char *db, int which)
{
	return err_set(e,
		       "%s %s: refused: it is %s %s%s; hindsight never writes the database or "
		       "the files beside it (-wal, -shm, -journal, -reserve, -lock)",
		       option, path, companions[which].what, db, companions[which].suffix);
}

int outfile_check(const char *path, const char *db, const char *option, struct err *e)
{
	int which = path && db ? companion_of(db, path, 0) : -1;
	return which < 0 ? 0 : refuse(e, option, path, db, which);
}

/* Standard output and error are files the tool writes too: "... >> DB"
 * would append to the database. */
static int std_stream_check(int fd, const char *db, const char *name, struct err *e)
{
	struct stat st;
	int which = fstat(fd, &st) == 0 ? companion_by_id(db, &st) : -1;
	if (which < 0)
		return 0;
	return err_set(e,
		       "%s: refused: it is %s %s%s; hindsight never writes the database or the "
		       "files beside it",
		       name, companions[which].what, db, companions[which].suffix);
}

int outfile_check_all(const struct qopts *o, struct err *e)
{
	if (std_stream_check(STDERR_FILENO, o->db, "standard error", e)) {
		/* Write nothing more there; say why where it harms nothing. */
		struct err out;
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0 && dup2(null, STDERR_FILENO) >= 0 &&
		    !std_stream_check(STDOUT_FILENO, o->db, "standard output", &out))
			printf("hindsight: %s\n", e->msg);
		if (null >= 0)
			close(null);
		return -1;
	}
	if (o->out_path && strcmp(o->out_path, "-") != 0 &&
	    outfile_check(o->out_path, o->db, "-o", e))
		return -1;
	if (o->svg && outfile_check(o->svg, o->db, "--svg", e))
		return -1;
	return std_stream_check(STDOUT_FILENO, o->db, "standard output", e);
}

/* Opens an existing file, or creates a new one without following a link
 * (O_EXCL): a link planted at path meanwhile is followed only to a file that
 * exists, which is then checked before anything is truncated. */
static int open_for_writing(const char *path, int *created)
{
	*created = 1;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd >= 0 || errno != EEXIST)
		return fd;
	*created = 0;
	return open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

FILE *outfile_open(const char *path, const char *db, const char *option, struct err *e)
{
	if (outfile_check(path, db, option, e))
		return NULL;
	int created;
	int fd = open_for_writing(path, &created);
	if (fd < 0 && errno == ENOENT && !created)
		return err_set(e,
			       "%s %s: cannot write: a symbolic link to a file that does not "
			       "exist",
			       option, path),
		       NULL;
	if (fd < 0)
		return err_set(e, "%s: cannot write %s: %s", option, path, strerror(errno)), NULL;
	struct stat st;
	int which = -1;
	if (fstat(fd, &st) != 0 || (db && (which = companion_by_id(db, &st)) >= 0)) {
		/* Nothing was written or truncated. (Closing a descriptor of the
		 * database drops this process's locks on it, which matters only
		 * to this process's own reads: it stops here.) A file just made
		 * that is a companion stays: SQLite may have opened it already,
		 * and an empty one is harmless. */
		int saved = errno;
		close(fd);
		if (created && which < 0)
			unlink(path);
		if (which >= 0)
			return refuse(e, option, path, db, which), NULL;
		return err_set(e, "%s: cannot write %s: %s", option, path, strerror(saved)), NULL;
	}
	if (!created && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
		err_set(e, "%s: cannot write %s: %s", option, path, strerror(errno));
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		err_set(e, "%s: cannot write %s: %s", option, path, strerror(errno));
		close(fd);
	}
	return f;
}

/* ---- leaving no -wal and -shm behind ---- */

static int exists(const char *db, const char *suffix)
{
	char path[PATH_MAX + 16];
	struct stat st;
	snprintf(path, sizeof(path), "%s%s", db, suffix);
	return lstat(path, &st) == 0;
}

void leftovers_note(struct leftovers *l, const char *db)
{
	l->db = db;
	l->had_wal = exists(db, "-wal");
	l->had_shm = exists(db, "-shm");
}

/* SQLite removes the -wal and -shm when the last connection to the
 * database closes: it then holds the exclusive lock on the database file,
 * so nothing else (a daemon that started meanwhile, another reader) uses
 * them. A read-only connection cannot take that lock, so a read-write one
 * opens, reads (which opens the log) and closes, after every connection of
 * this command closed. When anything else has the database open, the lock
 * fails and SQLite leaves the files alone; a user who may not write the
 * database gets a read-only connection, which never removes them. */
void leftovers_tidy(const struct leftovers *l)
{
	if (l->had_wal || l->had_shm || (!exists(l->db, "-wal") && !exists(l->db, "-shm")))
		return;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(l->db, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
			    NULL) == SQLITE_OK)
		sqlite3_exec(db, "PRAGMA query_only=1; SELECT count(*) FROM sqlite_master", NULL,
			     NULL, NULL);
	sqlite3_close(db);
}

/* ---- explaining a permission problem ---- */

static void user_name(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	if (pw)
		snprintf(buf, n, "%s", pw->pw_name);
	else
		snprintf(buf, n, "%u", (unsigned)uid);
}

static void group_name(gid_t gid, char *buf, size_t n)
{
	struct group *gr = getgrgid(gid);
	if (gr)
		snprintf(buf, n, "%s", gr->gr_name);
	else
		snprintf(buf, n, "%u", (unsigned)gid);
}

static int denied(struct err *e, const char *db, const char *file, int is_dir)
{
	struct stat st;
	char owner[64] = "?", group[64] = "?", user[64];
	unsigned mode = 0;
	if (stat(file, &st) == 0) {
		user_name(st.st_uid, owner, sizeof(owner));
		group_name(st.st_gid, group, sizeof(group));
		mode = (unsigned)st.st_mode & 07777;
	}
	user_name(geteuid(), user, sizeof(user));
	char why[400];
	if (strcmp(group, "hindsight") == 0)
		snprintf(why, sizeof(why),
			 "members of group hindsight may read it: add the user with 'adduser %s "
			 "hindsight' and log in again",
			 user);
	else
		snprintf(
		    why, sizeof(why),
		    "members of group hindsight may read hindsight's files: hindsightd creates "
		    "them 0640 root:hindsight when that group exists ('adduser %s hindsight', "
		    "then log in again); otherwise run as root",
		    user);
	return err_set(e,
		       "cannot read database %s: permission denied: user %s may not %s %s "
		       "(owner %s, group %s, mode %04o); %s",
		       db, user, is_dir ? "enter the directory" : "read", file, owner, group, mode,
		       why);
}

int dbfiles_explain_access(const char *db, struct err *e)
{
	char path[PATH_MAX + 16];
	size_t n = strlen(db);
	if (n >= PATH_MAX)
		return 0;
	/* The first directory on the way that this user cannot enter. */
	for (size_t i = 1; i < n; i++) {
		if (db[i] != '/' || db[i - 1] == '/')
			continue;
		memcpy(path, db, i);
		path[i] = '\0';
		if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0 && errno == EACCES)
			return denied(e, db, path, 1);
	}
	/* Then the database, and the log and index SQLite reads with it. */
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db, companions[i].suffix);
		if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) != 0 && errno == EACCES)
			return denied(e, db, path, 0);
	}
	return 0;
}
