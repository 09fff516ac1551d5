// The `system` hook: a shell command run from a task waits for the shell in the task, not in
// its thread.
//
// glibc's `system` spawns /bin/sh and waits for it with its own internal `waitpid`, which no
// hook sees: each call held its thread for the whole command. In a task (from program code)
// the hook spawns the shell the same way, `/bin/sh -c command` through `posix_spawn`, and waits
// with the hooked `waitpid`, which suspends only the task. The status is glibc's: the shell's
// wait status, 127 as its exit status when the shell could not be run, -1 with errno when no
// child could be created.
//
// What differs from glibc: glibc ignores SIGINT and SIGQUIT in the calling process while the
// command runs (a terminal's Ctrl-C then reaches only the command). Those dispositions are the
// whole process's, shared with every other task of every thread, so the hook leaves them
// alone; the child still starts with them at their defaults and with the caller's signal mask.
// `system(NULL)` (is there a shell?) and calls outside tasks are glibc's.
#define _GNU_SOURCE
#include "oc_hook.h"
#include "oc_hook_exports.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

static void *libc_system;

/// Spawns `/bin/sh -c command` as glibc's `system` does; the child's pid, or -1 with errno.
static pid_t spawn_shell(const char *command) {
    posix_spawnattr_t attributes;
    if ((errno = posix_spawnattr_init(&attributes)) != 0) {
        return -1;
    }
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    pid_t child = -1;
    char *const arguments[] = {"sh", "-c", (char *)command, NULL};
    int error = posix_spawn(&child, "/bin/sh", NULL, &attributes, arguments, environ);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) {
        errno = error;
        return -1;
    }
    return child;
}

int system(const char *command) {
    if (command == NULL || oc_hook_scheduled_coroutine() == NULL || !oc_hook_from_waiting_code(__builtin_return_address(0))) {
        return LIBC(system, int (*)(const char *))(command);
    }
    pid_t child = spawn_shell(command);
    if (child < 0) {
        // As glibc: a shell that could not be executed is its exit status 127; no child at all is -1.
        return errno == ENOENT || errno == EACCES || errno == ENOEXEC ? W_EXITCODE(127, 0) : -1;
    }
    int status = 0;
    while (oc_hook_waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return status;
}
