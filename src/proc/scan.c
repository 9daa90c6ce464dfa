/* The process scanner: a table of processes keyed by pid, checked against
 * (pid, start time), updated by reading only what can have changed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "proc/scan.h"

/* Flags that describe the process rather than this scan's reading. */
#define PF_KEEP                                                                                    \
	(PF_IO_DENIED | PF_HAVE_IO | PF_HAVE_FDS | PF_KTHREAD | PF_FD_DENIED | PF_KFD_STAT |       \
	 PF_EXITED | PF_UNCOUNTED)

/* ---- the table ---- */

static uint32_t pid_hash(int32_t pid, uint32_t nslots)
{
	return ((uint32_t)pid * 2654435761u) & (nslots - 1);
}

static uint32_t *slot_of(struct proc_scan *s, int32_t pid)
{
	uint32_t i = pid_hash(pid, s->nslots);
	while (s->slots[i] && s->ent[s->slots[i] - 1].pid != pid)
		i = (i + 1) & (s->nslots - 1);
	return &s->slots[i];
}

struct proc_entry *proc_scan_find(struct proc_scan *s, int32_t pid)
{
	uint32_t v = *slot_of(s, pid);
	return v ? &s->ent[v - 1] : NULL;
}

static int table_rehash(struct proc_scan *s, uint32_t nslots)
{
	ASSERT(nslots && (nslots & (nslots - 1)) == 0); /* slot_of masks with nslots - 1 */
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -1;
	free(s->slots);
	s->slots = slots;
	s->nslots = nslots;
	for (uint32_t i = 0; i < s->nent; i++)
		*slot_of(s, s->ent[i].pid) = i + 1;
	return 0;
}

static struct proc_entry *table_add(struct proc_scan *s, int32_t pid)
{
	if (s->nent == s->capent) {
		uint32_t cap = s->capent ? s->capent * 2 : 256;
		struct proc_entry *p = realloc(s->ent, cap * sizeof(*p));
		if (!p)
			return NULL;
		s->ent = p;
		s->capent = cap;
	}
	if ((s->nent + 1) * 2 > s->nslots && table_rehash(s, s->nslots * 2))
		return NULL;
	struct proc_entry *p = &s->ent[s->nent++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->group = -1;
	p->fd_limit = UINT64_MAX;
	p->kfd = -1;
	*slot_of(s, pid) = s->nent;
	return p;
}

/* Removes the entry at index i: backward-shift deletion in the slots keeps
 * probe chains intact without tombstones; the last entry fills the hole. */
static void drop_fd(struct proc_scan *s, struct proc_entry *p);

static void table_remove(struct proc_scan *s, uint32_t i)
{
	ASSERT(i < s->nent);
	drop_fd(s, &s->ent[i]);
	uint32_t hole = (uint32_t)(slot_of(s, s->ent[i].pid) - s->slots);
	s->slots[hole] = 0;
	for (uint32_t j = (hole + 1) & (s->nslots - 1); s->slots[j];
	     j = (j + 1) & (s->nslots - 1)) {
		uint32_t home = pid_hash(s->ent[s->slots[j] - 1].pid, s->nslots);
		/* move j into the hole when its home is not in (hole, j] */
		if ((j > hole && (home <= hole || home > j)) ||
		    (j < hole && home <= hole && home > j)) {
			s->slots[hole] = s->slots[j];
			s->slots[j] = 0;
			hole = j;
		}
	}
	uint32_t last = s->nent - 1;
	if (i != last) {
		s->ent[i] = s->ent[last];
		*slot_of(s, s->ent[i].pid) = i + 1;
	}
	s->nent--;
}

static int push_gone(struct proc_scan *s, const struct proc_entry *p)
{
	if (s->ngone == s->capgone) {
		uint32_t cap = s->capgone ? s->capgone * 2 : 64;
		struct proc_entry *g = realloc(s->gone, cap * sizeof(*g));
		if (!g)
			return -1;
		s->gone = g;
		s->capgone = cap;
	}
	s->gone[s->ngone] = *p;
	s->gone[s->ngone++].kfd = -1; /* the table entry owns it */
	return 0;
}

/* ---- reading ---- */

/* The whole file behind fd, from offset 0, into s->buf. /proc's small files
 * come whole in one read when the buffer is big enough; read on only when
 * it came back full. Offset 0 makes a kept descriptor read fresh text. A
 * file past the cap of a /proc/PID file is refused (-EFBIG) and the buffer
 * never grows beyond that cap. */
static int read_fd(struct proc_scan *s, int fd)
{
	const size_t limit = SOURCE_MAX_SMALL + 2; /* one byte past the cap, and the NUL */
	if (s->buf.cap < 4096) {
		buf_free(&s->buf);
		if (!(s->buf.data = malloc(4096)))
			return -ENOMEM;
		s->buf.cap = 4096;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = pread(fd, s->buf.data + len, s->buf.cap - len - 1, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
		if (len > SOURCE_MAX_SMALL)
			return -EFBIG;
		if (n == 0 || len < s->buf.cap - 1)
			break;
		size_t cap = s->buf.cap * 2 < limit ? s->buf.cap * 2 : limit;
		char *p = realloc(s->buf.data, cap);
		if (!p)
			return -ENOMEM;
		s->buf.data = p;
		s->buf.cap = cap;
	}
	s->buf.data[len] = '\0';
	s->buf.len = len;
	return 0;
}

static void pid_path(char *out, size_t n, int32_t pid, const char *name)
{
	snprintf(out, n, "%d/%s", pid, name);
}

/* /proc/PID/<name>, opened without blocking and only as a regular file. */
static int open_pid_file(struct proc_scan *s, int32_t pid, const char *name)
{
	char path[64];
	pid_path(path, sizeof(path), pid, name);
	return source_open(s->proc_fd, path, SOURCE_MAX_SMALL);
}

/* read_fd of /proc/PID/<name>, logging (once) a file past the cap. */
static int read_pid_fd(struct proc_scan *s, int fd, int32_t pid, const char *name)
{
	int rc = read_fd(s, fd);
	if (rc == -EFBIG) {
		char path[64];
		pid_path(path, sizeof(path), pid, name);
		source_log_refused(s->proc_fd, path, rc, SOURCE_MAX_SMALL);
	}
	return rc;
}

int proc_read(struct proc_scan *s, int32_t pid, const char *name)
{
	int fd = open_pid_file(s, pid, name);
	if (fd < 0)
		return fd;
	int rc = read_pid_fd(s, fd, pid, name);
	close(fd);
	return rc;
}

static void drop_fd(struct proc_scan *s, struct proc_entry *p)
{
	if (p->kfd < 0)
		return;
	close(p->kfd);
	p->kfd = -1;
	p->flags &= ~(uint32_t)PF_KFD_STAT;
	s->nfds--;
}

/* A descriptor opened by path that the process may keep. */
struct kept {
	int fd;
	int is_stat;
};

/* The file read every tick is kept open on procfs: one pread instead of a
 * path walk, open, read and close. That is schedstat for a single-threaded
 * process, stat for a multi-threaded one. A kept descriptor of a process
 * that exited fails with ESRCH (its pid may belong to a new process by now,
 * which is then opened by path). A descriptor opened here that may be kept
 * is returned in *keep. */
static int read_kept(struct proc_scan *s, struct proc_entry *p, int32_t pid, int want_stat,
		     struct kept *keep)
{
	const char *name = want_stat ? "stat" : "schedstat";
	if (p && p->kfd >= 0) {
		if (!!(p->flags & PF_KFD_STAT) == want_stat && read_fd(s, p->kfd) == 0)
			return 0;
		drop_fd(s, p);
	}
	int fd = open_pid_file(s, pid, name);
	if (fd < 0)
		return fd;
	int rc = read_pid_fd(s, fd, pid, name);
	if (rc == 0 && keep->fd < 0 && s->nfds < s->fd_budget) {
		keep->fd = fd;
		keep->is_stat = want_stat;
		s->nfds++;
	} else {
		close(fd);
	}
	return rc;
}

int proc_read_cmdline(struct proc_scan *s, int32_t pid, char *out, size_t n)
{
	int fd = open_pid_file(s, pid, "cmdline");
	if (fd < 0)
		return fd;
	ssize_t len = read(fd, out, n - 1); /* bounded: only the first n - 1 bytes count */
	int rc = len < 0 ? -errno : (int)len;
	close(fd);
	out[len > 0 ? len : 0] = '\0';
	return rc;
}

/* Counts the entries of /proc/PID/fd without reading each link. */
static int count_fds(struct proc_scan *s, int32_t pid, uint64_t *out)
{
	char path[64], dents[4096];
	snprintf(path, sizeof(path), "%d/fd", pid);
	int fd = openat(s->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t count = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, dents, sizeof(dents));
		if (n < 0) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(dents + off);
			if (d->d_name[0] != '.')
				count++;
			off += d->d_reclen;
		}
	}
	close(fd);
	*out = count;
	return 0;
}

/* Counts a failed read: vanished, permission or other. */
static void count_err(struct tick_errors *te, int rc)
{
	if (te)
		tick_errors_count_read(te, rc);
}

static void count_parse(struct tick_errors *te, int32_t pid, const char *msg)
{
	if (te)
		te->parse++;
	log_debug("/proc/%d/%s", pid, msg);
}

/* A counter's growth; a per-process counter only goes backwards when what it
 * sums lost a part (a thread exited), which is no usage: 0, never a wrap. */
static uint64_t grow(uint64_t prev, uint64_t cur)
{
	return cur > prev ? cur - prev : 0;
}

static void take_deltas(struct proc_entry *p, const struct proc_counters *now, int whole)
{
	const uint64_t *a = (const uint64_t *)&p->last, *b = (const uint64_t *)now;
	uint64_t *d = (uint64_t *)&p->delta;
	for (int i = 0; i < PROC_NCOUNTERS; i++)
		d[i] = whole ? b[i] : grow(a[i], b[i]);
	p->last = *now;
}

/* Records this scan's growth of the waited-for children's CPU; what of it
 * the tracked children explain is settled in settle_reaped. */
static void take_children(struct proc_entry *p, const struct pid_stat *st, int whole)
{
	p->reaped_utime = whole ? st->cutime : grow(p->cutime, st->cutime);
	p->reaped_stime = whole ? st->cstime : grow(p->cstime, st->cstime);
	p->cutime = st->cutime;
	p->cstime = st->cstime;
}

/* Keeps of g what c does not cover, using the older credit first; the
 * credit left over from the previous scan is dropped, the new one carried. */
static void settle(uint64_t *growth, uint64_t *carry, uint64_t *credit)
{
	uint64_t used_carry = *growth < *carry ? *growth : *carry;
	*growth -= used_carry;
	uint64_t used_credit = *growth < *credit ? *growth : *credit;
	*growth -= used_credit;
	*carry = *credit - used_credit;
	*credit = 0;
}

/* The children's CPU not seen elsewhere: a parent's cutime/cstime grow by a
 * reaped child's whole totals, and a tracked child's totals at its last
 * reading are already counted (or were before the daemon started). A
 * vanished child's credit may be booked a scan before or after the parent's
 * growth shows, so an unmatched credit is carried once, then dropped (a
 * parent that does not wait for its children never grows cutime). */
static void settle_reaped(struct proc_scan *s)
{
	for (uint32_t i = 0; i < s->nent; i++) {
		struct proc_entry *p = &s->ent[i];
		settle(&p->reaped_utime, &p->carry_utime, &p->credit_utime);
		settle(&p->reaped_stime, &p->carry_stime, &p->credit_stime);
	}
}

static int stat_unchanged(const struct proc_entry *p, const struct pid_stat *st, long page_kb)
{
	return st->utime == p->last.utime && st->stime == p->last.stime &&
	       st->minflt == p->last.minflt && st->majflt == p->last.majflt &&
	       st->num_threads == p->threads && st->rss_pages * (uint64_t)page_kb == p->rss_kb &&
	       st->vsize / 1024 == p->vsize_kb && st->state == p->state &&
	       st->cutime == p->cutime && st->cstime == p->cstime;
}

/* status, io, fds and (at first sight or refresh) limits. A permission error
 * leaves the cached value and is counted; it never stops the reading. */
static void read_rest(struct proc_scan *s, struct proc_entry *p, struct proc_counters *now,
		      int refresh, struct tick_errors *te)
{
	struct err e;
	int rc;
	if ((rc = proc_read(s, p->pid, "status")) < 0) {
		count_err(te, rc);
	} else {
		struct pid_status ps;
		if (pid_status_parse(s->buf.data, &ps, &e)) {
			count_parse(te, p->pid, e.msg);
		} else {
			p->uid = ps.euid;
			p->swap_kb = ps.swap_kb;
			now->vcsw = ps.voluntary_ctxsw;
			now->ivcsw = ps.nonvoluntary_ctxsw;
		}
	}
	if (!(p->flags & PF_IO_DENIED) || refresh) {
		if ((rc = proc_read(s, p->pid, "io")) < 0) {
			count_err(te, rc);
			if (rc == -EACCES || rc == -EPERM)
				p->flags |= PF_IO_DENIED;
		} else {
			struct pid_io io = {0};
			if (pid_io_parse(s->buf.data, &io, &e)) {
				count_parse(te, p->pid, e.msg);
			} else {
				p->flags = (p->flags & ~(uint32_t)PF_IO_DENIED) | PF_HAVE_IO;
				now->read_bytes = io.read_bytes;
				now->write_bytes = io.write_bytes;
			}
		}
	}
	uint64_t n;
	if (!(p->flags & PF_FD_DENIED) || refresh) {
		if ((rc = count_fds(s, p->pid, &n)) < 0) {
			count_err(te, rc);
			if (rc == -EACCES || rc == -EPERM)
				p->flags |= PF_FD_DENIED;
		} else {
			p->fds = n;
			p->flags = (p->flags & ~(uint32_t)PF_FD_DENIED) | PF_HAVE_FDS;
		}
	}
	if (s->opt.pss) {
		if ((rc = proc_read(s, p->pid, "smaps_rollup")) < 0)
			count_err(te, rc);
		else if (pid_smaps_pss(s->buf.data, &n, &e))
			count_parse(te, p->pid, e.msg);
		else
			p->pss_kb = n;
	}
	if (refresh) {
		if ((rc = proc_read(s, p->pid, "limits")) < 0)
			count_err(te, rc);
		else if (pid_limits_nofile(s->buf.data, &n, &e))
			count_parse(te, p->pid, e.msg);
		else
			p->fd_limit = n;
	}
}

/* Whether this scan is the pid's turn for a full reading. */
static int refresh_due(const struct proc_scan *s, int32_t pid)
{
	return s->opt.refresh && ((uint32_t)pid + s->gen) % s->opt.refresh == 0;
}

/* Takes a reading of p: its deltas against the last one, then the new
 * values. is_new: first seen in this scan; refresh: read everything. */
static void update_entry(struct proc_scan *s, struct proc_entry *p, const struct pid_stat *st,
			 const struct pid_schedstat *ss, int ss_missing, int is_new, int refresh,
			 struct tick_errors *te)
{
	/* Counted whole: a process started since the daemon started, first seen
	 * after the baseline scan. Anything older counts only its growth. */
	int whole = is_new && s->scans > 0 && st->starttime > s->opt.start_ticks;
	struct proc_counters now = p->last;
	now.utime = st->utime;
	now.stime = st->stime;
	now.minflt = st->minflt;
	now.majflt = st->majflt;
	if (!is_new && !refresh && stat_unchanged(p, st, s->page_kb)) {
		/* sleeping threads only: what status/io/fd hold did not change */
		s->st.skipped++;
	} else {
		read_rest(s, p, &now, is_new || refresh, te);
		s->st.full++;
	}
	if (is_new) {
		p->start_ticks = st->starttime;
		p->flags = PF_NEW | (p->flags & PF_KEEP & ~(uint32_t)(PF_EXITED | PF_UNCOUNTED));
		if (!whole)
			p->last = now;
	} else {
		p->flags &= PF_KEEP;
		if (strcmp(p->comm, st->comm))
			p->flags |= PF_COMM_CHANGED;
	}
	take_deltas(p, &now, whole);
	if (is_new && !whole) {
		p->cutime = st->cutime;
		p->cstime = st->cstime;
	}
	take_children(p, st, whole);
	memcpy(p->comm, st->comm, sizeof(p->comm));
	p->ppid = st->ppid;
	p->state = st->state;
	p->threads = st->num_threads;
	p->rss_kb = st->rss_pages * (uint64_t)s->page_kb;
	p->vsize_kb = st->vsize / 1024;
	if (ss) {
		p->run_ns = ss->run_ns;
		p->timeslices = ss->timeslices;
	}
	p->flags |= PF_READ | (st->num_threads > 1 || ss_missing ? PF_MULTI : 0) |
		    (st->flags & PROC_PF_KTHREAD ? PF_KTHREAD : 0);
}

/* A known process whose stat could not be read or parsed this time is kept
 * as it was, with nothing counted: dropping it would count it again, whole,
 * when it is next read. Returns 0 when it is kept. */
static int keep_unread(struct proc_scan *s, struct proc_entry *p)
{
	if (!p)
		return -1;
	p->gen = s->gen;
	p->flags &= PF_KEEP | PF_MULTI;
	memset(&p->delta, 0, sizeof(p->delta));
	p->reaped_utime = p->reaped_stime = 0;
	return 0;
}

/* The stat text of pid in s->buf: kept open for a multi-threaded process
 * (schedstat shows only its main thread, stat sums them all), else read
 * after schedstat said the process ran. Returns 1 when the process is
 * unchanged and skipped, 0 to read on, or a negative errno. */
static int read_stat_or_skip(struct proc_scan *s, struct proc_entry *p, int32_t pid, int refresh,
			     struct pid_schedstat *ss, int *have_ss, struct kept *keep)
{
	struct err e;
	if (p && (p->flags & PF_MULTI))
		return read_kept(s, p, pid, 1, keep);
	int rc = read_kept(s, p, pid, 0, keep);
	if (rc == -ENOENT || rc == -ESRCH)
		return rc;
	*have_ss = rc == 0 && pid_schedstat_parse(s->buf.data, ss, &e) == 0;
	if (p && *have_ss && !refresh && ss->run_ns == p->run_ns && ss->timeslices == p->timeslices)
		return 1;
	return proc_read(s, pid, "stat");
}

/* One process. Returns 0, or -1 when it vanished or could not be read. */
static int scan_pid(struct proc_scan *s, int32_t pid, struct tick_errors *te, struct kept *keep)
{
	struct proc_entry *p = proc_scan_find(s, pid);
	int refresh = p && refresh_due(s, pid);
	int multi = p && (p->flags & PF_MULTI);
	struct pid_schedstat ss = {0};
	int have_ss = 0;
	struct err e;
	int rc = read_stat_or_skip(s, p, pid, refresh, &ss, &have_ss, keep);
	if (rc == 1) {
		s->st.skipped++;
		return keep_unread(s, p);
	}
	if (rc < 0) {
		count_err(te, rc);
		if (rc == -ENOENT || rc == -ESRCH) {
			s->st.vanished++;
			return -1;
		}
		return keep_unread(s, p);
	}
	struct pid_stat st;
	if (pid_stat_parse(s->buf.data, &st, &e)) {
		count_parse(te, pid, e.msg);
		return keep_unread(s, p);
	}
	if (p && p->start_ticks != st.starttime) {
		/* pid reuse: the old process is gone, this is a new one */
		if (push_gone(s, p))
			return -1;
		table_remove(s, (uint32_t)(p - s->ent));
		p = NULL;
	} else if (multi && !refresh && stat_unchanged(p, &st, s->page_kb)) {
		s->st.skipped++; /* sleeping threads only */
		return keep_unread(s, p);
	}
	int is_new = p == NULL;
	if (is_new && !(p = table_add(s, pid)))
		return -1;
	s->st.added += (uint64_t)is_new;
	update_entry(s, p, &st, have_ss ? &ss : NULL, !multi && !have_ss, is_new, refresh, te);
	p->gen = s->gen;
	return 0;
}

/* scan_pid, then the descriptor it opened goes to the process it read if
 * that is the file the process is read through next time, else closed. */
static void scan_one(struct proc_scan *s, int32_t pid, struct tick_errors *te)
{
	struct kept keep = {-1, 0};
	int rc = scan_pid(s, pid, te, &keep);
	struct proc_entry *p = rc == 0 ? proc_scan_find(s, pid) : NULL;
	if (rc == 0)
		s->st.procs++;
	if (keep.fd < 0)
		return;
	if (p && p->kfd < 0 && !!(p->flags & PF_MULTI) == keep.is_stat) {
		p->kfd = keep.fd;
		if (keep.is_stat)
			p->flags |= PF_KFD_STAT;
	} else {
		close(keep.fd);
		s->nfds--;
	}
}

/* The process that vanished in this scan with the given pid and started no
 * later than a child that started at start (an older pid's reuse is a new
 * process), or NULL. */
static const struct proc_entry *find_gone(const struct proc_scan *s, int32_t pid, uint64_t start)
{
	for (uint32_t i = 0; i < s->ngone; i++)
		if (s->gone[i].pid == pid && s->gone[i].start_ticks <= start)
			return &s->gone[i];
	return NULL;
}

/* Processes not seen in this scan exited: each leaves its totals as a credit
 * with its parent, whose cutime/cstime grow by them when it reaps it. A
 * parent that vanished too (make running cc running cc1, both gone between
 * two scans) reaped the child after its own last reading, so its cutime
 * growth reaches the first live ancestor inside its own totals, never in
 * its last reading: the credit goes up to that ancestor, else the
 * grandchild's seen CPU would be counted again there. The same holds for a
 * vanished process's carry: its cutime never showed those children. */
static int sweep_gone(struct proc_scan *s)
{
	for (uint32_t i = 0; i < s->nent;) {
		struct proc_entry *p = &s->ent[i];
		if (p->gen == s->gen) {
			i++;
			continue;
		}
		if (push_gone(s, p))
			return -1;
		table_remove(s, i);
		s->st.vanished++;
	}
	for (uint32_t i = 0; i < s->ngone; i++) {
		const struct proc_entry *g = &s->gone[i], *up = g;
		/* bounded: a chain of vanished ancestors is at most ngone long */
		for (uint32_t n = 0; n < s->ngone; n++) {
			const struct proc_entry *a = find_gone(s, up->ppid, up->start_ticks);
			if (!a || a == up)
				break;
			up = a;
		}
		struct proc_entry *parent = proc_scan_find(s, up->ppid);
		if (parent) {
			parent->credit_utime += g->last.utime + g->cutime + g->carry_utime;
			parent->credit_stime += g->last.stime + g->cstime + g->carry_stime;
		}
	}
	return 0;
}

static int parse_pid(const char *name, int32_t *pid)
{
	int64_t v = 0;
	if (!*name)
		return -1;
	for (const char *c = name; *c; c++) {
		if (*c < '0' || *c > '9' || v > INT32_MAX / 10)
			return -1;
		v = v * 10 + (*c - '0');
	}
	*pid = (int32_t)v;
	return 0;
}

int proc_scan_run(struct proc_scan *s, struct tick_errors *te, struct err *e)
{
	int dfd = openat(s->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, "proc root: %s", strerror(errno));
	s->gen++;
	s->ngone = 0;
	memset(&s->st, 0, sizeof(s->st));
	char dents[16384];
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, dents, sizeof(dents));
		if (n < 0) {
			int saved = errno;
			close(dfd);
			return err_set(e, "proc root: listing: %s", strerror(saved));
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(dents + off);
			int32_t pid;
			off += d->d_reclen;
			if (parse_pid(d->d_name, &pid) == 0)
				scan_one(s, pid, te);
		}
	}
	close(dfd);
	if (sweep_gone(s))
		return err_set(e, "out of memory");
	settle_reaped(s);
	s->scans++;
	return 0;
}

/* How many schedstat descriptors may be kept: none unless the root is
 * procfs (a copy of /proc in files would read stale text through them),
 * else the soft fd limit, raised to the hard one, less a reserve for the
 * database and the other collectors. */
static uint32_t fd_budget(int proc_fd)
{
	struct statfs fs;
	struct rlimit rl;
	if (fstatfs(proc_fd, &fs) || fs.f_type != PROC_SUPER_MAGIC || getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	rlim_t budget = rl.rlim_cur > 1024 ? rl.rlim_cur - 512 : rl.rlim_cur / 2;
	return budget > 1000000 ? 1000000 : (uint32_t)budget;
}

int proc_scan_init(struct proc_scan *s, int proc_fd, const struct proc_scan_opts *opt,
		   struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->proc_fd = proc_fd;
	s->opt = *opt;
	s->hz = clock_ticks_per_s();
	s->page_kb = sysconf(_SC_PAGESIZE) / 1024;
	if (!s->opt.start_ticks) {
		struct timespec ts;
		clock_gettime(CLOCK_BOOTTIME, &ts);
		s->opt.start_ticks = (uint64_t)ts.tv_sec * (uint64_t)s->hz +
				     (uint64_t)ts.tv_nsec / (1000000000ull / (uint64_t)s->hz);
	}
	if (table_rehash(s, 1024))
		return err_set(e, "out of memory");
	s->fd_budget = fd_budget(proc_fd);
	return 0;
}

void proc_scan_free(struct proc_scan *s)
{
	for (uint32_t i = 0; i < s->nent; i++)
		drop_fd(s, &s->ent[i]);
	buf_free(&s->buf);
	free(s->ent);
	free(s->slots);
	free(s->gone);
	memset(s, 0, sizeof(*s));
}
