#!/usr/bin/env bash
# Handoff and the waits no thread should take, in release (Docs/benchmarks.md, "Handoff"):
#
#   handoff_queued_done_ms       1 scheduler thread, a task held 1 s in sigtimedwait (no hook sees
#                                it): how long 1,000 tasks queued meanwhile take, with handoff
#   nohandoff_queued_done_ms     the same without handoff (handoffAfter nil): the anchor
#   handoff_excluded_queued_done_ms, nohandoff_excluded_queued_done_ms  the same with the task
#                                held in JSON decoding inside Foundation (no preemption there)
#   handoff_queued_done_ms_<d>   handoff_queued_done_ms with handoffAfter d (100us ... 10ms):
#                                how the default was chosen
#   held_call_ticker_worst_ms    the worst gap of a 10 ms ticker that started on the held thread
#                                (it stays there: started tasks do not move)
#   handoff_ticker_worst_ms      the same ticker beside a task in syscall(SYS_nanosleep) for 1 s,
#                                which the hooks suspend
#   semaphore_wall_s             100 DispatchSemaphore waits of 0.2 s from tasks on 2 threads
#   handoff_cost_spawn_ratio     spawn_join_ns with handoff (the default) / without; and
#                                handoff_cost_spawn_ratio_100us with handoffAfter 100 µs
#   handoff_cost_echo_ratio      echo round trips per second without handoff / with it, the
#                                medians of three runs each, alternated (ECHO_SECONDS, default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"

rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
for product in thread_identity_probe spawn_benchmark; do
    swift build -c release --product "$product" --scratch-path "$out/swift" >/dev/null
done
probe="$out/swift/release/thread_identity_probe"

# field NAME LINE: the value of NAME in a probe's line of fields.
field() {
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

held=$(run_step "a task held 1 s in sigtimedwait, with handoff" "$probe" handoff unhooked 2000 | tail -1)
unhanded=$(run_step "the same without handoff" "$probe" handoff unhooked 0 | tail -1)
excluded=$(run_step "a task held in Foundation's JSON decoding, with handoff" "$probe" handoff excluded 2000 | tail -1)
excludedUnhanded=$(run_step "the same without handoff" "$probe" handoff excluded 0 | tail -1)
emit "handoff_queued_done_ms=$(field queued_done_ms "$held")" \
    "nohandoff_queued_done_ms=$(field queued_done_ms "$unhanded")" \
    "handoff_excluded_queued_done_ms=$(field queued_done_ms "$excluded")" \
    "nohandoff_excluded_queued_done_ms=$(field queued_done_ms "$excludedUnhanded")" \
    "handoff_excluded_held_ms=$(field held_ms "$excluded")" \
    "held_call_ticker_worst_ms=$(field ticker_worst_ms "$held")"
for delay in 100 500 2000 10000; do
    line=$(run_step "handoff after $delay us" "$probe" handoff unhooked "$delay" | tail -1)
    name=$([ "$delay" -ge 1000 ] && echo "$((delay / 1000))ms" || echo "${delay}us")
    emit "handoff_queued_done_ms_$name=$(field queued_done_ms "$line")"
done
raw=$(run_step "a task in syscall(SYS_nanosleep) beside a ticker" "$probe" raw-sleep | tail -1)
emit "handoff_ticker_worst_ms=$(field ticker_worst_ms "$raw")"
semaphores=$(run_step "100 DispatchSemaphore waits of 0.2 s on 2 threads" "$probe" semaphore 2 100 | tail -1)
emit "semaphore_wall_s=$(awk -v ms="$(field elapsed_ms "$semaphores")" 'BEGIN { printf "%.3f", ms / 1000 }')"

# spawn_join_ns, the median of three runs alternating the settings, so that drift of the
# machine falls on both sides alike.
spawns() {
    BENCH_ONLY=spawn BENCH_HANDOFF_AFTER_US=$1 "$out/swift/release/spawn_benchmark" | sed -n 's/^spawn_join_ns=//p'
}
median() {
    tr ' ' '\n' <<<"$*" | sort -g | sed -n 2p
}
on="" off="" fast=""
for run in 1 2 3; do
    step "spawn, run $run of 3: handoff after 2 ms, none, after 100 us"
    on+="$(spawns 2000) " off+="$(spawns 0) " fast+="$(spawns 100) "
done
emit "handoff_spawn_join_ns=$(median $on)" "nohandoff_spawn_join_ns=$(median $off)" \
    "handoff_100us_spawn_join_ns=$(median $fast)"
ratio handoff_cost_spawn_ratio "$(median $on)" "$(median $off)"
ratio handoff_cost_spawn_ratio_100us "$(median $fast)" "$(median $off)"

step "echo with handoff and without, alternately, three times each"
echoes=$(ECHO_SERVERS=handoff ECHO_SECONDS=${ECHO_SECONDS:-5} Benchmarks/scripts/bench-echo.sh)
echoOn=$(median $(sed -n 's/^echo_rps_handoff_[0-9]*=//p' <<<"$echoes"))
echoOff=$(median $(sed -n 's/^echo_rps_nohandoff_[0-9]*=//p' <<<"$echoes"))
emit "handoff_echo_rps=$echoOn" "nohandoff_echo_rps=$echoOff"
ratio handoff_cost_echo_ratio "$echoOff" "$echoOn"
summary
