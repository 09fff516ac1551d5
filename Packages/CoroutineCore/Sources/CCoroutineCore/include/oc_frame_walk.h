// Walking a stack's frame-pointer chain into return addresses (frame_walk.c).
#ifndef OC_FRAME_WALK_H
#define OC_FRAME_WALK_H

#include <stdint.h>
#include <sys/types.h>

#include "oc_frame.h"

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// The saved program counter and frame pointer of a suspended frame's context.
void oc_frame_saved_registers(const oc_frame *frame, uintptr_t *pc, uintptr_t *fp);

/// Walks the frame-pointer chain from `fp` within [low, high): stores up to `capacity`
/// return addresses and returns how many. Never reads outside the range.
int oc_frame_walk(uintptr_t fp, uintptr_t low, uintptr_t high, uintptr_t *addresses, int capacity);

/// Where a thread stopped in a system call stands, found from its program counter and stack
/// pointer alone (/proc/self/task/TID/syscall gives them; the frame pointer is not known): `pc`,
/// then the return addresses of the first frame-record chain above `sp` that holds together.
/// The libc wrapper keeps no frame record, so the function that called it may be missing.
/// Reads [sp, high) of process `pid` through process_vm_readv, so a stack unmapped meanwhile
/// costs a shorter answer, not a crash. A heuristic for diagnostics; returns the count.
int oc_frame_walk_from_stack_pointer(pid_t pid, uintptr_t pc, uintptr_t sp, uintptr_t high, uintptr_t *addresses,
                                     int capacity);

/// The frame pointer of the function that calls this one, to walk the caller's own chain.
void *oc_frame_pointer(void);


#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
