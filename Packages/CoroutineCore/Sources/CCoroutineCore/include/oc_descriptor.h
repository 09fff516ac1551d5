#ifndef OC_DESCRIPTOR_H
#define OC_DESCRIPTOR_H

#include <stdbool.h>
#include <stdint.h>

// The process-wide descriptor table: what the runtime knows about each descriptor number.
// Reads are lock-free (one load of a chunk pointer, then atomics on the entry), because the
// syscall layer consults it on every call; chunks are allocated on first use and never freed.

/// What the runtime knows about one descriptor number, valid for one `generation`.
typedef struct oc_descriptor {
    /// Bumped whenever the number stops meaning the same open file (close, dup2 over it, a new
    /// socket), so that a stale event-loop registration is recognised and replaced.
    uint32_t generation;
    /// `oc_descriptor_flag` bits.
    uint32_t flags;
    /// One bit per event-loop slot (slot % 64) that registered this number in this generation:
    /// the loops a close must reach.
    uint64_t loops;
    /// SO_RCVTIMEO and SO_SNDTIMEO as the kernel rounded them, in nanoseconds; 0 means none,
    /// UINT64_MAX means "expire at once" (a negative timeval, as the kernel treats it).
    uint64_t receive_timeout_ns;
    uint64_t send_timeout_ns;
    /// Nonzero when `dup` (dup2, dup3, F_DUPFD) made this number or a copy of it: every number
    /// with the same group names the same open file description, whose O_NONBLOCK (and
    /// socket timeouts) a change through any of them must reach. 0 for a number never copied,
    /// so that its changes never scan the table.
    uint64_t group;
} oc_descriptor;

enum oc_descriptor_flag {
    /// The number was classified in this generation (the other flags are meaningful).
    OC_DESCRIPTOR_KNOWN = 1u << 0,
    /// A socket: blocking calls on it wait on the event loop.
    OC_DESCRIPTOR_SOCKET = 1u << 1,
    /// The user asked for non-blocking behaviour (O_NONBLOCK, SOCK_NONBLOCK, FIONBIO).
    OC_DESCRIPTOR_USER_NONBLOCK = 1u << 2,
    /// The runtime set O_NONBLOCK in the kernel; the user does not see it.
    OC_DESCRIPTOR_RUNTIME_NONBLOCK = 1u << 3,
    /// A stream socket: a read that returns less than asked for emptied its receive queue.
    OC_DESCRIPTOR_STREAM = 1u << 4,
    /// The last read emptied the receive queue and no readable edge came since: the next
    /// blocking read waits first instead of trying in vain.
    OC_DESCRIPTOR_DRAINED = 1u << 5,
    /// Not a socket but something epoll can watch (a pipe, a terminal, an eventfd, ...):
    /// blocking calls on it try with RWF_NOWAIT and wait on the event loop, and the runtime
    /// never changes its file status flags (the file description may be shared with other
    /// processes, as a terminal is with the shell).
    OC_DESCRIPTOR_POLLABLE = 1u << 6,
    /// A regular file, a directory or a block device: its calls go to io_uring (or the
    /// blocking pool) from a coroutine.
    OC_DESCRIPTOR_STORAGE = 1u << 7,
    /// The event loop saw the peer's end of the stream (or a hang-up, or an error): a read
    /// never waits again, however short the last one was, since the end is still to be read.
    OC_DESCRIPTOR_HUNG_UP = 1u << 8,
};

/// The entry for `fd`, allocating its chunk on first use; NULL for a negative number, one past
/// the table's capacity, or when memory runs out (the caller then treats the descriptor as
/// unknown and calls straight through).
oc_descriptor *oc_descriptor_get(int fd);

/// The entry for `fd` only when its chunk already exists.
oc_descriptor *oc_descriptor_peek(int fd);

/// The group `source` shares with its copies, giving it a new one when it has none.
uint64_t oc_descriptor_share_group(oc_descriptor *source);

/// The first number above `after` whose entry is in `group` (nonzero), or -1; scans only the
/// chunks allocated so far.
int oc_descriptor_next_in_group(uint64_t group, int after);

static inline uint32_t oc_descriptor_generation(const oc_descriptor *entry) {
    return __atomic_load_n(&entry->generation, __ATOMIC_ACQUIRE);
}

static inline uint32_t oc_descriptor_flags(const oc_descriptor *entry) {
    return __atomic_load_n(&entry->flags, __ATOMIC_ACQUIRE);
}

static inline void oc_descriptor_set_flags(oc_descriptor *entry, uint32_t flags) {
    __atomic_store_n(&entry->flags, flags, __ATOMIC_RELEASE);
}

static inline void oc_descriptor_add_flags(oc_descriptor *entry, uint32_t flags) {
    __atomic_fetch_or(&entry->flags, flags, __ATOMIC_ACQ_REL);
}

static inline void oc_descriptor_remove_flags(oc_descriptor *entry, uint32_t flags) {
    __atomic_fetch_and(&entry->flags, ~flags, __ATOMIC_ACQ_REL);
}

static inline uint64_t oc_descriptor_group(const oc_descriptor *entry) {
    return __atomic_load_n(&entry->group, __ATOMIC_ACQUIRE);
}

static inline void oc_descriptor_join_group(oc_descriptor *entry, uint64_t group) {
    __atomic_store_n(&entry->group, group, __ATOMIC_RELEASE);
}

/// Starts a new generation with nothing known (and in no group); returns the loops that
/// registered the old one.
static inline uint64_t oc_descriptor_reset(oc_descriptor *entry) {
    __atomic_store_n(&entry->flags, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&entry->receive_timeout_ns, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&entry->send_timeout_ns, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&entry->group, 0, __ATOMIC_RELEASE);
    __atomic_fetch_add(&entry->generation, 1, __ATOMIC_ACQ_REL);
    return __atomic_exchange_n(&entry->loops, 0, __ATOMIC_ACQ_REL);
}

/// Records that the loop in `slot` registered the number.
static inline void oc_descriptor_add_loop(oc_descriptor *entry, unsigned slot) {
    __atomic_fetch_or(&entry->loops, (uint64_t)1 << (slot % 64), __ATOMIC_ACQ_REL);
}

static inline uint64_t oc_descriptor_timeout(const oc_descriptor *entry, bool receive) {
    return __atomic_load_n(receive ? &entry->receive_timeout_ns : &entry->send_timeout_ns, __ATOMIC_ACQUIRE);
}

static inline void oc_descriptor_set_timeout(oc_descriptor *entry, bool receive, uint64_t nanoseconds) {
    __atomic_store_n(receive ? &entry->receive_timeout_ns : &entry->send_timeout_ns, nanoseconds, __ATOMIC_RELEASE);
}

#endif
