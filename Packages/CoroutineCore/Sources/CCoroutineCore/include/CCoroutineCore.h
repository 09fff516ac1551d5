// CCoroutineCore, the C and assembly half of CoroutineCore, as the Swift side imports it. Each
// header is one concern; its source, where it has one, is the file of the same name without
// the oc_ prefix, beside include/:
//
//   Switching       oc_context.h         the context switch (context_x86_64.S, context_aarch64.S)
//                   oc_frame.h           the frame of a stack, the running frame, resume and suspend
//   Finding frames  oc_frame_registry.h  the list of every coroutine's frame
//                   oc_frame_walk.h      return addresses from a frame-pointer chain
//                   oc_frame_identity.h  a frame's task, read from another thread
//   Signals         oc_preempt.h         the preemption handler and the table of preemptible code
//                   oc_crash.h           the fatal-signal handler and the dump signal
//                   oc_signals.h         whether the process's handlers let a wait restart
//   Threads         oc_thread.h          the calling thread's kernel id, name and scheduler
//                   oc_cpu.h             the CPU count, pinning, the spin hint
//                   oc_clock.h           the monotonic clock
//                   oc_parker.h          the futex a plain thread sleeps on
//   Memory          oc_stack_cache.h     the per-thread cache of idle stacks
//                   oc_memory.h          madvise's guard-region advice
//   Scheduling      oc_run_queue.h       the work-stealing ring
//   I/O             oc_syscall.h         system calls that bypass libc's (interposed) names
//                   oc_descriptor.h      the process-wide descriptor table
//                   oc_epoll.h           the epoll shim of the event loop
//                   oc_ring.h            the per-thread io_uring (liburing)
//
// Not listed here, so not seen by Swift: signals.h (the signal glue the two handlers share),
// alternate_stack.h (the per-thread stack the crash handler runs on) and sanitizer_switch.h
// (the switch as ASan and TSan see it). Nothing here is public API of the package.
#ifndef C_COROUTINE_CORE_H
#define C_COROUTINE_CORE_H

#include "oc_context.h"
#include "oc_frame.h"
#include "oc_frame_registry.h"
#include "oc_frame_walk.h"
#include "oc_frame_identity.h"
#include "oc_preempt.h"
#include "oc_crash.h"
#include "oc_signals.h"
#include "oc_thread.h"
#include "oc_cpu.h"
#include "oc_clock.h"
#include "oc_parker.h"
#include "oc_stack_cache.h"
#include "oc_memory.h"
#include "oc_run_queue.h"
#include "oc_syscall.h"
#include "oc_descriptor.h"
#include "oc_epoll.h"
#include "oc_ring.h"

#endif
