import CoroutineCore
import DequeModule
import Synchronization

/// A coroutine or thread waiting in the queue of a sync primitive, and the one decision of how
/// its wait ended.
///
/// `ParkingToken.unpark()` tells a waker only afterwards whether its wakeup landed, but a waker
/// that hands something over (a permit, an element) must know under the primitive's lock, while
/// it can still give the thing to someone else. So the handover is decided here: a waker
/// completes the waiter, or the waiter, timed out or cancelled, abandons it; whichever comes
/// first wins. A waiter that finds itself completed after its park ended takes what it was
/// handed, so nothing is lost. A select enrolls one waiter in several channels, and the first
/// channel to complete it wins.
@usableFromInline
final class Waiter: Sendable {
    /// What a waker decided.
    @usableFromInline
    struct Completion: Sendable, Equatable {
        /// Which of a select's cases completed the wait (0 for the other primitives).
        @usableFromInline var index: Int
        /// Whether the channel was closed rather than an element handed over.
        @usableFromInline var closed: Bool

        @inlinable
        init(index: Int = 0, closed: Bool = false) {
            self.index = index
            self.closed = closed
        }
    }

    /// How a wait ended.
    @usableFromInline
    enum Outcome: Sendable, Equatable {
        case completed(Completion)
        case timedOut
        case cancelled

        /// The answer of a wait with a timeout: true when completed, false when timed out.
        ///
        /// - Throws: `CoroutineError.cancelled` when the calling task was cancelled.
        func completedInTime() throws(CoroutineError) -> Bool {
            switch self {
            case .completed: return true
            case .timedOut: return false
            case .cancelled: throw .cancelled
            }
        }
    }

    private enum State {
        case waiting
        case completed(Completion)
        case abandoned
    }

    /// Nil for a waiter that polls instead of parking (see `FairPermits`).
    private let token: ParkingToken?
    private let state = UnpreemptedMutex(State.waiting)

    init(token: ParkingToken?) {
        self.token = token
    }

    /// Completes the wait unless it already ended, running `deliver` first under the waiter's
    /// lock so that whatever it stores is visible to the waiter. Does not wake it: the waker
    /// calls `wake()` once it released its own lock.
    @usableFromInline
    func complete(_ completion: Completion = Completion(), deliver: () -> Void = {}) -> Bool {
        state.withLock { state in
            guard case .waiting = state else { return false }
            deliver()
            state = .completed(completion)
            return true
        }
    }

    /// Unparks the waiter.
    @usableFromInline
    func wake() {
        token?.unpark()
    }

    /// How a waker completed the wait, or nil while it lasts or once it was abandoned.
    var completion: Completion? {
        state.withLock { state in
            guard case .completed(let completion) = state else { return nil }
            return completion
        }
    }

    /// Ends a wait no waker completed; returns the completion when a waker came first.
    private func abandon() -> Completion? {
        state.withLock { state in
            switch state {
            case .waiting:
                state = .abandoned
                return nil
            case .completed(let completion):
                return completion
            case .abandoned:
                return nil
            }
        }
    }

    /// Parks the caller (a coroutine suspends, a plain thread blocks) as a waiter until a
    /// waker completes it, `deadline` passes or the calling task is cancelled.
    ///
    /// `enroll` runs before the caller parks. It either puts the waiter in the queues its
    /// wakers look in and returns true, or completes the waiter itself and returns false,
    /// when what the caller waits for is already there. A waiter that timed out or was
    /// cancelled is handed to `withdraw`, to be taken out of those queues. `lock` names the lock
    /// waited on, for the dump (see `Parking.park`).
    @usableFromInline
    static func wait(
        until deadline: ContinuousClock.Instant?,
        on lock: UnsafeRawPointer? = nil,
        enroll: (Waiter) -> Bool,
        withdraw: (Waiter) -> Void
    ) -> Outcome {
        var enrolled: Waiter?
        let parked = Parking.park(until: deadline, on: lock) { token in
            let waiter = Waiter(token: token)
            enrolled = waiter
            return enroll(waiter)
        }
        // `park` always runs its registration, so `enrolled` is set.
        guard let waiter = enrolled else { return parked == .cancelled ? .cancelled : .timedOut }
        if let completion = waiter.abandon() {
            return .completed(completion)
        }
        withdraw(waiter)
        return parked == .cancelled ? .cancelled : .timedOut
    }
}

extension Deque where Element == Waiter {
    /// Takes waiters off the front until one is still waiting, and completes that one.
    mutating func completeFirst() -> Waiter? {
        while let waiter = popFirst() {
            if waiter.complete() {
                return waiter
            }
        }
        return nil
    }

    /// Takes every waiter off and completes those still waiting.
    mutating func completeAll() -> [Waiter] {
        defer { removeAll() }
        return filter { $0.complete() }
    }

    /// Takes out a waiter that gave up.
    mutating func remove(_ waiter: Waiter) {
        removeAll { $0 === waiter }
    }
}
