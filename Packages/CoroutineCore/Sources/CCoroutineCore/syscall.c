// The kernel's own calls, made without libc's exported names (which the hook library
// interposes): the system call instruction itself (oc_sys_raw) and the oc_sys_* wrappers the
// syscall layer calls.
#define _GNU_SOURCE
#include "oc_syscall.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

long oc_sys_raw(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
    long result;
#if defined(__x86_64__)
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    result = x0;
#else
#error "oc_sys_raw knows the system call instruction of x86_64 and aarch64 only"
#endif
    if (result < 0 && result > -4096) {
        errno = (int)-result;
        return -1;
    }
    return result;
}

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
    long result = oc_syscall(SYS_clock_nanosleep, clock, flags, request, remaining);
    int code = result == 0 ? 0 : errno;
    errno = saved;
    return code;
}

int oc_sys_clock_gettime(clockid_t clock, struct timespec *now) {
    return (int)oc_syscall(SYS_clock_gettime, clock, now);
}

int oc_sys_poll(struct pollfd *fds, nfds_t count, int timeout_ms) {
    struct timespec timeout = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000};
    return (int)oc_syscall(SYS_ppoll, fds, count, timeout_ms < 0 ? NULL : &timeout, NULL, (size_t)8);
}

int oc_sys_epoll_wait(int epoll, void *events, int max_events, int timeout_ms) {
    return (int)oc_syscall(SYS_epoll_pwait, epoll, events, max_events, timeout_ms, NULL, (size_t)8);
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
    int result = (int)oc_syscall(SYS_pselect6, count, read, write, except, limit, NULL);
    if (timeout != NULL) {
        int saved = errno;
        timeout->tv_sec = left.tv_sec;
        timeout->tv_usec = left.tv_nsec / 1000;
        errno = saved;
    }
    return result;
}

/// The size of the kernel's signal set, which the mask-taking calls need (glibc's __NSIG_BYTES).
enum { KERNEL_SIGSET_BYTES = 8 };

int oc_sys_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask) {
    // The kernel writes the time left back; glibc hides that behind a copy, and so do we.
    struct timespec copy;
    if (timeout != NULL) {
        copy = *timeout;
    }
    return (int)oc_syscall(SYS_ppoll, fds, count, timeout == NULL ? NULL : &copy, mask, (size_t)KERNEL_SIGSET_BYTES);
}

int oc_sys_pselect(int count, fd_set *read, fd_set *write, fd_set *except, const struct timespec *timeout,
                   const sigset_t *mask) {
    struct timespec copy;
    if (timeout != NULL) {
        copy = *timeout;
    }
    struct {
        const sigset_t *mask;
        size_t size;
    } signals = {mask, KERNEL_SIGSET_BYTES};
    return (int)oc_syscall(SYS_pselect6, count, read, write, except, timeout == NULL ? NULL : &copy, &signals);
}

int oc_sys_socket(int domain, int type, int protocol) {
    return (int)oc_syscall(SYS_socket, domain, type, protocol);
}

int oc_sys_socketpair(int domain, int type, int protocol, int pair[2]) {
    return (int)oc_syscall(SYS_socketpair, domain, type, protocol, pair);
}

int oc_sys_connect(int fd, const struct sockaddr *address, socklen_t length) {
    return (int)oc_syscall(SYS_connect, fd, address, length);
}

int oc_sys_listen(int fd, int backlog) {
    return (int)oc_syscall(SYS_listen, fd, backlog);
}

int oc_sys_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return (int)oc_syscall(SYS_accept4, fd, address, length, flags);
}

int oc_sys_shutdown(int fd, int how) {
    return (int)oc_syscall(SYS_shutdown, fd, how);
}

int oc_sys_close(int fd) {
    return (int)oc_syscall(SYS_close, fd);
}

int oc_sys_openat(int directory, const char *path, int flags, mode_t mode) {
    return (int)oc_syscall(SYS_openat, directory, path, flags, mode);
}

int oc_sys_dup(int fd) {
    return (int)oc_syscall(SYS_dup, fd);
}

int oc_sys_dup3(int fd, int target, int flags) {
    return (int)oc_syscall(SYS_dup3, fd, target, flags);
}

int oc_sys_fcntl(int fd, int command, long argument) {
    return (int)oc_syscall(SYS_fcntl, fd, command, argument);
}

int oc_sys_ioctl(int fd, unsigned long request, void *argument) {
    return (int)oc_syscall(SYS_ioctl, fd, request, argument);
}

int oc_sys_getsockopt(int fd, int level, int name, void *value, socklen_t *length) {
    return (int)oc_syscall(SYS_getsockopt, fd, level, name, value, length);
}

int oc_sys_setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
    return (int)oc_syscall(SYS_setsockopt, fd, level, name, value, length);
}

oc_file_kind oc_sys_file_kind(int fd) {
    int saved = errno;
    struct stat status;
    oc_file_kind kind = OC_FILE_NOT_OPEN;
    if (oc_syscall(SYS_fstat, fd, &status) == 0) {
        if (S_ISSOCK(status.st_mode)) {
            kind = OC_FILE_SOCKET;
        } else if (S_ISREG(status.st_mode) || S_ISDIR(status.st_mode) || S_ISBLK(status.st_mode)) {
            kind = OC_FILE_STORAGE;
        } else {
            // FIFOs, character devices, and the anonymous inodes of eventfd, timerfd,
            // signalfd, inotify and epoll (which have no file type bits).
            kind = OC_FILE_POLLABLE;
        }
    }
    errno = saved;
    return kind;
}

// The kernel takes the offset in two halves (low, high); -1 in both is the file position.
ssize_t oc_sys_readv_nowait(int fd, const struct iovec *vectors, int count) {
    return oc_syscall(SYS_preadv2, fd, vectors, count, -1L, -1L, RWF_NOWAIT);
}

ssize_t oc_sys_writev_nowait(int fd, const struct iovec *vectors, int count) {
    return oc_syscall(SYS_pwritev2, fd, vectors, count, -1L, -1L, RWF_NOWAIT);
}

int oc_sys_fsync(int fd) {
    return oc_syscall(SYS_fsync, fd);
}

int oc_sys_fdatasync(int fd) {
    return oc_syscall(SYS_fdatasync, fd);
}

pid_t oc_sys_wait4(pid_t pid, int *status, int options, struct rusage *usage) {
    return oc_syscall(SYS_wait4, pid, status, options, usage);
}

bool oc_fcntl_waits_for_lock(int command) {
    return command == F_SETLKW || command == F_OFD_SETLKW;
}

int oc_sys_flock(int fd, int operation) {
    return oc_syscall(SYS_flock, fd, operation);
}

ssize_t oc_sys_sendfile(int out, int input, off_t *offset, size_t count) {
    return oc_syscall(SYS_sendfile, out, input, offset, count);
}

ssize_t oc_sys_splice(int input, int64_t *input_offset, int out, int64_t *output_offset, size_t count, unsigned flags) {
    return oc_syscall(SYS_splice, input, input_offset, out, output_offset, count, flags);
}

int oc_sys_recvmmsg(int fd, void *messages, unsigned count, int flags, struct timespec *timeout) {
    return oc_syscall(SYS_recvmmsg, fd, messages, count, flags, timeout);
}

int oc_sys_sendmmsg(int fd, void *messages, unsigned count, int flags) {
    return oc_syscall(SYS_sendmmsg, fd, messages, count, flags);
}

int oc_sys_epoll_pwait(int epoll, void *events, int max_events, int timeout_ms, const sigset_t *mask) {
    return oc_syscall(SYS_epoll_pwait, epoll, events, max_events, timeout_ms, mask, (size_t)8);
}

int oc_sys_epoll_pwait2(int epoll, void *events, int max_events, const struct timespec *timeout, const sigset_t *mask) {
    return oc_syscall(SYS_epoll_pwait2, epoll, events, max_events, timeout, mask, (size_t)8);
}

int oc_sys_fstat(int fd, struct stat *status) {
    return oc_syscall(SYS_fstat, fd, status);
}

int oc_sys_fstat_statx(int fd, struct statx *result) {
    return oc_syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, result);
}

int oc_sys_statx(int directory, const char *path, int flags, unsigned mask, struct statx *result) {
    return oc_syscall(SYS_statx, directory, path, flags, mask, result);
}

ssize_t oc_sys_read(int fd, void *buffer, size_t count) {
    return oc_syscall(SYS_read, fd, buffer, count);
}

ssize_t oc_sys_readv(int fd, const struct iovec *vectors, int count) {
    return oc_syscall(SYS_readv, fd, vectors, count);
}

ssize_t oc_sys_pread(int fd, void *buffer, size_t count, off_t offset) {
    return oc_syscall(SYS_pread64, fd, buffer, count, offset);
}

// The positioned vector calls take the offset split in two longs; a 64-bit kernel reads it
// whole from the first.
ssize_t oc_sys_preadv(int fd, const struct iovec *vectors, int count, off_t offset) {
    return oc_syscall(SYS_preadv, fd, vectors, count, (long)offset, 0L);
}

ssize_t oc_sys_recvfrom(int fd, void *buffer, size_t count, int flags, struct sockaddr *address, socklen_t *length) {
    return oc_syscall(SYS_recvfrom, fd, buffer, count, flags, address, length);
}

ssize_t oc_sys_recvmsg(int fd, struct msghdr *message, int flags) {
    return oc_syscall(SYS_recvmsg, fd, message, flags);
}

ssize_t oc_sys_write(int fd, const void *buffer, size_t count) {
    return oc_syscall(SYS_write, fd, buffer, count);
}

ssize_t oc_sys_writev(int fd, const struct iovec *vectors, int count) {
    return oc_syscall(SYS_writev, fd, vectors, count);
}

ssize_t oc_sys_pwrite(int fd, const void *buffer, size_t count, off_t offset) {
    return oc_syscall(SYS_pwrite64, fd, buffer, count, offset);
}

ssize_t oc_sys_pwritev(int fd, const struct iovec *vectors, int count, off_t offset) {
    return oc_syscall(SYS_pwritev, fd, vectors, count, (long)offset, 0L);
}

ssize_t oc_sys_sendto(int fd, const void *buffer, size_t count, int flags, const struct sockaddr *address,
                      socklen_t length) {
    return oc_syscall(SYS_sendto, fd, buffer, count, flags, address, length);
}

ssize_t oc_sys_sendmsg(int fd, const struct msghdr *message, int flags) {
    return oc_syscall(SYS_sendmsg, fd, message, flags);
}
