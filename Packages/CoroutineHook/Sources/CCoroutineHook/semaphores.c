// The POSIX semaphore hooks: `sem_wait`, `sem_timedwait` and `sem_clockwait` in a task suspend
// the task, not its thread, and `sem_post` wakes the tasks that wait.
//
// libdispatch waits on a `sem_t` for `DispatchSemaphore.wait` (sem_wait, or sem_timedwait with
// a CLOCK_REALTIME deadline) and posts it from `signal`, so these hooks are what lets a task
// wait on a DispatchSemaphore while the other tasks of its thread run. The caller is libdispatch
// or the program, never the runtime, so every call from a task waits cooperatively, whoever
// makes it (unlike the mutex hooks, thread_locks.c, which leave the runtime's own locks alone).
//
// The value stays glibc's: a task takes a unit with libc's `sem_trywait` and gives one with
// libc's `sem_post`, so tasks, plain threads and libc's own waiters share one semaphore
// exactly. A task that finds none parks on the semaphore's address (waits.c) after checking
// again once it is visible to posters; a post from any thread unparks one. A post that no hook
// sees (none today: glibc posts nothing itself) is caught by a backstop, a retry after 1 ms
// doubling to 16 ms.
//
// Results and errno are libc's: EINVAL for a deadline whose nanoseconds are out of range, or
// a clock other than CLOCK_REALTIME and CLOCK_MONOTONIC, checked before anything else (as glibc
// checks, unlike its mutexes); ETIMEDOUT at the deadline. A task's cancellation does not end the wait, as it does not end a thread's.
#define _GNU_SOURCE
#include "oc_hook.h"

#include <errno.h>
#include <semaphore.h>

static void *libc_sem_wait;
static void *libc_sem_timedwait;
static void *libc_sem_clockwait;
static void *libc_sem_trywait;
static void *libc_sem_post;

static int libc_trywait(sem_t *semaphore) {
    return LIBC(sem_trywait, int (*)(sem_t *))(semaphore);
}

typedef struct {
    sem_t *semaphore;
    /// Whether the check made once the waiter was visible took a unit.
    bool taken;
} take_attempt;

static bool still_empty(void *context) {
    take_attempt *attempt = context;
    int saved = errno;
    attempt->taken = libc_trywait(attempt->semaphore) == 0;
    errno = saved;
    return !attempt->taken;
}

/// Takes a unit of `semaphore` for the running task, parking it while there is none, until
/// `deadline` (monotonic nanoseconds, -1 for none). libc's result and errno.
static int take_cooperatively(sem_t *semaphore, int64_t deadline) {
    take_attempt attempt = {semaphore, false};
    int64_t backstop = 1000000;
    for (;;) {
        if (deadline >= 0 && oc_hook_monotonic_ns() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        oc_hook_park_with_backstop(semaphore, deadline, &backstop, 16000000, still_empty, &attempt);
        if (attempt.taken || libc_trywait(semaphore) == 0) {
            return 0;
        }
        if (errno != EAGAIN) {
            return -1;
        }
    }
}

/// Whether a wait on a semaphore should be cooperative: in a task its scheduler runs, with
/// hooking on.
static bool waits_cooperatively(void) {
    return oc_hook_enabled() && oc_hook_scheduled_coroutine() != NULL;
}

int sem_wait(sem_t *semaphore) {
    if (!waits_cooperatively()) {
        return LIBC(sem_wait, int (*)(sem_t *))(semaphore);
    }
    // Every wait starts with libc's trywait: the unit, or EAGAIN to wait, or another errno
    // (EINVAL for a bad semaphore) to return.
    if (libc_trywait(semaphore) == 0) {
        return 0;
    }
    return errno == EAGAIN ? take_cooperatively(semaphore, -1) : -1;
}

/// A wait until `abstime` on `clock` for the running task.
static int take_until(sem_t *semaphore, clockid_t clock, const struct timespec *abstime) {
    if (!oc_hook_is_valid_time(abstime) || (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)) {
        errno = EINVAL;
        return -1;
    }
    if (libc_trywait(semaphore) == 0) {
        return 0;
    }
    return errno == EAGAIN ? take_cooperatively(semaphore, oc_hook_monotonic_deadline(clock, abstime)) : -1;
}

int sem_timedwait(sem_t *semaphore, const struct timespec *abstime) {
    if (!waits_cooperatively()) {
        return LIBC(sem_timedwait, int (*)(sem_t *, const struct timespec *))(semaphore, abstime);
    }
    return take_until(semaphore, CLOCK_REALTIME, abstime);
}

int sem_clockwait(sem_t *semaphore, clockid_t clock, const struct timespec *abstime) {
    if (!waits_cooperatively()) {
        return LIBC(sem_clockwait, int (*)(sem_t *, clockid_t, const struct timespec *))(semaphore, clock, abstime);
    }
    return take_until(semaphore, clock, abstime);
}

int sem_post(sem_t *semaphore) {
    int result = LIBC(sem_post, int (*)(sem_t *))(semaphore);
    // A handler on an alternate stack may post (sem_post is async-signal-safe); the parking
    // lot is not, so its waiter is left to the backstop.
    if (result == 0 && !oc_hook_caller_is_foreign()) {
        int saved = errno;
        oc_hook_unpark_counted(semaphore, false);
        errno = saved;
    }
    return result;
}
