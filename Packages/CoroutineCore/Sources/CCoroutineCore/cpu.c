// The CPUs: how many this process may run on, and pinning a thread to one of them. Both read
// or write the kernel's affinity mask, so that a process confined by taskset, a cgroup's
// cpuset or a container counts only the CPUs it may use.
#define _GNU_SOURCE
#include "oc_cpu.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

int oc_thread_pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

int oc_available_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) {
            return count;
        }
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
