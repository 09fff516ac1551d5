# shellcheck shell=bash
# What the bench scripts that load a server share (bench-echo, bench-http, bench-scaling), for
# them to source after output.sh, whose `bench_name` names the script in messages:
#
#   quietly CMD...             runs a build step silently, showing its output when it fails
#                              (SwiftPM reports compile errors on stdout)
#   start_server NAME CMD...   starts CMD in the background, its stdout in `server_log` (the
#                              caller's file), sets `server_pid`, and waits up to 10 s for its
#                              `port=N` line, setting `server_port`; ends the script when the
#                              server exits first or prints no port

quietly() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "$bench_name: failed: $*" >&2
        exit 1
    fi
    rm -f "$log"
}

start_server() {
    local name=$1
    shift
    "$@" >"$server_log" &
    server_pid=$!
    server_port=""
    for _ in $(seq 100); do
        server_port=$(sed -n 's/^port=//p' "$server_log")
        [ -n "$server_port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || { echo "$bench_name: the $name server exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "$bench_name: the $name server printed no port in 10 s" >&2
    exit 1
}
