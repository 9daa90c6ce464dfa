/* The storage model behind `hindsight status`: days each tier holds. */
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
