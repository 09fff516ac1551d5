#define _GNU_SOURCE
#include "oc_api_exports.h"
#include "oc_hook.h"
#include "oc_syscall.h"
#include "open_coroutine.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int enabled;
static bool interposes;
static char failure[512];
/// libc's openat, found when the library is loaded; calls made before that (while the libraries
/// this one depends on initialize) go to the kernel directly.
static int (*libc_openat)(int, const char *, int, ...);

// MARK: - A host that is not Swift

/// Whether the program itself (the first object the loader lists) needs libswiftCore.
static int find_swift_in_program(struct dl_phdr_info *info, size_t size, void *found) {
    (void)size;
    for (int index = 0; index < info->dlpi_phnum; index++) {
        if (info->dlpi_phdr[index].p_type != PT_DYNAMIC) {
            continue;
        }
        const ElfW(Dyn) *dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[index].p_vaddr);
        const char *strings = NULL;
        for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
            if (entry->d_tag == DT_STRTAB) {
                strings = (const char *)entry->d_un.d_ptr;  // the loader relocated it
            }
        }
        for (const ElfW(Dyn) *entry = dynamic; strings != NULL && entry->d_tag != DT_NULL; entry++) {
            if (entry->d_tag == DT_NEEDED && strstr(strings + entry->d_un.d_val, "libswiftCore") != NULL) {
                *(bool *)found = true;
            }
        }
    }
    return 1;  // The program is the first object: one is enough.
}

/// In a program that is not Swift (a C program or python3 with the library in LD_PRELOAD),
/// gives the fatal signals the Swift runtime's crash handler took back to the default
/// action: the library brought that handler, and such a program's crashes are libc's
/// business (a Swift backtrace of a C program, or of python's deliberately aborted children,
/// is noise, and the handler's helper thread must not meet the hooks).
static void give_crashes_back_to_libc(void) {
    bool program_is_swift = false;
    dl_iterate_phdr(find_swift_in_program, &program_is_swift);
    if (program_is_swift) {
        return;
    }
    static const int crash_signals[] = {SIGQUIT, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    for (size_t index = 0; index < sizeof crash_signals / sizeof *crash_signals; index++) {
        struct sigaction action;
        Dl_info owner;
        if (sigaction(crash_signals[index], NULL, &action) != 0 || !(action.sa_flags & SA_SIGINFO)
            || dladdr((void *)action.sa_sigaction, &owner) == 0 || owner.dli_fname == NULL
            || strstr(owner.dli_fname, "libswiftCore") == NULL) {
            continue;
        }
        struct sigaction fallback;
        memset(&fallback, 0, sizeof fallback);
        fallback.sa_handler = SIG_DFL;
        sigaction(crash_signals[index], &fallback, NULL);
    }
}

/// Runs when the library is loaded, before main: checks that `read`, looked up in the
/// process's global scope the way every other library's calls find it, is this library's. If
/// not (the library is linked statically, or after libc, or opened with dlopen), hooking stays
/// off rather than catching only some callers' calls.
__attribute__((constructor)) static void oc_hook_check_interposition(void) {
    give_crashes_back_to_libc();
    libc_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    Dl_info ours = {0};
    Dl_info found = {0};
    void *resolved = dlsym(RTLD_DEFAULT, "read");
    if (dladdr((void *)&oc_hook_check_interposition, &ours) == 0) {
        snprintf(failure, sizeof failure, "the hook library cannot locate itself (dladdr failed)");
        return;
    }
    if (resolved != NULL && dladdr(resolved, &found) != 0 && found.dli_fbase == ours.dli_fbase) {
        oc_hook_prepare();
        oc_hook_prepare_core_foundation();
        interposes = true;
        __atomic_store_n(&enabled, 1, __ATOMIC_RELEASE);
        return;
    }
    snprintf(failure, sizeof failure,
             "libc's read resolves to %s, not to the hook library %s: the hook library must come before "
             "libc in the process's symbol search order (a SwiftPM dependency on OpenCoroutine links it so, "
             "LD_PRELOAD puts it there); a static link or a dlopen cannot interpose libc",
             found.dli_fname != NULL ? found.dli_fname : "nothing", ours.dli_fname != NULL ? ours.dli_fname : "?");
}

bool oc_hook_enabled(void) {
    return __atomic_load_n(&enabled, __ATOMIC_ACQUIRE) != 0;
}

bool oc_hook_set_enabled(bool on) {
    __atomic_store_n(&enabled, on && interposes ? 1 : 0, __ATOMIC_RELEASE);
    return oc_hook_enabled();
}

const char *oc_hook_failure(void) {
    return interposes ? NULL : failure;
}

// The variadic calls. Like glibc, they read the optional argument whatever the command: an
// argument that was not passed is never used.

int fcntl(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    long argument = va_arg(arguments, long);
    va_end(arguments);
    return oc_hook_fcntl(fd, command, argument);
}

// The same entry under glibc's other names for it.
int fcntl64(int fd, int command, ...) __attribute__((alias("fcntl")));
int __fcntl(int fd, int command, ...) __attribute__((alias("fcntl")));

// open and openat: the mode is an argument only with O_CREAT or O_TMPFILE, as in glibc. With
// hooking on they go to the Syscall layer, which opens through the kernel and forgets whatever
// the descriptor table knew of the number; off, to libc's own openat.

static bool oc_open_needs_mode(int flags) {
    return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

static int oc_open(int directory, const char *path, int flags, mode_t mode) {
    if (oc_hook_enabled()) {
        return oc_hook_openat(directory, path, flags, mode);
    }
    if (libc_openat != NULL) {
        return libc_openat(directory, path, flags, mode);
    }
    return (int)oc_syscall(SYS_openat, directory, path, flags, mode);
}

/// The mode argument of an open call, read from `arguments` only when `flags` pass one.
static mode_t oc_open_mode(int flags, va_list arguments) {
    return oc_open_needs_mode(flags) ? va_arg(arguments, mode_t) : 0;
}

int openat(int directory, const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = oc_open_mode(flags, arguments);
    va_end(arguments);
    return oc_open(directory, path, flags, mode);
}

int open(const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = oc_open_mode(flags, arguments);
    va_end(arguments);
    return oc_open(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int directory, const char *path, int flags, ...) __attribute__((alias("openat")));

// The fortified entry points, which code built with _FORTIFY_SOURCE calls when the compiler
// cannot see the flags: a mode is required but was not passed, so they abort, as glibc's do.

int __open_2(const char *path, int flags) {
    if (oc_open_needs_mode(flags)) {
        __chk_fail();
    }
    return oc_open(AT_FDCWD, path, flags, 0);
}

int __openat_2(int directory, const char *path, int flags) {
    if (oc_open_needs_mode(flags)) {
        __chk_fail();
    }
    return oc_open(directory, path, flags, 0);
}

int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));
int __openat64_2(int directory, const char *path, int flags) __attribute__((alias("__openat_2")));

int ioctl(int fd, unsigned long request, ...) {
    va_list arguments;
    va_start(arguments, request);
    void *argument = va_arg(arguments, void *);
    va_end(arguments);
    return oc_hook_ioctl(fd, request, argument);
}

int open_coroutine_init(const open_coroutine_config *config) {
    open_coroutine_config defaults = {.hook = 1};
    const open_coroutine_config *chosen = config != NULL ? config : &defaults;
    return oc_api_init(chosen->event_loop_size, chosen->stack_size, chosen->min_size, chosen->max_size,
                       chosen->keep_alive_time, chosen->hook != 0, chosen->preemption_slice,
                       chosen->disable_preemption == 0);
}

// The open_coroutine_-prefixed names of the original's task calls (open_coroutine.h): the
// unprefixed ones are the seed's interface and stay, these are the ones new C code uses. Both
// call the same Swift implementations (oc_api_exports.h).

open_coroutine_task open_coroutine_task_create(uintptr_t (*fn)(uintptr_t), uintptr_t param, int priority) {
    return oc_hook_task_crate(fn, param, priority);
}

int open_coroutine_task_join(open_coroutine_task task, uintptr_t *result) {
    return oc_hook_task_join(task, result);
}

int open_coroutine_task_timeout_join(open_coroutine_task task, uint64_t nanoseconds, uintptr_t *result) {
    return oc_hook_task_timeout_join(task, nanoseconds, result);
}

int open_coroutine_task_cancel(open_coroutine_task task) {
    return oc_hook_task_cancel(task);
}

uintptr_t open_coroutine_maybe_grow_stack(size_t red_zone, size_t stack_size, uintptr_t (*fn)(uintptr_t),
                                          uintptr_t param) {
    return oc_hook_maybe_grow_stack(red_zone, stack_size, fn, param);
}
