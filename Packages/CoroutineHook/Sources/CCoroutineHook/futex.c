// The futex hook: SYS_futex made through libc's `syscall` (syscall.c routes it here).
//
// Much of what waits in a Swift program waits on a futex through libc's `syscall` function,
// not through any libc call a hook could take: libdispatch's `DispatchGroup.wait`,
// `DispatchQueue.sync` and `dispatch_once` (FUTEX_WAIT), Swift's `Synchronization.Mutex` and
// its once-lock for lazy globals and `static let` (FUTEX_LOCK_PI, a lock word holding the
// owner's thread id). In a task each of these held the whole thread; the PI locks did worse.
// Their owner is a thread id, and the tasks of one thread share it, so a second task of the
// holder's thread taking the lock made the kernel answer EDEADLK: Swift's `Mutex` traps
// ("Recursive call to lock Mutex") and the once-lock spins forever.
//
// So, in a task its scheduler runs:
//
// - FUTEX_WAIT and FUTEX_WAIT_BITSET park the task on the futex's address (waits.c) while the
//   word holds the expected value, and FUTEX_WAKE (from any thread) unparks the tasks parked
//   there after the kernel woke its own waiters. A backstop retry (1 ms, doubling to 64 ms)
//   returns 0 as a spurious wakeup may, which every futex caller handles: it covers a wake
//   made with the instruction itself, which no hook sees.
// - FUTEX_LOCK_PI on a word its own thread holds parks the task until the holder (a sibling
//   task, suspended in its critical section) unlocks. The task first sets the word's
//   FUTEX_WAITERS bit, the kernel's own "someone waits" flag: the holder's unlock then cannot
//   take the compare-and-swap fast path and calls FUTEX_UNLOCK_PI, which this hook sees, and
//   which unparks the task after the kernel released the word. The task then takes the free
//   word with the owner's compare-and-swap, so the lock word only ever holds a thread id, and
//   the kernel's PI protocol stays intact for plain threads that wait in it meanwhile.
// - FUTEX_LOCK_PI on a word another thread holds goes to the kernel, which blocks the thread
//   until that thread's holder unlocks. Parking there too would let a task wait for any
//   runtime-internal lock through the parking lot, whose own locks are Swift Mutexes: the lot
//   would re-enter itself. The thread waits as long as the holder's critical section lasts.
//
// Every other operation, and every wait outside a task, goes to the kernel unchanged, with the
// system call instruction itself (oc_sys_raw).
//
// What remains unsafe: a task that takes a Swift `Mutex` it already holds (a real recursive
// lock) parks until the task is cancelled or the process ends, where a thread would trap.
// The dump shows it "parked on lock 0x…" (Docs/debugging.md).
#define _GNU_SOURCE
#include "oc_hook.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "oc_syscall.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/// This thread's kernel id, as the lock words hold it.
static __thread pid_t cached_thread_id;

static pid_t thread_id(void) {
    if (cached_thread_id == 0) {
        cached_thread_id = (pid_t)oc_sys_raw(SYS_gettid, 0, 0, 0, 0, 0, 0);
    }
    return cached_thread_id;
}

static long futex_raw(uint32_t *word, int op, long value, long timeout, long word2, long value3) {
    return oc_sys_raw(SYS_futex, (long)word, op, value, timeout, word2, value3);
}

static uint32_t load(const uint32_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

// MARK: - Waits

/// A futex word and the value a wait expects it to keep: a FUTEX_WAIT's value, or the held
/// PI lock word a waiter saw.
typedef struct {
    const uint32_t *word;
    uint32_t expected;
} word_check;

static bool still_expected(void *context) {
    word_check *check = context;
    return load(check->word) == check->expected;
}

/// The monotonic deadline of a futex wait, -1 for none, or -2 with errno for a bad timeout.
static int64_t wait_deadline(int command, int op, const struct timespec *timeout) {
    if (timeout == NULL) {
        return -1;
    }
    if (!oc_hook_is_valid_time(timeout) || timeout->tv_sec < 0) {
        errno = EINVAL;
        return -2;
    }
    if (command == FUTEX_WAIT) {
        // FUTEX_WAIT's timeout is relative, whatever clock the op names.
        return oc_hook_monotonic_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;
    }
    return oc_hook_monotonic_deadline((op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, timeout);
}

/// FUTEX_WAIT or FUTEX_WAIT_BITSET for the running task.
static long wait_cooperatively(uint32_t *word, int command, int op, uint32_t expected,
                               const struct timespec *timeout, uint32_t bitset) {
    int64_t deadline = wait_deadline(command, op, timeout);
    if (deadline == -2) {
        return -1;
    }
    if (command == FUTEX_WAIT_BITSET && bitset == 0) {
        errno = EINVAL;
        return -1;
    }
    word_check check = {word, expected};
    if (!still_expected(&check)) {
        errno = EAGAIN;
        return -1;
    }
    int64_t backstop = 1000000;
    for (;;) {
        oc_park_outcome outcome = oc_hook_park_with_backstop(word, deadline, &backstop, 64000000, still_expected, &check);
        if (outcome == OC_PARK_NOT_PARKED) {
            errno = EAGAIN;
            return -1;
        }
        if (outcome == OC_PARK_UNPARKED) {
            return 0;
        }
        if (deadline >= 0 && oc_hook_monotonic_ns() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (!still_expected(&check)) {
            // The word moved without a wake this hook saw: a wakeup, as the caller will check.
            return 0;
        }
    }
}

/// FUTEX_WAKE or FUTEX_WAKE_BITSET: the kernel's waiters, then the parked tasks, `count` in all.
static long wake(uint32_t *word, int op, long count, long timeout, long word2, long bitset) {
    long woken = futex_raw(word, op, count, timeout, word2, bitset);
    if (woken < 0 || woken >= count || !oc_hook_has_parked_waiters() || oc_hook_caller_is_foreign()) {
        return woken;
    }
    int saved = errno;
    // More than one: all of them. A futex waiter must take a wakeup it did not need in stride.
    woken += oc_hook_unpark_counted(word, count - woken > 1);
    errno = saved;
    return woken > count ? count : woken;
}

// MARK: - Priority-inheritance locks

/// FUTEX_LOCK_PI or FUTEX_LOCK_PI2 on `word` for the running task.
static long lock_pi(uint32_t *word, int op, const struct timespec *timeout) {
    pid_t me = thread_id();
    // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on CLOCK_MONOTONIC unless
    // the op says CLOCK_REALTIME.
    int64_t deadline = -1;
    if (timeout != NULL) {
        if (!oc_hook_is_valid_time(timeout)) {
            errno = EINVAL;
            return -1;
        }
        bool realtime = (op & FUTEX_CMD_MASK) == FUTEX_LOCK_PI || (op & FUTEX_CLOCK_REALTIME);
        deadline = oc_hook_monotonic_deadline(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, timeout);
    }
    int64_t backstop = 1000000;
    for (;;) {
        uint32_t value = load(word);
        uint32_t owner = value & FUTEX_TID_MASK;
        if (owner == 0) {
            // Free (perhaps with the owner-died bit of a robust lock): take it as the fast path
            // does, keeping FUTEX_WAITERS while tasks are parked, so that this task's unlock
            // comes through the hook and wakes them.
            uint32_t taken = (uint32_t)me | (oc_hook_has_parked_waiters() ? FUTEX_WAITERS : 0);
            if (__atomic_compare_exchange_n(word, &value, taken, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                return 0;
            }
            continue;
        }
        if (owner != (uint32_t)me) {
            return futex_raw(word, op, 0, (long)timeout, 0, 0);
        }
        uint32_t held = value | FUTEX_WAITERS;
        if (value != held && !__atomic_compare_exchange_n(word, &value, held, false, __ATOMIC_RELAXED,
                                                          __ATOMIC_RELAXED)) {
            continue;
        }
        if (deadline >= 0 && oc_hook_monotonic_ns() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        word_check check = {word, held};
        oc_hook_park_with_backstop(word, deadline, &backstop, 16000000, still_expected, &check);
    }
}

/// FUTEX_UNLOCK_PI: the kernel releases the word (or hands it to its top waiter), then the
/// tasks parked on it try again.
static long unlock_pi(uint32_t *word, int op) {
    long result = futex_raw(word, op, 0, 0, 0, 0);
    if (result == 0 && oc_hook_has_parked_waiters() && !oc_hook_caller_is_foreign()) {
        int saved = errno;
        oc_hook_unpark_counted(word, true);
        errno = saved;
    }
    return result;
}

// MARK: - The entry point

long oc_hook_futex(uint32_t *word, int op, long value, long timeout, long word2, long value3) {
    int command = op & FUTEX_CMD_MASK;
    bool in_task = oc_hook_enabled() && oc_hook_scheduled_coroutine() != NULL;
    switch (command) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
        if (in_task) {
            return wait_cooperatively(word, command, op, (uint32_t)value, (const struct timespec *)timeout,
                                      (uint32_t)value3);
        }
        break;
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        return wake(word, op, value, timeout, word2, value3);
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
        if (in_task) {
            return lock_pi(word, op, (const struct timespec *)timeout);
        }
        break;
    case FUTEX_TRYLOCK_PI:
        if (in_task && (load(word) & FUTEX_TID_MASK) == (uint32_t)thread_id()) {
            // Held by a task of this thread: busy, as for any other holder, where the kernel
            // would answer EDEADLK (which newer Swift versions trap on).
            errno = EWOULDBLOCK;
            return -1;
        }
        break;
    case FUTEX_UNLOCK_PI:
        return unlock_pi(word, op);
    default:
        break;
    }
    return futex_raw(word, op, value, timeout, word2, value3);
}
