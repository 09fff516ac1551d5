// Which sanitizer the switch is annotated for (sanitizer_switch.c), and the names the
// assembly gives its entry points accordingly. Private to CCoroutineCore: included by the
// assembly and by sanitizer_switch.c, never by a header Swift imports. The Swift compiler's
// clang importer is not told about -sanitize, so a test in an inline header function would
// see no sanitizer while this target's own C and assembly do.
#ifndef OC_SANITIZER_SWITCH_H
#define OC_SANITIZER_SWITCH_H

#ifndef __has_feature
#define __has_feature(feature) 0
#endif

#if __has_feature(address_sanitizer)
#define OC_ASAN_SWITCH 1
#else
#define OC_ASAN_SWITCH 0
#endif

#if __has_feature(thread_sanitizer)
#define OC_TSAN_SWITCH 1
#else
#define OC_TSAN_SWITCH 0
#endif

// Under a sanitizer the assembly's oc_context_jump is oc_context_jump_unannotated, and
// sanitizer_switch.c defines oc_context_jump around it; under AddressSanitizer the same holds
// for oc_call_on_stack, whose switch to another stack only ASan tracks. Every caller,
// including the switch code the Swift compiler inlines into other modules, then reaches the
// annotated switch without knowing a sanitizer is on. Normal builds keep the assembly's names
// and call it directly.
#if OC_ASAN_SWITCH || OC_TSAN_SWITCH
#define OC_CONTEXT_JUMP oc_context_jump_unannotated
#else
#define OC_CONTEXT_JUMP oc_context_jump
#endif

#if OC_ASAN_SWITCH
#define OC_CALL_ON_STACK oc_call_on_stack_unannotated
#else
#define OC_CALL_ON_STACK oc_call_on_stack
#endif

#if (OC_ASAN_SWITCH || OC_TSAN_SWITCH) && !defined(__ASSEMBLER__)
#include <stdint.h>

#include "oc_context.h"

struct oc_frame;

oc_transfer oc_context_jump_unannotated(void *to, uintptr_t value);
void oc_call_on_stack_unannotated(void *argument, void (*function)(void *), void *stack_top);

/// Finishes the switch into a coroutine, on its own stack: `fake_stack` is the one ASan gave
/// it when it last left, NULL on its first arrival (oc_frame_entry).
void oc_sanitizer_arrived(struct oc_frame *frame, void *fake_stack);
#endif

#endif
