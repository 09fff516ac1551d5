// Redirecting the calls one library makes into itself.
//
// The symbol search order gives this library the calls other objects make to libc's names,
// because libc comes after it. A library that calls its own exported functions through its
// procedure linkage table (CoreFoundation reading its thread-specific data through
// `_CFGetTSD`, inside libFoundation.so) finds its own definition first: that library comes
// before this one in the program's order, and no order puts this library in front short of
// LD_PRELOAD. So for those few names the library rewrites the callers' slots instead: each
// relocation of type JUMP_SLOT or GLOB_DAT naming the function, in the dynamic section of
// every loaded object, gets the replacement's address. A slot in the read-only part of the
// data (RELRO, after the loader bound it) is made writable for the store and read-only again.
//
// Runs from the library's constructor, before `main` starts threads; a slot is one aligned
// pointer, stored atomically, so a call racing the store goes to one function or the other.
#define _GNU_SOURCE
#include "oc_hook.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define OC_RELOCATION_JUMP_SLOT R_X86_64_JUMP_SLOT
#define OC_RELOCATION_GLOBAL_DATA R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define OC_RELOCATION_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define OC_RELOCATION_GLOBAL_DATA R_AARCH64_GLOB_DAT
#else
#error "redirect.c knows the relocation types of x86_64 and aarch64 only"
#endif

typedef struct redirection {
    const char *name;
    void *replacement;
    /// The load address of this library, whose own slots are left alone.
    uintptr_t own_base;
    int redirected;
} redirection;

/// The object's relocation tables, read from its dynamic section.
typedef struct dynamic_tables {
    const ElfW(Sym) *symbols;
    const char *strings;
    const ElfW(Rela) *relocations[2];
    size_t sizes[2];
} dynamic_tables;

/// A dynamic-section address: the loader relocates them in place on x86_64 and aarch64, except
/// in the vDSO, whose entries stay relative to its base.
static uintptr_t dynamic_address(const struct dl_phdr_info *info, ElfW(Addr) value) {
    return value < info->dlpi_addr ? info->dlpi_addr + value : value;
}

static bool read_tables(const struct dl_phdr_info *info, const ElfW(Dyn) *dynamic, dynamic_tables *tables) {
    memset(tables, 0, sizeof *tables);
    bool rela_plt = true;
    for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        switch (entry->d_tag) {
        case DT_SYMTAB: tables->symbols = (const ElfW(Sym) *)dynamic_address(info, entry->d_un.d_ptr); break;
        case DT_STRTAB: tables->strings = (const char *)dynamic_address(info, entry->d_un.d_ptr); break;
        case DT_JMPREL: tables->relocations[0] = (const ElfW(Rela) *)dynamic_address(info, entry->d_un.d_ptr); break;
        case DT_PLTRELSZ: tables->sizes[0] = entry->d_un.d_val; break;
        case DT_PLTREL: rela_plt = entry->d_un.d_val == DT_RELA; break;
        case DT_RELA: tables->relocations[1] = (const ElfW(Rela) *)dynamic_address(info, entry->d_un.d_ptr); break;
        case DT_RELASZ: tables->sizes[1] = entry->d_un.d_val; break;
        default: break;
        }
    }
    // Both architectures use RELA; an object that says otherwise is not one this reads.
    return rela_plt && tables->symbols != NULL && tables->strings != NULL;
}

/// Whether [address, address + size) lies in the object's RELRO segment.
static bool in_relro(const struct dl_phdr_info *info, uintptr_t address, size_t size) {
    for (int index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        uintptr_t start = info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_GNU_RELRO && address >= start && address + size <= start + header->p_memsz) {
            return true;
        }
    }
    return false;
}

/// Points the slot at `replacement`, making its page writable for the store if it is RELRO.
static bool store(const struct dl_phdr_info *info, void **slot, void *replacement) {
    if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) == replacement) {
        return true;
    }
    bool relro = in_relro(info, (uintptr_t)slot, sizeof *slot);
    uintptr_t page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    void *page = (void *)((uintptr_t)slot & ~(page_size - 1));
    if (relro && mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) {
        return false;
    }
    __atomic_store_n(slot, replacement, __ATOMIC_RELEASE);
    if (relro) {
        mprotect(page, page_size, PROT_READ);
    }
    return true;
}

static int redirect_object(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    redirection *request = context;
    if (info->dlpi_addr == request->own_base) {
        return 0;
    }
    for (int index = 0; index < info->dlpi_phnum; index++) {
        if (info->dlpi_phdr[index].p_type != PT_DYNAMIC) {
            continue;
        }
        dynamic_tables tables;
        if (!read_tables(info, (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[index].p_vaddr), &tables)) {
            continue;
        }
        for (int table = 0; table < 2; table++) {
            size_t count = tables.relocations[table] == NULL ? 0 : tables.sizes[table] / sizeof(ElfW(Rela));
            for (size_t entry = 0; entry < count; entry++) {
                const ElfW(Rela) *relocation = &tables.relocations[table][entry];
                unsigned long type = ELF64_R_TYPE(relocation->r_info);
                if (type != OC_RELOCATION_JUMP_SLOT && type != OC_RELOCATION_GLOBAL_DATA) {
                    continue;
                }
                const ElfW(Sym) *symbol = &tables.symbols[ELF64_R_SYM(relocation->r_info)];
                if (strcmp(tables.strings + symbol->st_name, request->name) != 0) {
                    continue;
                }
                void **slot = (void **)(info->dlpi_addr + relocation->r_offset);
                if (store(info, slot, request->replacement)) {
                    request->redirected += 1;
                }
            }
        }
    }
    return 0;
}

int oc_hook_redirect(const char *name, void *replacement) {
    Dl_info ours;
    if (dladdr((void *)&oc_hook_redirect, &ours) == 0) {
        return 0;
    }
    redirection request = {
        .name = name, .replacement = replacement, .own_base = (uintptr_t)ours.dli_fbase, .redirected = 0};
    dl_iterate_phdr(redirect_object, &request);
    return request.redirected;
}
