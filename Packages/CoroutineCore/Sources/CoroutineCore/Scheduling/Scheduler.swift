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
//             event holds the coroutine's WaitTicket.
//
// A round (`runRound`) collects ready descriptors (when any coroutine waits on one), moves
// coroutines other threads made ready out of the inbox, fires the timers that are due, then
// resumes ready coroutines. A resumed coroutine runs until it suspends; before suspending it
// tells the scheduler why (`suspension`): it yielded (back to the ready queue), it waits
// (nothing to do: its ticket will bring it back), or, for a pool worker, it ran out of tasks
// (the pool parks it as idle). With nothing to run, the thread parks in the event loop's
// epoll_wait until the next timer.
//
// Waking goes through WaitTicket. Several parties may race to end one wait (the event, the
// timer, a cancellation); the first to move the ticket out of `waiting` wins and makes the
// coroutine ready on its own scheduler, directly when on that scheduler's thread, else
// through the scheduler's inbox and an unpark of its thread's event loop (an eventfd write,
// made only when the loop sleeps). A coroutine therefore always runs on the thread of the
// scheduler it was submitted to: only tasks, before they start, move between threads (by
// work stealing, see CoroutineRuntime).
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
// the scheduler, its ready queue, timers, wait tickets and the work-stealing queues;
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
/// coroutines, and an inbox through which other threads make coroutines ready.
///
/// Use one directly on any thread (`submit`, then `trySchedule`), or let `CoroutineRuntime`
/// run one per scheduler thread.
public final class Scheduler: @unchecked Sendable {
    // @unchecked Sendable: the ready queue, timers and running coroutine belong to the thread
    // that runs the scheduler; other threads only reach the inbox (a mutex) and the event
    // loop's unpark.

    /// Why the coroutine that just switched back to the scheduler suspended.
    enum Suspension {
        /// It wants to run again: back to the ready queue.
        case yielded
        /// It waits on a ticket that will make it ready.
        case waiting
        /// A pool worker with no task left: the pool keeps it.
        case idle
    }

    // The owner-thread state below is never touched by two threads, which is why it skips
    // the runtime's dynamic exclusivity checks: they cost more than the scheduling itself.

    /// Set by a coroutine of this scheduler right before it suspends.
    @exclusivity(unchecked) var suspension = Suspension.yielded
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
    /// Coroutines waiting for a call on a blocking pool, which wakes them through the inbox.
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
    @exclusivity(unchecked) private var timers = TimerQueue<WaitTicket>()
    /// Timers whose wait already ended otherwise (marked `.stale`): nobody waits for them.
    /// They leave the queue at their deadline, or all at once when they become the majority.
    @exclusivity(unchecked) private var endedTimers = 0
    private let inbox = Mutex<[(coroutine: ScheduledCoroutine, priority: Int)]>([])
    private let inboxFilled = Atomic<Bool>(false)
    private let hasListeners = Atomic<Bool>(false)
    private let listeners = Mutex<[SchedulerListener]>([])
    /// Where the thread parks and learns of ready descriptors; unparked when a coroutine is
    /// made ready from another thread.
    let eventLoop: EventLoop
    /// Events counted for monitoring.
    let counters = SchedulerCounters()

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
    /// Safe from any thread. Smaller `priority` values run sooner.
    public func submit(_ coroutine: ScheduledCoroutine, priority: Int = 0) {
        counters.coroutinesCreated.wrappingAdd(1, ordering: .relaxed)
        notify(.created(coroutine))
        makeReady(coroutine, priority: priority)
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

    /// Makes a coroutine of this scheduler ready; from another thread, through the inbox.
    /// `afterTimeout`: its wait timed out (timers fire on this thread), so it goes before the
    /// coroutines that merely yielded (see `ReadyQueue`).
    func makeReady(_ coroutine: ScheduledCoroutine, priority: Int = 0, afterTimeout: Bool = false) {
        if oc_scheduler_get() == Unmanaged.passUnretained(self).toOpaque() {
            ready.push(coroutine, priority: priority, afterTimeout: afterTimeout)
            notify(.ready(coroutine))
        } else {
            inbox.withLock { $0.append((coroutine, priority)) }
            inboxFilled.store(true, ordering: .releasing)
            eventLoop.unpark()
        }
    }

    // MARK: - Running

    /// Runs coroutines until none is ready, without waiting for timers.
    public func trySchedule() {
        withCurrent { _ = runRound(limit: .max) }
    }

    /// Runs coroutines, waiting for sleeping ones and ones waiting on descriptors, until
    /// nothing is left to run or wait for, or `deadline` passes.
    public func trySchedule(until deadline: ContinuousClock.Instant) {
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

    /// One round: ready descriptors, inbox, due timers, then up to `limit` resumes. Returns
    /// how many ran.
    func runRound(limit: Int) -> Int {
        if eventLoop.hasWaiters {
            eventLoop.pollReady()
        }
        drainInbox()
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

    /// Coroutines in the ready queue (not those still in the inbox).
    var readyCount: Int {
        ready.count
    }

    /// Whether other threads made coroutines of this scheduler ready since the last round.
    var hasArrivals: Bool {
        inboxFilled.load(ordering: .acquiring)
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
    enum Return {
        /// It suspended or ended on its own.
        case switched
        /// The preemption handler switched it out; it is back in the ready queue.
        case preempted
    }

    /// Resumes one coroutine and settles it by the reason it came back.
    @discardableResult
    func resume(_ coroutine: ScheduledCoroutine) -> Return {
        counters.switches.increment()
        suspension = .yielded
        running = Unmanaged.passUnretained(coroutine)
        runningFrame.store(UInt(bitPattern: coroutine.frame), ordering: .relaxed)
        notify(.running(coroutine))
        var failure: (any Error)?
        // The coroutine the preemption handler may switch back here (Preemption.swift).
        let outerTarget = oc_preempt_enter(Unmanaged.passUnretained(coroutine).toOpaque())
        do {
            _ = try coroutine.resume()
        } catch {
            failure = error
        }
        let preempted = oc_preempt_leave(outerTarget)
        runningFrame.store(0, ordering: .relaxed)
        running = nil
        settle(coroutine, failure: failure)
        return preempted ? .preempted : .switched
    }

    /// Puts a coroutine that came back where its state says: ready, waiting, idle, or ended.
    private func settle(_ coroutine: ScheduledCoroutine, failure: (any Error)?) {
        switch coroutine.status {
        case .suspended:
            switch suspension {
            case .yielded:
                ready.push(coroutine)
                notify(.ready(coroutine))
            case .waiting:
                if let name = suspendedInSyscall.take() {
                    notify(.inSyscall(coroutine, name))
                } else {
                    notify(.suspended(coroutine))
                }
            case .idle:
                pool?.park(coroutine)
            }
        case .complete:
            notify(.completed(coroutine))
        case .cancelled:
            notify(.cancelled(coroutine))
        case .failed:
            if failure as? CoroutineError == .stackOverflow {
                pool?.workerOverflowed(coroutine)
            }
            notify(.failed(coroutine, failure ?? CoroutineError.cancelled))
        case .ready, .running:
            break
        }
    }

    private func drainInbox() {
        guard inboxFilled.load(ordering: .acquiring) else { return }
        let arrived = inbox.withLock { inbox in
            inboxFilled.store(false, ordering: .relaxed)
            defer { inbox.removeAll(keepingCapacity: true) }
            return inbox
        }
        for (coroutine, priority) in arrived {
            ready.push(coroutine, priority: priority)
            notify(.ready(coroutine))
        }
    }

    /// Wakes the sleepers whose deadline passed; reads the clock only when someone sleeps.
    private func fireDueTimers() {
        guard let next = timers.nextDeadline else { return }
        let now = monotonicNanoseconds()
        guard next <= now else { return }
        timers.popDue(now: now) { ticket in
            leaveTimerQueue(ticket)
            ticket.wake(.timedOut)
        }
    }

    /// Unmarks a ticket that leaves the timer queue, uncounting it if it was stale.
    private func leaveTimerQueue(_ ticket: WaitTicket) {
        if ticket.timerMark == .stale {
            endedTimers -= 1
        }
        ticket.timerMark = .none
    }

    /// Counts a queued timer whose wait ended otherwise. Once such timers are the majority,
    /// they all leave the queue: a server whose reads carry long timeouts would otherwise
    /// keep a timer per read for the whole timeout.
    private func timerEnded(_ ticket: WaitTicket) {
        ticket.timerMark = .stale
        endedTimers += 1
        guard endedTimers >= 1_024, endedTimers * 2 >= timers.count else { return }
        timers.removeAll { ticket in
            // Also the waits that ended and whose coroutine has not run yet: unmarked here,
            // they are not counted when it does.
            guard ticket.outcome != .waiting else { return false }
            leaveTimerQueue(ticket)
            return true
        }
    }

    // MARK: - Suspending

    /// Suspends the running coroutine until `ticket` is woken or `deadline` passes.
    ///
    /// `register` hands the ticket to whatever will wake it; when it returns false the
    /// event already happened and the coroutine does not suspend at all. A wait that is not
    /// `cancellable` (a pthread mutex's, which POSIX never interrupts) ignores the task's
    /// cancellation.
    func wait(
        for coroutine: Unmanaged<ScheduledCoroutine>,
        until deadline: UInt64?,
        inSyscall syscall: String? = nil,
        reason: WaitReason,
        cancellable: Bool = true,
        register: (WaitTicket) -> Bool
    ) -> WaitTicket.Outcome {
        let ticket = WaitTicket(.coroutine(coroutine.takeUnretainedValue(), self))
        guard register(ticket) else {
            ticket.close()
            return .notified
        }
        if let deadline {
            timers.insert(ticket, deadline: deadline)
            ticket.timerMark = .queued
        }
        let task = cancellable ? CurrentTask.task : nil
        task?.enterWait(ticket)
        suspension = .waiting
        suspendedInSyscall = syscall
        if syscall != nil {
            counters.syscallWaits.increment()
        }
        let frame = oc_frame_current()
        reason.note(in: frame, deadline: deadline, call: syscall)
        switchOut(coroutine)
        frame.pointee.wait.kind = UInt8(OC_WAIT_NONE.rawValue)
        task?.leaveWait()
        let outcome = ticket.outcome
        if ticket.timerMark == .queued, outcome != .timedOut {
            timerEnded(ticket)
        }
        return outcome
    }

    /// Switches from the running coroutine back to the scheduler loop.
    func switchOut(_ coroutine: Unmanaged<ScheduledCoroutine>) {
        // The coroutine's own cancellation (rare for scheduled coroutines) surfaces at its
        // next wait instead; the switch itself must happen either way.
        let erased = Unmanaged<AnyCoroutine>.fromOpaque(coroutine.toOpaque())
        _ = try? Suspender<Void, Void>(coroutine: erased).suspend()
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
        if scheduler.wait(for: coroutine, until: deadline, reason: .sleep, register: { _ in true }) == .cancelled {
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
        suspension = .yielded
        switchOut(coroutine)
    }

    func yieldRunning() -> Bool {
        guard let coroutine = directlyRunning else { return false }
        if continuesInPlace() { return true }
        suspension = .yielded
        switchOut(coroutine)
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
        let ticket = WaitTicket(.thread(Parker()))
        guard case .thread(let parker) = ticket.waiter else { return }
        _ = ticket.blockThread(parker: parker, until: deadline)
    }

    // MARK: - Descriptors

    /// How a wait for descriptor readiness ended.
    public enum Readiness: Sendable, Equatable {
        /// The descriptor became ready (or reported an error or hang-up: try the operation).
        case ready
        /// The deadline passed first.
        case timedOut
        /// The descriptor was closed through the runtime while waiting.
        case closed
    }

    /// Waits until `fd` is ready for `interest` or `deadline` passes, suspending only the
    /// calling coroutine; on a plain thread (or a nested coroutine), blocks in `poll(2)`.
    ///
    /// Readiness is edge-triggered: call this after the operation failed with `EAGAIN`.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled;
    ///   `SystemError` when the descriptor cannot be watched (EBADF, or EPERM for a regular
    ///   file), or when a signal interrupts the wait of a plain thread.
    public static func waitUntilReady(
        _ fd: Int32, for interest: FileEvents, deadline: ContinuousClock.Instant? = nil
    ) throws -> Readiness {
        try CurrentTask.checkCancellation()
        let end = deadline.map { deadlineNanoseconds(after: ContinuousClock.now.duration(to: $0)) }
        switch awaitReadiness(of: fd, for: interest, until: end, inSyscall: nil) {
        case .ready: return .ready
        case .timedOut: return .timedOut
        case .closed: return .closed
        case .cancelled: throw CoroutineError.cancelled
        case .interrupted: throw SystemError(operation: "poll", code: EINTR)
        case .failed(let error): throw error
        }
    }

    /// How a wait for readiness ended, in full.
    enum ReadinessWait {
        case ready
        case timedOut
        /// The descriptor was closed (or replaced through dup2) while waiting.
        case closed
        /// The calling task was cancelled.
        case cancelled
        /// A signal interrupted the wait of a plain thread, and the kernel would not have
        /// restarted the call.
        case interrupted
        case failed(SystemError)

        /// The errno a blocking call reports for a wait that ended without readiness or
        /// timeout (closed: EBADF; cancelled: ECANCELED, see `Syscall`; interrupted: EINTR);
        /// nil for those two.
        var failureErrno: Int32? {
            switch self {
            case .ready, .timedOut: nil
            case .closed: EBADF
            case .cancelled: ECANCELED
            case .interrupted: EINTR
            case .failed(let error): error.code
            }
        }
    }

    /// Waits until `fd` is ready for `interest` or `deadline` passes: suspends the calling
    /// coroutine, reported to listeners as a wait inside `syscall` when one is named, or
    /// blocks a plain thread in `poll(2)`.
    static func awaitReadiness(
        of fd: Int32, for interest: FileEvents, until deadline: UInt64?, inSyscall syscall: String?
    ) -> ReadinessWait {
        // poll(2) silently ignores negative descriptors; a wait on one is a caller's error.
        guard fd >= 0 else { return .failed(SystemError(operation: "poll", code: EBADF)) }
        guard let (scheduler, coroutine) = directlyScheduled() else {
            return pollThread(fd, for: interest, until: deadline)
        }
        var failure: SystemError?
        var watched: WaitTicket?
        let outcome = scheduler.wait(
            for: coroutine, until: deadline, inSyscall: syscall, reason: .descriptor(fd, interest)
        ) { ticket in
            do throws(SystemError) {
                try scheduler.eventLoop.watch(fd: fd, for: interest, ticket: ticket)
            } catch {
                failure = error
                return false
            }
            watched = ticket
            return true
        }
        if let failure {
            // A descriptor epoll refuses (EPERM) can still be waited for by the kernel.
            return failure.code == EPERM ? pollThread(fd, for: interest, until: deadline) : .failed(failure)
        }
        if let watched, outcome == .timedOut || outcome == .cancelled {
            scheduler.eventLoop.withdraw(watched, fd: fd)
        }
        switch outcome {
        case .cancelled: return .cancelled
        case .timedOut: return .timedOut
        case .closed: return .closed
        case .notified, .waiting: return .ready
        }
    }

    private static func pollThread(_ fd: Int32, for interest: FileEvents, until deadline: UInt64?) -> ReadinessWait {
        var request = pollfd(fd: fd, events: 0, revents: 0)
        if interest.contains(.readable) { request.events |= Int16(POLLIN) }
        if interest.contains(.writable) { request.events |= Int16(POLLOUT) }
        while true {
            let result = oc_sys_poll(&request, 1, pollTimeoutMilliseconds(until: deadline))
            if result > 0 {
                guard request.revents & Int16(POLLNVAL) == 0 else {
                    return .failed(SystemError(operation: "poll", code: EBADF))
                }
                return .ready
            }
            if result == 0 { return .timedOut }
            guard errno == EINTR else { return .failed(SystemError(operation: "poll", code: errno)) }
            // The blocking call this wait stands in for would have been restarted only under
            // SA_RESTART, and never with a timeout (signal(7)).
            guard deadline == nil, oc_signals_restart() else { return .interrupted }
        }
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
