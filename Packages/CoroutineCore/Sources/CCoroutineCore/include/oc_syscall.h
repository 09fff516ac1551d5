#ifndef OC_SYSCALL_H
#define OC_SYSCALL_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <linux/stat.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/// O_DIRECT, which Swift's Glibc does not import (a GNU extension); glibc's __O_DIRECT holds
/// it for every architecture whatever the feature macros.
static const int oc_open_direct = __O_DIRECT;

// The kernel's own calls, bypassing libc's symbols: the syscall layer calls these so that
// it never re-enters a hook that exports libc's names.

/// clock_nanosleep(2): returns 0 or an error number (not errno), as the libc function does.
/// A system call made with the instruction itself, not through libc's `syscall`, which the hook
/// library interposes (futex.c): the runtime's own futex waits and the hook's calls to the
/// kernel must reach it. The result, or -1 with errno.
long oc_sys_raw(long number, long a1, long a2, long a3, long a4, long a5, long a6);

/// `oc_syscall(SYS_x, arguments…)`: `oc_sys_raw` with the arguments it is not given as 0, for
/// the runtime's C code, which must never call libc's interposed `syscall`.
#define oc_syscall(...) OC_SYSCALL_PADDED(__VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define OC_SYSCALL_PADDED(number, a1, a2, a3, a4, a5, a6, ...) \
    oc_sys_raw((long)(number), (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5), (long)(a6))

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
int oc_sys_epoll_pwait(int epoll, void *events, int max_events, int timeout_ms, const sigset_t *mask);
int oc_sys_epoll_pwait2(int epoll, void *events, int max_events, const struct timespec *timeout, const sigset_t *mask);

/// select(2), through pselect6 (the one every architecture has), writing the time left back
/// into `timeout` as Linux's select does. As libc's: -1 with errno on error.
int oc_sys_select(int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout);

/// ppoll(2) with glibc's contract: the timeout is read, never written back.
int oc_sys_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask);

/// pselect(2) with glibc's contract: the timeout is read, never written back.
int oc_sys_pselect(int count, fd_set *read, fd_set *write, fd_set *except, const struct timespec *timeout,
                   const sigset_t *mask);

/// The socket timeout options in both forms: the classic timeval one and the 64-bit one
/// (the same layout on 64-bit machines), numbered alike on x86_64 and aarch64.
enum {
    OC_SO_RCVTIMEO_OLD = 20,
    OC_SO_SNDTIMEO_OLD = 21,
    OC_SO_RCVTIMEO_NEW = 66,
    OC_SO_SNDTIMEO_NEW = 67,
};

// Descriptors and sockets. Each returns what the libc function returns: -1 with errno on error.

int oc_sys_socket(int domain, int type, int protocol);
int oc_sys_socketpair(int domain, int type, int protocol, int pair[2]);
int oc_sys_connect(int fd, const struct sockaddr *address, socklen_t length);
int oc_sys_listen(int fd, int backlog);
int oc_sys_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
int oc_sys_shutdown(int fd, int how);
int oc_sys_close(int fd);
int oc_sys_openat(int directory, const char *path, int flags, mode_t mode);
int oc_sys_dup(int fd);
int oc_sys_dup3(int fd, int target, int flags);
int oc_sys_fcntl(int fd, int command, long argument);
int oc_sys_ioctl(int fd, unsigned long request, void *argument);
int oc_sys_getsockopt(int fd, int level, int name, void *value, socklen_t *length);
int oc_sys_setsockopt(int fd, int level, int name, const void *value, socklen_t length);

/// What an open descriptor is, as far as the runtime cares: a socket; something else epoll can
/// watch (a pipe or FIFO, a terminal or other character device, an eventfd, timerfd, signalfd
/// or inotify instance); or storage (a regular file, a directory, a block device), whose calls
/// never wait for readiness but may wait for the disk.
typedef enum oc_file_kind { OC_FILE_NOT_OPEN, OC_FILE_SOCKET, OC_FILE_POLLABLE, OC_FILE_STORAGE } oc_file_kind;

/// What `fd` is (errno untouched).
oc_file_kind oc_sys_file_kind(int fd);

// Reading and writing.

ssize_t oc_sys_read(int fd, void *buffer, size_t count);
ssize_t oc_sys_readv(int fd, const struct iovec *vectors, int count);
ssize_t oc_sys_pread(int fd, void *buffer, size_t count, off_t offset);
ssize_t oc_sys_preadv(int fd, const struct iovec *vectors, int count, off_t offset);
/// readv(2) and writev(2) at the file position with RWF_NOWAIT (preadv2, pwritev2): they try
/// without blocking on a descriptor whose file description stays blocking; EAGAIN when they
/// would block, EOPNOTSUPP for kinds of file that do not take the flag.
ssize_t oc_sys_readv_nowait(int fd, const struct iovec *vectors, int count);
ssize_t oc_sys_writev_nowait(int fd, const struct iovec *vectors, int count);
int oc_sys_fsync(int fd);
int oc_sys_fdatasync(int fd);
int oc_sys_fstat(int fd, struct stat *status);
pid_t oc_sys_wait4(pid_t pid, int *status, int options, struct rusage *usage);
int oc_sys_flock(int fd, int operation);
/// Whether `command` of fcntl(2) waits for a lock (F_SETLKW, F_OFD_SETLKW).
bool oc_fcntl_waits_for_lock(int command);
ssize_t oc_sys_sendfile(int out, int input, off_t *offset, size_t count);
ssize_t oc_sys_splice(int input, int64_t *input_offset, int out, int64_t *output_offset, size_t count, unsigned flags);
/// `messages` points at struct mmsghdr, which only _GNU_SOURCE declares (Swift's view has none).
int oc_sys_recvmmsg(int fd, void *messages, unsigned count, int flags, struct timespec *timeout);
int oc_sys_sendmmsg(int fd, void *messages, unsigned count, int flags);
/// fstat(2) by statx(2)'s answer for `fd` itself (AT_EMPTY_PATH).
int oc_sys_fstat_statx(int fd, struct statx *result);
int oc_sys_statx(int directory, const char *path, int flags, unsigned mask, struct statx *result);
ssize_t oc_sys_recvfrom(int fd, void *buffer, size_t count, int flags, struct sockaddr *address, socklen_t *length);
ssize_t oc_sys_recvmsg(int fd, struct msghdr *message, int flags);
ssize_t oc_sys_write(int fd, const void *buffer, size_t count);
ssize_t oc_sys_writev(int fd, const struct iovec *vectors, int count);
ssize_t oc_sys_pwrite(int fd, const void *buffer, size_t count, off_t offset);
ssize_t oc_sys_pwritev(int fd, const struct iovec *vectors, int count, off_t offset);
ssize_t oc_sys_sendto(int fd, const void *buffer, size_t count, int flags, const struct sockaddr *address,
                      socklen_t length);
ssize_t oc_sys_sendmsg(int fd, const struct msghdr *message, int flags);

#endif
