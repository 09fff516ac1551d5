// The alternate signal stack each thread that runs coroutines gets: where the crash handler
// (crash.c) runs, so that a coroutine that overflowed its stack can still be handled. Mapped on
// the thread's first coroutine, unmapped when the thread exits.
#define _GNU_SOURCE
#include "alternate_stack.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

/// Big enough for the crash handler and the handlers it forwards to (the Swift runtime's
/// backtracer among them; crash.c).
#define OC_ALTERNATE_STACK_SIZE (256 * 1024)

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t alternate_stack_key;

static void release_alternate_stack(void *mapping) {
    stack_t disable;
    memset(&disable, 0, sizeof disable);
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, NULL);
    munmap(mapping, OC_ALTERNATE_STACK_SIZE);
}

static void create_key(void) {
    pthread_key_create(&alternate_stack_key, release_alternate_stack);
}

void oc_alternate_stack_prepare(void) {
    pthread_once(&key_once, create_key);
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE)
        && current.ss_size >= OC_ALTERNATE_STACK_SIZE) {
        return;
    }
    void *mapping = mmap(NULL, OC_ALTERNATE_STACK_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED) {
        return;
    }
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_sp = mapping;
    stack.ss_size = OC_ALTERNATE_STACK_SIZE;
    if (sigaltstack(&stack, NULL) != 0) {
        munmap(mapping, OC_ALTERNATE_STACK_SIZE);
        return;
    }
    pthread_setspecific(alternate_stack_key, mapping);
}
