// The C API's functions (open_coroutine.h), exported as the hooks are (oc_hook_exports.h says
// how and why). A list of its own because every pointer in it says whether it may be null,
// which Swift then checks its implementations against: the handles and functions the API takes
// never are.
#ifndef OC_API_EXPORTS_H
#define OC_API_EXPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "oc_hook_exports.h"

/// The C API of include/open_coroutine.h (TaskAPI.swift, StackGrowthAPI.swift).
#define OC_API_EXPORTS(EXPORT)                                                                                   \
    EXPORT(int, open_coroutine_stop, openCoroutineStop(_:), (uint64_t seconds), (seconds))                       \
    EXPORT(const char *_Nullable, open_coroutine_last_error, openCoroutineLastError(), (void), ())               \
    EXPORT(void *_Nullable, task_crate, taskCreate(_:_:_:),                                                       \
           (uintptr_t (*_Nonnull function)(uintptr_t), uintptr_t parameter, int priority),                        \
           (function, parameter, priority))                                                                       \
    EXPORT(int, task_join, taskJoin(_:_:), (void *_Nonnull task, uintptr_t *_Nullable result), (task, result))   \
    EXPORT(int, task_timeout_join, taskTimeoutJoin(_:_:_:),                                                       \
           (void *_Nonnull task, uint64_t nanoseconds, uintptr_t *_Nullable result), (task, nanoseconds, result)) \
    EXPORT(int, task_cancel, taskCancel(_:), (void *_Nonnull task), (task))                                       \
    EXPORT(uintptr_t, maybe_grow_stack, maybeGrowStackForC(_:_:_:_:),                                             \
           (size_t red_zone, size_t stack_size, uintptr_t (*_Nonnull function)(uintptr_t), uintptr_t parameter),  \
           (red_zone, stack_size, function, parameter))

OC_API_EXPORTS(OC_HOOK_DECLARE_IMPLEMENTATION)

#endif
