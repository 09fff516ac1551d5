// Standalone test harness for the context-switch assembly of CCoroutineCore
// (context_x86_64.S and context_aarch64.S), independent of Swift.
//
// Build it together with both .S files (each assembles to nothing on the other
// architecture) and the header directory on the include path:
//
//   gcc -O2 -g -I<CCoroutineCore>/include context_harness.c
//       <CCoroutineCore>/context_x86_64.S <CCoroutineCore>/context_aarch64.S
//
// scripts/test-context.sh does this for x86_64 (native) and aarch64 (qemu-aarch64).
//
// Register checks go through harness_call_with_regs, a helper written in the
// harness's own top-level assembly: it loads known values into every callee-saved
// register, calls the function under test, and stores the registers to memory the
// moment it returns, so no compiler-generated code runs in between.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

// oc_context.h is written for clang (Swift's C compiler): give GCC the two
// spellings it lacks.
#ifndef __clang__
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#define _Nullable
#endif
#include "oc_context.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "context_harness.c supports x86_64 and aarch64 only"
#endif

#define HIDDEN __attribute__((visibility("hidden")))
#define NOINLINE __attribute__((noinline))

// ---------------------------------------------------------------------------
// Minimal test framework

static int tests_passed;
static int tests_failed;
static int check_failures;   // failed checks in the running test
static int checks_run;       // checks in the running test

static void check_impl(bool ok, const char *file, int line, const char *expr, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

static void check_impl(bool ok, const char *file, int line, const char *expr, const char *format, ...) {
    checks_run++;
    if (ok) {
        return;
    }
    check_failures++;
    if (check_failures > 12) {
        if (check_failures == 13) {
            printf("    ... further failures of this test not shown\n");
        }
        return;
    }
    printf("    %s:%d: check failed: %s", file, line, expr);
    if (format[1] != '\0') {   // format[0] is the '-' CHECK prepends
        va_list args;
        va_start(args, format);
        printf(" -- ");
        vprintf(format + 1, args);
        va_end(args);
    }
    printf("\n");
}

// The optional message is a printf format and its arguments; CHECK prepends a
// '-' so the format is never empty (and still checked by the compiler).
#define CHECK(cond, ...) check_impl((cond) ? true : false, __FILE__, __LINE__, #cond, "-" __VA_ARGS__)

/// Runs the test body and reports it; returns whether it passed.
static bool run_test_body(const char *name, void (*test)(void)) {
    check_failures = 0;
    checks_run = 0;
    test();
    if (checks_run == 0) {
        printf("    test ran no checks\n");
        check_failures = 1;
    }
    if (check_failures == 0) {
        printf("[ PASS ] %s (%d checks)\n", name, checks_run);
    } else {
        printf("[ FAIL ] %s (%d of %d checks failed)\n", name, check_failures, checks_run);
    }
    fflush(stdout);
    return check_failures == 0;
}

#define TEST_TIMEOUT_SECONDS 120

/// Each test runs in a child process, so a broken context switch that crashes or
/// hangs fails that test and the run goes on. HARNESS_NO_FORK=1 runs the tests in
/// the process itself (for debuggers).
static void run_test(const char *name, void (*test)(void)) {
    printf("[ RUN  ] %s\n", name);
    fflush(stdout);
    const char *no_fork = getenv("HARNESS_NO_FORK");
    bool passed;
    if (no_fork != NULL && no_fork[0] == '1') {
        passed = run_test_body(name, test);
    } else {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            exit(2);
        }
        if (pid == 0) {
            struct rlimit no_core = {0, 0};
            setrlimit(RLIMIT_CORE, &no_core);
            alarm(TEST_TIMEOUT_SECONDS);
            _exit(run_test_body(name, test) ? 0 : 1);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                perror("waitpid");
                exit(2);
            }
        }
        if (WIFEXITED(status)) {
            passed = WEXITSTATUS(status) == 0;
        } else {
            int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            printf("[ FAIL ] %s (%s: signal %d, %s)\n", name,
                   signal_number == SIGALRM ? "timed out" : "crashed", signal_number, strsignal(signal_number));
            passed = false;
        }
    }
    if (passed) {
        tests_passed++;
    } else {
        tests_failed++;
    }
    fflush(stdout);
}

// ---------------------------------------------------------------------------
// Stacks

struct stack {
    unsigned char *map;
    size_t map_size;
    unsigned char *low;    // lowest usable byte
    unsigned char *high;   // one past the highest usable byte
};

#define STACK_SIZE (256 * 1024)

/// An mmap'd stack with a PROT_NONE guard page below it.
static struct stack stack_new(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) / page * page;
    struct stack s;
    s.map_size = size + page;
    s.map = mmap(NULL, s.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (s.map == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect(s.map, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    s.low = s.map + page;
    s.high = s.map + s.map_size;
    return s;
}

static void stack_free(struct stack *s) {
    munmap(s->map, s->map_size);
    s->map = NULL;
}

static bool in_range(const void *p, const void *low, const void *high) {
    return (uintptr_t)p >= (uintptr_t)low && (uintptr_t)p < (uintptr_t)high;
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// ---------------------------------------------------------------------------
// Harness assembly
//
// word_pair harness_call_with_regs(fn, a0, a1, a2, in, out):
//   saves the caller's callee-saved registers, loads in[0..REG_COUNT) into the
//   callee-saved registers, records the stack pointer in out[SLOT_SP_BEFORE],
//   calls fn(a0, a1, a2), then stores the callee-saved registers into
//   out[0..REG_COUNT) and the stack pointer into out[SLOT_SP_AFTER], restores the
//   caller's registers and returns fn's two-word result untouched.
//
// void harness_sp_probe(uintptr_t *slot): stores its entry stack pointer to *slot.
//
// harness_probe_entry: an oc_context_make entry that stores its entry stack
//   pointer to *(uintptr_t *)transfer.value, then tail-calls
//   harness_probe_entry_c(transfer).

typedef struct word_pair {
    uintptr_t first;
    uintptr_t second;
} word_pair;

word_pair harness_call_with_regs(void (*fn)(void), uintptr_t a0, uintptr_t a1, uintptr_t a2,
                                 const uint64_t *in, uint64_t *out) HIDDEN;
void harness_sp_probe(void *slot) HIDDEN;
void harness_probe_entry(oc_transfer transfer) HIDDEN;
void harness_probe_entry_c(oc_transfer transfer) HIDDEN __attribute__((used, noreturn));

#if defined(__x86_64__)

enum { REG_COUNT = 6, SLOT_SP_BEFORE = 6, SLOT_SP_AFTER = 7, SLOT_COUNT = 8 };
static const char *const reg_names[REG_COUNT] = {"rbx", "rbp", "r12", "r13", "r14", "r15"};
enum { GPR_FIRST = 0, GPR_END = 6, FPR_FIRST = 6, FPR_END = 6 };

__asm__(
    "    .text\n"
    "    .globl  harness_call_with_regs\n"
    "    .hidden harness_call_with_regs\n"
    "    .type   harness_call_with_regs, @function\n"
    "    .p2align 4\n"
    "harness_call_with_regs:\n"
    "    pushq   %rbp\n"
    "    pushq   %rbx\n"
    "    pushq   %r12\n"
    "    pushq   %r13\n"
    "    pushq   %r14\n"
    "    pushq   %r15\n"
    "    pushq   %r9\n"              // out; seven pushes leave rsp 16-byte aligned
    "    movq    %rdi, %r11\n"
    "    movq    %rsp, 48(%r9)\n"
    "    movq    0(%r8), %rbx\n"
    "    movq    8(%r8), %rbp\n"
    "    movq    16(%r8), %r12\n"
    "    movq    24(%r8), %r13\n"
    "    movq    32(%r8), %r14\n"
    "    movq    40(%r8), %r15\n"
    "    movq    %rsi, %rdi\n"
    "    movq    %rdx, %rsi\n"
    "    movq    %rcx, %rdx\n"
    "    callq   *%r11\n"
    "    movq    (%rsp), %r9\n"
    "    movq    %rbx, 0(%r9)\n"
    "    movq    %rbp, 8(%r9)\n"
    "    movq    %r12, 16(%r9)\n"
    "    movq    %r13, 24(%r9)\n"
    "    movq    %r14, 32(%r9)\n"
    "    movq    %r15, 40(%r9)\n"
    "    movq    %rsp, 56(%r9)\n"
    "    popq    %r9\n"
    "    popq    %r15\n"
    "    popq    %r14\n"
    "    popq    %r13\n"
    "    popq    %r12\n"
    "    popq    %rbx\n"
    "    popq    %rbp\n"
    "    ret\n"
    "    .size   harness_call_with_regs, .-harness_call_with_regs\n"
    "\n"
    "    .globl  harness_sp_probe\n"
    "    .hidden harness_sp_probe\n"
    "    .type   harness_sp_probe, @function\n"
    "    .p2align 4\n"
    "harness_sp_probe:\n"
    "    movq    %rsp, (%rdi)\n"
    "    ret\n"
    "    .size   harness_sp_probe, .-harness_sp_probe\n"
    "\n"
    "    .globl  harness_probe_entry\n"
    "    .hidden harness_probe_entry\n"
    "    .type   harness_probe_entry, @function\n"
    "    .p2align 4\n"
    "harness_probe_entry:\n"
    "    movq    %rsp, (%rsi)\n"
    "    jmp     harness_probe_entry_c\n"
    "    .size   harness_probe_entry, .-harness_probe_entry\n");

#elif defined(__aarch64__)

enum { REG_COUNT = 19, SLOT_SP_BEFORE = 19, SLOT_SP_AFTER = 20, SLOT_COUNT = 21 };
static const char *const reg_names[REG_COUNT] = {
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29",
    "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15",
};
enum { GPR_FIRST = 0, GPR_END = 11, FPR_FIRST = 11, FPR_END = 19 };

__asm__(
    "    .text\n"
    "    .globl  harness_call_with_regs\n"
    "    .hidden harness_call_with_regs\n"
    "    .type   harness_call_with_regs, %function\n"
    "    .p2align 4\n"
    "harness_call_with_regs:\n"
    "    stp     x29, x30, [sp, #-176]!\n"
    "    stp     x19, x20, [sp, #16]\n"
    "    stp     x21, x22, [sp, #32]\n"
    "    stp     x23, x24, [sp, #48]\n"
    "    stp     x25, x26, [sp, #64]\n"
    "    stp     x27, x28, [sp, #80]\n"
    "    stp     d8,  d9,  [sp, #96]\n"
    "    stp     d10, d11, [sp, #112]\n"
    "    stp     d12, d13, [sp, #128]\n"
    "    stp     d14, d15, [sp, #144]\n"
    "    str     x5, [sp, #160]\n"
    "    mov     x9, sp\n"
    "    str     x9, [x5, #152]\n"
    "    mov     x16, x0\n"
    "    ldp     x19, x20, [x4, #0]\n"
    "    ldp     x21, x22, [x4, #16]\n"
    "    ldp     x23, x24, [x4, #32]\n"
    "    ldp     x25, x26, [x4, #48]\n"
    "    ldp     x27, x28, [x4, #64]\n"
    "    ldr     x29, [x4, #80]\n"
    "    ldp     d8,  d9,  [x4, #88]\n"
    "    ldp     d10, d11, [x4, #104]\n"
    "    ldp     d12, d13, [x4, #120]\n"
    "    ldp     d14, d15, [x4, #136]\n"
    "    mov     x0, x1\n"
    "    mov     x1, x2\n"
    "    mov     x2, x3\n"
    "    blr     x16\n"
    "    ldr     x5, [sp, #160]\n"
    "    stp     x19, x20, [x5, #0]\n"
    "    stp     x21, x22, [x5, #16]\n"
    "    stp     x23, x24, [x5, #32]\n"
    "    stp     x25, x26, [x5, #48]\n"
    "    stp     x27, x28, [x5, #64]\n"
    "    str     x29, [x5, #80]\n"
    "    stp     d8,  d9,  [x5, #88]\n"
    "    stp     d10, d11, [x5, #104]\n"
    "    stp     d12, d13, [x5, #120]\n"
    "    stp     d14, d15, [x5, #136]\n"
    "    mov     x9, sp\n"
    "    str     x9, [x5, #160]\n"
    "    ldp     x19, x20, [sp, #16]\n"
    "    ldp     x21, x22, [sp, #32]\n"
    "    ldp     x23, x24, [sp, #48]\n"
    "    ldp     x25, x26, [sp, #64]\n"
    "    ldp     x27, x28, [sp, #80]\n"
    "    ldp     d8,  d9,  [sp, #96]\n"
    "    ldp     d10, d11, [sp, #112]\n"
    "    ldp     d12, d13, [sp, #128]\n"
    "    ldp     d14, d15, [sp, #144]\n"
    "    ldp     x29, x30, [sp], #176\n"
    "    ret\n"
    "    .size   harness_call_with_regs, .-harness_call_with_regs\n"
    "\n"
    "    .globl  harness_sp_probe\n"
    "    .hidden harness_sp_probe\n"
    "    .type   harness_sp_probe, %function\n"
    "    .p2align 4\n"
    "harness_sp_probe:\n"
    "    mov     x9, sp\n"
    "    str     x9, [x0]\n"
    "    ret\n"
    "    .size   harness_sp_probe, .-harness_sp_probe\n"
    "\n"
    "    .globl  harness_probe_entry\n"
    "    .hidden harness_probe_entry\n"
    "    .type   harness_probe_entry, %function\n"
    "    .p2align 4\n"
    "harness_probe_entry:\n"
    "    mov     x9, sp\n"
    "    str     x9, [x1]\n"
    "    b       harness_probe_entry_c\n"
    "    .size   harness_probe_entry, .-harness_probe_entry\n");

#endif

/// Calls oc_context_jump(to, value) with every callee-saved register holding in[].
static oc_transfer jump_with_regs(void *to, uintptr_t value, const uint64_t *in, uint64_t *out) {
    word_pair result = harness_call_with_regs((void (*)(void))oc_context_jump, (uintptr_t)to, value, 0, in, out);
    oc_transfer transfer = {(void *)result.first, result.second};
    return transfer;
}

/// Stack pointer expected at the entry of a function called from a 16-byte aligned sp.
static bool entry_sp_is_abi_aligned(uintptr_t sp) {
#if defined(__x86_64__)
    return (sp + 8) % 16 == 0;   // the call pushed a return address
#else
    return sp % 16 == 0;
#endif
}

// ---------------------------------------------------------------------------
// Test: ping-pong on a malloc'd stack

static void pingpong_entry(oc_transfer transfer) {
    for (;;) {
        transfer = oc_context_jump(transfer.context, transfer.value * 3 + 7);
    }
}

static void test_pingpong(void) {
    const size_t size = 64 * 1024;
    unsigned char *memory = malloc(size);
    CHECK(memory != NULL);
    if (memory == NULL) {
        return;
    }
    void *context = oc_context_make(memory + size, pingpong_entry);
    CHECK(in_range(context, memory, memory + size), "context %p outside stack [%p, %p)", context,
          (void *)memory, (void *)(memory + size));

    int bad_value = 0, bad_context = 0;
    for (uintptr_t i = 0; i < 1000; i++) {
        uintptr_t value = (uintptr_t)splitmix64(i);
        if (i == 0) {
            value = 0;
        } else if (i == 1) {
            value = UINTPTR_MAX;
        }
        oc_transfer transfer = oc_context_jump(context, value);
        if (transfer.value != value * 3 + 7) {
            bad_value++;
            CHECK(transfer.value == value * 3 + 7, "round %zu: sent %#zx, got %#zx", (size_t)i, (size_t)value,
                  (size_t)transfer.value);
        }
        if (!in_range(transfer.context, memory, memory + size)) {
            bad_context++;
            CHECK(in_range(transfer.context, memory, memory + size), "round %zu: returned context %p not on the coroutine stack",
                  (size_t)i, transfer.context);
        }
        context = transfer.context;   // jump back through the context we were handed
    }
    CHECK(bad_value == 0 && bad_context == 0, "%d bad values, %d bad contexts in 1000 round trips", bad_value, bad_context);
    free(memory);
}

// ---------------------------------------------------------------------------
// Test: generator

#define GENERATOR_DONE UINTPTR_MAX

static void generator_entry(oc_transfer transfer) {
    uintptr_t limit = transfer.value;
    for (uintptr_t i = 0; i < limit; i++) {
        transfer = oc_context_jump(transfer.context, i);
    }
    for (;;) {
        transfer = oc_context_jump(transfer.context, GENERATOR_DONE);
    }
}

static void test_generator(void) {
    struct stack stack = stack_new(STACK_SIZE);
    void *context = oc_context_make(stack.high, generator_entry);
    uintptr_t collected[32];
    size_t count = 0;
    oc_transfer transfer = oc_context_jump(context, 10);
    while (transfer.value != GENERATOR_DONE && count < 32) {
        collected[count++] = transfer.value;
        transfer = oc_context_jump(transfer.context, 0);
    }
    CHECK(count == 10, "collected %zu values", count);
    for (size_t i = 0; i < count && i < 10; i++) {
        CHECK(collected[i] == i, "element %zu is %zu", i, (size_t)collected[i]);
    }
    // A finished generator keeps reporting completion.
    transfer = oc_context_jump(transfer.context, 0);
    CHECK(transfer.value == GENERATOR_DONE);
    stack_free(&stack);
}

// ---------------------------------------------------------------------------
// Test: jumps between coroutines report the right jumper

static struct {
    void *main_context;
    void *b_context;
    uintptr_t a_first_value;
    uintptr_t b_first_value;
    void *b_first_jumper;     // what B sees as the jumper on its first entry (A)
    void *a_context_seen_by_b;
    uintptr_t a_resumed_value;
    void *a_resumed_jumper;
    uintptr_t b_resumed_value;
} chain;

static void chain_a_entry(oc_transfer transfer) {
    chain.main_context = transfer.context;
    chain.a_first_value = transfer.value;
    transfer = oc_context_jump(chain.b_context, 1);   // start B from A
    chain.a_resumed_value = transfer.value;            // B jumped back here
    chain.a_resumed_jumper = transfer.context;         // B's context
    oc_context_jump(chain.main_context, 3);
    abort();   // never resumed again
}

static void chain_b_entry(oc_transfer transfer) {
    chain.b_first_value = transfer.value;
    chain.b_first_jumper = transfer.context;
    transfer = oc_context_jump(transfer.context, 2);   // back to A
    chain.b_resumed_value = transfer.value;            // main resumed us directly
    for (;;) {
        transfer = oc_context_jump(transfer.context, 5);
    }
}

static void test_chain(void) {
    struct stack stack_a = stack_new(STACK_SIZE), stack_b = stack_new(STACK_SIZE);
    memset(&chain, 0, sizeof chain);
    void *a = oc_context_make(stack_a.high, chain_a_entry);
    chain.b_context = oc_context_make(stack_b.high, chain_b_entry);

    oc_transfer transfer = oc_context_jump(a, 100);
    CHECK(transfer.value == 3, "main got %zu", (size_t)transfer.value);
    CHECK(in_range(transfer.context, stack_a.low, stack_a.high), "jumper %p is not A", transfer.context);
    CHECK(chain.a_first_value == 100);
    CHECK(chain.b_first_value == 1);
    CHECK(in_range(chain.b_first_jumper, stack_a.low, stack_a.high), "B's first jumper %p is not A", chain.b_first_jumper);
    CHECK(chain.a_resumed_value == 2);
    CHECK(in_range(chain.a_resumed_jumper, stack_b.low, stack_b.high), "A's resumer %p is not B", chain.a_resumed_jumper);

    // Resume B directly from main through the context A was handed.
    transfer = oc_context_jump(chain.a_resumed_jumper, 4);
    CHECK(chain.b_resumed_value == 4);
    CHECK(transfer.value == 5);
    CHECK(in_range(transfer.context, stack_b.low, stack_b.high), "jumper %p is not B", transfer.context);
    stack_free(&stack_a);
    stack_free(&stack_b);
}

// ---------------------------------------------------------------------------
// Test: many coroutines, round robin

#define RR_COROUTINES 64
#define RR_ROUNDS 100

static void round_robin_entry(oc_transfer transfer) {
    uintptr_t id = transfer.value;
    for (uintptr_t round = 0;; round++) {
        volatile uintptr_t on_stack = id * 100000 + round;   // lives on this coroutine's stack
        transfer = oc_context_jump(transfer.context, on_stack);
        if (transfer.value != id) {
            // Resumed with another coroutine's id: report it as a bogus value.
            for (;;) {
                transfer = oc_context_jump(transfer.context, UINTPTR_MAX);
            }
        }
    }
}

static void test_round_robin(void) {
    static struct stack stacks[RR_COROUTINES];
    void *contexts[RR_COROUTINES];
    for (int i = 0; i < RR_COROUTINES; i++) {
        stacks[i] = stack_new(64 * 1024);
        contexts[i] = oc_context_make(stacks[i].high, round_robin_entry);
    }
    int bad = 0;
    for (uintptr_t round = 0; round < RR_ROUNDS; round++) {
        for (uintptr_t i = 0; i < RR_COROUTINES; i++) {
            oc_transfer transfer = oc_context_jump(contexts[i], i);
            if (transfer.value != i * 100000 + round || !in_range(transfer.context, stacks[i].low, stacks[i].high)) {
                bad++;
            }
            contexts[i] = transfer.context;
        }
    }
    CHECK(bad == 0, "%d of %d switches returned the wrong value or context", bad, RR_COROUTINES * RR_ROUNDS);
    for (int i = 0; i < RR_COROUTINES; i++) {
        stack_free(&stacks[i]);
    }
}

// ---------------------------------------------------------------------------
// Test: stack alignment at entry, nothing written above stack_top, code that
// needs an aligned stack (printf of floating point) works on a coroutine stack

void harness_probe_entry_c(oc_transfer transfer) {
    char buffer[64];
    snprintf(buffer, sizeof buffer, "%.3f|%.2Lf|%d", 1.25, (long double)2.5, 42);
    uintptr_t ok = strcmp(buffer, "1.250|2.50|42") == 0;
    for (;;) {
        transfer = oc_context_jump(transfer.context, ok);
    }
}

static void test_entry_alignment(void) {
    struct stack stack = stack_new(STACK_SIZE);
    for (unsigned misalign = 0; misalign < 16; misalign++) {
        unsigned char *canary = stack.high - 64;
        unsigned char *top = canary - misalign;
        memset(top, 0xA5, (size_t)(stack.high - top));
        void *context = oc_context_make(top, harness_probe_entry);
        CHECK(in_range(context, stack.low, top), "misalign %u: context %p not below top %p", misalign, context, (void *)top);
        uintptr_t entry_sp = 0;
        oc_transfer transfer = oc_context_jump(context, (uintptr_t)&entry_sp);
        CHECK(transfer.value == 1, "misalign %u: snprintf of floating point failed on the coroutine stack", misalign);
        CHECK(entry_sp_is_abi_aligned(entry_sp), "misalign %u: entry sp %#zx is not ABI aligned", misalign, (size_t)entry_sp);
        CHECK(entry_sp <= (uintptr_t)top && entry_sp + 256 > (uintptr_t)top,
              "misalign %u: entry sp %#zx not just below top %p", misalign, (size_t)entry_sp, (void *)top);
        bool intact = true;
        for (unsigned char *p = top; p < stack.high; p++) {
            intact = intact && *p == 0xA5;
        }
        CHECK(intact, "misalign %u: bytes at or above stack_top were written", misalign);
    }
    stack_free(&stack);
}

// ---------------------------------------------------------------------------
// Tests: callee-saved registers survive switches in both directions
//
// The main side loads one set of values and jumps in; the coroutine loads
// another set and jumps back. Each side checks, after being resumed, that it
// got its own values back.

#define REG_ROUNDS 64

static uint64_t reg_value(unsigned side, unsigned round, unsigned reg) {
    return splitmix64(((uint64_t)side << 40) ^ ((uint64_t)round << 16) ^ reg);
}

static struct {
    unsigned checks;                   // coroutine-side verifications performed
    unsigned bad[REG_COUNT];           // coroutine-side mismatches per register
    unsigned bad_sp;
    unsigned bad_value;
    uint64_t first_expected[REG_COUNT];
    uint64_t first_got[REG_COUNT];
} reg_co;

static void registers_entry(oc_transfer transfer) {
    uint64_t in[SLOT_COUNT], out[SLOT_COUNT];
    for (unsigned round = 0;; round++) {
        for (unsigned r = 0; r < REG_COUNT; r++) {
            in[r] = reg_value(2, round, r);
        }
        uintptr_t expected_next = transfer.value + 1;
        transfer = jump_with_regs(transfer.context, transfer.value, in, out);
        if (transfer.value != expected_next) {
            reg_co.bad_value++;
        }
        for (unsigned r = 0; r < REG_COUNT; r++) {
            if (out[r] != in[r]) {
                if (reg_co.bad[r] == 0) {
                    reg_co.first_expected[r] = in[r];
                    reg_co.first_got[r] = out[r];
                }
                reg_co.bad[r]++;
            }
        }
        if (out[SLOT_SP_BEFORE] != out[SLOT_SP_AFTER]) {
            reg_co.bad_sp++;
        }
        reg_co.checks++;
    }
}

static void run_register_switch(unsigned first, unsigned end) {
    struct stack stack = stack_new(STACK_SIZE);
    memset(&reg_co, 0, sizeof reg_co);
    void *context = oc_context_make(stack.high, registers_entry);
    uint64_t in[SLOT_COUNT], out[SLOT_COUNT];
    for (unsigned round = 0; round < REG_ROUNDS; round++) {
        for (unsigned r = 0; r < REG_COUNT; r++) {
            in[r] = reg_value(1, round, r);
        }
        memset(out, 0, sizeof out);
        oc_transfer transfer = jump_with_regs(context, round, in, out);
        context = transfer.context;
        CHECK(transfer.value == round, "round %u: value %zu", round, (size_t)transfer.value);
        for (unsigned r = first; r < end; r++) {
            CHECK(out[r] == in[r], "main side, round %u: %s expected %#llx, got %#llx", round, reg_names[r],
                  (unsigned long long)in[r], (unsigned long long)out[r]);
        }
        CHECK(out[SLOT_SP_BEFORE] == out[SLOT_SP_AFTER], "main side, round %u: sp %#llx before, %#llx after", round,
              (unsigned long long)out[SLOT_SP_BEFORE], (unsigned long long)out[SLOT_SP_AFTER]);
    }
    // The coroutine verifies round n when it is resumed for round n + 1.
    CHECK(reg_co.checks == REG_ROUNDS - 1, "coroutine verified %u rounds", reg_co.checks);
    CHECK(reg_co.bad_value == 0);
    CHECK(reg_co.bad_sp == 0, "coroutine side: sp changed in %u rounds", reg_co.bad_sp);
    for (unsigned r = first; r < end; r++) {
        CHECK(reg_co.bad[r] == 0, "coroutine side: %s wrong in %u rounds (first: expected %#llx, got %#llx)", reg_names[r],
              reg_co.bad[r], (unsigned long long)reg_co.first_expected[r], (unsigned long long)reg_co.first_got[r]);
    }
    stack_free(&stack);
}

static void test_callee_saved_gprs(void) {
    run_register_switch(GPR_FIRST, GPR_END);
}

#if defined(__aarch64__)
static void test_callee_saved_fprs(void) {
    run_register_switch(FPR_FIRST, FPR_END);
}
#endif

// ---------------------------------------------------------------------------
// FP control state: x86_64 MXCSR + x87 control word, aarch64 FPCR

typedef struct fp_control {
    uint32_t primary;     // x86_64: MXCSR without exception flags; aarch64: FPCR
    uint16_t secondary;   // x86_64: x87 control word; aarch64: unused (0)
} fp_control;

#if defined(__x86_64__)

#define MXCSR_FLAGS 0x3Fu
#define MX_NEAREST 0x1F80u
#define MX_DOWN 0x3F80u
#define MX_UP 0x5F80u
#define MX_ZERO 0x7F80u
#define MX_FTZ_DAZ 0x8040u
#define CW_NEAREST 0x037Fu
#define CW_DOWN 0x077Fu
#define CW_UP 0x0B7Fu
#define CW_ZERO 0x0F7Fu
#define CW_DOUBLE 0x027Fu   // 53-bit precision, round to nearest

static const fp_control fp_default = {MX_NEAREST, CW_NEAREST};

static fp_control fp_control_get(void) {
    uint32_t mxcsr;
    uint16_t cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    fp_control c = {mxcsr & ~MXCSR_FLAGS, cw};
    return c;
}

/// Sets the exact state, exception flags cleared.
static void fp_control_set(fp_control c) {
    uint32_t mxcsr = c.primary;
    uint16_t cw = c.secondary;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr) : "memory");
    __asm__ volatile("fldcw %0" : : "m"(cw) : "memory");
}

static int direction_of_rc(unsigned rc) {   // x86 RC encoding: 0 nearest, 1 down, 2 up, 3 zero
    return rc == 1 ? -1 : rc == 2 ? 1 : 0;
}

static int expected_direction(fp_control c) {
    return direction_of_rc((c.primary >> 13) & 3);
}

static int expected_direction_x87(fp_control c) {
    return direction_of_rc((c.secondary >> 10) & 3);
}

static void fp_format(fp_control c, char *buffer, size_t size) {
    snprintf(buffer, size, "{MXCSR %#06x, x87 CW %#06x}", c.primary, c.secondary);
}

#define FP_STAGES 5
// Transitions: co->main 0 MXCSR only, main->co 1 MXCSR only, co->main 1 x87 CW only,
// 2 both, co->main 3 identical (no reload), main->co 4 identical, 4 both.
static const fp_control fp_co_stage[FP_STAGES] = {
    {MX_UP, CW_NEAREST},
    {MX_NEAREST, CW_DOWN},
    {MX_ZERO | MX_FTZ_DAZ, CW_UP},
    {MX_DOWN, CW_ZERO},
    {MX_UP, CW_UP},
};
static const fp_control fp_main_stage[FP_STAGES] = {
    {MX_NEAREST, CW_NEAREST},
    {MX_NEAREST, CW_NEAREST},
    {MX_DOWN, CW_DOUBLE},
    {MX_DOWN, CW_ZERO},
    {MX_DOWN, CW_ZERO},
};
static const fp_control fp_make_state = {MX_DOWN | MX_FTZ_DAZ, CW_UP};

#else   // __aarch64__

#define FPCR_RN 0u
#define FPCR_RP (1u << 22)
#define FPCR_RM (2u << 22)
#define FPCR_RZ (3u << 22)
#define FPCR_FZ (1u << 24)
#define FPCR_DN (1u << 25)

static const fp_control fp_default = {0, 0};

static fp_control fp_control_get(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fp_control c = {(uint32_t)fpcr, 0};
    return c;
}

static void fp_control_set(fp_control c) {
    uint64_t fpcr = c.primary;
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr) : "memory");
}

static int expected_direction(fp_control c) {   // RMode: 0 RN, 1 RP (up), 2 RM (down), 3 RZ
    unsigned rmode = (c.primary >> 22) & 3;
    return rmode == 1 ? 1 : rmode == 2 ? -1 : 0;
}

static void fp_format(fp_control c, char *buffer, size_t size) {
    snprintf(buffer, size, "{FPCR %#010x}", c.primary);
}

#define FP_STAGES 5
// Transitions: 0, 1 and 2 differ, co->main 3 identical (no write), main->co 4 identical.
static const fp_control fp_co_stage[FP_STAGES] = {
    {FPCR_RP, 0},
    {FPCR_RM | FPCR_DN, 0},
    {FPCR_RZ | FPCR_FZ, 0},
    {FPCR_RM, 0},
    {FPCR_RP | FPCR_FZ | FPCR_DN, 0},
};
static const fp_control fp_main_stage[FP_STAGES] = {
    {FPCR_RN, 0},
    {FPCR_RN, 0},
    {FPCR_RP, 0},
    {FPCR_RM, 0},
    {FPCR_RM, 0},
};
static const fp_control fp_make_state = {FPCR_RM | FPCR_FZ, 0};

#endif

static bool fp_equal(fp_control a, fp_control b) {
    return a.primary == b.primary && a.secondary == b.secondary;
}

// Rounding direction actually applied by the hardware: +1 upward, -1 downward,
// 0 for nearest and toward zero. Volatile operands keep the divisions at run time.
static volatile double probe_one = 1.0, probe_minus_one = -1.0, probe_three = 3.0;

NOINLINE static int probe_direction(void) {
    double a = probe_one / probe_three;
    double b = probe_minus_one / probe_three;
    return a > -b ? 1 : a < -b ? -1 : 0;
}

#if defined(__x86_64__)
static volatile long double probe_one_l = 1.0L, probe_minus_one_l = -1.0L, probe_three_l = 3.0L;

NOINLINE static int probe_direction_x87(void) {
    long double a = probe_one_l / probe_three_l;
    long double b = probe_minus_one_l / probe_three_l;
    return a > -b ? 1 : a < -b ? -1 : 0;
}
#endif

/// Checks the current FP control state and the rounding the hardware applies.
static void check_fp_state(const char *side, int stage, fp_control expected) {
    fp_control got = fp_control_get();
    char want_text[64], got_text[64];
    fp_format(expected, want_text, sizeof want_text);
    fp_format(got, got_text, sizeof got_text);
    CHECK(fp_equal(got, expected), "%s, stage %d: expected %s, got %s", side, stage, want_text, got_text);
    int direction = probe_direction();
    CHECK(direction == expected_direction(expected), "%s, stage %d: double division rounds %+d under %s", side, stage,
          direction, want_text);
#if defined(__x86_64__)
    int direction_x87 = probe_direction_x87();
    CHECK(direction_x87 == expected_direction_x87(expected), "%s, stage %d: x87 division rounds %+d under %s", side,
          stage, direction_x87, want_text);
#endif
}

// Coroutine side: CHECK works from here as well (same thread, same counters).
static void fp_entry(oc_transfer transfer) {
    for (;;) {
        uintptr_t stage = transfer.value;
        if (stage >= FP_STAGES) {
            transfer = oc_context_jump(transfer.context, stage);
            continue;
        }
        fp_control_set(fp_co_stage[stage]);
        transfer = oc_context_jump(transfer.context, stage);
        // Resumed for the next stage: the main side ran with its own state meanwhile.
        check_fp_state("coroutine side after resume", (int)stage, fp_co_stage[stage]);
    }
}

static void test_fp_control(void) {
    struct stack stack = stack_new(STACK_SIZE);
    fp_control_set(fp_default);
    void *context = oc_context_make(stack.high, fp_entry);
    for (int stage = 0; stage < FP_STAGES; stage++) {
        fp_control_set(fp_main_stage[stage]);
        oc_transfer transfer = oc_context_jump(context, (uintptr_t)stage);
        context = transfer.context;
        CHECK(transfer.value == (uintptr_t)stage);
        check_fp_state("main side after switch back", stage, fp_main_stage[stage]);
    }
    // Let the coroutine verify the last stage, then return home with the default state.
    fp_control_set(fp_default);
    oc_transfer transfer = oc_context_jump(context, FP_STAGES);
    CHECK(transfer.value == FP_STAGES);
    check_fp_state("main side at the end", FP_STAGES, fp_default);
    fp_control_set(fp_default);
    stack_free(&stack);
}

static fp_control fp_seen_at_entry;
static int fp_direction_at_entry;

static void fp_make_entry(oc_transfer transfer) {
    fp_seen_at_entry = fp_control_get();
    fp_direction_at_entry = probe_direction();
    for (;;) {
        transfer = oc_context_jump(transfer.context, 0);
    }
}

static void test_fp_control_inherited(void) {
    struct stack stack = stack_new(STACK_SIZE);
    fp_control_set(fp_make_state);
    void *context = oc_context_make(stack.high, fp_make_entry);
    fp_control_set(fp_default);
    oc_context_jump(context, 0);
    char want[64], got[64];
    fp_format(fp_make_state, want, sizeof want);
    fp_format(fp_seen_at_entry, got, sizeof got);
    CHECK(fp_equal(fp_seen_at_entry, fp_make_state), "new context started with %s, creator had %s", got, want);
    CHECK(fp_direction_at_entry == expected_direction(fp_make_state));
    check_fp_state("main side", 0, fp_default);
    fp_control_set(fp_default);
    stack_free(&stack);
}

// ---------------------------------------------------------------------------
// Tests: oc_call_on_stack

#define COS_LEVELS 3   // the first call plus two nested ones

static struct {
    struct stack stacks[COS_LEVELS];
    int depth;
    uintptr_t argument_seen[COS_LEVELS];
    uintptr_t local_address[COS_LEVELS];
    bool local_intact_after[COS_LEVELS];
    int runs[COS_LEVELS];
} cos;

static void cos_nested(void *argument) {
    int depth = cos.depth;
    volatile int local = 1000 + depth;
    cos.argument_seen[depth] = (uintptr_t)argument;
    cos.local_address[depth] = (uintptr_t)&local;
    cos.runs[depth]++;
    if (depth + 1 < COS_LEVELS) {
        cos.depth = depth + 1;
        oc_call_on_stack(argument, cos_nested, cos.stacks[depth + 1].high);
        cos.depth = depth;
    }
    cos.local_intact_after[depth] = local == 1000 + depth && (uintptr_t)&local == cos.local_address[depth];
}

static void test_call_on_stack_nested(void) {
    memset(&cos, 0, sizeof cos);
    for (int i = 0; i < COS_LEVELS; i++) {
        cos.stacks[i] = stack_new(STACK_SIZE);
    }
    volatile uint64_t caller_local = 0x0123456789ABCDEFull;
    uintptr_t caller_address = (uintptr_t)&caller_local;
    int marker;
    oc_call_on_stack(&marker, cos_nested, cos.stacks[0].high);
    for (int d = 0; d < COS_LEVELS; d++) {
        CHECK(cos.runs[d] == 1, "level %d ran %d times", d, cos.runs[d]);
        CHECK(cos.argument_seen[d] == (uintptr_t)&marker, "level %d got argument %#zx", d, (size_t)cos.argument_seen[d]);
        CHECK(in_range((void *)cos.local_address[d], cos.stacks[d].low, cos.stacks[d].high),
              "level %d: local at %#zx, outside its stack [%p, %p)", d, (size_t)cos.local_address[d],
              (void *)cos.stacks[d].low, (void *)cos.stacks[d].high);
        CHECK(cos.local_intact_after[d], "level %d: locals damaged by the nested call", d);
    }
    CHECK(caller_local == 0x0123456789ABCDEFull && (uintptr_t)&caller_local == caller_address);
    for (int i = 0; i < COS_LEVELS; i++) {
        CHECK(!in_range((void *)caller_address, cos.stacks[i].low, cos.stacks[i].high), "caller frame is on stack %d", i);
        stack_free(&cos.stacks[i]);
    }
}

// Register preservation: every level enters oc_call_on_stack through
// harness_call_with_regs with its own register values, and the function on the
// new stack loads different values again before returning.

static struct {
    struct stack stacks[COS_LEVELS];
    uint64_t in[COS_LEVELS][SLOT_COUNT];
    uint64_t out[COS_LEVELS][SLOT_COUNT];
    uintptr_t local_address[COS_LEVELS];
    int depth;
} cos_regs;

static void cos_regs_function(void *argument) {
    int depth = cos_regs.depth;   // level running on cos_regs.stacks[depth]
    volatile int local = depth;
    cos_regs.local_address[depth] = (uintptr_t)&local;
    // Scribble over the callee-saved registers while on this stack.
    uint64_t scribble_in[SLOT_COUNT], scribble_out[SLOT_COUNT];
    for (unsigned r = 0; r < REG_COUNT; r++) {
        scribble_in[r] = ~reg_value(7, (unsigned)depth, r);
    }
    uintptr_t slot;
    harness_call_with_regs((void (*)(void))harness_sp_probe, (uintptr_t)&slot, 0, 0, scribble_in, scribble_out);
    if (depth + 1 < COS_LEVELS) {
        int next = depth + 1;
        for (unsigned r = 0; r < REG_COUNT; r++) {
            cos_regs.in[next][r] = reg_value(5, (unsigned)next, r);
        }
        cos_regs.depth = next;
        harness_call_with_regs((void (*)(void))oc_call_on_stack, (uintptr_t)argument, (uintptr_t)cos_regs_function,
                               (uintptr_t)cos_regs.stacks[next].high, cos_regs.in[next], cos_regs.out[next]);
        cos_regs.depth = depth;
    }
}

static void test_call_on_stack_registers(void) {
    memset(&cos_regs, 0, sizeof cos_regs);
    for (int i = 0; i < COS_LEVELS; i++) {
        cos_regs.stacks[i] = stack_new(STACK_SIZE);
    }
    for (unsigned r = 0; r < REG_COUNT; r++) {
        cos_regs.in[0][r] = reg_value(5, 0, r);
    }
    cos_regs.depth = 0;
    harness_call_with_regs((void (*)(void))oc_call_on_stack, 0, (uintptr_t)cos_regs_function,
                           (uintptr_t)cos_regs.stacks[0].high, cos_regs.in[0], cos_regs.out[0]);
    for (int d = 0; d < COS_LEVELS; d++) {
        for (unsigned r = 0; r < REG_COUNT; r++) {
            CHECK(cos_regs.out[d][r] == cos_regs.in[d][r], "call into level %d: %s expected %#llx, got %#llx", d,
                  reg_names[r], (unsigned long long)cos_regs.in[d][r], (unsigned long long)cos_regs.out[d][r]);
        }
        CHECK(cos_regs.out[d][SLOT_SP_BEFORE] == cos_regs.out[d][SLOT_SP_AFTER],
              "call into level %d: sp %#llx before, %#llx after", d, (unsigned long long)cos_regs.out[d][SLOT_SP_BEFORE],
              (unsigned long long)cos_regs.out[d][SLOT_SP_AFTER]);
        CHECK(in_range((void *)cos_regs.local_address[d], cos_regs.stacks[d].low, cos_regs.stacks[d].high),
              "level %d: local outside its stack", d);
    }
    for (int i = 0; i < COS_LEVELS; i++) {
        stack_free(&cos_regs.stacks[i]);
    }
}

static void test_call_on_stack_alignment(void) {
    struct stack stack = stack_new(STACK_SIZE);
    for (unsigned misalign = 0; misalign < 16; misalign++) {
        unsigned char *top = stack.high - 64 - misalign;
        memset(top, 0x5A, (size_t)(stack.high - top));
        uintptr_t entry_sp = 0;
        oc_call_on_stack(&entry_sp, harness_sp_probe, top);
        CHECK(entry_sp_is_abi_aligned(entry_sp), "misalign %u: function entered with sp %#zx", misalign, (size_t)entry_sp);
        CHECK(entry_sp <= (uintptr_t)top && entry_sp + 64 > (uintptr_t)top, "misalign %u: sp %#zx not just below top %p",
              misalign, (size_t)entry_sp, (void *)top);
        bool intact = true;
        for (unsigned char *p = top; p < stack.high; p++) {
            intact = intact && *p == 0x5A;
        }
        CHECK(intact, "misalign %u: bytes at or above stack_top were written", misalign);
    }
    stack_free(&stack);
}

// Context switches from code running under oc_call_on_stack, in both roles:
// main calls a function on stack S that drives a coroutine, and that coroutine
// itself suspends from inside oc_call_on_stack on stack T.

static struct {
    struct stack s, t, coroutine;
    void *resumer;
    int yields_from_t;
    uintptr_t t_local;
    uintptr_t driver_local;
    int results_ok;
    int finished;
} cos_switch;

static void cos_switch_on_t(void *argument) {
    (void)argument;
    volatile int local = 7;
    cos_switch.t_local = (uintptr_t)&local;
    for (int i = 0; i < 5; i++) {
        oc_transfer transfer = oc_context_jump(cos_switch.resumer, 100 + (uintptr_t)i);
        cos_switch.resumer = transfer.context;
        cos_switch.yields_from_t++;
    }
    if (local != 7) {
        cos_switch.yields_from_t = -1000;
    }
}

static void cos_switch_coroutine(oc_transfer transfer) {
    cos_switch.resumer = transfer.context;
    oc_call_on_stack(NULL, cos_switch_on_t, cos_switch.t.high);
    cos_switch.finished = 1;
    for (;;) {
        transfer = oc_context_jump(cos_switch.resumer, 999);
        cos_switch.resumer = transfer.context;
    }
}

static void cos_switch_driver(void *argument) {
    (void)argument;
    volatile int local = 3;
    cos_switch.driver_local = (uintptr_t)&local;
    void *context = oc_context_make(cos_switch.coroutine.high, cos_switch_coroutine);
    int ok = 0;
    for (uintptr_t i = 0; i < 5; i++) {
        oc_transfer transfer = oc_context_jump(context, 0);
        context = transfer.context;
        ok += transfer.value == 100 + i && in_range(transfer.context, cos_switch.t.low, cos_switch.t.high);
    }
    oc_transfer transfer = oc_context_jump(context, 0);
    ok += transfer.value == 999 && in_range(transfer.context, cos_switch.coroutine.low, cos_switch.coroutine.high);
    cos_switch.results_ok = local == 3 ? ok : -1;
}

static void test_call_on_stack_with_switches(void) {
    memset(&cos_switch, 0, sizeof cos_switch);
    cos_switch.s = stack_new(STACK_SIZE);
    cos_switch.t = stack_new(STACK_SIZE);
    cos_switch.coroutine = stack_new(STACK_SIZE);
    oc_call_on_stack(NULL, cos_switch_driver, cos_switch.s.high);
    CHECK(cos_switch.results_ok == 6, "%d of 6 switches delivered the expected value and jumper", cos_switch.results_ok);
    CHECK(cos_switch.yields_from_t == 5, "coroutine resumed %d times on stack T", cos_switch.yields_from_t);
    CHECK(cos_switch.finished == 1);
    CHECK(in_range((void *)cos_switch.driver_local, cos_switch.s.low, cos_switch.s.high));
    CHECK(in_range((void *)cos_switch.t_local, cos_switch.t.low, cos_switch.t.high));
    stack_free(&cos_switch.s);
    stack_free(&cos_switch.t);
    stack_free(&cos_switch.coroutine);
}

// ---------------------------------------------------------------------------
// Test: an entry that returns hits the trampoline's trap instead of running on

static void returning_entry(oc_transfer transfer) {
    (void)transfer;   // returns, which the API forbids
}

static void test_entry_return_traps(void) {
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0) {
        return;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        // Keep the expected crash quiet (qemu-user reports it on stderr).
        int null_fd = open("/dev/null", O_WRONLY);
        if (null_fd >= 0) {
            dup2(null_fd, STDERR_FILENO);
        }
        struct stack stack = stack_new(STACK_SIZE);
        void *context = oc_context_make(stack.high, returning_entry);
        oc_context_jump(context, 0);
        _exit(42);   // resumed: the trap did not fire
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
#if defined(__x86_64__)
    const int expected_signal = SIGILL;   // ud2
#else
    const int expected_signal = SIGTRAP;  // brk #0
#endif
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == expected_signal, "child status %#x (exited: %d, signal: %d)", status,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// ---------------------------------------------------------------------------

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
#if defined(__x86_64__)
    printf("context harness: x86_64\n");
#else
    printf("context harness: aarch64\n");
#endif
    run_test("context_pingpong_1000", test_pingpong);
    run_test("context_generator_0_to_9", test_generator);
    run_test("context_chain_jumper_identity", test_chain);
    run_test("context_round_robin_64", test_round_robin);
    run_test("context_entry_alignment_and_stack_top", test_entry_alignment);
    run_test("context_callee_saved_gprs", test_callee_saved_gprs);
#if defined(__aarch64__)
    run_test("context_callee_saved_d8_d15", test_callee_saved_fprs);
    run_test("context_fpcr_per_side", test_fp_control);
    run_test("context_fpcr_inherited_at_make", test_fp_control_inherited);
#else
    run_test("context_mxcsr_x87cw_per_side", test_fp_control);
    run_test("context_mxcsr_x87cw_inherited_at_make", test_fp_control_inherited);
#endif
    run_test("call_on_stack_nested_twice", test_call_on_stack_nested);
    run_test("call_on_stack_registers_nested_twice", test_call_on_stack_registers);
    run_test("call_on_stack_alignment_and_stack_top", test_call_on_stack_alignment);
    run_test("call_on_stack_with_context_switches", test_call_on_stack_with_switches);
    run_test("context_entry_return_traps", test_entry_return_traps);

    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed == 0 ? 0 : 1;
}
