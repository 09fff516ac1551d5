import Synchronization

/// The handle of one park, for whoever will end it.
///
/// A coroutine or thread that parks (see `Parking.park`) hands its token to what it waits on:
/// a lock's queue, a channel, a descriptor's watch list, a timer. Several parties may race to
/// end the same park (the event, the deadline, a cancellation); exactly one wins the token's
/// atomic transition out of `parked`, and only the winner wakes the parked party. Losers do
/// nothing, so a timer that fires after the event is harmless.
///
/// A waker ends a park in one step with `unpark()`, or in two when it hands something over:
/// `claim(message:)` decides, under the waker's own lock, that this park is its to end (no
/// timeout or cancellation can end it any more), and `wake()` wakes the parked party once that
/// lock is released. Whatever the waker stores for the parked party between the two (an
/// element, a permit) is visible to it when its park returns.
public final class ParkingToken: @unchecked Sendable, Hashable {
    // @unchecked Sendable: `timerMark` is touched only by the thread of the scheduler whose
    // timer queue holds the token, and `message` only by the claimant before its wake and by
    // the parked party after it (the state's release/acquire orders the two); everything else
    // is immutable or atomic.

    /// How to wake the parked party.
    enum Wakeup: @unchecked Sendable {
        // @unchecked Sendable: a suspended coroutine is handed to its scheduler, which alone
        // resumes it; the other payloads are Sendable.

        /// A coroutine suspended on a scheduler, made ready there. Both unretained, so that a
        /// wake costs no reference counting: the coroutine keeps its token for its next park
        /// (`Scheduler.parkingToken(for:)`), its park owns a reference to it that the wake
        /// hands to the ready queue, and the token holds the scheduler (`home`).
        case coroutine(Unmanaged<ScheduledCoroutine>, Unmanaged<Scheduler>)
        /// A plain thread asleep on its parker.
        case thread(Parker)
        /// Code to run on the waker's thread (resumes a Swift-concurrency continuation).
        case callback(@Sendable () -> Void)
        /// Nothing: the party polls `outcome` instead of parking (a cancelled task that must
        /// still wait its turn, which no park of its can do).
        case polling
    }

    /// Where the token stands in its scheduler's timer queue.
    enum TimerMark {
        /// Not in a timer queue.
        case none
        /// In the queue, its park still running or not yet seen ending.
        case queued
        /// In the queue, and counted as a timer whose park already ended otherwise.
        case stale
    }

    /// The park's life: `parked`, then `claimed` for a two-step waker, then one of the
    /// outcomes for good.
    private enum State: UInt8 {
        case parked
        case claimed
        case unparked
        case notParked
        case timedOut
        case cancelled
        case closed

        var outcome: Parking.Outcome? {
            switch self {
            case .parked, .claimed: nil
            case .unparked: .unparked
            case .notParked: .notParked
            case .timedOut: .timedOut
            case .cancelled: .cancelled
            case .closed: .closed
            }
        }

        init(_ outcome: Parking.Outcome) {
            self = switch outcome {
            case .unparked: .unparked
            case .notParked: .notParked
            case .timedOut: .timedOut
            case .cancelled: .cancelled
            case .closed: .closed
            }
        }
    }

    let wakeup: Wakeup
    /// The scheduler of a `.coroutine` wakeup, kept alive for as long as anything may wake it.
    private let home: Scheduler?
    private let state = Atomic<UInt8>(State.parked.rawValue)
    /// Owner-thread bookkeeping of the scheduler's timer queue (see `Scheduler.park`).
    @exclusivity(unchecked) var timerMark = TimerMark.none
    /// What the claimant left for the parked party (a select's case, a closed channel).
    @exclusivity(unchecked) private var storedMessage: UInt = 0

    init(_ wakeup: Wakeup) {
        self.wakeup = wakeup
        home = nil
    }

    /// A token that makes `coroutine` ready on `scheduler`.
    init(waking coroutine: Unmanaged<ScheduledCoroutine>, on scheduler: Scheduler) {
        wakeup = .coroutine(coroutine, Unmanaged.passUnretained(scheduler))
        home = scheduler
    }

    /// A token no park uses, for a party that polls `outcome` instead (see `Wakeup.polling`).
    public static func polling() -> ParkingToken {
        ParkingToken(.polling)
    }

    /// How the park ended, or nil while it lasts (claimed but not yet woken included).
    public var outcome: Parking.Outcome? {
        State(rawValue: state.load(ordering: .acquiring))?.outcome
    }

    /// What the waker passed to `claim(message:)`; read it once the park ended `.unparked`.
    public var message: UInt {
        storedMessage
    }

    /// Ends the park as `.unparked` and wakes the parked party; false when the park had
    /// already ended (timed out, cancelled, claimed by another), so that the event should go
    /// to another party.
    @discardableResult
    public func unpark() -> Bool {
        end(.unparked)
    }

    /// Decides that this waker ends the park, without waking the parked party yet: call it
    /// under the lock that guards what is handed over, then `wake()` once that lock is
    /// released. False when the park had already ended or was claimed by another waker.
    /// `message` is for the parked party to read (`message`) when its park returns.
    public func claim(message: UInt = 0) -> Bool {
        guard exchange(from: .parked, to: .claimed) else { return false }
        storedMessage = message
        return true
    }

    /// Wakes the party of a park this waker claimed; the park ends `.unparked`.
    public func wake() {
        let previous = state.exchange(State.unparked.rawValue, ordering: .acquiringAndReleasing)
        precondition(previous == State.claimed.rawValue, "wake() without a successful claim()")
        deliverWakeup(.unparked)
    }

    /// Ends the park with `outcome` and wakes the parked party, unless it already ended or
    /// was claimed.
    @discardableResult
    func end(_ outcome: Parking.Outcome) -> Bool {
        guard exchange(from: .parked, to: State(outcome)) else { return false }
        deliverWakeup(outcome)
        return true
    }

    /// Makes a token whose park ended ready for the next park of the same party. Only for a
    /// token nothing else holds any more (no queue, timer or waker), so no one can see it
    /// between two parks.
    func rearm() {
        state.store(State.parked.rawValue, ordering: .relaxed)
        timerMark = .none
        storedMessage = 0
    }

    /// Whether this token wakes `coroutine` on `scheduler`.
    func wakes(_ coroutine: Unmanaged<ScheduledCoroutine>, on scheduler: Scheduler) -> Bool {
        guard case .coroutine(let parked, _) = wakeup else { return false }
        return parked.toOpaque() == coroutine.toOpaque() && home === scheduler
    }

    /// Ends the park as `outcome` without waking anyone, for a party that never suspended:
    /// its registration found its event already happened (`.notParked`), or it was cancelled
    /// before it began (`.cancelled`). A later wake then cannot resume it by surprise.
    func cancelPark(as outcome: Parking.Outcome = .notParked) {
        _ = exchange(from: .parked, to: State(outcome))
    }

    private func exchange(from expected: State, to desired: State) -> Bool {
        state.compareExchange(
            expected: expected.rawValue, desired: desired.rawValue, ordering: .acquiringAndReleasing
        ).exchanged
    }

    private func deliverWakeup(_ outcome: Parking.Outcome) {
        switch wakeup {
        case .coroutine(let coroutine, let scheduler):
            // Sound: the park owns a reference to the coroutine, which this wake hands to the
            // ready queue (only the party that ended the park gets here, once), and `home`
            // holds the scheduler.
            scheduler._withUnsafeGuaranteedRef {
                $0.makeReady(coroutine, afterTimeout: outcome == .timedOut)
            }
        case .thread(let parker):
            parker.unpark()
        case .callback(let callback):
            callback()
        case .polling:
            break
        }
    }

    /// Blocks the calling plain thread, parked on `parker` (this token's), until the park
    /// ends; at `deadline` it ends it as `.timedOut` unless a waker claimed it first.
    func blockThread(parker: Parker, until deadline: UInt64?) -> Parking.Outcome {
        while true {
            if let outcome {
                return outcome
            }
            guard let deadline else {
                parker.park()
                continue
            }
            let now = monotonicNanoseconds()
            if now >= deadline, end(.timedOut) {
                return .timedOut
            }
            // Before the deadline, or claimed by a waker whose wake is on its way.
            parker.park(timeoutNanoseconds: now < deadline ? deadline - now : nil)
        }
    }

    public static func == (lhs: ParkingToken, rhs: ParkingToken) -> Bool {
        lhs === rhs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }
}
