// Context switch for x86_64, System V ABI.
//
// A suspended context is the stack pointer of a stack whose top holds this record:
//
//   0x00  MXCSR (4 bytes) | x87 control word (2 bytes) | padding
//   0x08  r12   0x10  r13   0x18  r14   0x20  r15   0x28  rbx   0x30  rbp
//   0x38  return address
//
// Only callee-saved state is kept: everything else is dead across a call by the ABI.

// Under a sanitizer the jump (and, under ASan, the call on another stack) take other names,
// wrapped by the annotated switch of sanitizer_switch.c.
#include "sanitizer_switch.h"

#if defined(__x86_64__) && defined(__ELF__)

    .text

// oc_transfer oc_context_jump(void *to, uintptr_t value)
//
// Saves the running context on its own stack, switches to `to`, and returns
// {context of the side that jumped, value} on the side that resumes.
    .globl  OC_CONTEXT_JUMP
    .type   OC_CONTEXT_JUMP, @function
    .p2align 4
OC_CONTEXT_JUMP:
    .cfi_startproc
    leaq    -0x38(%rsp), %rsp
    // From here the CFA is rsp + 0x40 on whichever stack is current: both hold the same
    // record layout, with the return address at 0x38.
    .cfi_adjust_cfa_offset 0x38
    stmxcsr (%rsp)
    fnstcw  0x4(%rsp)
    movq    %r12, 0x08(%rsp)
    movq    %r13, 0x10(%rsp)
    movq    %r14, 0x18(%rsp)
    movq    %r15, 0x20(%rsp)
    movq    %rbx, 0x28(%rsp)
    movq    %rbp, 0x30(%rsp)

    movq    %rsp, %rax
    movq    %rdi, %rsp
    // Fetch the resume address first, so the final indirect jump resolves early.
    movq    0x38(%rsp), %r8

    // Always reload: MXCSR has no cheaper read than the stmxcsr above, and comparing
    // against that fresh store costs more than ldmxcsr itself (measured).
    ldmxcsr (%rsp)
    fldcw   0x4(%rsp)
    movq    0x08(%rsp), %r12
    movq    0x10(%rsp), %r13
    movq    0x18(%rsp), %r14
    movq    0x20(%rsp), %r15
    movq    0x28(%rsp), %rbx
    movq    0x30(%rsp), %rbp
    leaq    0x40(%rsp), %rsp
    // The resumed side's frame is gone: its return address now lives in r8.
    .cfi_adjust_cfa_offset -0x40
    .cfi_register rip, r8

    // Result {rax, rdx} for a resumed jump; arguments {rdi, rsi} for a fresh entry.
    movq    %rsi, %rdx
    movq    %rax, %rdi
    jmp     *%r8
    .cfi_endproc
    .size   OC_CONTEXT_JUMP, .-OC_CONTEXT_JUMP

// void *oc_context_make(void *stack_top, void (*entry)(oc_transfer))
//
// Builds a context whose first jump calls entry({context of the jumper, value}).
// The FP control state starts as the creator's.
    .globl  oc_context_make
    .type   oc_context_make, @function
    .p2align 4
oc_context_make:
    .cfi_startproc
    movq    %rdi, %rax
    andq    $-16, %rax
    leaq    -0x40(%rax), %rax
    stmxcsr (%rax)
    fnstcw  0x4(%rax)
    movq    %rsi, 0x28(%rax)
    movq    $0, 0x30(%rax)
    leaq    oc_context_trampoline(%rip), %rcx
    movq    %rcx, 0x38(%rax)
    ret
    .cfi_endproc
    .size   oc_context_make, .-oc_context_make

// The bottom frame of every coroutine. The return address is undefined in its CFI,
// so unwinders and debuggers stop here instead of walking into garbage.
    .type   oc_context_trampoline, @function
    .p2align 4
oc_context_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    callq   *%rbx
    ud2
    .cfi_endproc
    .size   oc_context_trampoline, .-oc_context_trampoline

// void oc_call_on_stack(void *argument, void (*function)(void *), void *stack_top)
//
// Calls function(argument) with the stack pointer at stack_top, then returns on the
// caller's stack. The frame pointer links both stacks, so backtraces cross over.
    .globl  OC_CALL_ON_STACK
    .type   OC_CALL_ON_STACK, @function
    .p2align 4
OC_CALL_ON_STACK:
    .cfi_startproc
    pushq   %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset rbp, -16
    movq    %rsp, %rbp
    .cfi_def_cfa_register rbp
    andq    $-16, %rdx
    movq    %rdx, %rsp
    callq   *%rsi
    movq    %rbp, %rsp
    popq    %rbp
    .cfi_def_cfa rsp, 8
    ret
    .cfi_endproc
    .size   OC_CALL_ON_STACK, .-OC_CALL_ON_STACK

#endif

    .section .note.GNU-stack, "", %progbits
