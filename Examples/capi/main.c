// A C program on the hook library's C API (open_coroutine.h): it rejects bad configurations,
// starts the runtime, runs tasks that call libc's usleep, joins them with and without a
// timeout, cancels one and stops. Each step prints an `ok` line, each failed check a `FAILED`
// line on stderr; the exit status is 1 when any check failed.
#include "open_coroutine.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

/// Reports a failed check and goes on, so that one run shows every failure.
static bool check(bool passed, const char *what) {
    if (!passed) {
        fprintf(stderr, "FAILED: %s\n", what);
        failures++;
    }
    return passed;
}

/// As check, but the steps after this one cannot run without it.
static void require(bool passed, const char *what) {
    if (!check(passed, what)) exit(1);
}

/// The failure count when the current step began.
static int step_failures;

static void begin_step(void) {
    step_failures = failures;
}

/// Prints the step's `ok` line when none of its checks failed.
static void end_step(const char *what) {
    if (failures == step_failures) printf("ok %s\n", what);
    // Flushed now so that a later crash still shows how far the program got.
    fflush(stdout);
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/// Whether open_coroutine_init(config) fails with EINVAL and a message naming `field`.
static bool rejects(open_coroutine_config config, const char *field) {
    int code = open_coroutine_init(&config);
    // A configuration wrongly accepted started the runtime; stop it for the next steps.
    if (code == 0 || code == OPEN_COROUTINE_HOOKS_INACTIVE) open_coroutine_stop(5);
    const char *error = code != 0 ? open_coroutine_last_error() : NULL;
    if (code == EINVAL && error != NULL && strstr(error, field) != NULL) return true;
    fprintf(stderr, "open_coroutine_init returned %d (%s)\n", code, error != NULL ? error : "no error");
    return false;
}

/// usleep inside a task suspends only the task: 100 of these on 2 threads take about
/// 100 ms, where blocking sleeps would take 5 s.
static uintptr_t sleep_then_square(uintptr_t n) {
    // 0 is never n * n + 1: the join's check catches a failed sleep.
    if (usleep(100 * 1000) != 0) return 0;
    return n * n + 1;
}

/// Outlives a short timed join.
static uintptr_t sleep_300ms_then_7(uintptr_t unused) {
    (void)unused;
    usleep(300 * 1000);
    return 7;
}

/// Still asleep when it is cancelled.
static uintptr_t sleep_10s(uintptr_t unused) {
    (void)unused;
    usleep(10 * 1000 * 1000);
    return 1;
}

int main(void) {
    open_coroutine_config config = {.event_loop_size = 2, .hook = 1};

    begin_step();
    open_coroutine_config too_many_workers = config;
    too_many_workers.max_size = (size_t)INT32_MAX + 1;
    check(rejects(too_many_workers, "max_size"), "max_size INT32_MAX + 1 is EINVAL naming max_size");
    open_coroutine_config largest_workers = config;
    largest_workers.max_size = SIZE_MAX;
    check(rejects(largest_workers, "max_size"), "max_size SIZE_MAX is EINVAL naming max_size");
    open_coroutine_config tiny_stack = config;
    tiny_stack.stack_size = 1;
    check(rejects(tiny_stack, "stack_size"), "stack_size 1 is EINVAL naming stack_size");
    open_coroutine_config largest_stack = config;
    largest_stack.stack_size = SIZE_MAX;
    check(rejects(largest_stack, "stack_size"), "stack_size SIZE_MAX is EINVAL naming stack_size");
    end_step("bad configurations are EINVAL and name the field");

    begin_step();
    int started = open_coroutine_init(&config);
    if (started != 0) fprintf(stderr, "open_coroutine_init: %s\n", open_coroutine_last_error());
    check(started != OPEN_COROUTINE_HOOKS_INACTIVE, "hooking is active (the library comes before libc)");
    require(started == 0 || started == OPEN_COROUTINE_HOOKS_INACTIVE,
            "open_coroutine_init with 2 event loops starts");
    end_step("init");
    begin_step();
    check(open_coroutine_init(&config) == EALREADY, "a second open_coroutine_init is EALREADY");
    end_step("init twice is EALREADY");

    begin_step();
    enum { TASKS = 100 };
    open_coroutine_task tasks[TASKS];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (uintptr_t i = 0; i < TASKS; i++) {
        tasks[i] = task_crate(sleep_then_square, i, 0);
        require(tasks[i] != NULL, "task_crate returns a handle");
    }
    for (uintptr_t i = 0; i < TASKS; i++) {
        uintptr_t result = 0;
        check(task_join(tasks[i], &result) == 0, "task_join returns 0");
        check(result == i * i + 1, "each task returns param * param + 1");
    }
    double elapsed = seconds_since(&start);
    check(elapsed < 1.0, "100 tasks sleeping 100 ms with usleep overlap");
    printf("100 tasks took %.3f s\n", elapsed);
    end_step("100 tasks joined with their results");

    begin_step();
    open_coroutine_task slow = task_crate(sleep_300ms_then_7, 0, 0);
    require(slow != NULL, "task_crate returns a handle");
    uintptr_t result = 0;
    check(task_timeout_join(slow, 20 * 1000 * 1000, &result) == ETIMEDOUT,
          "a 20 ms join of a 300 ms task is ETIMEDOUT");
    check(task_timeout_join(slow, 5ull * 1000 * 1000 * 1000, &result) == 0,
          "the handle stays valid: a 5 s join succeeds");
    check(result == 7, "the timed join returns the task's value");
    end_step("task_timeout_join times out, then succeeds on the same handle");

    begin_step();
    open_coroutine_task sleeper = task_crate(sleep_10s, 0, 0);
    require(sleeper != NULL, "task_crate returns a handle");
    // Let the task reach its sleep, so that cancelling has to wake it.
    usleep(50 * 1000);
    clock_gettime(CLOCK_MONOTONIC, &start);
    check(task_cancel(sleeper) == 0, "task_cancel returns 0");
    check(task_join(sleeper, NULL) == ECANCELED, "a cancelled task's join is ECANCELED");
    check(seconds_since(&start) < 1.0, "cancelling wakes the task from its 10 s sleep");
    end_step("task_cancel ends a sleeping task and its join is ECANCELED");

    begin_step();
    check(open_coroutine_stop(5) == 0, "open_coroutine_stop returns 0");
    check(task_crate(sleep_then_square, 0, 0) == NULL, "task_crate after stop returns NULL");
    end_step("stop, and no task_crate after it");
    return failures == 0 ? 0 : 1;
}
