// The loop reaches the kernel through raw system calls: the hook library exports libc's
// read, write and epoll_wait, and the loop must never re-enter them.
#include "oc_syscall.h"
#include "oc_epoll.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { COLLECT_BATCH = 128 };

int oc_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int oc_eventfd_create(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int oc_epoll_add_wakeup(int epoll, int wakeup) {
    struct epoll_event event = {.events = EPOLLIN, .data.fd = wakeup};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event);
}

int oc_epoll_watch(int epoll, int fd) {
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 || errno == EEXIST) {
        return 0;
    }
    return -1;
}

int oc_epoll_forget(int epoll, int fd) {
    return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
}

int oc_epoll_collect(int epoll, oc_ready_event *events, int capacity, int timeout_ms) {
    struct epoll_event raw[COLLECT_BATCH];
    int wanted = capacity < COLLECT_BATCH ? capacity : COLLECT_BATCH;
    int count = (int)oc_syscall(SYS_epoll_pwait, epoll, raw, wanted, timeout_ms, NULL, (size_t)8);
    for (int index = 0; index < count; index++) {
        uint32_t flags = raw[index].events;
        uint32_t failed = flags & (EPOLLERR | EPOLLHUP);
        events[index].fd = raw[index].data.fd;
        events[index].readable = (failed || (flags & (EPOLLIN | EPOLLRDHUP))) ? 1 : 0;
        events[index].writable = (failed || (flags & EPOLLOUT)) ? 1 : 0;
        events[index].hung_up = (failed || (flags & EPOLLRDHUP)) ? 1 : 0;
    }
    return count;
}

void oc_eventfd_signal(int wakeup) {
    uint64_t one = 1;
    long written = oc_syscall(SYS_write, wakeup, &one, sizeof one);
    (void)written;  // EAGAIN means the counter is already non-zero: the loop wakes anyway.
}

void oc_eventfd_drain(int wakeup) {
    uint64_t count;
    long got = oc_syscall(SYS_read, wakeup, &count, sizeof count);
    (void)got;  // EAGAIN means nothing to drain.
}
