// A host the hook library is preloaded into that is built without PIE (scripts/test-preload.sh
// builds it with -fno-pic -no-pie) and takes the address of libc functions the library exports.
// Such a program's references to a function are its PLT entry, whose address stands for the
// function everywhere; when the loader binds them (at the first call through the pointer) to a
// protected definition, glibc prints "direct reference to protected function ... may break
// pointer equality". Against a default one, as libc's are, it prints nothing. The calls do
// nothing: a bad descriptor, no descriptors, no time.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

static int (*const sync_function)(int) = fsync;
static ssize_t (*const read_function)(int, void *, size_t) = read;
static unsigned int (*const sleep_function)(unsigned int) = sleep;
static int (*const poll_function)(struct pollfd *, nfds_t, int) = poll;

int main(void) {
    char byte;
    int fsync_failed = sync_function(-1) == -1 && errno == EBADF;
    int read_failed = read_function(-1, &byte, 1) == -1 && errno == EBADF;
    int slept = sleep_function(0) == 0;
    int polled = poll_function(NULL, 0, 0) == 0;
    if (!fsync_failed || !read_failed || !slept || !polled) {
        fprintf(stderr, "address_host: a call through a function's address did not behave as libc's\n");
        return 1;
    }
    return 0;
}
