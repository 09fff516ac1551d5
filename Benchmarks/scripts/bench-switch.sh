#!/usr/bin/env bash
# Measures our context switch, coroutine spawn and memory per coroutine, and boost.context's
# fcontext round trip as the anchor, in one run; prints name=value lines and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$root/.build-bench"
mkdir -p "$out"
g++ -O2 -std=c++17 Benchmarks/Anchors/boost_fcontext.cpp -o "$out/boost_fcontext" -lboost_context
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
swift build -c release --product switch_benchmark --scratch-path "$out/swift" >/dev/null
ours=$("$out/swift/release/switch_benchmark")
anchor=$("$out/boost_fcontext")
echo "$ours"
echo "$anchor"
round_trip=$(sed -n 's/^switch_round_trip_ns=//p' <<<"$ours")
boost=$(sed -n 's/^boost_fcontext_round_trip_ns=//p' <<<"$anchor")
awk -v ours="$round_trip" -v boost="$boost" 'BEGIN { printf "switch_ratio=%.2f\n", ours / boost }'
