// Walking a stack's frame-pointer chain into return addresses, for the dump (and so the crash
// report), the watchdog's warning and the hook library's run-loop check: from a suspended
// frame's saved registers, from the caller's own frame pointer, or, for a thread stopped in a
// system call, from its stack pointer alone. No walk reads outside the stack's bounds, and the
// stack of a thread that may move on meanwhile is read through a copy the kernel makes.
#define _GNU_SOURCE
#include "oc_frame_walk.h"

#include <link.h>
#include <stdlib.h>
#include <sys/uio.h>

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

