/* Filesystems: the mounts of the configured proc root's mount namespace and
 * statvfs of each real filesystem, i.e. df history. Tables: filesystem_mount,
 * filesystem. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/fs.h"

/* Cuts the next space-separated field in place and returns it; NULL at the
 * end of the line. */
static char *cut_field(char **p, char *eol)
{
	char *s = *p;
	while (s < eol && *s == ' ')
		s++;
	if (s >= eol)
		return NULL;
	char *end = s;
	while (end < eol && *end != ' ')
		end++;
	*end = '\0';
	*p = end < eol ? end + 1 : eol;
	return s;
}

/* The kernel escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int parse_mount_line(char *p, char *eol, struct mount *m, int line, struct err *e)
{
	char *f[6];
	for (int i = 0; i < 6; i++)
		if (!(f[i] = cut_field(&p, eol)))
			return err_set(e, "mountinfo line %d: %d fields, expected at least 10",
				       line, i);
	unsigned mj, mn;
	char tail;
	if (sscanf(f[2], "%u:%u%c", &mj, &mn, &tail) != 2)
		return err_set(e, "mountinfo line %d: bad major:minor '%.32s'", line, f[2]);
	char *sep;
	while ((sep = cut_field(&p, eol)) && strcmp(sep, "-") != 0)
		; /* optional fields (shared:N, master:N) up to the "-" */
	char *fstype = sep ? cut_field(&p, eol) : NULL;
	char *source = fstype ? cut_field(&p, eol) : NULL;
	if (!source)
		return err_set(e, "mountinfo line %d: no '- fstype source' after the options",
			       line);
	unescape(f[3]);
	unescape(f[4]);
	unescape(source);
	*m = (struct mount){mj, mn, f[3], f[4], fstype, source};
	return 0;
}

int mountinfo_parse(char *text, struct mountinfo *out, struct err *e)
{
	out->n = 0;
	if (check_complete(text, "mountinfo", e))
		return -1;
	char *p = text;
	for (int line = 1; *p; line++) {
		char *eol = strchr(p, '\n');
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 32;
			struct mount *m = realloc(out->m, cap * sizeof(*m));
			if (!m)
				return err_set(e, "out of memory");
			out->m = m;
			out->cap = cap;
		}
		*eol = '\0';
		if (parse_mount_line(p, eol, &out->m[out->n], line, e))
			return -1;
		out->n++;
		p = eol + 1;
	}
	return 0;
}

void mountinfo_free(struct mountinfo *mi)
{
	free(mi->m);
	mi->m = NULL;
	mi->n = mi->cap = 0;
}

int fs_is_pseudo(const char *fstype)
{
	/* Kernel-internal and virtual filesystems. tmpfs and devtmpfs stay:
	 * they hold real memory and df shows them. */
	static const char *const pseudo[] = {"proc",
					     "sysfs",
					     "cgroup",
					     "cgroup2",
					     "devpts",
					     "mqueue",
					     "debugfs",
					     "tracefs",
					     "securityfs",
					     "pstore",
					     "bpf",
					     "configfs",
					     "fusectl",
					     "autofs",
					     "binfmt_misc",
					     "hugetlbfs",
					     "rpc_pipefs",
					     "nsfs",
					     "efivarfs",
					     "selinuxfs",
					     "rootfs",
					     "ramfs",
					     "overlayfs_internal"};
	for (size_t i = 0; i < ARRAY_LEN(pseudo); i++)
		if (strcmp(fstype, pseudo[i]) == 0)
			return 1;
	return 0;
}

/* 1 when a later mount on the same mount point hides mount i. */
static int shadowed(const struct mountinfo *mi, size_t i)
{
	for (size_t j = i + 1; j < mi->n; j++)
		if (strcmp(mi->m[j].mountpoint, mi->m[i].mountpoint) == 0)
			return 1;
	return 0;
}

void mountinfo_select(const struct mountinfo *mi, unsigned char *keep)
{
	for (size_t i = 0; i < mi->n; i++) {
		const struct mount *m = &mi->m[i];
		/* A statvfs of the path measures what is visible there: the last
		 * mount on it. The ones below it are out of reach. */
		keep[i] = !fs_is_pseudo(m->fstype) && !shadowed(mi, i);
		if (!keep[i])
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct mount *o = &mi->m[j];
			if (!keep[j] || o->major != m->major || o->minor != m->minor)
				continue;
			/* Same device twice: keep the mount of its root. */
			if (strcmp(o->root, "/") != 0 && strcmp(m->root, "/") == 0)
				keep[j] = 0;
			else
				keep[i] = 0;
			break;
		}
	}
}

/* ---- collector ---- */

struct fs_state {
	int proc_fd;
	const char *pid; /* "1" or "self": whose mounts, and whose root to measure through */
	int watch_fd;	 /* mountinfo, polled: the kernel flags it when mounts change */
	struct buf buf;
	struct mountinfo mi;
	unsigned char *keep;
	int64_t *ids;
	size_t nids;
	int parsed;
	uint64_t rollbacks_seen;
	struct dim names;
	sqlite3_stmt *ins, *set_info;
};

/* Which process's view to take. In a container with the host's /proc at
 * HOST_PROC, "self" would be the container's own mounts: PID 1's mount
 * namespace is the host's, and /proc/1/root reaches its filesystems. When
 * PID 1 is out of reach (no CAP_SYS_PTRACE, or a hardened /proc), fall back
 * to this process's own view. */
static const char *pick_pid(int proc_fd)
{
	int fd = openat(proc_fd, "1/root/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && faccessat(proc_fd, "1/mountinfo", R_OK, 0) == 0) {
		close(fd);
		return "1";
	}
	if (fd >= 0)
		close(fd);
	log_info("fs: /proc/1/root not reachable (%s); measuring this process's mounts",
		 strerror(errno));
	return "self";
}

static int fs_open(void **state, const struct collector_env *env, const void *options,
		   struct err *e)
{
	struct store *st = env->store;
	struct fs_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->pid = pick_pid(env->proc_fd);
	char path[32];
	snprintf(path, sizeof(path), "%s/mountinfo", s->pid);
	s->watch_fd = source_open(s->proc_fd, path, SOURCE_MAX_TABLE);
	if (dim_init(&s->names, st, "filesystem_mount", e))
		return -1;
	s->ins = store_prepare(st,
			       "INSERT INTO filesystem(ts, mount_id, size_kb, free_kb, avail_kb, "
			       "inodes_count, inodes_free_count) VALUES (?,?,?,?,?,?,?)",
			       e);
	s->set_info =
	    store_prepare(st, "UPDATE filesystem_mount SET fstype=?2, source=?3 WHERE id=?1", e);
	return s->ins && s->set_info ? 0 : -1;
}

/* Re-reads mountinfo only when the kernel flagged a change (POLLPRI) or no
 * list was parsed yet: with hundreds of container mounts it is the costly
 * part, and mounts rarely change. */
static int fs_refresh(struct fs_state *s, struct tick *t)
{
	struct pollfd pfd = {.fd = s->watch_fd, .events = POLLPRI};
	if (s->parsed && s->watch_fd >= 0 && poll(&pfd, 1, 0) == 0)
		return 0;
	char path[32];
	struct err perr;
	snprintf(path, sizeof(path), "%s/mountinfo", s->pid);
	/* The old list points into the buffer about to be overwritten, and a
	 * failed parse leaves a partial one: either way there is no list until
	 * this one is complete (keep and ids are sized for it). */
	s->parsed = 0;
	s->mi.n = 0;
	int rc = buf_read_file(&s->buf, s->proc_fd, path, SOURCE_MAX_TABLE);
	if (rc < 0) {
		tick_errors_count_read(t->errors, rc);
		return -1;
	}
	if (mountinfo_parse(s->buf.data, &s->mi, &perr)) {
		s->mi.n = 0;
		t->errors->parse++;
		log_debug("%s/%s", path, perr.msg);
		return -1;
	}
	free(s->keep);
	free(s->ids);
	s->keep = malloc(s->mi.n + 1);
	s->ids = malloc((s->mi.n + 1) * sizeof(*s->ids));
	if (!s->keep || !s->ids) {
		s->mi.n = 0;
		return -1;
	}
	mountinfo_select(&s->mi, s->keep);
	for (size_t i = 0; i < s->mi.n; i++)
		s->ids[i] = -1;
	if (s->watch_fd >= 0)
		(void)lseek(s->watch_fd, 0, SEEK_SET); /* re-arms the change flag */
	s->parsed = 1;
	return 0;
}

static int64_t mount_id(struct fs_state *s, struct tick *t, const struct mount *m, struct err *e)
{
	int64_t id = dim_id(&s->names, m->mountpoint, e);
	if (id < 0)
		return -1;
	sqlite3_bind_int64(s->set_info, 1, id);
	sqlite3_bind_text(s->set_info, 2, m->fstype, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->set_info, 3, m->source, -1, SQLITE_STATIC);
	return store_exec_stmt(t->store, s->set_info, e) ? -1 : id;
}

static int measure(struct fs_state *s, const struct mount *m, struct statvfs *sv)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/root%s", s->pid, m->mountpoint);
	/* O_PATH: no open of the file itself, so no automount and no device
	 * open; fstatvfs works on it. */
	int fd = openat(s->proc_fd, path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fstatvfs(fd, sv) ? -errno : 0;
	close(fd);
	return rc;
}

static int fs_sample(void *state, struct tick *t, struct err *e)
{
	struct fs_state *s = state;
	if (t->store->rollbacks != s->rollbacks_seen) {
		s->rollbacks_seen = t->store->rollbacks;
		for (size_t i = 0; i < s->mi.n; i++)
			s->ids[i] = -1;
	}
	if (fs_refresh(s, t))
		return 0;
	for (size_t i = 0; i < s->mi.n; i++) {
		const struct mount *m = &s->mi.m[i];
		struct statvfs sv;
		if (!s->keep[i])
			continue;
		int rc = measure(s, m, &sv);
		if (rc < 0) {
			tick_errors_count_read(t->errors, rc);
			continue;
		}
		if (sv.f_blocks == 0)
			continue; /* nothing to measure, as df leaves it out */
		if (s->ids[i] < 0 && (s->ids[i] = mount_id(s, t, m, e)) < 0)
			return -1;
		uint64_t v[] = {sv.f_blocks * sv.f_frsize / 1024, sv.f_bfree * sv.f_frsize / 1024,
				sv.f_bavail * sv.f_frsize / 1024, sv.f_files, sv.f_ffree};
		sqlite3_bind_int64(s->ins, 1, t->ts);
		sqlite3_bind_int64(s->ins, 2, s->ids[i]);
		bind_u64s(s->ins, 3, v, (int)ARRAY_LEN(v));
		t->rows++;
		if (store_exec_stmt(t->store, s->ins, e))
			return -1;
	}
	return 0;
}

static void fs_close(void *state)
{
	struct fs_state *s = state;
	if (!s)
		return;
	if (s->watch_fd >= 0)
		close(s->watch_fd);
	mountinfo_free(&s->mi);
	free(s->keep);
	free(s->ids);
	buf_free(&s->buf);
	dim_free(&s->names);
	free(s);
}

const struct collector_ops collector_fs = {
    .name = "fs",
    .open = fs_open,
    .sample = fs_sample,
    .close = fs_close,
};
