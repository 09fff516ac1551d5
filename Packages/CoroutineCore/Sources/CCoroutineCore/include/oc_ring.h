#ifndef OC_RING_H
#define OC_RING_H

#include <stdbool.h>
#include <linux/stat.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef __has_feature
#define __has_feature(feature) 0
#endif
#if !defined(__clang__)
#define _Nullable
#endif

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// One scheduler thread's io_uring (liburing), with an eventfd that becomes readable when
/// completions arrive, so that the thread's epoll wakes for them.
typedef struct oc_ring oc_ring;

/// The operations the runtime submits.
typedef enum oc_ring_opcode {
    OC_RING_READV,
    OC_RING_WRITEV,
    OC_RING_FSYNC,
    OC_RING_OPENAT,
    OC_RING_CLOSE,
    OC_RING_STATX,
    OC_RING_OPCODE_COUNT,
} oc_ring_opcode;

/// A ring of `entries` submission slots, or NULL with `*error` set: ENOSYS where the kernel
/// has no io_uring, EPERM where it is disabled (kernel.io_uring_disabled), or what setup said.
oc_ring *_Nullable oc_ring_create(unsigned entries, int *error);

void oc_ring_destroy(oc_ring *ring);

/// The eventfd that signals completions.
int oc_ring_eventfd(const oc_ring *ring);

/// Whether the kernel supports `opcode` on this ring.
bool oc_ring_supports(const oc_ring *ring, oc_ring_opcode opcode);

/// Queues one operation tagged `tag` and submits it: 0, or a negative errno value (EBUSY when
/// every submission slot is taken even after submitting what was queued).
/// Offsets of -1 mean the file position, as for read(2) and write(2).
int oc_ring_readv(oc_ring *ring, int fd, const struct iovec *_Nullable vectors, unsigned count, int64_t offset,
                  uint64_t tag);
int oc_ring_writev(oc_ring *ring, int fd, const struct iovec *_Nullable vectors, unsigned count, int64_t offset,
                   uint64_t tag);
int oc_ring_fsync(oc_ring *ring, int fd, bool data_only, uint64_t tag);
int oc_ring_openat(oc_ring *ring, int directory, const char *_Nullable path, int flags, mode_t mode, uint64_t tag);
int oc_ring_close(oc_ring *ring, int fd, uint64_t tag);
int oc_ring_statx(oc_ring *ring, int directory, const char *_Nullable path, int flags, unsigned mask,
                  struct statx *_Nullable result, uint64_t tag);
/// statx(2) of `fd` itself, with the fields fstat(2) reports.
int oc_ring_fstat(oc_ring *ring, int fd, struct statx *result, uint64_t tag);

/// struct statx, under a name Swift can tell from the function.
typedef struct statx oc_statx;
/// Asks the kernel to cancel the operation tagged `tag`; its completion still comes.
int oc_ring_cancel(oc_ring *ring, uint64_t tag);

/// One completion: the operation's tag and its result (a count, or a negative errno value).
typedef struct oc_ring_completion {
    uint64_t tag;
    int32_t result;
} oc_ring_completion;

/// Takes up to `capacity` completions without waiting; returns how many. `run_deferred` first
/// runs the completion work the kernel deferred to this thread (a system call): for when the
/// ring's eventfd said there is some. Completions made while submitting need no such run.
int oc_ring_reap(oc_ring *ring, bool run_deferred, oc_ring_completion *completions, int capacity);

/// fstat(2)'s answer built from statx(2)'s, as glibc builds it.
void oc_stat_from_statx(struct stat *status, const struct statx *extended);

/// The kernel's io_uring_disabled setting: 0 (allowed), 1 (privileged only), 2 (disabled), or
/// -1 when the kernel has no such setting.
int oc_ring_disabled_setting(void);

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
