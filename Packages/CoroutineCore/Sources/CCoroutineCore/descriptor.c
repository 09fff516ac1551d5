#define _GNU_SOURCE
#include "oc_descriptor.h"
#include "oc_crash.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

// Two levels: CHUNKS pointers to chunks of CHUNK_SIZE entries, 4M descriptor numbers in all
// (Linux's nr_open defaults to 1M). A chunk is 160 KiB, allocated zeroed on first use.
enum { CHUNK_BITS = 12, CHUNK_SIZE = 1 << CHUNK_BITS, CHUNKS = 1024 };

static oc_descriptor *chunks[CHUNKS];

oc_descriptor *oc_descriptor_peek(int fd) {
    if (fd < 0 || (fd >> CHUNK_BITS) >= CHUNKS) {
        return NULL;
    }
    oc_descriptor *chunk = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
    return chunk == NULL ? NULL : &chunk[fd & (CHUNK_SIZE - 1)];
}

oc_descriptor *oc_descriptor_get(int fd) {
    oc_descriptor *entry = oc_descriptor_peek(fd);
    if (entry != NULL || fd < 0 || (fd >> CHUNK_BITS) >= CHUNKS) {
        return entry;
    }
    oc_descriptor *fresh = calloc(CHUNK_SIZE, sizeof(oc_descriptor));
    if (fresh == NULL) {
        return NULL;
    }
    oc_descriptor *expected = NULL;
    if (!__atomic_compare_exchange_n(&chunks[fd >> CHUNK_BITS], &expected, fresh, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        free(fresh);  // Another thread installed the chunk first.
    }
    return oc_descriptor_peek(fd);
}

// The last group handed out; 64 bits never wrap, so a group is never reused.
static uint64_t last_group;

uint64_t oc_descriptor_share_group(oc_descriptor *source) {
    uint64_t group = oc_descriptor_group(source);
    if (group != 0) {
        return group;
    }
    uint64_t fresh = __atomic_add_fetch(&last_group, 1, __ATOMIC_RELAXED);
    if (__atomic_compare_exchange_n(&source->group, &group, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        return fresh;
    }
    return group;  // Another thread copying the same number gave it one first.
}

int oc_descriptor_next_in_group(uint64_t group, int after) {
    int fd = after < 0 ? 0 : after + 1;
    while ((fd >> CHUNK_BITS) < CHUNKS) {
        oc_descriptor *chunk = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
        if (chunk == NULL) {
            fd = ((fd >> CHUNK_BITS) + 1) << CHUNK_BITS;
            continue;
        }
        if (oc_descriptor_group(&chunk[fd & (CHUNK_SIZE - 1)]) == group) {
            return fd;
        }
        fd++;
    }
    return -1;
}

// Whether a handler of `signal` may run while a thread waits, and so decide whether the wait
// is restarted. Not the fault signals, which only a thread's own instruction raises (the
// runtime's stack-overflow handler and the Swift runtime's crash handler catch them), nor a
// crash handler on SIGQUIT and SIGABRT (the runtime's, crash.c, or the Swift runtime's), which
// ends the process and never returns into the call. Counted, either would make every program that runs the runtime one
// whose handlers do not restart.
static bool may_interrupt_a_wait(int signal, void *handler) {
    if (signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE || signal == SIGTRAP ||
        signal == SIGSYS) {
        return false;
    }
    if (oc_crash_is_handler(handler)) {
        return false;
    }
    Dl_info info;
    return dladdr(handler, &info) == 0 || info.dli_fname == NULL || strstr(info.dli_fname, "libswiftCore.so") == NULL;
}

bool oc_signals_restart(void) {
    for (int signal = 1; signal < NSIG; signal++) {
        struct sigaction action;
        if (sigaction(signal, NULL, &action) != 0) {
            continue;  // Numbers the C library reserves for itself.
        }
        void *handler = (action.sa_flags & SA_SIGINFO) ? (void *)action.sa_sigaction : (void *)action.sa_handler;
        bool handled = (action.sa_flags & SA_SIGINFO) ? handler != NULL
                                                      : (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
        if (handled && !(action.sa_flags & SA_RESTART) && may_interrupt_a_wait(signal, handler)) {
            return false;
        }
    }
    return true;
}
