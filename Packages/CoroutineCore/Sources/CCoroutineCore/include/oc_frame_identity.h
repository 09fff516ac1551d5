// What another thread may learn of a frame that can go away while it looks (frame_identity.c).
#ifndef OC_FRAME_IDENTITY_H
#define OC_FRAME_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "oc_frame.h"

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// The task a frame runs and the stack it runs on, copied out of the frame.
typedef struct {
    uint64_t task_id;
    char task_name[64];
    uintptr_t stack_low;
    uintptr_t stack_high;
} oc_frame_identity;

/// Copies the identity of `frame`, which may belong to a coroutine ending on another thread
/// (its stack unmapped, its task's name freed), through process_vm_readv: a copy that went away
/// meanwhile answers false or a stale name, never a crash.
bool oc_frame_read_identity(const oc_frame *frame, oc_frame_identity *identity);

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
