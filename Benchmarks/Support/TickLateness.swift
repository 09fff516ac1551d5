import Glibc

/// How late a task wakes from short sleeps while other work shares its threads: the measure of
/// whether that work holds the threads. A call that blocks its thread keeps every task queued
/// behind it waiting, so the sleeper wakes late by about as long as the call took.
///
/// The file benchmark reports it beside its throughput, and the file test bounds it; both take
/// it from here so that the figure and the bound are of the same loop.
public struct TickLateness: Sendable {
    /// Each tick's lateness in milliseconds, smallest first.
    public let milliseconds: [Double]

    /// Sleeps `interval` with `usleep` (which the hook library makes a task's sleep when the
    /// caller runs as a task) again and again while `isRunning()` holds, and records by how
    /// much each sleep overran.
    public init(ticking interval: Duration = .milliseconds(10), while isRunning: () -> Bool) {
        let microseconds = useconds_t(interval / .microseconds(1))
        var lateness: [Double] = []
        while isRunning() {
            let start = ContinuousClock.now
            usleep(microseconds)
            let late = ContinuousClock.now - start - interval
            lateness.append(Double(late.components.seconds) * 1e3 + Double(late.components.attoseconds) / 1e15)
        }
        milliseconds = lateness.sorted()
    }

    /// The number of ticks.
    public var count: Int { milliseconds.count }

    /// The lateness that `percent` of the ticks did not exceed (nearest rank), in milliseconds;
    /// nil when there was no tick.
    public func percentile(_ percent: Int) -> Double? {
        precondition((1...100).contains(percent), "a percentile is in 1...100, not \(percent)")
        guard !milliseconds.isEmpty else { return nil }
        return milliseconds[(milliseconds.count * percent + 99) / 100 - 1]
    }
}
