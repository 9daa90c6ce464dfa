/* /proc/diskstats: I/O per block device as deltas; whole disks are told from
 * partitions by /sys/block/<name> existing. Tables: disk_device, disk. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/counter.h"
#include "collect/disk.h"

#define MAJOR_RAMDISK 1
#define MAJOR_LOOP    7

static int disk_push(struct diskstats *d, const struct disk_dev *dev)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct disk_dev *p = realloc(d->devs, cap * sizeof(*p));
		if (!p)
			return -1;
		d->devs = p;
		d->cap = cap;
	}
	d->devs[d->n++] = *dev;
	return 0;
}

static int parse_disk_line(const char *p, const char *eol, struct disk_dev *d, int line,
			   struct err *e)
{
	uint64_t v[DISK_FIELDS], mj, mn;
	char tok[32];
	memset(d, 0, sizeof(*d));
	if (scan_field_u64(&p, &mj) || scan_field_u64(&p, &mn) || mj > UINT32_MAX ||
	    mn > UINT32_MAX)
		return err_set(e, "/proc/diskstats line %d: bad major/minor '%s'", line,
			       token_preview(p, tok, sizeof(tok)));
	if (scan_token(&p, d->name, sizeof(d->name)) == 0 || p > eol)
		return err_set(e, "/proc/diskstats line %d: no device name", line);
	int n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (p >= eol)
			break;
		if (n == DISK_FIELDS)
			return err_set(e, "/proc/diskstats line %d (%s): more than %d values", line,
				       d->name, DISK_FIELDS);
		if (scan_field_u64(&p, &v[n]))
			return err_set(e, "/proc/diskstats line %d (%s): value %d: bad number '%s'",
				       line, d->name, n + 1, token_preview(p, tok, sizeof(tok)));
		n++;
	}
	d->major = (unsigned)mj;
	d->minor = (unsigned)mn;
	d->nfields = n;
	if (n == 4) { /* pre-2.6.25 partition: reads, sectors, writes, sectors */
		d->v[DISK_READS] = v[0];
		d->v[DISK_READ_SECTORS] = v[1];
		d->v[DISK_WRITES] = v[2];
		d->v[DISK_WRITE_SECTORS] = v[3];
		return 0;
	}
	if (n != 11 && n != 15 && n != 17)
		return err_set(e,
			       "/proc/diskstats line %d (%s): %d values, expected 11, 15 or 17 "
			       "(14, 18 or 20 fields)",
			       line, d->name, n);
	memcpy(d->v, v, (size_t)n * sizeof(v[0]));
	return 0;
}

int diskstats_parse(const char *text, struct diskstats *out, struct err *e)
{
	out->n = 0;
	if (check_complete(text, "/proc/diskstats", e))
		return -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		struct disk_dev d;
		if (parse_disk_line(p, eol, &d, line, e))
			return -1;
		if (disk_push(out, &d))
			return err_set(e, "out of memory");
		p = eol + 1;
	}
	return 0;
}

void diskstats_free(struct diskstats *d)
{
	free(d->devs);
	d->devs = NULL;
	d->n = d->cap = 0;
}

/* ---- collector ---- */

struct disk_meta {
	char name[DISK_NAME_MAX];
	unsigned major, minor;
	int64_t id;
	int skip; /* loop/ram not asked for */
};

struct disk_state {
	int proc_fd, sys_fd;
	int include_loop, include_ram;
	struct buf buf;
	struct diskstats snap[2];
	int cur, have, filled;
	struct disk_meta *meta;
	size_t nmeta, capmeta;
	struct dim names;
	uint64_t rollbacks_seen; /* ids cached in meta died with a rolled-back tick */
	sqlite3_stmt *ins, *set_whole;
};

static int disk_read(struct disk_state *s, struct diskstats *out, struct tick_errors *te,
		     struct err *e)
{
	int rc = buf_read_file(&s->buf, s->proc_fd, "diskstats", SOURCE_MAX_TABLE);
	if (rc < 0) {
		if (te)
			tick_errors_count_read(te, rc);
		return err_set(e, "/proc/diskstats: %s", strerror(-rc));
	}
	if (diskstats_parse(s->buf.data, out, e)) {
		if (te)
			te->parse++;
		return -1;
	}
	return 0;
}

static int disk_open(void **state, const struct collector_env *env, const void *options,
		     struct err *e)
{
	struct store *st = env->store;
	struct disk_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->sys_fd = env->sys_fd;
	const struct disk_options *o = options;
	ASSERT(o != NULL);
	s->include_loop = o->include_loop;
	s->include_ram = o->include_ram;
	if (dim_init(&s->names, st, "disk_device", e))
		return -1;
	s->ins = store_prepare(
	    st,
	    "INSERT INTO disk(ts, disk_id, dur_ms, reads_count, reads_merged_count, read_bytes, "
	    "read_ms, writes_count, writes_merged_count, write_bytes, write_ms, in_flight_count, "
	    "io_ms, weighted_io_ms, discards_count, discards_merged_count, discard_bytes, "
	    "discard_ms, flushes_count, flush_ms) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    e);
	s->set_whole = store_prepare(
	    st, "UPDATE disk_device SET whole_disk=?2, major=?3, minor=?4 WHERE id=?1", e);
	if (!s->ins || !s->set_whole)
		return -1;
	struct err ignored;
	s->have = disk_read(s, &s->snap[0], NULL, &ignored) == 0;
	s->cur = 1;
	return 0;
}

/* A whole disk has /sys/block/<name>; a partition lives under its disk.
 * Names with '/' (cciss/c0d0) appear in sysfs with '!' instead. */
static int is_whole_disk(struct disk_state *s, const char *name)
{
	char path[DISK_NAME_MAX + 16];
	snprintf(path, sizeof(path), "block/%s", name);
	for (char *c = path + 6; *c; c++)
		if (*c == '/')
			*c = '!';
	return faccessat(s->sys_fd, path, F_OK, 0) == 0;
}

/* The device's metadata, looked up (and on first sight classified and stored
 * in the dimension table) by name and device number. */
static struct disk_meta *disk_meta(struct disk_state *s, const struct disk_dev *d, size_t hint,
				   struct tick *t, struct err *e)
{
	struct disk_meta *m = NULL;
	if (hint < s->nmeta && strcmp(s->meta[hint].name, d->name) == 0)
		m = &s->meta[hint];
	for (size_t i = 0; !m && i < s->nmeta; i++)
		if (strcmp(s->meta[i].name, d->name) == 0)
			m = &s->meta[i];
	if (m && m->major == d->major && m->minor == d->minor)
		return m;
	if (!m) {
		if (s->nmeta == s->capmeta) {
			size_t cap = s->capmeta ? s->capmeta * 2 : 16;
			struct disk_meta *p = realloc(s->meta, cap * sizeof(*p));
			if (!p) {
				err_set(e, "out of memory");
				return NULL;
			}
			s->meta = p;
			s->capmeta = cap;
		}
		m = &s->meta[s->nmeta++];
		snprintf(m->name, sizeof(m->name), "%s", d->name);
	}
	m->major = d->major;
	m->minor = d->minor;
	m->skip = (d->major == MAJOR_LOOP && !s->include_loop) ||
		  (d->major == MAJOR_RAMDISK && !s->include_ram);
	m->id = -1;
	if (m->skip)
		return m;
	if ((m->id = dim_id(&s->names, d->name, e)) < 0)
		return NULL;
	int64_t v[] = {m->id, is_whole_disk(s, d->name), d->major, d->minor};
	bind_int64s(s->set_whole, 1, v, 4);
	if (store_exec_stmt(t->store, s->set_whole, e))
		return NULL;
	return m;
}

static const struct disk_dev *find_prev(const struct diskstats *prev, const struct disk_dev *d,
					size_t hint)
{
	if (hint < prev->n && strcmp(prev->devs[hint].name, d->name) == 0)
		return &prev->devs[hint];
	for (size_t i = 0; i < prev->n; i++)
		if (strcmp(prev->devs[i].name, d->name) == 0)
			return &prev->devs[i];
	return NULL;
}

static int write_disk(struct disk_state *s, struct tick *t, const struct disk_dev *p,
		      const struct disk_dev *c, int64_t id, struct err *e)
{
	uint64_t d[DISK_FIELDS], any = 0;
	/* A device re-created under the same name (a new loop or USB disk) is
	 * a different device: its counters started at zero within this tick. */
	int same = p->major == c->major && p->minor == c->minor;
	for (int i = 0; i < DISK_FIELDS; i++) {
		d[i] = i == DISK_IN_FLIGHT ? c->v[i]
		       : same		   ? counter_delta_wrap32(p->v[i], c->v[i])
					   : c->v[i];
		any |= d[i];
	}
	if (!any)
		return 0;	     /* sparse: an idle device writes no row */
	d[DISK_READ_SECTORS] *= 512; /* always 512-byte units, whatever the device */
	d[DISK_WRITE_SECTORS] *= 512;
	d[DISK_DISCARD_SECTORS] *= 512;
	sqlite3_bind_int64(s->ins, 1, t->ts);
	sqlite3_bind_int64(s->ins, 2, id);
	sqlite3_bind_int64(s->ins, 3, t->dur_ms);
	bind_u64s(s->ins, 4, d, DISK_FIELDS);
	/* Fields this kernel does not report are NULL, not zero. */
	int n = c->nfields == 4 ? 11 : c->nfields;
	for (int i = n; i < DISK_FIELDS; i++)
		sqlite3_bind_null(s->ins, 4 + i);
	t->rows++;
	return store_exec_stmt(t->store, s->ins, e);
}

static int disk_sample(void *state, struct tick *t, struct err *e)
{
	struct disk_state *s = state;
	struct diskstats *cur = &s->snap[s->cur], *prev = &s->snap[!s->cur];
	struct err rerr;
	s->filled = disk_read(s, cur, t->errors, &rerr) == 0;
	if (!s->filled) {
		log_debug("%s", rerr.msg);
		return 0;
	}
	if (t->store->rollbacks != s->rollbacks_seen) {
		s->rollbacks_seen = t->store->rollbacks;
		s->nmeta = 0; /* re-classify and re-store on next sight */
	}
	for (size_t i = 0; i < cur->n; i++) {
		const struct disk_dev *c = &cur->devs[i];
		const struct disk_meta *m = disk_meta(s, c, i, t, e);
		if (!m)
			return -1;
		if (m->skip)
			continue;
		const struct disk_dev *p = s->have ? find_prev(prev, c, i) : NULL;
		if (p && write_disk(s, t, p, c, m->id, e))
			return -1;
	}
	return 0;
}

static void disk_commit(void *state)
{
	struct disk_state *s = state;
	if (!s->filled)
		return;
	s->have = 1;
	s->cur = !s->cur;
}

static void disk_close(void *state)
{
	struct disk_state *s = state;
	if (!s)
		return;
	diskstats_free(&s->snap[0]);
	diskstats_free(&s->snap[1]);
	buf_free(&s->buf);
	dim_free(&s->names);
	free(s->meta);
	free(s);
}

const struct collector_ops collector_disk = {
    .name = "disk",
    .open = disk_open,
    .sample = disk_sample,
    .commit = disk_commit,
    .close = disk_close,
};
