// The frame: the C state of one stack of execution (oc_frame.h). This file holds the running
// frame's thread-local slot, the frame of a plain thread (prepared on its first use), the entry
// every coroutine stack starts in, and the record of what a suspended coroutine waits for.
// The list of every coroutine's frame is frame_registry.c; walking a frame's stack is
// frame_walk.c; reading another thread's frame safely is frame_identity.c.
#define _GNU_SOURCE
#include "oc_frame.h"
#include "oc_clock.h"
#include "oc_crash.h"
#include "alternate_stack.h"
#include "sanitizer_switch.h"

#include <pthread.h>

__thread oc_frame *oc_current_frame __attribute__((tls_model("initial-exec")));

/// The frame of the thread itself, outside any coroutine.
static __thread oc_frame thread_frame;

void oc_frame_entry(oc_transfer transfer) {
    oc_frame *frame = oc_current_frame;
#if OC_ASAN_SWITCH || OC_TSAN_SWITCH
    oc_sanitizer_arrived(frame, NULL);
#endif
    frame->resumer = transfer.context;
    frame->body(frame);
    oc_context_jump((void *)frame->resumer, OC_FINISHED);
    __builtin_unreachable();
}

bool oc_frame_hands_over(void) {
    return !(OC_ASAN_SWITCH || OC_TSAN_SWITCH);
}

static void measure_thread_stack(oc_frame *frame) {
    pthread_attr_t attributes;
    void *base = NULL;
    size_t size = 0;
    size_t guard = 0;
    if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
        pthread_attr_getstack(&attributes, &base, &size);
        pthread_attr_getguardsize(&attributes, &guard);
        pthread_attr_destroy(&attributes);
    }
    frame->stack_low = (uintptr_t)base;
    frame->stack_high = (uintptr_t)base + size;
    frame->guard_low = (uintptr_t)base - guard;
}

oc_frame *oc_thread_prepare(void) {
    oc_crash_install();
    oc_alternate_stack_prepare();
    measure_thread_stack(&thread_frame);
    oc_current_frame = &thread_frame;
    return &thread_frame;
}

void oc_frame_note_wait(oc_frame *frame, uint8_t kind, int32_t fd, uint8_t events, uint64_t target,
                        uint64_t deadline_ns, const char *call) {
    oc_wait *wait = &frame->wait;
    // Every park notes its wait, and the dump shows the wait's length in milliseconds: the
    // coarse clock is exact enough for that, and costs a fifth of the precise one.
    wait->since_ns = oc_monotonic_coarse_ns();
    wait->deadline_ns = deadline_ns;
    wait->target = target;
    wait->fd = fd;
    wait->events = events;
    size_t length = 0;
    if (call != NULL) {
        while (call[length] != '\0' && length < sizeof wait->call - 1) {
            wait->call[length] = call[length];
            length++;
        }
    }
    wait->call[length] = '\0';
    __atomic_store_n(&wait->kind, kind, __ATOMIC_RELEASE);
}
