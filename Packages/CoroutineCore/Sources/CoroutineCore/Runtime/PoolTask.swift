import CCoroutineCore
import Glibc
import Synchronization

/// A closure submitted to the runtime's pool, with what it needs to be joined and cancelled.
///
/// The state moves once from `queued` to `running` (a worker took it) or `cancelled`
/// (cancelled before it started; workers skip it), and once more to its end. Joiners (parked
/// with their ParkingTokens) are unparked when it ends. Not generic: the closure that runs the
/// body and stores its value is specialized where the task is spawned, so running and
/// releasing a task looks up no generic metadata.
@usableFromInline
final class PoolTask: @unchecked Sendable {
    // @unchecked Sendable: state and cancellation are atomics, parked tokens behind a mutex; the
    // job, value and error are written by the one worker running the task and read by
    // others only after the state's release/acquire handoff.

    enum State: UInt8 {
        case queued, running, completed, failed, cancelled

        var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
    }

    /// Join callers to unpark. Its size is part of the instance's (see `errorObserved`):
    /// keeping the first joiner inline beside the array made `spawn_join` 20% slower.
    private struct Parked {
        var joiners: [ParkingToken] = []
    }

    /// A number no other task of this process has.
    let id: UInt64
    /// The name given at submission.
    let name: String?
    /// The name as C text, for the frame that runs the task (the crash report and debuggers
    /// read it there); nil without a name.
    private let cName: UnsafeMutablePointer<CChar>?
    /// Smaller runs sooner.
    let priority: Int

    private let stateValue = Atomic<UInt8>(State.queued.rawValue)
    private let cancelRequested = Atomic<Bool>(false)
    /// Whether a joiner saw the outcome; an error nobody saw is logged when the task goes.
    /// Beside the other one-byte fields: the instance is 160 bytes, not 168. At 176 (one more
    /// word anywhere) `spawn_join` took 20% longer, reproducibly (session notes, 2026-12-07).
    @usableFromInline let errorObserved = Atomic<Bool>(false)
    private let parked = Mutex(Parked())
    /// The token of the park the running task is in, unretained, or 0 (see `enterPark`).
    private let currentPark = Atomic<UInt>(0)
    /// Cancellers using the token they found in `currentPark` right now; `leavePark` waits for
    /// them to finish.
    private let currentParkReaders = Atomic<Int>(0)
    /// The run of the runtime the task belongs to; it counts the task's end. Unowned:
    /// generations are never freed (see `CoroutineRuntime`).
    private unowned(unsafe) let generation: RuntimeGeneration
    /// Runs the body and records its value or error; taken when the task starts.
    @exclusivity(unchecked) private var job: ((PoolTask) -> Void)?
    /// What the body returned, boxed; read by joiners once the task finished.
    @usableFromInline @exclusivity(unchecked) var value: Any?
    /// What the body threw.
    @usableFromInline @exclusivity(unchecked) var error: (any Error)?
    /// The task its worker runs inline on top of this one, through a join's shortcut, while
    /// it does, unretained (the join in progress holds it), or 0. Written by the worker; read
    /// by a canceller of this task, which cancels that one too, under the same reader count
    /// as `currentPark` (`runInline` waits for the readers before the task goes).
    private let inlineTask = Atomic<UInt>(0)

    @usableFromInline
    init(name: String?, priority: Int, generation: RuntimeGeneration, job: @escaping (PoolTask) -> Void) {
        self.id = nextTaskID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.name = name
        self.cName = name.flatMap { strdup($0) }
        self.priority = priority
        self.generation = generation
        self.job = job
    }

    deinit {
        free(cName)
        if let error, !errorObserved.load(ordering: .relaxed), !isCancelled, (error as? CoroutineError) != .cancelled {
            let label = name.map { "task #\(id) \"\($0)\"" } ?? "task #\(id)"
            CoroutineLogging.logger.warning("\(label) threw an error nobody joined: \(error)")
        }
    }

    /// Marks `frame` as running this task, for the dump, the crash report and debuggers;
    /// returns what it ran before, for `restore`.
    fileprivate func label(_ frame: UnsafeMutablePointer<oc_frame>) -> (UInt64, UnsafePointer<CChar>?) {
        let outer = (frame.pointee.task_id, frame.pointee.task_name)
        oc_frame_label(frame, id, cName)
        return outer
    }

    var state: State {
        State(rawValue: stateValue.load(ordering: .acquiring)) ?? .failed
    }

    @usableFromInline
    var isFinished: Bool { state.isFinished }

    @usableFromInline
    var isCancelled: Bool {
        cancelRequested.load(ordering: .acquiring)
    }

    /// Runs the task on the calling worker, unless it was cancelled or taken before.
    func run() {
        if claim() {
            execute()
        }
    }

    /// A joiner's shortcut: runs the task right here, on the joiner's stack, when it has not
    /// started yet and the joiner is itself a task with stack to spare. Fork-join code
    /// (a parent joining the children it just spawned) then runs depth first instead of
    /// parking one worker per waiting parent. Returns whether it ran the task.
    func runInline() -> Bool {
        guard generation.configuration.inlineJoins, let frame = oc_frame_peek(), let outer = frame.pointee.task,
              remainingStack() > Self.inlineStackReserve, claim() else { return false }
        // Sound: the frame's task is the one its worker runs, alive until the worker clears it.
        let outerTask = Unmanaged<PoolTask>.fromOpaque(outer)
        outerTask._withUnsafeGuaranteedRef { $0.runsInline(self) }
        frame.pointee.task = Unmanaged.passUnretained(self).toOpaque()
        let outerLabel = label(frame)
        // The joiner's values stay its own: this task starts with none and its end releases
        // only its own.
        let owner = AnyCoroutine.current
        let outerLocals = owner?.takeLocals()
        execute()
        if let outerLocals { owner?.restoreLocals(outerLocals) }
        oc_frame_label(frame, outerLabel.0, outerLabel.1)
        frame.pointee.task = outer
        outerTask._withUnsafeGuaranteedRef { $0.runsInline(nil) }
        return true
    }

    /// Records `task` as the one this task's worker runs inline on top of it (nil: none any
    /// more). A cancel of this task reaches it: one that came before the record is passed on
    /// here (sequentially consistent, as `enterPark`: of a cancel and a record that race, at
    /// least one sees the other); when the record is cleared, the cancellers that may have
    /// seen it are waited for, as `leavePark` does.
    private func runsInline(_ task: PoolTask?) {
        guard let task else {
            inlineTask.store(0, ordering: .sequentiallyConsistent)
            waitForCancellers()
            return
        }
        inlineTask.store(UInt(bitPattern: Unmanaged.passUnretained(task).toOpaque()), ordering: .sequentiallyConsistent)
        if cancelRequested.load(ordering: .sequentiallyConsistent) {
            task.cancel()
        }
    }

    /// The task run inline on top of this one, if any (see `inlineTask`).
    private var inlineRun: PoolTask? {
        // Sound: recorded only while the join that runs it holds it (`runsInline`).
        UnsafeRawPointer(bitPattern: inlineTask.load(ordering: .sequentiallyConsistent))
            .map { Unmanaged<PoolTask>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Ends this running task, and those its worker ran inline on top of it, as failed with
    /// `error`: the worker died under them (it overflowed its stack) and none will return.
    func abandon(because error: CoroutineError) {
        var next: PoolTask? = self
        while let task = next {
            next = task.inlineRun
            task.inlineTask.store(0, ordering: .relaxed)
            guard task.state == .running else { continue }
            task.job = nil
            task.error = error
            task.finish(.failed)
        }
    }

    /// Ends this task, which no worker started, as failed with `error`: the worker it was
    /// handed to could not start.
    func failUnstarted(because error: CoroutineError) {
        if claim() {
            abandon(because: error)
        }
    }

    /// Stack a joiner keeps free for the task it runs inline and what that task calls.
    private static let inlineStackReserve = 192 * 1024

    private func claim() -> Bool {
        stateValue.compareExchange(
            expected: State.queued.rawValue, desired: State.running.rawValue, ordering: .acquiringAndReleasing
        ).exchanged
    }

    private func execute() {
        guard let job = job.take() else { return }
        job(self)
        // The task's values (`CurrentTask[key]`) are the locals of the coroutine that ran
        // it: they go before its joiners wake, so what a value gives back in its `deinit` is
        // back when `join` returns, and the worker's next task starts with none.
        AnyCoroutine.current?.releaseLocals()
        guard let error else {
            finish(.completed)
            return
        }
        finish(isCancelled || (error as? CoroutineError) == .cancelled ? .cancelled : .failed)
    }

    /// Publishes the end state and unparks every joiner.
    private func finish(_ state: State) {
        let woken = parked.withLock { parked in
            stateValue.store(state.rawValue, ordering: .releasing)
            defer { parked.joiners.removeAll() }
            return parked.joiners
        }
        for token in woken {
            token.unpark()
        }
        generation.taskEnded()
    }

    /// Adds a joiner's token, to be unparked when the task ends; false when it already ended
    /// (the token is not kept).
    func addJoiner(_ token: ParkingToken) -> Bool {
        parked.withLock { parked in
            guard !state.isFinished else { return false }
            parked.joiners.append(token)
            return true
        }
    }

    /// How many joiners wait for the task now (tests).
    var joinerCount: Int {
        parked.withLock { $0.joiners.count }
    }

    /// Cancels the task: a queued one never runs; a running one is woken from its current
    /// park, and every suspension point of it throws `CoroutineError.cancelled` from now on.
    @usableFromInline
    func cancel() {
        // Sequentially consistent, as `enterPark`'s store and load: of a cancel and a park
        // that race, at least one sees the other, and the park ends cancelled.
        cancelRequested.store(true, ordering: .sequentiallyConsistent)
        if stateValue.compareExchange(
            expected: State.queued.rawValue, desired: State.cancelled.rawValue, ordering: .acquiringAndReleasing
        ).exchanged {
            job = nil
            error = CoroutineError.cancelled
            finish(.cancelled)
        } else {
            endCurrentPark()
        }
    }

    /// Ends the park the running task is in, if any, as cancelled, and cancels the task its
    /// worker runs inline on top of it, if any: that one's waits are the worker's now.
    private func endCurrentPark() {
        currentParkReaders.add(1, ordering: .sequentiallyConsistent)
        defer { currentParkReaders.subtract(1, ordering: .releasing) }
        // Sound: `runsInline(nil)` waits for this reader before the record goes.
        inlineRun?.cancel()
        let park = currentPark.load(ordering: .sequentiallyConsistent)
        guard let token = UnsafeRawPointer(bitPattern: park) else { return }
        // Sound: the park has not left yet, or its `leavePark` waits for this reader to
        // finish, and the parked coroutine keeps its token until after `leavePark`.
        Unmanaged<ParkingToken>.fromOpaque(token)._withUnsafeGuaranteedRef { _ = $0.end(.cancelled) }
    }

    /// Notes the park the running task is entering, so `cancel` can end it.
    ///
    /// Two atomics instead of a lock, since every park of a task comes here: the token is
    /// recorded unretained (its coroutine holds it), a canceller registers as a reader before
    /// it looks, and `leavePark` waits for the readers that may have seen it. The lock this
    /// replaces cost a park 30 ns (channel ping-pong, Docs/benchmarks.md).
    func enterPark(_ token: ParkingToken) {
        currentPark.store(UInt(bitPattern: Unmanaged.passUnretained(token).toOpaque()), ordering: .sequentiallyConsistent)
        if cancelRequested.load(ordering: .sequentiallyConsistent) {
            token.end(.cancelled)
        }
    }

    /// Notes that the running task's park ended; returns once no canceller uses its token.
    func leavePark() {
        currentPark.store(0, ordering: .sequentiallyConsistent)
        waitForCancellers()
    }

    /// Waits for the cancellers that may have read `currentPark` or `inlineTask` before it was
    /// cleared. A canceller only ends a park or cancels a task, so this is a few instructions
    /// at most, and rare.
    private func waitForCancellers() {
        while currentParkReaders.load(ordering: .sequentiallyConsistent) != 0 {
            sched_yield()
        }
    }

    /// The value the task returned, or the error it threw; call only once it finished.
    @inlinable
    func outcome<Value>(as _: Value.Type) throws -> Value {
        errorObserved.store(true, ordering: .relaxed)
        if let error { throw error }
        guard isFinished, let value = value as? Value else { throw CoroutineError.cancelled }
        return value
    }
}

private let nextTaskID = Atomic<UInt64>(1)

/// The task the calling code runs in: its identity, and whether it was asked to stop.
///
/// Cancellation is cooperative, as in Swift concurrency: `JoinHandle.cancel()` asks, and the
/// task stops where it looks. It looks at every wait: a hooked blocking call ends at once with
/// `ECANCELED` (`Syscall` says why not `EINTR`), and a join, a yield or a wait of the sync
/// toolkit throws `CoroutineError.cancelled`. Code that computes without waiting looks with
/// `isCancelled` or `checkCancellation()`. Outside a task (a plain thread, a bare coroutine)
/// there is nothing to cancel: `isCancelled` is false and `id` nil.
///
/// ```swift
/// for chunk in chunks {
///     try CurrentTask.checkCancellation()
///     digest.update(chunk)
/// }
/// ```
public enum CurrentTask {
    static var task: PoolTask? {
        unmanagedTask?.takeUnretainedValue()
    }

    /// `task`, unretained: the worker running the task keeps it alive and clears the slot
    /// after it.
    static var unmanagedTask: Unmanaged<PoolTask>? {
        oc_frame_peek()?.pointee.task.map { Unmanaged<PoolTask>.fromOpaque($0) }
    }

    /// The calling task's number (`JoinHandle.id`), or nil outside a task.
    public static var id: UInt64? { task?.id }

    /// The calling task's name, if it was given one.
    public static var name: String? { task?.name }

    /// Whether the calling task was cancelled; false outside a task.
    public static var isCancelled: Bool {
        guard let task = oc_frame_peek()?.pointee.task else { return false }
        // Sound: as in `task`; borrowed, so the check costs no reference counting.
        return Unmanaged<PoolTask>.fromOpaque(task)._withUnsafeGuaranteedRef { $0.isCancelled }
    }

    /// Throws when the calling task was cancelled.
    ///
    /// - Throws: `CoroutineError.cancelled`.
    public static func checkCancellation() throws(CoroutineError) {
        if isCancelled {
            throw .cancelled
        }
    }

    /// The calling task's value for `key`, or nil when none is set or outside a task; setting
    /// it outside a task does nothing.
    ///
    /// A task's values are released when its body ends, before `join` returns, as a thread's
    /// keys are at its exit. They are the locals of the coroutine running the task
    /// (`Coroutine.current?[key]` reads the same): the pool coroutine that runs a task starts
    /// it with none and releases them at its end, and a task that a join runs inline on the
    /// joiner's coroutine sees none of the joiner's.
    ///
    /// ```swift
    /// let requestID = CoroutineLocal<Int>()
    /// CurrentTask[requestID] = 42
    /// ```
    public static subscript<Value>(key: CoroutineLocal<Value>) -> Value? {
        get { unmanagedTask == nil ? nil : AnyCoroutine.current?[key] }
        set {
            guard unmanagedTask != nil else { return }
            AnyCoroutine.current?[key] = newValue
        }
    }

    /// Runs `task` with it recorded as the calling coroutine's current task.
    static func run(_ task: PoolTask) {
        let frame = oc_frame_current()
        frame.pointee.task = Unmanaged.passUnretained(task).toOpaque()
        _ = task.label(frame)
        Scheduler.current?.runningFrame.store(UInt(bitPattern: frame), ordering: .relaxed)
        task.run()
        oc_frame_label(frame, 0, nil)
        frame.pointee.task = nil
    }
}
