/// A mutual-exclusion lock that suspends a waiting coroutine instead of blocking its thread.
///
/// Inside a runtime task, `lock()` suspends only the task, so a critical section may itself
/// suspend (sleep, read a socket, yield) without holding up the thread's other coroutines. On
/// a plain thread `lock()` blocks the thread. Both kinds of caller can share one mutex.
///
/// Waiters get the lock in the order they asked for it: `unlock()` hands it straight to the
/// longest waiter, so no caller is starved. The lock is not owned by a coroutine: any caller
/// may unlock it, as with a binary semaphore; it is not recursive.
///
/// ```swift
/// let mutex = CoMutex()
/// try mutex.withLock {
///     balance += try fetchDeposit()     // may suspend while the lock is held
/// }
/// ```
public final class CoMutex: Sendable {
    private let permits = FairPermits(1)

    /// Creates an unlocked mutex.
    public init() {}

    /// Takes the lock, waiting as long as another caller holds it.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it
    ///   waits; the lock is then not taken.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func lock() throws(CoroutineError) {
        _ = try permits.acquire()
    }

    /// Takes the lock when it is free now, without waiting.
    ///
    /// - Returns: whether the lock was taken.
    public func tryLock() -> Bool {
        permits.tryAcquire()
    }

    /// Releases the lock, handing it to the longest waiter if any.
    ///
    /// Unlocking a mutex that is not locked is a programming error and stops the process.
    public func unlock() {
        permits.release(limit: 1)
    }

    /// Runs `body` with the lock held, and releases it however `body` ends.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits
    ///   for the lock (`body` then does not run); whatever `body` throws.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func withLock<Result>(_ body: () throws -> Result) throws -> Result {
        try lock()
        defer { unlock() }
        return try body()
    }

    /// Takes the lock even in a cancelled task, for `CoCondition`.
    func lockIgnoringCancellation() {
        permits.acquireIgnoringCancellation()
    }
}
