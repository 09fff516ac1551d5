// The list of coroutine frames: every coroutine's frame, from its first run until its stack
// goes back to the pool, so that a dump, a crash report or a debugger can find every
// coroutine, suspended or not. A spin lock guards it: its sections are a few stores (the walks
// of a dump excepted), and the runtime must not go through the hooked pthread calls.
#define _GNU_SOURCE
#include "oc_frame_registry.h"

#include <sched.h>

/// The first frame of the list; debuggers start here (Tools/gdb/open_coroutine.py).
oc_frame *oc_frames_first;
static bool frames_locked;

static void lock_frames(void) {
    while (__atomic_test_and_set(&frames_locked, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
}

static void unlock_frames(void) {
    __atomic_clear(&frames_locked, __ATOMIC_RELEASE);
}

void oc_frames_register(oc_frame *frame) {
    lock_frames();
    frame->registry_previous = NULL;
    frame->registry_next = oc_frames_first;
    if (oc_frames_first != NULL) {
        oc_frames_first->registry_previous = frame;
    }
    oc_frames_first = frame;
    unlock_frames();
}

void oc_frames_unregister(oc_frame *frame) {
    lock_frames();
    if (frame->registry_previous != NULL) {
        frame->registry_previous->registry_next = frame->registry_next;
    } else if (oc_frames_first == frame) {
        oc_frames_first = frame->registry_next;
    }
    if (frame->registry_next != NULL) {
        frame->registry_next->registry_previous = frame->registry_previous;
    }
    frame->registry_previous = NULL;
    frame->registry_next = NULL;
    unlock_frames();
}

void oc_frames_each(void (*visit)(const oc_frame *frame, void *context), void *context) {
    lock_frames();
    for (oc_frame *frame = oc_frames_first; frame != NULL; frame = frame->registry_next) {
        visit(frame, context);
    }
    unlock_frames();
}

