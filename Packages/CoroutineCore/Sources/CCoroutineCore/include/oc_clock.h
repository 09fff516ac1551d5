// The runtime's clock (clock.c).
#ifndef OC_CLOCK_H
#define OC_CLOCK_H

#include <stdint.h>

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t oc_monotonic_ns(void);

/// CLOCK_MONOTONIC_COARSE in nanoseconds: the same time base, at most one kernel tick (1 to
/// 10 ms) behind, for a fifth of the cost. For records that say how long something lasted in
/// milliseconds (a coroutine's wait in the dump), never for deadlines.
uint64_t oc_monotonic_coarse_ns(void);

#endif
