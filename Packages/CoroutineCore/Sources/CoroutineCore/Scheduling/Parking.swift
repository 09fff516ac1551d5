import CCoroutineCore

/// Waiting for an event that another coroutine or thread announces: the one wait primitive
/// of the runtime, and the building block of coroutine-aware locks, semaphores and channels.
///
/// `park` suspends the calling coroutine, or blocks the calling plain thread, until its token
/// is unparked, a deadline passes or the calling task is cancelled. The waker finds the token
/// where `register` stored it (a waiter queue guarded by the primitive's lock). Exactly one of
/// unpark, timeout and cancellation ends a park, so a token unparked after its park timed out
/// reports false, and the waker passes the event on to the next party.
public enum Parking {
    /// How a park ended.
    public enum Outcome: Sendable, Equatable {
        /// A waker unparked the token.
        case unparked
        /// The registration found the event already happened: the caller never suspended.
        case notParked
        /// The deadline passed first.
        case timedOut
        /// The calling task was cancelled first.
        case cancelled
        /// The descriptor waited on was closed meanwhile (descriptor waits only).
        case closed
    }

    /// Parks the caller until the token handed to `register` is unparked, `deadline` passes
    /// or (when `cancellable`) the calling task is cancelled.
    ///
    /// `register` runs before the caller suspends; returning false means the event already
    /// happened, and the call returns `.notParked` at once. `register` must not return false
    /// once it handed the token to anyone who may unpark it: that unpark would then resume a
    /// caller that never suspended (unpark the token instead, and return true).
    ///
    /// `lock` names what the caller waits on (a lock or semaphore, by address), for the dump:
    /// the coroutine shows as "parked on lock 0x…" instead of "waiting to be woken".
    public static func park(
        until deadline: ContinuousClock.Instant? = nil, on lock: UnsafeRawPointer? = nil,
        cancellable: Bool = true, _ register: (ParkingToken) -> Bool
    ) -> Outcome {
        park(untilNanoseconds: deadline.map(nanoseconds(at:)), on: lock, cancellable: cancellable, register)
    }

    /// `park` with its deadline on the runtime's clock (see `nanoseconds(at:)`), nil for none.
    ///
    /// For the hot paths of sync primitives: `ContinuousClock.Instant` is a resilient type,
    /// so every optional one passed and tested costs calls into the Swift runtime.
    public static func park(
        untilNanoseconds deadline: UInt64?, on lock: UnsafeRawPointer? = nil,
        cancellable: Bool = true, _ register: (ParkingToken) -> Bool
    ) -> Outcome {
        park(untilNanoseconds: deadline, reason: lock.map(WaitReason.lock) ?? .other, cancellable: cancellable,
             register: register)
    }

    /// `park`, then `settle` with the token and how the park ended, before returning: the
    /// token is still the caller's there, to read what a waker left in it (its `message`) or
    /// to take it out of the queues it was put in, without a reference to it kept past the
    /// park. The wait of a sync primitive needs both, and every wait of a channel is one.
    public static func park(
        untilNanoseconds deadline: UInt64?, on lock: UnsafeRawPointer? = nil, cancellable: Bool = true,
        _ register: (ParkingToken) -> Bool, settle: (ParkingToken, Outcome) -> Void
    ) {
        park(untilNanoseconds: deadline, reason: lock.map(WaitReason.lock) ?? .other, cancellable: cancellable,
             register: register, settle: settle)
    }

    /// `instant` on the runtime's clock: monotonic nanoseconds, the time base of every
    /// deadline of the runtime (saturating: an instant too far ahead is the clock's end).
    public static func nanoseconds(at instant: ContinuousClock.Instant) -> UInt64 {
        deadlineNanoseconds(after: ContinuousClock.now.duration(to: instant))
    }

    /// `park` with a deadline in monotonic nanoseconds and the reason the dump shows: a
    /// coroutine a scheduler resumed suspends (see `Scheduler.park`), anything else (a plain
    /// thread, a generator nested in a coroutine) blocks its thread. `settle` sees the token and
    /// the outcome before the park returns (see `park(untilNanoseconds:on:cancellable:_:settle:)`).
    @discardableResult
    static func park(
        untilNanoseconds deadline: UInt64?, reason: WaitReason, cancellable: Bool = true,
        register: (ParkingToken) -> Bool, settle: (ParkingToken, Outcome) -> Void = { _, _ in }
    ) -> Outcome {
        if let slot = oc_scheduler_get() {
            // Sound: the slot holds the scheduler running this thread's loop (see
            // `Scheduler.current`); borrowed, so a park costs no reference counting of it.
            let outcome = Unmanaged<Scheduler>.fromOpaque(slot)._withUnsafeGuaranteedRef { scheduler in
                scheduler.directlyRunning.map {
                    scheduler.park($0, until: deadline, reason: reason, cancellable: cancellable,
                                   register: register, settle: settle)
                }
            }
            if let outcome {
                return outcome
            }
        }
        let parker = Parker()
        let token = ParkingToken(.thread(parker))
        let outcome: Outcome
        if register(token) {
            outcome = token.blockThread(parker: parker, until: deadline)
        } else {
            token.cancelPark()
            outcome = .notParked
        }
        settle(token, outcome)
        return outcome
    }
}
