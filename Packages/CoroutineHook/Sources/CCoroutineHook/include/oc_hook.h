// The C half of the hook library: what Swift cannot express (variadic entry points, a load-time
// constructor, glibc's fortify failure), the interposition check, and the pthread lock hooks,
// which must run before the Swift runtime does and call glibc by version.
#ifndef OC_HOOK_H
#define OC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oc_frame.h"

/// Whether the hooks route calls to the runtime: the library interposes libc (checked when it
/// was loaded) and nobody switched hooking off.
bool oc_hook_enabled(void);

/// Whether the caller runs where this thread's runtime state does not describe it: a signal
/// handler on an alternate stack, or a thread cloned without thread-local storage of its own
/// (Swift's crash handler clones its memory server so, on a 4 KiB stack), which sees the
/// slots of the thread it was cloned from. Such a caller gets libc's own call, before any
/// Swift code runs: nothing else is safe there.
static inline __attribute__((always_inline)) bool oc_hook_caller_is_foreign(void) {
    oc_frame *frame = oc_frame_peek();
    return frame != NULL && !oc_frame_runs_here(frame);
}

/// Switches hooking on or off; on only works when the library really interposes libc.
/// Returns whether hooking is on afterwards.
bool oc_hook_set_enabled(bool enabled);

/// Resolves the libc functions the hooks fall back to (LibcFunctions.swift); the library's
/// constructor calls it once.
void oc_hook_prepare(void);

/// Why the library does not interpose libc, or NULL when it does.
const char *oc_hook_failure(void);

/// glibc's report of a buffer overflow caught by a fortified call (`__read_chk` and friends).
_Noreturn void __chk_fail(void);

/// How `oc_hook_park` ended (CoroutineCore's `ParkingLot.Outcome`).
typedef enum oc_park_outcome {
    OC_PARK_UNPARKED = 0,
    OC_PARK_TIMED_OUT = 1,
    /// `should_park` returned false: the caller never suspended.
    OC_PARK_NOT_PARKED = 2,
} oc_park_outcome;

// Implemented in Swift: the parking lot of the lock hooks (thread_locks.c), whose deadlines
// are monotonic nanoseconds (-1: none), and the targets of the variadic entry points.
oc_park_outcome oc_hook_park(const void *address, int64_t deadline, bool (*should_park)(void *context),
                             void *context);
void oc_hook_unpark(const void *address, bool all);
int oc_hook_fcntl(int fd, int command, long argument);
int oc_hook_ioctl(int fd, unsigned long request, void *argument);
int oc_hook_openat(int directory, const char *path, int flags, unsigned int mode);
int oc_api_init(size_t threads, size_t stack_size, size_t min_workers, size_t max_workers, uint64_t keep_alive_ns,
                bool hook, uint64_t preemption_slice_ns, bool preemption);

#endif
