// Reading a frame from another thread: the watchdog names the task a blocked thread runs, and
// that task's coroutine may end meanwhile (its stack unmapped, its name freed). Every byte is
// copied through the kernel (process_vm_readv), which answers EFAULT where a plain load would
// crash.
#define _GNU_SOURCE
#include "oc_frame_identity.h"

#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

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

