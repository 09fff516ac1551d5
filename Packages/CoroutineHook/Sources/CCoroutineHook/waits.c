// How the wait hooks wait: what the pthread lock hooks (thread_locks.c), the semaphore hooks
// (semaphores.c) and the futex hook (futex.c) share.
//
// A hook that waits cooperatively parks the running coroutine on the address of the object it
// waits for (CoroutineCore's ParkingLot), and the call that releases or signals the object
// unparks it there. A process-wide count of parked waiters lets every release skip the lot
// while nobody waits, which is nearly always.
#define _GNU_SOURCE
#include "oc_hook.h"

#include <dlfcn.h>
#include <time.h>

#include "oc_clock.h"
#include "oc_frame_walk.h"
#include "oc_preempt.h"

/// Coroutines parked through these hooks, process-wide.
static long parked_waiters;

void *oc_hook_scheduled_coroutine(void) {
    oc_frame *frame = oc_frame_peek();
    if (frame == NULL || frame->owner == NULL || frame->owner != oc_preempt_target || !oc_frame_runs_here(frame)) {
        return NULL;
    }
    return frame->owner;
}

bool oc_hook_from_waiting_code(void *caller) {
    return oc_hook_enabled() && oc_preempt_code_may_wait((uintptr_t)caller);
}

void *oc_hook_libc_function(void **cache, const char *name) {
    void *function = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (function == NULL) {
        function = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cache, function, __ATOMIC_RELEASE);
    }
    return function;
}

int64_t oc_hook_monotonic_ns(void) {
    return (int64_t)oc_monotonic_ns();
}

bool oc_hook_is_valid_time(const struct timespec *time) {
    return time->tv_nsec >= 0 && time->tv_nsec < 1000000000;
}

int64_t oc_hook_monotonic_deadline(clockid_t clock, const struct timespec *abstime) {
    struct timespec now;
    clock_gettime(clock, &now);
    int64_t remaining = ((int64_t)abstime->tv_sec - now.tv_sec) * 1000000000 + (abstime->tv_nsec - now.tv_nsec);
    return oc_hook_monotonic_ns() + (remaining > 0 ? remaining : 0);
}

oc_park_outcome oc_hook_park_counted(const void *address, int64_t deadline, bool (*should_park)(void *),
                                     void *context) {
    __atomic_fetch_add(&parked_waiters, 1, __ATOMIC_SEQ_CST);
    oc_park_outcome outcome = oc_hook_park(address, deadline, should_park, context);
    __atomic_fetch_sub(&parked_waiters, 1, __ATOMIC_SEQ_CST);
    return outcome;
}

oc_park_outcome oc_hook_park_with_backstop(const void *address, int64_t deadline, int64_t *backstop, int64_t cap,
                                           bool (*should_park)(void *), void *context) {
    int64_t retry = oc_hook_monotonic_ns() + *backstop;
    bool limited = deadline >= 0 && deadline <= retry;
    oc_park_outcome outcome = oc_hook_park_counted(address, limited ? deadline : retry, should_park, context);
    if (*backstop < cap) {
        *backstop *= 2;
    }
    return outcome;
}

int oc_hook_unpark_counted(const void *address, bool all) {
    // Pairs with the waiter's count-then-retry: either it sees the release, or this sees it.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&parked_waiters, __ATOMIC_RELAXED) == 0) {
        return 0;
    }
    return oc_hook_unpark(address, all);
}

bool oc_hook_has_parked_waiters(void) {
    return __atomic_load_n(&parked_waiters, __ATOMIC_RELAXED) != 0;
}

bool oc_hook_called_from_run_loop(void) {
    oc_frame *frame = oc_frame_peek();
    if (frame == NULL) {
        return false;
    }
    // The hook's own frames (this function, the Swift hook, its C entry thunk and, unoptimized,
    // the exported function of exports.c) come first; the caller's return address is among the
    // next few.
    uintptr_t addresses[6];
    int count = oc_frame_walk((uintptr_t)__builtin_frame_address(0), frame->stack_low, frame->stack_high, addresses, 6);
    for (int index = 0; index < count; index++) {
        if (oc_preempt_code_runs_run_loops(addresses[index])) {
            return true;
        }
    }
    return false;
}
