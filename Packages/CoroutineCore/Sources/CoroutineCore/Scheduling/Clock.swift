import CCoroutineCore

// The runtime's one time base: deadlines are monotonic nanoseconds, turned into poll-style
// millisecond timeouts only at the system call that waits.

/// Nanoseconds on the monotonic clock, the time base of all deadlines in the runtime.
// Inlined: read at every deadline check; it costs the C clock read (vDSO) and no more.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    oc_monotonic_ns()
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `0...UInt64.max`.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (wholeSeconds, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, overflowAdding) = wholeSeconds.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflowAdding ? .max : total
    }
}

/// The deadline `duration` from now, saturating instead of overflowing.
func deadlineNanoseconds(after duration: Duration) -> UInt64 {
    deadlineNanoseconds(afterNanoseconds: duration.clampedNanoseconds)
}

/// A poll-style timeout for a wait of `nanoseconds`: whole milliseconds rounded up, so that
/// the wait never ends before its time, and -1 for no limit.
func pollTimeoutMilliseconds(nanoseconds: UInt64?) -> Int32 {
    guard let nanoseconds else { return -1 }
    return Int32(clamping: nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1))
}

/// A poll-style timeout for a wait until `deadline` (nil: no limit).
func pollTimeoutMilliseconds(until deadline: UInt64?) -> Int32 {
    let now = monotonicNanoseconds()
    return pollTimeoutMilliseconds(nanoseconds: deadline.map { $0 > now ? $0 - now : 0 })
}

/// The deadline `nanoseconds` from now, saturating instead of overflowing.
func deadlineNanoseconds(afterNanoseconds nanoseconds: UInt64) -> UInt64 {
    let (sum, overflow) = monotonicNanoseconds().addingReportingOverflow(nanoseconds)
    return overflow ? .max : sum
}
