#ifndef OC_MEMORY_H
#define OC_MEMORY_H

#include <stddef.h>

/// The madvise advice that installs guard regions inside a mapping (Linux 6.13+).
/// Older C headers do not name it; the value is part of the kernel ABI.
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static const int oc_madv_guard_install = MADV_GUARD_INSTALL;

#endif
