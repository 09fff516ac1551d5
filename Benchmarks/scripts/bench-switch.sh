#!/usr/bin/env bash
# Measures our context switch, coroutine spawn and memory per coroutine, and boost.context's
# fcontext round trip as the anchor, in one run; prints name=value lines and two ratios: the
# bare switch (our assembly alone beside boost's, in the same C++ loop) and the Swift-level
# round trip with all of the runtime's bookkeeping beside boost's bare switch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"
mkdir -p "$out"
step "building the bare-switch anchor (ours and boost.context, one C++ loop)"
g++ -O2 -std=c++17 -I Packages/CoroutineCore/Sources/CCoroutineCore/include Benchmarks/Anchors/bare_switch.cpp \
    "Packages/CoroutineCore/Sources/CCoroutineCore/context_$(uname -m).S" -o "$out/bare_switch" -lboost_context
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product switch_benchmark --scratch-path "$out/swift" >/dev/null
ours=$(run_step "running ours" "$out/swift/release/switch_benchmark")
anchor=$(run_step "running the bare switches" "$out/bare_switch")
emit "$ours" "$anchor"
ratio bare_switch_ratio "$(value oc_context_jump_round_trip_ns "$anchor")" "$(value boost_fcontext_round_trip_ns "$anchor")"
ratio switch_ratio "$(value switch_round_trip_ns "$ours")" "$(value boost_fcontext_round_trip_ns "$anchor")"
summary
