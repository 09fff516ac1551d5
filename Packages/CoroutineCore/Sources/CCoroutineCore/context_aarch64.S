// Context switch for aarch64, AAPCS64.
//
// A suspended context is the stack pointer of a stack whose top holds this record:
//
//   0x00  d8  d9    0x10  d10 d11   0x20  d12 d13   0x30  d14 d15
//   0x40  x19 x20   0x50  x21 x22   0x60  x23 x24   0x70  x25 x26   0x80  x27 x28
//   0x90  x29 (frame pointer)  0x98  x30 (return address)
//   0xa0  FPCR      0xa8  padding
//
// Only callee-saved state is kept: everything else is dead across a call by the ABI.

// Under a sanitizer the jump (and, under ASan, the call on another stack) take other names,
// wrapped by the annotated switch of sanitizer_switch.c.
#include "sanitizer_switch.h"

#if defined(__aarch64__) && defined(__ELF__)

    .text

// oc_transfer oc_context_jump(void *to, uintptr_t value)
    .globl  OC_CONTEXT_JUMP
    .type   OC_CONTEXT_JUMP, %function
    .p2align 4
OC_CONTEXT_JUMP:
    .cfi_startproc
    sub     sp, sp, #0xb0
    .cfi_adjust_cfa_offset 0xb0
    stp     d8,  d9,  [sp, #0x00]
    stp     d10, d11, [sp, #0x10]
    stp     d12, d13, [sp, #0x20]
    stp     d14, d15, [sp, #0x30]
    stp     x19, x20, [sp, #0x40]
    stp     x21, x22, [sp, #0x50]
    stp     x23, x24, [sp, #0x60]
    stp     x25, x26, [sp, #0x70]
    stp     x27, x28, [sp, #0x80]
    stp     x29, x30, [sp, #0x90]
    mrs     x9, fpcr
    str     x9, [sp, #0xa0]

    mov     x10, sp
    mov     sp, x0

    // Writing FPCR can stall the pipeline, reading it is cheap: write only on a change.
    ldr     x11, [sp, #0xa0]
    cmp     x9, x11
    b.eq    1f
    msr     fpcr, x11
1:
    ldp     d8,  d9,  [sp, #0x00]
    ldp     d10, d11, [sp, #0x10]
    ldp     d12, d13, [sp, #0x20]
    ldp     d14, d15, [sp, #0x30]
    ldp     x19, x20, [sp, #0x40]
    ldp     x21, x22, [sp, #0x50]
    ldp     x23, x24, [sp, #0x60]
    ldp     x25, x26, [sp, #0x70]
    ldp     x27, x28, [sp, #0x80]
    ldp     x29, x30, [sp, #0x90]
    add     sp, sp, #0xb0
    .cfi_adjust_cfa_offset -0xb0

    // Result {x0, x1} for a resumed jump; the same registers are a fresh entry's argument.
    mov     x0, x10
    ret
    .cfi_endproc
    .size   OC_CONTEXT_JUMP, .-OC_CONTEXT_JUMP

// void *oc_context_make(void *stack_top, void (*entry)(oc_transfer))
    .globl  oc_context_make
    .type   oc_context_make, %function
    .p2align 4
oc_context_make:
    .cfi_startproc
    and     x0, x0, #~15
    sub     x0, x0, #0xb0
    str     x1, [x0, #0x40]
    str     xzr, [x0, #0x90]
    adr     x2, oc_context_trampoline
    str     x2, [x0, #0x98]
    mrs     x3, fpcr
    str     x3, [x0, #0xa0]
    ret
    .cfi_endproc
    .size   oc_context_make, .-oc_context_make

// The bottom frame of every coroutine: its CFI marks the return address undefined,
// so unwinders stop here.
    .type   oc_context_trampoline, %function
    .p2align 4
oc_context_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    blr     x19
    brk     #0
    .cfi_endproc
    .size   oc_context_trampoline, .-oc_context_trampoline

// void oc_call_on_stack(void *argument, void (*function)(void *), void *stack_top)
    .globl  OC_CALL_ON_STACK
    .type   OC_CALL_ON_STACK, %function
    .p2align 4
OC_CALL_ON_STACK:
    .cfi_startproc
    stp     x29, x30, [sp, #-16]!
    .cfi_def_cfa_offset 16
    .cfi_offset x29, -16
    .cfi_offset x30, -8
    mov     x29, sp
    .cfi_def_cfa w29, 16
    and     x2, x2, #~15
    mov     sp, x2
    blr     x1
    mov     sp, x29
    .cfi_def_cfa wsp, 16
    ldp     x29, x30, [sp], #16
    .cfi_def_cfa_offset 0
    .cfi_restore x29
    .cfi_restore x30
    ret
    .cfi_endproc
    .size   OC_CALL_ON_STACK, .-OC_CALL_ON_STACK

#endif

    .section .note.GNU-stack, "", %progbits
