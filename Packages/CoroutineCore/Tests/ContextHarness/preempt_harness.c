// Standalone test of preemption (preempt.c) on both architectures, independent of Swift:
// coroutines that never yield are switched out by the preemption signal at the instruction
// they were running, and resume with every register and the FP/SIMD state intact.
//
// The runtime's C half (preempt.c, frame.c and the context assembly) is built as a shared
// library, libocpreempt.so, as libCoroutineCore.so is in a real program: the preemption
// handler never interrupts the runtime's own object, so the harness's code must lie in
// another one. The harness stands in for the Swift runtime's two exclusivity entry points,
// and plays scheduler (a round-robin loop on the main thread) and monitor (a thread that
// sends a request every 0.5 ms). scripts/test-context.sh builds and runs it for x86_64 and,
// under qemu-aarch64, for aarch64. Exit status 0 means pass.

#define _GNU_SOURCE
#include <fenv.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef __clang__
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#define _Nullable
#endif
#include "oc_preempt.h"
#include "oc_thread.h"

void swift_task_enterThreadLocalContext(char *state) { (void)state; }
void swift_task_exitThreadLocalContext(char *state) { (void)state; }

#define STACK_SIZE (256 * 1024)

typedef struct coroutine {
    oc_frame *frame;
    bool finished;
    int preemptions;
} coroutine;

static int failures;

#define CHECK(condition, ...)                                        \
    do {                                                             \
        if (!(condition)) {                                          \
            failures++;                                              \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #condition); \
            printf(__VA_ARGS__);                                     \
            printf("\n");                                            \
        }                                                            \
    } while (0)

static coroutine make_coroutine(void (*body)(oc_frame *), void *owner) {
    char *low = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t top = ((uintptr_t)low + STACK_SIZE - sizeof(oc_frame)) & ~(uintptr_t)63;
    oc_frame *frame = (oc_frame *)top;
    memset(frame, 0, sizeof *frame);
    frame->context = oc_context_make((void *)top, oc_frame_entry);
    frame->stack_low = (uintptr_t)low;
    frame->stack_high = top;
    frame->guard_low = (uintptr_t)low;
    frame->owner = owner;
    frame->body = body;
    return (coroutine){.frame = frame};
}

/// Resumes `c` as a scheduler does; counts whether it came back preempted.
static void resume(coroutine *c) {
    void *previous = oc_preempt_enter(c->frame->owner);
    uintptr_t signal = oc_frame_resume(c->frame).signal;
    if (oc_preempt_leave(previous)) {
        c->preemptions++;
    }
    c->finished = signal == OC_FINISHED;
}

/// Round robin over `count` coroutines until all finished.
static void run_all(coroutine *coroutines, int count) {
    for (int left = count; left > 0;) {
        left = 0;
        for (int index = 0; index < count; index++) {
            if (!coroutines[index].finished) {
                resume(&coroutines[index]);
                left += !coroutines[index].finished;
            }
        }
    }
}

// MARK: - The monitor

static pid_t scheduler_thread;
static volatile bool monitoring;

static void *monitor(void *unused) {
    (void)unused;
    oc_preempt_refresh_code();
    while (monitoring) {
        usleep(500);
        oc_preempt_request(scheduler_thread);
    }
    return NULL;
}

// MARK: - Test 1: a loop with no call at all gives way

static volatile int spinning;

static void spin_body(oc_frame *frame) {
    (void)frame;
    while (spinning) {
    }
}

static void stop_body(oc_frame *frame) {
    (void)frame;
    spinning = 0;
}

static void test_spinner_gives_way(void) {
    spinning = 1;
    coroutine coroutines[] = {make_coroutine(spin_body, &coroutines[0]), make_coroutine(stop_body, &coroutines[1])};
    run_all(coroutines, 2);
    CHECK(coroutines[0].finished && coroutines[1].finished, "both coroutines end");
    CHECK(coroutines[0].preemptions >= 1, "the spinner was preempted %d times", coroutines[0].preemptions);
    printf("[ %s ] spinner_gives_way (preempted %d times)\n", failures == 0 ? "PASS" : "FAIL", coroutines[0].preemptions);
}

// MARK: - Test 2: FP/SIMD state survives preemption bit for bit

#define ROUNDS 8000000

/// Work whose result depends on every FP register it uses and on the rounding mode.
static void float_work(int rounding, double *scalar_out, float vector_out[4]) {
    fesetround(rounding);
    volatile double step = 1.0000003;
    double scalar = 1.0;
    float vector[4] = {1, 2, 3, 4};
    for (int index = 0; index < ROUNDS; index++) {
        scalar = scalar * step + 1.0 / (double)(index + 3);
        for (int lane = 0; lane < 4; lane++) {
            vector[lane] = vector[lane] * 1.000001f + 1.0f / (float)(index + 7 + lane);
        }
    }
    *scalar_out = scalar;
    memcpy(vector_out, vector, sizeof vector);
    fesetround(FE_TONEAREST);
}

typedef struct float_result {
    double scalar;
    float vector[4];
} float_result;

static float_result results[2];
static const int roundings[2] = {FE_TONEAREST, FE_TOWARDZERO};

static void float_body(oc_frame *frame) {
    int index = *(int *)frame->owner;
    float_work(roundings[index], &results[index].scalar, results[index].vector);
}

static void test_float_state_survives(void) {
    float_result expected[2];
    for (int index = 0; index < 2; index++) {
        float_work(roundings[index], &expected[index].scalar, expected[index].vector);
    }
    CHECK(memcmp(&expected[0], &expected[1], sizeof expected[0]) != 0, "the rounding mode shows in the work");
    static int owners[2] = {0, 1};
    coroutine coroutines[] = {make_coroutine(float_body, &owners[0]), make_coroutine(float_body, &owners[1])};
    run_all(coroutines, 2);
    int preemptions = coroutines[0].preemptions + coroutines[1].preemptions;
    CHECK(preemptions >= 10, "the workers were preempted %d times", preemptions);
    for (int index = 0; index < 2; index++) {
        CHECK(memcmp(&results[index], &expected[index], sizeof expected[index]) == 0,
              "worker %d's result is bit-identical to the unpreempted one", index);
    }
    printf("[ %s ] float_state_survives (preempted %d times)\n", failures == 0 ? "PASS" : "FAIL", preemptions);
}

int main(void) {
    static oc_preempt_counts counts;
    oc_thread_prepare();
    CHECK(oc_preempt_install() == 0, "the handler installs");
    oc_preempt_attach(&counts);
    CHECK(oc_preempt_runtime_is_shared(), "the runtime lies in its own object");
    scheduler_thread = oc_thread_id();
    monitoring = true;
    pthread_t thread;
    pthread_create(&thread, NULL, monitor, NULL);
    test_spinner_gives_way();
    test_float_state_survives();
    monitoring = false;
    pthread_join(thread, NULL);
    printf("%s: %llu requests, %llu preemptions, %llu deferred\n", failures == 0 ? "PASS" : "FAIL",
           (unsigned long long)counts.delivered, (unsigned long long)counts.preempted,
           (unsigned long long)counts.deferred);
    return failures == 0 ? 0 : 1;
}
