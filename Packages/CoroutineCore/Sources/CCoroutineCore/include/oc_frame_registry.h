// The process's list of coroutine frames (frame_registry.c), which the dump, the crash report
// and debuggers walk.
#ifndef OC_FRAME_REGISTRY_H
#define OC_FRAME_REGISTRY_H

#include "oc_frame.h"

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// Adds a coroutine's frame to the process's list of coroutine frames, which the dump, the
/// crash report and debuggers walk (`oc_frames_first` in gdb).
void oc_frames_register(oc_frame *frame);

/// Takes a frame off the list, before its stack is reused.
void oc_frames_unregister(oc_frame *frame);

/// Runs `visit` on every registered frame while the list is locked: no frame leaves the
/// list (nor its stack the process) meanwhile, though its coroutine may run.
void oc_frames_each(void (*visit)(const oc_frame *frame, void *_Nullable context), void *_Nullable context);

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
