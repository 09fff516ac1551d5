// The runtime's dealings with the process's signal handlers: the glue the preemption handler
// (preempt.c) and the crash handler (crash.c) share (unblocking a signal, running the handler
// installed before the runtime's), and whether the installed handlers let an interrupted wait
// restart (oc_signals.h).
#define _GNU_SOURCE
#include "signals.h"
#include "oc_crash.h"
#include "oc_signals.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

void oc_signal_unblock(int signal) {
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
}

bool oc_signal_forward(const struct sigaction *previous, int signal, siginfo_t *info, void *context) {
    if (previous->sa_flags & SA_SIGINFO) {
        if (previous->sa_sigaction == NULL) {
            return false;
        }
        previous->sa_sigaction(signal, info, context);
        return true;
    }
    if (previous->sa_handler == SIG_DFL || previous->sa_handler == SIG_IGN) {
        return false;
    }
    previous->sa_handler(signal);
    return true;
}

// Whether a handler of `signal` may run while a thread waits, and so decide whether the wait
// is restarted. Not the fault signals, which only a thread's own instruction raises (the
// runtime's stack-overflow handler and the Swift runtime's crash handler catch them), nor a
// crash handler on SIGQUIT and SIGABRT (the runtime's, crash.c, or the Swift runtime's), which
// ends the process and never returns into the call. Counted, either would make every program
// that runs the runtime one whose handlers do not restart.
static bool may_interrupt_a_wait(int signal, void *handler) {
    if (signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE || signal == SIGTRAP ||
        signal == SIGSYS) {
        return false;
    }
    if (oc_crash_is_handler(handler)) {
        return false;
    }
    Dl_info info;
    return dladdr(handler, &info) == 0 || info.dli_fname == NULL || strstr(info.dli_fname, "libswiftCore.so") == NULL;
}

bool oc_signals_restart(void) {
    for (int signal = 1; signal < NSIG; signal++) {
        struct sigaction action;
        if (sigaction(signal, NULL, &action) != 0) {
            continue;  // Numbers the C library reserves for itself.
        }
        void *handler = (action.sa_flags & SA_SIGINFO) ? (void *)action.sa_sigaction : (void *)action.sa_handler;
        bool handled = (action.sa_flags & SA_SIGINFO) ? handler != NULL
                                                      : (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
        if (handled && !(action.sa_flags & SA_RESTART) && may_interrupt_a_wait(signal, handler)) {
            return false;
        }
    }
    return true;
}
