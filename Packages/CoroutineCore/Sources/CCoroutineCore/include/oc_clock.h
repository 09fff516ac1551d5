// The runtime's clock (clock.c).
#ifndef OC_CLOCK_H
#define OC_CLOCK_H

#include <stdint.h>

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t oc_monotonic_ns(void);

#endif
