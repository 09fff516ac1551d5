// The runtime's clock: CLOCK_MONOTONIC in nanoseconds, the one time base of its deadlines,
// timers, and of the hook library's lock and futex deadlines (waits.c).
#include "oc_clock.h"

#include <time.h>

uint64_t oc_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint64_t oc_monotonic_coarse_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
