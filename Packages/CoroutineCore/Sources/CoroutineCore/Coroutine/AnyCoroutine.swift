import CCoroutineCore
import Synchronization

/// What every coroutine has, whatever it takes, yields and returns: identity, status,
/// listeners, coroutine-local values and cancellation.
///
/// `Coroutine<Input, Yield, Return>` is the one concrete kind. Inside a coroutine,
/// `AnyCoroutine.current` (or `Coroutine.current`) is the coroutine itself.
///
/// Thread safety: status, listeners, locals and cancellation may be used from any thread.
/// A coroutine runs on one thread at a time; `resume` from a second thread while it runs
/// throws `CoroutineError.notResumable(.running)`.
public class AnyCoroutine: @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: the status, listeners, locals and the cancellation flag are
    // atomics or behind mutexes; everything else is touched only by the thread that won
    // the atomic transition to `running`, until it switches back.

    /// A number that no other coroutine of this process has.
    public let id: UInt64
    /// The name given at creation, for logs and debugging.
    public let name: String?
    /// The bytes of stack this coroutine runs on.
    public let stackSize: Int

    private let statusValue = Atomic<UInt8>(CoroutineStatus.ready.rawValue)
    @usableFromInline final let cancellationRequested = Atomic<Bool>(false)
    private let hasListeners = Atomic<Bool>(false)
    /// Whether a scheduler runs the coroutine (`Scheduler.submit`, the runtime's pool):
    /// `cancel()` then leaves its resumes to the scheduler.
    private let isScheduled = Atomic<Bool>(false)
    /// Listeners and coroutine-local values, created on first use: most coroutines have neither.
    private let extras = AtomicLazyReference<Extras>()

    // Touched only by the thread that runs or resumes the coroutine (see above), which is
    // why these skip the runtime's dynamic exclusivity checks on the switch path.
    @exclusivity(unchecked) private var stack: Stack?
    @usableFromInline @exclusivity(unchecked) final var frame: UnsafeMutablePointer<oc_frame>?
    @usableFromInline @exclusivity(unchecked) final var inbox: UnsafeMutableRawPointer?
    @usableFromInline @exclusivity(unchecked) final var outbox: UnsafeMutableRawPointer?
    @usableFromInline @exclusivity(unchecked) final var returnbox: UnsafeMutableRawPointer?
    /// The error the body threw, or `CoroutineError.stackOverflow`.
    @usableFromInline @exclusivity(unchecked) final var failure: (any Error)?
    /// The value the body returned, kept for `Coroutine.end`.
    @usableFromInline @exclusivity(unchecked) final var completion: Any?
    /// Runs the body on the coroutine's stack, once: a closure specialized for the concrete
    /// coroutine type where it was created, holding the body. No stored property depends on
    /// the generic parameters, so releasing a coroutine looks up no generic metadata.
    @exclusivity(unchecked) fileprivate var start: ((AnyCoroutine) -> Void)?
    /// The token of the coroutine's last park, reused by the next one when nothing else holds
    /// it (`Scheduler.parkingToken(for:)`).
    @exclusivity(unchecked) final var parkingToken: ParkingToken?

    @usableFromInline
    init(name: String?, stackSize: Int, start: @escaping (AnyCoroutine) -> Void) {
        self.id = nextCoroutineID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.name = name
        self.stackSize = stackSize
        self.start = start
    }

    deinit {
        // The last reference: nothing else can resume the coroutine, scheduled or not, so it
        // is resumed here to unwind its stack.
        if status == .suspended {
            cancel(resumingHere: true)
        }
    }

    /// Where the coroutine is in its life.
    public final var status: CoroutineStatus {
        CoroutineStatus(rawValue: statusValue.load(ordering: .acquiring)) ?? .failed
    }

    /// Whether `cancel()` was called.
    @inlinable
    public final var isCancelled: Bool {
        cancellationRequested.load(ordering: .acquiring)
    }

    /// The coroutine running on this thread, or nil on a plain thread.
    public static var current: AnyCoroutine? {
        guard let owner = oc_frame_peek()?.pointee.owner else { return nil }
        // Sound: a frame's owner is the coroutine object that is running it, kept alive
        // by its resumer for as long as it runs.
        return Unmanaged<AnyCoroutine>.fromOpaque(owner).takeUnretainedValue()
    }

    public var description: String {
        "Coroutine(id: \(id)\(name.map { ", name: \"\($0)\"" } ?? ""), \(status))"
    }

    /// Adds a listener that sees every later status change.
    public final func addListener(_ listener: @escaping CoroutineListener) {
        createdExtras.state.withLock { $0.listeners.append(listener) }
        hasListeners.store(true, ordering: .releasing)
    }

    /// The coroutine-local value for `key`, or nil when none is set.
    ///
    /// The values are released when the coroutine ends, as a thread's keys are at its exit: a
    /// value whose `deinit` gives back what the coroutine held runs then, not when the last
    /// reference to the coroutine goes. A coroutine of the runtime's pool also releases them
    /// at the end of each task it runs, so in a task they are the task's (`CurrentTask[key]`).
    public final subscript<Value>(key: CoroutineLocal<Value>) -> Value? {
        get { extras.load()?.state.withLock { $0.locals[key.id] as? Value } }
        set { createdExtras.state.withLock { $0.locals[key.id] = newValue } }
    }

    private var createdExtras: Extras {
        extras.load() ?? extras.storeIfNil(Extras())
    }

    /// Cancels the coroutine.
    ///
    /// A ready coroutine never runs and becomes `cancelled`. A suspended one is resumed at
    /// once, here, with its suspension point throwing `CoroutineError.cancelled`, and so is
    /// every later suspension point; when its body ends by throwing, it is `cancelled`.
    /// A running one (cancelling itself, or from another thread) throws at its next
    /// suspension point. Cancelling a finished coroutine does nothing.
    ///
    /// A coroutine a scheduler runs (submitted to a `Scheduler`) is never resumed here: only
    /// its scheduler resumes it, on its own thread. A wait it is in goes on until it ends, and
    /// every wait it begins from then on ends at once, cancelled (`Scheduler.sleep` throws
    /// `CoroutineError.cancelled`). To interrupt a wait in progress, cancel a task instead
    /// (`JoinHandle.cancel()`).
    public final func cancel() {
        cancel(resumingHere: !isScheduled.load(ordering: .acquiring))
    }

    /// `cancel()`, resuming a suspended coroutine here only when `resumingHere`.
    private func cancel(resumingHere: Bool) {
        cancellationRequested.store(true, ordering: .releasing)
        if statusValue.compareExchange(
            expected: CoroutineStatus.ready.rawValue, desired: CoroutineStatus.cancelled.rawValue,
            ordering: .acquiringAndReleasing
        ).exchanged {
            start = nil
            notify(from: .ready, to: .cancelled)
        } else if resumingHere, let frame = try? beginRunning() {
            _ = run(frame)
        }
    }

    /// Marks the coroutine as one a scheduler runs (see `cancel()`); before it is made ready.
    final func markScheduled() {
        isScheduled.store(true, ordering: .releasing)
    }

    // MARK: - The switch, for Coroutine and Suspender

    /// Claims the coroutine for `resume`: as `beginRunning`, refusing a coroutine that a
    /// scheduler runs, so that its scheduler is the only one to claim it
    /// (`claimScheduledSuspended`).
    @usableFromInline
    final func beginResume() throws(CoroutineError) -> UnsafeMutablePointer<oc_frame> {
        guard !isScheduled.load(ordering: .acquiring) else { throw .resumedOutsideScheduler }
        return try beginRunning()
    }

    /// Claims a suspended coroutine for its scheduler, without the compare-and-swap of
    /// `beginRunning`; nil when it is not suspended (not started yet, or ended).
    ///
    /// Sound because nothing but its scheduler's thread claims a scheduled coroutine while it
    /// is suspended: `resume` refuses it (`beginResume`), `cancel()` does not resume it and
    /// changes only a `ready` one's status, and the last reference's `deinit` runs when no
    /// scheduler holds it. The compare-and-swap, a locked instruction, would wait for the
    /// stores of the suspension just made to drain: a tenth of a switching yield.
    final func claimScheduledSuspended() -> UnsafeMutablePointer<oc_frame>? {
        guard let frame, statusValue.load(ordering: .acquiring) == CoroutineStatus.suspended.rawValue else {
            return nil
        }
        statusValue.store(CoroutineStatus.running.rawValue, ordering: .relaxed)
        notify(from: .suspended, to: .running)
        return frame
    }

    /// Claims the coroutine for running on this thread: the only way to `running`.
    @usableFromInline
    final func beginRunning() throws(CoroutineError) -> UnsafeMutablePointer<oc_frame> {
        var observed = statusValue.load(ordering: .relaxed)
        while true {
            guard observed == CoroutineStatus.ready.rawValue || observed == CoroutineStatus.suspended.rawValue else {
                throw .notResumable(CoroutineStatus(rawValue: observed) ?? .failed)
            }
            let (exchanged, original) = statusValue.compareExchange(
                expected: observed, desired: CoroutineStatus.running.rawValue, ordering: .acquiringAndReleasing)
            if exchanged { break }
            observed = original
        }
        let previous = CoroutineStatus(rawValue: observed) ?? .ready
        if let frame {
            notify(from: previous, to: .running)
            return frame
        }
        do {
            let frame = try makeFrame()
            notify(from: previous, to: .running)
            return frame
        } catch {
            failure = error
            statusValue.store(CoroutineStatus.failed.rawValue, ordering: .releasing)
            start = nil
            notify(from: previous, to: .failed)
            throw error
        }
    }

    /// Switches into the coroutine until a coroutine leaves for this resumer: this one, or
    /// the last of a chain of hand-overs that began with it (`handOver(to:input:)`, made by
    /// scheduled coroutines only). Returns that coroutine, unretained (whoever resumed or
    /// handed over to it keeps it), and whether it ended.
    ///
    /// `inbox`, `outbox` and `returnbox` point at the resumer's `Input?`, `Yield?` and
    /// `Return?`, which outlive the switch because the resumer is suspended inside this call.
    @usableFromInline
    final func run(
        _ frame: UnsafeMutablePointer<oc_frame>,
        inbox: UnsafeMutableRawPointer? = nil,
        outbox: UnsafeMutableRawPointer? = nil,
        returnbox: UnsafeMutableRawPointer? = nil
    ) -> (left: Unmanaged<AnyCoroutine>, ended: Bool) {
        self.inbox = inbox
        self.outbox = outbox
        self.returnbox = returnbox
        let resumption = oc_frame_resume(frame)
        let signal = Int(resumption.signal)
        guard resumption.left != frame else {
            return (Unmanaged.passUnretained(self), leave(signal))
        }
        let left = Self.owner(of: resumption.left)
        return (left, left._withUnsafeGuaranteedRef { $0.leave(signal) })
    }

    /// The coroutine running `frame`, unretained.
    private static func owner(of frame: UnsafeMutablePointer<oc_frame>) -> Unmanaged<AnyCoroutine> {
        guard let owner = frame.pointee.owner else {
            preconditionFailure("a coroutine switched to a frame no coroutine owns")
        }
        // Sound: a coroutine frame's owner is the coroutine object that runs on it, kept
        // alive by whoever resumed it or handed over to it.
        return Unmanaged<AnyCoroutine>.fromOpaque(owner)
    }

    /// Settles the coroutine that just left its resumer with `signal`; true when it ended.
    private func leave(_ signal: Int) -> Bool {
        inbox = nil
        outbox = nil
        returnbox = nil
        switch signal {
        case OC_SUSPENDED:
            transition(to: .suspended)
            return false
        case OC_STACK_OVERFLOW:
            failure = CoroutineError.stackOverflow
            end(as: .failed)
            return true
        default:
            end(as: failure == nil ? .complete : (isCancelled ? .cancelled : .failed))
            return true
        }
    }

    // MARK: - Hand-over, for the scheduler

    /// Switches from this coroutine, which runs directly under its resumer, straight to
    /// `next`, a suspended coroutine, which takes over the resumer and the boxes of the run
    /// in progress, with `input` in its inbox (oc_frame_hand_over). `commit` runs once `next`
    /// is claimed, before the switch. Returns, with the input of the next resume, once this
    /// coroutine runs again; nil, without switching or committing, when `next` is not
    /// suspended, or is suspended in the preemption handler.
    ///
    /// Until `next` lands, this coroutine stays `running`: its saved context is not in place
    /// yet, so nothing may claim it (`arrived(handedOverBy:)`).
    final func handOver<Input>(
        to next: AnyCoroutine, input: Input, committing commit: () -> Void
    ) -> Result<Input, CoroutineError>? {
        guard let frame, let nextFrame = next.claimSuspended() else { return nil }
        commit()
        next.inbox = inbox
        next.outbox = outbox
        next.returnbox = returnbox
        inbox = nil
        outbox = nil
        returnbox = nil
        // Sound: the inbox points at the resumer's `Input?` for the time of its run, which
        // goes on (see `run`); the earlier arrival of this coroutine took the value out.
        next.inbox?.assumingMemoryBound(to: Optional<Input>.self).pointee = input
        Self.arrived(handedOverBy: oc_frame_hand_over(frame, nextFrame))
        return receiveInput(as: Input.self)
    }

    /// Suspends this coroutine, which runs directly under its resumer, back to the resumer,
    /// cancelled or not; returns once it runs again. For the scheduler, whose waits report
    /// a cancellation themselves: a suspension refused (as `Suspender.suspend` refuses a
    /// cancelled coroutine's) would leave a park without an outcome.
    final func suspendToResumer() {
        guard let frame, oc_frame_peek() == frame else {
            preconditionFailure("a scheduled coroutine suspended outside its own frame")
        }
        Self.arrived(handedOverBy: oc_frame_suspend(frame))
        _ = receiveInput(as: Void.self)
    }

    /// Claims a suspended scheduled coroutine (`claimScheduledSuspended`), but only one
    /// suspended by a switch (not by the preemption handler); returns its frame.
    private func claimSuspended() -> UnsafeMutablePointer<oc_frame>? {
        guard let frame, frame.pointee.suspended_by_signal == 0 else { return nil }
        return claimScheduledSuspended()
    }

    /// Finishes the hand-over that brought the running coroutine back, if one did: its
    /// frame's landing put the leaving coroutine's context in place, and from here that
    /// coroutine may be claimed. Inlined: every suspension arrives through it, and almost
    /// every arrival is a resume, which costs the caller one comparison.
    @inlinable
    static func arrived(handedOverBy from: UnsafeMutablePointer<oc_frame>?) {
        if let from {
            finishHandOver(from: from)
        }
    }

    /// Marks the coroutine that handed the thread over from `from` suspended.
    @usableFromInline
    static func finishHandOver(from: UnsafeMutablePointer<oc_frame>) {
        owner(of: from)._withUnsafeGuaranteedRef { $0.transition(to: .suspended) }
    }

    /// Checks the running code may suspend this coroutine and hands `value` to the
    /// resumer; returns the frame to switch out of.
    @inlinable
    final func prepareSuspension<Yield>(yielding value: Yield) -> Result<UnsafeMutablePointer<oc_frame>, CoroutineError> {
        guard let frame, oc_frame_peek() == frame else { return .failure(.suspendedOutsideCoroutine) }
        guard !isCancelled else { return .failure(.cancelled) }
        // Sound: outbox points at the resumer's `Yield?` for the time of this run (see `run`).
        outbox?.assumingMemoryBound(to: Optional<Yield>.self).pointee = value
        return .success(frame)
    }

    /// Records the body's return value, for the resumer and for `Coroutine.end`.
    @inlinable
    final func complete<Return>(with value: Return) {
        // Sound: returnbox points at the resumer's `Return?` for the time of this run (see `run`).
        returnbox?.assumingMemoryBound(to: Optional<Return>.self).pointee = value
        completion = value
    }

    /// The input the resumer handed in, or `.cancelled` when resumed by `cancel()`.
    @inlinable
    final func receiveInput<Input>(as _: Input.Type) -> Result<Input, CoroutineError> {
        // Sound: inbox points at the resumer's `Input?` for the time of this run (see `run`).
        guard !isCancelled, let input = inbox?.assumingMemoryBound(to: Optional<Input>.self).pointee.take() else {
            return .failure(.cancelled)
        }
        return .success(input)
    }

    private func makeFrame() throws(CoroutineError) -> UnsafeMutablePointer<oc_frame> {
        let stack = try StackPool.takeShared(size: stackSize)
        let frameSize = (MemoryLayout<oc_frame>.stride + 63) & ~63
        let top = stack.high - frameSize
        // Sound: the top bytes of a stack we own hold its frame; the stack grows below it.
        let frame = top.bindMemory(to: oc_frame.self, capacity: 1)
        var fresh = oc_frame()
        fresh.context = oc_context_make(top, oc_frame_entry)
        fresh.stack_low = UInt(bitPattern: stack.low)
        fresh.stack_high = UInt(bitPattern: top)
        fresh.guard_low = UInt(bitPattern: stack.guardLow)
        fresh.owner = Unmanaged.passUnretained(self).toOpaque()
        fresh.body = runCoroutineBody
        frame.initialize(to: fresh)
        oc_frames_register(frame)
        self.stack = stack
        self.frame = frame
        return frame
    }

    private func end(as status: CoroutineStatus) {
        // The token holds the scheduler, whose pool holds idle workers: an ended coroutine
        // lets go of it, so that nothing keeps the scheduler once its workers ended.
        parkingToken = nil
        releaseLocals()
        if let frame {
            oc_frames_unregister(frame)
        }
        frame = nil
        if let stack {
            self.stack = nil
            StackPool.recycleShared(stack)
        }
        transition(to: status)
    }

    /// Lets go of the coroutine-local values. They are taken out under the lock and released
    /// after it, since a value's `deinit` may use the coroutine (its other locals, say).
    func releaseLocals() {
        _ = takeLocals()
    }

    /// Takes the coroutine-local values out, leaving none; nil when there were none.
    func takeLocals() -> [Int: any Sendable]? {
        guard let extras = extras.load() else { return nil }
        let locals = extras.state.withLock { state in
            defer { state.locals = [:] }
            return state.locals
        }
        return locals.isEmpty ? nil : locals
    }

    /// Puts back values `takeLocals` took, over whatever was set meanwhile.
    func restoreLocals(_ locals: [Int: any Sendable]) {
        createdExtras.state.withLock { $0.locals = locals }
    }

    /// Leaves `running`. Only the thread running the coroutine writes its status while it
    /// runs (`cancel` only moves `ready`), so a plain store suffices.
    private func transition(to status: CoroutineStatus) {
        statusValue.store(status.rawValue, ordering: .releasing)
        notify(from: .running, to: status)
    }

    // Inlined: called at every status change of every coroutine; with no listener it is one
    // atomic load at the call site.
    @inline(__always)
    private func notify(from previous: CoroutineStatus, to current: CoroutineStatus) {
        if hasListeners.load(ordering: .acquiring) {
            deliver(CoroutineEvent(coroutine: self, previous: previous, current: current))
        }
    }

    private func deliver(_ event: CoroutineEvent) {
        for listener in extras.load()?.state.withLock({ $0.listeners }) ?? [] {
            do {
                try listener(event)
            } catch {
                CoroutineLogging.logger.warning(
                    "coroutine listener failed on \(event.previous) -> \(event.current): \(error)")
            }
        }
    }
}

private let nextCoroutineID = Atomic<UInt64>(1)

/// What few coroutines have: listeners and coroutine-local values, created on first use.
private final class Extras: Sendable {
    struct State {
        var listeners: [CoroutineListener] = []
        var locals: [Int: any Sendable] = [:]
    }

    let state = Mutex(State())
}

/// The body entry of every frame: runs on the coroutine's own stack.
private let runCoroutineBody: @convention(c) (UnsafeMutablePointer<oc_frame>) -> Void = { frame in
    guard let owner = frame.pointee.owner else { return }
    // Sound: the owner is the coroutine being resumed, kept alive by its resumer; no
    // reference is taken, so the suspended stack never keeps its own coroutine alive.
    Unmanaged<AnyCoroutine>.fromOpaque(owner)._withUnsafeGuaranteedRef { coroutine in
        coroutine.start.take()?(coroutine)
    }
}
