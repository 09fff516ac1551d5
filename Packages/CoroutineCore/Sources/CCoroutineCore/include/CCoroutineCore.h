// The C and assembly half of CoroutineCore: the context switch, the per-thread
// current-coroutine slot and the signal glue. Swift code reaches these through
// the CoroutineCore module; nothing here is public API of the package.
#ifndef C_COROUTINE_CORE_H
#define C_COROUTINE_CORE_H

#include "oc_context.h"
#include "oc_crash.h"
#include "oc_frame.h"
#include "oc_descriptor.h"
#include "oc_epoll.h"
#include "oc_memory.h"
#include "oc_preempt.h"
#include "oc_ring.h"
#include "oc_run_queue.h"
#include "oc_stack_cache.h"
#include "oc_syscall.h"
#include "oc_thread.h"

#endif
