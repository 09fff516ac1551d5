#!/usr/bin/env bash
# Builds and runs the Go anchor benchmarks (Benchmarks/Anchors/go) to compare side by side
# with our runtime: goroutine spawn+join, runtime.Gosched and skynet. Prints name=value lines.
# Installs Debian's golang-go only when it is missing. Builds offline (standard library only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/Benchmarks/scripts/lib/output.sh"
out="$root/.build-go"

"$root/scripts/install-deps.sh" golang-go >&2

mkdir -p "$out/cache" "$out/gopath"
export GOCACHE="$out/cache" GOPATH="$out/gopath" GOPROXY=off GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local
step "building the Go anchors"
(cd "$root/Benchmarks/Anchors/go" && go build -o "$out/anchors" .)

threads=${GOMAXPROCS:-2}
anchors=$(GOMAXPROCS=$threads run_step "running the Go anchors (GOMAXPROCS=$threads)" "$out/anchors")
emit "$anchors"
summary
