/// Waiting for an event that another coroutine or thread announces: the building block of
/// coroutine-aware locks, semaphores and channels.
///
/// `park` suspends the calling coroutine, or blocks the calling plain thread, until its token
/// is unparked, a deadline passes or the calling task is cancelled. The waker finds the token
/// where `register` stored it (a waiter queue guarded by the primitive's lock). Exactly one of
/// unpark, timeout and cancellation ends a wait, so a token unparked after its wait timed out
/// reports false, and the waker passes the event on to the next waiter.
public enum Parking {
    /// How a wait ended.
    public enum Outcome: Sendable, Equatable {
        /// The token was unparked.
        case unparked
        /// The deadline passed first.
        case timedOut
        /// The calling task was cancelled first.
        case cancelled
    }

    /// Waits until the token handed to `register` is unparked, `deadline` passes or the
    /// calling task is cancelled. `register` runs before the caller suspends; returning false
    /// means the event already happened, and the call returns `.unparked` at once. `register`
    /// must not return false once it handed the token to anyone who may unpark it: that
    /// unpark would then resume a caller that never suspended (unpark the token instead, and
    /// return true).
    ///
    /// `lock` names what the caller waits on (a lock or semaphore, by address), for the dump:
    /// the coroutine shows as "parked on lock 0x…" instead of "waiting to be woken".
    public static func park(
        until deadline: ContinuousClock.Instant? = nil, on lock: UnsafeRawPointer? = nil,
        _ register: (ParkingToken) -> Bool
    ) -> Outcome {
        let end = deadline.map { deadlineNanoseconds(after: ContinuousClock.now.duration(to: $0)) }
        let reason = lock.map(WaitReason.lock) ?? .other
        switch WaitTicket.wait(until: end, reason: reason, register: { register(ParkingToken(ticket: $0)) }) {
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case .notified, .waiting, .closed: return .unparked
        }
    }
}

/// The handle of one parked waiter, for the one who will wake it.
public struct ParkingToken: Sendable, Hashable {
    fileprivate let ticket: WaitTicket

    /// Wakes the waiter; false when its wait had already ended (timed out or cancelled), so
    /// that the event should go to another waiter.
    @discardableResult
    public func unpark() -> Bool {
        ticket.wake(.notified)
    }

    public static func == (lhs: ParkingToken, rhs: ParkingToken) -> Bool {
        lhs.ticket === rhs.ticket
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(ticket))
    }
}
