// The per-thread alternate signal stack (alternate_stack.c), which oc_thread_prepare sets up.
// Internal: not in include/, so not part of the module Swift sees.
#ifndef OC_ALTERNATE_STACK_H
#define OC_ALTERNATE_STACK_H

/// Gives the calling thread an alternate signal stack of the runtime's size, unless it has one
/// at least that big; the stack is unmapped when the thread exits. A failure leaves the thread
/// without one: the crash handler then runs on the interrupted stack, where a stack overflow
/// cannot be handled.
void oc_alternate_stack_prepare(void);

#endif
