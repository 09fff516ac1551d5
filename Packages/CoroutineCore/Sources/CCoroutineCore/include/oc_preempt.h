#ifndef OC_PREEMPT_H
#define OC_PREEMPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "oc_frame.h"

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// What one scheduler thread's preemption handler did. The handler writes it on its thread;
/// the monitor and the runtime's counters read it from others (oc_preempt_load).
typedef struct oc_preempt_counts {
    /// Requests the handler received.
    uint64_t delivered;
    /// Requests that switched the coroutine out at the interrupted instruction.
    uint64_t preempted;
    /// Requests that landed where a switch is unsafe; the coroutine switches at its next
    /// safe point instead.
    uint64_t deferred;
} oc_preempt_counts;

/// The tally of this thread's handler; NULL on threads whose coroutines are not preempted.
extern __thread oc_preempt_counts *_Nullable oc_preempt_thread_counts __attribute__((tls_model("initial-exec")));
/// The coroutine (its frame's owner) that this thread's scheduler resumed directly: the only
/// one the handler may switch out, back to that scheduler.
extern __thread void *_Nullable oc_preempt_target __attribute__((tls_model("initial-exec")));
/// Set by the handler when a request landed at an unsafe point of the target coroutine.
extern __thread bool oc_preempt_pending __attribute__((tls_model("initial-exec")));
/// Set by the handler when it switched the target coroutine out, for its scheduler.
extern __thread bool oc_preempt_switched __attribute__((tls_model("initial-exec")));

/// The signal that carries preemption requests: SIGRTMIN + 8.
int oc_preempt_signal(void);

/// Installs the preemption handler (once per process); returns 0 or an errno value.
int oc_preempt_install(void);

/// Makes the calling thread's coroutines preemptible, tallied in `counts`; NULL undoes it.
void oc_preempt_attach(oc_preempt_counts *_Nullable counts);

/// Sends a preemption request to thread `tid` of this process; returns 0 or an errno value.
int oc_preempt_request(pid_t tid);

/// Rebuilds the table of preemptible code if a shared object was loaded or unloaded since
/// the last call (one cheap look when nothing changed). Any thread may call it: a call made
/// while another thread rebuilds returns at once. The hook library's thread-lock hooks read
/// the same table, so the runtime builds it at start even without preemption.
void oc_preempt_refresh_code(void);

/// Whether an instruction at `pc` may be interrupted by a switch: it belongs to the program
/// or to a library outside the runtime, libc, the Swift runtime, the allocators and the other
/// system libraries that hold locks (preempt.c lists them).
bool oc_preempt_code_is_preemptible(uintptr_t pc);

/// Whether a lock wait called from `pc` may suspend its coroutine: preemptible code, or one of
/// the libraries that are never preempted but whose lock waits are a user's (Foundation's
/// `NSLock`, libdispatch, ICU; preempt.c lists them).
bool oc_preempt_code_may_wait(uintptr_t pc);

/// Whether `pc` is in Foundation, whose CoreFoundation run loops wait in poll (RunLoopWaits).
bool oc_preempt_code_runs_run_loops(uintptr_t pc);

/// Whether `pc` is in the runtime's own shared object; false when the runtime is linked
/// into the program (see `oc_preempt_runtime_is_shared`).
bool oc_preempt_code_is_runtime(uintptr_t pc);

/// Whether the runtime's own code lies outside the program, in a shared object that the
/// table can leave out. When it does not (the runtime linked into the program itself, as in
/// its own package's tests), no code of the program is preemptible.
bool oc_preempt_runtime_is_shared(void);

/// Reads a count of another thread's tally.
static inline __attribute__((always_inline)) uint64_t oc_preempt_load(const uint64_t *count) {
    return __atomic_load_n(count, __ATOMIC_RELAXED);
}

/// Marks `owner` as the coroutine this thread's scheduler is about to resume; returns the
/// previous target, for `oc_preempt_leave`.
static inline __attribute__((always_inline)) void *_Nullable oc_preempt_enter(void *owner) {
    void *previous = oc_preempt_target;
    oc_preempt_pending = false;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    oc_preempt_target = owner;
    return previous;
}

/// Makes `owner` the target of the resume in progress: the coroutine the running one hands
/// the thread over to (oc_frame_hand_over). A request pending for the one that leaves is
/// answered by the switch.
static inline __attribute__((always_inline)) void oc_preempt_retarget(void *owner) {
    oc_preempt_pending = false;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    oc_preempt_target = owner;
}

/// Ends the resume `oc_preempt_enter` began; returns whether the coroutine came back
/// because it was preempted.
static inline __attribute__((always_inline)) bool oc_preempt_leave(void *_Nullable previous) {
    oc_preempt_target = previous;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    bool switched = oc_preempt_switched;
    oc_preempt_switched = false;
    return switched;
}

/// Takes the mark of a preemption that was deferred, if any, unless the running frame is
/// inside a `withoutPreemption` section (the mark then waits for a later safe point).
static inline __attribute__((always_inline)) bool oc_preempt_take_pending(void) {
    if (__builtin_expect(!oc_preempt_pending, 1) || oc_frame_current()->preemption_disabled != 0) {
        return false;
    }
    oc_preempt_pending = false;
    return true;
}

/// Opens a section in which the running frame is not preempted.
static inline __attribute__((always_inline)) void oc_preempt_disable(void) {
    oc_frame_current()->preemption_disabled++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/// Closes the section `oc_preempt_disable` opened.
static inline __attribute__((always_inline)) void oc_preempt_enable(void) {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    oc_frame_current()->preemption_disabled--;
}

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
