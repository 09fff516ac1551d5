#!/usr/bin/env bash
# Builds and runs the Go anchor benchmarks (Benchmarks/Anchors/go) to compare side by side
# with our runtime: goroutine spawn+join, runtime.Gosched and skynet. Prints name=value lines.
# Installs Debian's golang-go only when `go` is missing. Builds offline (standard library only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/.build-go"

if ! command -v go >/dev/null 2>&1; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >&2
fi

mkdir -p "$out/cache" "$out/gopath"
export GOCACHE="$out/cache" GOPATH="$out/gopath" GOPROXY=off GOFLAGS= GO111MODULE=on GOTOOLCHAIN=local
(cd "$root/Benchmarks/Anchors/go" && go build -o "$out/anchors" .)

GOMAXPROCS="${GOMAXPROCS:-2}" "$out/anchors"
