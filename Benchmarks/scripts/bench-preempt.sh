#!/usr/bin/env bash
# Measures preemption on our runtime and on Go in one run: the latency from a spinning
# coroutine (goroutine) taking the only thread to the displaced one running again, and the
# cost of preemption to CPU-bound work (ours on against off). Prints name=value lines and
# preempt_ratio = ours / Go's p99.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$root/.build-bench"
"$root/scripts/install-deps.sh" golang-go >&2
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
swift build -c release --product preempt_benchmark --scratch-path "$out/swift" >/dev/null
go_out="$root/.build-go"
mkdir -p "$go_out/cache" "$go_out/gopath"
(cd Benchmarks/Anchors/go &&
    GOCACHE="$go_out/cache" GOPATH="$go_out/gopath" GOPROXY=off GOFLAGS= GO111MODULE=on GOTOOLCHAIN=local \
        go build -o "$go_out/preempt_go" ./preempt)
ours=$("$out/swift/release/preempt_benchmark")
go=$(GOMAXPROCS=1 "$go_out/preempt_go")
echo "$ours"
echo "$go"
value() { sed -n "s/^$1=//p" <<<"$2"; }
awk -v ours="$(value preempt_latency_p99_ms "$ours")" -v go="$(value go_preempt_latency_p99_ms "$go")" \
    'BEGIN { printf "preempt_ratio=%.2f\n", ours / go }'
