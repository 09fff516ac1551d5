#define _GNU_SOURCE
#include "oc_frame.h"
#include "sanitizer_switch.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

__thread oc_frame *oc_current_frame __attribute__((tls_model("initial-exec")));

/// The frame of the thread itself, outside any coroutine.
static __thread oc_frame thread_frame;

/// Big enough for the fault handler and the handlers it forwards to (the Swift
/// runtime's backtracer among them).
#define OC_ALTERNATE_STACK_SIZE (256 * 1024)

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static pthread_key_t alternate_stack_key;
static struct sigaction forwarded_segv;
static struct sigaction forwarded_bus;

void oc_frame_entry(oc_transfer transfer) {
    oc_frame *frame = oc_current_frame;
#if OC_ASAN_SWITCH || OC_TSAN_SWITCH
    oc_sanitizer_arrived(frame, NULL);
#endif
    frame->resumer = transfer.context;
    frame->body(frame);
    oc_context_jump((void *)frame->resumer, OC_FINISHED);
    __builtin_unreachable();
}

static int is_guard_hit(const oc_frame *frame, uintptr_t address) {
    return frame->owner != NULL && frame->resumer != NULL
        && address >= frame->guard_low && address < frame->stack_low;
}

/// Hands a fault that is not ours to whoever handled it before us, or to the
/// default action, which then kills the process as if we were never here.
static void forward_fault(int signal, siginfo_t *info, void *ucontext) {
    const struct sigaction *previous = signal == SIGBUS ? &forwarded_bus : &forwarded_segv;
    if ((previous->sa_flags & SA_SIGINFO) && previous->sa_sigaction != NULL) {
        previous->sa_sigaction(signal, info, ucontext);
        return;
    }
    if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(signal);
        return;
    }
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigaction(signal, &fallback, NULL);
    // Returning re-executes the faulting instruction under the default action.
}

static void handle_fault(int signal, siginfo_t *info, void *ucontext) {
    oc_frame *frame = oc_current_frame;
    if (frame != NULL && is_guard_hit(frame, (uintptr_t)info->si_addr)) {
        // Leaving the handler by a jump skips the sigreturn that would restore the
        // interrupted mask, so it is restored here. SA_NODEFER alone is not enough: an
        // interposed sigaction may block more (ThreadSanitizer's blocks every signal for
        // the handler's time), and the thread's next overflow would then kill the process.
        const ucontext_t *interrupted = ucontext;
        pthread_sigmask(SIG_SETMASK, &interrupted->uc_sigmask, NULL);
        oc_context_jump((void *)frame->resumer, OC_STACK_OVERFLOW);
    }
    forward_fault(signal, info, ucontext);
}

static void release_alternate_stack(void *mapping) {
    stack_t disable;
    memset(&disable, 0, sizeof disable);
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, NULL);
    munmap(mapping, OC_ALTERNATE_STACK_SIZE);
}

static void prepare_process(void) {
    pthread_key_create(&alternate_stack_key, release_alternate_stack);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handle_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &forwarded_segv);
    sigaction(SIGBUS, &action, &forwarded_bus);
}

static void prepare_alternate_stack(void) {
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE)
        && current.ss_size >= OC_ALTERNATE_STACK_SIZE) {
        return;
    }
    void *mapping = mmap(NULL, OC_ALTERNATE_STACK_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED) {
        return;
    }
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_sp = mapping;
    stack.ss_size = OC_ALTERNATE_STACK_SIZE;
    if (sigaltstack(&stack, NULL) != 0) {
        munmap(mapping, OC_ALTERNATE_STACK_SIZE);
        return;
    }
    pthread_setspecific(alternate_stack_key, mapping);
}

static void measure_thread_stack(oc_frame *frame) {
    pthread_attr_t attributes;
    void *base = NULL;
    size_t size = 0;
    size_t guard = 0;
    if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
        pthread_attr_getstack(&attributes, &base, &size);
        pthread_attr_getguardsize(&attributes, &guard);
        pthread_attr_destroy(&attributes);
    }
    frame->stack_low = (uintptr_t)base;
    frame->stack_high = (uintptr_t)base + size;
    frame->guard_low = (uintptr_t)base - guard;
}

oc_frame *oc_thread_prepare(void) {
    pthread_once(&process_once, prepare_process);
    prepare_alternate_stack();
    measure_thread_stack(&thread_frame);
    oc_current_frame = &thread_frame;
    return &thread_frame;
}
