#define _GNU_SOURCE
#include "oc_frame.h"
#include "oc_crash.h"
#include "oc_thread.h"
#include "sanitizer_switch.h"

#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

__thread oc_frame *oc_current_frame __attribute__((tls_model("initial-exec")));

/// The frame of the thread itself, outside any coroutine.
static __thread oc_frame thread_frame;

/// Big enough for the crash handler and the handlers it forwards to (the Swift runtime's
/// backtracer among them; crash.c).
#define OC_ALTERNATE_STACK_SIZE (256 * 1024)

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static pthread_key_t alternate_stack_key;

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

static void release_alternate_stack(void *mapping) {
    stack_t disable;
    memset(&disable, 0, sizeof disable);
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, NULL);
    munmap(mapping, OC_ALTERNATE_STACK_SIZE);
}

static void prepare_process(void) {
    pthread_key_create(&alternate_stack_key, release_alternate_stack);
    oc_crash_install();
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

// MARK: - The list of coroutine frames

// Every coroutine's frame, from its first run until its stack goes back to the pool, so that
// a dump, a crash report or a debugger can find every coroutine, suspended or not. A spin
// lock guards it: its sections are a few stores (the walks of a dump excepted), and the
// runtime must not go through the hooked pthread calls.

/// The first frame of the list; debuggers start here (Tools/gdb/open_coroutine.py).
oc_frame *oc_frames_first;
static bool frames_locked;

static void lock_frames(void) {
    while (__atomic_test_and_set(&frames_locked, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
}

static void unlock_frames(void) {
    __atomic_clear(&frames_locked, __ATOMIC_RELEASE);
}

void oc_frames_register(oc_frame *frame) {
    lock_frames();
    frame->registry_previous = NULL;
    frame->registry_next = oc_frames_first;
    if (oc_frames_first != NULL) {
        oc_frames_first->registry_previous = frame;
    }
    oc_frames_first = frame;
    unlock_frames();
}

void oc_frames_unregister(oc_frame *frame) {
    lock_frames();
    if (frame->registry_previous != NULL) {
        frame->registry_previous->registry_next = frame->registry_next;
    } else if (oc_frames_first == frame) {
        oc_frames_first = frame->registry_next;
    }
    if (frame->registry_next != NULL) {
        frame->registry_next->registry_previous = frame->registry_previous;
    }
    frame->registry_previous = NULL;
    frame->registry_next = NULL;
    unlock_frames();
}

void oc_frames_each(void (*visit)(const oc_frame *frame, void *context), void *context) {
    lock_frames();
    for (oc_frame *frame = oc_frames_first; frame != NULL; frame = frame->registry_next) {
        visit(frame, context);
    }
    unlock_frames();
}

void oc_frame_saved_registers(const oc_frame *frame, uintptr_t *pc, uintptr_t *fp) {
    const uintptr_t *record = __atomic_load_n(&frame->context, __ATOMIC_RELAXED);
    *pc = 0;
    *fp = 0;
    if (record == NULL || (uintptr_t)record < frame->stack_low || (uintptr_t)record >= frame->stack_high) {
        return;
    }
    // The record oc_context_jump leaves on the stack (context_x86_64.S, context_aarch64.S).
#if defined(__x86_64__)
    *fp = record[6];
    *pc = record[7];
#elif defined(__aarch64__)
    *fp = record[18];
    *pc = record[19];
#endif
}

/// Whether a frame record (two words) at `address` lies within [low, high). Written without
/// `address + 16`, which a garbage address near the top of the address space would wrap.
static inline bool holds_record(uintptr_t low, uintptr_t high, uintptr_t address) {
    return address % sizeof(uintptr_t) == 0 && address >= low && high - low >= 2 * sizeof(uintptr_t)
        && address <= high - 2 * sizeof(uintptr_t);
}

/// Walks the frame-pointer chain from `fp` within [low, high) of a stack whose words are read
/// from `words`, which holds [low, high) (the live stack itself, or a copy of it).
static int oc_frame_walk_copy(const uintptr_t *words, uintptr_t low, uintptr_t high, uintptr_t fp,
                              uintptr_t *addresses, int capacity) {
    int count = 0;
    // Each frame record is {previous fp, return address}; the chain climbs the stack.
    while (count < capacity && holds_record(low, high, fp)) {
        const uintptr_t *record = words + (fp - low) / sizeof(uintptr_t);
        uintptr_t next = record[0];
        uintptr_t address = record[1];
        if (address == 0) {
            break;
        }
        addresses[count++] = address;
        if (next <= fp) {
            break;
        }
        fp = next;
    }
    return count;
}

int oc_frame_walk(uintptr_t fp, uintptr_t low, uintptr_t high, uintptr_t *addresses, int capacity) {
    return oc_frame_walk_copy((const uintptr_t *)low, low, high, fp, addresses, capacity);
}

/// Copies `size` bytes at `address` of this process into `into`; false where they are not mapped.
static bool copy_safely(void *into, const void *address, size_t size) {
    struct iovec local = {.iov_base = into, .iov_len = size};
    struct iovec remote = {.iov_base = (void *)address, .iov_len = size};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size;
}

bool oc_frame_read_identity(const oc_frame *frame, oc_frame_identity *identity) {
    memset(identity, 0, sizeof *identity);
    oc_frame copy;
    if (!copy_safely(&copy, frame, sizeof copy)) {
        return false;
    }
    identity->task_id = copy.task_id;
    identity->stack_low = copy.stack_low;
    identity->stack_high = copy.stack_high;
    if (copy.task_name != NULL) {
        // Byte by byte up to the end of the name: a bulk copy could cross into an unmapped page.
        for (size_t index = 0; index + 1 < sizeof identity->task_name; index++) {
            char byte;
            if (!copy_safely(&byte, copy.task_name + index, 1) || byte == 0) {
                break;
            }
            identity->task_name[index] = byte;
        }
    }
    return true;
}

/// The executable segments of the loaded images: where a return address may point.
typedef struct {
    uintptr_t low[256];
    uintptr_t high[256];
    int count;
} code_ranges;

static int add_code_ranges(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    code_ranges *ranges = context;
    for (int index = 0; index < info->dlpi_phnum && ranges->count < 256; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        if (header->p_type == PT_LOAD && (header->p_flags & PF_X) != 0) {
            ranges->low[ranges->count] = info->dlpi_addr + header->p_vaddr;
            ranges->high[ranges->count] = info->dlpi_addr + header->p_vaddr + header->p_memsz;
            ranges->count++;
        }
    }
    return 0;
}

/// Whether `address` lies in an executable segment: a candidate return address. (dladdr
/// would miss the functions of an executable that exports none.)
static bool is_code_address(const code_ranges *ranges, uintptr_t address) {
    for (int index = 0; index < ranges->count; index++) {
        if (address >= ranges->low[index] && address < ranges->high[index]) {
            return true;
        }
    }
    return false;
}

/// Whether the copied stack holds a frame record at `record` (an address of the live stack)
/// whose chain holds together for two links: {a higher record, a code address}. Locals that
/// merely point into the stack fail it.
static bool is_frame_record(const code_ranges *ranges, const uintptr_t *copy, uintptr_t base, uintptr_t end,
                            uintptr_t record) {
    for (int link = 0; link < 2; link++) {
        if (!holds_record(base, end, record)) {
            return false;
        }
        const uintptr_t *words = copy + (record - base) / sizeof(uintptr_t);
        if (words[0] <= record || !is_code_address(ranges, words[1])) {
            return false;
        }
        record = words[0];
    }
    return true;
}

int oc_frame_walk_from_stack_pointer(pid_t pid, uintptr_t pc, uintptr_t sp, uintptr_t high, uintptr_t *addresses,
                                     int capacity) {
    enum { window = 256 * 1024 };
    if (capacity <= 1 || sp == 0 || sp >= high || sp % sizeof(uintptr_t) != 0) {
        return 0;
    }
    addresses[0] = pc;
    uintptr_t end = high - sp > window ? sp + window : high;
    uintptr_t *copy = malloc(end - sp);
    if (copy == NULL) {
        return 0;
    }
    // The stack belongs to a thread that may return from its call (or a coroutine that may
    // end, its stack unmapped) while this reads: copy it through the kernel, which answers
    // EFAULT where a plain load would crash.
    struct iovec local = {.iov_base = copy, .iov_len = end - sp};
    struct iovec remote = {.iov_base = (void *)sp, .iov_len = end - sp};
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)(end - sp)) {
        free(copy);
        return 1;
    }
    code_ranges *ranges = calloc(1, sizeof *ranges);
    if (ranges == NULL) {
        free(copy);
        return 1;
    }
    dl_iterate_phdr(add_code_ranges, ranges);
    // The innermost record that holds together. The libc wrapper that made the system call
    // keeps no frame pointer; the record is that of the innermost function that does, and the
    // return address into that function is not told apart from the stale words around it.
    uintptr_t record = sp;
    while (record + 2 * sizeof(uintptr_t) <= end && !is_frame_record(ranges, copy, sp, end, record)) {
        record += sizeof(uintptr_t);
    }
    int count = 1;
    if (record + 2 * sizeof(uintptr_t) <= end) {
        count += oc_frame_walk_copy(copy, sp, end, record, addresses + 1, capacity - 1);
    }
    free(ranges);
    free(copy);
    return count;
}

__attribute__((noinline)) void *oc_frame_pointer(void) {
    // This function's own frame record (which asking for its address forces it to have)
    // starts with the caller's frame pointer.
    void *const *own = __builtin_frame_address(0);
    return own[0];
}

void oc_frame_note_wait(oc_frame *frame, uint8_t kind, int32_t fd, uint8_t events, uint64_t target,
                        uint64_t deadline_ns, const char *call) {
    oc_wait *wait = &frame->wait;
    wait->since_ns = oc_monotonic_ns();
    wait->deadline_ns = deadline_ns;
    wait->target = target;
    wait->fd = fd;
    wait->events = events;
    size_t length = 0;
    if (call != NULL) {
        while (call[length] != '\0' && length < sizeof wait->call - 1) {
            wait->call[length] = call[length];
            length++;
        }
    }
    wait->call[length] = '\0';
    __atomic_store_n(&wait->kind, kind, __ATOMIC_RELEASE);
}
