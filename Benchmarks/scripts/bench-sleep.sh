#!/usr/bin/env bash
# Measures 100,000 coroutines sleeping 1 s at once (wall time and peak RSS) and a read on an
# already-readable socket through the Syscall layer beside libc's own, on a runtime of 2
# threads; prints name=value lines.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench/sleep"
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/release" "$out/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product sleep_benchmark --scratch-path "$out" >/dev/null
ours=$(run_step "running ours: ready reads, then 100,000 sleepers twice" "$out/release/sleep_benchmark")
emit "$ours"
summary
