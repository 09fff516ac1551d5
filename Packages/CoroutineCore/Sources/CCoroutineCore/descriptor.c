// The process-wide descriptor table (oc_descriptor.h): what the runtime knows about each
// descriptor number.
#define _GNU_SOURCE
#include "oc_descriptor.h"

#include <stdlib.h>

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
