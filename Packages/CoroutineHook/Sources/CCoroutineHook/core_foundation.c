// CoreFoundation's functions for TaskRunLoops.swift, found while the library loads: a task's
// first read of its run loop must not run a Swift lazy initializer, whose once-lock another
// task of the same thread could meet while the first is suspended inside it.
#define _GNU_SOURCE
#include "oc_hook.h"

#include <dlfcn.h>
#include <pthread.h>

static oc_core_foundation functions;
static bool found;
static int slot_state;
/// The coroutine checking the slot (its frame), whose own reads meanwhile get the thread's.
static oc_frame *checker;

/// `name`'s definition in the process (RTLD_DEFAULT): CoreFoundation's, since this library
/// does not define the names.
static void *find(const char *name, bool *missing) {
    void *function = dlsym(RTLD_DEFAULT, name);
    *missing = *missing || function == NULL;
    return function;
}

/// `_CFGetTSD` for CoreFoundation's callers.
static void *get_tsd(uint32_t slot) {
    if (slot == OC_CF_RUN_LOOP_SLOT) {
        void *loop = oc_hook_task_run_loop(true);
        if (loop != NULL) {
            return loop;
        }
    }
    return functions.get_tsd(slot);
}

/// `_CFGetTSDCreateIfNeeded` for CoreFoundation's callers. It asks for the run-loop slot only
/// to learn whether a run loop is current (`_CFRunLoopIsCurrent`): a task that has none yet
/// gets CoreFoundation's answer for the thread, which costs at most a spare wakeup.
static void *get_tsd_create_if_needed(uint32_t slot, unsigned char create) {
    if (slot == OC_CF_RUN_LOOP_SLOT) {
        void *loop = oc_hook_task_run_loop(false);
        if (loop != NULL) {
            return loop;
        }
    }
    return functions.get_tsd_create_if_needed(slot, create);
}

void oc_hook_prepare_core_foundation(void) {
    bool missing = false;
    void *own_get_tsd = find("_CFGetTSD", &missing);
    void *own_get_tsd_create_if_needed = find("_CFGetTSDCreateIfNeeded", &missing);
    if (missing) {
        return;  // No CoreFoundation in the global scope: nothing to redirect.
    }
    functions.get_tsd = (void *(*)(uint32_t))own_get_tsd;
    functions.get_tsd_create_if_needed = (void *(*)(uint32_t, unsigned char))own_get_tsd_create_if_needed;
    functions.run_loop_for_thread = (void *(*)(uintptr_t))find("_CFRunLoopGet0", &missing);
    functions.copy_all_modes = (void *(*)(void *))find("CFRunLoopCopyAllModes", &missing);
    functions.mode_is_finished = (unsigned char (*)(void *, const void *))find("_CFRunLoopFinished", &missing);
    functions.array_count = (long (*)(const void *))find("CFArrayGetCount", &missing);
    functions.array_element = (const void *(*)(const void *, long))find("CFArrayGetValueAtIndex", &missing);
    functions.release = (void (*)(const void *))find("CFRelease", &missing);
    found = !missing;
    if (!found) {
        __atomic_store_n(&slot_state, OC_RUN_LOOP_SLOT_MISSING, __ATOMIC_RELEASE);
    }
    // Last: a redirected call finds the readers set (the store of each slot is a release).
    oc_hook_redirect("_CFGetTSD", (void *)&get_tsd);
    oc_hook_redirect("_CFGetTSDCreateIfNeeded", (void *)&get_tsd_create_if_needed);
}

const oc_core_foundation *oc_hook_core_foundation(void) {
    return found ? &functions : NULL;
}

oc_run_loop_slot oc_hook_run_loop_slot(void) {
    int state = __atomic_load_n(&slot_state, __ATOMIC_ACQUIRE);
    if (state == OC_RUN_LOOP_SLOT_CHECKING && __atomic_load_n(&checker, __ATOMIC_ACQUIRE) == oc_frame_peek()) {
        return OC_RUN_LOOP_SLOT_MISSING;  // CoreFoundation reads it while the check runs.
    }
    if (state != OC_RUN_LOOP_SLOT_UNCHECKED) {
        return (oc_run_loop_slot)state;
    }
    if (!found) {
        return OC_RUN_LOOP_SLOT_MISSING;
    }
    int expected = OC_RUN_LOOP_SLOT_UNCHECKED;
    if (!__atomic_compare_exchange_n(&slot_state, &expected, OC_RUN_LOOP_SLOT_CHECKING, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        return (oc_run_loop_slot)expected;
    }
    __atomic_store_n(&checker, oc_frame_peek(), __ATOMIC_RELEASE);
    void *thread_loop = functions.run_loop_for_thread((uintptr_t)pthread_self());
    bool kept = thread_loop != NULL && functions.get_tsd(OC_CF_RUN_LOOP_SLOT) == thread_loop;
    state = kept ? OC_RUN_LOOP_SLOT_FOUND : OC_RUN_LOOP_SLOT_MISSING;
    __atomic_store_n(&slot_state, state, __ATOMIC_RELEASE);
    return (oc_run_loop_slot)state;
}
