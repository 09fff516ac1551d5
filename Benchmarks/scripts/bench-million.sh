#!/usr/bin/env bash
# A million tasks alive at once, each blocked in a 1-byte socket read, then all released: ours
# (Benchmarks/Million) and Go's (Benchmarks/Anchors/go/million), both on 2 threads, one after
# the other in one run. Prints name=value lines: each side's spawn seconds, resident bytes per
# blocked task and release seconds, and the ratios ours/Go. The programs share 1,000 socket
# pairs among the million (a pair each would take twice the kernel's descriptor limit per
# process); see Benchmarks/Million/main.swift.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"

scripts/install-deps.sh golang-go >&2
# Both sides hold 2,000 socket descriptors and their runtime's own.
if [ "$(ulimit -n)" -lt 4096 ] && ! ulimit -n 4096 2>/dev/null; then
    echo "bench-million: needs 4,096 open descriptors (ulimit -n), the hard limit is $(ulimit -Hn)" >&2
    exit 1
fi
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product million_benchmark --scratch-path "$out/swift" >/dev/null
go_out="$root/.build-go"
mkdir -p "$go_out/cache" "$go_out/gopath"
step "building the Go anchor"
(cd Benchmarks/Anchors/go &&
    GOCACHE="$go_out/cache" GOPATH="$go_out/gopath" GOPROXY=off GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local \
        go build -o "$go_out/million_go" ./million)
ours=$(run_step "running ours: 1,000,000 tasks in reads, then released" "$out/swift/release/million_benchmark")
go=$(GOMAXPROCS=2 run_step "running Go: 1,000,000 goroutines in reads, then released" "$go_out/million_go")
emit "$ours" "$go"
ratio million_rss_ratio "$(value million_rss_per_coroutine_bytes "$ours")" "$(value go_million_rss_per_coroutine_bytes "$go")"
ratio million_spawn_ratio "$(value million_spawn_s "$ours")" "$(value go_million_spawn_s "$go")"
ratio million_release_ratio "$(value million_release_s "$ours")" "$(value go_million_release_s "$go")"
summary
