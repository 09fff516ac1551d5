#define _GNU_SOURCE
#include "signals.h"

#include <pthread.h>

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
