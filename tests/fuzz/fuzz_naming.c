/* The naming table's text fields: metric_column.row_filter and .labels. */
#include "fuzz.h"
#include "metrics/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct err e;
	struct filter_term *t;
	struct metric_label *l;
	size_t n;
	if (metric_filter_parse(text, &t, &n, &e) == 0)
		metric_filter_free(t, n);
	if (metric_labels_parse(text, &l, &n, &e) == 0)
		metric_labels_free(l, n);
	free(text);
	return 0;
}
