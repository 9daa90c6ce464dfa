#ifndef HINDSIGHT_COLLECT_COUNTER_H
#define HINDSIGHT_COLLECT_COUNTER_H

#include <stdint.h>

/* The delta of a counter that may be only 32 bits wide in the kernel (old
 * network drivers; diskstats time fields before 5.x print as unsigned int).
 * A counter that went backwards wrapped at 2^32 when both readings fit in 32
 * bits and the wrapped distance is under half the range (prev was high, cur
 * is low); anything else is a reset, and the delta is cur: what accumulated
 * since. Never negative, never a bogus 2^64-sized jump. */
static inline uint64_t counter_delta_wrap32(uint64_t prev, uint64_t cur)
{
	if (cur >= prev)
		return cur - prev;
	if (prev <= UINT32_MAX) {
		uint64_t wrapped = (1ULL << 32) - prev + cur;
		if (wrapped < (1ULL << 31))
			return wrapped;
	}
	return cur;
}

#endif
