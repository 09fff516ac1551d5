// The C API of libopen_coroutine_hook.so.
#ifndef OPEN_COROUTINE_H
#define OPEN_COROUTINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Calls fn(param) on the current stack when at least red_zone bytes of it remain,
/// else on a fresh stack of stack_size bytes, and returns what fn returned.
/// Works inside coroutines and on plain threads; calls nest.
uintptr_t maybe_grow_stack(size_t red_zone, size_t stack_size, uintptr_t (*fn)(uintptr_t), uintptr_t param);

#ifdef __cplusplus
}
#endif

#endif
