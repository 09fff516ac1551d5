#include "oc_descriptor.h"

#include <signal.h>
#include <stdlib.h>

// Two levels: CHUNKS pointers to chunks of CHUNK_SIZE entries, 4M descriptor numbers in all
// (Linux's nr_open defaults to 1M). A chunk is 128 KiB, allocated zeroed on first use.
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

bool oc_signals_restart(void) {
    for (int signal = 1; signal < NSIG; signal++) {
        struct sigaction action;
        if (sigaction(signal, NULL, &action) != 0) {
            continue;  // Numbers the C library reserves for itself.
        }
        bool handled = (action.sa_flags & SA_SIGINFO) ? action.sa_sigaction != NULL
                                                      : (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
        if (handled && !(action.sa_flags & SA_RESTART)) {
            return false;
        }
    }
    return true;
}
