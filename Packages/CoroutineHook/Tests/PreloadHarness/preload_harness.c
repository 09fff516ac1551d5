// A plain C program, built without SwiftPM and linked with libc alone, that drives
// libopen_coroutine_hook.so through its C API (include/open_coroutine.h) in one of two ways:
//
//   preload_harness preload          run with LD_PRELOAD=<folder>/libopen_coroutine_hook.so:
//                                    the library interposes libc, so 100 tasks each in plain
//                                    usleep(200 ms) finish together, in about 200 ms
//   preload_harness dlopen <library> opens the library with dlopen(RTLD_LOCAL), which cannot
//                                    interpose libc: open_coroutine_init answers
//                                    OPEN_COROUTINE_HOOKS_INACTIVE with the cause, and the
//                                    tasks still run, each blocking its thread
//   preload_harness crash            run with LD_PRELOAD as above: a task writes through a null
//                                    pointer while others sleep; the process must die of
//                                    SIGSEGV at once, as it would without the library
//
// The API is looked up with dlsym in both, so the program needs no link-time knowledge of the
// library. scripts/test-preload.sh builds it with cc and runs both. Exit status 0 means pass.

#define _GNU_SOURCE
#include "open_coroutine.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    THREADS = 2,
    SLEEP_MICROSECONDS = 200000,
};

/// The C API, resolved from the library.
static struct {
    __typeof__(open_coroutine_init) *init;
    __typeof__(open_coroutine_stop) *stop;
    __typeof__(open_coroutine_last_error) *last_error;
    __typeof__(task_crate) *crate;
    __typeof__(task_join) *join;
    __typeof__(open_coroutine_task_create) *create;
    __typeof__(open_coroutine_task_join) *join_prefixed;
} api;

static int failures;

static void check(bool condition, const char *what) {
    printf("%s: %s\n", condition ? "ok  " : "FAIL", what);
    if (!condition) {
        failures++;
    }
}

static void *resolve(void *scope, const char *name) {
    void *symbol = dlsym(scope, name);
    if (symbol == NULL) {
        fprintf(stderr, "FAIL: %s not found: %s\n", name, dlerror());
        exit(1);
    }
    return symbol;
}

static void resolve_api(void *scope) {
    api.init = resolve(scope, "open_coroutine_init");
    api.stop = resolve(scope, "open_coroutine_stop");
    api.last_error = resolve(scope, "open_coroutine_last_error");
    api.crate = resolve(scope, "task_crate");
    api.join = resolve(scope, "task_join");
    api.create = resolve(scope, "open_coroutine_task_create");
    api.join_prefixed = resolve(scope, "open_coroutine_task_join");
}

static double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/// The task: libc's usleep as any C code calls it, then the parameter doubled when the sleep
/// succeeded, so a join proves the task ran to its end.
static uintptr_t sleeper(uintptr_t parameter) {
    return usleep(SLEEP_MICROSECONDS) == 0 ? parameter * 2 : 0;
}

/// Runs `count` sleepers on the runtime and returns the seconds from the first submission to
/// the last join, or a negative number when a task failed.
static double run_sleepers(int count) {
    open_coroutine_task tasks[count];
    double start = now_seconds();
    for (int i = 0; i < count; i++) {
        tasks[i] = api.crate(sleeper, (uintptr_t)i + 1, 0);
        if (tasks[i] == NULL) {
            fprintf(stderr, "FAIL: task_crate: %s\n", api.last_error());
            exit(1);
        }
    }
    bool all_returned = true;
    for (int i = 0; i < count; i++) {
        uintptr_t result = 0;
        int joined = api.join(tasks[i], &result);
        all_returned = all_returned && joined == 0 && result == ((uintptr_t)i + 1) * 2;
    }
    double elapsed = now_seconds() - start;
    return all_returned ? elapsed : -1;
}

/// The folder holding the file at `path`, resolved to a canonical path.
static bool folder_of(const char *path, char folder[PATH_MAX]) {
    if (realpath(path, folder) == NULL) {
        return false;
    }
    *strrchr(folder, '/') = '\0';
    return true;
}

struct core_search {
    int copies;
    char folder[PATH_MAX];
};

static int find_core(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct core_search *search = data;
    const char *slash = strrchr(info->dlpi_name, '/');
    if (slash != NULL && strcmp(slash + 1, "libCoroutineCore.so") == 0) {
        search->copies++;
        folder_of(info->dlpi_name, search->folder);
    }
    return 0;
}

/// The runtime the library needs comes from the folder the library was loaded from (its
/// RUNPATH's $ORIGIN), once.
static void check_core_beside(void *hook_symbol) {
    Dl_info hook = {0};
    char hook_folder[PATH_MAX] = "";
    struct core_search search = {0};
    dladdr(hook_symbol, &hook);
    bool located = hook.dli_fname != NULL && folder_of(hook.dli_fname, hook_folder);
    dl_iterate_phdr(find_core, &search);
    printf("      hook library from %s, libCoroutineCore.so from %s\n", hook_folder, search.folder);
    check(located && search.copies == 1 && strcmp(search.folder, hook_folder) == 0,
          "one libCoroutineCore.so, loaded from the hook library's folder");
}

static int run_preloaded(void) {
    resolve_api(RTLD_DEFAULT);
    check_core_beside((void *)api.init);

    Dl_info usleep_owner = {0}, api_owner = {0};
    dladdr(dlsym(RTLD_DEFAULT, "usleep"), &usleep_owner);
    dladdr((void *)api.init, &api_owner);
    check(usleep_owner.dli_fbase != NULL && usleep_owner.dli_fbase == api_owner.dli_fbase,
          "usleep in the global scope is the hook library's");

    open_coroutine_config config = {.event_loop_size = THREADS, .hook = 1};
    int started = api.init(&config);
    check(started == 0, "open_coroutine_init returns 0 (hooks active)");
    if (started != 0) {
        printf("      open_coroutine_init: %d, %s\n", started, api.last_error() ? api.last_error() : "(no message)");
        return 1;
    }

    double elapsed = run_sleepers(100);
    printf("      100 tasks in usleep(200 ms) on %d threads: %.0f ms\n", THREADS, elapsed * 1000);
    check(elapsed >= 0.19, "every task slept and returned its value");
    check(elapsed < 1.0, "they slept together: under 1 s, not 100 x 200 ms / 2 threads = 10 s");
    check(api.stop(5) == 0, "open_coroutine_stop returns 0");
    return failures == 0 ? 0 : 1;
}

static int run_dlopened(const char *library) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
        return 1;
    }
    resolve_api(handle);
    check_core_beside((void *)api.init);

    open_coroutine_config config = {.event_loop_size = THREADS, .hook = 1};
    int started = api.init(&config);
    const char *message = api.last_error();
    printf("      open_coroutine_init: %d, \"%s\"\n", started, message ? message : "(no message)");
    check(started == OPEN_COROUTINE_HOOKS_INACTIVE, "open_coroutine_init returns OPEN_COROUTINE_HOOKS_INACTIVE");
    check(message != NULL && strstr(message, "not to the hook library") != NULL && strstr(message, "dlopen") != NULL,
          "open_coroutine_last_error names the cause");

    // Each sleep now blocks its thread. Handoff's spares (one per scheduler thread) start the
    // tasks queued behind the held threads, so at most 4 sleep at once: 6 tasks take two
    // rounds of 200 ms, where hooked sleeps would take one.
    double elapsed = run_sleepers(6);
    printf("      6 tasks in usleep(200 ms) on %d threads: %.0f ms\n", THREADS, elapsed * 1000);
    check(elapsed >= 0, "the tasks still ran and returned their values");
    check(elapsed >= 0.35, "each sleep blocked its thread (two rounds of 200 ms)");
    check(api.stop(5) == 0, "open_coroutine_stop returns 0");
    return failures == 0 ? 0 : 1;
}

/// Writes through a null pointer the compiler cannot see coming.
static uintptr_t crasher(uintptr_t parameter) {
    usleep(10000);
    volatile int *volatile nowhere = (int *)(parameter - parameter);
    *nowhere = 1;
    return 0;
}

static int run_crash(void) {
    resolve_api(RTLD_DEFAULT);
    open_coroutine_config config = {.event_loop_size = THREADS, .hook = 1};
    if (api.init(&config) != 0) {
        fprintf(stderr, "FAIL: open_coroutine_init: %s\n", api.last_error() ? api.last_error() : "(no message)");
        return 1;
    }
    // The prefixed names, as new C code calls them.
    for (int i = 0; i < 10; i++) {
        api.create(sleeper, (uintptr_t)i + 1, 0);
    }
    open_coroutine_task task = api.create(crasher, 1, 0);
    uintptr_t result = 0;
    api.join_prefixed(task, &result);
    fprintf(stderr, "FAIL: the crashing task was joined\n");
    return 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "preload") == 0) {
        return run_preloaded();
    }
    if (argc == 2 && strcmp(argv[1], "crash") == 0) {
        return run_crash();
    }
    if (argc == 3 && strcmp(argv[1], "dlopen") == 0) {
        return run_dlopened(argv[2]);
    }
    fprintf(stderr, "usage: %s preload | crash | dlopen <library>\n", argv[0]);
    return 2;
}
