#!/usr/bin/env bash
# The soak (Tests/Soak): the echo server on the hook layer under SOAK_CONNECTIONS connections
# (default 10000) of random-sized, checksummed messages with half-closes and reconnects, for
# SOAK_SECONDS seconds (default 60), the first SOAK_WARMUP of them (default a third, at most
# 20) a warm-up. SOAK_SEED repeats a run's random choices (default: a new seed, printed).
# Builds the program in release, runs it, and prints its name=value lines on stdout, progress
# and a summary on stderr. Exits non-zero when a byte was lost or an error occurred.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
seconds=${SOAK_SECONDS:-60}
connections=${SOAK_CONNECTIONS:-10000}
arguments=(--seconds "$seconds" --connections "$connections")
[ -n "${SOAK_WARMUP:-}" ] && arguments+=(--warmup "$SOAK_WARMUP")
[ -n "${SOAK_SEED:-}" ] && arguments+=(--seed "$SOAK_SEED")

# The server and its client are two processes, each holding one descriptor per connection;
# the program raises its own soft limit, but not beyond the hard one.
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((connections + 256)) ]; then
    echo "soak: needs $((connections + 256)) open descriptors per process, the hard limit is $(ulimit -Hn);" \
        "raise it or lower SOAK_CONNECTIONS" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
step "building the soak (release)"
# SwiftPM reports compile errors on stdout: show its output only when it fails.
if ! swift build -c release --product soak --scratch-path .build-soak >"$log" 2>&1; then
    cat "$log" >&2
    echo "soak: the build failed" >&2
    exit 1
fi
step "running $connections connections for $seconds s"
status=0
lines=$(.build-soak/release/soak "${arguments[@]}") || status=$?
emit "$lines"
summary
exit "$status"
