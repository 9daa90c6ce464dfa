/* Host inventory: hostname, kernel, boot, CPU, memory, NUMA nodes, disks and
 * NICs. Checked at start and every INVENTORY_EVERY_MS; a row is written per
 * key whose value changed (NULL when the key disappeared), so the table is a
 * history of hardware and kernel changes and "SELECT ... WHERE key=..." finds
 * when something changed. Key/value rows rather than one JSON document per
 * change: a change to one disk stores one small row, and keys can be added
 * later without a schema change. Table: inventory. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/inventory.h"

#define INVENTORY_EVERY_MS (10 * 60 * 1000)

/* "key\t: value" -> key and value, trimmed. Returns 0 for a line without ':'. */
static int split_line(const char *line, const char *eol, char *key, size_t kn, const char **val,
		      size_t *vlen)
{
	const char *colon = memchr(line, ':', (size_t)(eol - line));
	if (!colon)
		return 0;
	const char *k_end = colon;
	while (k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'))
		k_end--;
	size_t kl = (size_t)(k_end - line) < kn - 1 ? (size_t)(k_end - line) : kn - 1;
	memcpy(key, line, kl);
	key[kl] = '\0';
	const char *v = colon + 1;
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	*val = v;
	*vlen = (size_t)(eol - v);
	return 1;
}

static void copy_val(char *out, size_t n, const char *v, size_t len)
{
	if (len >= n)
		len = n - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

int cpuinfo_parse(const char *text, struct cpuinfo *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (check_complete(text, "/proc/cpuinfo", e))
		return -1;
	/* Sockets and cores as bitmaps of ids seen: small and allocation-free. */
	static unsigned char pkg_seen[1024], core_seen[1024 * 64];
	memset(pkg_seen, 0, sizeof(pkg_seen));
	memset(core_seen, 0, sizeof(core_seen));
	long pkg = -1;
	const char *p = text;
	for (int line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		char key[64];
		const char *v;
		size_t vl;
		if (split_line(p, eol, key, sizeof(key), &v, &vl)) {
			char num[24];
			copy_val(num, sizeof(num), v, vl);
			char *end;
			long id = strtol(num, &end, 10);
			int is_num = end != num && *end == '\0' && id >= 0;
			if (strcmp(key, "processor") == 0) {
				if (!is_num)
					return err_set(e,
						       "/proc/cpuinfo line %d: bad processor '%s'",
						       line, num);
				out->threads++;
				pkg = -1;
			} else if (!out->model[0] && (strcmp(key, "model name") == 0 ||
						      strcmp(key, "cpu model") == 0 ||
						      strcmp(key, "Processor") == 0)) {
				copy_val(out->model, sizeof(out->model), v, vl);
			} else if (!out->flags[0] &&
				   (strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0)) {
				copy_val(out->flags, sizeof(out->flags), v, vl);
			} else if (strcmp(key, "physical id") == 0) {
				if (!is_num || id >= (long)sizeof(pkg_seen))
					return err_set(
					    e, "/proc/cpuinfo line %d: bad physical id '%s'", line,
					    num);
				pkg = id;
				out->sockets += !pkg_seen[id];
				pkg_seen[id] = 1;
			} else if (strcmp(key, "core id") == 0 && pkg >= 0) {
				if (!is_num || id >= 64)
					return err_set(e, "/proc/cpuinfo line %d: bad core id '%s'",
						       line, num);
				size_t slot = (size_t)pkg * 64 + (size_t)id;
				out->cores += !core_seen[slot];
				core_seen[slot] = 1;
			}
		}
		p = eol + 1;
	}
	if (out->threads == 0)
		return err_set(e, "/proc/cpuinfo: no 'processor' lines");
	return 0;
}

/* ---- key/value sets ---- */

int inv_set_put(struct inv_set *s, const char *value, const char *keyfmt, ...)
{
	char key[256];
	va_list ap;
	va_start(ap, keyfmt);
	vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].key, key) == 0) {
			char *v = value ? strdup(value) : NULL;
			if (value && !v)
				return -1;
			free(s->items[i].value);
			s->items[i].value = v;
			return 0;
		}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct inv_item *p = realloc(s->items, cap * sizeof(*p));
		if (!p)
			return -1;
		s->items = p;
		s->cap = cap;
	}
	struct inv_item *it = &s->items[s->n];
	it->key = strdup(key);
	it->value = value ? strdup(value) : NULL;
	if (!it->key || (value && !it->value)) {
		free(it->key);
		free(it->value);
		return -1;
	}
	s->n++;
	return 0;
}

const char *inv_set_get(const struct inv_set *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].key, key) == 0)
			return s->items[i].value;
	return NULL;
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct inv_item *)a)->key, ((const struct inv_item *)b)->key);
}

void inv_set_sort(struct inv_set *s)
{
	if (s->n)
		qsort(s->items, s->n, sizeof(*s->items), cmp_item);
}

void inv_set_free(struct inv_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->items[i].key);
		free(s->items[i].value);
	}
	free(s->items);
	memset(s, 0, sizeof(*s));
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int inv_set_diff(const struct inv_set *old, const struct inv_set *cur, struct inv_set *out)
{
	inv_set_free(out);
	for (size_t i = 0; i < cur->n; i++)
		if (!same(inv_set_get(old, cur->items[i].key), cur->items[i].value) &&
		    inv_set_put(out, cur->items[i].value, "%s", cur->items[i].key))
			return -1;
	for (size_t i = 0; i < old->n; i++)
		if (old->items[i].value && !inv_set_get(cur, old->items[i].key) &&
		    inv_set_put(out, NULL, "%s", old->items[i].key))
			return -1;
	inv_set_sort(out);
	return 0;
}

/* ---- collector ---- */

struct inv_state {
	int proc_fd, sys_fd;
	struct buf buf;
	struct inv_set stored;	/* latest value per key in the database */
	struct inv_set pending; /* written this tick, applied on commit */
	int64_t next_check_us;
	int wrote;
	sqlite3_stmt *ins;
};

/* A small file's first line, trimmed; NULL when unreadable. */
static const char *read_line(struct inv_state *s, int dirfd, const char *path)
{
	if (buf_read_file(&s->buf, dirfd, path,
			  dirfd == s->sys_fd ? SOURCE_MAX_ATTR : SOURCE_MAX_SMALL) < 0)
		return NULL;
	char *nl = strchr(s->buf.data, '\n');
	if (nl)
		*nl = '\0';
	return s->buf.data;
}

static int put_file(struct inv_state *s, struct inv_set *set, int dirfd, const char *path,
		    const char *key)
{
	const char *v = read_line(s, dirfd, path);
	return v && *v ? inv_set_put(set, v, "%s", key) : 0;
}

static int put_u64(struct inv_set *set, uint64_t v, const char *keyfmt, const char *name)
{
	char num[24];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return inv_set_put(set, num, keyfmt, name);
}

static int gather_host(struct inv_state *s, struct inv_set *set)
{
	/* the fields of uname(2) for the host the proc root belongs to */
	if (put_file(s, set, s->proc_fd, "sys/kernel/hostname", "host.hostname") ||
	    put_file(s, set, s->proc_fd, "sys/kernel/domainname", "host.domainname") ||
	    put_file(s, set, s->proc_fd, "sys/kernel/ostype", "kernel.ostype") ||
	    put_file(s, set, s->proc_fd, "sys/kernel/arch", "kernel.arch") ||
	    put_file(s, set, s->proc_fd, "sys/kernel/osrelease", "kernel.release") ||
	    put_file(s, set, s->proc_fd, "sys/kernel/version", "kernel.version") ||
	    put_file(s, set, s->proc_fd, "sys/kernel/random/boot_id", "boot.id"))
		return -1;
	/* btime is derived from two clocks and may wobble by a second between
	 * reads: keep the stored one while the boot id is unchanged. */
	const char *boot = inv_set_get(set, "boot.id");
	const char *old_btime = inv_set_get(&s->stored, "boot.time");
	if (boot && old_btime && same(boot, inv_set_get(&s->stored, "boot.id")))
		return inv_set_put(set, old_btime, "boot.time");
	if (buf_read_file(&s->buf, s->proc_fd, "stat", SOURCE_MAX_TABLE) == 0) {
		const char *b = strstr(s->buf.data, "\nbtime ");
		uint64_t v;
		if (b && (b += 7, scan_u64(&b, &v) == 0) && put_u64(set, v, "%s", "boot.time"))
			return -1;
	}
	return 0;
}

static int gather_cpu_mem(struct inv_state *s, struct inv_set *set)
{
	struct cpuinfo ci;
	struct err e;
	if (buf_read_file(&s->buf, s->proc_fd, "cpuinfo", SOURCE_MAX_TABLE) == 0 &&
	    cpuinfo_parse(s->buf.data, &ci, &e) == 0) {
		if ((ci.model[0] && inv_set_put(set, ci.model, "cpu.model")) ||
		    (ci.flags[0] && inv_set_put(set, ci.flags, "cpu.flags")) ||
		    put_u64(set, ci.threads, "%s", "cpu.threads") ||
		    (ci.sockets && put_u64(set, ci.sockets, "%s", "cpu.sockets")) ||
		    (ci.cores && put_u64(set, ci.cores, "%s", "cpu.cores")))
			return -1;
	}
	if (buf_read_file(&s->buf, s->proc_fd, "meminfo", SOURCE_MAX_SMALL) == 0) {
		const char *p = s->buf.data;
		uint64_t kb;
		if (strncmp(p, "MemTotal:", 9) == 0 && (p += 9, scan_u64(&p, &kb) == 0) &&
		    put_u64(set, kb, "%s", "memory.total_kb"))
			return -1;
	}
	return 0;
}

/* NUMA nodes with memory: devices/system/node/nodeN/meminfo "Node N MemTotal: X kB". */
static int gather_numa(struct inv_state *s, struct inv_set *set)
{
	int fd = openat(s->sys_fd, "devices/system/node", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		char path[300];
		if (strncmp(de->d_name, "node", 4) != 0 || de->d_name[4] < '0' ||
		    de->d_name[4] > '9')
			continue;
		snprintf(path, sizeof(path), "devices/system/node/%s/meminfo", de->d_name);
		if (buf_read_file(&s->buf, s->sys_fd, path, SOURCE_MAX_ATTR) < 0)
			continue;
		const char *p = strstr(s->buf.data, "MemTotal:");
		uint64_t kb;
		if (p && (p += 9, scan_u64(&p, &kb) == 0) && kb > 0)
			rc = put_u64(set, kb, "numa.%s.memory_kb", de->d_name);
	}
	closedir(d);
	return rc;
}

/* Entries of a sysfs class directory (block, net). */
static DIR *open_sys_dir(struct inv_state *s, const char *path)
{
	int fd = openat(s->sys_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* Disks: model, size and rotational. Loop and RAM disks are not hardware. */
static int gather_disks(struct inv_state *s, struct inv_set *set)
{
	DIR *d = open_sys_dir(s, "block");
	if (!d)
		return 0;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		const char *n = de->d_name;
		char path[300];
		if (n[0] == '.' || strncmp(n, "loop", 4) == 0 || strncmp(n, "ram", 3) == 0)
			continue;
		snprintf(path, sizeof(path), "block/%s/size", n);
		const char *v = read_line(s, s->sys_fd, path);
		uint64_t sectors;
		if (!v || scan_u64(&v, &sectors) || sectors == 0)
			continue;
		rc = put_u64(set, sectors * 512, "disk.%s.size_bytes", n);
		snprintf(path, sizeof(path), "block/%s/queue/rotational", n);
		char key[300];
		snprintf(key, sizeof(key), "disk.%s.rotational", n);
		rc = rc ? rc : put_file(s, set, s->sys_fd, path, key);
		snprintf(path, sizeof(path), "block/%s/device/model", n);
		snprintf(key, sizeof(key), "disk.%s.model", n);
		rc = rc ? rc : put_file(s, set, s->sys_fd, path, key);
	}
	closedir(d);
	return rc;
}

/* NICs backed by a device (not veth, bridges, lo): driver, speed, MAC. */
static int gather_nics(struct inv_state *s, struct inv_set *set)
{
	DIR *d = open_sys_dir(s, "class/net");
	if (!d)
		return 0;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		const char *n = de->d_name;
		char path[300], link[512], key[300];
		if (n[0] == '.')
			continue;
		snprintf(path, sizeof(path), "class/net/%s/device/driver", n);
		ssize_t len = readlinkat(s->sys_fd, path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		const char *drv = strrchr(link, '/');
		rc = inv_set_put(set, drv ? drv + 1 : link, "nic.%s.driver", n);
		snprintf(path, sizeof(path), "class/net/%s/address", n);
		snprintf(key, sizeof(key), "nic.%s.mac", n);
		rc = rc ? rc : put_file(s, set, s->sys_fd, path, key);
		snprintf(path, sizeof(path), "class/net/%s/speed", n);
		const char *v = read_line(s, s->sys_fd, path);
		int64_t mbps;
		if (!rc && v && scan_i64(&v, &mbps) == 0 && mbps > 0)
			rc = put_u64(set, (uint64_t)mbps, "nic.%s.speed_mbps", n);
	}
	closedir(d);
	return rc;
}

static int inv_open(void **state, const struct collector_env *env, const void *options,
		    struct err *e)
{
	struct store *st = env->store;
	struct inv_state *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, "out of memory");
	*state = s;
	s->proc_fd = env->proc_fd;
	s->sys_fd = env->sys_fd;
	s->ins = store_prepare(st, "INSERT INTO inventory(ts, key, value) VALUES (?,?,?)", e);
	sqlite3_stmt *q = store_prepare(st,
					"SELECT key, value FROM inventory i WHERE ts = "
					"(SELECT max(ts) FROM inventory WHERE key = i.key)",
					e);
	if (!s->ins || !q)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(q, 1);
		if (v && inv_set_put(&s->stored, v, "%s", (const char *)sqlite3_column_text(q, 0)))
			return err_set(e, "out of memory");
	}
	sqlite3_reset(q);
	return 0;
}

static int inv_sample(void *state, struct tick *t, struct err *e)
{
	struct inv_state *s = state;
	s->wrote = 0;
	if (clock_mono_us() < s->next_check_us)
		return 0;
	struct inv_set cur = {0};
	if (gather_host(s, &cur) || gather_cpu_mem(s, &cur) || gather_numa(s, &cur) ||
	    gather_disks(s, &cur) || gather_nics(s, &cur) ||
	    inv_set_diff(&s->stored, &cur, &s->pending)) {
		inv_set_free(&cur);
		return err_set(e, "inventory: out of memory");
	}
	inv_set_free(&cur);
	for (size_t i = 0; i < s->pending.n; i++) {
		const struct inv_item *it = &s->pending.items[i];
		sqlite3_bind_int64(s->ins, 1, t->ts);
		sqlite3_bind_text(s->ins, 2, it->key, -1, SQLITE_STATIC);
		if (it->value)
			sqlite3_bind_text(s->ins, 3, it->value, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s->ins, 3);
		t->rows++;
		if (store_exec_stmt(t->store, s->ins, e))
			return -1;
	}
	s->wrote = 1;
	return 0;
}

/* The changes are stored: they become what the next check compares with. */
static void inv_commit(void *state)
{
	struct inv_state *s = state;
	if (!s->wrote)
		return;
	for (size_t i = 0; i < s->pending.n; i++) {
		const struct inv_item *it = &s->pending.items[i];
		if (it->value)
			inv_set_put(&s->stored, it->value, "%s", it->key);
		else
			for (size_t j = 0; j < s->stored.n; j++)
				if (strcmp(s->stored.items[j].key, it->key) == 0) {
					free(s->stored.items[j].value);
					s->stored.items[j].value = NULL;
				}
	}
	inv_set_free(&s->pending);
	s->next_check_us = clock_mono_us() + INVENTORY_EVERY_MS * 1000LL;
	s->wrote = 0;
}

static void inv_close(void *state)
{
	struct inv_state *s = state;
	if (!s)
		return;
	inv_set_free(&s->stored);
	inv_set_free(&s->pending);
	buf_free(&s->buf);
	free(s);
}

const struct collector_ops collector_inventory = {
    .name = "inventory",
    .open = inv_open,
    .sample = inv_sample,
    .commit = inv_commit,
    .close = inv_close,
};
