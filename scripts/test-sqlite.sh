#!/usr/bin/env bash
# The storage-engine test: the system's SQLite from tasks (Tests/SQLiteProbe), in release, as
# the field report that found its shutdown hang ran it (a wake from another thread resuming a
# coroutine that never suspended; it showed in release builds on 2 threads only).
#   - 8 tasks on 2 threads, each its own database, 6 runs per journal mode (wal, delete, memory);
#   - 100 tasks on 2 threads, each its own database, in wal and delete modes;
#   - 20 tasks on 2 threads sharing one wal database with a busy timeout.
# Every run must be exact (rows, sums, integrity_check) and `withCoroutines` must return within
# 1 s of the last task. Each run is limited to 60 s. Usage: scripts/test-sqlite.sh [RUNS]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
runs="${1:-6}"
swift build -c release --product sqlite_probe
probe="$(swift build -c release --show-bin-path)/sqlite_probe"
status=0

# Runs the probe with `$@`; its line must say `correct=EXPECTED`, and stop_ms must be under 1000.
check() {
    local expected="$1" line code=0
    shift
    line=$(timeout 60 "$probe" "$@" 2>&1 | tail -1) || code=$?
    local stop="${line##*stop_ms=}"
    if ((code != 0)) || [[ "$line" != correct=$expected\ * ]] || [[ "$line" == *exact=0* ]] || ((stop >= 1000)); then
        echo "FAIL: sqlite_probe $*: status $code, $line" >&2
        status=1
    else
        echo "ok: sqlite_probe $*: $line"
    fi
}

for journal in wal delete memory; do
    for ((run = 0; run < runs; run++)); do
        check 8 own "$journal" 2 8 2000
    done
done
check 100 own wal 2 100 500
check 100 own delete 2 100 500
check 20 shared 2 20 200

if ((status == 0)); then
    echo "test-sqlite: PASS"
else
    echo "test-sqlite: FAIL" >&2
fi
exit "$status"
