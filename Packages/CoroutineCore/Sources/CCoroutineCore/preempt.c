// Preemption: the signal handler that switches a coroutine out at the instruction it was
// interrupted at, and the table of code where that is safe.
//
// The monitor (PreemptionMonitor.swift) sends the signal to a scheduler thread whose coroutine
// has run a whole slice without a switch. The handler runs on that coroutine's own stack (no
// SA_ONSTACK), so the kernel's signal frame, which holds every register, the flags and the
// whole FP/SIMD state, stays on the coroutine's stack. The handler then switches back to the
// scheduler as an ordinary suspension would; when the scheduler resumes the coroutine, the
// handler returns and sigreturn restores the interrupted state exactly.
//
// A switch is safe only where the coroutine holds nothing another coroutine of the same
// thread may need. The handler checks, in order:
//   - the running frame is the coroutine this thread's scheduler resumed directly (not the
//     scheduler itself, not a coroutine nested inside it) and runs on its own stack;
//   - the frame has no open `Preemption.withoutPreemption` section;
//   - the interrupted instruction lies in preemptible code: the program or a library other
//     than the runtime itself, libc and the loader, the Swift runtime and Foundation, the
//     allocators and the other system libraries below (their code takes locks, and the Swift
//     runtime's keeps reference counts and exclusivity bookkeeping mid-update).
// Otherwise the request is deferred: the handler marks it and returns, and the coroutine
// yields at its next safe point (a hooked call, a wait, `Preemption.safePoint`), or at a later
// request that lands in preemptible code.
//
// Why switching inside the handler is sound here
//
// Go's runtime (preempt.go) considered preempting in the signal handler itself and rejected it:
// it "would consume an M for every preempted G", and its scheduler "is not designed to run from
// a signal handler", since it allocates and starts threads on the preemption path. Go instead
// edits the signal context so that the goroutine seems to have called asyncPreempt, and returns
// from the handler. Neither reason holds here, and the rest is enforced as follows.
//
//   - No thread is consumed. Go's handler runs on the thread's signal stack (gsignal), which a
//     goroutine switched out there would keep, and its thread with it. This handler runs on the
//     coroutine's own stack, so the signal frame is part of the suspended coroutine, like any
//     other frame of it, and the thread goes on to run other coroutines. A coroutine never
//     changes threads (only tasks move, before they start; Scheduler.swift), so the sigreturn
//     that ends the handler runs on the thread that took the signal, and the signal mask and
//     alternate-stack settings it restores are that thread's own.
//   - The scheduler does not run in the handler's place. Async-signal-safety exists because the
//     interrupted code may be in the middle of a function that is not reentrant: a malloc that
//     holds its arena's lock, a stdio call, the loader, the Swift runtime's reference counts.
//     The code table rules that out: the interrupted instruction is never in those libraries
//     nor in the runtime's own object (found by address, so it is left out under any name).
//     After the switch the scheduler, and the coroutines it runs next, find the thread as an
//     ordinary suspension leaves it, and may allocate, retain and take locks. The signal stays
//     blocked only for the handler's own checks: it is unblocked before the switch, so the
//     thread goes on with the mask the coroutine had.
//   - What the handler touches before it switches is async-signal-safe: initial-exec TLS (no
//     allocation on first use, unlike dynamic TLS), the running frame, the code table through
//     its sequence lock (a rebuild meanwhile makes it defer), relaxed atomic counters, getpid,
//     pthread_sigmask, and oc_context_jump, which is assembly. It takes no lock and allocates
//     nothing.
//   - The coroutine's state survives whole. The kernel saved every register, the flags and the
//     FP/SIMD state in the signal frame, caller-saved registers included, which a switch made
//     by a call does not need to keep; sigreturn puts them back. errno is saved on entry and put
//     back before the switch, so the errno oc_frame_resume keeps for the coroutine is the one
//     the interrupted code saw; the Swift runtime's exclusivity state is swapped by that same
//     resume, as for any suspension.
//   - The alternate signal stack is never switched from. The crash handler runs there
//     (alternate_stack.c), and so may a program's own handlers; the handler switches only when
//     the interrupted stack pointer lies within the coroutine's stack, so a request that lands
//     in a handler on the alternate stack is deferred. Without SA_ONSTACK, this handler itself
//     always runs on the stack it interrupted.
//   - Under AddressSanitizer or ThreadSanitizer nothing is preempted at a signal: their runtime
//     lies in the program, which the table counts as preemptible.
//
// What remains: the table is asked about the interrupted instruction alone, not about the
// frames below it. Program code that a listed library calls back (a dl_iterate_phdr callback
// under the loader's lock, a lazy global's initializer under Swift's once-lock) is preempted
// like any program code, and the lock that library holds around the call stays held by the
// thread across the switch;
// Docs/preemption.md ("Locks a thread owns") says which of those a sibling then waits for
// cooperatively. And the signal frame takes room on the coroutine's stack (a few KiB, more
// with AVX-512): a request that arrives within that distance of the guard region makes the
// kernel raise a SIGSEGV with no fault address, which the crash handler cannot tell from a
// crash, where an overflow of the coroutine's own would have failed the coroutine alone.

#define _GNU_SOURCE
#include "oc_syscall.h"
#include "oc_preempt.h"
#include "sanitizer_switch.h"
#include "signals.h"

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

__thread oc_preempt_counts *oc_preempt_thread_counts __attribute__((tls_model("initial-exec")));
__thread void *oc_preempt_target __attribute__((tls_model("initial-exec")));
__thread bool oc_preempt_pending __attribute__((tls_model("initial-exec")));
__thread bool oc_preempt_switched __attribute__((tls_model("initial-exec")));

int oc_preempt_signal(void) {
    return SIGRTMIN + 8;
}

// MARK: - Preemptible code

/// Libraries whose code is never interrupted by a switch, by the start of their file name.
/// Those of them listed in `waiting_libraries` still wait for a lock cooperatively; the others
/// (libc and the loader, the unwinder, the Swift runtime, the allocators, the runtime itself)
/// are what the parking lot runs on, or keep per-thread state across their lock's critical
/// section, and wait as their thread.
static const char *const unsafe_libraries[] = {
    "ld-linux", "ld64.so", "libc.so", "libc-", "libpthread", "libdl.", "librt.", "libresolv", "libnss_",
    "libgcc_s", "libstdc++", "libatomic", "libunwind", "libswift", "libdispatch", "libBlocksRuntime",
    "libFoundation", "lib_Foundation", "libXCTest", "libTesting", "libjemalloc", "libtcmalloc",
    "libmimalloc", "libicu", "libxml2", "libcurl", "libz.", "libsystemd", "libclang_rt",
    "libopen_coroutine_hook", "libCoroutineCore", "libOpenCoroutine", "linux-vdso", "linux-gate",
};

/// The never-preempted libraries whose lock waits may suspend the task: Foundation (`NSLock`
/// and friends are pthread mutexes locked from inside it), libdispatch, ICU, libxml2, libcurl
/// and the test frameworks. Their own locks never stay held across a switch the runtime makes,
/// so a task waiting for one cooperatively waits only for a sibling that holds a user's lock.
static const char *const waiting_libraries[] = {
    "libdispatch", "libFoundation", "lib_Foundation", "libXCTest", "libTesting", "libicu", "libxml2", "libcurl",
};

#define OC_CODE_RANGES_MAX 1024

typedef struct code_range {
    uintptr_t low;
    uintptr_t high;
    /// Whether the code may be preempted; else it may only wait for locks cooperatively.
    bool preemptible;
    /// Whether the code is Foundation's, which holds CoreFoundation's run loops.
    bool runs_run_loops;
} code_range;

/// The libraries that hold CoreFoundation's run loop (swift-corelibs-foundation builds it in).
static const char *const run_loop_libraries[] = {"libFoundation.so"};

/// The preemptible code, published with a sequence lock: odd while the monitor rewrites it,
/// so that a handler reading it meanwhile sees a changed sequence and defers.
static code_range code_ranges[OC_CODE_RANGES_MAX];
static uint32_t code_range_count;

#define OC_RUNTIME_RANGES_MAX 8

/// The runtime's own code when it is a shared object (empty when it is linked into the
/// program, where it cannot be told from the program's): published with the same sequence.
static code_range runtime_ranges[OC_RUNTIME_RANGES_MAX];
static uint32_t runtime_range_count;
static uint32_t code_sequence;
/// The loader's counts of loads and unloads the table was built for.
static unsigned long long built_adds = ~0ULL;
static unsigned long long built_subs = ~0ULL;

/// Whether [low, high) of `info`'s object holds `address`.
static bool object_contains(const struct dl_phdr_info *info, uintptr_t address) {
    for (int index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        uintptr_t low = info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_LOAD && address >= low && address < low + header->p_memsz) {
            return true;
        }
    }
    return false;
}

/// Whether the file name of `path` starts with one of the `count` `prefixes`.
static bool is_listed(const char *path, const char *const *prefixes, size_t count) {
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    for (size_t index = 0; index < count; index++) {
        if (strncmp(name, prefixes[index], strlen(prefixes[index])) == 0) {
            return true;
        }
    }
    return false;
}

static int read_load_counts(struct dl_phdr_info *info, size_t size, void *counts) {
    (void)size;
    unsigned long long *pair = counts;
    pair[0] = info->dlpi_adds;
    pair[1] = info->dlpi_subs;
    return 1;  // The counts are the same in every entry: one is enough.
}

/// Adds the executable segments of `info` to `ranges`, up to `capacity`.
static void add_segments(struct dl_phdr_info *info, code_range *ranges, uint32_t capacity, uint32_t *added,
                         bool preemptible, bool runs_run_loops) {
    for (int index = 0; index < info->dlpi_phnum && *added < capacity; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        if (header->p_type == PT_LOAD && (header->p_flags & PF_X)) {
            uintptr_t low = info->dlpi_addr + header->p_vaddr;
            __atomic_store_n(&ranges[*added].low, low, __ATOMIC_RELAXED);
            __atomic_store_n(&ranges[*added].high, low + header->p_memsz, __ATOMIC_RELAXED);
            __atomic_store_n(&ranges[*added].preemptible, preemptible, __ATOMIC_RELAXED);
            __atomic_store_n(&ranges[*added].runs_run_loops, runs_run_loops, __ATOMIC_RELAXED);
            *added += 1;
        }
    }
}

/// What the table walk counts: the table's ranges, and the runtime's.
typedef struct {
    uint32_t code;
    uint32_t runtime;
    /// Whether the next object is the first, the program.
    bool first;
} range_counts;

static int add_code_ranges(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    range_counts *counts = context;
    bool program = counts->first;
    counts->first = false;
    // The runtime's own object, found by address whatever its name: left out even when it
    // is the program itself, and recorded as the runtime's only when it is not.
    if (object_contains(info, (uintptr_t)&oc_preempt_install)) {
        if (!program) {
            add_segments(info, runtime_ranges, OC_RUNTIME_RANGES_MAX, &counts->runtime, false, false);
        }
        return 0;
    }
    uint32_t *added = &counts->code;
    bool preemptible = !is_listed(info->dlpi_name, unsafe_libraries, sizeof unsafe_libraries / sizeof *unsafe_libraries);
    if (!preemptible && !is_listed(info->dlpi_name, waiting_libraries, sizeof waiting_libraries / sizeof *waiting_libraries)) {
        return 0;
    }
    add_segments(info, code_ranges, OC_CODE_RANGES_MAX, added, preemptible,
                 is_listed(info->dlpi_name, run_loop_libraries, sizeof run_loop_libraries / sizeof *run_loop_libraries));
    return 0;
}

static void rebuild_code_table(const unsigned long long counts[2]) {
    __atomic_store_n(&code_sequence, code_sequence + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    range_counts added = {0, 0, true};
    dl_iterate_phdr(add_code_ranges, &added);
    __atomic_store_n(&code_range_count, added.code, __ATOMIC_RELAXED);
    __atomic_store_n(&runtime_range_count, added.runtime, __ATOMIC_RELAXED);
    __atomic_store_n(&code_sequence, code_sequence + 1, __ATOMIC_RELEASE);
    built_adds = counts[0];
    built_subs = counts[1];
}

/// Held by the one thread rebuilding the table; a second caller meanwhile has nothing to add.
static bool refreshing;

void oc_preempt_refresh_code(void) {
    if (__atomic_exchange_n(&refreshing, true, __ATOMIC_ACQUIRE)) {
        return;
    }
    unsigned long long counts[2] = {0, 0};
    dl_iterate_phdr(read_load_counts, counts);
    if (counts[0] != built_adds || counts[1] != built_subs) {
        rebuild_code_table(counts);
    }
    __atomic_store_n(&refreshing, false, __ATOMIC_RELEASE);
}

/// What a lookup in the code table asks for.
typedef enum { ANY_CODE, PREEMPTIBLE_CODE, RUN_LOOP_CODE, RUNTIME_CODE } code_kind;

/// Whether the table holds `pc` in a range of `kind`.
static bool code_table_holds(uintptr_t pc, code_kind kind) {
    uint32_t sequence = __atomic_load_n(&code_sequence, __ATOMIC_ACQUIRE);
    if (sequence & 1) {
        return false;
    }
    bool found = false;
    const code_range *ranges = kind == RUNTIME_CODE ? runtime_ranges : code_ranges;
    uint32_t count = __atomic_load_n(kind == RUNTIME_CODE ? &runtime_range_count : &code_range_count, __ATOMIC_RELAXED);
    for (uint32_t index = 0; index < count && !found; index++) {
        found = pc >= __atomic_load_n(&ranges[index].low, __ATOMIC_RELAXED)
             && pc < __atomic_load_n(&ranges[index].high, __ATOMIC_RELAXED)
             && (kind != PREEMPTIBLE_CODE || __atomic_load_n(&ranges[index].preemptible, __ATOMIC_RELAXED))
             && (kind != RUN_LOOP_CODE || __atomic_load_n(&ranges[index].runs_run_loops, __ATOMIC_RELAXED));
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return found && __atomic_load_n(&code_sequence, __ATOMIC_RELAXED) == sequence;
}

bool oc_preempt_code_is_runtime(uintptr_t pc) {
    return code_table_holds(pc, RUNTIME_CODE);
}

bool oc_preempt_code_is_preemptible(uintptr_t pc) {
    return code_table_holds(pc, PREEMPTIBLE_CODE);
}

bool oc_preempt_code_may_wait(uintptr_t pc) {
    return code_table_holds(pc, ANY_CODE);
}

bool oc_preempt_code_runs_run_loops(uintptr_t pc) {
    return code_table_holds(pc, RUN_LOOP_CODE);
}

static int find_program(struct dl_phdr_info *info, size_t size, void *contains_runtime) {
    (void)size;
    *(bool *)contains_runtime = object_contains(info, (uintptr_t)&oc_preempt_install);
    return 1;  // The first entry is the program.
}

bool oc_preempt_runtime_is_shared(void) {
    bool program_holds_runtime = true;
    dl_iterate_phdr(find_program, &program_holds_runtime);
    return !program_holds_runtime;
}

// MARK: - The handler

static struct sigaction forwarded;

static uintptr_t interrupted_pc(const ucontext_t *context) {
#if defined(__x86_64__)
    return (uintptr_t)context->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)context->uc_mcontext.pc;
#endif
}

static uintptr_t interrupted_sp(const ucontext_t *context) {
#if defined(__x86_64__)
    return (uintptr_t)context->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)context->uc_mcontext.sp;
#endif
}

/// Whether the coroutine this thread's scheduler resumed is running here, outside
/// `withoutPreemption`: the request concerns it, though it may still have to wait.
static bool targets_running_coroutine(const oc_frame *frame) {
    return frame != NULL && frame->owner != NULL && frame->owner == oc_preempt_target
        && frame->resumer != NULL && frame->preemption_disabled == 0;
}

static bool is_safe_point(const oc_frame *frame, const ucontext_t *context) {
#if OC_ASAN_SWITCH || OC_TSAN_SWITCH
    // The sanitizer's runtime is linked into the program, whose code the table counts as
    // preemptible: a switch there would leave its interceptors and allocator mid-update.
    // Every request waits for the coroutine's next safe point instead.
    (void)frame;
    (void)context;
    return false;
#else
    uintptr_t sp = interrupted_sp(context);
    return sp >= frame->stack_low && sp < frame->stack_high && oc_preempt_code_is_preemptible(interrupted_pc(context));
#endif
}

/// A request of the monitor's, as opposed to the same signal sent by someone else.
static bool is_request(const siginfo_t *info) {
    return info->si_code == SI_TKILL && info->si_pid == getpid() && oc_preempt_thread_counts != NULL;
}

static void switch_out(int signal, oc_frame *frame) {
    // The kernel blocked the signal for the handler's time; the coroutines that run until
    // this one is resumed must stay preemptible. sigreturn restores the interrupted mask.
    oc_signal_unblock(signal);
    // Only a resumer resumes a coroutine suspended here (oc_frame.h): a hand-over's target
    // finishes the switch in Swift, and this return leads to the interrupted code instead.
    frame->suspended_by_signal = 1;
    oc_frame_suspend(frame);
    frame->suspended_by_signal = 0;
}

static void handle_request(int signal, siginfo_t *info, void *context) {
    if (!is_request(info)) {
        oc_signal_forward(&forwarded, signal, info, context);
        return;
    }
    int saved_errno = errno;
    oc_preempt_counts *counts = oc_preempt_thread_counts;
    __atomic_fetch_add(&counts->delivered, 1, __ATOMIC_RELAXED);
    oc_frame *frame = oc_current_frame;
    if (targets_running_coroutine(frame)) {
        if (is_safe_point(frame, context)) {
            __atomic_fetch_add(&counts->preempted, 1, __ATOMIC_RELAXED);
            oc_preempt_pending = false;
            oc_preempt_switched = true;
            errno = saved_errno;
            switch_out(signal, frame);
        } else {
            __atomic_fetch_add(&counts->deferred, 1, __ATOMIC_RELAXED);
            oc_preempt_pending = true;
        }
    }
    errno = saved_errno;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_result;

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handle_request;
    // SA_RESTART: a system call the request interrupts is restarted, as if it never came.
    // No SA_ONSTACK: the handler must run on the coroutine's stack to switch from it.
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    install_result = sigaction(oc_preempt_signal(), &action, &forwarded) == 0 ? 0 : errno;
}

int oc_preempt_install(void) {
    pthread_once(&install_once, install);
    return install_result;
}

void oc_preempt_attach(oc_preempt_counts *counts) {
    oc_preempt_thread_counts = counts;
    if (counts != NULL) {
        oc_signal_unblock(oc_preempt_signal());
    }
}

int oc_preempt_request(pid_t tid) {
    return oc_syscall(SYS_tgkill, getpid(), tid, oc_preempt_signal()) == 0 ? 0 : errno;
}
