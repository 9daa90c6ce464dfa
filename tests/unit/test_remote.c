/* Remote write's pure protocol (src/metrics/rwproto.c): the hand-encoded
 * WriteRequest decoded by protobuf-c's generated decoder (from the spec's
 * messages, tests/unit/proto/remote_write.proto), snappy round trips, the
 * labels as the receiver gets them, what each answer means, and the
 * run-time loading of libcurl and libsnappy (src/metrics/rwlib.c). */
#include "testutil.h"

#include <math.h>
#include <snappy-c.h>

#include "metrics/remote.h"
#include "metrics/rwlib.h"
#include "remote_write.pb-c.h"

static struct metric_label L(const char *n, const char *v) {
	return (struct metric_label){(char *)n, (char *)v};
}

static Prometheus__WriteRequest *
decode(const struct rw_request *r)
{
	Prometheus__WriteRequest *wr =
	    prometheus__write_request__unpack(NULL, r->body.len, (const uint8_t *)r->body.data);
	assert_non_null(wr);
	return wr;
}

/* Two series, the second with three samples: every label, value (NaN and
 * infinities included) and timestamp comes back; an empty value is left
 * out; a series without samples is not sent. */
static void encodes_what_protobuf_decodes(void **state)
{
	struct rw_request r = {0};
	struct metric_label a[] = {L("__name__", "node_load1"), L("instance", "h\xc3\xa9te:1"),
				   L("job", "")};
	struct metric_label b[] = {L("__name__", "node_cpu_seconds_total"), L("cpu", "0"),
				   L("mode", "user")};
	const double values[] = {0, -1.5, 1e300, NAN, INFINITY};
	const int64_t ts[] = {1700000000000, 1700000001000, 1700000002000};
	rw_request_reset(&r);
	assert_int_equal(rw_series_begin(&r, a, 3), 0);
	rw_sample(&r, values[0], ts[0]);
	rw_series_end(&r);
	assert_int_equal(rw_series_begin(&r, b, 3), 0);
	rw_series_end(&r); /* no samples: left out */
	assert_int_equal(rw_series_begin(&r, b, 3), 0);
	for (int i = 0; i < 3; i++)
		rw_sample(&r, values[2 + i], ts[i]);
	rw_series_end(&r);
	assert_int_equal(r.nseries, 2);
	assert_int_equal(r.nsamples, 4);

	Prometheus__WriteRequest *wr = decode(&r);
	assert_int_equal(wr->n_timeseries, 2);
	Prometheus__TimeSeries *s0 = wr->timeseries[0], *s1 = wr->timeseries[1];
	assert_int_equal(s0->n_labels, 2);
	assert_string_equal(s0->labels[0]->name, "__name__");
	assert_string_equal(s0->labels[0]->value, "node_load1");
	assert_string_equal(s0->labels[1]->name, "instance");
	assert_string_equal(s0->labels[1]->value, "h\xc3\xa9te:1");
	assert_int_equal(s0->n_samples, 1);
	assert_true(s0->samples[0]->value == 0 && !signbit(s0->samples[0]->value));
	assert_int_equal(s0->samples[0]->timestamp, ts[0]);
	assert_int_equal(s1->n_labels, 3);
	assert_string_equal(s1->labels[2]->value, "user");
	assert_int_equal(s1->n_samples, 3);
	assert_true(s1->samples[0]->value == 1e300);
	assert_true(isnan(s1->samples[1]->value));
	assert_true(isinf(s1->samples[2]->value) && s1->samples[2]->value > 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s1->samples[i]->timestamp, ts[i]);
	prometheus__write_request__free_unpacked(wr, NULL);

	/* reset starts an empty request: it decodes as no series */
	rw_request_reset(&r);
	wr = decode(&r);
	assert_int_equal(wr->n_timeseries, 0);
	prometheus__write_request__free_unpacked(wr, NULL);
	rw_request_free(&r);
}

/* Varints of every length: timestamps before 1970 (a negative int64 takes
 * ten bytes), and labels longer than 127 and 16383 bytes (two- and
 * three-byte lengths). */
static void lengths_and_negative_times(void **state)
{
	struct rw_request r = {0};
	static char big[20000];
	memset(big, 'x', sizeof(big) - 1);
	struct metric_label l[] = {L("__name__", "m"), L("a", big + sizeof(big) - 1 - 200),
				   L("b", big)};
	const int64_t ts[] = {-1, 0, 127, 128, 16384, INT64_MAX};
	rw_request_reset(&r);
	assert_int_equal(rw_series_begin(&r, l, 3), 0);
	for (size_t i = 0; i < ARRAY_LEN(ts); i++)
		rw_sample(&r, (double)i, ts[i]);
	rw_series_end(&r);
	Prometheus__WriteRequest *wr = decode(&r);
	assert_int_equal(wr->n_timeseries, 1);
	assert_int_equal(strlen(wr->timeseries[0]->labels[1]->value), 200);
	assert_int_equal(strlen(wr->timeseries[0]->labels[2]->value), sizeof(big) - 1);
	for (size_t i = 0; i < ARRAY_LEN(ts); i++) {
		assert_int_equal(wr->timeseries[0]->samples[i]->timestamp, ts[i]);
		assert_true(wr->timeseries[0]->samples[i]->value == (double)i);
	}
	prometheus__write_request__free_unpacked(wr, NULL);
	rw_request_free(&r);
}

/* The spec: labels sorted by name, no repeats, no empty name. */
static void refuses_unsorted_labels(void **state)
{
	struct rw_request r = {0};
	struct metric_label unsorted[] = {L("job", "x"), L("__name__", "m")};
	struct metric_label repeated[] = {L("__name__", "m"), L("a", "1"), L("a", "2")};
	struct metric_label empty[] = {L("", "v")};
	rw_request_reset(&r);
	assert_int_equal(rw_series_begin(&r, unsorted, 2), -1);
	assert_int_equal(rw_series_begin(&r, repeated, 3), -1);
	assert_int_equal(rw_series_begin(&r, empty, 1), -1);
	rw_request_free(&r);
}

/* __name__ joins the series' labels and the configured ones; a series'
 * own label wins over a configured one of the same name; all sorted. */
static void merges_labels(void **state)
{
	struct metric_label series[] = {L("device", "eth0"), L("instance", "own")};
	struct metric_label extra[] = {L("job", "hindsight"), L("instance", "web1"),
				       L("Zone", "z")};
	struct metric_label out[6];
	size_t n = rw_labels_merge("node_network_up", series, 2, extra, 3, out);
	const char *want[][2] = {{"Zone", "z"},
				 {"__name__", "node_network_up"},
				 {"device", "eth0"},
				 {"instance", "own"},
				 {"job", "hindsight"}};
	assert_int_equal(n, ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(out[i].name, want[i][0]);
		assert_string_equal(out[i].value, want[i][1]);
	}
	struct rw_request r = {0};
	rw_request_reset(&r);
	assert_int_equal(rw_series_begin(&r, out, n), 0);
	rw_request_free(&r);
}

/* A library that cannot be loaded is named with its package, and the
 * table is left as it was (here: empty), so nothing calls into half of it;
 * then the real names load and a second rwlib_load repeats the first's
 * outcome. */
static void loads_the_libraries_or_names_the_missing_one(void **state)
{
	struct err e;
	assert_int_equal(rwlib_load_from(RWLIB_CURL, "libsnappy-absent.so.1", &e), -1);
	assert_non_null(strstr(e.msg, "libsnappy-absent.so.1"));
	assert_non_null(strstr(e.msg, "libsnappy1v5"));
	assert_null(rwlib.easy_init);
	assert_int_equal(rwlib_load_from("libcurl-absent.so.4", RWLIB_SNAPPY, &e), -1);
	assert_non_null(strstr(e.msg, "libcurl-absent.so.4 (Debian package libcurl4)"));
	assert_null(rwlib.compress);
	assert_int_equal(rwlib_load(&e), 0);
	assert_int_equal(rwlib_load(&e), 0);
	assert_non_null(rwlib.easy_setopt);
	assert_non_null(rwlib.max_compressed_length);
}

/* The body is snappy's block format: snappy's own decoder gives back the
 * request, for an empty one and for one large enough to span blocks. */
static void compresses_as_snappy_blocks(void **state)
{
	struct err e;
	assert_int_equal(rwlib_load(&e), 0);
	struct expo_out packed = {0};
	static char text[200000];
	char back[sizeof(text)];
	size_t n;
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)("node_cpu_seconds_total"[i % 22] + (i % 1013 == 0));
	const size_t lens[] = {0, 1, sizeof(text)};
	for (size_t k = 0; k < ARRAY_LEN(lens); k++) {
		assert_int_equal(rw_compress(text, lens[k], &packed), 0);
		assert_int_equal(snappy_uncompressed_length(packed.data, packed.len, &n),
				 SNAPPY_OK);
		assert_int_equal(n, lens[k]);
		n = sizeof(back);
		assert_int_equal(snappy_uncompress(packed.data, packed.len, back, &n), SNAPPY_OK);
		assert_int_equal(n, lens[k]);
		assert_memory_equal(back, text, n);
	}
	assert_true(packed.len < sizeof(text) / 4);
	expo_out_free(&packed);
}

/* Every answer's verdict: the spec's rules, plus Prometheus 2.42's 500s for
 * samples beyond its out-of-order window, which no retry can fix, and the
 * 4xx that refuse the sender (credentials, URL), which wait for a fix. */
static void verdicts(void **state)
{
	static const struct {
		long status;
		const char *body;
		enum rw_verdict want;
	} cases[] = {
	    {200, "", RW_SENT},
	    {204, NULL, RW_SENT},
	    {299, "garbage", RW_SENT},
	    {400, "duplicate sample for timestamp", RW_DROP},
	    {400, "out of bounds", RW_DROP},
	    {401, "Unauthorized", RW_RETRY}, /* the sender is refused, not the data */
	    {403, "", RW_RETRY},
	    {404, "remote write receiver needs to be enabled", RW_RETRY},
	    {405, "", RW_RETRY},
	    {407, "", RW_RETRY},
	    {408, "", RW_RETRY},
	    {409, "", RW_DROP},
	    {413, "", RW_DROP},
	    {422, "", RW_DROP},
	    {429, "too many requests", RW_RETRY},
	    {500, "too old sample", RW_DROP},
	    {500, "err: out of bounds\n", RW_DROP},
	    {500, "TOO OLD SAMPLE", RW_DROP},
	    {500, "context deadline exceeded", RW_RETRY},
	    {500, "", RW_RETRY},
	    {502, "too old", RW_RETRY},
	    {503, NULL, RW_RETRY},
	    {0, NULL, RW_RETRY}, /* no answer: refused, timed out, not HTTP */
	    {100, "", RW_RETRY},
	    {301, "Moved", RW_RETRY},
	    {600, "", RW_RETRY},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *b = cases[i].body;
		enum rw_verdict v = rw_verdict_of(cases[i].status, b, b ? strlen(b) : 0);
		if (v != cases[i].want)
			fail_msg("%ld '%s': %s, wanted %s", cases[i].status, b ? b : "(none)",
				 rw_verdict_name(v), rw_verdict_name(cases[i].want));
	}
	/* the body is not NUL-terminated: a needle past len is not seen */
	assert_int_equal(rw_verdict_of(500, "too old sample", 8), RW_RETRY);
}

/* Doubling from 500 ms, capped, and never past the cap for large counts. */
static void backoff(void **state)
{
	assert_int_equal(rw_backoff_ms(1, 30000), 500);
	assert_int_equal(rw_backoff_ms(2, 30000), 1000);
	assert_int_equal(rw_backoff_ms(3, 30000), 2000);
	assert_int_equal(rw_backoff_ms(7, 30000), 30000);
	assert_int_equal(rw_backoff_ms(4000000000u, 30000), 30000);
	assert_int_equal(rw_backoff_ms(1, 200), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encodes_what_protobuf_decodes),
	    cmocka_unit_test(lengths_and_negative_times),
	    cmocka_unit_test(refuses_unsorted_labels),
	    cmocka_unit_test(merges_labels),
	    cmocka_unit_test(loads_the_libraries_or_names_the_missing_one),
	    cmocka_unit_test(compresses_as_snappy_blocks),
	    cmocka_unit_test(verdicts),
	    cmocka_unit_test(backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
