// What the process's signal handlers ask of an interrupted wait (signals.c).
#ifndef OC_SIGNALS_PUBLIC_H
#define OC_SIGNALS_PUBLIC_H

#include <stdbool.h>

/// Whether every installed signal handler asks for SA_RESTART: a plain thread emulating a
/// blocking call retries an interrupted wait only then, as the kernel would have restarted it.
bool oc_signals_restart(void);

#endif
