import CoroutineCore
import DequeModule

// How the sync primitives wait: a party parks with its ParkingToken in the primitive's queue,
// and a waker that hands it something (a permit, an element, the end of a count) claims the
// token under the primitive's lock, while it can still give the thing to someone else, and
// wakes it once the lock is released (ParkingToken.claim/wake). A party whose park ended by
// deadline or cancellation can no longer be claimed, so whatever a waker holds goes to the
// next party instead, and nothing is lost. A select enrolls one token in several channels;
// the first channel to claim it wins.

/// What a waker hands a parked party besides the wakeup, carried in its token's message.
@usableFromInline
struct Handover: Sendable, Equatable {
    /// Which of a select's cases ended the park (0 for the other primitives).
    @usableFromInline var index: Int
    /// Whether the channel was closed rather than an element handed over.
    @usableFromInline var closed: Bool

    @inlinable
    init(index: Int = 0, closed: Bool = false) {
        self.index = index
        self.closed = closed
    }

    /// The handover a token's message carries.
    @inlinable
    init(message: UInt) {
        index = Int(truncatingIfNeeded: message >> 1)
        closed = message & 1 != 0
    }

    /// The handover as a token's message: the case index above the closed bit.
    @inlinable
    var message: UInt {
        UInt(truncatingIfNeeded: index) << 1 | (closed ? 1 : 0)
    }
}

extension ParkingToken {
    /// Claims the park for `handover`, then runs `deliver` (which stores what is handed over
    /// where the party will look); false, without delivering, when the park already ended or
    /// another waker claimed it. Call under the primitive's lock, and `wake()` after.
    @inlinable
    func claim(_ handover: Handover = Handover(), deliver: () -> Void = {}) -> Bool {
        guard claim(message: handover.message) else { return false }
        deliver()
        return true
    }

    /// What the claimant handed over; read once the park ended unparked (or never parked).
    @inlinable
    var handover: Handover {
        Handover(message: message)
    }
}

extension Parking {
    /// Parks the caller (a coroutine suspends, a plain thread blocks) in a sync primitive's
    /// queue until a waker hands it what it waits for, `deadline` (on the runtime's clock,
    /// `Parking.nanoseconds(at:)`) passes or the calling task is cancelled.
    ///
    /// `enroll` runs before the caller parks. It either puts the token in the queues its
    /// wakers look in and returns true, or claims the token itself and returns false, when what
    /// the caller waits for is already there. A park that timed out or was cancelled is handed
    /// to `withdraw`, to be taken out of those queues. `lock` names the lock waited on, for the
    /// dump (see `Parking.park`).
    ///
    /// - Returns: what the waker handed over; nil when `deadline` passed first.
    /// - Throws: `CoroutineError.cancelled` when the calling task was cancelled first.
    @usableFromInline
    static func parkForHandover(
        untilNanoseconds deadline: UInt64?,
        on lock: UnsafeRawPointer? = nil,
        enroll: (ParkingToken) -> Bool,
        withdraw: (ParkingToken) -> Void
    ) throws(CoroutineError) -> Handover? {
        // Settled while the park still has the token: no reference to it is kept past the park.
        var handover: Handover?
        var cancelled = false
        park(untilNanoseconds: deadline, on: lock, enroll) { token, outcome in
            switch outcome {
            case .unparked, .notParked:
                handover = token.handover
            case .timedOut, .closed:
                withdraw(token)
            case .cancelled:
                withdraw(token)
                cancelled = true
            }
        }
        if cancelled {
            throw .cancelled
        }
        return handover
    }
}

extension Deque where Element == ParkingToken {
    /// Takes tokens off the front until one can still be claimed, and claims that one.
    mutating func claimFirst() -> ParkingToken? {
        while let token = popFirst() {
            if token.claim() {
                return token
            }
        }
        return nil
    }

    /// Takes every token off and claims those whose park still runs.
    mutating func claimAll() -> [ParkingToken] {
        defer { removeAll() }
        return filter { $0.claim() }
    }

    /// Takes out the token of a park that ended otherwise.
    mutating func remove(_ token: ParkingToken) {
        removeAll { $0 === token }
    }
}
