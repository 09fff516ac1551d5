// The names the hook library exports for other code to call: libc's (the hooks, here) and the
// C API's (open_coroutine.h; oc_api_exports.h). Each is a C function of exports.c that calls its Swift
// implementation, named oc_hook_ and the exported name, so that the library exports them as
// libc does, with DEFAULT visibility. Swift gives every public symbol PROTECTED visibility on
// ELF, and a program built without PIE that takes the address of a protected function in a
// shared library gets glibc's "direct reference to protected function `fsync' ... may break
// pointer equality" (preloading the library into such a program). The Swift implementations
// are internal `@c(oc_hook_NAME) @implementation` functions: hidden, not exported, and checked
// by the compiler against the declarations below, so a Swift signature that drifts from the C
// one does not build. `make test-preload` fails if an export is protected again.
//
// One list, expanded twice: here into the declarations of the Swift implementations, in
// exports.c into the exported functions. An entry is
//     EXPORT(result type, exported name, Swift name, (parameters), (arguments)).
// The parameter types are libc's (exports.c includes libc's headers, whose declarations the
// compiler checks the exported functions against), except where Swift cannot take them:
// `void *` for struct epoll_event, struct mmsghdr and struct statx, struct stat for stat64.
#ifndef OC_HOOK_EXPORTS_H
#define OC_HOOK_EXPORTS_H

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/// The hooks: libc's names, as the Swift files of the same family implement them.
#define OC_HOOK_EXPORTS(EXPORT)                                                                                  \
    /* SleepHooks.swift */                                                                                       \
    EXPORT(unsigned int, sleep, hookSleep(_:), (unsigned int seconds), (seconds))                                 \
    EXPORT(int, usleep, hookUsleep(_:), (unsigned int microseconds), (microseconds))                                \
    EXPORT(int, nanosleep, hookNanosleep(_:_:), (const struct timespec *request, struct timespec *remaining),     \
           (request, remaining))                                                                                  \
    EXPORT(int, __nanosleep, hookInternalNanosleep(_:_:),                                                         \
           (const struct timespec *request, struct timespec *remaining), (request, remaining))                    \
    EXPORT(int, clock_nanosleep, hookClockNanosleep(_:_:_:_:),                                                    \
           (clockid_t clock, int flags, const struct timespec *request, struct timespec *remaining),             \
           (clock, flags, request, remaining))                                                                    \
    /* ReadHooks.swift */                                                                                        \
    EXPORT(ssize_t, read, hookRead(_:_:_:), (int fd, void *buffer, size_t count), (fd, buffer, count))            \
    EXPORT(ssize_t, __read, hookInternalRead(_:_:_:), (int fd, void *buffer, size_t count), (fd, buffer, count))  \
    EXPORT(ssize_t, __read_chk, hookCheckedRead(_:_:_:_:), (int fd, void *buffer, size_t count, size_t length),   \
           (fd, buffer, count, length))                                                                           \
    EXPORT(ssize_t, readv, hookReadv(_:_:_:), (int fd, const struct iovec *vectors, int count),                   \
           (fd, vectors, count))                                                                                  \
    EXPORT(ssize_t, recv, hookRecv(_:_:_:_:), (int fd, void *buffer, size_t count, int flags),                    \
           (fd, buffer, count, flags))                                                                            \
    EXPORT(ssize_t, __recv_chk, hookCheckedRecv(_:_:_:_:_:),                                                      \
           (int fd, void *buffer, size_t count, size_t length, int flags), (fd, buffer, count, length, flags))    \
    EXPORT(ssize_t, recvfrom, hookRecvfrom(_:_:_:_:_:_:),                                                         \
           (int fd, void *buffer, size_t count, int flags, struct sockaddr *address, socklen_t *length),         \
           (fd, buffer, count, flags, address, length))                                                           \
    EXPORT(ssize_t, __recvfrom_chk, hookCheckedRecvfrom(_:_:_:_:_:_:_:),                                          \
           (int fd, void *buffer, size_t count, size_t buffer_length, int flags, struct sockaddr *address,        \
            socklen_t *length),                                                                                   \
           (fd, buffer, count, buffer_length, flags, address, length))                                            \
    EXPORT(ssize_t, recvmsg, hookRecvmsg(_:_:_:), (int fd, struct msghdr *message, int flags),                    \
           (fd, message, flags))                                                                                  \
    EXPORT(ssize_t, pread, hookPread(_:_:_:_:), (int fd, void *buffer, size_t count, off_t offset),               \
           (fd, buffer, count, offset))                                                                           \
    EXPORT(ssize_t, pread64, hookPread64(_:_:_:_:), (int fd, void *buffer, size_t count, off_t offset),           \
           (fd, buffer, count, offset))                                                                           \
    EXPORT(ssize_t, __pread_chk, hookCheckedPread(_:_:_:_:_:),                                                    \
           (int fd, void *buffer, size_t count, off_t offset, size_t length), (fd, buffer, count, offset, length)) \
    EXPORT(ssize_t, __pread64_chk, hookCheckedPread64(_:_:_:_:_:),                                                \
           (int fd, void *buffer, size_t count, off_t offset, size_t length), (fd, buffer, count, offset, length)) \
    EXPORT(ssize_t, preadv, hookPreadv(_:_:_:_:), (int fd, const struct iovec *vectors, int count, off_t offset), \
           (fd, vectors, count, offset))                                                                          \
    EXPORT(ssize_t, preadv64, hookPreadv64(_:_:_:_:),                                                             \
           (int fd, const struct iovec *vectors, int count, off_t offset), (fd, vectors, count, offset))          \
    /* WriteHooks.swift */                                                                                       \
    EXPORT(ssize_t, write, hookWrite(_:_:_:), (int fd, const void *buffer, size_t count), (fd, buffer, count))    \
    EXPORT(ssize_t, __write, hookInternalWrite(_:_:_:), (int fd, const void *buffer, size_t count),               \
           (fd, buffer, count))                                                                                   \
    EXPORT(ssize_t, writev, hookWritev(_:_:_:), (int fd, const struct iovec *vectors, int count),                 \
           (fd, vectors, count))                                                                                  \
    EXPORT(ssize_t, send, hookSend(_:_:_:_:), (int fd, const void *buffer, size_t count, int flags),              \
           (fd, buffer, count, flags))                                                                            \
    EXPORT(ssize_t, __send, hookInternalSend(_:_:_:_:), (int fd, const void *buffer, size_t count, int flags),    \
           (fd, buffer, count, flags))                                                                            \
    EXPORT(ssize_t, sendto, hookSendto(_:_:_:_:_:_:),                                                             \
           (int fd, const void *buffer, size_t count, int flags, const struct sockaddr *address,                  \
            socklen_t length),                                                                                    \
           (fd, buffer, count, flags, address, length))                                                           \
    EXPORT(ssize_t, sendmsg, hookSendmsg(_:_:_:), (int fd, const struct msghdr *message, int flags),              \
           (fd, message, flags))                                                                                  \
    EXPORT(ssize_t, pwrite, hookPwrite(_:_:_:_:), (int fd, const void *buffer, size_t count, off_t offset),       \
           (fd, buffer, count, offset))                                                                           \
    EXPORT(ssize_t, pwrite64, hookPwrite64(_:_:_:_:), (int fd, const void *buffer, size_t count, off_t offset),   \
           (fd, buffer, count, offset))                                                                           \
    EXPORT(ssize_t, pwritev, hookPwritev(_:_:_:_:),                                                               \
           (int fd, const struct iovec *vectors, int count, off_t offset), (fd, vectors, count, offset))          \
    EXPORT(ssize_t, pwritev64, hookPwritev64(_:_:_:_:),                                                           \
           (int fd, const struct iovec *vectors, int count, off_t offset), (fd, vectors, count, offset))          \
    /* PollHooks.swift */                                                                                        \
    EXPORT(int, poll, hookPoll(_:_:_:), (struct pollfd *fds, nfds_t count, int timeout), (fds, count, timeout))   \
    EXPORT(int, __poll, hookInternalPoll(_:_:_:), (struct pollfd *fds, nfds_t count, int timeout),                \
           (fds, count, timeout))                                                                                 \
    EXPORT(int, __poll_chk, hookCheckedPoll(_:_:_:_:), (struct pollfd *fds, nfds_t count, int timeout, size_t length), \
           (fds, count, timeout, length))                                                                         \
    EXPORT(int, ppoll, hookPpoll(_:_:_:_:),                                                                       \
           (struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask),             \
           (fds, count, timeout, mask))                                                                           \
    EXPORT(int, __ppoll_chk, hookCheckedPpoll(_:_:_:_:_:),                                                        \
           (struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask,              \
            size_t length),                                                                                       \
           (fds, count, timeout, mask, length))                                                                   \
    EXPORT(int, select, hookSelect(_:_:_:_:_:),                                                                   \
           (int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout),                    \
           (count, read, write, except, timeout))                                                                 \
    EXPORT(int, __select, hookInternalSelect(_:_:_:_:_:),                                                         \
           (int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout),                    \
           (count, read, write, except, timeout))                                                                 \
    EXPORT(int, pselect, hookPselect(_:_:_:_:_:_:),                                                               \
           (int count, fd_set *read, fd_set *write, fd_set *except, const struct timespec *timeout,              \
            const sigset_t *mask),                                                                                \
           (count, read, write, except, timeout, mask))                                                           \
    EXPORT(int, epoll_wait, hookEpollWait(_:_:_:_:), (int epoll, void *events, int max_events, int timeout),      \
           (epoll, events, max_events, timeout))                                                                  \
    EXPORT(int, epoll_pwait, hookEpollPwait(_:_:_:_:_:),                                                          \
           (int epoll, void *events, int max_events, int timeout, const sigset_t *mask),                          \
           (epoll, events, max_events, timeout, mask))                                                            \
    EXPORT(int, epoll_pwait2, hookEpollPwait2(_:_:_:_:_:),                                                        \
           (int epoll, void *events, int max_events, const struct timespec *timeout, const sigset_t *mask),       \
           (epoll, events, max_events, timeout, mask))                                                            \
    /* SocketHooks.swift */                                                                                      \
    EXPORT(int, socket, hookSocket(_:_:_:), (int domain, int type, int protocol), (domain, type, protocol))       \
    EXPORT(int, socketpair, hookSocketpair(_:_:_:_:), (int domain, int type, int protocol, int *pair),            \
           (domain, type, protocol, pair))                                                                        \
    EXPORT(int, connect, hookConnect(_:_:_:), (int fd, const struct sockaddr *address, socklen_t length),         \
           (fd, address, length))                                                                                 \
    EXPORT(int, __connect, hookInternalConnect(_:_:_:), (int fd, const struct sockaddr *address, socklen_t length), \
           (fd, address, length))                                                                                 \
    EXPORT(int, listen, hookListen(_:_:), (int fd, int backlog), (fd, backlog))                                   \
    EXPORT(int, accept, hookAccept(_:_:_:), (int fd, struct sockaddr *address, socklen_t *length),                \
           (fd, address, length))                                                                                 \
    EXPORT(int, accept4, hookAccept4(_:_:_:_:), (int fd, struct sockaddr *address, socklen_t *length, int flags), \
           (fd, address, length, flags))                                                                          \
    EXPORT(int, shutdown, hookShutdown(_:_:), (int fd, int how), (fd, how))                                       \
    EXPORT(ssize_t, sendfile, hookSendfile(_:_:_:_:), (int out, int input, off_t *offset, size_t count),          \
           (out, input, offset, count))                                                                           \
    EXPORT(ssize_t, sendfile64, hookSendfile64(_:_:_:_:), (int out, int input, off_t *offset, size_t count),      \
           (out, input, offset, count))                                                                           \
    EXPORT(ssize_t, splice, hookSplice(_:_:_:_:_:_:),                                                             \
           (int input, int64_t *input_offset, int out, int64_t *output_offset, size_t count, unsigned int flags), \
           (input, input_offset, out, output_offset, count, flags))                                               \
    EXPORT(int, recvmmsg, hookRecvmmsg(_:_:_:_:_:),                                                               \
           (int fd, void *messages, unsigned int count, int flags, struct timespec *timeout),                     \
           (fd, messages, count, flags, timeout))                                                                 \
    EXPORT(int, sendmmsg, hookSendmmsg(_:_:_:_:), (int fd, void *messages, unsigned int count, int flags),        \
           (fd, messages, count, flags))                                                                          \
    /* DescriptorHooks.swift */                                                                                  \
    EXPORT(int, close, hookClose(_:), (int fd), (fd))                                                             \
    EXPORT(int, __close, hookInternalClose(_:), (int fd), (fd))                                                   \
    EXPORT(int, dup, hookDup(_:), (int fd), (fd))                                                                 \
    EXPORT(int, dup2, hookDup2(_:_:), (int fd, int target), (fd, target))                                         \
    EXPORT(int, __dup2, hookInternalDup2(_:_:), (int fd, int target), (fd, target))                               \
    EXPORT(int, dup3, hookDup3(_:_:_:), (int fd, int target, int flags), (fd, target, flags))                     \
    EXPORT(int, getsockopt, hookGetsockopt(_:_:_:_:_:),                                                           \
           (int fd, int level, int name, void *value, socklen_t *length), (fd, level, name, value, length))       \
    EXPORT(int, setsockopt, hookSetsockopt(_:_:_:_:_:),                                                           \
           (int fd, int level, int name, const void *value, socklen_t length), (fd, level, name, value, length))  \
    /* FileHooks.swift */                                                                                        \
    EXPORT(int, fsync, hookFsync(_:), (int fd), (fd))                                                             \
    EXPORT(int, fdatasync, hookFdatasync(_:), (int fd), (fd))                                                     \
    EXPORT(int, fstat, hookFstat(_:_:), (int fd, struct stat *status), (fd, status))                              \
    EXPORT(int, fstat64, hookFstat64(_:_:), (int fd, struct stat *status), (fd, status))                          \
    EXPORT(int, statx, hookStatx(_:_:_:_:_:),                                                                     \
           (int directory, const char *path, int flags, unsigned int mask, void *result),                         \
           (directory, path, flags, mask, result))                                                                \
    EXPORT(int, flock, hookFlock(_:_:), (int fd, int operation), (fd, operation))                                 \
    EXPORT(pid_t, wait4, hookWait4(_:_:_:_:), (pid_t pid, int *status, int options, struct rusage *usage),        \
           (pid, status, options, usage))                                                                         \
    EXPORT(pid_t, waitpid, hookWaitpid(_:_:_:), (pid_t pid, int *status, int options), (pid, status, options))   \
    EXPORT(pid_t, __waitpid, hookInternalWaitpid(_:_:_:), (pid_t pid, int *status, int options),                  \
           (pid, status, options))                                                                                \
    EXPORT(pid_t, wait, hookWait(_:), (int *status), (status))                                                    \
    EXPORT(int, getaddrinfo, hookGetaddrinfo(_:_:_:_:),                                                           \
           (const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **result),       \
           (node, service, hints, result))                                                                        \
    EXPORT(int, getnameinfo, hookGetnameinfo(_:_:_:_:_:_:_:),                                                     \
           (const struct sockaddr *address, socklen_t length, char *host, socklen_t host_length, char *service,  \
            socklen_t service_length, int flags),                                                                 \
           (address, length, host, host_length, service, service_length, flags))                                  \
    EXPORT(struct hostent *, gethostbyname, hookGethostbyname(_:), (const char *name), (name))                    \
    EXPORT(int, gethostbyname_r, hookGethostbynameR(_:_:_:_:_:_:),                                                \
           (const char *name, struct hostent *entry, char *buffer, size_t length, struct hostent **result,        \
            int *error),                                                                                          \
           (name, entry, buffer, length, result, error))

#define OC_HOOK_DECLARE_IMPLEMENTATION(type, name, swift, parameters, arguments) \
    type oc_hook_##name parameters __attribute__((swift_name(#swift)));
OC_HOOK_EXPORTS(OC_HOOK_DECLARE_IMPLEMENTATION)

#endif
