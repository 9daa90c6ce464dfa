/* The storage model behind `hindsight status`: days each tier holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/storage.h"

/* Gives each tier, hours first (the cap prunes them last), the days its age
 * asks for or what is left of the cap, whichever is less. A tier that gains
 * nothing holds its whole age; one kept for ever under no cap grows for ever. */
void storage_plan(const double bytes_per_day[NTIERS], const int64_t keep_s[NTIERS], int64_t cap,
		  struct storage_plan *out)
{
	double left = cap > 0 ? (double)cap : -1; /* < 0: no cap */
	out->steady_bytes = 0;
	for (int t = NTIERS - 1; t >= 0; t--) {
		double rate = bytes_per_day[t] > 0 ? bytes_per_day[t] : 0;
		double want = keep_s[t] > 0 ? (double)keep_s[t] / 86400.0 : -1;
		double days = want;
		out->want_days[t] = want;
		out->cut[t] = 0;
		if (rate > 0 && left >= 0 && (want < 0 || want * rate > left)) {
			days = left / rate;
			out->cut[t] = 1;
		}
		out->days[t] = days;
		if (rate > 0 && days < 0) {
			out->steady_bytes = -1;
		} else if (rate > 0) {
			if (left >= 0)
				left -= days * rate;
			if (out->steady_bytes >= 0)
				out->steady_bytes += days * rate;
		}
	}
}

/* The least span of rows whose bytes tell a daily rate. */
static const int64_t min_span_s[NTIERS] = {600, 3600, 86400};

/* A tier's or event log's bytes a day, or -1 when its rows span too little. */
static double tier_rate(const struct tier_report *t, int64_t bucket_s, int64_t min_span)
{
	if (t->bytes < 0 || t->rows <= 0 || t->oldest_ts <= 0)
		return -1;
	int64_t span = t->newest_ts - t->oldest_ts + bucket_s;
	if (span < min_span)
		return -1;
	return (double)t->bytes * 86400.0 / (double)span;
}

void storage_rates(const struct tiers_report *r, double rate[NTIERS], int known[NTIERS])
{
	for (size_t i = 0; i < NTIERS; i++) {
		double v =
		    i < r->ntiers ? tier_rate(&r->tiers[i], tier_bucket_s[i], min_span_s[i]) : -1;
		known[i] = v >= 0;
		rate[i] = v > 0 ? v : 0;
	}
	for (size_t i = NTIERS; i < r->ntiers; i++) {
		double v = tier_rate(&r->tiers[i], 0, min_span_s[TIER_RAW]);
		if (v > 0)
			rate[TIER_RAW] += v;
	}
}

static void bytes_text(double b, char *buf, size_t n)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4)
		b /= 1024, u++;
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void days_text(double d, char *buf, size_t n)
{
	if (d < 0)
		snprintf(buf, n, "for ever");
	else if (d < 1.0 / 24)
		snprintf(buf, n, "none");
	else if (d < 1)
		snprintf(buf, n, "%.1f h", d * 24);
	else
		snprintf(buf, n, "%.0f d", d);
}

void storage_print(const struct tiers_report *r)
{
	double rate[NTIERS];
	int known[NTIERS];
	int64_t keep[NTIERS];
	struct storage_plan p;
	char line[512] = "", b[32], d[32], w[32];
	size_t at = 0;
	int unknown_age = 0;
	storage_rates(r, rate, known);
	for (int t = 0; t < NTIERS; t++) {
		keep[t] =
		    t < (int)r->ntiers && r->tiers[t].max_age_s > 0 ? r->tiers[t].max_age_s : 0;
		bytes_text(rate[t], b, sizeof(b));
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s %s", t ? ", " : "",
				       tier_names[t], known[t] ? b : "?");
	}
	printf("storage       a day at current rates: %s%s\n", line,
	       known[TIER_1H] ? "" : " (? until a tier's rows span long enough to tell)");
	if (unknown_age || r->max_db_bytes < 0) {
		printf("              days held: unknown (no hindsightd has stored its retention "
		       "settings here)\n");
		return;
	}
	storage_plan(rate, keep, r->max_db_bytes, &p);
	at = 0;
	for (int t = 0; t < NTIERS; t++) {
		days_text(p.days[t], d, sizeof(d));
		days_text(p.want_days[t], w, sizeof(w));
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s %s of %s", t ? ", " : "",
				       tier_names[t], d, w);
	}
	bytes_text(p.steady_bytes, b, sizeof(b));
	printf("              holds %s\n", line);
	printf("              the file settles at %s\n",
	       p.steady_bytes < 0 ? "no size: it grows for ever" : b);
	for (int t = TIER_1M; t < NTIERS; t++)
		if (p.cut[t] && known[t]) {
			days_text(p.days[t], d, sizeof(d));
			days_text(p.want_days[t], w, sizeof(w));
			printf("warning       max_db_size cuts the %s tier to %s of its %s (raise "
			       "it or lower retention.%s)\n",
			       tier_names[t], d, w, tier_names[t]);
		}
}

/* A table's bytes a day, or -1 when its rows span too little to tell. */
static double table_rate(const struct table_stats *t, int64_t bucket_s, int64_t min_span)
{
	if (t->bytes < 0 || t->rows <= 0 || t->first <= 0 || t->last < t->first)
		return -1;
	int64_t span = t->last - t->first + bucket_s;
	return span < min_span ? -1 : (double)t->bytes * 86400.0 / (double)span;
}

static const struct table_stats *find_table(const struct table_stats *t, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

/* -1: too little to tell; -2: no such rollup. */
static void rate_text(double r, char *buf, size_t n)
{
	if (r < -1)
		snprintf(buf, n, "-");
	else if (r < 0)
		snprintf(buf, n, "?");
	else
		bytes_text(r, buf, n);
}

struct family_rate {
	const char *name;
	double rate[NTIERS];
};

static int by_raw_rate(const void *a, const void *b)
{
	double x = ((const struct family_rate *)a)->rate[TIER_RAW];
	double y = ((const struct family_rate *)b)->rate[TIER_RAW];
	return (x < y) - (x > y);
}

void storage_print_families(const struct table_stats *t, int n)
{
	static struct family_rate f[256];
	int nf = 0;
	for (int i = 0; i < n && nf < (int)(sizeof(f) / sizeof(f[0])); i++) {
		size_t len = strlen(t[i].name);
		if ((len > 3 && (!strcmp(t[i].name + len - 3, "_1m") ||
				 !strcmp(t[i].name + len - 3, "_1h"))) ||
		    t[i].first <= 0 || t[i].rows <= 0)
			continue; /* a rollup, empty, or not dated (a dimension) */
		f[nf].name = t[i].name;
		f[nf].rate[TIER_RAW] = table_rate(&t[i], 0, min_span_s[TIER_RAW]);
		for (int k = TIER_1M; k < NTIERS; k++) {
			char name[80];
			snprintf(name, sizeof(name), "%s_%s", t[i].name, tier_names[k]);
			const struct table_stats *r = find_table(t, n, name);
			f[nf].rate[k] = r ? table_rate(r, tier_bucket_s[k], min_span_s[k]) : -2;
		}
		nf++;
	}
	qsort(f, (size_t)nf, sizeof(f[0]), by_raw_rate);
	printf("\n%-26s %12s %12s %12s\n", "bytes a day", "raw", "1m", "1h");
	for (int i = 0; i < nf; i++) {
		char r[NTIERS][32];
		for (int k = 0; k < NTIERS; k++)
			rate_text(f[i].rate[k], r[k], sizeof(r[k]));
		printf("%-26s %12s %12s %12s\n", f[i].name, r[0], r[1], r[2]);
	}
}
