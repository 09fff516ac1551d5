import CoroutineCore
import DequeModule
import Synchronization

/// Permits handed out first come, first served: the core of `CoMutex` and `CoSemaphore`.
///
/// A released permit goes straight to the longest waiter rather than back to the pool, so a
/// caller that arrives later cannot overtake it, and nobody waits forever under contention.
final class FairPermits: Sendable {
    private struct State {
        var available: Int
        var waiters = Deque<ParkingToken>()
    }

    private let state: UnpreemptedMutex<State>

    init(_ count: Int) {
        state = UnpreemptedMutex(State(available: count))
    }

    /// Takes a permit when one is free now.
    func tryAcquire() -> Bool {
        state.withLock { state in
            // Permits are handed over while anyone waits, so a free permit means nobody waits.
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
    }

    /// Takes a permit, waiting for one until `deadline`.
    ///
    /// - Returns: true with the permit, false when `deadline` passed first.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits.
    func acquire(until deadline: ContinuousClock.Instant? = nil) throws(CoroutineError) -> Bool {
        if tryAcquire() {
            return true
        }
        // The permits' own address is the lock's in the dump: `CoMutex` and `CoSemaphore`
        // each hold one.
        let lock = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        return try Parking.parkForHandover(untilNanoseconds: deadline.map(Parking.nanoseconds(at:)), on: lock, enroll: takeOrQueue) { token in
            state.withLock { $0.waiters.remove(token) }
        } != nil
    }

    /// Takes a permit, waiting for it even when the calling task is cancelled: for a
    /// `CoCondition` wait, which must give its mutex back locked however it ends.
    ///
    /// A cancelled task cannot park (every park of it ends at once), so it keeps its place in
    /// the queue without a token and yields until the permit reaches it.
    func acquireIgnoringCancellation() {
        let token = ParkingToken.polling()
        guard takeOrQueue(token) else { return }
        while token.outcome == nil {
            try? Scheduler.yield()
        }
    }

    /// Takes a free permit for `token` (claiming it) and returns false, or queues it behind
    /// the others and returns true.
    private func takeOrQueue(_ token: ParkingToken) -> Bool {
        state.withLock { state in
            guard state.available == 0 else {
                state.available -= 1
                _ = token.claim()
                return false
            }
            state.waiters.append(token)
            return true
        }
    }

    /// Gives a permit back: to the longest waiter, or to the pool when nobody waits.
    ///
    /// - Parameter limit: the most permits the pool may hold; exceeding it is a programming
    ///   error (unlocking a mutex that is not locked) and stops the process.
    func release(limit: Int = .max) {
        let next = state.withLock { state -> ParkingToken? in
            if let next = state.waiters.claimFirst() {
                return next
            }
            precondition(state.available < limit, "released more permits than were taken")
            state.available += 1
            return nil
        }
        next?.wake()
    }
}
