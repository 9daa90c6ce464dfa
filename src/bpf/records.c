/* Holding eBPF records between ticks, and turning them into column values. */
#include <stdlib.h>
#include <string.h>

#include "bpf/records.h"

/* Each record in the arena: this header, then the record padded to 8 bytes. */
struct slot {
	uint32_t size;
	uint32_t pad;
	int64_t epoch_ns;
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

void record_buf_init(struct record_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void record_buf_free(struct record_buf *b)
{
	free(b->data);
	record_buf_init(b, b->max);
}

void record_buf_clear(struct record_buf *b)
{
	b->len = 0;
}

/* The smallest and largest size a record of each type can have. */
static int size_ok(uint32_t type, size_t size)
{
	switch (type) {
	case HS_EV_EXEC:
	case HS_EV_EXEC_FAILED:
		return size >= offsetof(struct hs_exec, args) && size <= sizeof(struct hs_exec);
	case HS_EV_EXIT:
		return size == sizeof(struct hs_exit);
	case HS_EV_OOM:
		return size == sizeof(struct hs_oom);
	default:
		return 0;
	}
}

int record_buf_push(struct record_buf *b, const void *data, size_t size, int64_t boot_to_epoch_ns)
{
	struct hs_header h;
	if (size < sizeof(h)) {
		b->malformed++;
		return 1;
	}
	memcpy(&h, data, sizeof(h));
	if (!size_ok(h.type, size)) {
		b->malformed++;
		return 1;
	}
	size_t need = sizeof(struct slot) + ALIGN8(size);
	if (b->len + need > b->cap) {
		/* Grow by doubling, up to the configured bound. */
		size_t cap = b->cap ? b->cap : 64 * 1024;
		while (cap < b->len + need && cap < b->max)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		if (cap < b->len + need)
			return -1;
		unsigned char *p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	struct slot s = {(uint32_t)size, 0, (int64_t)h.time_ns + boot_to_epoch_ns};
	memcpy(b->data + b->len, &s, sizeof(s));
	memcpy(b->data + b->len + sizeof(s), data, size);
	b->len += need;
	ASSERT(b->len <= b->cap && b->cap <= b->max);
	return 0;
}

int record_buf_next(const struct record_buf *b, size_t *pos, struct record *r)
{
	if (*pos >= b->len)
		return 0;
	struct slot s;
	memcpy(&s, b->data + *pos, sizeof(s));
	r->epoch_ns = s.epoch_ns;
	r->size = s.size;
	r->data = b->data + *pos + sizeof(s);
	*pos += sizeof(s) + ALIGN8(s.size);
	ASSERT(*pos <= b->len); /* records are only ever appended whole */
	return 1;
}

uint32_t record_type(const struct record *r)
{
	struct hs_header h;
	memcpy(&h, r->data, sizeof(h));
	return h.type;
}

size_t exec_args_text(const struct hs_exec *x, size_t size, char *out, size_t outlen)
{
	size_t n = x->args_len;
	size_t have =
	    size > offsetof(struct hs_exec, args) ? size - offsetof(struct hs_exec, args) : 0;
	if (n > have)
		n = have;
	if (n > outlen - 1)
		n = outlen - 1;
	memcpy(out, x->args, n);
	/* argv is NUL-separated and NUL-terminated; a cut argv may end mid-word. */
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
	return n;
}

void exit_usage_from(const struct hs_exit *x, long hz, long page_size, struct exit_usage *u)
{
	uint64_t ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	u->start_clock_ticks = (int64_t)(x->start_boottime_ns / ns_per_tick);
	u->lifetime_us = x->h.time_ns > x->start_boottime_ns
			     ? (int64_t)((x->h.time_ns - x->start_boottime_ns) / 1000)
			     : 0;
	/* A wait status: low 7 bits the signal, 0x80 a core dump, then the code. */
	u->signal = x->exit_code & 0x7f;
	u->core_dumped = (x->exit_code & 0x80) != 0;
	u->exit_code = (x->exit_code >> 8) & 0xff;
	u->peak_rss_kb = (int64_t)x->maxrss_pages * (page_size / 1024);
}

void exit_cpu_split(const struct hs_exit *x, uint64_t *user_ns, uint64_t *system_ns)
{
	uint64_t rt = x->cpu_ns, u = x->utime_ns, s = x->stime_ns;
	if (s == 0) {
		*user_ns = rt;
		*system_ns = 0;
		return;
	}
	if (u == 0) {
		*user_ns = 0;
		*system_ns = rt;
		return;
	}
	/* rt * s / (u + s) without overflow: these are ns of one process. */
	*system_ns = (uint64_t)((unsigned __int128)rt * s / (u + s));
	*user_ns = rt - *system_ns;
}
