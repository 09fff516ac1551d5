#ifndef OC_RUN_QUEUE_H
#define OC_RUN_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __has_feature
#define __has_feature(feature) 0
#endif
#if !defined(__clang__)
#define _Nullable
#define _Nonnull
#endif

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

// Constants as enumerators rather than macros, so that Swift imports them too.
enum {
    /// Slots in one worker's ring; a power of two so an index wraps with a mask.
    OC_RUN_QUEUE_CAPACITY = 256,
    /// Room the caller of oc_run_queue_push gives for an overflow: half the ring
    /// plus the item that did not fit.
    OC_RUN_QUEUE_OVERFLOW_CAPACITY = OC_RUN_QUEUE_CAPACITY / 2 + 1,
    /// The line size the fields are spread over so that the owner's stores to
    /// the tail do not keep invalidating the line thieves CAS the head on.
    OC_RUN_QUEUE_LINE = 64,
};

/// One worker's bounded run queue: a ring of opaque items that only its owner
/// thread pushes to, and that the owner and any thief take from.
///
/// The items live in [head, tail) (indices wrap modulo 2^32 and are masked on
/// use). Whoever takes items claims them by a CAS on the head; only the owner
/// ever stores the tail or writes a slot. The fields are padded, not
/// _Alignas'ed, because Swift does not import over-aligned records: allocate
/// the ring on an OC_RUN_QUEUE_LINE boundary to keep each field on its own line.
typedef struct oc_run_queue {
    /// The oldest item; advanced by a CAS by the owner and by thieves.
    _Atomic(uint32_t) head;
    char head_padding[OC_RUN_QUEUE_LINE - sizeof(uint32_t)];
    /// One past the newest item; stored by the owner only.
    _Atomic(uint32_t) tail;
    char tail_padding[OC_RUN_QUEUE_LINE - sizeof(uint32_t)];
    /// An item that runs before the ring's (Go's runnext): the one the owner pushed last
    /// with oc_run_queue_push_next. Set by the owner only; taken by the owner, or by a thief
    /// that found nothing else (oc_run_queue_steal_next).
    _Atomic(void *) next;
    char next_padding[OC_RUN_QUEUE_LINE - sizeof(void *)];
    /// Written by the owner only, read by anyone who then claims the items.
    _Atomic(void *) slots[OC_RUN_QUEUE_CAPACITY];
} oc_run_queue;

/// Makes `queue` empty; call before any other thread can see it.
void oc_run_queue_init(oc_run_queue *queue);

/// Appends `item`; owner thread only.
///
/// Returns true when the item fit. When the ring was full, returns false after
/// moving the older half of the ring, then `item`, into `overflow` (room for
/// OC_RUN_QUEUE_OVERFLOW_CAPACITY items) and their number into
/// `overflow_count`; the caller then owns them (typically for a global queue).
bool oc_run_queue_push(oc_run_queue *queue, void *item, void *_Nullable *_Nonnull overflow, uint32_t *overflow_count);

/// Makes `item` the queue's next item; owner thread only. The item it replaces, if
/// any, is appended to the ring as by oc_run_queue_push, with the same result.
bool oc_run_queue_push_next(oc_run_queue *queue, void *item, void *_Nullable *_Nonnull overflow,
                            uint32_t *overflow_count);

/// Takes the next item, or NULL when there is none; owner thread only.
void *_Nullable oc_run_queue_take_next(oc_run_queue *queue);

/// Takes the oldest item, or NULL when the ring is empty; owner thread only.
void *_Nullable oc_run_queue_pop(oc_run_queue *queue);

/// Takes half of `victim`'s items (rounded up) for the thread that owns `thief`:
/// the oldest is returned, to run at once, and the rest appended to `thief`.
/// NULL when the victim was empty. Never takes more than `thief` has room for.
/// Safe against the victim's owner pushing and popping and other thieves
/// stealing at the same time; `victim` and `thief` must differ.
void *_Nullable oc_run_queue_steal(oc_run_queue *victim, oc_run_queue *thief);

/// Takes `victim`'s next item for a thief; NULL when it has none, or its owner took it
/// first. Safe against the owner and other thieves at the same time.
void *_Nullable oc_run_queue_steal_next(oc_run_queue *victim);

/// Whether `queue` has a next item, possibly stale by the time it is used.
bool oc_run_queue_has_next(const oc_run_queue *queue);

/// The number of items, the next one included, possibly stale by the time it is used.
uint32_t oc_run_queue_count(const oc_run_queue *queue);

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
