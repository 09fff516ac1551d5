// The C API of libopen_coroutine_hook.so: start and stop the runtime, submit tasks, join
// them, grow the stack. Linking the library also makes libc's blocking calls (read, write,
// connect, sleep, poll, ...) cooperative inside tasks; see Docs/hooks.md.
#ifndef OPEN_COROUTINE_H
#define OPEN_COROUTINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How to start the runtime; zero fields take the defaults.
typedef struct open_coroutine_config {
    /// Scheduler threads, each with its event loop (0: one per CPU).
    size_t event_loop_size;
    /// Stack size of each coroutine, in bytes (0: the runtime's default).
    size_t stack_size;
    /// Worker coroutines each thread keeps even when idle.
    size_t min_size;
    /// Worker coroutines each thread may have (0: the runtime's default, 65,536).
    size_t max_size;
    /// How long a worker beyond min_size may stay idle, in nanoseconds (0: the runtime's
    /// default, 10 s).
    uint64_t keep_alive_time;
    /// Nonzero: libc's blocking calls made in tasks suspend only their task.
    int hook;
    /// How long a task may run without a switch before it is preempted, in nanoseconds
    /// (0: the runtime's default, 10 ms).
    uint64_t preemption_slice;
    /// Nonzero: tasks are never preempted (see Docs/preemption.md).
    int disable_preemption;
} open_coroutine_config;

/// open_coroutine_init's result when the runtime started but hooking was asked for and the
/// library does not interpose libc (open_coroutine_last_error says why); hooking is then off.
#define OPEN_COROUTINE_HOOKS_INACTIVE 1

/// Starts the runtime (config NULL: defaults). 0 on success, OPEN_COROUTINE_HOOKS_INACTIVE, or
/// an errno value: EINVAL (a bad field, named by open_coroutine_last_error), EALREADY (already
/// running), EAGAIN (threads or event loops could not be created).
int open_coroutine_init(const open_coroutine_config *config);

/// Stops the runtime, waiting up to `seconds` for running tasks; what is left is cancelled.
/// 0 when everything finished, ETIMEDOUT otherwise.
int open_coroutine_stop(uint64_t seconds);

/// The text of the calling thread's last failure, or NULL.
const char *open_coroutine_last_error(void);

/// A submitted task; join it exactly once (task_join, or a task_timeout_join that succeeds).
typedef void *open_coroutine_task;

// The task calls below keep the names of the original open-coroutine's C interface
// (task_crate, task_join, ...). Each also has an open_coroutine_-prefixed name, declared after
// them, which new C code should prefer: the short names may clash with other libraries'.

/// Submits fn(param) to the runtime; smaller priorities run sooner. NULL when the runtime is
/// not running.
open_coroutine_task task_crate(uintptr_t (*fn)(uintptr_t), uintptr_t param, int priority);

/// Waits for the task and stores its result in *result (when result is not NULL). 0, or
/// ECANCELED when the task was cancelled. Releases the handle either way.
int task_join(open_coroutine_task task, uintptr_t *result);

/// As task_join, waiting at most `nanoseconds`: ETIMEDOUT when the task still runs, and the
/// handle stays valid.
int task_timeout_join(open_coroutine_task task, uint64_t nanoseconds, uintptr_t *result);

/// Cancels the task: one not started never runs; in a running one every blocking call from
/// then on fails with ECANCELED (Docs/syscalls.md), and the task decides how it ends. The
/// handle must still be joined. Returns 0.
int task_cancel(open_coroutine_task task);

/// Calls fn(param) on the current stack when at least red_zone bytes of it remain,
/// else on a fresh stack of stack_size bytes, and returns what fn returned.
/// Works inside coroutines and on plain threads; calls nest.
uintptr_t maybe_grow_stack(size_t red_zone, size_t stack_size, uintptr_t (*fn)(uintptr_t), uintptr_t param);

/// task_crate under its prefixed name.
open_coroutine_task open_coroutine_task_create(uintptr_t (*fn)(uintptr_t), uintptr_t param, int priority);
/// task_join under its prefixed name.
int open_coroutine_task_join(open_coroutine_task task, uintptr_t *result);
/// task_timeout_join under its prefixed name.
int open_coroutine_task_timeout_join(open_coroutine_task task, uint64_t nanoseconds, uintptr_t *result);
/// task_cancel under its prefixed name.
int open_coroutine_task_cancel(open_coroutine_task task);
/// maybe_grow_stack under its prefixed name.
uintptr_t open_coroutine_maybe_grow_stack(size_t red_zone, size_t stack_size, uintptr_t (*fn)(uintptr_t),
                                          uintptr_t param);

#ifdef __cplusplus
}
#endif

#endif
