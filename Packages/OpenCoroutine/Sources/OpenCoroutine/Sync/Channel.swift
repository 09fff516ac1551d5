import CoroutineCore
import DequeModule
import Synchronization

/// A first-in, first-out queue between coroutines and threads: senders put elements in,
/// receivers take them out, each element exactly once.
///
/// A bounded channel holds at most `capacity` elements: `send` waits while it is full. A
/// channel of capacity 0 holds none, a rendezvous as Go's unbuffered `chan`: each `send` waits
/// until a receiver takes its element. An unbounded channel never makes `send` wait. `receive` waits while the channel is empty, and
/// returns nil once it is closed and every element sent before was received. Inside a runtime
/// task a wait suspends only the task; on a plain thread it blocks the thread.
///
/// A receiver waiting on an empty channel gets the next element directly from its sender, and
/// a sender waiting on a full channel gets its element into the buffer as soon as a slot
/// frees, so waiters are served in the order they came. `for element in channel` receives
/// until the channel is closed and drained. `Select` waits on several channels at once, or
/// with a timeout.
///
/// ```swift
/// let jobs = try Channel<Int>(capacity: 16)
/// try co {
///     for n in 1...100 { try jobs.send(n) }
///     jobs.close()
/// }
/// for job in jobs { print(job) }          // 1 to 100, then the loop ends
/// ```
public final class Channel<Element: Sendable>: Sendable {
    /// Where a sender leaves the element for a receiver parked on an empty channel: the
    /// receiver's own storage, which outlives its park (a local of `receive`, or a select's
    /// `Mailbox`).
    @usableFromInline
    typealias Slot = UnsafeMutablePointer<Element?>

    /// A slot for a select's receive, whose result is read after `wait` returned.
    @usableFromInline
    final class Mailbox: @unchecked Sendable {
        // @unchecked Sendable: written by the sender that claimed the receiver's token, before
        // its wake; read by the receiver after its park ended, which the token orders after.
        @usableFromInline let slot = Slot.allocate(capacity: 1)

        @inlinable
        init() {
            slot.initialize(to: nil)
        }

        deinit {
            slot.deinitialize(count: 1)
            slot.deallocate()
        }

        /// What the sender left.
        @inlinable
        var element: Element? {
            slot.pointee
        }
    }

    /// What a receive finds ready.
    @usableFromInline
    enum Taken: Sendable {
        case element(Element)
        case closed

        /// The element, or nil for a closed and drained channel.
        @inlinable
        var element: Element? {
            guard case .element(let element) = self else { return nil }
            return element
        }
    }

    @usableFromInline
    struct Receiver {
        @usableFromInline let token: ParkingToken
        /// The receiver's case in its select.
        @usableFromInline let index: Int
        @usableFromInline let slot: Slot

        @inlinable
        init(token: ParkingToken, index: Int, slot: Slot) {
            self.token = token
            self.index = index
            self.slot = slot
        }
    }

    @usableFromInline
    struct Sender {
        @usableFromInline let token: ParkingToken
        @usableFromInline let element: Element

        @inlinable
        init(token: ParkingToken, element: Element) {
            self.token = token
            self.element = element
        }
    }

    @usableFromInline
    struct State {
        @usableFromInline var buffer = Deque<Element>()
        /// Waiting only while the buffer is empty: a send hands its element to one directly.
        @usableFromInline var receivers = Deque<Receiver>()
        /// Waiting only while the buffer is full (always, in a rendezvous channel): a receive
        /// moves one's element into it, or takes it directly.
        @usableFromInline var senders = Deque<Sender>()
        @usableFromInline var isClosed = false

        @inlinable
        init() {}

        /// Takes the oldest element (or notes the closure) and lets the longest-waiting
        /// sender into the freed slot; returns that sender, to be woken.
        @inlinable
        mutating func take() -> (taken: Taken, sender: ParkingToken?)? {
            guard let element = buffer.popFirst() else {
                // Senders wait on an empty buffer only in a rendezvous channel (capacity 0):
                // the element comes straight from the longest-waiting one.
                while let sender = senders.popFirst() {
                    if sender.token.claim() {
                        return (.element(sender.element), sender.token)
                    }
                }
                return isClosed ? (.closed, nil) : nil
            }
            while let sender = senders.popFirst() {
                if sender.token.claim() {
                    buffer.append(sender.element)
                    return (.element(element), sender.token)
                }
            }
            return (.element(element), nil)
        }
    }

    /// What a send did.
    @usableFromInline
    enum Offer: Sendable {
        /// Sent: into the buffer, or to the waiting receiver to be woken.
        case sent(receiver: ParkingToken?)
        case closed
        /// The buffer is full and the sender was queued (or, with no sender, was not).
        case full
    }

    /// The most elements the channel holds; nil when it is unbounded.
    public let capacity: Int?
    @usableFromInline let state = UnpreemptedMutex(State())
    /// Whether a receive may find something without waiting (an element, a waiting sender, or
    /// the closure), as the last critical section left the state. A hint, read without the
    /// lock: `poll` skips the lock when it says no, and a receive that then parks finds what
    /// came meanwhile under the lock, as it would have without the hint.
    @usableFromInline let mayReceive = Atomic<Bool>(false)

    /// Creates a bounded channel: `send` waits while it holds `capacity` elements. With
    /// capacity 0, a rendezvous: `send` waits until a receiver takes the element.
    ///
    /// - Throws: `ChannelError.invalidCapacity` when `capacity` is negative.
    public init(capacity: Int) throws(ChannelError) {
        guard capacity >= 0 else { throw .invalidCapacity(capacity) }
        self.capacity = capacity
    }

    /// Creates an unbounded channel: `send` never waits.
    public init() {
        capacity = nil
    }

    /// Runs `body` on the state under its lock, then updates `mayReceive`.
    @inlinable
    func withState<Result: Sendable>(_ body: (inout State) -> Result) -> Result {
        state.withLock { state in
            let result = body(&state)
            // Relaxed: only a hint (see `mayReceive`); a reader that happens after this
            // section sees it or a later value all the same.
            mayReceive.store(!state.buffer.isEmpty || !state.senders.isEmpty || state.isClosed, ordering: .relaxed)
            return result
        }
    }

    /// Whether `close()` was called; elements sent before may still be waiting to be received.
    @inlinable
    public var isClosed: Bool {
        state.withLock { $0.isClosed }
    }

    /// Sends `element`, waiting while the channel is full.
    ///
    /// - Throws: `ChannelError.closed` when the channel is closed, before or during the wait
    ///   (the element is not sent); `CoroutineError.cancelled` when the calling task is
    ///   cancelled while it waits (the element is not sent). Nothing else; the two types keep
    ///   the signature untyped, and a cancellation stays the `CoroutineError.cancelled` every
    ///   other wait throws.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    @inlinable
    public func send(_ element: Element) throws {
        _ = try send(element, untilNanoseconds: nil)
    }

    /// Sends `element`, waiting at most `timeout` while the channel is full.
    ///
    /// - Returns: true when sent, false when `timeout` passed first (the element is not sent).
    /// - Throws: as `send(_:)`.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    @inlinable
    public func send(_ element: Element, timeout: Duration) throws -> Bool {
        try send(element, untilNanoseconds: Parking.nanoseconds(at: .now + timeout))
    }

    /// Receives the oldest element, waiting while the channel is empty.
    ///
    /// To wait with a timeout, or on several channels, use `Select`.
    ///
    /// - Returns: the element, or nil once the channel is closed and drained.
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled while it waits.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    @inlinable
    public func receive() throws(CoroutineError) -> Element? {
        // What a one-channel `Select` would do, without its closures and arrays: a receive is
        // the channel's hot path.
        if let ready = poll() {
            return ready.element
        }
        var element: Element?
        // The sender writes the element into this local, through the slot, while the receiver
        // is parked: a claimed park cannot end any other way, so the local outlives the write.
        let handover = try withUnsafeMutablePointer(to: &element) { slot throws(CoroutineError) in
            try Parking.parkForHandover(untilNanoseconds: nil) { token in
                enroll(token, as: 0, into: slot) != .completed
            } withdraw: { token in
                withdraw(token)
            }
        }
        // With no deadline, only a cancellation (thrown) ends the park without a handover.
        guard handover != nil else { throw .cancelled }
        return element
    }

    /// Closes the channel: further sends throw `ChannelError.closed`, including those waiting
    /// now; receivers get the elements already sent, then nil. Closing twice does nothing.
    @inlinable
    public func close() {
        let woken = withState { state -> [ParkingToken] in
            guard !state.isClosed else { return [] }
            state.isClosed = true
            // Receivers wait only on an empty buffer, so for them the channel is now drained.
            let receivers = state.receivers.filter { $0.token.claim(Handover(index: $0.index, closed: true)) }
            let senders = state.senders.filter { $0.token.claim(Handover(closed: true)) }
            state.receivers.removeAll()
            state.senders.removeAll()
            return receivers.map(\.token) + senders.map(\.token)
        }
        for token in woken {
            token.wake()
        }
    }

    @inlinable
    func send(_ element: Element, untilNanoseconds deadline: UInt64?) throws -> Bool {
        switch offer(element, from: nil) {
        case .sent(let receiver):
            receiver?.wake()
            return true
        case .closed:
            throw ChannelError.closed
        case .full:
            break
        }
        let handover = try Parking.parkForHandover(untilNanoseconds: deadline) { sender in
            switch offer(element, from: sender) {
            case .sent(let receiver):
                receiver?.wake()
                _ = sender.claim()
                return false
            case .closed:
                _ = sender.claim(Handover(closed: true))
                return false
            case .full:
                return true
            }
        } withdraw: { sender in
            withState { $0.senders.removeAll { $0.token === sender } }
        }
        guard let handover else { return false }
        if handover.closed {
            throw ChannelError.closed
        }
        return true
    }

    /// Hands `element` to the longest-waiting receiver, or puts it in the buffer; when the
    /// buffer is full, queues `sender` if there is one.
    @inlinable
    func offer(_ element: Element, from sender: ParkingToken?) -> Offer {
        withState { state in
            guard !state.isClosed else { return .closed }
            while let receiver = state.receivers.popFirst() {
                let handover = Handover(index: receiver.index)
                if receiver.token.claim(handover, deliver: { receiver.slot.pointee = element }) {
                    return .sent(receiver: receiver.token)
                }
            }
            if state.buffer.count < capacity ?? .max {
                state.buffer.append(element)
                return .sent(receiver: nil)
            }
            if let sender {
                state.senders.append(Sender(token: sender, element: element))
            }
            return .full
        }
    }

    /// Takes what is ready now, without waiting: an element, or the closure of a drained
    /// channel.
    @inlinable
    func poll() -> Taken? {
        guard mayReceive.load(ordering: .relaxed) else { return nil }
        let ready = withState { $0.take() }
        ready?.sender?.wake()
        return ready?.taken
    }

    /// Claims `token` as case `index` of a select with what is ready now, leaving the
    /// element in `slot`; queues it as a receiver when nothing is ready.
    @inlinable
    func enroll(_ token: ParkingToken, as index: Int, into slot: Slot) -> SelectEnrollment {
        var sender: ParkingToken?
        let enrollment = withState { state -> SelectEnrollment in
            if state.buffer.isEmpty && !state.isClosed {
                return enrollAtRendezvous(token, as: index, into: slot, state: &state, sender: &sender)
            }
            let handover = Handover(index: index, closed: state.buffer.isEmpty)
            let completed = token.claim(handover) {
                let ready = state.take()
                slot.pointee = ready?.taken.element
                sender = ready?.sender
            }
            return completed ? .completed : .lost
        }
        sender?.wake()
        return enrollment
    }

    /// `enroll` on an empty buffer: takes the element of the longest-waiting sender (only a
    /// rendezvous channel has senders waiting on an empty buffer), or queues the receiver. The
    /// sender is claimed before the receiver: a select that ended elsewhere then leaves the
    /// element in the buffer for the next receiver, where a lost sender would lose it.
    @inlinable
    func enrollAtRendezvous(
        _ token: ParkingToken, as index: Int, into slot: Slot, state: inout State, sender: inout ParkingToken?
    ) -> SelectEnrollment {
        var claimed: Sender?
        while claimed == nil, let next = state.senders.popFirst() {
            if next.token.claim() { claimed = next }
        }
        guard let claimed else {
            state.receivers.append(Receiver(token: token, index: index, slot: slot))
            return .queued
        }
        sender = claimed.token
        let completed = token.claim(Handover(index: index)) { slot.pointee = claimed.element }
        if !completed {
            state.buffer.prepend(claimed.element)
        }
        return completed ? .completed : .lost
    }

    /// Takes out a receiver whose select ended elsewhere or gave up.
    @inlinable
    func withdraw(_ token: ParkingToken) {
        withState { $0.receivers.removeAll { $0.token === token } }
    }
}

extension Channel: Sequence {
    /// Receives the channel's elements until it is closed and drained. Iteration also ends
    /// when the calling task is cancelled.
    public struct Iterator: IteratorProtocol {
        let channel: Channel

        /// The next element, waiting for it; nil once the channel is closed and drained, or
        /// the calling task was cancelled.
        public mutating func next() -> Element? {
            try? channel.receive()
        }
    }

    /// An iterator that receives from the channel.
    @available(*, noasync, message: "it blocks the calling thread; from async code, run it in a task (co) and await the task's value")
    public func makeIterator() -> Iterator {
        Iterator(channel: self)
    }
}
