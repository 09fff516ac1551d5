// The work-stealing ring (oc_run_queue.h): the owner pushes and pops at one end, thieves
// take half from the other.
#include "oc_run_queue.h"

// Every thread-shared field is a C11 atomic, slots included: a thief may read a
// slot while the owner reuses it; that read is thrown away (its CAS fails), but
// it must still not be a data race.

_Static_assert((OC_RUN_QUEUE_CAPACITY & (OC_RUN_QUEUE_CAPACITY - 1)) == 0, "the capacity is a power of two");
_Static_assert(offsetof(oc_run_queue, tail) - offsetof(oc_run_queue, head) >= OC_RUN_QUEUE_LINE,
               "head and tail live on separate lines");
_Static_assert(offsetof(oc_run_queue, next) - offsetof(oc_run_queue, tail) >= OC_RUN_QUEUE_LINE,
               "the tail does not share a line with the next item");
_Static_assert(offsetof(oc_run_queue, slots) - offsetof(oc_run_queue, next) >= OC_RUN_QUEUE_LINE,
               "the next item does not share a line with the slots");
_Static_assert(sizeof(oc_run_queue) % OC_RUN_QUEUE_LINE == 0, "rings laid out back to back stay line-aligned");

#define OC_RUN_QUEUE_MASK (OC_RUN_QUEUE_CAPACITY - 1)

static inline _Atomic(void *) *slot(oc_run_queue *queue, uint32_t index) {
    return &queue->slots[index & OC_RUN_QUEUE_MASK];
}

void oc_run_queue_init(oc_run_queue *queue) {
    atomic_init(&queue->head, 0);
    atomic_init(&queue->tail, 0);
    atomic_init(&queue->next, NULL);
    for (uint32_t index = 0; index < OC_RUN_QUEUE_CAPACITY; index++) {
        atomic_init(&queue->slots[index], NULL);
    }
}

bool oc_run_queue_push(oc_run_queue *queue, void *item, void *_Nullable *_Nonnull overflow, uint32_t *overflow_count) {
    // Relaxed: only this thread stores the tail, so it reads back its own last store.
    uint32_t tail = atomic_load_explicit(&queue->tail, memory_order_relaxed);
    for (;;) {
        // Acquire: pairs with the consumers' release CAS, so their reads of the
        // slots freed up to this head are done before we write over them.
        uint32_t head = atomic_load_explicit(&queue->head, memory_order_acquire);
        if (tail - head < OC_RUN_QUEUE_CAPACITY) {
            // Relaxed: the release store of the tail below publishes it.
            atomic_store_explicit(slot(queue, tail), item, memory_order_relaxed);
            // Release: whoever acquires this tail sees the slot written above.
            atomic_store_explicit(&queue->tail, tail + 1, memory_order_release);
            return true;
        }
        // Full (the owner never lets tail - head exceed the capacity): hand the
        // older half out so this ring has room again and the rest of the
        // workers can pick that half up from the global queue.
        uint32_t half = OC_RUN_QUEUE_CAPACITY / 2;
        for (uint32_t index = 0; index < half; index++) {
            // Relaxed: this thread wrote every slot itself.
            overflow[index] = atomic_load_explicit(slot(queue, head + index), memory_order_relaxed);
        }
        // Release: a thief that acquires the new head then reads a tail at least
        // as new as ours. Relaxed on failure: the loop reloads with acquire.
        if (atomic_compare_exchange_strong_explicit(&queue->head, &head, head + half, memory_order_release,
                                                    memory_order_relaxed)) {
            overflow[half] = item;
            *overflow_count = half + 1;
            return false;
        }
        // Thieves took items meanwhile, so there is likely room now.
    }
}

bool oc_run_queue_push_next(oc_run_queue *queue, void *item, void *_Nullable *_Nonnull overflow,
                            uint32_t *overflow_count) {
    // Relaxed: only this thread sets the slot, and others only empty it, so NULL read here
    // stays NULL until the store below.
    if (atomic_load_explicit(&queue->next, memory_order_relaxed) == NULL) {
        // Release: a thief that takes the item sees what was written to it before.
        atomic_store_explicit(&queue->next, item, memory_order_release);
        return true;
    }
    // A thief may take the item being replaced meanwhile: the exchange says whether one did.
    // Release as above; acquire pairs with nothing but costs nothing more on a locked exchange.
    void *replaced = atomic_exchange_explicit(&queue->next, item, memory_order_acq_rel);
    if (replaced == NULL) {
        return true;
    }
    return oc_run_queue_push(queue, replaced, overflow, overflow_count);
}

void *oc_run_queue_take_next(oc_run_queue *queue) {
    // Relaxed: the common empty case costs no locked instruction; the exchange settles a race
    // with a thief.
    if (atomic_load_explicit(&queue->next, memory_order_relaxed) == NULL) {
        return NULL;
    }
    return atomic_exchange_explicit(&queue->next, NULL, memory_order_acquire);
}

void *oc_run_queue_steal_next(oc_run_queue *victim) {
    // Acquire: pairs with the owner's release store, so the item's contents are visible.
    void *item = atomic_load_explicit(&victim->next, memory_order_acquire);
    if (item == NULL) {
        return NULL;
    }
    // Fails when the owner (or another thief) took it, or the owner replaced it: either way
    // the thief looks elsewhere, as after an empty ring.
    if (atomic_compare_exchange_strong_explicit(&victim->next, &item, NULL, memory_order_acquire,
                                                memory_order_relaxed)) {
        return item;
    }
    return NULL;
}

bool oc_run_queue_has_next(const oc_run_queue *queue) {
    // Relaxed: a snapshot for heuristics.
    return atomic_load_explicit(&queue->next, memory_order_relaxed) != NULL;
}

void *oc_run_queue_pop(oc_run_queue *queue) {
    // Relaxed: only this thread stores the tail.
    uint32_t tail = atomic_load_explicit(&queue->tail, memory_order_relaxed);
    // Relaxed: this thread wrote every slot it reads here, and a stale head only
    // makes the CAS fail and reload.
    uint32_t head = atomic_load_explicit(&queue->head, memory_order_relaxed);
    for (;;) {
        if (head == tail) {
            return NULL;
        }
        void *item = atomic_load_explicit(slot(queue, head), memory_order_relaxed);
        // Release: a thief that acquires the new head then reads a tail at least
        // as new as ours. Relaxed on failure: `head` is reloaded by the CAS.
        if (atomic_compare_exchange_weak_explicit(&queue->head, &head, head + 1, memory_order_release,
                                                  memory_order_relaxed)) {
            return item;
        }
    }
}

void *oc_run_queue_steal(oc_run_queue *victim, oc_run_queue *thief) {
    // Relaxed: the caller owns `thief`, so only this thread stores its tail.
    uint32_t thief_tail = atomic_load_explicit(&thief->tail, memory_order_relaxed);
    // Acquire: pairs with the release CAS of whoever stole from `thief`, so their
    // reads of the slots we are about to fill are done.
    uint32_t thief_head = atomic_load_explicit(&thief->head, memory_order_acquire);
    // The item returned to run at once needs no slot, hence the + 1.
    uint32_t limit = OC_RUN_QUEUE_CAPACITY - (thief_tail - thief_head) + 1;
    for (;;) {
        // Acquire: pairs with the release CAS that set this head, so the tail
        // loaded next is no older than the one that claim was made against.
        uint32_t head = atomic_load_explicit(&victim->head, memory_order_acquire);
        // Acquire: pairs with the owner's release store, so the slots below the
        // tail hold what it wrote there.
        uint32_t tail = atomic_load_explicit(&victim->tail, memory_order_acquire);
        uint32_t available = tail - head;
        uint32_t count = available - available / 2;
        if (count == 0) {
            return NULL;
        }
        if (count > OC_RUN_QUEUE_CAPACITY / 2) {
            // The head moved on between the two loads, so the pair describes no
            // moment of the ring; take a fresh look.
            continue;
        }
        if (count > limit) {
            count = limit;
        }
        // Relaxed slot loads: the tail acquire above covers every slot that the
        // CAS below can succeed for; values read from reused slots are discarded
        // because the head has moved and the CAS fails.
        void *first = atomic_load_explicit(slot(victim, head), memory_order_relaxed);
        for (uint32_t index = 1; index < count; index++) {
            void *item = atomic_load_explicit(slot(victim, head + index), memory_order_relaxed);
            // Relaxed: the release store of the thief's tail below publishes it.
            atomic_store_explicit(slot(thief, thief_tail + index - 1), item, memory_order_relaxed);
        }
        // Release: our slot reads happen before the victim's owner reuses those
        // slots (it acquires the head first). Relaxed on failure: the loop reloads.
        if (atomic_compare_exchange_strong_explicit(&victim->head, &head, head + count, memory_order_release,
                                                    memory_order_relaxed)) {
            if (count > 1) {
                // Release: whoever acquires this tail sees the slots copied above.
                atomic_store_explicit(&thief->tail, thief_tail + count - 1, memory_order_release);
            }
            return first;
        }
    }
}

uint32_t oc_run_queue_count(const oc_run_queue *queue) {
    // Relaxed: a snapshot for heuristics. The two loads are not one atomic
    // read, so clamp what a head that moved on in between can make of them.
    uint32_t head = atomic_load_explicit(&queue->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&queue->tail, memory_order_relaxed);
    uint32_t count = tail - head;
    if ((int32_t)count < 0) {
        count = 0;
    }
    return (count > OC_RUN_QUEUE_CAPACITY ? OC_RUN_QUEUE_CAPACITY : count) + (oc_run_queue_has_next(queue) ? 1 : 0);
}
