#define _GNU_SOURCE
#include "oc_syscall.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

/// glibc's encoding of "the calling process's CPU clock" for the kernel (pid 0, scheduler time).
static const clockid_t process_cpu_clock = (clockid_t)((~(unsigned)0 << 3) | 2);

int oc_sys_clock_nanosleep(clockid_t clock, int flags, const struct timespec *request, struct timespec *remaining) {
    // glibc answers these itself before the kernel sees them; so must we.
    if (clock == CLOCK_THREAD_CPUTIME_ID) {
        return EINVAL;
    }
    if (clock == CLOCK_PROCESS_CPUTIME_ID) {
        clock = process_cpu_clock;
    }
    // The libc function reports its error as the result and leaves errno alone.
    int saved = errno;
    long result = syscall(SYS_clock_nanosleep, clock, flags, request, remaining);
    int code = result == 0 ? 0 : errno;
    errno = saved;
    return code;
}

int oc_sys_clock_gettime(clockid_t clock, struct timespec *now) {
    return (int)syscall(SYS_clock_gettime, clock, now);
}

int oc_sys_poll(struct pollfd *fds, nfds_t count, int timeout_ms) {
    struct timespec timeout = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000};
    return (int)syscall(SYS_ppoll, fds, count, timeout_ms < 0 ? NULL : &timeout, NULL, (size_t)8);
}

int oc_sys_epoll_wait(int epoll, void *events, int max_events, int timeout_ms) {
    return (int)syscall(SYS_epoll_pwait, epoll, events, max_events, timeout_ms, NULL, (size_t)8);
}

int oc_sys_select(int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout) {
    struct timespec left;
    struct timespec *limit = NULL;
    if (timeout != NULL) {
        // As glibc: negative parts are invalid, and microseconds of a second or more carry
        // into the seconds (the kernel would refuse them).
        if (timeout->tv_sec < 0 || timeout->tv_usec < 0) {
            errno = EINVAL;
            return -1;
        }
        left.tv_sec = timeout->tv_sec + timeout->tv_usec / 1000000;
        left.tv_nsec = (timeout->tv_usec % 1000000) * 1000;
        limit = &left;
    }
    int result = (int)syscall(SYS_pselect6, count, read, write, except, limit, NULL);
    if (timeout != NULL) {
        int saved = errno;
        timeout->tv_sec = left.tv_sec;
        timeout->tv_usec = left.tv_nsec / 1000;
        errno = saved;
    }
    return result;
}
