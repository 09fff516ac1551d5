import CoroutineCore
import DequeModule
import Synchronization

/// A condition variable for `CoMutex`: waits for a change that another caller announces with
/// `signal()` or `broadcast()`.
///
/// A wait releases the mutex and parks in one step, so a signal sent after the mutex was
/// released always finds the waiter, and takes the mutex again before it returns, however it
/// ends. Inside a runtime task a wait suspends only the task; on a plain thread it blocks the
/// thread. As with any condition variable, check the condition in a loop: another caller may
/// have changed it again between the signal and the wakeup.
///
/// ```swift
/// try mutex.withLock {
///     while queue.isEmpty { try notEmpty.wait(on: mutex) }
///     process(queue.removeFirst())
/// }
/// ```
public final class CoCondition: Sendable {
    private let waiters = UnpreemptedMutex(Deque<ParkingToken>())

    /// Creates a condition nobody waits on.
    public init() {}

    /// Releases `mutex`, which the caller holds, waits for a signal, and takes `mutex` again.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it
    ///   waits; `mutex` is then held again too, so the caller's unlock stays balanced.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait(on mutex: CoMutex) throws(CoroutineError) {
        _ = try park(releasing: mutex, until: nil)
    }

    /// Releases `mutex`, which the caller holds, waits for a signal until `deadline`, and
    /// takes `mutex` again.
    ///
    /// - Returns: true when signalled, false when `deadline` passed first.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it
    ///   waits; `mutex` is then held again too, so the caller's unlock stays balanced.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait(on mutex: CoMutex, until deadline: ContinuousClock.Instant) throws(CoroutineError) -> Bool {
        try park(releasing: mutex, until: deadline)
    }

    /// Wakes the longest waiter, if any.
    public func signal() {
        waiters.withLock { $0.claimFirst() }?.wake()
    }

    /// Wakes every waiter.
    public func broadcast() {
        for token in waiters.withLock({ $0.claimAll() }) {
            token.wake()
        }
    }

    private func park(releasing mutex: CoMutex, until deadline: ContinuousClock.Instant?) throws(CoroutineError) -> Bool {
        let signalled: Bool
        do {
            signalled = try Parking.parkForHandover(untilNanoseconds: deadline.map(Parking.nanoseconds(at:))) { token in
                waiters.withLock { $0.append(token) }
                // Released only now that the token is queued: a signal can no longer miss it.
                mutex.unlock()
                return true
            } withdraw: { token in
                waiters.withLock { $0.remove(token) }
            } != nil
        } catch {
            relock(mutex)
            throw error
        }
        relock(mutex)
        return signalled
    }

    /// Takes `mutex` back for a waiter. A waiter that was signalled but whose task was
    /// cancelled meanwhile still returns normally: the signal is not lost, and the
    /// cancellation shows at the task's next wait.
    private func relock(_ mutex: CoMutex) {
        do {
            try mutex.lock()
        } catch {
            mutex.lockIgnoringCancellation()
        }
    }
}
