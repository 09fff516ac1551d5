// Crashes: what a fatal signal in a coroutine prints, and how the process then dies.
//
// The runtime's handler of SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV and SIGTRAP sits in front
// of whatever handled them before it was installed: usually the Swift runtime's backtracer,
// installed when the Swift runtime loaded; in a program that is not Swift, the default
// action (the hook library gives Swift's handler back to libc there; hook.c). It runs on the
// thread's alternate signal stack and does, in order:
//
//   - a fault in the guard region below a coroutine's stack is a stack overflow: the
//     coroutine fails with CoroutineError.stackOverflow and its thread goes on (Docs/
//     architecture.md, "Faults");
//   - otherwise, the first time: when the crashing thread was running a coroutine, one line
//     names its task (id and name) and thread, written with write(2) alone; then, when asked
//     (`RuntimeConfiguration.crashReport`, OPEN_COROUTINE_TRACEBACK=all), every coroutine is
//     dumped by a child process forked without fork handlers, which the crashing process
//     waits for at most 3 s, so that a dump stuck on a lock the crash left held costs 3 s, not
//     the process;
//   - then the previous handler runs: Swift's prints the crashed thread's backtrace, the
//     task's own frames first, because the crash happened on the task's stack;
//   - with no previous handler, the signal's default action ends the process: a fault is
//     re-executed under it, and a signal sent with kill, raise or abort is raised again. A
//     previous handler that returns is left to have decided, as without the runtime.
//
// Rejected: printing the task line after Swift's report (the report may take seconds to
// symbolicate, and a hang in it would hide the line); symbolicating the other coroutines in
// the crashing process (the allocator or the Swift runtime's locks may be held by the very
// code that crashed); blocking the dump signal in a signal handler (the dump allocates, so a
// thread of its own prints it).
#define _GNU_SOURCE
#include "oc_syscall.h"
#include "oc_crash.h"
#include "oc_frame.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static const int fatal_signals[] = {SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
static struct sigaction forwarded[NSIG];
static void (*report_others)(void);
static int crash_reported;

// MARK: - Writing without the C library's buffers

static void put(const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t written = oc_syscall(SYS_write, STDERR_FILENO, text, length);
        if (written <= 0) {
            if (written < 0 && errno == EINTR) {
                continue;
            }
            return;
        }
        text += written;
        length -= (size_t)written;
    }
}

static void put_number(unsigned long long value) {
    char digits[24];
    int index = sizeof digits - 1;
    digits[index] = '\0';
    do {
        digits[--index] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0 && index > 0);
    put(&digits[index]);
}

static const char *signal_name(int signal) {
    switch (signal) {
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGTRAP: return "SIGTRAP";
    default: return "a fatal signal";
    }
}

// MARK: - The report

/// One line naming the crashing coroutine's task and thread.
static void describe_crashing_coroutine(int signal, const oc_frame *frame) {
    char thread[17] = {0};
    prctl(PR_GET_NAME, thread, 0, 0, 0);
    put("\nOpenCoroutine: ");
    if (frame->task_id != 0) {
        put("task #");
        put_number(frame->task_id);
        if (frame->task_name != NULL) {
            put(" \"");
            put(frame->task_name);
            put("\"");
        }
    } else {
        put("a coroutine outside any task");
    }
    put(" crashed with ");
    put(signal_name(signal));
    put(" on thread ");
    put(thread);
    put(" (tid ");
    put_number((unsigned long long)oc_syscall(SYS_gettid));
    put("); the backtrace of that thread below shows the task's frames\n");
}

static void sleep_briefly(void) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    oc_syscall(SYS_nanosleep, &pause, NULL);
}

/// Dumps the other coroutines from a child process, waiting at most 3 s for it.
static void dump_others(void) {
    put("OpenCoroutine: every coroutine at the crash (OPEN_COROUTINE_TRACEBACK=all):\n");
    // Without fork handlers: the allocator's would take locks the crash may have left held.
    pid_t child = _Fork();
    if (child == 0) {
        report_others();
        _exit(0);
    }
    if (child < 0) {
        put("OpenCoroutine: no dump, the process could not fork\n");
        return;
    }
    for (int waited = 0; waited < 300; waited++) {
        if (oc_syscall(SYS_wait4, child, NULL, WNOHANG, NULL) == child) {
            return;
        }
        sleep_briefly();
    }
    oc_syscall(SYS_kill, child, SIGKILL);
    oc_syscall(SYS_wait4, child, NULL, 0, NULL);
    put("OpenCoroutine: the dump of the other coroutines did not finish within 3 s\n");
}

// MARK: - The handler

static bool is_guard_hit(const oc_frame *frame, uintptr_t address) {
    return frame->owner != NULL && frame->resumer != NULL && address >= frame->guard_low && address < frame->stack_low;
}

/// Whether the signal was sent (kill, raise, abort) rather than raised by an instruction.
static bool was_sent(const siginfo_t *info) {
    return info->si_code <= 0;
}

/// Lets the default action end the process.
static void die_by_default(int signal, const siginfo_t *info) {
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigaction(signal, &fallback, NULL);
    if (was_sent(info)) {
        oc_signal_unblock(signal);
        raise(signal);
    }
    // A fault returns and re-executes its instruction under the default action.
}

static void forward(int signal, siginfo_t *info, void *ucontext) {
    if (!oc_signal_forward(&forwarded[signal], signal, info, ucontext)) {
        die_by_default(signal, info);
    }
    // A previous handler that returns decides, as it would without the runtime: Swift's gives
    // every fatal signal back to the default action first, so a fault re-executes and kills,
    // and a raised signal returns to its raiser (abort raises again).
}

static void handle_fatal(int signal, siginfo_t *info, void *ucontext) {
    oc_frame *frame = oc_current_frame;
    if ((signal == SIGSEGV || signal == SIGBUS) && frame != NULL && is_guard_hit(frame, (uintptr_t)info->si_addr)) {
        // Leaving the handler by a jump skips the sigreturn that would restore the
        // interrupted mask, so it is restored here. SA_NODEFER alone is not enough: an
        // interposed sigaction may block more (ThreadSanitizer's blocks every signal for
        // the handler's time), and the thread's next overflow would then kill the process.
        const ucontext_t *interrupted = ucontext;
        pthread_sigmask(SIG_SETMASK, &interrupted->uc_sigmask, NULL);
        oc_context_jump((void *)frame->resumer, OC_STACK_OVERFLOW);
    }
    if (!__atomic_exchange_n(&crash_reported, 1, __ATOMIC_ACQ_REL)) {
        int saved_errno = errno;
        if (frame != NULL && frame->owner != NULL) {
            describe_crashing_coroutine(signal, frame);
        }
        void (*report)(void) = __atomic_load_n(&report_others, __ATOMIC_ACQUIRE);
        if (report != NULL) {
            dump_others();
        }
        errno = saved_errno;
    }
    forward(signal, info, ucontext);
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handle_fatal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    for (size_t index = 0; index < sizeof fatal_signals / sizeof *fatal_signals; index++) {
        sigaction(fatal_signals[index], &action, &forwarded[fatal_signals[index]]);
    }
}

void oc_crash_install(void) {
    pthread_once(&install_once, install);
}

bool oc_crash_is_handler(void *handler) {
    return handler == (void *)handle_fatal;
}

void oc_crash_report_others(void (*report)(void)) {
    __atomic_store_n(&report_others, report, __ATOMIC_RELEASE);
}

// MARK: - The dump signal

static int dump_pipe[2] = {-1, -1};
static void (*dump_writer)(void);
static int dump_signal;
static struct sigaction dump_forwarded;

static void handle_dump_request(int signal) {
    (void)signal;
    int saved_errno = errno;
    char request = 'd';
    oc_syscall(SYS_write, dump_pipe[1], &request, 1);
    errno = saved_errno;
}

static void *serve_dumps(void *unused) {
    (void)unused;
    prctl(PR_SET_NAME, "oc-dump", 0, 0, 0);
    for (;;) {
        char request;
        ssize_t got = oc_syscall(SYS_read, dump_pipe[0], &request, 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return NULL;
        }
        void (*writer)(void) = __atomic_load_n(&dump_writer, __ATOMIC_ACQUIRE);
        if (writer != NULL) {
            writer();
        }
    }
}

static int start_dump_thread(void) {
    if (dump_pipe[0] >= 0) {
        return 0;
    }
    if (oc_syscall(SYS_pipe2, dump_pipe, O_CLOEXEC) != 0) {
        return errno;
    }
    pthread_t thread;
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    // The thread inherits a mask blocking every signal: requests go to other threads.
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int result = pthread_create(&thread, NULL, serve_dumps, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (result != 0) {
        return result;
    }
    pthread_detach(thread);
    return 0;
}

int oc_dump_signal_install(int signal, void (*dump)(void)) {
    __atomic_store_n(&dump_writer, dump, __ATOMIC_RELEASE);
    if (dump_signal != 0 && dump_signal != signal) {
        sigaction(dump_signal, &dump_forwarded, NULL);
        dump_signal = 0;
    }
    if (signal == 0 || signal == dump_signal) {
        return 0;
    }
    if (signal < 1 || signal >= NSIG) {
        return EINVAL;
    }
    int result = start_dump_thread();
    if (result != 0) {
        return result;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handle_dump_request;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signal, &action, &dump_forwarded) != 0) {
        return errno;
    }
    dump_signal = signal;
    return 0;
}
