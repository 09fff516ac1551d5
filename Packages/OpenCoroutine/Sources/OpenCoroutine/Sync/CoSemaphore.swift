/// A counting semaphore whose `wait` suspends a coroutine instead of blocking its thread.
///
/// It holds a number of permits: `wait` takes one, waiting while none is left, and `signal`
/// gives one back. Inside a runtime task a wait suspends only the task; on a plain thread it
/// blocks the thread. Permits reach waiters in the order they came.
///
/// ```swift
/// let connections = try CoSemaphore(value: 8)   // at most 8 requests at once
/// try connections.wait()
/// defer { connections.signal() }
/// try send(request)
/// ```
public final class CoSemaphore: Sendable {
    private let permits: FairPermits

    /// Creates a semaphore holding `value` permits.
    ///
    /// - Parameter value: the permits available at first; 0 makes the first `wait` wait for
    ///   a `signal`.
    /// - Throws: `CoSemaphoreError.negativeValue` when `value` is below 0.
    public init(value: Int) throws(CoSemaphoreError) {
        guard value >= 0 else { throw .negativeValue(value) }
        permits = FairPermits(value)
    }

    /// Takes a permit, waiting as long as none is available.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it
    ///   waits; no permit is then taken.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait() throws(CoroutineError) {
        _ = try permits.acquire()
    }

    /// Takes a permit, waiting at most `timeout` for one.
    ///
    /// - Returns: true with a permit taken, false when `timeout` passed first.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it
    ///   waits; no permit is then taken.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait(timeout: Duration) throws(CoroutineError) -> Bool {
        try permits.acquire(until: .now + timeout)
    }

    /// Takes a permit when one is available now, without waiting.
    ///
    /// - Returns: whether a permit was taken.
    public func tryWait() -> Bool {
        permits.tryAcquire()
    }

    /// Gives a permit back, to the longest waiter if any.
    public func signal() {
        permits.release()
    }
}
