// libc's `syscall`, interposed: the system calls code makes by number.
//
// Some code calls the kernel through `syscall(SYS_…)` instead of libc's wrapper: libdispatch and
// Swift's `Mutex` for their futexes, libraries that want a call glibc does not wrap, code that
// wants to bypass a wrapper's cancellation point. Without this hook each such call held its
// whole thread in a task. So:
//
// - SYS_futex goes to the futex hook (futex.c), from any caller: its wakes and unlocks must
//   reach tasks parked on the word whoever makes them.
// - In a task its scheduler runs, the blocking calls the hook library knows by name (the sleep
//   family, reads and writes, socket waits, polls, wait4) go to those hooks, which suspend the
//   task; their results and errno are what `syscall` gives (-1 and errno), converted where the
//   libc function answers differently (clock_nanosleep returns its error). Only from code whose
//   waits may suspend (`oc_hook_from_waiting_code`): an allocator calls `syscall` precisely to
//   bypass the wrappers (jemalloc reads /proc with SYS_open, SYS_read and SYS_close while it
//   holds its own lock), and a hook that allocated there would wait for that lock for ever.
//   For the same reason a descriptor closed through `syscall` is not forgotten by the runtime's
//   table, as it is not by libc.
// - Everything else, and every call on a foreign stack (a signal handler's, the crash
//   handler's), goes to the kernel unchanged, with the system call instruction itself
//   (oc_sys_raw): libc's `syscall` does nothing more.
#define _GNU_SOURCE
#include "oc_hook.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oc_hook_exports.h"
#include "oc_syscall.h"

/// A blocking call made by number in a task, through the hook of the same name (its Swift
/// implementation, not the exported name, which another library could interpose); false (and
/// `*result` untouched) for a number this hook leaves to the kernel.
static bool route_blocking_call(long number, long a1, long a2, long a3, long a4, long a5, long a6, long *result) {
    (void)a6;
    switch (number) {
#ifdef SYS_nanosleep
    case SYS_nanosleep:
        *result = oc_hook_nanosleep((const struct timespec *)a1, (struct timespec *)a2);
        return true;
#endif
    case SYS_clock_nanosleep: {
        // The libc function returns its error; the system call's convention is -1 and errno.
        int error = oc_hook_clock_nanosleep((clockid_t)a1, (int)a2, (const struct timespec *)a3, (struct timespec *)a4);
        if (error != 0) {
            errno = error;
        }
        *result = error == 0 ? 0 : -1;
        return true;
    }
    case SYS_read:
        *result = oc_hook_read((int)a1, (void *)a2, (size_t)a3);
        return true;
    case SYS_write:
        *result = oc_hook_write((int)a1, (const void *)a2, (size_t)a3);
        return true;
    case SYS_readv:
        *result = oc_hook_readv((int)a1, (const struct iovec *)a2, (int)a3);
        return true;
    case SYS_writev:
        *result = oc_hook_writev((int)a1, (const struct iovec *)a2, (int)a3);
        return true;
    case SYS_pread64:
        *result = oc_hook_pread((int)a1, (void *)a2, (size_t)a3, (off_t)a4);
        return true;
    case SYS_pwrite64:
        *result = oc_hook_pwrite((int)a1, (const void *)a2, (size_t)a3, (off_t)a4);
        return true;
    case SYS_recvfrom:
        *result = oc_hook_recvfrom((int)a1, (void *)a2, (size_t)a3, (int)a4, (struct sockaddr *)a5, (socklen_t *)a6);
        return true;
    case SYS_sendto:
        *result = oc_hook_sendto((int)a1, (const void *)a2, (size_t)a3, (int)a4, (const struct sockaddr *)a5, (socklen_t)a6);
        return true;
    case SYS_recvmsg:
        *result = oc_hook_recvmsg((int)a1, (struct msghdr *)a2, (int)a3);
        return true;
    case SYS_sendmsg:
        *result = oc_hook_sendmsg((int)a1, (const struct msghdr *)a2, (int)a3);
        return true;
    case SYS_accept:
        *result = oc_hook_accept((int)a1, (struct sockaddr *)a2, (socklen_t *)a3);
        return true;
    case SYS_accept4:
        *result = oc_hook_accept4((int)a1, (struct sockaddr *)a2, (socklen_t *)a3, (int)a4);
        return true;
    case SYS_connect:
        *result = oc_hook_connect((int)a1, (const struct sockaddr *)a2, (socklen_t)a3);
        return true;
#ifdef SYS_poll
    case SYS_poll:
        *result = oc_hook_poll((struct pollfd *)a1, (nfds_t)a2, (int)a3);
        return true;
#endif
    case SYS_ppoll:
        // The kernel's fifth argument, the mask's size, is the wrapper's business.
        *result = oc_hook_ppoll((struct pollfd *)a1, (nfds_t)a2, (const struct timespec *)a3, (const sigset_t *)a4);
        return true;
#ifdef SYS_epoll_wait
    case SYS_epoll_wait:
        *result = oc_hook_epoll_wait((int)a1, (void *)a2, (int)a3, (int)a4);
        return true;
#endif
    case SYS_epoll_pwait:
        *result = oc_hook_epoll_pwait((int)a1, (void *)a2, (int)a3, (int)a4, (const sigset_t *)a5);
        return true;
    case SYS_wait4:
        *result = oc_hook_wait4((pid_t)a1, (int *)a2, (int)a3, (struct rusage *)a4);
        return true;
    default:
        return false;
    }
}

long syscall(long number, ...) {
    // As libc's own `syscall`: six argument words, whatever the call takes.
    va_list arguments;
    va_start(arguments, number);
    long a1 = va_arg(arguments, long);
    long a2 = va_arg(arguments, long);
    long a3 = va_arg(arguments, long);
    long a4 = va_arg(arguments, long);
    long a5 = va_arg(arguments, long);
    long a6 = va_arg(arguments, long);
    va_end(arguments);
    if (oc_hook_caller_is_foreign()) {
        return oc_sys_raw(number, a1, a2, a3, a4, a5, a6);
    }
    if (number == SYS_futex) {
        return oc_hook_futex((uint32_t *)a1, (int)a2, a3, a4, a5, a6);
    }
    long result;
    if (oc_hook_scheduled_coroutine() != NULL && oc_hook_from_waiting_code(__builtin_return_address(0))
        && route_blocking_call(number, a1, a2, a3, a4, a5, a6, &result)) {
        return result;
    }
    return oc_sys_raw(number, a1, a2, a3, a4, a5, a6);
}
