#ifndef OC_SYSCALL_H
#define OC_SYSCALL_H

#include <poll.h>
#include <sys/select.h>
#include <time.h>

// The kernel's own calls, bypassing libc's symbols: the syscall layer calls these so that
// it never re-enters a hook that exports libc's names.

/// clock_nanosleep(2): returns 0 or an error number (not errno), as the libc function does.
int oc_sys_clock_nanosleep(clockid_t clock, int flags, const struct timespec *request, struct timespec *remaining);

/// clock_gettime(2) through the vDSO-free raw call; 0 or -1 with errno.
int oc_sys_clock_gettime(clockid_t clock, struct timespec *now);

/// POLLRDHUP (peer closed its writing side), which <poll.h> shows only to _GNU_SOURCE code.
enum { OC_POLLRDHUP = 0x2000 };

/// poll(2), through ppoll (the one every architecture has): as libc's, -1 with errno on error.
int oc_sys_poll(struct pollfd *fds, nfds_t count, int timeout_ms);

/// epoll_wait(2), through epoll_pwait (the one every architecture has); `events` points at
/// `max_events` struct epoll_event (packed on x86_64, so untyped here). As libc's: -1 with errno.
int oc_sys_epoll_wait(int epoll, void *events, int max_events, int timeout_ms);

/// select(2), through pselect6 (the one every architecture has), writing the time left back
/// into `timeout` as Linux's select does. As libc's: -1 with errno on error.
int oc_sys_select(int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout);

#endif
