import CoroutineCore
import DequeModule
import Synchronization

/// Waits for a group of tasks to finish: each task is counted with `add()` before it starts
/// and calls `done()` when it ends, and `wait()` returns once the count is back to zero.
///
/// Inside a runtime task `wait()` suspends only the task; on a plain thread it blocks the
/// thread. Any number of callers may wait at once. A group can be reused once its count is
/// zero.
///
/// ```swift
/// let group = WaitGroup()
/// for url in urls {
///     group.add()
///     try co { defer { group.done() }; try fetch(url) }
/// }
/// try group.wait()
/// ```
public final class WaitGroup: Sendable {
    private struct State {
        var count = 0
        var waiters = Deque<ParkingToken>()
    }

    private let state = UnpreemptedMutex(State())

    /// Creates a group counting zero.
    public init() {}

    /// Adds `delta` to the count; when it reaches zero, every waiter returns.
    ///
    /// A count below zero (more `done()` calls than were added) is a programming error and
    /// stops the process.
    public func add(_ delta: Int = 1) {
        let released = state.withLock { state -> [ParkingToken] in
            state.count += delta
            precondition(state.count >= 0, "WaitGroup count below zero: \(state.count)")
            return state.count == 0 ? state.waiters.claimAll() : []
        }
        for token in released {
            token.wake()
        }
    }

    /// Counts one member as finished.
    public func done() {
        add(-1)
    }

    /// Waits until the count is zero.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait() throws(CoroutineError) {
        _ = try wait(until: nil)
    }

    /// Waits at most `timeout` for the count to reach zero.
    ///
    /// - Returns: true when it reached zero, false when `timeout` passed first.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait(timeout: Duration) throws(CoroutineError) -> Bool {
        try wait(until: .now + timeout)
    }

    private func wait(until deadline: ContinuousClock.Instant?) throws(CoroutineError) -> Bool {
        if state.withLock({ $0.count == 0 }) {
            return true
        }
        return try Parking.parkForHandover(untilNanoseconds: deadline.map(Parking.nanoseconds(at:))) { token in
            state.withLock { state in
                guard state.count > 0 else {
                    _ = token.claim()
                    return false
                }
                state.waiters.append(token)
                return true
            }
        } withdraw: { token in
            state.withLock { $0.waiters.remove(token) }
        } != nil
    }
}
