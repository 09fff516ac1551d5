// The pthread mutex and condition-variable hooks.
//
// A coroutine that waits for a pthread mutex, or on a condition variable, must suspend itself,
// not its thread: the holder may be another coroutine of the same thread, which can only run
// once the waiter gives the thread back. These hooks do that, under three rules.
//
// Who waits cooperatively. Only a coroutine its scheduler resumed directly, and only when the
// call comes from code whose waits may suspend (the program, Foundation's `NSLock` and
// `NSCondition`, libdispatch and the other libraries outside the runtime, libc, the Swift runtime
// and the allocators: the table preempt.c keeps, `oc_preempt_code_may_wait`). jemalloc, the Swift
// runtime and the runtime itself lock mutexes from inside coroutines too; their critical
// sections touch per-thread state that another coroutine of the thread would corrupt, so their
// calls stay libc's, and so does every call on a plain thread. This also keeps the parking lot
// (Swift, which allocates) from ever re-entering itself.
//
// How a wait ends. The waiter parks on the object's address (waits.c, CoroutineCore's
// ParkingLot). An unlock, signal or broadcast made from such code unparks it. Other unlocks (glibc
// releasing a mutex inside a plain thread's pthread_cond_wait, say) are caught by a backstop:
// a parked mutex waiter retries after 1 ms, doubling to 16 ms. A condition wait returns after
// its wakeup as a spurious wakeup may (POSIX lets a signal wake more than one waiter).
//
// Who owns a mutex. glibc records the owning thread, but coroutines of one thread share it:
// for recursive and error-checking mutexes, whose behaviour depends on the owner, a per-thread
// table records which coroutine holds each one it locked (a coroutine never changes threads, so
// per-thread is enough). Another coroutine of the thread then waits instead of entering a
// recursive mutex or unlocking an error-checking one, and the owner gets EDEADLK or its
// recursion as libc would give its thread.
#define _GNU_SOURCE
#include "oc_hook.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "oc_frame.h"


#if defined(__x86_64__)
#define OC_GLIBC_BASE_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define OC_GLIBC_BASE_VERSION "GLIBC_2.17"
#else
#error "the lock hooks know glibc's base symbol version only on x86_64 and aarch64"
#endif

// glibc's mutex calls under their internal names, bound by version when the library is linked:
// nothing interposes those names, and nothing has to be looked up on the first call (jemalloc
// locks mutexes before this library's constructors run).
int oc_libc_mutex_lock(pthread_mutex_t *mutex);
int oc_libc_mutex_trylock(pthread_mutex_t *mutex);
int oc_libc_mutex_unlock(pthread_mutex_t *mutex);
__asm__(".symver oc_libc_mutex_lock, __pthread_mutex_lock@" OC_GLIBC_BASE_VERSION);
__asm__(".symver oc_libc_mutex_trylock, __pthread_mutex_trylock@" OC_GLIBC_BASE_VERSION);
__asm__(".symver oc_libc_mutex_unlock, __pthread_mutex_unlock@" OC_GLIBC_BASE_VERSION);

static void *libc_pthread_mutex_timedlock;
static void *libc_pthread_mutex_clocklock;
static void *libc_pthread_cond_wait;
static void *libc_pthread_cond_timedwait;
static void *libc_pthread_cond_clockwait;
static void *libc_pthread_cond_signal;
static void *libc_pthread_cond_broadcast;

// MARK: - Who owns a mutex

/// The bits of glibc's `__kind` that hold the mutex type (its internal
/// PTHREAD_MUTEX_KIND_MASK_NP); the bits above are the robust, inheritance and ceiling flags.
enum { MUTEX_KIND_MASK = 3 };

typedef struct {
    pthread_mutex_t *mutex;
    void *owner;
    unsigned depth;
} owned_mutex;

/// The recursive and error-checking mutexes this thread's coroutines hold cooperatively.
static __thread owned_mutex *owned;
static __thread size_t owned_count;
static __thread size_t owned_capacity;

static bool tracks_owner(const pthread_mutex_t *mutex) {
    int kind = mutex->__data.__kind & MUTEX_KIND_MASK;
    return kind == PTHREAD_MUTEX_RECURSIVE_NP || kind == PTHREAD_MUTEX_ERRORCHECK_NP;
}

static owned_mutex *find_owned(const pthread_mutex_t *mutex) {
    for (size_t index = 0; index < owned_count; index++) {
        if (owned[index].mutex == mutex) {
            return &owned[index];
        }
    }
    return NULL;
}

/// Records `owner` as the holder of `mutex`; false when memory for the record ran out.
static bool record_owner(pthread_mutex_t *mutex, void *owner) {
    if (owned_count == owned_capacity) {
        size_t capacity = owned_capacity == 0 ? 8 : owned_capacity * 2;
        owned_mutex *grown = realloc(owned, capacity * sizeof *owned);
        if (grown == NULL) {
            return false;
        }
        owned = grown;
        owned_capacity = capacity;
    }
    owned[owned_count++] = (owned_mutex){mutex, owner, 1};
    return true;
}

static void forget_owner(owned_mutex *entry) {
    *entry = owned[--owned_count];
}

/// libc's trylock for `me`, which holds no record of `mutex`: EBUSY while another coroutine of
/// this thread does (libc would let the thread in), else libc's answer, recorded on success.
static int try_lock(pthread_mutex_t *mutex, void *me) {
    if (owned_count != 0 && find_owned(mutex) != NULL) {
        return EBUSY;
    }
    int result = oc_libc_mutex_trylock(mutex);
    if (result == 0 && tracks_owner(mutex) && !record_owner(mutex, me)) {
        oc_libc_mutex_unlock(mutex);
        return EAGAIN;
    }
    return result;
}

/// What `me` gets for a mutex its own record says it holds: the recursion, or EDEADLK.
static int relock_owned(owned_mutex *entry, bool trying) {
    if ((entry->mutex->__data.__kind & MUTEX_KIND_MASK) == PTHREAD_MUTEX_ERRORCHECK_NP) {
        return trying ? EBUSY : EDEADLK;
    }
    int result = oc_libc_mutex_trylock(entry->mutex);  // EAGAIN at the recursion limit
    if (result == 0) {
        entry->depth++;
    }
    return result;
}

// MARK: - Locking cooperatively

typedef struct {
    pthread_mutex_t *mutex;
    void *me;
    int result;
} lock_attempt;

static bool still_locked(void *context) {
    lock_attempt *attempt = context;
    attempt->result = try_lock(attempt->mutex, attempt->me);
    return attempt->result == EBUSY;
}

/// Locks `mutex` for the running coroutine `me`, suspending it while the mutex is held;
/// `deadline` is monotonic nanoseconds, or -1 for none.
static int lock_cooperatively(pthread_mutex_t *mutex, void *me, int64_t deadline) {
    owned_mutex *entry = owned_count != 0 ? find_owned(mutex) : NULL;
    if (entry != NULL && entry->owner == me) {
        return relock_owned(entry, false);
    }
    lock_attempt attempt = {mutex, me, try_lock(mutex, me)};
    int64_t backstop = 1000000;
    while (attempt.result == EBUSY) {
        if (oc_hook_park_with_backstop(mutex, deadline, &backstop, 16000000, still_locked, &attempt) == OC_PARK_NOT_PARKED) {
            break;
        }
        attempt.result = try_lock(mutex, me);
        if (attempt.result == EBUSY && deadline >= 0 && oc_hook_monotonic_ns() >= deadline) {
            return ETIMEDOUT;
        }
    }
    return attempt.result;
}

/// Unlocks `mutex` for `me` (NULL on a plain stack), keeping this thread's owner records, and
/// wakes a parked waiter when the caller is one that waiters park for.
static int unlock(pthread_mutex_t *mutex, void *me, bool wakes) {
    owned_mutex *entry = owned_count != 0 ? find_owned(mutex) : NULL;
    if (entry != NULL) {
        if (entry->owner != me) {
            return EPERM;
        }
        if (--entry->depth == 0) {
            forget_owner(entry);
        }
    }
    int result = oc_libc_mutex_unlock(mutex);
    if (result == 0 && wakes) {
        oc_hook_unpark_counted(mutex, false);
    }
    return result;
}

// MARK: - The mutex calls

int pthread_mutex_lock(pthread_mutex_t *mutex) {
    void *me = oc_hook_scheduled_coroutine();
    if (me == NULL) {
        return oc_libc_mutex_lock(mutex);
    }
    // A free mutex with no owner to record is taken as anyone would take it: the common case
    // (jemalloc's and the Swift runtime's locks inside coroutines) skips the code-table lookup.
    if (owned_count == 0 && !tracks_owner(mutex)) {
        int result = oc_libc_mutex_trylock(mutex);
        if (result != EBUSY) {
            return result;
        }
    }
    if (!oc_hook_from_waiting_code(__builtin_return_address(0))) {
        return oc_libc_mutex_lock(mutex);
    }
    return lock_cooperatively(mutex, me, -1);
}

int pthread_mutex_trylock(pthread_mutex_t *mutex) {
    void *me = oc_hook_scheduled_coroutine();
    if (me == NULL || !oc_hook_from_waiting_code(__builtin_return_address(0))) {
        return oc_libc_mutex_trylock(mutex);
    }
    owned_mutex *entry = owned_count != 0 ? find_owned(mutex) : NULL;
    if (entry != NULL) {
        return entry->owner == me ? relock_owned(entry, true) : EBUSY;
    }
    return try_lock(mutex, me);
}

/// A timed lock: cooperative in a coroutine, else libc's `timed`.
static int lock_until(pthread_mutex_t *mutex, clockid_t clock, const struct timespec *abstime, void *caller,
                      int (*timed)(pthread_mutex_t *, clockid_t, const struct timespec *)) {
    void *me = oc_hook_scheduled_coroutine();
    if (me == NULL || !oc_hook_from_waiting_code(caller)) {
        return timed(mutex, clock, abstime);
    }
    owned_mutex *entry = owned_count != 0 ? find_owned(mutex) : NULL;
    if (entry != NULL && entry->owner == me) {
        return relock_owned(entry, false);
    }
    int result = try_lock(mutex, me);
    if (result != EBUSY) {
        return result;
    }
    // As glibc: the time is checked only once the call would wait.
    if (!oc_hook_is_valid_time(abstime) || (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)) {
        return EINVAL;
    }
    return lock_cooperatively(mutex, me, oc_hook_monotonic_deadline(clock, abstime));
}

static int libc_timedlock(pthread_mutex_t *mutex, clockid_t clock, const struct timespec *abstime) {
    (void)clock;
    return LIBC(pthread_mutex_timedlock, int (*)(pthread_mutex_t *, const struct timespec *))(mutex, abstime);
}

static int libc_clocklock(pthread_mutex_t *mutex, clockid_t clock, const struct timespec *abstime) {
    return LIBC(pthread_mutex_clocklock, int (*)(pthread_mutex_t *, clockid_t, const struct timespec *))(
        mutex, clock, abstime);
}

int pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *abstime) {
    return lock_until(mutex, CLOCK_REALTIME, abstime, __builtin_return_address(0), libc_timedlock);
}

int pthread_mutex_clocklock(pthread_mutex_t *mutex, clockid_t clock, const struct timespec *abstime) {
    return lock_until(mutex, clock, abstime, __builtin_return_address(0), libc_clocklock);
}

int pthread_mutex_unlock(pthread_mutex_t *mutex) {
    if (owned_count == 0 && !oc_hook_has_parked_waiters()) {
        return oc_libc_mutex_unlock(mutex);
    }
    return unlock(mutex, oc_hook_scheduled_coroutine(), oc_hook_from_waiting_code(__builtin_return_address(0)));
}

// MARK: - The condition calls

typedef struct {
    pthread_mutex_t *mutex;
    void *me;
    int released;
} condition_wait;

static bool release_mutex(void *context) {
    condition_wait *wait = context;
    wait->released = unlock(wait->mutex, wait->me, true);
    return wait->released == 0;
}

/// Waits on `condition` for the running coroutine `me`: releases `mutex` once parked, and
/// takes it again after the wakeup or the deadline (monotonic nanoseconds, -1 for none).
static int wait_cooperatively(pthread_cond_t *condition, pthread_mutex_t *mutex, void *me, int64_t deadline) {
    condition_wait wait = {mutex, me, 0};
    oc_park_outcome outcome = oc_hook_park_counted(condition, deadline, release_mutex, &wait);
    if (outcome == OC_PARK_NOT_PARKED) {
        return wait.released;
    }
    int relocked = lock_cooperatively(mutex, me, -1);
    if (relocked != 0) {
        return relocked;
    }
    return outcome == OC_PARK_TIMED_OUT ? ETIMEDOUT : 0;
}

int pthread_cond_wait(pthread_cond_t *condition, pthread_mutex_t *mutex) {
    void *me = oc_hook_scheduled_coroutine();
    if (me == NULL || !oc_hook_from_waiting_code(__builtin_return_address(0))) {
        return LIBC(pthread_cond_wait, int (*)(pthread_cond_t *, pthread_mutex_t *))(condition, mutex);
    }
    return wait_cooperatively(condition, mutex, me, -1);
}

/// The clock `pthread_condattr_setclock` gave `condition`: glibc keeps it in bit 1 of
/// `__wrefs` (its __PTHREAD_COND_CLOCK_MONOTONIC_MASK; bit 0 is process-shared).
static clockid_t condition_clock(const pthread_cond_t *condition) {
    return (condition->__data.__wrefs & 2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

int pthread_cond_timedwait(pthread_cond_t *condition, pthread_mutex_t *mutex, const struct timespec *abstime) {
    void *me = oc_hook_scheduled_coroutine();
    if (me == NULL || !oc_hook_from_waiting_code(__builtin_return_address(0))) {
        return LIBC(pthread_cond_timedwait, int (*)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *))(
            condition, mutex, abstime);
    }
    if (!oc_hook_is_valid_time(abstime)) {
        return EINVAL;
    }
    return wait_cooperatively(condition, mutex, me, oc_hook_monotonic_deadline(condition_clock(condition), abstime));
}

int pthread_cond_clockwait(pthread_cond_t *condition, pthread_mutex_t *mutex, clockid_t clock,
                           const struct timespec *abstime) {
    void *me = oc_hook_scheduled_coroutine();
    if (me == NULL || !oc_hook_from_waiting_code(__builtin_return_address(0))) {
        return LIBC(pthread_cond_clockwait,
                    int (*)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *))(
            condition, mutex, clock, abstime);
    }
    if (!oc_hook_is_valid_time(abstime) || (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)) {
        return EINVAL;
    }
    return wait_cooperatively(condition, mutex, me, oc_hook_monotonic_deadline(clock, abstime));
}

int pthread_cond_signal(pthread_cond_t *condition) {
    if (oc_hook_from_waiting_code(__builtin_return_address(0))) {
        oc_hook_unpark_counted(condition, false);
    }
    return LIBC(pthread_cond_signal, int (*)(pthread_cond_t *))(condition);
}

int pthread_cond_broadcast(pthread_cond_t *condition) {
    if (oc_hook_from_waiting_code(__builtin_return_address(0))) {
        oc_hook_unpark_counted(condition, true);
    }
    return LIBC(pthread_cond_broadcast, int (*)(pthread_cond_t *))(condition);
}
