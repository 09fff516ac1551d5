// The futex parker: how a plain thread (one that joins a task, the runtime's own idle
// threads) sleeps until another thread wakes it. One word, three states; the futex calls are
// the system call instruction itself (oc_sys_raw), as the hook library interposes libc's
// `syscall` and the runtime's own waits must not go through it.
#define _GNU_SOURCE
#include "oc_parker.h"
#include "oc_syscall.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>

enum { EMPTY = 0, PARKED = 1, NOTIFIED = 2 };

static _Atomic uint32_t *parker_state(oc_parker *parker) {
    return (_Atomic uint32_t *)&parker->state;
}

void oc_parker_park(oc_parker *parker, int64_t timeout_ns) {
    _Atomic uint32_t *state = parker_state(parker);
    // A notification that arrived before we got here is consumed without sleeping.
    if (atomic_exchange_explicit(state, EMPTY, memory_order_acquire) == NOTIFIED) {
        return;
    }
    uint32_t expected = EMPTY;
    if (!atomic_compare_exchange_strong_explicit(state, &expected, PARKED, memory_order_acquire,
                                                 memory_order_acquire)) {
        atomic_store_explicit(state, EMPTY, memory_order_release);
        return;
    }
    struct timespec timeout;
    struct timespec *relative = NULL;
    if (timeout_ns >= 0) {
        timeout.tv_sec = timeout_ns / 1000000000;
        timeout.tv_nsec = timeout_ns % 1000000000;
        relative = &timeout;
    }
    // Spurious returns (EINTR, EAGAIN) are fine: the caller re-checks its work and parks again.
    oc_sys_raw(SYS_futex, (long)&parker->state, FUTEX_WAIT_PRIVATE, PARKED, (long)relative, 0, 0);
    atomic_store_explicit(state, EMPTY, memory_order_release);
}

void oc_parker_unpark(oc_parker *parker) {
    if (atomic_exchange_explicit(parker_state(parker), NOTIFIED, memory_order_release) == PARKED) {
        oc_sys_raw(SYS_futex, (long)&parker->state, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    }
}
