#ifndef OC_CRASH_H
#define OC_CRASH_H

#include <stdbool.h>

#include "oc_frame.h"  // __has_feature and _Nullable where the compiler lacks them

#if __has_feature(nullability)
#pragma clang assume_nonnull begin
#endif

/// Installs the runtime's handler of the fatal signals (SIGABRT, SIGBUS, SIGFPE, SIGILL,
/// SIGSEGV, SIGTRAP) in front of whatever handled them before (the Swift runtime's
/// backtracer, usually); once per process. See crash.c.
void oc_crash_install(void);

/// Whether `handler` is the runtime's handler of the fatal signals: it ends the process, so it
/// never interrupts a wait that should restart.
bool oc_crash_is_handler(void *_Nullable handler);

/// Whether a crash report adds every coroutine (`report` writes them to standard error; it
/// runs in a child process forked at the crash, bounded in time). NULL: only the crashing
/// task's line.
void oc_crash_report_others(void (*_Nullable report)(void));

/// Sets the signal that dumps every coroutine to standard error (`dump` does it, on a
/// thread of the runtime's), or none with 0. Returns 0 or an errno value.
int oc_dump_signal_install(int signal, void (*_Nullable dump)(void));

#if __has_feature(nullability)
#pragma clang assume_nonnull end
#endif

#endif
