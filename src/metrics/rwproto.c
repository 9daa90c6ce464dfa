/* The remote-write 1.0 protocol, pure: the WriteRequest protobuf encoded by
 * hand (four messages, two wire types), its snappy compression, and what a
 * receiver's answer means for the batch. No I/O here, so both are tested on
 * bytes (tests/unit/test_remote.c decodes with protobuf-c).
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics/remote.h"
#include "metrics/rwlib.h"

/* Field tags: (number << 3) | wire type (0 varint, 1 fixed64, 2 bytes). */
#define TAG_TIMESERIES 0x0a /* WriteRequest.timeseries, 1, bytes */
#define TAG_LABEL      0x0a /* TimeSeries.labels, 1, bytes */
#define TAG_SAMPLE     0x12 /* TimeSeries.samples, 2, bytes */
#define TAG_NAME       0x0a /* Label.name, 1, bytes */
#define TAG_VALUE      0x12 /* Label.value, 2, bytes */
#define TAG_DOUBLE     0x09 /* Sample.value, 1, fixed64 */
#define TAG_TIMESTAMP  0x10 /* Sample.timestamp, 2, varint */

static size_t varint(unsigned char *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

static void put_varint(struct expo_out *o, uint64_t v)
{
	unsigned char b[10];
	expo_out_add(o, (const char *)b, varint(b, v));
}

static void put_tag_len(struct expo_out *o, unsigned char tag, size_t len)
{
	expo_out_add(o, (const char *)&tag, 1);
	put_varint(o, len);
}

static size_t varint_len(uint64_t v)
{
	unsigned char b[10];
	return varint(b, v);
}

void rw_request_reset(struct rw_request *r)
{
	r->body.len = r->series.len = 0;
	r->body.failed = r->series.failed = 0;
	r->nseries = r->nsamples = 0;
}

void rw_request_free(struct rw_request *r)
{
	expo_out_free(&r->body);
	expo_out_free(&r->series);
	memset(r, 0, sizeof(*r));
}

/* A Label message inside the series: both strings are length-prefixed. */
static void put_label(struct expo_out *o, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	put_tag_len(o, TAG_LABEL, 1 + varint_len(nl) + nl + 1 + varint_len(vl) + vl);
	put_tag_len(o, TAG_NAME, nl);
	expo_out_add(o, name, nl);
	put_tag_len(o, TAG_VALUE, vl);
	expo_out_add(o, value, vl);
}

/* The spec wants labels sorted and unique, and no empty name; an empty
 * value is the label's absence, so it is left out. */
int rw_series_begin(struct rw_request *r, const struct metric_label *labels, size_t n)
{
	r->series.len = 0;
	for (size_t i = 0; i < n; i++) {
		if (!labels[i].name[0] || (i && strcmp(labels[i - 1].name, labels[i].name) >= 0))
			return -1;
		if (labels[i].value[0])
			put_label(&r->series, labels[i].name, labels[i].value);
	}
	r->series_samples = 0;
	return 0;
}

/* A Sample: the double as 8 little-endian bytes, the time as a varint of
 * its two's complement (int64, not zigzag). */
void rw_sample(struct rw_request *r, double value, int64_t ts_ms)
{
	unsigned char b[1 + 8 + 1 + 10];
	uint64_t bits;
	memcpy(&bits, &value, 8);
	b[0] = TAG_DOUBLE;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(bits >> (8 * i));
	b[9] = TAG_TIMESTAMP;
	size_t len = 10 + varint(b + 10, (uint64_t)ts_ms);
	put_tag_len(&r->series, TAG_SAMPLE, len);
	expo_out_add(&r->series, (const char *)b, len);
	r->series_samples++;
}

void rw_series_end(struct rw_request *r)
{
	if (!r->series_samples)
		return;
	put_tag_len(&r->body, TAG_TIMESERIES, r->series.len);
	expo_out_add(&r->body, r->series.data, r->series.len);
	if (r->series.failed)
		r->body.failed = 1;
	r->nseries++;
	r->nsamples += r->series_samples;
	r->series_samples = 0;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct metric_label *)a)->name,
		      ((const struct metric_label *)b)->name);
}

size_t rw_labels_merge(const char *name, const struct metric_label *series, size_t n,
		       const struct metric_label *extra, size_t nextra, struct metric_label *out)
{
	size_t k = 0;
	out[k++] = (struct metric_label){(char *)"__name__", (char *)name};
	for (size_t i = 0; i < n; i++)
		out[k++] = series[i];
	for (size_t i = 0; i < nextra; i++) {
		size_t j = 0;
		while (j < k && strcmp(out[j].name, extra[i].name))
			j++;
		if (j == k)
			out[k++] = extra[i];
	}
	qsort(out, k, sizeof(*out), label_cmp);
	return k;
}

int rw_compress(const char *in, size_t len, struct expo_out *out)
{
	ASSERT(rwlib.compress); /* rwlib_load succeeded */
	size_t need = rwlib.max_compressed_length(len);
	if (out->cap < need) {
		char *p = realloc(out->data, need);
		if (!p)
			return -1;
		out->data = p;
		out->cap = need;
	}
	out->len = need;
	if (rwlib.compress(in, len, out->data, &out->len) != SNAPPY_OK)
		return -1;
	return 0;
}

/* Whether the answer's body holds needle (bodies are short and not
 * NUL-terminated). */
static int body_has(const char *body, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; body && i + n <= len; i++)
		if (strncasecmp(body + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Whether a 4xx refuses the sender rather than the data: credentials
 * (401, 403, 407), a wrong URL or a receiver not enabled (404, 405: Prometheus
 * without --web.enable-remote-write-receiver answers 404), a slow request
 * (408), or too many (429). The same batch is accepted once that is fixed. */
static int refuses_sender(long status)
{
	return status == 401 || status == 403 || status == 404 || status == 405 || status == 407 ||
	       status == 408 || status == 429;
}

/* The spec: retry 5xx and may retry 429; do not retry a 4xx refusing the
 * data (400 for invalid or duplicate samples, 413, 422): sending the same
 * bytes again can only get the same answer, so the batch is dropped. A 4xx
 * that refuses the sender (refuses_sender) is retried instead: dropping
 * would throw away every tick until the configuration is fixed, while the
 * history can wait in the database. Prometheus 2.42 answers 500 for a
 * sample older than its out-of-order window allows ("too old sample") or
 * its head ("out of bounds"): dropped like a 400. Anything else (no answer,
 * 1xx, 3xx: a redirect is a wrong URL) is retried. */
enum rw_verdict rw_verdict_of(long status, const char *body, size_t len)
{
	if (status >= 200 && status < 300)
		return RW_SENT;
	if (refuses_sender(status))
		return RW_RETRY;
	if (status >= 400 && status < 500)
		return RW_DROP;
	if (status >= 500 && status < 600 &&
	    (body_has(body, len, "too old sample") || body_has(body, len, "out of bounds")))
		return RW_DROP;
	return RW_RETRY;
}

const char *rw_verdict_name(enum rw_verdict v)
{
	return v == RW_SENT ? "sent" : v == RW_RETRY ? "retry" : "drop";
}

int64_t rw_backoff_ms(unsigned retry, int64_t max_ms)
{
	int64_t ms = 500;
	for (unsigned i = 1; i < retry && ms < max_ms; i++)
		ms *= 2;
	return ms < max_ms ? ms : max_ms;
}
