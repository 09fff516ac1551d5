#ifndef OC_THREAD_H
#define OC_THREAD_H

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

/// Pins the calling thread to one CPU; returns 0 or an errno value.
int oc_thread_pin(int cpu);

/// Names the calling thread as `top -H`, `ps -L`, `perf` and debuggers show it. Linux keeps 15
/// bytes of a name, so a longer one is cut there rather than refused.
void oc_thread_set_name(const char *name);

/// The number of CPUs this process may run on.
int oc_available_cpus(void);

/// The scheduler running on this thread (an unretained Swift object), or NULL.
extern __thread void *oc_current_scheduler __attribute__((tls_model("initial-exec")));

static inline __attribute__((always_inline)) void *oc_scheduler_get(void) {
    return oc_current_scheduler;
}

static inline __attribute__((always_inline)) void oc_scheduler_set(void *scheduler) {
    oc_current_scheduler = scheduler;
}

/// Tells the CPU the caller is spinning (x86 pause, arm yield), a few dozen cycles.
static inline __attribute__((always_inline)) void oc_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Monotonic time in nanoseconds.
uint64_t oc_monotonic_ns(void);

#endif
