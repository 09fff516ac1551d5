#ifndef OC_EPOLL_H
#define OC_EPOLL_H

#include <stdint.h>

/// One ready descriptor, unpacked (epoll_event is packed on x86_64, which Swift cannot import).
typedef struct oc_ready_event {
    int32_t fd;
    /// Readable, hung up, or in error: a reader should try again.
    uint8_t readable;
    /// Writable, hung up, or in error: a writer should try again.
    uint8_t writable;
    /// The peer shut its sending side down, or the socket hung up or failed: a read returns
    /// at once from now on (0 at the end of the stream, or the error).
    uint8_t hung_up;
} oc_ready_event;

/// A close-on-exec epoll instance, or -1 with errno.
int oc_epoll_create(void);

/// A close-on-exec, non-blocking eventfd, or -1 with errno.
int oc_eventfd_create(void);

/// Watches `wakeup` (an eventfd) level-triggered for reading; 0 or -1 with errno.
int oc_epoll_add_wakeup(int epoll, int wakeup);

/// Watches `fd` edge-triggered in both directions; 0, or -1 with errno (EEXIST counts as 0).
int oc_epoll_watch(int epoll, int fd);

/// Stops watching `fd`; 0 or -1 with errno.
int oc_epoll_forget(int epoll, int fd);

/// Waits up to `timeout_ms` (-1: no limit) and fills `events`; the count, or -1 with errno.
/// The wakeup eventfd is drained and reported like any other descriptor.
int oc_epoll_collect(int epoll, oc_ready_event *events, int capacity, int timeout_ms);

/// Wakes a loop parked on `wakeup`.
void oc_eventfd_signal(int wakeup);

/// Consumes the wakeups of `wakeup`.
void oc_eventfd_drain(int wakeup);

#endif
