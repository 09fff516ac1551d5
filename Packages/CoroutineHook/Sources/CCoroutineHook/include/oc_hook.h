// The C half of the hook library: what Swift cannot express (variadic entry points, a load-time
// constructor, glibc's fortify failure), the interposition check, and the pthread lock hooks,
// which must run before the Swift runtime does and call glibc by version.
#ifndef OC_HOOK_H
#define OC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "oc_frame.h"

/// Whether the hooks route calls to the runtime: the library interposes libc (checked when it
/// was loaded) and nobody switched hooking off.
bool oc_hook_enabled(void);

/// Whether the caller runs where this thread's runtime state does not describe it: a signal
/// handler on an alternate stack, or a thread cloned without thread-local storage of its own
/// (Swift's crash handler clones its memory server so, on a 4 KiB stack), which sees the
/// slots of the thread it was cloned from. Such a caller gets libc's own call, before any
/// Swift code runs: nothing else is safe there.
static inline __attribute__((always_inline)) bool oc_hook_caller_is_foreign(void) {
    oc_frame *frame = oc_frame_peek();
    return frame != NULL && !oc_frame_runs_here(frame);
}

/// Switches hooking on or off; on only works when the library really interposes libc.
/// Returns whether hooking is on afterwards.
bool oc_hook_set_enabled(bool enabled);

/// Resolves the libc functions the hooks fall back to (LibcFunctions.swift); the library's
/// constructor calls it once.
void oc_hook_prepare(void);

/// Why the library does not interpose libc, or NULL when it does.
const char *oc_hook_failure(void);

/// glibc's report of a buffer overflow caught by a fortified call (`__read_chk` and friends).
_Noreturn void __chk_fail(void);

/// How `oc_hook_park` ended (CoroutineCore's `ParkingLot.Outcome`).
typedef enum oc_park_outcome {
    OC_PARK_UNPARKED = 0,
    OC_PARK_TIMED_OUT = 1,
    /// `should_park` returned false: the caller never suspended.
    OC_PARK_NOT_PARKED = 2,
} oc_park_outcome;

// MARK: - How the wait hooks wait (waits.c)

/// The coroutine its scheduler resumed directly, running now; NULL elsewhere (a plain thread,
/// a coroutine some other code switched to, a signal handler on an alternate stack).
void *oc_hook_scheduled_coroutine(void);

/// Whether a lock call returning to `caller` comes from code whose waits may suspend a
/// coroutine: the program and the libraries outside the runtime, libc, the Swift runtime and
/// the allocators (the table preempt.c keeps, `oc_preempt_code_may_wait`).
bool oc_hook_from_waiting_code(void *caller);

/// libc's function `name` (its default version), looked up once into `cache`: for the calls
/// without an internal alias that nothing interposes.
void *oc_hook_libc_function(void **cache, const char *name);

/// `LIBC(name, type)`: libc's `name` as a function pointer of `type`, cached in a
/// `static void *libc_name` the file declares.
#define LIBC(name, type) ((type)oc_hook_libc_function(&libc_##name, #name))

/// The runtime's clock (`oc_monotonic_ns`, CCoroutineCore's clock.c), signed like the hooks'
/// deadlines, where -1 means none.
int64_t oc_hook_monotonic_ns(void);

/// Whether `time` is a valid timespec (nanoseconds in [0, 1e9)).
bool oc_hook_is_valid_time(const struct timespec *time);

/// `abstime` on `clock` as a monotonic deadline in nanoseconds.
int64_t oc_hook_monotonic_deadline(clockid_t clock, const struct timespec *abstime);

/// Parks the running coroutine on `address` (ParkingLot) until it is unparked, `deadline`
/// (monotonic nanoseconds, -1 for none) passes, or `should_park`, run once the waiter is
/// visible to unparkers, returns false. Counted, so that unparkers look only while someone waits.
oc_park_outcome oc_hook_park_counted(const void *address, int64_t deadline, bool (*should_park)(void *context),
                                     void *context);

/// `oc_hook_park_counted` until `deadline` or a backstop retry after `*backstop` nanoseconds,
/// whichever comes first, for waits whose wake may come from a call no hook sees; then doubles
/// `*backstop`, up to `cap`. The caller starts it at 1 ms and decides what a timeout means.
oc_park_outcome oc_hook_park_with_backstop(const void *address, int64_t deadline, int64_t *backstop, int64_t cap,
                                           bool (*should_park)(void *context), void *context);

/// Wakes one or all coroutines parked on `address` after the caller released or signalled it;
/// returns how many it woke. Cheap when nobody is parked anywhere.
int oc_hook_unpark_counted(const void *address, bool all);

/// Whether the running coroutine's hooked call was made by Foundation's CoreFoundation code
/// (its run loop's poll, RunLoopWaits.swift): a return address among the innermost frames of
/// the coroutine's stack lies in Foundation.
bool oc_hook_called_from_run_loop(void);

/// Whether any coroutine is parked through `oc_hook_park_counted`.
bool oc_hook_has_parked_waiters(void);

/// SYS_futex made through `syscall` (futex.c): the arguments as the kernel takes them; -1 and
/// errno on failure.
long oc_hook_futex(uint32_t *word, int op, long value, long timeout, long word2, long value3);

// MARK: - Calls between other libraries (redirect.c)

/// Makes every object loaded now, except this library, call `replacement` where it calls the
/// function `name` through its procedure linkage or global offset table: a call between two
/// functions of one library (CoreFoundation's own calls into CoreFoundation), which the
/// symbol search order never gives to this library. Returns how many slots now point to
/// `replacement`. Objects loaded later (dlopen) keep their calls.
int oc_hook_redirect(const char *name, void *replacement);

// MARK: - CoreFoundation's run loops (core_foundation.c)

/// The CoreFoundation functions TaskRunLoops.swift calls, CoreFoundation's own definitions.
typedef struct oc_core_foundation {
    void *(*get_tsd)(uint32_t slot);
    void *(*get_tsd_create_if_needed)(uint32_t slot, unsigned char create);
    /// `_CFRunLoopGet0`: the run loop of the thread `key`, made on first use.
    void *(*run_loop_for_thread)(uintptr_t key);
    void *(*copy_all_modes)(void *run_loop);
    unsigned char (*mode_is_finished)(void *run_loop, const void *mode);
    long (*array_count)(const void *array);
    const void *(*array_element)(const void *array, long index);
    void (*release)(const void *object);
} oc_core_foundation;

/// CoreFoundation's thread-specific slot for the current run loop (`__CFTSDKeyRunLoop`).
#define OC_CF_RUN_LOOP_SLOT 10

/// Whether CoreFoundation keeps the current run loop in `OC_CF_RUN_LOOP_SLOT`.
typedef enum oc_run_loop_slot {
    OC_RUN_LOOP_SLOT_UNCHECKED = 0,
    /// Another call is checking now, and may be suspended in it: ask again after a yield.
    OC_RUN_LOOP_SLOT_CHECKING = 1,
    OC_RUN_LOOP_SLOT_FOUND = 2,
    /// CoreFoundation is not loaded, lacks a function, or keeps the run loop elsewhere.
    OC_RUN_LOOP_SLOT_MISSING = 3,
} oc_run_loop_slot;

/// CoreFoundation's functions, found by the library's constructor; NULL when CoreFoundation
/// is not loaded then or lacks one of them.
const oc_core_foundation *oc_hook_core_foundation(void);

/// Finds CoreFoundation's functions and redirects its reads of its thread-specific data
/// (`_CFGetTSD`, `_CFGetTSDCreateIfNeeded`) to this library's, which answer the run-loop slot
/// with `oc_hook_task_run_loop` and every other with CoreFoundation's own; the library's
/// constructor calls it once.
void oc_hook_prepare_core_foundation(void);

/// Checks, on the first call, that CoreFoundation keeps the calling thread's run loop in its
/// slot (asked for the thread's run loop, it stores it there); later calls answer at once. The
/// checking coroutine's own calls during the check (CoreFoundation's reads) answer MISSING.
oc_run_loop_slot oc_hook_run_loop_slot(void);

/// Implemented in Swift (TaskRunLoops.swift): the calling task's run loop, made or taken from
/// the recycled ones when `creating`; NULL when the caller is no task or has none.
void *oc_hook_task_run_loop(bool creating) __attribute__((swift_name("taskRunLoop(creating:)")));

// Implemented in Swift: the parking lot of the lock hooks (thread_locks.c), whose deadlines
// are monotonic nanoseconds (-1: none), and the targets of the variadic entry points.
oc_park_outcome oc_hook_park(const void *address, int64_t deadline, bool (*should_park)(void *context),
                             void *context);
int oc_hook_unpark(const void *address, bool all);
int oc_hook_fcntl(int fd, int command, long argument);
int oc_hook_ioctl(int fd, unsigned long request, void *argument);
int oc_hook_openat(int directory, const char *path, int flags, unsigned int mode);
int oc_api_init(size_t threads, size_t stack_size, size_t min_workers, size_t max_workers, uint64_t keep_alive_ns,
                bool hook, uint64_t preemption_slice_ns, bool preemption);

#endif
