#!/usr/bin/env bash
# Measures task spawn+join, yield and skynet on our runtime and on Go, both with 2 threads
# (GOMAXPROCS=2), in one run; prints name=value lines and the ratios ours/Go.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$root/.build-bench"
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
swift build -c release --product spawn_benchmark --scratch-path "$out/swift" >/dev/null
ours=$("$out/swift/release/spawn_benchmark")
go=$(GOMAXPROCS=2 Benchmarks/scripts/go-anchors.sh)
echo "$ours"
echo "$go"
value() { sed -n "s/^$1=//p" <<<"$2"; }
ratio() { awk -v ours="$2" -v go="$3" -v name="$1" 'BEGIN { printf "%s=%.2f\n", name, ours / go }'; }
ratio spawn_ratio "$(value spawn_join_ns "$ours")" "$(value go_spawn_join_ns "$go")"
ratio yield_ratio "$(value yield_ns "$ours")" "$(value go_gosched_ns "$go")"
ratio skynet_ratio "$(value skynet_ms "$ours")" "$(value go_skynet_ms "$go")"
