#define _GNU_SOURCE
#include "oc_thread.h"
#include "oc_syscall.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__thread void *oc_current_scheduler __attribute__((tls_model("initial-exec")));

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

int oc_thread_pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void oc_thread_set_name(const char *name) {
    char kept[16] = {0};
    strncpy(kept, name, sizeof kept - 1);
    pthread_setname_np(pthread_self(), kept);
}

int oc_available_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) {
            return count;
        }
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

uint64_t oc_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
