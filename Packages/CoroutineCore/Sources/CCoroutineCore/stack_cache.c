// The per-thread cache of idle stacks (oc_stack_cache.h), drained to the shared pool when
// its thread exits.
#include "oc_stack_cache.h"

#include <pthread.h>
#include <stdatomic.h>

__thread oc_stack_cache oc_thread_stack_cache __attribute__((tls_model("initial-exec")));

static _Atomic(oc_stack_cache_drain) drain_to;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

static void drain_on_exit(void *unused) {
    (void)unused;
    oc_stack_cache *cache = &oc_thread_stack_cache;
    oc_stack_cache_drain drain = atomic_load_explicit(&drain_to, memory_order_acquire);
    if (drain != NULL && cache->count > 0) {
        drain(cache->stacks, cache->count);
    }
    cache->count = 0;
    cache->registered = false;
}

static void create_exit_key(void) {
    pthread_key_create(&exit_key, drain_on_exit);
}

void oc_stack_cache_set_drain(oc_stack_cache_drain drain) {
    atomic_store_explicit(&drain_to, drain, memory_order_release);
}

void oc_stack_cache_register_thread(oc_stack_cache *cache) {
    pthread_once(&key_once, create_exit_key);
    // Any non-NULL value makes the destructor run at thread exit.
    pthread_setspecific(exit_key, cache);
    cache->registered = true;
}
