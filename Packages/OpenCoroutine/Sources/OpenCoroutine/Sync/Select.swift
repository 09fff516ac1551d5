import CoroutineCore
/// Waits on several channels at once and receives from the first that has something: an
/// element, or its closure.
///
/// Build a select with one `receive(from:_:)` per channel; each gives a closure that turns
/// what that channel delivered into the select's result, so the result tells which channel
/// delivered what. `wait()` waits for the first channel; `wait(timeout:)` gives up after a
/// timeout and returns nil. Channels that are ready at once are tried in the order they were
/// added. Exactly one channel delivers per wait: the others keep their elements.
///
/// ```swift
/// enum Event { case click(Point?), key(Character?) }
/// let event = try Select<Event>()
///     .receive(from: clicks) { .click($0) }     // nil: `clicks` is closed and drained
///     .receive(from: keys) { .key($0) }
///     .wait(timeout: .seconds(1))               // nil: nothing arrived within a second
/// ```
///
/// Inside a runtime task a wait suspends only the task; on a plain thread it blocks the thread.
public struct Select<Result> {
    /// One channel's receive, for any element type.
    private struct Case {
        /// Takes what the channel has ready now, without waiting.
        let poll: () -> Result?
        /// Starts one wait on the channel.
        let start: () -> PendingReceive
    }

    /// One channel's receive during one wait.
    private struct PendingReceive {
        let enroll: (ParkingToken, _ index: Int) -> SelectEnrollment
        let withdraw: (ParkingToken) -> Void
        /// The result, once this receive completed the wait.
        let result: () -> Result
    }

    private var cases: [Case] = []

    /// Creates a select with no channel yet.
    public init() {}

    /// Adds a receive from `channel`; when it is the one that delivers, the select's result is
    /// `handle` applied to the element, or to nil when the channel is closed and drained.
    public func receive<Element>(from channel: Channel<Element>, _ handle: @escaping (Element?) -> Result) -> Select {
        var select = self
        select.cases.append(Case(
            poll: { channel.poll().map { handle($0.element) } },
            start: {
                let mailbox = Channel<Element>.Mailbox()
                return PendingReceive(
                    enroll: { channel.enroll($0, as: $1, into: mailbox.slot) },
                    withdraw: { channel.withdraw($0) },
                    result: { handle(mailbox.element) })
            }))
        return select
    }

    /// Waits until one of the channels delivers.
    ///
    /// - Returns: the result of that channel's closure.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait() throws(CoroutineError) -> Result {
        while true {
            // Only a deadline ends a wait without a result, and there is none.
            if let result = try wait(until: nil) {
                return result
            }
        }
    }

    /// Waits at most `timeout` for one of the channels to deliver.
    ///
    /// - Returns: the result of that channel's closure, or nil when `timeout` passed first.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func wait(timeout: Duration) throws(CoroutineError) -> Result? {
        try wait(until: .now + timeout)
    }

    private func wait(until deadline: ContinuousClock.Instant?) throws(CoroutineError) -> Result? {
        for receive in cases {
            if let result = receive.poll() {
                return result
            }
        }
        let pending = cases.map { $0.start() }
        var enrolled: ParkingToken?
        let handover = try Parking.parkForHandover(untilNanoseconds: deadline.map(Parking.nanoseconds(at:))) { token in
            enrolled = token
            for (index, receive) in pending.enumerated() {
                switch receive.enroll(token, index) {
                case .queued:
                    continue
                case .completed:
                    // The channels before this one already hold the token: only a wakeup
                    // ends a park now, so the select wakes itself.
                    guard index == 0 else {
                        token.wake()
                        return true
                    }
                    return false
                case .lost:
                    // A channel it was queued in claimed it meanwhile, and wakes it.
                    return true
                }
            }
            return true
        } withdraw: { token in
            for receive in pending {
                receive.withdraw(token)
            }
        }
        guard let handover else { return nil }
        // The winner took the token out of its queue; the others may still hold it.
        if let token = enrolled {
            for (index, receive) in pending.enumerated() where index != handover.index {
                receive.withdraw(token)
            }
        }
        return pending[handover.index].result()
    }
}

/// How a channel took in a select's waiter.
@usableFromInline
enum SelectEnrollment: Sendable {
    /// Nothing was ready: the token is queued as a receiver.
    case queued
    /// Something was ready, and the token is claimed with it.
    case completed
    /// Something was ready, but another channel had claimed the token first.
    case lost
}
