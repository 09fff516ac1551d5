#!/usr/bin/env bash
# Measures preemption on our runtime and on Go in one run: the latency from a spinning
# coroutine (goroutine) taking the only thread to the displaced one running again, and the
# cost of preemption to CPU-bound work (ours on against off). Prints name=value lines and
# preempt_ratio = ours / Go's p99.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"
"$root/scripts/install-deps.sh" golang-go >&2
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product preempt_benchmark --scratch-path "$out/swift" >/dev/null
go_out="$root/.build-go"
mkdir -p "$go_out/cache" "$go_out/gopath"
step "building the Go anchor"
(cd Benchmarks/Anchors/go &&
    GOCACHE="$go_out/cache" GOPATH="$go_out/gopath" GOPROXY=off GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local \
        go build -o "$go_out/preempt_go" ./preempt)
ours=$(run_step "running ours: latency on 1 thread, then CPU-bound work with preemption on and off" \
    "$out/swift/release/preempt_benchmark")
go=$(GOMAXPROCS=1 run_step "running the Go anchor (GOMAXPROCS=1)" "$go_out/preempt_go")
emit "$ours" "$go"
ratio preempt_ratio "$(value preempt_latency_p99_ms "$ours")" "$(value go_preempt_latency_p99_ms "$go")"
summary
