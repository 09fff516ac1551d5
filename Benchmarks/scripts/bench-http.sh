#!/usr/bin/env bash
# HTTP/1.1 servers under wrk, as TechEmpower's plaintext test loads them: ours
# (Examples/http_server: blocking-style code, one task per connection), a Hummingbird 2 hello
# world (SwiftNIO) and Go's net/http, each on 127.0.0.1 with 2 server threads, answering
# `GET /plaintext` with "Hello, World!". wrk runs on 1 thread with HTTP_CONNECTIONS connections
# (default 256, TechEmpower's lowest), HTTP_WARMUP seconds of warm-up (default 2), then
# HTTP_SECONDS measured (default 10), twice per server: pipelined 16 deep (TechEmpower's
# plaintext) and one request per write. The machine's cores are shared by wrk and the server.
#
# Prints name=value lines: requests per second and p50/p99 latency in microseconds of each
# server in each mode, and the ratios ours/Hummingbird and ours/Go. A run with a socket error
# or a response other than 200 fails: fast wrong answers are no figure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
source Benchmarks/scripts/lib/server.sh
out="$root/.build-bench/http"
seconds=${HTTP_SECONDS:-10}
connections=${HTTP_CONNECTIONS:-256}
warmup=${HTTP_WARMUP:-2}
depth=16

scripts/install-deps.sh golang-go wrk >&2
mkdir -p "$out"
step "building ours (release)"
quietly swift build -c release --product http_server --scratch-path "$out/swift"
step "building the Hummingbird server (release)"
quietly swift build -c release --package-path Benchmarks/HTTPHummingbird --scratch-path "$root/.build-bench/hummingbird"
go_out="$root/.build-go"
mkdir -p "$go_out/cache" "$go_out/gopath"
step "building the Go server"
(cd Benchmarks/Anchors/go &&
    GOCACHE="$go_out/cache" GOPATH="$go_out/gopath" GOPROXY=off GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local \
        go build -o "$go_out/http_go" ./http)

server_pid=""
server_log=$(mktemp)
wrk_log=$(mktemp)
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap 'stop_server; rm -f "$server_log" "$wrk_log"' EXIT
trap 'exit 1' INT TERM

# microseconds VALUE: wrk's latency (12.5us, 1.20ms, 2.01s) in microseconds.
microseconds() {
    awk -v value="$1" 'BEGIN {
        unit = value; sub(/^[0-9.]+/, "", unit); number = substr(value, 1, length(value) - length(unit))
        scale = unit == "us" ? 1 : unit == "ms" ? 1e3 : unit == "s" ? 1e6 : unit == "m" ? 6e7 : -1
        if (scale < 0 || number == "") exit 1
        printf "%.0f", number * scale
    }'
}

# load PORT SECONDS DEPTH: wrk against the server, its report in wrk_log; fails on errors.
load() {
    local port=$1 duration=$2 pipeline=$3
    timeout $((duration + 30)) wrk -t 1 -c "$connections" -d "${duration}s" --timeout 8s --latency \
        -H 'Host: localhost' -H 'Connection: keep-alive' \
        -H 'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7' \
        -s Benchmarks/HTTP/pipeline.lua "http://127.0.0.1:$port/plaintext" -- "$pipeline" >"$wrk_log"
    if grep -q 'Socket errors\|Non-2xx' "$wrk_log"; then
        cat "$wrk_log" >&2
        echo "bench-http: errors or non-200 responses under load" >&2
        exit 1
    fi
}

# measure NAME COMMAND...: starts the server, reads its port, warms it up and measures both
# modes, adding http_rps_NAME, http_p50_us_NAME, http_p99_us_NAME (pipelined) and the same
# with http_nopipe_ to `results`.
measure() {
    local name=$1
    shift
    start_server "$name" "$@"
    local mode prefix pipeline
    for mode in pipelined single; do
        if [ "$mode" = pipelined ]; then prefix=http pipeline=$depth; else prefix=http_nopipe pipeline=1; fi
        step "measuring $name, $mode: $connections connections, ${warmup} s warm-up, ${seconds} s measured"
        load "$server_port" "$warmup" "$pipeline"
        load "$server_port" "$seconds" "$pipeline"
        # Kept for a look at the whole report (and its latency distribution).
        cp "$wrk_log" "$out/wrk-$name-$mode.txt"
        local rps p50 p99
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$wrk_log")
        p50=$(microseconds "$(awk '$1 == "50%" { print $2 }' "$wrk_log")")
        p99=$(microseconds "$(awk '$1 == "99%" { print $2 }' "$wrk_log")")
        results+="${prefix}_rps_$name=$rps"$'\n'"${prefix}_p50_us_$name=$p50"$'\n'"${prefix}_p99_us_$name=$p99"$'\n'
    done
    kill -0 "$server_pid" 2>/dev/null || { echo "bench-http: the $name server died during the run" >&2; exit 1; }
    stop_server
}

results=""
measure ours "$out/swift/release/http_server" --threads 2
measure hummingbird "$root/.build-bench/hummingbird/release/http_hummingbird_server"
measure go env GOMAXPROCS=2 "$go_out/http_go"
emit "${results%$'\n'}"
emit "http_wrk_threads=1 http_connections=$connections http_pipeline_depth=$depth"
for prefix in http http_nopipe; do
    ratio "${prefix}_ratio_hummingbird" "$(value "${prefix}_rps_ours" "$results")" "$(value "${prefix}_rps_hummingbird" "$results")"
    ratio "${prefix}_ratio_go" "$(value "${prefix}_rps_ours" "$results")" "$(value "${prefix}_rps_go" "$results")"
done
summary
