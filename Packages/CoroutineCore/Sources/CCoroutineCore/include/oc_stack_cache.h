#ifndef OC_STACK_CACHE_H
#define OC_STACK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// One stack: usable [low, high) above the guard region [guard_low, low).
typedef struct oc_stack {
    uintptr_t guard_low;
    uintptr_t low;
    uintptr_t high;
} oc_stack;

/// Idle stacks kept per thread: taking and giving back one needs no lock.
#define OC_STACK_CACHE_CAPACITY 16

typedef struct oc_stack_cache {
    uint32_t count;
    /// Whether this thread's exit is set to drain the cache.
    bool registered;
    oc_stack stacks[OC_STACK_CACHE_CAPACITY];
} oc_stack_cache;

extern __thread oc_stack_cache oc_thread_stack_cache __attribute__((tls_model("initial-exec")));

/// Receives a thread's cached stacks when the thread exits (the shared pool).
typedef void (*oc_stack_cache_drain)(const oc_stack *stacks, uint32_t count);

/// Sets where exiting threads hand their cached stacks; call once before caching.
void oc_stack_cache_set_drain(oc_stack_cache_drain drain);

/// Arranges for this thread's cache to be drained when the thread exits.
void oc_stack_cache_register_thread(oc_stack_cache *cache);

/// Takes a cached stack of exactly `size` usable bytes; false when none is cached.
static inline __attribute__((always_inline)) bool oc_stack_cache_take(uintptr_t size, oc_stack *stack) {
    oc_stack_cache *cache = &oc_thread_stack_cache;
    for (uint32_t index = cache->count; index > 0; index--) {
        oc_stack *candidate = &cache->stacks[index - 1];
        if (candidate->high - candidate->low == size) {
            *stack = *candidate;
            *candidate = cache->stacks[--cache->count];
            return true;
        }
    }
    return false;
}

/// Caches a stack on this thread; false when the cache is full.
static inline __attribute__((always_inline)) bool oc_stack_cache_put(oc_stack stack) {
    oc_stack_cache *cache = &oc_thread_stack_cache;
    if (cache->count == OC_STACK_CACHE_CAPACITY) {
        return false;
    }
    if (__builtin_expect(!cache->registered, 0)) {
        oc_stack_cache_register_thread(cache);
    }
    cache->stacks[cache->count++] = stack;
    return true;
}

#endif
