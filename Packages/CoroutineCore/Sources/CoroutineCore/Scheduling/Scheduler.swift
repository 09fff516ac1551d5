// How scheduling works
//
// A Scheduler belongs to one thread and runs coroutines on it, one at a time. It keeps
// three sets, as every coroutine scheduler since NtyCo does:
//
//   ready     coroutines that can run now: a deque for the default priority and a small heap
//             for the others (smaller priority runs sooner);
//   sleeping  coroutines waiting for a deadline, in a TimerQueue keyed by deadline;
//   waiting   coroutines waiting for an event: a task to finish, or a descriptor to become
//             ready in the scheduler's EventLoop. The scheduler does not list these: the
//             event holds the coroutine's ParkingToken.
//
// A round (`runRound`) collects ready descriptors (when any coroutine waits on one), moves
// coroutines other threads made ready out of the arrivals list, fires the timers that are due, then
// resumes ready coroutines. A resumed coroutine runs until it suspends; before suspending it
// tells the scheduler why (`suspension`): it yielded (back to the ready queue), it parked
// (nothing to do: its token will bring it back), or, for a pool worker, it ran out of tasks
// (the pool parks it as idle). With nothing to run, the thread parks in the event loop's
// epoll_wait until the next timer.
//
// A coroutine that suspends while others are ready usually skips the round: it hands the
// thread straight to the next ready coroutine (`handOver`), settling itself as the round would
// and marking the next one running, and that coroutine takes over the round's resume in
// progress, which then comes back with whichever coroutine next leaves for the round. One jump
// instead of two; and since both sides of a hand-over are suspensions, each returns through
// frames of the same shape, which the processor's return prediction gets right, where a round
// between two jumps returns through frames the coroutine before it did not call. A hand-over
// spends one resumption of the round's budget, so the round still polls descriptors, takes
// arrivals and starts queued tasks as often as before; the round runs itself when the budget
// is spent, a timer is due, or the next coroutine has not started or was preempted (neither
// waits at a suspension). Rejected: naming the next coroutine at every suspension and dropping
// the round (symmetric coroutines): something still has to poll, take arrivals and start
// tasks, and with nothing ready a coroutine has nobody to name. The hand-over is the round's
// next step, taken early.
//
// Waiting is parking (Parking.park, ParkingToken), one primitive for coroutines and threads,
// with one outcome type. Several parties may race to end one park (the event, the timer, a
// cancellation); the first to move the token out of `parked` wins and makes the
// coroutine ready on its own scheduler, directly when on that scheduler's thread, else
// through the scheduler's arrivals list and an unpark of its thread's event loop (an eventfd write,
// made only when the loop sleeps). A coroutine therefore always runs on the thread of the
// scheduler it was submitted to: only tasks, before they start, move between threads (by
// work stealing, see CoroutineRuntime).
//
// A switch costs no reference counting: the ready queue owns one reference to each coroutine
// in it, the round takes it over to resume the coroutine and `settle` passes it on (back to the
// queue, to the coroutine's park, whose wake returns it to the queue, to the pool, or gone
// with the coroutine); a hand-over passes the round's reference on with the thread. A park
// reuses the coroutine's token when nothing else holds it.
//
// Scheduler.sleep, Scheduler.yield and Scheduler.waitUntilReady work from a coroutine the
// scheduler resumed itself. Anywhere else (a plain thread, a generator nested inside a
// coroutine) they block the thread, as the blocking call they stand for would.
//
// A coroutine that never suspends is preempted: the preemption monitor signals its thread once
// it has run a whole slice, and the signal handler switches it back here from wherever it was
// (when that is safe). `resume` learns so from `oc_preempt_leave`; the coroutine goes back to the
// ready queue as if it had yielded, and the round ends so that queued tasks start first.
//
// Where the parts live (CoroutineCore/Sources/CoroutineCore): this folder, Scheduling/, holds
// the scheduler, its ready queue, timers, parking and the work-stealing queues;
// Coroutine/ the coroutine the scheduler resumes; Stacks/ the stacks it runs on; Runtime/ the
// threads, pools and tasks built on schedulers; Preemption/ the monitor that preempts coroutines
// that hold their thread; IO/ the event loop, the descriptor table and the Syscall layer, which
// turn blocking calls into waits.

import CCoroutineCore
import Glibc
import Synchronization

/// The coroutine type schedulers run: no input, no yielded value, no result.
public typealias ScheduledCoroutine = Coroutine<Void, Void, Void>

/// Runs coroutines on one thread: a ready queue with priorities, timers for sleeping
/// coroutines, and an arrivals list through which other threads make coroutines ready.
///
/// Use one directly on any thread (`submit`, then `runReady` or `run(until:)`), or let
/// `CoroutineRuntime` run one per scheduler thread.
public final class Scheduler: @unchecked Sendable {
    // @unchecked Sendable: the ready queue, timers and running coroutine belong to the thread
    // that runs the scheduler; other threads only reach the arrivals list (a mutex) and the event
    // loop's unpark.

    /// Why the coroutine that just switched back to the scheduler suspended.
    enum Suspension {
        /// It wants to run again: back to the ready queue.
        case yielded
        /// It parked on a token that will make it ready.
        case parked
        /// A pool worker with no task left: the pool keeps it.
        case idle
    }

    // The owner-thread state below is never touched by two threads, which is why it skips
    // the runtime's dynamic exclusivity checks: they cost more than the scheduling itself.

    /// Set by a coroutine of this scheduler right before it suspends (`switchOut(_:as:)`).
    @exclusivity(unchecked) private var suspension = Suspension.yielded
    /// The system call the suspending coroutine waits in, for the listeners.
    @exclusivity(unchecked) private var suspendedInSyscall: String?
    /// The coroutine being resumed right now, unretained: `resume` holds it meanwhile.
    @exclusivity(unchecked) private var running: Unmanaged<ScheduledCoroutine>?
    /// The frame of the running coroutine (0 between resumes), for the blocking watchdog on
    /// the monitor's thread. Its first resume creates it, so a just-started coroutine shows 0.
    let runningFrame = Atomic<UInt>(0)
    /// Resumptions the current round may still make; 0 outside a round.
    @exclusivity(unchecked) private var roundBudget = 0
    /// The task pool of a runtime thread; nil for a standalone scheduler.
    @exclusivity(unchecked) var pool: CoroutinePool?
    /// Coroutines waiting for a call on a blocking pool, which wakes them through the arrivals list.
    @exclusivity(unchecked) var pooledCalls = 0

    /// Whether coroutines here do file I/O through io_uring: on the runtime's threads, as
    /// `RuntimeConfiguration.ioUring` says; off on a standalone scheduler, which runs on a
    /// thread of the caller's. A thread that submits to an io_uring is interrupted by the
    /// kernel when the ring needs a new kernel worker (task work), and a timed socket wait of
    /// the caller's own code on that thread would end early with EINTR.
    @exclusivity(unchecked) var usesRing = false

    /// The thread's io_uring, when file I/O goes through one and the kernel has it.
    var ring: Ring? {
        usesRing ? eventLoop.ring : nil
    }

    @exclusivity(unchecked) private var ready = ReadyQueue()
    @exclusivity(unchecked) private var timers = TimerQueue<ParkingToken>()
    /// Timers whose park already ended otherwise (marked `.stale`): nobody waits for them.
    /// They leave the queue at their deadline, or all at once when they become the majority.
    @exclusivity(unchecked) private var endedTimers = 0
    private let arrivals = Mutex<[(coroutine: ScheduledCoroutine, priority: Int)]>([])
    private let arrivalsPending = Atomic<Bool>(false)
    private let hasListeners = Atomic<Bool>(false)
    private let listeners = Mutex<[SchedulerListener]>([])
    /// Where the thread parks and learns of ready descriptors; unparked when a coroutine is
    /// made ready from another thread.
    let eventLoop: EventLoop
    /// Events counted for monitoring.
    let counters = SchedulerCounters()
    /// Whether coroutines switch straight to one another here (`handOver`).
    private let handsOver = oc_frame_hands_over()

    /// Creates a scheduler with nothing to run.
    ///
    /// - Throws: `SystemError` when the kernel refuses its epoll instance or eventfd (for
    ///   example at the process's descriptor limit).
    public init() throws(SystemError) {
        eventLoop = try EventLoop()
    }

    /// The scheduler running on this thread, if any.
    public static var current: Scheduler? {
        guard let scheduler = oc_scheduler_get() else { return nil }
        // Sound: the slot holds the scheduler that is running this thread's loop, kept alive
        // by that loop for as long as the slot is set.
        return Unmanaged<Scheduler>.fromOpaque(scheduler).takeUnretainedValue()
    }

    /// Runs `body` with this scheduler as the thread's current one.
    func withCurrent<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = oc_scheduler_get()
        oc_scheduler_set(Unmanaged.passUnretained(self).toOpaque())
        defer { oc_scheduler_set(previous) }
        return try body()
    }

    /// Adds a listener that sees every scheduling event from now on.
    public func addListener(_ listener: @escaping SchedulerListener) {
        listeners.withLock { $0.append(listener) }
        hasListeners.store(true, ordering: .releasing)
    }

    // MARK: - Submitting

    /// Submits a coroutine; it runs when the scheduler next runs a round.
    ///
    /// Safe from any thread. Smaller `priority` values run sooner. From here on only the
    /// scheduler resumes the coroutine: `resume` throws `CoroutineError.resumedOutsideScheduler`.
    /// Submit a coroutine that is not running anywhere (one never resumed, or suspended).
    public func submit(_ coroutine: ScheduledCoroutine, priority: Int = 0) {
        coroutine.markScheduled()
        counters.coroutinesCreated.wrappingAdd(1, ordering: .relaxed)
        notify(.created(coroutine))
        makeReady(.passRetained(coroutine), priority: priority)
    }

    /// Submits a closure to run in a new coroutine; returns the coroutine.
    @discardableResult
    public func submit(
        name: String? = nil,
        priority: Int = 0,
        stackSize: Int = StackSize.default,
        _ body: @escaping @Sendable () throws -> Void
    ) -> ScheduledCoroutine {
        let coroutine = ScheduledCoroutine(name: name, stackSize: stackSize) { _, _ in try body() }
        submit(coroutine, priority: priority)
        return coroutine
    }

    /// Makes a coroutine of this scheduler ready, taking over the reference to it the caller
    /// owns (see `ReadyQueue`); from another thread, through the arrivals list.
    /// `afterTimeout`: its wait timed out (timers fire on this thread), so it goes before the
    /// coroutines that merely yielded.
    func makeReady(_ coroutine: Unmanaged<ScheduledCoroutine>, priority: Int = 0, afterTimeout: Bool = false) {
        if oc_scheduler_get() == Unmanaged.passUnretained(self).toOpaque() {
            ready.push(coroutine, priority: priority, afterTimeout: afterTimeout)
            notify(.ready(coroutine.takeUnretainedValue()))
        } else {
            let coroutine = coroutine.takeRetainedValue()
            arrivals.withLock { $0.append((coroutine, priority)) }
            arrivalsPending.store(true, ordering: .releasing)
            eventLoop.unpark()
        }
    }

    // MARK: - Running

    /// Runs coroutines until none is ready, without waiting for timers.
    public func runReady() {
        withCurrent { _ = runRound(limit: .max) }
    }

    /// Runs coroutines, waiting for sleeping ones, ones waiting on descriptors and calls on
    /// the blocking pool, until nothing is left to run or wait for, or `deadline` passes.
    ///
    /// A coroutine parked until another thread wakes it is not waited for: with nothing else
    /// to wait for the call returns, and a later call runs the coroutine once its wake came.
    public func run(until deadline: ContinuousClock.Instant) {
        let end = deadlineNanoseconds(after: ContinuousClock.now.duration(to: deadline))
        withCurrent {
            while true {
                _ = runRound(limit: .max)
                let now = monotonicNanoseconds()
                guard now < end, ready.isEmpty, hasTimers || eventLoop.hasWaiters || pooledCalls > 0 else { return }
                let wake = min(timers.nextDeadline ?? end, end)
                eventLoop.park(timeoutNanoseconds: wake - min(now, wake))
            }
        }
    }

    /// One round: ready descriptors, arrivals, due timers, then up to `limit` resumes. Returns
    /// how many ran.
    func runRound(limit: Int) -> Int {
        if eventLoop.hasWaiters {
            eventLoop.pollReady()
        }
        takeArrivals()
        fireDueTimers()
        var resumed = 0
        roundBudget = limit
        defer { roundBudget = 0 }
        while roundBudget > 0, let coroutine = ready.pop() {
            roundBudget -= 1
            resumed += 1
            // A sleeper whose deadline passed mid-round goes ahead of the rest of the round.
            if hasDueTimer {
                fireDueTimers()
            }
            // A preempted coroutine goes behind everything waiting, queued tasks included:
            // the round ends so that the thread's loop can start one.
            if resume(coroutine) == .preempted { break }
        }
        return resumed
    }

    /// Whether a round would find work now, without running it.
    var hasReadyWork: Bool {
        !ready.isEmpty || hasArrivals
    }

    /// Whether a sleeper's deadline has passed; reads the clock only when someone sleeps.
    var hasDueTimer: Bool {
        timers.nextDeadline.map { $0 <= monotonicNanoseconds() } ?? false
    }

    /// Whether a coroutine other than the running one could run now: a ready one, one that
    /// arrived from another thread, or a sleeper whose deadline passed.
    private var othersWaitToRun: Bool {
        hasReadyWork || hasDueTimer
    }

    /// Coroutines in the ready queue (not arrivals not yet taken).
    var readyCount: Int {
        ready.count
    }

    /// Whether other threads made coroutines of this scheduler ready since the last round.
    var hasArrivals: Bool {
        arrivalsPending.load(ordering: .acquiring)
    }

    /// The earliest timer deadline, if any coroutine sleeps.
    var nextDeadline: UInt64? {
        timers.nextDeadline
    }

    /// Whether coroutines wait on this scheduler's timers.
    var hasTimers: Bool {
        timers.count > endedTimers
    }

    /// Timers queued, stale ones included, for tests.
    var queuedTimerCount: Int {
        timers.count
    }

    /// How a resumed coroutine came back.
    enum Resumption {
        /// It suspended or ended on its own.
        case cameBack
        /// The preemption handler switched it out; it is back in the ready queue.
        case preempted
    }

    /// Resumes one coroutine and settles the one that comes back by the reason it did: the
    /// same one, or the last of the coroutines it handed the thread over to (`handOver`).
    /// Takes over the reference to it the caller owns (see `ReadyQueue`).
    @discardableResult
    func resume(_ coroutine: Unmanaged<ScheduledCoroutine>) -> Resumption {
        counters.switches.increment()
        suspension = .yielded
        running = coroutine
        // Borrowed: the reference the caller handed over keeps it until it leaves, and a
        // hand-over passes that reference on with the thread (`handOver`).
        let (failure, preempted) = coroutine._withUnsafeGuaranteedRef { coroutine -> ((any Error)?, Bool) in
            runningFrame.store(UInt(bitPattern: coroutine.frame), ordering: .relaxed)
            notify(.running(coroutine))
            // The coroutine the preemption handler may switch back here (Preemption.swift).
            let outerTarget = oc_preempt_enter(Unmanaged.passUnretained(coroutine).toOpaque())
            let failure = switchIn(coroutine)
            return (failure, oc_preempt_leave(outerTarget))
        }
        // Whoever came back is `running`: a hand-over moves the mark with the thread.
        guard let left = running.take() else {
            preconditionFailure("a scheduler's resume lost track of its running coroutine")
        }
        runningFrame.store(0, ordering: .relaxed)
        settle(left, failure: failure)
        return preempted ? .preempted : .cameBack
    }

    /// Runs a scheduled coroutine until a coroutine comes back; returns the error it ended
    /// with, if it ended otherwise than by returning (or could not start).
    private func switchIn(_ coroutine: ScheduledCoroutine) -> (any Error)? {
        let frame: UnsafeMutablePointer<oc_frame>
        if let suspended = coroutine.claimScheduledSuspended() {
            frame = suspended
        } else {
            do {
                // Not started yet: a cancel may race with the claim (`AnyCoroutine.cancel()`).
                frame = try coroutine.beginRunning()
            } catch {
                return error
            }
        }
        // The one input a scheduled coroutine takes, for its first run and every arrival.
        var input: Void? = ()
        let (left, ended) = withUnsafeMutablePointer(to: &input) { input in
            coroutine.run(frame, inbox: UnsafeMutableRawPointer(input))
        }
        guard ended else { return nil }
        return left._withUnsafeGuaranteedRef { left in
            left.status == .complete ? nil : left.failure ?? CoroutineError.cancelled
        }
    }

    /// Puts a coroutine that came back where its state says, with the reference `resume` was
    /// handed: to the ready queue, to its park (its token hands it to `makeReady`), to the
    /// pool, or let go when it ended.
    private func settle(_ coroutine: Unmanaged<ScheduledCoroutine>, failure: (any Error)?) {
        guard coroutine._withUnsafeGuaranteedRef({ $0.status }) == .suspended else {
            ended(coroutine.takeRetainedValue(), failure: failure)
            return
        }
        settleSuspended(coroutine, as: suspension)
    }

    /// Puts a coroutine that suspends (or, on a hand-over, is about to) where `suspension`
    /// says, with the reference the round resumed it with.
    private func settleSuspended(_ coroutine: Unmanaged<ScheduledCoroutine>, as suspension: Suspension) {
        switch suspension {
        case .yielded:
            ready.push(coroutine)
            notify(.ready(coroutine.takeUnretainedValue()))
        case .parked:
            if let name = suspendedInSyscall.take() {
                notify(.inSyscall(coroutine.takeUnretainedValue(), name))
            } else {
                notify(.suspended(coroutine.takeUnretainedValue()))
            }
        case .idle:
            let worker = coroutine.takeRetainedValue()
            pool?.park(worker)
        }
    }

    /// Reports a coroutine that came back ended (or, which never happens, still running).
    private func ended(_ coroutine: ScheduledCoroutine, failure: (any Error)?) {
        switch coroutine.status {
        case .complete:
            notify(.completed(coroutine))
        case .cancelled:
            notify(.cancelled(coroutine))
        case .failed:
            if failure as? CoroutineError == .stackOverflow {
                pool?.workerOverflowed(coroutine)
            }
            notify(.failed(coroutine, failure ?? CoroutineError.cancelled))
        case .ready, .running, .suspended:
            break
        }
    }

    private func takeArrivals() {
        guard arrivalsPending.load(ordering: .acquiring) else { return }
        let arrived = arrivals.withLock { arrivals in
            arrivalsPending.store(false, ordering: .relaxed)
            defer { arrivals.removeAll(keepingCapacity: true) }
            return arrivals
        }
        for (coroutine, priority) in arrived {
            ready.push(.passRetained(coroutine), priority: priority)
            notify(.ready(coroutine))
        }
    }

    /// Wakes the sleepers whose deadline passed; reads the clock only when someone sleeps.
    private func fireDueTimers() {
        guard let next = timers.nextDeadline else { return }
        let now = monotonicNanoseconds()
        guard next <= now else { return }
        timers.popDue(now: now) { token in
            leaveTimerQueue(token)
            token.end(.timedOut)
        }
    }

    /// Unmarks a token that leaves the timer queue, uncounting it if it was stale.
    private func leaveTimerQueue(_ token: ParkingToken) {
        if token.timerMark == .stale {
            endedTimers -= 1
        }
        token.timerMark = .none
    }

    /// Counts a queued timer whose park ended otherwise. Once such timers are the majority,
    /// they all leave the queue: a server whose reads carry long timeouts would otherwise
    /// keep a timer per read for the whole timeout.
    private func timerEnded(_ token: ParkingToken) {
        token.timerMark = .stale
        endedTimers += 1
        guard endedTimers >= 1_024, endedTimers * 2 >= timers.count else { return }
        timers.removeAll { token in
            // Also the parks that ended and whose coroutine has not run yet: unmarked here,
            // they are not counted when it does.
            guard token.outcome != nil else { return false }
            leaveTimerQueue(token)
            return true
        }
    }

    // MARK: - Suspending

    /// Parks the running coroutine (suspends it) until its token is unparked or `deadline`
    /// passes: the coroutine half of `Parking.park`.
    ///
    /// `register` hands the token to whatever will wake it; when it returns false the
    /// event already happened and the coroutine does not suspend at all. A park that is not
    /// `cancellable` (a pthread mutex's, which POSIX never interrupts) ignores the task's
    /// cancellation. `settle` sees the token and the outcome before the park returns (see
    /// `Parking.park(untilNanoseconds:on:cancellable:_:settle:)`).
    @discardableResult
    func park(
        _ coroutine: Unmanaged<ScheduledCoroutine>,
        until deadline: UInt64?,
        inSyscall syscall: String? = nil,
        reason: WaitReason,
        cancellable: Bool = true,
        register: (ParkingToken) -> Bool,
        settle: (ParkingToken, Parking.Outcome) -> Void = { _, _ in }
    ) -> Parking.Outcome {
        // Borrowed: the coroutine holds its token (`AnyCoroutine.parkingToken`) until its next
        // park, so the park costs no reference counting of it.
        parkingToken(for: coroutine)._withUnsafeGuaranteedRef { token in
            let outcome = park(coroutine, with: token, until: deadline, inSyscall: syscall, reason: reason,
                               cancellable: cancellable, register: register)
            settle(token, outcome)
            return outcome
        }
    }

    private func park(
        _ coroutine: Unmanaged<ScheduledCoroutine>,
        with token: ParkingToken,
        until deadline: UInt64?,
        inSyscall syscall: String?,
        reason: WaitReason,
        cancellable: Bool,
        register: (ParkingToken) -> Bool
    ) -> Parking.Outcome {
        // A coroutine cancelled as such (`AnyCoroutine.cancel()`, which leaves a scheduled one
        // to its scheduler) begins no wait.
        if cancellable, coroutine._withUnsafeGuaranteedRef({ $0.isCancelled }) {
            token.cancelPark(as: .cancelled)
            return .cancelled
        }
        guard register(token) else {
            token.cancelPark()
            return .notParked
        }
        if let deadline {
            timers.insert(token, deadline: deadline)
            token.timerMark = .queued
        }
        // Borrowed: the worker running the task keeps it for the task's whole run.
        let task = cancellable ? CurrentTask.unmanagedTask : nil
        task?._withUnsafeGuaranteedRef { $0.enterPark(token) }
        suspendedInSyscall = syscall
        if syscall != nil {
            counters.syscallWaits.increment()
        }
        let frame = oc_frame_current()
        reason.note(in: frame, deadline: deadline, call: syscall)
        // The token names the coroutine unretained: the park owns the reference the round
        // resumed it with (`settle`), and the wake hands it to the ready queue.
        switchOut(coroutine, as: .parked)
        frame.pointee.wait.kind = UInt8(OC_WAIT_NONE.rawValue)
        task?._withUnsafeGuaranteedRef { $0.leavePark() }
        guard let outcome = token.outcome else {
            preconditionFailure("a parked coroutine resumed before its park ended")
        }
        if token.timerMark == .queued, outcome != .timedOut {
            timerEnded(token)
        }
        return outcome
    }

    /// The token for a park of `coroutine`: the one of its last park when nothing else holds
    /// it any more (no lock's queue, no timer, no task), rearmed, or a new one, kept for the
    /// next park. A coroutine parks again and again (every channel receive, every lock wait),
    /// and the reuse saves an allocation and its reference counting on each.
    private func parkingToken(for coroutine: Unmanaged<ScheduledCoroutine>) -> Unmanaged<ParkingToken> {
        coroutine._withUnsafeGuaranteedRef { coroutine in
            if var token = coroutine.parkingToken.take(), isKnownUniquelyReferenced(&token),
               token.wakes(Unmanaged.passUnretained(coroutine), on: self) {
                // The last other holder let go with a releasing decrement; this acquire orders
                // its final writes to the token before the rearm.
                atomicMemoryFence(ordering: .acquiring)
                token.rearm()
                coroutine.parkingToken = token
                return Unmanaged.passUnretained(token)
            }
            let token = ParkingToken(waking: Unmanaged.passUnretained(coroutine), on: self)
            coroutine.parkingToken = token
            return Unmanaged.passUnretained(token)
        }
    }

    /// Switches from the running coroutine back to the scheduler loop, which settles it by
    /// `suspension`: back to the ready queue, parked, or (a pool worker) idle.
    func switchOut(_ coroutine: Unmanaged<ScheduledCoroutine>, as suspension: Suspension) {
        if handOver(from: coroutine, as: suspension) { return }
        self.suspension = suspension
        // The coroutine's own cancellation surfaces at its next wait (`park`); the switch
        // itself must happen either way.
        coroutine._withUnsafeGuaranteedRef { $0.suspendToResumer() }
    }

    /// Switches from the running coroutine, which suspends `as suspension`, straight to the
    /// next ready one, as the round would resume it after settling this one, with one jump
    /// instead of two and without the round's bookkeeping between (Go's scheduler hands a
    /// woken goroutine the rest of the waker's time slice the same way, `runnext`). The
    /// resume in progress then comes back with whichever coroutine next leaves for the round.
    /// Returns once the coroutine runs again; false, without switching, where the round has
    /// to run first: its budget is spent (it polls descriptors and starts queued tasks
    /// between rounds), a timer is due, nothing is ready, the next one has not started or
    /// was preempted, or the worker goes idle (the pool settles those).
    private func handOver(from coroutine: Unmanaged<ScheduledCoroutine>, as suspension: Suspension) -> Bool {
        guard suspension != .idle, roundBudget > 1, handsOver, let next = ready.first, !hasDueTimer else {
            return false
        }
        // Borrowed: the ready queue's reference keeps `next` and becomes the round's once
        // popped; the round's reference keeps `coroutine` until it is settled below.
        return coroutine._withUnsafeGuaranteedRef { coroutine in
            next._withUnsafeGuaranteedRef { nextCoroutine in
                // Claiming `next` may fail; nothing has changed before it succeeds.
                coroutine.handOver(to: nextCoroutine, input: ()) {
                    _ = ready.pop()
                    roundBudget -= 1
                    counters.switches.increment()
                    counters.handOvers.increment()
                    running = next
                    runningFrame.store(UInt(bitPattern: nextCoroutine.frame), ordering: .relaxed)
                    notify(.running(nextCoroutine))
                    oc_preempt_retarget(next.toOpaque())
                    settleSuspended(.passUnretained(coroutine), as: suspension)
                } != nil
            }
        }
    }

    /// The running coroutine when the caller runs directly in it (not in a coroutine nested
    /// inside it, not on the scheduler's own stack).
    var directlyRunning: Unmanaged<ScheduledCoroutine>? {
        guard let running, let frame = oc_frame_peek(), frame.pointee.owner == running.toOpaque(),
              oc_frame_runs_here(frame) else { return nil }
        return running
    }

    /// The scheduler and its running coroutine when called from that coroutine directly.
    static func directlyScheduled() -> (Scheduler, Unmanaged<ScheduledCoroutine>)? {
        guard let scheduler = current, let coroutine = scheduler.directlyRunning else { return nil }
        return (scheduler, coroutine)
    }

    /// Suspends the calling coroutine for `duration`; blocks a plain thread instead.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled, before or
    ///   during the sleep.
    public static func sleep(for duration: Duration) throws(CoroutineError) {
        try sleep(untilNanoseconds: deadlineNanoseconds(after: duration))
    }

    static func sleep(untilNanoseconds deadline: UInt64) throws(CoroutineError) {
        try CurrentTask.checkCancellation()
        guard let (scheduler, coroutine) = directlyScheduled() else {
            blockThread(until: deadline)
            return
        }
        if scheduler.park(coroutine, until: deadline, reason: .sleep, register: { _ in true }) == .cancelled {
            throw .cancelled
        }
    }

    /// Lets other ready coroutines run before the calling one continues; on a plain
    /// thread, yields the thread.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled.
    public static func yield() throws(CoroutineError) {
        // Cancellation is checked once, after the switch: it then covers a cancel that came
        // before the call and one that came while others ran.
        let yielded = oc_scheduler_get().map {
            // Sound: the slot holds the scheduler running this thread's loop (see `current`);
            // borrowing it avoids a retain on the hottest path.
            Unmanaged<Scheduler>.fromOpaque($0)._withUnsafeGuaranteedRef { $0.yieldRunning() }
        } ?? false
        if !yielded {
            sched_yield()
        }
        try CurrentTask.checkCancellation()
    }

    /// Lets ready coroutines and due timers go first, when there are any. For calls that
    /// completed without waiting (a file read from the page cache): a coroutine that does a
    /// long stretch of such calls would otherwise hold the thread until preempted.
    func giveWayIfOthersWait(_ coroutine: Unmanaged<ScheduledCoroutine>) {
        guard othersWaitToRun else { return }
        switchOut(coroutine, as: .yielded)
    }

    func yieldRunning() -> Bool {
        guard let coroutine = directlyRunning else { return false }
        if continuesInPlace() { return true }
        switchOut(coroutine, as: .yielded)
        return true
    }

    /// Whether a yield can go on without switching: with nothing ready, no arrival and no due
    /// timer, the round would resume the yielder straight away. The yield still spends one
    /// resumption of the round's budget, so the thread polls descriptors and starts queued
    /// tasks as often as when every yield switched. Listeners see every yield switch.
    private func continuesInPlace() -> Bool {
        guard roundBudget > 1, !othersWaitToRun, !hasListeners.load(ordering: .relaxed) else { return false }
        roundBudget -= 1
        return true
    }

    private static func blockThread(until deadline: UInt64) {
        let parker = Parker()
        _ = ParkingToken(.thread(parker)).blockThread(parker: parker, until: deadline)
    }

    // MARK: - Listeners

    // Inlined: called at every switch; with no listener (the usual case) it is one atomic load
    // at the call site, and the event is never built.
    @inline(__always)
    private func notify(_ event: @autoclosure () -> SchedulerEvent) {
        if hasListeners.load(ordering: .acquiring) {
            deliver(event())
        }
    }

    private func deliver(_ event: SchedulerEvent) {
        for listener in listeners.withLock({ $0 }) {
            do {
                try listener(event)
            } catch {
                CoroutineLogging.logger.warning("scheduler listener failed on \(event): \(error)")
            }
        }
    }
}
