// The frame (frame.c): the C state of one stack of execution, the running frame's slot, and
// the resume and suspension that switch between frames.
#ifndef OC_FRAME_H
#define OC_FRAME_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef __has_feature
#define __has_feature(feature) 0
#endif
#if !defined(__clang__)
#define _Nullable
#endif
#include "oc_context.h"

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// What a jump back to a resumer means.
enum {
    /// The coroutine suspended and can be resumed again.
    OC_SUSPENDED = 0,
    /// The coroutine's body ended; its stack can be reused.
    OC_FINISHED = 1,
    /// The coroutine hit the guard region below its stack.
    OC_STACK_OVERFLOW = 2,
};

/// What a suspended coroutine waits for: the dump, the crash report and the debugger
/// extension (Docs/debugging.md) read it. OC_WAIT_NONE while it runs or is ready to run.
typedef enum oc_wait_kind {
    OC_WAIT_NONE = 0,
    /// A deadline (`deadline_ns`).
    OC_WAIT_SLEEP = 1,
    /// Descriptor `fd` to become ready for `events` (1 readable, 2 writable, 3 both).
    OC_WAIT_DESCRIPTOR = 2,
    /// Any of `target` descriptors (poll, select, epoll_wait).
    OC_WAIT_DESCRIPTORS = 3,
    /// The task whose id is `target` to end.
    OC_WAIT_JOIN = 4,
    /// A lock, condition or other parking address (`target`).
    OC_WAIT_LOCK = 5,
    /// A call the blocking pool runs for it.
    OC_WAIT_BLOCKING_POOL = 6,
    /// A pool worker with no task.
    OC_WAIT_IDLE = 7,
    /// Anything else that will wake it (a channel, a wait group).
    OC_WAIT_OTHER = 8,
} oc_wait_kind;

/// The wait a suspended coroutine is in; written only by the coroutine itself, just
/// before it suspends, and read by others without synchronization (a snapshot may be torn,
/// which a report tolerates).
typedef struct oc_wait {
    /// CLOCK_MONOTONIC_COARSE nanoseconds when the wait began: up to one kernel tick early.
    uint64_t since_ns;
    /// CLOCK_MONOTONIC nanoseconds when the wait times out; 0 without a deadline.
    uint64_t deadline_ns;
    /// A task id, an address or a count, as `kind` says.
    uint64_t target;
    int32_t fd;
    uint8_t kind;
    uint8_t events;
    /// The system call waited in, NUL-terminated; empty when none.
    char call[18];
} oc_wait;

/// Everything about one stack of execution that C code (the switch, the fault
/// handler) needs. A coroutine owns one; a plain thread has one in thread-local
/// storage, with no owner and no resumer.
typedef struct oc_frame {
    /// The saved context while suspended, or NULL once the body ended.
    void *_Nullable context;
    /// The context of whoever resumed this frame, while it runs. Under ThreadSanitizer a
    /// suspended coroutine parks its fiber's whereabouts here (sanitizer_switch.c).
    void *_Nullable resumer;
    /// The stack in use: [stack_low, stack_high), with the guard region
    /// [guard_low, stack_low) below it.
    uintptr_t stack_low;
    uintptr_t stack_high;
    uintptr_t guard_low;
    /// The Swift runtime's exclusivity-tracking state while not running.
    void *_Nullable exclusivity[2];
    /// errno as this frame last saw it.
    int saved_errno;
    /// The Swift coroutine object, unretained; NULL for a plain thread.
    void *_Nullable owner;
    /// Runs the owner's body; called once on the frame's own stack.
    void (*_Nullable body)(struct oc_frame *);
    /// The pool task this coroutine is running, unretained; NULL outside tasks.
    void *_Nullable task;
    /// Open `Preemption.withoutPreemption` sections of this frame: while nonzero, the
    /// preemption handler leaves the frame running (oc_preempt.h).
    uint32_t preemption_disabled;
    /// The id of the pool task running on this frame; 0 outside tasks.
    uint64_t task_id;
    /// The task's name, NUL-terminated, owned by the task; NULL when it has none.
    const char *_Nullable task_name;
    /// What the coroutine waits for while suspended.
    oc_wait wait;
    /// Nonzero from a resume to the matching switch back (`resumer` keeps its last value
    /// after a suspension, so it cannot tell).
    uint8_t is_running;
    /// Nonzero while the coroutine is suspended inside the preemption handler, whose return
    /// to the interrupted code is no place to finish a hand-over (oc_frame_hand_over).
    uint8_t suspended_by_signal;
    /// The links of the process's list of coroutine frames (oc_frames_register).
    struct oc_frame *_Nullable registry_previous;
    struct oc_frame *_Nullable registry_next;
} oc_frame;

/// The frame running on this thread: a coroutine's, or the thread's own.
/// Initial-exec TLS, so reading it is one instruction, not a call.
extern __thread oc_frame *_Nullable oc_current_frame __attribute__((tls_model("initial-exec")));

/// Gives this thread an alternate signal stack (once), installs the process-wide
/// fault handler (once) and returns the thread's own frame.
oc_frame *oc_thread_prepare(void);

/// The entry of every coroutine stack, for oc_context_make.
void oc_frame_entry(oc_transfer transfer);

/// The Swift runtime's exclusivity bookkeeping for a unit of execution that
/// leaves and later re-enters a thread (exported by libswiftCore).
void swift_task_enterThreadLocalContext(char *state);
void swift_task_exitThreadLocalContext(char *state);

/// The frame running on this thread, or NULL before the thread's first use.
static inline __attribute__((always_inline)) oc_frame *_Nullable oc_frame_peek(void) {
    return oc_current_frame;
}

/// The frame running on this thread, preparing the thread on first use.
static inline __attribute__((always_inline)) oc_frame *oc_frame_current(void) {
    oc_frame *frame = oc_current_frame;
    return __builtin_expect(frame != NULL, 1) ? frame : oc_thread_prepare();
}

/// Whether coroutines may switch straight to one another (oc_frame_hand_over): not under
/// AddressSanitizer or ThreadSanitizer, whose view of a switch (sanitizer_switch.c) knows a
/// resume and a leave, and no third kind. A function, so that the answer is the one of the
/// C code's own build.
bool oc_frame_hands_over(void);

/// What a resume came back with: why (`signal`, OC_SUSPENDED and the rest), and the frame that
/// jumped back (`left`): the one resumed, or the last frame a chain of hand-overs
/// (oc_frame_hand_over) that began with it gave the resumer to. Two words, returned in
/// registers.
typedef struct oc_resumption {
    uintptr_t signal;
    oc_frame *left;
} oc_resumption;

/// Runs `frame` on this thread until a frame jumps back.
///
/// The Swift runtime's exclusivity access list and errno are thread-local: the
/// resumer's are set aside and the frame's own put in place for the time it
/// runs, so each coroutine keeps its own wherever it is resumed.
static inline __attribute__((always_inline)) oc_resumption oc_frame_resume(oc_frame *frame) {
    oc_frame *previous = oc_frame_current();
    oc_current_frame = frame;
    int *error = &errno;
    int resumer_errno = *error;
    *error = frame->saved_errno;
    swift_task_enterThreadLocalContext((char *)frame->exclusivity);
    frame->is_running = 1;
    oc_transfer transfer = oc_context_jump((void *)frame->context, 0);
    // Whoever jumps back is the running frame: a hand-over makes its target current.
    oc_frame *back = oc_current_frame;
    back->is_running = 0;
    swift_task_exitThreadLocalContext((char *)back->exclusivity);
    back->saved_errno = *error;
    *error = resumer_errno;
    oc_current_frame = previous;
    back->context = transfer.value == OC_SUSPENDED ? transfer.context : NULL;
    return (oc_resumption){.signal = transfer.value, .left = back};
}

/// Finishes the jump that resumed `frame`: records where to jump back to, and returns the
/// frame that handed this thread over to it (its saved context now in place), or NULL
/// when a resumer resumed it. A resumer always passes 0; a hand-over passes the frame it
/// leaves, never NULL.
static inline __attribute__((always_inline)) oc_frame *_Nullable oc_frame_land(oc_frame *frame, oc_transfer transfer) {
    if (transfer.value != 0) {
        oc_frame *from = (oc_frame *)transfer.value;
        from->context = transfer.context;
        return from;
    }
    frame->resumer = transfer.context;
    return NULL;
}

/// Leaves the running frame for its resumer; returns, once the frame runs again, the frame
/// that handed over to it, if one did (oc_frame_land).
static inline __attribute__((always_inline)) oc_frame *_Nullable oc_frame_suspend(oc_frame *frame) {
    oc_transfer transfer = oc_context_jump((void *)frame->resumer, OC_SUSPENDED);
    return oc_frame_land(frame, transfer);
}

/// Switches from the running frame `from` straight to the suspended frame `to`, which takes
/// over `from`'s resumer: the resumer's oc_frame_resume returns whichever frame jumps back
/// to it. Does for both frames what a suspension of `from` and a resume of `to` would do in
/// the resumer (the exclusivity access lists, errno, the running mark, the thread's running
/// frame), with one jump instead of two. `to` finishes the switch as it lands, storing
/// `from`'s saved context; until then `from` must not be resumable (its status says running).
/// Returns as oc_frame_suspend does.
static inline __attribute__((always_inline)) oc_frame *_Nullable oc_frame_hand_over(oc_frame *from, oc_frame *to) {
    from->is_running = 0;
    swift_task_exitThreadLocalContext((char *)from->exclusivity);
    int *error = &errno;
    from->saved_errno = *error;
    *error = to->saved_errno;
    swift_task_enterThreadLocalContext((char *)to->exclusivity);
    to->resumer = from->resumer;
    to->is_running = 1;
    oc_current_frame = to;
    oc_transfer transfer = oc_context_jump((void *)to->context, (uintptr_t)from);
    return oc_frame_land(from, transfer);
}

/// Whether the caller runs on `frame`'s own stack: false in a signal handler on an alternate
/// stack, and on a thread that shares this thread's TLS without its stack (the Swift crash
/// handler's memory server is cloned so), where the frame's thread-local slot is not about
/// the caller.
static inline __attribute__((always_inline)) bool oc_frame_runs_here(const oc_frame *frame) {
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    return here >= frame->stack_low && here < frame->stack_high;
}

/// Marks `frame` as running the task `id` named `name` (0 and NULL: no task). Atomic, as the
/// readers (the watchdog, the dump) are other threads.
static inline __attribute__((always_inline)) void oc_frame_label(oc_frame *frame, uint64_t id, const char *_Nullable name) {
    __atomic_store_n(&frame->task_id, id, __ATOMIC_RELAXED);
    // Release: a reader that sees the name sees its bytes, written by the spawning thread.
    __atomic_store_n(&frame->task_name, name, __ATOMIC_RELEASE);
}

/// The id of the task `frame` runs, read from another thread.
static inline __attribute__((always_inline)) uint64_t oc_frame_task_id(const oc_frame *frame) {
    return __atomic_load_n(&frame->task_id, __ATOMIC_RELAXED);
}

/// The name of the task `frame` runs, read from another thread.
static inline __attribute__((always_inline)) const char *_Nullable oc_frame_task_name(const oc_frame *frame) {
    return __atomic_load_n(&frame->task_name, __ATOMIC_ACQUIRE);
}

/// Notes the wait the running coroutine is about to suspend in (see oc_wait).
void oc_frame_note_wait(oc_frame *frame, uint8_t kind, int32_t fd, uint8_t events, uint64_t target,
                        uint64_t deadline_ns, const char *_Nullable call);

/// Bytes of stack left below the caller on the running frame's stack.
static inline __attribute__((always_inline)) uintptr_t oc_stack_remaining(void) {
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    oc_frame *frame = oc_frame_current();
    return here > frame->stack_low ? here - frame->stack_low : 0;
}

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
