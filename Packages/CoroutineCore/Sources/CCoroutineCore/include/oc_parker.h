// The futex parker a plain thread sleeps on (parker.c).
#ifndef OC_PARKER_H
#define OC_PARKER_H

#include <stdint.h>

/// A one-waiter parking spot on a futex: park sleeps until unparked or a timeout; an
/// unpark that comes first makes the next park return at once, so no wakeup is lost.
typedef struct oc_parker {
    uint32_t state;
} oc_parker;

/// Sleeps until `oc_parker_unpark` or until `timeout_ns` passed (negative: no timeout).
void oc_parker_park(oc_parker *parker, int64_t timeout_ns);

/// Wakes the parked thread, or makes its next park return at once.
void oc_parker_unpark(oc_parker *parker);

#endif
