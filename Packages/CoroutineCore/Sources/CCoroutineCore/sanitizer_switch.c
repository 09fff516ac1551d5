// The context switch as AddressSanitizer and ThreadSanitizer see it; compiled only under one
// of them (sanitizer_switch.h). Neither can see a stack switch made in assembly: ASan keeps
// one stack per thread (its bounds, and a fake stack for use-after-return), TSan one shadow
// call stack and one happens-before clock. Every coroutine is therefore a fiber to them:
// oc_context_jump tells them before each jump which stack and fiber comes next, and the side
// that arrives finishes the switch.
//
// The jump tells a resume from a leave by where it goes: a resume (oc_frame_resume) has
// already made the frame current and jumps to its saved context; a leave (a suspension, the
// body's end in oc_frame_entry, the overflow jump of the fault handler, a preemption) jumps
// to the current frame's resumer. Other jumps (none in the runtime) are passed through.
//
// What each side needs of the other:
//   - A coroutine going back needs its resumer's stack (ASan) and fiber (TSan). The resumer
//     keeps them in a record on its own stack, pushed on a per-thread list for the time of the
//     resume; resumes on one thread nest, so the running coroutine's is the innermost, on
//     whichever thread it now runs. ASan tells the coroutine the resumer's stack as it arrives.
//   - A resumer needs the coroutine's stack (the frame's bounds, which maybeGrowStack points
//     at the grown stack while it runs there) and, under TSan, its fiber: a suspended
//     coroutine keeps it on its own stack and parks a pointer to it in its frame's `resumer`,
//     which nothing reads while the coroutine is suspended. The first resume creates the
//     fiber, and the resume that sees the coroutine end destroys it.
#define _GNU_SOURCE
#include "sanitizer_switch.h"

#if OC_ASAN_SWITCH || OC_TSAN_SWITCH

#include <stddef.h>

#include "oc_frame.h"

#if OC_ASAN_SWITCH
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if OC_TSAN_SWITCH
#include <sanitizer/tsan_interface.h>
#endif

// The switch functions are not instrumented: ASan would put their locals on the fake stack
// that a finishing coroutine destroys before its last jump, and TSan would charge what they do
// between the fiber switch and the jump to the fiber that comes next.
#define OC_UNINSTRUMENTED __attribute__((noinline, no_sanitize("address", "thread")))

/// One resume in progress, on the resumer's stack.
typedef struct switch_record {
    /// The resume this one is nested in on the same thread, or NULL.
    struct switch_record *outer;
#if OC_ASAN_SWITCH
    /// The resumer's stack as ASan knows it, filled in by the coroutine as it arrives.
    const void *stack_bottom;
    size_t stack_size;
#endif
#if OC_TSAN_SWITCH
    /// The resumer's fiber.
    void *fiber;
#endif
} switch_record;

/// The innermost resume in progress on this thread.
static __thread switch_record *innermost_resume;

#if OC_TSAN_SWITCH
/// What a suspended coroutine keeps on its own stack for its next resumer.
typedef struct parked_coroutine {
    void *fiber;
} parked_coroutine;
#endif

// Not inlined into leave: the coroutine may have moved to another thread, whose list must be
// read afresh.
OC_UNINSTRUMENTED void oc_sanitizer_arrived(oc_frame *frame, void *fake_stack) {
#if OC_ASAN_SWITCH
    switch_record *record = innermost_resume;
    __sanitizer_finish_switch_fiber(fake_stack, &record->stack_bottom, &record->stack_size);
    if (fake_stack == NULL) {
        // A stack from the pool may hold the poisoned shadow of frames a previous coroutine
        // abandoned (an overflow does not unwind): none of it is live for this coroutine.
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        __asan_unpoison_memory_region((void *)frame->stack_low, here - frame->stack_low);
    }
#else
    (void)frame;
    (void)fake_stack;
#endif
}

OC_UNINSTRUMENTED static oc_transfer resume(oc_frame *frame, void *to, uintptr_t value) {
    switch_record record = {.outer = innermost_resume};
#if OC_TSAN_SWITCH
    record.fiber = __tsan_get_current_fiber();
    // Sound: while the coroutine is suspended its resumer field points at its parked state
    // (see leave), and before its first resume it is NULL.
    parked_coroutine *parked = frame->resumer;
    void *fiber = parked != NULL ? parked->fiber : __tsan_create_fiber(0);
#endif
    innermost_resume = &record;
#if OC_ASAN_SWITCH
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(&fake_stack, (const void *)frame->stack_low, frame->stack_high - frame->stack_low);
#endif
#if OC_TSAN_SWITCH
    __tsan_switch_to_fiber(fiber, 0);
#endif
    oc_transfer transfer = oc_context_jump_unannotated(to, value);
    // Back on the resumer's stack and thread: the coroutine suspended or ended.
#if OC_ASAN_SWITCH
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
    innermost_resume = record.outer;
#if OC_TSAN_SWITCH
    if (transfer.value != OC_SUSPENDED) {
        __tsan_destroy_fiber(fiber);
    }
#endif
    return transfer;
}

OC_UNINSTRUMENTED static oc_transfer leave(oc_frame *frame, void *to, uintptr_t value) {
    // A coroutine that ended (or overflowed) is never resumed: its fake stack goes with it.
    int returns = value == OC_SUSPENDED;
    switch_record *record = innermost_resume;
    void *fake_stack = NULL;
#if OC_ASAN_SWITCH
    __sanitizer_start_switch_fiber(returns ? &fake_stack : NULL, record->stack_bottom, record->stack_size);
#endif
#if OC_TSAN_SWITCH
    parked_coroutine parked = {.fiber = __tsan_get_current_fiber()};
    __tsan_switch_to_fiber(record->fiber, 0);
    if (returns) {
        // Read by the next resume only, once this stack is switched out; `to` already holds
        // the resumer, and the switch back rewrites the field (oc_frame_suspend).
        frame->resumer = &parked;
    }
#endif
    oc_transfer transfer = oc_context_jump_unannotated(to, value);
    oc_sanitizer_arrived(frame, fake_stack);
    return transfer;
}

OC_UNINSTRUMENTED oc_transfer oc_context_jump(void *to, uintptr_t value) {
    oc_frame *frame = oc_current_frame;
    if (frame != NULL && to == frame->context) {
        return resume(frame, to, value);
    }
    if (frame != NULL && to == frame->resumer) {
        return leave(frame, to, value);
    }
    return oc_context_jump_unannotated(to, value);
}

#if OC_ASAN_SWITCH
/// A call on a grown stack (maybeGrowStack): to ASan, a fiber of its own for the call's time.
typedef struct grown_call {
    void *argument;
    void (*function)(void *);
    /// The stack the call came from, as ASan knew it.
    const void *outer_bottom;
    size_t outer_size;
} grown_call;

OC_UNINSTRUMENTED static void call_on_grown_stack(void *pointer) {
    grown_call *call = pointer;
    __sanitizer_finish_switch_fiber(NULL, &call->outer_bottom, &call->outer_size);
    oc_frame *frame = oc_current_frame;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    // As on a coroutine's first arrival: nothing an earlier user left on this stack is live.
    __asan_unpoison_memory_region((void *)frame->stack_low, here - frame->stack_low);
    call->function(call->argument);
    __sanitizer_start_switch_fiber(NULL, call->outer_bottom, call->outer_size);
}

OC_UNINSTRUMENTED void oc_call_on_stack(void *argument, void (*function)(void *), void *stack_top) {
    // maybeGrowStack points the running frame at the grown stack before the call.
    oc_frame *frame = oc_current_frame;
    grown_call call = {.argument = argument, .function = function};
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(&fake_stack, (const void *)frame->stack_low, (uintptr_t)stack_top - frame->stack_low);
    oc_call_on_stack_unannotated(&call, call_on_grown_stack, stack_top);
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
}
#endif

#endif
