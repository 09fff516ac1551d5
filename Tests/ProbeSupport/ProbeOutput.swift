import Glibc

// What every test probe (Tests/*Probe) shares: its output, its failure and its clock. A probe
// prints `name=value` lines that its test reads, and the test bounds the probe's run, so a line
// must leave at once and a failure must say what failed and end the probe.

/// Prints `line` at once: the test may be waiting for it while the probe runs on.
public func emit(_ line: String) {
    print(line)
    // fflush(nil) flushes every stream; Swift 6 rejects naming C's global `stdout`.
    fflush(nil)
}

/// Ends the probe with `message` as an `error:` line and exit status 2.
public func fail(_ message: String) -> Never {
    emit("error: \(message)")
    exit(2)
}

/// Monotonic milliseconds.
public func milliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1_000 + now.tv_nsec / 1_000_000
}
