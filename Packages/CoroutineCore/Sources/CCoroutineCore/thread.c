// The calling thread as the runtime knows it: its kernel id, its name, and the scheduler that
// runs on it.
#define _GNU_SOURCE
#include "oc_thread.h"
#include "oc_syscall.h"

#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>

__thread void *oc_current_scheduler __attribute__((tls_model("initial-exec")));

pid_t oc_thread_id(void) {
    return (pid_t)oc_syscall(SYS_gettid);
}

void oc_thread_set_name(const char *name) {
    char kept[16] = {0};
    strncpy(kept, name, sizeof kept - 1);
    pthread_setname_np(pthread_self(), kept);
}
