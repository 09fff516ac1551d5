// The CPUs the process runs on (cpu.c), and the hint a spinning thread gives its CPU.
#ifndef OC_CPU_H
#define OC_CPU_H

/// The number of CPUs this process may run on.
int oc_available_cpus(void);

/// Pins the calling thread to one CPU; returns 0 or an errno value.
int oc_thread_pin(int cpu);

/// Tells the CPU the caller is spinning (x86 pause, arm yield), a few dozen cycles.
static inline __attribute__((always_inline)) void oc_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
