#!/usr/bin/env bash
# How our runtime scales with its scheduler threads: spawn throughput and TCP echo round trips
# per second at 1 and 2 threads, and at N threads where the machine has N > 2 CPUs (nproc).
# The programs are those of bench-spawn and bench-echo, given the thread count in
# BENCH_THREADS:
#
#   spawn   Benchmarks/Spawn with BENCH_ONLY=spawn: a root task spawns 1,000,000 trivial tasks
#           and waits for all, the median of 5 runs; reported as tasks per second, with the
#           steals of the work-stealing queues per run
#   echo    Benchmarks/Echo/ours under Benchmarks/Echo/client: ECHO_CONNECTIONS connections
#           (default 1000) of 64-byte ping-pong for ECHO_SECONDS seconds (default 10) after
#           ECHO_WARMUP seconds (default 2)
#
# Each is measured SCALING_ROUNDS times (default 3) at every thread count, the counts taking
# turns within a round, and the fastest run of each count is kept: other work on the machine
# only ever slows a run down, and taking turns spreads a busy spell over all the counts
# instead of one of them. The progress on stderr shows every run's figure.
#
# Prints name=value lines, for each thread count M: spawn_tasks_per_s_Mt, spawn_steals_Mt,
# echo_rps_Mt and echo_p99_us_Mt (of the fastest runs); and for each M > 1 the ratios to
# 1 thread, spawn_scaling_Mt and echo_scaling_Mt.
#
# The client has as many threads as the largest server measured (at least 2), and the same
# settings for every thread count, so that only the server's threads change. On a 2-core
# machine the client shares the cores with the server: the server's second thread competes
# with the client for CPU, so echo_scaling_2t there understates what a second core of its own
# would give the server. It is measured anyway, as the figure such a machine can give.
#
# Run it on an otherwise idle machine. Where other processes keep the cores busy, the kernel
# shares time per runnable thread: a run with 2 threads then gets more of the machine than a
# run with 1, and the ratios measure that share instead of the runtime.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
source Benchmarks/scripts/lib/server.sh
out="$root/.build-bench"
seconds=${ECHO_SECONDS:-10}
connections=${ECHO_CONNECTIONS:-1000}
warmup=${ECHO_WARMUP:-2}
rounds=${SCALING_ROUNDS:-3}
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
    echo "bench-scaling: SCALING_ROUNDS=$rounds is not a positive number of rounds" >&2
    exit 1
fi

thread_counts=(1 2)
cpus=$(nproc)
[ "$cpus" -gt 2 ] && thread_counts+=("$cpus")
client_threads=${thread_counts[-1]}

# As in bench-echo: a descriptor per connection in the client and one in the server, plus the
# runtime's own.
descriptors=$((2 * connections + 256))
if [ "$(ulimit -n)" -lt "$descriptors" ] && ! ulimit -n "$descriptors" 2>/dev/null; then
    echo "bench-scaling: needs $descriptors open descriptors (ulimit -n), the hard limit is $(ulimit -Hn);" \
        "raise it or lower ECHO_CONNECTIONS" >&2
    exit 1
fi

scripts/install-deps.sh gcc >&2
mkdir -p "$out/scaling"
step "building the echo client"
cc -O2 -pthread -o "$out/scaling/echo_client" Benchmarks/Echo/client/echo_client.c
# A clean release build: SwiftPM does not rebuild a client when only the body of an
# @inlinable function in a path dependency changed.
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product spawn_benchmark --scratch-path "$out/swift" >/dev/null
swift build -c release --product echo_benchmark_server --scratch-path "$out/swift" >/dev/null

server_pid=""
client_pid=""
server_log=$(mktemp)
client_log=$(mktemp)
# Ends the client and the server of the current echo measurement, if they still run.
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
# it. The echo processes run in the background and the script waits with `wait`, which a
# signal interrupts.
trap 'exit 1' INT TERM

# The fastest run of each thread count so far, and that run's other figure.
declare -A spawn_per_second=() spawn_steals=() echo_rps=() echo_p99_us=()

# measure_spawn THREADS ROUND: one spawn run, kept in spawn_per_second and spawn_steals when it
# is the fastest at THREADS threads so far.
measure_spawn() {
    local threads=$1 lines per_second
    lines=$(BENCH_THREADS=$threads BENCH_ONLY=spawn \
        run_step "spawn at $threads thread(s), round $2 of $rounds" "$out/swift/release/spawn_benchmark")
    per_second=$(awk -v ns="$(value spawn_join_ns "$lines")" 'BEGIN { printf "%.0f\n", 1e9 / ns }')
    step "spawn at $threads thread(s): $per_second tasks/s"
    if [ "$per_second" -gt "${spawn_per_second[$threads]:-0}" ]; then
        spawn_per_second[$threads]=$per_second
        spawn_steals[$threads]=$(value spawn_steals "$lines")
    fi
}

# measure_echo THREADS ROUND: starts the server on THREADS scheduler threads, reads its port and
# runs the client against it; the run is kept in echo_rps and echo_p99_us when it is the
# fastest at THREADS threads so far.
measure_echo() {
    local threads=$1 load="$connections connections from $client_threads client threads"
    local timing="${warmup} s warm-up, ${seconds} s measured"
    step "echo at $threads thread(s), round $2 of $rounds: $load, $timing"
    start_server echo env BENCH_THREADS="$threads" "$out/swift/release/echo_benchmark_server"
    # The bound: warm-up, measurement, and a minute for connecting and winding down.
    timeout $((warmup + seconds + 60)) "$out/scaling/echo_client" -p "$server_port" -c "$connections" \
        -t "$client_threads" -d "$seconds" -w "$warmup" >"$client_log" &
    client_pid=$!
    if ! wait "$client_pid"; then
        client_pid=""
        echo "bench-scaling: the client failed against the server on $threads thread(s)" >&2
        exit 1
    fi
    client_pid=""
    kill -0 "$server_pid" 2>/dev/null || { echo "bench-scaling: the echo server died during the run" >&2; exit 1; }
    stop_processes
    local figures rps
    figures=$(cat "$client_log")
    rps=$(value rps "$figures")
    step "echo at $threads thread(s): $rps round trips/s"
    if [ "$rps" -gt "${echo_rps[$threads]:-0}" ]; then
        echo_rps[$threads]=$rps
        echo_p99_us[$threads]=$(value p99_us "$figures")
    fi
}

for round in $(seq "$rounds"); do
    for threads in "${thread_counts[@]}"; do
        measure_spawn "$threads" "$round"
    done
done
for round in $(seq "$rounds"); do
    for threads in "${thread_counts[@]}"; do
        measure_echo "$threads" "$round"
    done
done
for threads in "${thread_counts[@]}"; do
    emit "spawn_tasks_per_s_${threads}t=${spawn_per_second[$threads]}" \
        "spawn_steals_${threads}t=${spawn_steals[$threads]}"
done
for threads in "${thread_counts[@]}"; do
    emit "echo_rps_${threads}t=${echo_rps[$threads]}" "echo_p99_us_${threads}t=${echo_p99_us[$threads]}"
done
for threads in "${thread_counts[@]:1}"; do
    ratio "spawn_scaling_${threads}t" "${spawn_per_second[$threads]}" "${spawn_per_second[1]}"
    ratio "echo_scaling_${threads}t" "${echo_rps[$threads]}" "${echo_rps[1]}"
done
summary
