#!/usr/bin/env bash
# Measures task spawn+join, yield, skynet and channel ping-pong on our runtime and on Go, both
# with 2 threads (GOMAXPROCS=2; the switched yield and the 1-thread ping-pong on one thread on
# both sides), in one run; prints name=value lines and the ratios ours/Go.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product spawn_benchmark --scratch-path "$out/swift" >/dev/null
ours=$(run_step "running ours (2 threads)" "$out/swift/release/spawn_benchmark")
# go-anchors.sh announces its own build and run.
go=$(GOMAXPROCS=2 Benchmarks/scripts/go-anchors.sh)
emit "$ours" "$go"
ratio spawn_ratio "$(value spawn_join_ns "$ours")" "$(value go_spawn_join_ns "$go")"
ratio switched_yield_ratio "$(value switched_yield_ns "$ours")" "$(value go_switched_gosched_ns "$go")"
ratio yield_noswitch_ratio "$(value yield_noswitch_ns "$ours")" "$(value go_gosched_alone_ns "$go")"
ratio skynet_ratio "$(value skynet_ms "$ours")" "$(value go_skynet_ms "$go")"
ratio skynet_noinline_ratio "$(value skynet_noinline_ms "$ours")" "$(value go_skynet_ms "$go")"
ratio channel_pingpong_ratio "$(value channel_pingpong_ns "$ours")" "$(value go_channel_pingpong_ns "$go")"
ratio channel_pingpong_1t_ratio "$(value channel_pingpong_1t_ns "$ours")" "$(value go_channel_pingpong_1t_ns "$go")"
summary
