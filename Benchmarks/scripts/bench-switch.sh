#!/usr/bin/env bash
# Measures our context switch, coroutine spawn and memory per coroutine, and boost.context's
# fcontext round trip as the anchor, in one run; prints name=value lines and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"
mkdir -p "$out"
step "building the boost.context anchor"
g++ -O2 -std=c++17 Benchmarks/Anchors/boost_fcontext.cpp -o "$out/boost_fcontext" -lboost_context
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product switch_benchmark --scratch-path "$out/swift" >/dev/null
ours=$(run_step "running ours" "$out/swift/release/switch_benchmark")
anchor=$(run_step "running the boost.context anchor" "$out/boost_fcontext")
emit "$ours" "$anchor"
ratio switch_ratio "$(value switch_round_trip_ns "$ours")" "$(value boost_fcontext_round_trip_ns "$anchor")"
summary
