#!/usr/bin/env bash
# Tests the hook library as a plain C program meets it, outside SwiftPM: builds
# Packages/CoroutineHook/Tests/PreloadHarness/preload_harness.c with cc (libc only) and runs it
#   1. with LD_PRELOAD=<folder>/libopen_coroutine_hook.so: 100 tasks in plain usleep(200 ms)
#      must finish in under 1 s;
#   2. opening the library with dlopen(RTLD_LOCAL): open_coroutine_init must answer
#      OPEN_COROUTINE_HOOKS_INACTIVE naming the cause, and the tasks must still run;
#   3. crashes with the library preloaded: the harness's task writing through a null pointer,
#      and `python3 -c` reading address 0 through ctypes, each 20 times: every run must die of
#      SIGSEGV within 5 s, as it does without the library (a hook that took the crash handler
#      for a task would hang it).
#   4. the library's exports are libc's kind: no defined symbol but Swift's mangled ones has
#      PROTECTED visibility (readelf), every name of the export lists (oc_hook_exports.h,
#      oc_api_exports.h) is exported with DEFAULT visibility, and a host built without PIE that
#      takes libc functions' addresses (address_host.c) runs with the library preloaded without
#      glibc's "direct reference to protected function" warning.
#
# Usage: scripts/test-preload.sh [FOLDER]   (default <repo>/bin, filled by `make hook`)
# The harness is built into <repo>/.build-preload/. Each run is limited to 60 s.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="$(cd "${1:-$repo_root/bin}" 2>/dev/null && pwd)" || {
    echo "error: no folder ${1:-$repo_root/bin}; run \`make hook\` first" >&2
    exit 1
}
library="$folder/libopen_coroutine_hook.so"
if [[ ! -f "$library" ]]; then
    echo "error: no $library; run \`make hook\` first" >&2
    exit 1
fi
out_dir="$repo_root/.build-preload"
harness="$out_dir/preload_harness"

mkdir -p "$out_dir"
echo "Building $harness"
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I "$repo_root/Packages/CoroutineHook/include" \
    -o "$harness" "$repo_root/Packages/CoroutineHook/Tests/PreloadHarness/preload_harness.c" -ldl

status=0

# Runs one case under the time limit; a failure, crash or timeout fails the test.
run_case() {
    local code=0
    timeout 60 "$@" || code=$?
    if ((code == 124)); then
        echo "FAIL: still running after 60 s" >&2
    elif ((code != 0)); then
        echo "FAIL: exit status $code" >&2
    fi
    ((code == 0)) || status=1
}

echo
echo "=== LD_PRELOAD=$library ==="
run_case env LD_PRELOAD="$library" "$harness" preload

# jemalloc (loaded by libCoroutineCore.so) and the runtime keep their thread-locals in the
# static TLS block, which a dlopen can only use within glibc's small reserve (512 bytes by
# default); the tunable widens the reserve.
echo
echo "=== dlopen($library, RTLD_LOCAL) ==="
run_case env GLIBC_TUNABLES=glibc.rtld.optional_static_tls=8192 "$harness" dlopen "$library"

# Runs `$@` CRASH_RUNS times (default 20) under a 5 s limit; each must die of SIGSEGV.
crash_case() {
    local runs="${CRASH_RUNS:-20}" segv=0 code
    for ((run = 0; run < runs; run++)); do
        # In a subshell whose stderr is closed: bash would report each crash it waited for.
        code=$( (timeout -s KILL 5 "$@" >/dev/null 2>&1; echo $?) 2>/dev/null)
        if ((code == 128 + 11)); then
            segv=$((segv + 1))
        else
            echo "FAIL: run $run ended with status $code, not SIGSEGV (137: killed after 5 s)" >&2
        fi
    done
    echo "$segv of $runs runs died of SIGSEGV within 5 s"
    ((segv == runs)) || status=1
}

echo
echo "=== crashes with LD_PRELOAD=$library ==="
crash_case env LD_PRELOAD="$library" "$harness" crash
if command -v python3 >/dev/null; then
    crash_case env LD_PRELOAD="$library" python3 -c 'import ctypes; ctypes.string_at(0)'
else
    echo "python3 not found: its crash case is skipped"
fi

# The exported symbols: see oc_hook_exports.h for why they must not be protected.
echo
echo "=== exported symbols of $library ==="
hook_include="$repo_root/Packages/CoroutineHook/Sources/CCoroutineHook/include"
protected=$(readelf --dyn-syms -W "$library" | awk '$7 != "UND" && $6 == "PROTECTED" && $8 !~ /^\$s/ {print $8}')
if [[ -n "$protected" ]]; then
    echo "FAIL: exported with PROTECTED visibility:" $protected >&2
    status=1
fi
exported=$(readelf --dyn-syms -W "$library" | awk '$4 == "FUNC" && $5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" {print $8}')
listed=$(grep -hoE 'EXPORT\([^,]+, *[A-Za-z_0-9]+,' "$hook_include/oc_hook_exports.h" "$hook_include/oc_api_exports.h" \
    | sed -E 's/.*, *([A-Za-z_0-9]+),$/\1/')
missing=$(comm -23 <(sort -u <<<"$listed") <(sort -u <<<"$exported"))
if [[ -z "$listed" || -n "$missing" ]]; then
    echo "FAIL: not exported with DEFAULT visibility:" ${missing:-"(no names found in the export lists)"} >&2
    status=1
fi
echo "$(wc -l <<<"$listed") names in the export lists, $(wc -w <<<"$protected") protected symbols besides Swift's"
address_host="$out_dir/address_host"
cc -std=gnu11 -O0 -Wall -Wextra -Werror -fno-pic -no-pie -o "$address_host" \
    "$repo_root/Packages/CoroutineHook/Tests/PreloadHarness/address_host.c"
warnings=$(LD_PRELOAD="$library" timeout 60 "$address_host" 2>&1) || {
    echo "FAIL: the host built without PIE failed: $warnings" >&2
    status=1
}
if grep -q "protected" <<<"$warnings"; then
    echo "FAIL: the host built without PIE was warned: $warnings" >&2
    status=1
fi

echo
if ((status == 0)); then
    echo "test-preload: PASS"
else
    echo "test-preload: FAIL" >&2
fi
exit "$status"
