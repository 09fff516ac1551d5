// Signal glue shared by the preemption handler (preempt.c) and the crash handler (crash.c).
// Internal: not in include/, so not part of the module Swift sees.
#ifndef OC_SIGNALS_H
#define OC_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/// Unblocks `signal` on the calling thread (a handler runs with its own signal blocked).
void oc_signal_unblock(int signal);

/// Runs the handler `previous` describes, as the kernel would have run it; returns false when
/// there is none (the default action, or ignored).
bool oc_signal_forward(const struct sigaction *previous, int signal, siginfo_t *info, void *context);

#endif
