#ifndef OC_CONTEXT_H
#define OC_CONTEXT_H

#include <stdint.h>

#ifndef __has_feature
#define __has_feature(feature) 0
#endif
#if !defined(__clang__)
#define _Nullable
#endif

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// What a jump delivers to the side it resumes: the context of the side that
/// jumped (to jump back to it later) and one machine word.
typedef struct oc_transfer {
    void *context;
    uintptr_t value;
} oc_transfer;

/// Saves the running context, switches to `to` and delivers `value` there.
/// Returns on this side when some later jump targets the context saved here.
oc_transfer oc_context_jump(void *to, uintptr_t value);

/// Prepares a context on the stack below `stack_top`: the first jump to it
/// calls `entry`, which must never return.
void *oc_context_make(void *stack_top, void (*entry)(oc_transfer));

/// Calls `function(argument)` on the stack below `stack_top`, then returns.
void oc_call_on_stack(void *_Nullable argument, void (*function)(void *_Nullable), void *stack_top);

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
