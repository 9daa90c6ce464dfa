/* The cgroup files' formats (Documentation/admin-guide/cgroup-v2.rst and
 * cgroup-v1/), /proc/PID/cgroup, and the hierarchies under
 * <sys>/fs/cgroup with the cgroup id they give a path. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "collect/cgroup.h"

#define CGROUP_SUPER_MAGIC_V1  0x27e0eb
#define CGROUP2_SUPER_MAGIC_V2 0x63677270

void cgroup_options_default(struct cgroup_options *o)
{
	memset(o, 0, sizeof(*o));
	o->enabled = 1;
	snprintf(o->runtime_root, sizeof(o->runtime_root), "/");
	o->refresh_ms = 60000;
	o->max_cgroups = 20000;
	o->max_open_files = 4096;
}

/* Text that is either empty (a file with nothing to report, such as io.stat
 * of a cgroup that did no I/O) or complete: ends with a newline. */
static int check_empty_or_complete(const char *text, const char *what, struct err *e)
{
	return text[0] ? check_complete(text, what, e) : 0;
}

/* The length of the key starting at p: up to a blank. */
static size_t key_len(const char *p)
{
	size_t n = 0;
	while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '\n')
		n++;
	return n;
}

int cg_parse_keyed(const char *text, const char *what, const char *const *keys, size_t nkeys,
		   uint64_t *out, uint64_t *found, struct err *e)
{
	ASSERT(nkeys <= 64);
	*found = 0;
	if (check_empty_or_complete(text, what, e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		size_t klen = key_len(p);
		char tok[32];
		if (klen == 0)
			return err_set(e, "%s line %d: expected 'key value', got '%s'", what, line,
				       token_preview(p, tok, sizeof(tok)));
		size_t i = 0;
		while (i < nkeys && (strncmp(keys[i], p, klen) || keys[i][klen]))
			i++;
		const char *v = p + klen;
		uint64_t value;
		if (scan_field_u64(&v, &value) || v != eol)
			return err_set(e, "%s line %d (%.*s): expected a number, got '%s'", what,
				       line, (int)(klen < 64 ? klen : 64), p,
				       token_preview(v, tok, sizeof(tok)));
		if (i < nkeys && !(*found & (1ULL << i))) {
			out[i] = value;
			*found |= 1ULL << i;
		}
		p = eol + 1;
	}
	return 0;
}

int cg_parse_value(const char *text, const char *what, uint64_t *out, struct err *e)
{
	char tok[32];
	if (check_complete(text, what, e))
		return -1;
	const char *p = text;
	if (strcmp(p, "max\n") == 0 || strcmp(p, "-1\n") == 0) {
		*out = CG_NO_LIMIT;
		return 0;
	}
	if (scan_field_u64(&p, out) || strcmp(p, "\n") != 0)
		return err_set(e, "%s: expected a number or 'max', got '%s'", what,
			       token_preview(text, tok, sizeof(tok)));
	return 0;
}

int cg_parse_cpu_max(const char *text, const char *what, uint64_t *quota, uint64_t *period,
		     struct err *e)
{
	char tok[32];
	if (check_complete(text, what, e))
		return -1;
	const char *p = text;
	if (strncmp(p, "max ", 4) == 0) {
		*quota = CG_NO_LIMIT;
		p += 3;
	} else if (scan_field_u64(&p, quota)) {
		return err_set(e, "%s: expected a quota or 'max', got '%s'", what,
			       token_preview(text, tok, sizeof(tok)));
	}
	if (scan_field_u64(&p, period) || strcmp(p, "\n") != 0)
		return err_set(e, "%s: expected a period after the quota, got '%s'", what,
			       token_preview(p, tok, sizeof(tok)));
	return 0;
}

/* "8:16" at *p: the device numbers, *p moved past them. */
static int scan_dev(const char **p, uint32_t *major, uint32_t *minor)
{
	uint64_t ma, mi;
	const char *s = *p;
	if (scan_u64(&s, &ma) || *s != ':')
		return -1;
	s++;
	if (!isdigit((unsigned char)*s) || scan_u64(&s, &mi) || ma > UINT32_MAX || mi > UINT32_MAX)
		return -1;
	*major = (uint32_t)ma;
	*minor = (uint32_t)mi;
	*p = s;
	return 0;
}

/* The device's entry in out[], appended (zeroed) when new; NULL when full. */
static struct cg_io *io_dev(struct cg_io *out, size_t max, size_t *n, uint32_t major,
			    uint32_t minor)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i].major == major && out[i].minor == minor)
			return &out[i];
	if (*n >= max)
		return NULL;
	struct cg_io *d = &out[(*n)++];
	memset(d, 0, sizeof(*d));
	d->major = major;
	d->minor = minor;
	return d;
}

int cg_parse_io_stat(const char *text, const char *what, struct cg_io *out, size_t max, size_t *n,
		     struct err *e)
{
	static const char *const keys[CG_IO_N] = {"rbytes", "wbytes", "rios",
						  "wios",   "dbytes", "dios"};
	*n = 0;
	if (check_empty_or_complete(text, what, e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		uint32_t major, minor;
		char tok[32];
		if (scan_dev(&p, &major, &minor))
			return err_set(e, "%s line %d: expected MAJ:MIN, got '%s'", what, line,
				       token_preview(p, tok, sizeof(tok)));
		struct cg_io *d = io_dev(out, max, n, major, minor);
		while (p < eol) {
			while (*p == ' ')
				p++;
			if (p >= eol)
				break;
			const char *eq = memchr(p, '=', (size_t)(eol - p));
			const char *sp = memchr(p, ' ', (size_t)(eol - p));
			if (!eq || (sp && sp < eq))
				return err_set(e, "%s line %d: expected key=value, got '%s'", what,
					       line, token_preview(p, tok, sizeof(tok)));
			size_t klen = (size_t)(eq - p), k = 0;
			while (k < CG_IO_N && (strncmp(keys[k], p, klen) || keys[k][klen]))
				k++;
			const char *v = eq + 1;
			if (k == CG_IO_N) { /* cost.*, wait time and the like */
				p = sp ? sp : eol;
				continue;
			}
			uint64_t value;
			if (scan_field_u64(&v, &value))
				return err_set(e, "%s line %d: %.*s: expected a number, got '%s'",
					       what, line, (int)klen, p,
					       token_preview(v, tok, sizeof(tok)));
			if (d) {
				d->v[k] = value;
				d->known |= (uint8_t)(1u << k);
			}
			p = v;
		}
		p = eol + 1;
	}
	return 0;
}

int cg_parse_blkio(const char *text, const char *what, int ios, struct cg_io *out, size_t max,
		   size_t *n, struct err *e)
{
	static const char *const ops[] = {"Read", "Write", "Discard"};
	static const int slot[2][3] = {{CG_IO_RBYTES, CG_IO_WBYTES, CG_IO_DBYTES},
				       {CG_IO_RIOS, CG_IO_WIOS, CG_IO_DIOS}};
	if (check_complete(text, what, e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		char tok[32], op[16];
		uint64_t value;
		uint32_t major, minor;
		if (strncmp(p, "Total ", 6) == 0) { /* the sum over devices */
			const char *v = p + 6;
			if (scan_field_u64(&v, &value) || v != eol)
				return err_set(e, "%s line %d: bad Total, got '%s'", what, line,
					       token_preview(p, tok, sizeof(tok)));
			p = eol + 1;
			continue;
		}
		if (scan_dev(&p, &major, &minor) || *p != ' ')
			return err_set(e, "%s line %d: expected MAJ:MIN, got '%s'", what, line,
				       token_preview(p, tok, sizeof(tok)));
		scan_token(&p, op, sizeof(op));
		if (scan_field_u64(&p, &value) || p != eol)
			return err_set(e, "%s line %d: expected '<op> <number>', got '%s'", what,
				       line, token_preview(p, tok, sizeof(tok)));
		for (int k = 0; k < 3; k++)
			if (strcmp(op, ops[k]) == 0) {
				struct cg_io *d = io_dev(out, max, n, major, minor);
				if (d) {
					d->v[slot[ios][k]] = value;
					d->known |= (uint8_t)(1u << slot[ios][k]);
				}
			}
		p = eol + 1;
	}
	return 0;
}

int cg_parse_proc_cgroup(const char *text, struct cg_proc_line *out, size_t max, size_t *n,
			 struct err *e)
{
	*n = 0;
	if (check_complete(text, "/proc/PID/cgroup", e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		const char *c1 = memchr(p, ':', (size_t)(eol - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
		const char *s = p;
		uint64_t id;
		char tok[32];
		if (!c2 || scan_u64(&s, &id) || s != c1 || id > 1000000 || c2 + 1 == eol ||
		    c2[1] != '/')
			return err_set(e,
				       "/proc/PID/cgroup line %d: expected ID:CONTROLLERS:/PATH, "
				       "got '%s'",
				       line, token_preview(p, tok, sizeof(tok)));
		if (*n < max) {
			struct cg_proc_line *l = &out[(*n)++];
			l->hier_id = (long)id;
			l->controllers = c1 + 1;
			l->clen = (size_t)(c2 - c1 - 1);
			l->path = c2 + 1;
			l->plen = (size_t)(eol - c2 - 1);
		}
		p = eol + 1;
	}
	return 0;
}

/* ---- the hierarchies ---- */

/* The controllers a v1 hierarchy directory's name lists ("cpu,cpuacct"). */
static unsigned v1_controllers(const char *name, size_t len)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = {{"cpu", CG_CPU},
		     {"cpuacct", CG_CPUACCT},
		     {"memory", CG_MEMORY},
		     {"blkio", CG_IO},
		     {"pids", CG_PIDS}};
	unsigned ctrl = 0;
	for (const char *p = name; p < name + len;) {
		const char *comma = memchr(p, ',', (size_t)(name + len - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(name + len - p);
		for (size_t i = 0; i < ARRAY_LEN(known); i++)
			if (strlen(known[i].name) == n && strncmp(known[i].name, p, n) == 0)
				ctrl |= known[i].bit;
		p += n + 1;
	}
	return ctrl;
}

static int first_bit(unsigned v)
{
	int i = 0;
	while (v && !(v & 1u)) {
		v >>= 1;
		i++;
	}
	return i;
}

static int is_cgroupfs(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 &&
	       (fs.f_type == CGROUP_SUPER_MAGIC_V1 || fs.f_type == CGROUP2_SUPER_MAGIC_V2);
}

static int add_hier(struct cg_hiers *hs, int fd, int v2, unsigned ctrl, const char *name)
{
	if (hs->n == CG_MAX_HIERS || (v2 && hs->v2 >= 0)) {
		close(fd);
		return 0;
	}
	struct cg_hier *h = &hs->h[hs->n++];
	h->fd = fd;
	h->v2 = v2;
	h->ctrl = ctrl;
	h->num = v2 ? 0 : first_bit(ctrl) + 1;
	h->cgroupfs = is_cgroupfs(fd);
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (v2)
		hs->v2 = (int)hs->n - 1;
	return 0;
}

/* Keeps cgroup2 first and the v1 hierarchies in their controllers' order,
 * so ids and the choice of a source never depend on readdir's order. */
static void sort_hiers(struct cg_hiers *hs)
{
	for (size_t i = 1; i < hs->n; i++)
		for (size_t j = i; j > 0; j--) {
			struct cg_hier *a = &hs->h[j - 1], *b = &hs->h[j];
			int ka = a->v2 ? -1 : a->num, kb = b->v2 ? -1 : b->num;
			if (ka <= kb)
				break;
			struct cg_hier t = *a;
			*a = *b;
			*b = t;
		}
	for (size_t i = 0; i < hs->n; i++)
		if (hs->h[i].v2)
			hs->v2 = (int)i;
}

int cg_hiers_open(struct cg_hiers *hs, int sys_fd, struct err *e)
{
	memset(hs, 0, sizeof(*hs));
	hs->v2 = -1;
	int root = openat(sys_fd, "fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return 0;
	if (faccessat(root, "cgroup.controllers", F_OK, 0) == 0)
		return add_hier(hs, root, 1, CG_CPU | CG_CPUACCT | CG_MEMORY | CG_IO | CG_PIDS, "");
	int dfd = dup(root);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		close(root);
		return err_set(e, "fs/cgroup: %s", strerror(errno));
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(root, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode))
			continue;
		int fd = openat(root, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (faccessat(fd, "cgroup.controllers", F_OK, 0) == 0) {
			add_hier(hs, fd, 1, CG_CPU | CG_CPUACCT | CG_MEMORY | CG_IO | CG_PIDS,
				 de->d_name);
			continue;
		}
		unsigned ctrl = v1_controllers(de->d_name, strlen(de->d_name));
		if (ctrl && faccessat(fd, "cgroup.procs", F_OK, 0) == 0)
			add_hier(hs, fd, 0, ctrl, de->d_name);
		else
			close(fd);
	}
	closedir(d);
	close(root);
	sort_hiers(hs);
	return 0;
}

void cg_hiers_close(struct cg_hiers *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		if (hs->h[i].fd >= 0)
			close(hs->h[i].fd);
	hs->n = 0;
	hs->v2 = -1;
}

/* The path relative to a hierarchy's root: "." for "/". */
static const char *rel_path(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int64_t cg_identity(const struct cg_hiers *hs, const char *path, int64_t *mtime_s)
{
	for (size_t i = 0; i < hs->n; i++) {
		struct stat st;
		if (fstatat(hs->h[i].fd, rel_path(path), &st, 0) || !S_ISDIR(st.st_mode))
			continue;
		if (mtime_s)
			*mtime_s = (int64_t)st.st_mtime;
		if (hs->h[i].v2)
			return (int64_t)st.st_ino;
		return CG_V1_ID(hs->h[i].num, st.st_ino);
	}
	return 0;
}

/* Whether a /proc/PID/cgroup line's controllers are a hierarchy's. */
static int same_controllers(const struct cg_proc_line *l, const struct cg_hier *h)
{
	return l->clen && v1_controllers(l->controllers, l->clen) == h->ctrl;
}

int64_t cg_proc_cgroup_id(const struct cg_hiers *hs, const char *text)
{
	struct cg_proc_line lines[CG_PROC_LINES_MAX];
	size_t n;
	struct err e;
	char path[PATH_MAX];
	if (!hs->n || cg_parse_proc_cgroup(text, lines, CG_PROC_LINES_MAX, &n, &e))
		return 0;
	for (size_t h = 0; h < hs->n; h++)
		for (size_t i = 0; i < n; i++) {
			const struct cg_proc_line *l = &lines[i];
			int match = hs->h[h].v2 ? l->hier_id == 0 && l->clen == 0
						: same_controllers(l, &hs->h[h]);
			if (!match || l->plen >= sizeof(path))
				continue;
			memcpy(path, l->path, l->plen);
			path[l->plen] = '\0';
			struct stat st;
			if (fstatat(hs->h[h].fd, rel_path(path), &st, 0) || !S_ISDIR(st.st_mode))
				return 0;
			return hs->h[h].v2 ? (int64_t)st.st_ino : cg_identity(hs, path, NULL);
		}
	return 0;
}
