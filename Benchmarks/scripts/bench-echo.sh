#!/usr/bin/env bash
# TCP echo servers under one load: ours (blocking-style code on coroutines), SwiftNIO, Go and
# thread-per-connection C, each on 127.0.0.1 with 2 server threads (the C server has one per
# connection by design). The same client (Benchmarks/Echo/client) drives each in turn with
# ECHO_CONNECTIONS connections (default 1000) of 64-byte ping-pong for ECHO_SECONDS seconds
# (default 10) after ECHO_WARMUP seconds (default 2). Prints name=value lines: round trips per
# second, p99 round-trip latency in microseconds, and the ratios ours/NIO and ours/Go.
# ECHO_SERVERS=handoff measures ours alone, with handoff (the default) and without, alternately
# three times each, as echo_rps_handoff_N and echo_rps_nohandoff_N (`make bench-handoff`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
source Benchmarks/scripts/lib/server.sh
out="$root/.build-bench/echo"
seconds=${ECHO_SECONDS:-10}
connections=${ECHO_CONNECTIONS:-1000}
warmup=${ECHO_WARMUP:-2}
servers=${ECHO_SERVERS:-ours nio go threads}
case "$servers" in
    handoff | "ours nio go threads") ;;
    *) echo "bench-echo: ECHO_SERVERS is 'handoff' or unset, not '$servers'" >&2; exit 2 ;;
esac

# Every connection is a descriptor in the client and one in the server, plus a thread-server's
# and the runtimes' own: ask for twice the connections with room to spare.
descriptors=$((2 * connections + 256))
if [ "$(ulimit -n)" -lt "$descriptors" ] && ! ulimit -n "$descriptors" 2>/dev/null; then
    echo "bench-echo: needs $descriptors open descriptors (ulimit -n), the hard limit is $(ulimit -Hn);" \
        "raise it or lower ECHO_CONNECTIONS" >&2
    exit 1
fi

scripts/install-deps.sh golang-go libjemalloc-dev gcc >&2
mkdir -p "$out"
step "building the client and the thread-per-connection server"
cc -O2 -pthread -o "$out/echo_client" Benchmarks/Echo/client/echo_client.c
cc -O2 -pthread -o "$out/echo_threads" Benchmarks/Echo/threads/echo_threads.c
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
quietly swift build -c release --product echo_benchmark_server --scratch-path "$out/swift"
go_out="$root/.build-go"
if [ "$servers" != handoff ]; then
    step "building the SwiftNIO server (release)"
    quietly swift build -c release --package-path Benchmarks/EchoNIO --scratch-path "$root/.build-bench/nio"
    mkdir -p "$go_out/cache" "$go_out/gopath"
    step "building the Go server"
    (cd Benchmarks/Anchors/go &&
        GOCACHE="$go_out/cache" GOPATH="$go_out/gopath" GOPROXY=off GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local \
            go build -o "$go_out/echo_go" ./echo)
fi

server_pid=""
client_pid=""
server_log=$(mktemp)
client_log=$(mktemp)
# Ends the client and the server of the current measurement, if they still run.
stop_processes() {
    local pid
    for pid in $client_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    client_pid=""
    server_pid=""
}
trap 'stop_processes; rm -f "$server_log" "$client_log"' EXIT
# Interrupted, the script still exits through the EXIT trap, so nothing it started outlives
# it. Both run in the background and the script waits with `wait`, which a signal interrupts.
trap 'exit 1' INT TERM

# measure NAME COMMAND...: starts the server, reads its port, runs the client against it and
# adds the client's lines to `results` with NAME appended (rps=1 becomes echo_rps_NAME=1).
measure() {
    local name=$1
    shift
    step "measuring $name: $connections connections, ${warmup} s warm-up, ${seconds} s measured"
    start_server "$name" "$@"
    # The bound: warm-up, measurement, and a minute for connecting and winding down.
    timeout $((warmup + seconds + 60)) "$out/echo_client" -p "$server_port" -c "$connections" -d "$seconds" \
        -w "$warmup" >"$client_log" &
    client_pid=$!
    if ! wait "$client_pid"; then
        client_pid=""
        echo "bench-echo: the client failed against the $name server" >&2
        exit 1
    fi
    client_pid=""
    kill -0 "$server_pid" 2>/dev/null || { echo "bench-echo: the $name server died during the run" >&2; exit 1; }
    stop_processes
    results+=$(sed -n "s/^rps=/echo_rps_$name=/p; s/^p\([0-9]*\)_us=/echo_p\1_us_$name=/p" "$client_log")$'\n'
}

results=""
if [ "$servers" = handoff ]; then
    for run in 1 2 3; do
        measure "handoff_$run" env BENCH_HANDOFF_AFTER_US=2000 "$out/swift/release/echo_benchmark_server"
        measure "nohandoff_$run" env BENCH_HANDOFF_AFTER_US=0 "$out/swift/release/echo_benchmark_server"
    done
    emit "${results%$'\n'}"
    summary
    exit 0
fi
measure ours "$out/swift/release/echo_benchmark_server"
measure nio "$root/.build-bench/nio/release/echo_nio_server"
measure go env GOMAXPROCS=2 "$go_out/echo_go"
measure threads "$out/echo_threads"
emit "${results%$'\n'}"
ratio echo_ratio_nio "$(value echo_rps_ours "$results")" "$(value echo_rps_nio "$results")"
ratio echo_ratio_go "$(value echo_rps_ours "$results")" "$(value echo_rps_go "$results")"
summary
