import Synchronization

/// Who is waiting on a `WaitTicket`, and how to wake it.
enum Waiter: @unchecked Sendable {
    // @unchecked Sendable: a suspended coroutine is handed to its scheduler, which alone
    // resumes it; the other payloads are Sendable.

    /// A coroutine suspended on a scheduler, made ready there when woken.
    case coroutine(ScheduledCoroutine, Scheduler)
    /// A plain thread parked on its parker.
    case thread(Parker)
    /// Code to run on the waker's thread (resumes a Swift-concurrency continuation).
    case callback(@Sendable () -> Void)
}

/// One wait: a coroutine or thread waiting for an event, a deadline, or cancellation.
///
/// Several parties may try to end the same wait (the event, the timer, a cancel); exactly
/// one wins the atomic transition out of `waiting`, and only the winner wakes the waiter.
/// Losers do nothing, so a timer that fires after the event is harmless.
final class WaitTicket: @unchecked Sendable {
    // @unchecked Sendable: `timerMark` is touched only by the thread of the scheduler whose
    // timer queue holds the ticket; everything else is immutable or atomic.

    /// How a wait ended.
    enum Outcome: UInt8, Sendable {
        case waiting
        case notified
        case timedOut
        case cancelled
        /// The descriptor waited on was closed meanwhile.
        case closed
    }

    /// Where the ticket stands in its scheduler's timer queue.
    enum TimerMark {
        /// Not in a timer queue.
        case none
        /// In the queue, its wait still running or not yet seen ending.
        case queued
        /// In the queue, and counted as a timer whose wait already ended otherwise.
        case stale
    }

    let waiter: Waiter
    private let state = Atomic<UInt8>(Outcome.waiting.rawValue)
    /// Owner-thread bookkeeping of the scheduler's timer queue (see `Scheduler.wait`).
    @exclusivity(unchecked) var timerMark = TimerMark.none

    init(_ waiter: Waiter) {
        self.waiter = waiter
    }

    /// How the wait ended, or `.waiting` while it lasts.
    var outcome: Outcome {
        Outcome(rawValue: state.load(ordering: .acquiring)) ?? .waiting
    }

    /// Ends the wait with `outcome` and wakes the waiter, unless the wait already ended.
    @discardableResult
    func wake(_ outcome: Outcome) -> Bool {
        guard state.compareExchange(
            expected: Outcome.waiting.rawValue, desired: outcome.rawValue, ordering: .acquiringAndReleasing
        ).exchanged else { return false }
        switch waiter {
        case .coroutine(let coroutine, let scheduler):
            scheduler.makeReady(coroutine, afterTimeout: outcome == .timedOut)
        case .thread(let parker):
            parker.unpark()
        case .callback(let callback):
            callback()
        }
        return true
    }

    /// Ends the wait without waking the waiter: for a waiter that found its event already
    /// happened and never suspended, so that a later wake cannot resume it by surprise.
    func close() {
        _ = state.compareExchange(
            expected: Outcome.waiting.rawValue, desired: Outcome.notified.rawValue, ordering: .acquiringAndReleasing)
    }

    /// Waits for a ticket handed to `register`: suspends the calling coroutine when a
    /// scheduler resumed it, else blocks the thread, until the ticket is woken, `deadline`
    /// passes or (when `cancellable`) the calling task is cancelled. When `register` returns
    /// false the event already happened and nothing waits.
    static func wait(
        until deadline: UInt64?, reason: WaitReason = .other, cancellable: Bool = true,
        register: (WaitTicket) -> Bool
    ) -> Outcome {
        if let (scheduler, coroutine) = Scheduler.directlyScheduled() {
            return scheduler.wait(
                for: coroutine, until: deadline, reason: reason, cancellable: cancellable, register: register)
        }
        let parker = Parker()
        let ticket = WaitTicket(.thread(parker))
        guard register(ticket) else {
            ticket.close()
            return .notified
        }
        return ticket.blockThread(parker: parker, until: deadline)
    }

    /// Blocks the calling plain thread until the wait ends or `deadline` passes.
    func blockThread(parker: Parker, until deadline: UInt64?) -> Outcome {
        while outcome == .waiting {
            if let deadline {
                let now = monotonicNanoseconds()
                guard now < deadline else {
                    wake(.timedOut)
                    break
                }
                parker.park(timeoutNanoseconds: deadline - now)
            } else {
                parker.park()
            }
        }
        return outcome
    }
}
