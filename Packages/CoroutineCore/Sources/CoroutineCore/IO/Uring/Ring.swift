import CCoroutineCore
import DequeModule
import Glibc
import Synchronization

/// A scheduler thread's io_uring, through which its coroutines do file I/O without blocking
/// the thread: a coroutine queues an operation and suspends, and the event loop wakes it when
/// the completion arrives (the ring signals an eventfd that the loop's epoll watches).
///
/// Most operations on files in the page cache complete while they are submitted: the
/// coroutine then takes the result at once, and suspends only to let ready coroutines and due
/// timers go first.
///
/// At most `maximumInFlight` operations are in flight; more wait for a slot, in order. The
/// kernel finishes the others' completions (copying the data read) on this thread when it is
/// asked for completions, all at once: the bound keeps one such batch to about a millisecond,
/// so that sleepers on the thread wake on time. Owner-thread only.
final class Ring {
    private let ring: OpaquePointer
    /// The eventfd that becomes readable when completions arrive.
    let completionSignal: Int32
    /// Operations submitted and not completed yet.
    @exclusivity(unchecked) private(set) var inFlight = 0
    @exclusivity(unchecked) private var reaped = Array(repeating: oc_ring_completion(), count: 64)
    /// Coroutines waiting for an operation slot.
    @exclusivity(unchecked) private var waitingForSlot = Deque<ParkingToken>()

    /// The most operations in flight at once.
    static let maximumInFlight = 128

    /// A new ring, or nil where the kernel has none or refuses it (logged once per process).
    static func make() -> Ring? {
        var error: Int32 = 0
        guard let ring = oc_ring_create(256, &error) else {
            Ring.reportUnavailable(error)
            return nil
        }
        return Ring(ring)
    }

    private init(_ ring: OpaquePointer) {
        self.ring = ring
        self.completionSignal = oc_ring_eventfd(ring)
    }

    deinit {
        oc_ring_destroy(ring)
    }

    /// Whether the kernel supports `operation`.
    func supports(_ operation: oc_ring_opcode) -> Bool {
        oc_ring_supports(ring, operation)
    }

    /// Runs one operation for `coroutine` of `scheduler`: `submit` queues it with the tag it
    /// is given. Returns the kernel's result (a count, or a negative errno value).
    ///
    /// The wait outlasts a cancellation of the calling task, which only asks the kernel to
    /// cancel the operation: the operation holds the caller's buffers until it completes.
    func perform(
        _ name: String, in scheduler: Scheduler, coroutine: Unmanaged<ScheduledCoroutine>,
        submit: (OpaquePointer, UInt64) -> Int32
    ) -> Int32 {
        while inFlight >= Self.maximumInFlight {
            _ = scheduler.park(coroutine, until: nil, inSyscall: name, reason: .other) { token in
                waitingForSlot.append(token)
                return true
            }
        }
        let operation = RingOperation()
        let retained = Unmanaged.passRetained(operation)
        let tag = UInt64(UInt(bitPattern: retained.toOpaque()))
        let submitted = submit(ring, tag)
        guard submitted == 0 else {
            retained.release()
            return submitted
        }
        inFlight += 1
        scheduler.counters.ringOperations.increment()
        reap(runningDeferredWork: false)
        if operation.isComplete {
            scheduler.giveWayIfOthersWait(coroutine)
            return operation.result
        }
        var cancelRequested = false
        while !operation.isComplete {
            let outcome = scheduler.park(coroutine, until: nil, inSyscall: name, reason: .other) { token in
                operation.waiting = token
                return true
            }
            if outcome == .cancelled, !cancelRequested, !operation.isComplete {
                cancelRequested = true
                _ = oc_ring_cancel(ring, tag)
            }
        }
        return operation.result
    }

    /// Hands every arrived completion to its operation and wakes the waiting coroutines;
    /// `runningDeferredWork` first lets the kernel finish the completions it deferred to this
    /// thread (when the completion eventfd fired).
    func reap(runningDeferredWork: Bool = true) {
        var runsDeferredWork = runningDeferredWork
        while true {
            let count = reaped.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.map { oc_ring_reap(ring, runsDeferredWork, $0, Int32(buffer.count)) } ?? 0
            }
            runsDeferredWork = false
            for completion in reaped[0..<Int(count)] {
                // Tag 0 marks the completion of a cancellation request, which has no waiter.
                guard let pointer = UnsafeRawPointer(bitPattern: UInt(completion.tag)) else { continue }
                inFlight -= 1
                // Sound: the tag is the operation `perform` retained for the kernel.
                Unmanaged<RingOperation>.fromOpaque(pointer).takeRetainedValue().complete(with: completion.result)
            }
            guard Int(count) == reaped.count else { break }
        }
        // A parked coroutine whose park already ended (its task was cancelled) takes no slot.
        var free = Self.maximumInFlight - inFlight
        while free > 0, let next = waitingForSlot.popFirst() {
            if next.unpark() { free -= 1 }
        }
    }

    private static let unavailableReported = Atomic<Bool>(false)

    private static func reportUnavailable(_ error: Int32) {
        guard !unavailableReported.exchange(true, ordering: .relaxed) else { return }
        let setting = oc_ring_disabled_setting()
        CoroutineLogging.logger.debug(
            "io_uring unavailable (\(String(cString: strerror(error))), kernel.io_uring_disabled=\(setting)): file calls in coroutines use the blocking pool")
    }
}

/// One operation in flight: where its result lands and who waits for it.
private final class RingOperation {
    private(set) var result: Int32 = 0
    private(set) var isComplete = false
    /// The park of the coroutine that submitted it, once it suspended.
    var waiting: ParkingToken?

    func complete(with result: Int32) {
        self.result = result
        isComplete = true
        waiting.take()?.unpark()
    }
}
