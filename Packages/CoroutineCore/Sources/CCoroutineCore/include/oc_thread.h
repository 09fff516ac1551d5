// The calling thread as the runtime knows it (thread.c): its kernel id, its name, and the
// scheduler that runs on it.
#ifndef OC_THREAD_H
#define OC_THREAD_H

#include <sys/types.h>

/// The kernel's id of the calling thread.
pid_t oc_thread_id(void);

/// Names the calling thread as `top -H`, `ps -L`, `perf` and debuggers show it. Linux keeps 15
/// bytes of a name, so a longer one is cut there rather than refused.
void oc_thread_set_name(const char *name);

/// The scheduler running on this thread (an unretained Swift object), or NULL.
/// Initial-exec TLS, so reading it is one instruction, not a call.
extern __thread void *oc_current_scheduler __attribute__((tls_model("initial-exec")));

static inline __attribute__((always_inline)) void *oc_scheduler_get(void) {
    return oc_current_scheduler;
}

static inline __attribute__((always_inline)) void oc_scheduler_set(void *scheduler) {
    oc_current_scheduler = scheduler;
}

#endif
