#ifndef OC_FRAME_H
#define OC_FRAME_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

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

/// Runs `frame` on this thread until it jumps back, and returns why it did.
///
/// The Swift runtime's exclusivity access list and errno are thread-local: the
/// resumer's are set aside and the frame's own put in place for the time it
/// runs, so each coroutine keeps its own wherever it is resumed.
static inline __attribute__((always_inline)) uintptr_t oc_frame_resume(oc_frame *frame, uintptr_t value) {
    oc_frame *previous = oc_frame_current();
    oc_current_frame = frame;
    int *error = &errno;
    int resumer_errno = *error;
    *error = frame->saved_errno;
    swift_task_enterThreadLocalContext((char *)frame->exclusivity);
    oc_transfer transfer = oc_context_jump((void *)frame->context, value);
    swift_task_exitThreadLocalContext((char *)frame->exclusivity);
    frame->saved_errno = *error;
    *error = resumer_errno;
    oc_current_frame = previous;
    frame->context = transfer.value == OC_SUSPENDED ? transfer.context : NULL;
    return transfer.value;
}

/// Leaves the running frame for its resumer; returns the value of the next resume.
static inline __attribute__((always_inline)) uintptr_t oc_frame_suspend(oc_frame *frame) {
    oc_transfer transfer = oc_context_jump((void *)frame->resumer, OC_SUSPENDED);
    frame->resumer = transfer.context;
    return transfer.value;
}

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
