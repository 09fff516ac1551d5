// One scheduler thread's io_uring, through liburing: setup, submission, completions and the
// eventfd that wakes the thread's epoll when completions arrive.
#define _GNU_SOURCE
#include "oc_syscall.h"
#include "oc_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

// cachestat(2), Linux 6.5, under its generic number; the C library has no wrapper yet.
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

/// The kernel workers each ring may use for bounded (file) and unbounded work.
#define OC_RING_WORKERS 8

struct oc_ring {
    struct io_uring ring;
    int eventfd;
    /// Completions that need the submitting thread wait until it asks for them
    /// (IORING_SETUP_DEFER_TASKRUN).
    bool defers_completions;
    bool supported[OC_RING_OPCODE_COUNT];
};

static const int kernel_opcodes[OC_RING_OPCODE_COUNT] = {
    [OC_RING_READV] = IORING_OP_READV,   [OC_RING_WRITEV] = IORING_OP_WRITEV, [OC_RING_FSYNC] = IORING_OP_FSYNC,
    [OC_RING_OPENAT] = IORING_OP_OPENAT, [OC_RING_CLOSE] = IORING_OP_CLOSE,   [OC_RING_STATX] = IORING_OP_STATX,
};

static void learn_supported_operations(oc_ring *ring) {
    struct io_uring_probe *probe = io_uring_get_probe_ring(&ring->ring);
    for (int opcode = 0; opcode < OC_RING_OPCODE_COUNT; opcode++) {
        ring->supported[opcode] = probe != NULL && io_uring_opcode_supported(probe, kernel_opcodes[opcode]);
    }
    if (probe != NULL) {
        io_uring_free_probe(probe);
    }
}

oc_ring *oc_ring_create(unsigned entries, int *error) {
    oc_ring *ring = calloc(1, sizeof *ring);
    if (ring == NULL) {
        *error = ENOMEM;
        return NULL;
    }
    // One thread submits to each ring. Deferring the completion work to that thread's own
    // io_uring_enter keeps the kernel from interrupting it for completions: an interrupt
    // would cut short a blocking call with a timeout (SO_RCVTIMEO) that the thread's code
    // made, with EINTR. Kernels before 6.1 know neither flag; they interrupt.
    struct io_uring_params parameters = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
    int result = io_uring_queue_init_params(entries, &ring->ring, &parameters);
    ring->defers_completions = result == 0;
    if (result == -EINVAL) {
        result = io_uring_queue_init(entries, &ring->ring, 0);
    }
    if (result < 0) {
        *error = -result;
        free(ring);
        return NULL;
    }
    ring->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ring->eventfd < 0 || io_uring_register_eventfd(&ring->ring, ring->eventfd) < 0) {
        *error = errno != 0 ? errno : EINVAL;
        if (ring->eventfd >= 0) {
            close(ring->eventfd);
        }
        io_uring_queue_exit(&ring->ring);
        free(ring);
        return NULL;
    }
    learn_supported_operations(ring);
    // The kernel's workers run the reads that go to the disk (see oc_ring_readv) and copy
    // their data at normal priority. Measured with make bench-files on 2 cores: 2 per ring
    // read 575 MB/s, 8 read 959 MB/s with a ticker's p99 lateness of 3.1 ms, 32 read
    // 1,397 MB/s but crowd the scheduler threads off the CPUs (p99 7.1 ms). Kernels before
    // 5.15 keep their own limit.
    unsigned workers[2] = {OC_RING_WORKERS, OC_RING_WORKERS};
    io_uring_register_iowq_max_workers(&ring->ring, workers);
    return ring;
}

void oc_ring_destroy(oc_ring *ring) {
    io_uring_queue_exit(&ring->ring);
    close(ring->eventfd);
    free(ring);
}

int oc_ring_eventfd(const oc_ring *ring) {
    return ring->eventfd;
}

bool oc_ring_supports(const oc_ring *ring, oc_ring_opcode opcode) {
    return opcode < OC_RING_OPCODE_COUNT && ring->supported[opcode];
}

/// A free submission slot, submitting what is queued to make room if need be.
static struct io_uring_sqe *next_slot(oc_ring *ring) {
    struct io_uring_sqe *slot = io_uring_get_sqe(&ring->ring);
    if (slot == NULL) {
        io_uring_submit(&ring->ring);
        slot = io_uring_get_sqe(&ring->ring);
    }
    return slot;
}

static int submit(oc_ring *ring, struct io_uring_sqe *slot, uint64_t tag) {
    io_uring_sqe_set_data64(slot, tag);
    int submitted;
    do {
        submitted = io_uring_submit(&ring->ring);
    } while (submitted == -EINTR);
    return submitted < 0 ? submitted : 0;
}

/// The range and the counts of cachestat(2) (struct cachestat_range, struct cachestat).
struct page_cache_range {
    uint64_t offset, length;
};
struct page_cache_counts {
    uint64_t cached, dirty, writeback, evicted, recently_evicted;
};

/// Whether every page that `length` bytes at `offset` (-1: the file position) span is in the
/// page cache, so that reading them copies memory and never starts disk I/O. A kernel
/// without cachestat(2), or a file it does not count, answers true: the read is submitted as
/// before.
static bool in_page_cache(int fd, int64_t offset, uint64_t length) {
    if (offset < 0) {
        offset = oc_syscall(SYS_lseek, fd, 0, SEEK_CUR);
        if (offset < 0) {
            return true;
        }
    }
    if (length == 0) {
        return true;
    }
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t first = (uint64_t)offset / page, end = ((uint64_t)offset + length + page - 1) / page;
    struct page_cache_range range = {.offset = first * page, .length = (end - first) * page};
    struct page_cache_counts counts;
    if (oc_syscall(__NR_cachestat, fd, &range, &counts, 0) != 0) {
        return true;
    }
    return counts.cached >= end - first;
}

static uint64_t total_length(const struct iovec *vectors, unsigned count) {
    uint64_t total = 0;
    for (unsigned index = 0; vectors != NULL && index < count; index++) {
        total += vectors[index].iov_len;
    }
    return total;
}

int oc_ring_readv(oc_ring *ring, int fd, const struct iovec *vectors, unsigned count, int64_t offset,
                  uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_readv(slot, fd, vectors, count, (uint64_t)offset);
    // The kernel first tries every operation in the submitting call. A buffered read of pages
    // that are not cached starts readahead there, and the block layer puts the caller to
    // sleep while the device's queue is full: the scheduler thread stopped for 4-12 ms at a
    // time under 1,000 concurrent readers (perf sched: io_uring_enter -> filemap_read ->
    // submit_bio -> blk_mq_get_tag). Such reads go straight to the ring's kernel workers.
    if (!in_page_cache(fd, offset, total_length(vectors, count))) {
        io_uring_sqe_set_flags(slot, IOSQE_ASYNC);
    }
    return submit(ring, slot, tag);
}

int oc_ring_writev(oc_ring *ring, int fd, const struct iovec *vectors, unsigned count, int64_t offset,
                   uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_writev(slot, fd, vectors, count, (uint64_t)offset);
    return submit(ring, slot, tag);
}

int oc_ring_fsync(oc_ring *ring, int fd, bool data_only, uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_fsync(slot, fd, data_only ? IORING_FSYNC_DATASYNC : 0);
    return submit(ring, slot, tag);
}

int oc_ring_openat(oc_ring *ring, int directory, const char *path, int flags, mode_t mode, uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_openat(slot, directory, path, flags, mode);
    return submit(ring, slot, tag);
}

int oc_ring_close(oc_ring *ring, int fd, uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_close(slot, fd);
    return submit(ring, slot, tag);
}

int oc_ring_statx(oc_ring *ring, int directory, const char *path, int flags, unsigned mask,
                  struct statx *result, uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_statx(slot, directory, path, flags, mask, result);
    return submit(ring, slot, tag);
}

int oc_ring_fstat(oc_ring *ring, int fd, struct statx *result, uint64_t tag) {
    return oc_ring_statx(ring, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, result, tag);
}

int oc_ring_cancel(oc_ring *ring, uint64_t tag) {
    struct io_uring_sqe *slot = next_slot(ring);
    if (slot == NULL) {
        return -EBUSY;
    }
    io_uring_prep_cancel64(slot, tag, 0);
    // The cancellation's own completion carries no tag of an operation: 0 is never one.
    return submit(ring, slot, 0);
}

int oc_ring_reap(oc_ring *ring, bool run_deferred, oc_ring_completion *completions, int capacity) {
    if (run_deferred && ring->defers_completions) {
        io_uring_get_events(&ring->ring);
    }
    int count = 0;
    struct io_uring_cqe *completion;
    while (count < capacity && io_uring_peek_cqe(&ring->ring, &completion) == 0) {
        completions[count].tag = io_uring_cqe_get_data64(completion);
        completions[count].result = completion->res;
        io_uring_cqe_seen(&ring->ring, completion);
        count++;
    }
    return count;
}

void oc_stat_from_statx(struct stat *status, const struct statx *extended) {
    *status = (struct stat){0};
    status->st_dev = makedev(extended->stx_dev_major, extended->stx_dev_minor);
    status->st_ino = extended->stx_ino;
    status->st_mode = extended->stx_mode;
    status->st_nlink = extended->stx_nlink;
    status->st_uid = extended->stx_uid;
    status->st_gid = extended->stx_gid;
    status->st_rdev = makedev(extended->stx_rdev_major, extended->stx_rdev_minor);
    status->st_size = (off_t)extended->stx_size;
    status->st_blksize = extended->stx_blksize;
    status->st_blocks = (blkcnt_t)extended->stx_blocks;
    status->st_atim = (struct timespec){extended->stx_atime.tv_sec, extended->stx_atime.tv_nsec};
    status->st_mtim = (struct timespec){extended->stx_mtime.tv_sec, extended->stx_mtime.tv_nsec};
    status->st_ctim = (struct timespec){extended->stx_ctime.tv_sec, extended->stx_ctime.tv_nsec};
}

int oc_ring_disabled_setting(void) {
    FILE *file = fopen("/proc/sys/kernel/io_uring_disabled", "re");
    if (file == NULL) {
        return -1;
    }
    int setting = -1;
    if (fscanf(file, "%d", &setting) != 1) {
        setting = -1;
    }
    fclose(file);
    return setting;
}
