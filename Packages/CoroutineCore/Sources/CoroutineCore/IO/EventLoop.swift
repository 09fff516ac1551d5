import CCoroutineCore
import Glibc
import Synchronization

/// Readiness a coroutine can wait for on a file descriptor.
public struct FileEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The descriptor can be read (or its peer hung up, or it has an error).
    public static let readable = FileEvents(rawValue: 1 << 0)
    /// The descriptor can be written (or it has an error).
    public static let writable = FileEvents(rawValue: 1 << 1)
}

/// A thread's epoll instance: where its scheduler parks, and how it learns that the file
/// descriptors its coroutines wait on became ready.
///
/// Each descriptor is registered once, edge-triggered, for both directions, and stays
/// registered: waiting on it again costs no `epoll_ctl`. Because edges are only reported
/// on change, a coroutine must try its operation first and wait only after `EAGAIN`; the
/// edge that follows always finds it waiting, since only this thread calls `epoll_wait`,
/// and only after the coroutine suspended.
///
/// A registration is tagged with the descriptor's generation (see `Descriptor`). When the
/// number is closed or reused, the registration is stale: its waiters wake as `.closed`
/// and the next wait registers the new file afresh. A close on any thread reaches every
/// loop that registered the number: each loop holds a slot, the descriptor table records
/// the slots that registered it, and the closing thread asks those loops to drop it.
///
/// Another thread wakes the loop through an eventfd, and only when it is parked: a state
/// word, as in `Parker`, makes an unpark before the park free and never lost.
final class EventLoop: @unchecked Sendable {
    // @unchecked Sendable: the registrations belong to the owner thread; other threads only
    // call `unpark`, which touches the atomic state and the eventfd.

    private let epoll: Int32
    private let wakeup: Int32
    private let state = Atomic<UInt32>(LoopState.running.rawValue)
    /// This loop's place in the directory of loops, which descriptors record as a bit.
    private(set) var slot = 0
    /// Descriptors closed by other threads whose registrations here may be stale.
    private let closedElsewhere = Mutex<[Int32]>([])
    private let hasClosedElsewhere = Atomic<Bool>(false)
    /// Waiters per registered descriptor. Owner thread only.
    @exclusivity(unchecked) private var registrations = RegistrationTable()
    /// Tokens handed to `watch` and not yet woken, withdrawn or forgotten.
    @exclusivity(unchecked) private var waiterCount = 0
    /// Reused by every `park` to receive events.
    @exclusivity(unchecked) private var events: [oc_ready_event]
    /// The thread's io_uring, made on first use.
    @exclusivity(unchecked) private var ringState = RingState.untried

    private enum RingState {
        case untried
        case ready(Ring)
        case unavailable
    }

    private enum LoopState: UInt32 {
        case running, parked, unparkPending
    }

    private struct Registration {
        /// The descriptor's generation when it was registered.
        let generation: UInt32
        var readers: [ParkingToken] = []
        var writers: [ParkingToken] = []

        /// Hands over the waiters for `events`, leaving none.
        mutating func take(readable: Bool, writable: Bool) -> (readers: [ParkingToken], writers: [ParkingToken]) {
            var taken: ([ParkingToken], [ParkingToken]) = ([], [])
            if readable { swap(&taken.0, &readers) }
            if writable { swap(&taken.1, &writers) }
            return taken
        }

        /// Removes `token` wherever it waits; returns how many places that was.
        mutating func remove(_ token: ParkingToken) -> Int {
            let before = readers.count + writers.count
            readers.removeAll { $0 === token }
            writers.removeAll { $0 === token }
            return before - readers.count - writers.count
        }
    }

    /// Registrations indexed by descriptor number: descriptors are small dense integers, and
    /// this lookup runs for every event and every wait.
    private struct RegistrationTable {
        private var slots: [Registration?] = []
        private(set) var count = 0

        subscript(fd: Int32) -> Registration? {
            get {
                fd >= 0 && Int(fd) < slots.count ? slots[Int(fd)] : nil
            }
            _modify {
                let index = Int(fd)
                if index >= slots.count {
                    slots.append(contentsOf: repeatElement(nil, count: max(index + 1, 2 * slots.count) - slots.count))
                }
                let wasRegistered = slots[index] != nil
                yield &slots[index]
                count += (slots[index] != nil ? 1 : 0) - (wasRegistered ? 1 : 0)
            }
        }

        mutating func removeValue(forKey fd: Int32) -> Registration? {
            guard let registration = self[fd] else { return nil }
            self[fd] = nil
            return registration
        }
    }

    /// Creates the epoll instance and its wakeup eventfd.
    init() throws(SystemError) {
        epoll = oc_epoll_create()
        guard epoll >= 0 else { throw SystemError(operation: "epoll_create1", code: errno) }
        wakeup = oc_eventfd_create()
        guard wakeup >= 0 else {
            let code = errno
            _ = oc_sys_close(epoll)
            throw SystemError(operation: "eventfd", code: code)
        }
        guard oc_epoll_add_wakeup(epoll, wakeup) == 0 else {
            let code = errno
            _ = oc_sys_close(wakeup)
            _ = oc_sys_close(epoll)
            throw SystemError(operation: "epoll_ctl", code: code)
        }
        events = Array(repeating: oc_ready_event(), count: 128)
        slot = EventLoop.directory.withLock { loops in
            let free = loops.firstIndex { $0.loop == nil } ?? loops.endIndex
            if free == loops.endIndex {
                loops.append(WeakEventLoop())
            }
            loops[free].loop = self
            return free
        }
    }

    deinit {
        _ = oc_sys_close(wakeup)
        _ = oc_sys_close(epoll)
    }

    // MARK: - Parking

    /// Waits until unparked, a descriptor event, or `timeout` nanoseconds (nil: no limit),
    /// and wakes the waiters of every descriptor that became ready.
    func park(timeoutNanoseconds timeout: UInt64? = nil) {
        // An unpark that came first is consumed without sleeping, but ready
        // descriptors are still collected.
        let unparkCameFirst = state.exchange(LoopState.running.rawValue, ordering: .acquiring) == LoopState.unparkPending.rawValue
        let sleeps = !unparkCameFirst && state.compareExchange(
            expected: LoopState.running.rawValue, desired: LoopState.parked.rawValue, ordering: .acquiring
        ).exchanged
        poll(timeoutMilliseconds: sleeps ? pollTimeoutMilliseconds(nanoseconds: timeout) : 0)
        state.store(LoopState.running.rawValue, ordering: .releasing)
    }

    /// Wakes the parked loop, or makes its next `park` return at once.
    func unpark() {
        if state.exchange(LoopState.unparkPending.rawValue, ordering: .acquiringAndReleasing) == LoopState.parked.rawValue {
            oc_eventfd_signal(wakeup)
        }
    }

    /// Collects descriptor events without sleeping.
    func pollReady() {
        poll(timeoutMilliseconds: 0)
    }

    private func poll(timeoutMilliseconds: Int32) {
        defer { dropClosedElsewhere() }
        let count = events.withUnsafeMutableBufferPointer { buffer in
            oc_epoll_collect(epoll, buffer.baseAddress, Int32(buffer.count), timeoutMilliseconds)
        }
        guard count > 0 else { return }
        for event in events[0..<Int(count)] {
            if event.fd == wakeup {
                oc_eventfd_drain(wakeup)
            } else if case .ready(let ring) = ringState, event.fd == ring.completionSignal {
                oc_eventfd_drain(ring.completionSignal)
                ring.reap()
            } else {
                dispatch(event)
            }
        }
    }

    private func dispatch(_ event: oc_ready_event) {
        if event.readable != 0 {
            Descriptor.existing(event.fd)?.noteReadable(hungUp: event.hung_up != 0)
        }
        guard let (readers, writers) = registrations[event.fd]?.take(readable: event.readable != 0, writable: event.writable != 0) else {
            return
        }
        waiterCount -= readers.count + writers.count
        for token in readers {
            token.unpark()
        }
        for token in writers {
            token.unpark()
        }
    }

    // MARK: - Descriptors

    /// Hands `token` the next readiness of `fd` for `interest`, registering `fd` on first
    /// use in its current generation. Throws the errno of `epoll_ctl` (EBADF for a closed
    /// descriptor, EPERM for one epoll cannot watch, such as a regular file), or EBADF when
    /// the descriptor was closed while it was being registered.
    func watch(fd: Int32, for interest: FileEvents, token: ParkingToken) throws(SystemError) {
        let generation = Descriptor.generation(of: fd)
        if let registered = registrations[fd]?.generation, registered != generation {
            drop(fd, waking: .closed)
        }
        if registrations[fd] == nil {
            try register(fd, generation: generation)
        }
        if interest.contains(.readable) {
            registrations[fd]?.readers.append(token)
            waiterCount += 1
        }
        if interest.contains(.writable) {
            registrations[fd]?.writers.append(token)
            waiterCount += 1
        }
    }

    private func register(_ fd: Int32, generation: UInt32) throws(SystemError) {
        guard oc_epoll_watch(epoll, fd) == 0 else { throw SystemError(operation: "epoll_ctl", code: errno) }
        registrations[fd] = Registration(generation: generation)
        guard let descriptor = Descriptor.existing(fd) else { return }
        descriptor.registered(inSlot: slot)
        // A close between reading the generation and recording the slot missed this loop:
        // the registration is already stale, and so is the wait.
        guard descriptor.generation == generation else {
            drop(fd, waking: .closed)
            throw SystemError(operation: "epoll_ctl", code: EBADF)
        }
    }

    /// Takes back a token whose wait ended otherwise (timeout, cancellation), so that it no
    /// longer counts as waiting.
    func withdraw(_ token: ParkingToken, fd: Int32) {
        waiterCount -= registrations[fd]?.remove(token) ?? 0
    }

    /// Deregisters `fd` and ends its waits with `outcome`.
    private func drop(_ fd: Int32, waking outcome: Parking.Outcome) {
        guard let registration = registrations.removeValue(forKey: fd) else { return }
        // Fails harmlessly when the number was closed (the kernel dropped it) or now names
        // another file (whose registration, if any, is not this one).
        _ = oc_epoll_forget(epoll, fd)
        waiterCount -= registration.readers.count + registration.writers.count
        for token in registration.readers + registration.writers {
            token.end(outcome)
        }
    }

    /// Drops the registration of `fd` if the number moved on to a new generation.
    private func dropIfStale(_ fd: Int32) {
        if let registered = registrations[fd]?.generation, registered != Descriptor.generation(of: fd) {
            drop(fd, waking: .closed)
        }
    }

    private func dropClosedElsewhere() {
        guard hasClosedElsewhere.load(ordering: .acquiring) else { return }
        let closed = closedElsewhere.withLock { closed in
            hasClosedElsewhere.store(false, ordering: .releasing)
            defer { closed.removeAll() }
            return closed
        }
        for fd in closed {
            dropIfStale(fd)
        }
    }

    // MARK: - The directory of loops

    private final class WeakEventLoop: @unchecked Sendable {
        // @unchecked Sendable: only read and written under the directory's lock.
        weak var loop: EventLoop?
    }

    /// Every live loop, by slot.
    private static let directory = Mutex<[WeakEventLoop]>([])

    /// Makes the loops in `slots` (a bit per slot % 64) drop their registrations of `fd`,
    /// whose generation just ended: at once for the calling thread's own loop, through a
    /// request and an unpark for the others.
    static func dropStaleRegistrations(of fd: Int32, inSlots slots: UInt64) {
        let own = Scheduler.current?.eventLoop
        let targets = directory.withLock { loops in
            loops.indices.filter { slots & (1 << UInt64($0 % 64)) != 0 }.compactMap { loops[$0].loop }
        }
        for loop in targets {
            if loop === own {
                loop.dropIfStale(fd)
            } else {
                loop.closedElsewhere.withLock { closed in
                    closed.append(fd)
                    loop.hasClosedElsewhere.store(true, ordering: .releasing)
                }
                loop.unpark()
            }
        }
    }

    /// Descriptors registered, for tests.
    var registeredCount: Int {
        registrations.count
    }

    /// Whether any coroutine waits on a descriptor or an io_uring operation: the scheduler
    /// then polls between rounds.
    var hasWaiters: Bool {
        if waiterCount > 0 { return true }
        guard case .ready(let ring) = ringState else { return false }
        return ring.inFlight > 0
    }

    /// The thread's io_uring, made on first use; nil where the kernel has none or refuses it.
    var ring: Ring? {
        switch ringState {
        case .ready(let ring):
            return ring
        case .unavailable:
            return nil
        case .untried:
            guard let ring = Ring.make(), oc_epoll_add_wakeup(epoll, ring.completionSignal) == 0 else {
                ringState = .unavailable
                return nil
            }
            ringState = .ready(ring)
            return ring
        }
    }
}

/// A system call that failed, with its errno.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed.
    public let operation: String
    /// Its errno.
    public let code: Int32

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}
