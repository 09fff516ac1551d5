// The exported functions of the hook library (oc_hook_exports.h says why they are C): each
// calls its Swift implementation, a tail call in an optimized build. libc's headers are
// included so that the compiler checks each exported function against libc's declaration of
// it; no feature macro is defined, so the GNU-only declarations (ppoll, accept4, statx, the
// 64-bit-offset names, ...) are not in view and those stay checked against Swift only.
#undef _FORTIFY_SOURCE
#include "oc_api_exports.h"
#include "oc_hook_exports.h"

#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <unistd.h>

#include "open_coroutine.h"

#define OC_HOOK_DEFINE_EXPORT(type, name, swift, parameters, arguments) \
    __attribute__((visibility("default"))) type name parameters {       \
        return oc_hook_##name arguments;                                 \
    }
OC_HOOK_EXPORTS(OC_HOOK_DEFINE_EXPORT)
OC_API_EXPORTS(OC_HOOK_DEFINE_EXPORT)
