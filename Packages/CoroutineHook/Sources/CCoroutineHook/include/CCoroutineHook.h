// CCoroutineHook, the C half of the hook library, as its Swift side imports it:
//
//   oc_hook.h          the C entry points Swift cannot express, the interposition check, and how
//                      the lock, semaphore and futex hooks wait
//   oc_hook_exports.h  libc's names the library exports, and the Swift hooks behind them
//   oc_api_exports.h   the C API's names (open_coroutine.h), and the Swift functions behind them
#ifndef C_COROUTINE_HOOK_H
#define C_COROUTINE_HOOK_H

#include "oc_hook.h"
#include "oc_hook_exports.h"
#include "oc_api_exports.h"

#endif
