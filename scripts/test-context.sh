#!/usr/bin/env bash
# Builds and runs the standalone context-switch harness
# (Packages/CoroutineCore/Tests/ContextHarness/context_harness.c) against the
# CCoroutineCore assembly, and the preemption harness (preempt_harness.c) against
# preempt.c, frame.c (with the files they call into) and the assembly built as a shared
# library, natively on x86_64 and for aarch64 under qemu-aarch64.
#
# Usage: scripts/test-context.sh   (from any directory)
# Build outputs go to <repo>/.build-context/.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
core_dir="$repo_root/Packages/CoroutineCore/Sources/CCoroutineCore"
harness="$repo_root/Packages/CoroutineCore/Tests/ContextHarness/context_harness.c"
preempt_harness="$repo_root/Packages/CoroutineCore/Tests/ContextHarness/preempt_harness.c"
out_dir="$repo_root/.build-context"

assembly=("$core_dir/context_x86_64.S" "$core_dir/context_aarch64.S")
sources=("$harness" "${assembly[@]}")
runtime_sources=("$core_dir/preempt.c" "$core_dir/frame.c" "$core_dir/alternate_stack.c" "$core_dir/crash.c"
    "$core_dir/signals.c" "$core_dir/thread.c" "$core_dir/clock.c" "$core_dir/syscall.c" "${assembly[@]}")
common_flags=(-std=gnu11 -Wall -Wextra -I "$core_dir/include")

# --- tools -------------------------------------------------------------------

have_aarch64_libc() {
    # Prints an absolute path only when the cross libc is installed.
    local libc
    libc="$(aarch64-linux-gnu-gcc -print-file-name=libc.a 2>/dev/null || true)"
    [[ "$libc" == /* && -f "$libc" ]]
}

missing=()
if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
    missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
elif ! have_aarch64_libc; then
    missing+=(libc6-dev-arm64-cross)
fi
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
    missing+=(qemu-user)
fi

if ((${#missing[@]} > 0)); then
    sudo_cmd=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo_cmd=(sudo)
        else
            echo "error: need ${missing[*]} but not root and sudo is unavailable" >&2
            exit 1
        fi
    fi
    echo "Installing missing packages: ${missing[*]}"
    ${sudo_cmd[@]+"${sudo_cmd[@]}"} apt-get update -qq
    ${sudo_cmd[@]+"${sudo_cmd[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! command -v gcc >/dev/null 2>&1; then
    echo "error: host gcc not found" >&2
    exit 1
fi
if [[ "$(uname -m)" != "x86_64" ]]; then
    echo "error: the native run expects an x86_64 host, this is $(uname -m)" >&2
    exit 1
fi

# --- build -------------------------------------------------------------------

mkdir -p "$out_dir"
x86_bin="$out_dir/context_harness_x86_64"
arm_bin="$out_dir/context_harness_aarch64"

echo "Building $x86_bin"
gcc -O2 -g "${common_flags[@]}" -o "$x86_bin" "${sources[@]}"
echo "Building $arm_bin"
aarch64-linux-gnu-gcc -O2 -static "${common_flags[@]}" -o "$arm_bin" "${sources[@]}"

# The preemption harness: the runtime's C half as a shared library beside the harness.
build_preempt_harness() {
    local compiler="$1" folder="$2"
    mkdir -p "$folder"
    "$compiler" -O2 -fPIC -shared "${common_flags[@]}" -o "$folder/libocpreempt.so" "${runtime_sources[@]}" -lpthread
    "$compiler" -O2 -rdynamic "${common_flags[@]}" -o "$folder/preempt_harness" "$preempt_harness" \
        -L"$folder" -locpreempt -Wl,-rpath,'$ORIGIN' -lm -lpthread
}
echo "Building the preemption harness for x86_64 and aarch64"
build_preempt_harness gcc "$out_dir/preempt_x86_64"
build_preempt_harness aarch64-linux-gnu-gcc "$out_dir/preempt_aarch64"

# --- run ---------------------------------------------------------------------

status=0

echo
echo "=== x86_64 (native, gcc -O2 -g) ==="
if "$x86_bin"; then
    x86_result=PASS
else
    x86_result="FAIL (exit $?)"
    status=1
fi

echo
echo "=== aarch64 (aarch64-linux-gnu-gcc -O2 -static, qemu-aarch64) ==="
if qemu-aarch64 "$arm_bin"; then
    arm_result=PASS
else
    arm_result="FAIL (exit $?)"
    status=1
fi

echo
echo "=== preemption, x86_64 (native) ==="
if "$out_dir/preempt_x86_64/preempt_harness"; then
    x86_preempt=PASS
else
    x86_preempt="FAIL (exit $?)"
    status=1
fi

echo
echo "=== preemption, aarch64 (qemu-aarch64, the cross libc as its root) ==="
if qemu-aarch64 -L /usr/aarch64-linux-gnu "$out_dir/preempt_aarch64/preempt_harness"; then
    arm_preempt=PASS
else
    arm_preempt="FAIL (exit $?)"
    status=1
fi

echo
echo "x86_64:  $x86_result, preemption $x86_preempt"
echo "aarch64: $arm_result, preemption $arm_preempt"
exit "$status"
