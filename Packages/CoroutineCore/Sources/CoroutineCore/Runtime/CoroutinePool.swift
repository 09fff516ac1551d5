import CCoroutineCore
import Synchronization

/// The worker coroutines of one scheduler thread, which run the runtime's tasks.
///
/// Workers are created lazily: only when a task is waiting and no idle worker exists, up to
/// `maxWorkers`. A worker runs tasks back to back without switching, taking the next one
/// itself, and yields to its scheduler when other coroutines are ready or timers are due.
/// When a task blocks (sleeps, joins), its worker blocks with it and the next task gets
/// another worker, so queued tasks keep moving. A worker with nothing to do parks as idle;
/// beyond `minWorkers`, one idle for longer than `keepAlive` (idle time, not age) exits. A
/// worker that overflows its stack dies with its task, and the pool takes its place back.
/// Owner-thread only.
final class CoroutinePool {
    /// Tasks check the scheduler's timers every this many tasks (a clock read costs).
    private static let timerCheckInterval = 64

    let index: Int
    let queues: WorkStealingQueues<PoolTask>
    /// Counts the tasks spawned on this thread.
    let counter: TaskCounter
    let priorityTasks: PriorityTaskQueue
    private unowned let scheduler: Scheduler
    private let configuration: RuntimeConfiguration
    private let keepAliveNanoseconds: UInt64

    // Owner-thread state: never touched by two threads, so it skips the runtime's dynamic
    // exclusivity checks.

    /// Workers alive: running, blocked or idle.
    @exclusivity(unchecked) private(set) var total = 0 {
        didSet { publishedTotal.store(total, ordering: .relaxed) }
    }
    @exclusivity(unchecked) private var idle: [(worker: ScheduledCoroutine, since: UInt64)] = [] {
        didSet { publishedIdle.store(idle.count, ordering: .relaxed) }
    }
    /// `total` and the idle count, for other threads to read (statistics).
    let publishedTotal = Atomic<Int>(0)
    let publishedIdle = Atomic<Int>(0)
    /// Workers that yielded between two tasks and wait in the ready queue: each takes the next
    /// queued task when it runs again, so while one waits no other worker needs to start.
    @exclusivity(unchecked) private var yieldedBetweenTasks = 0
    /// The task a worker picks up when resumed by `dispatch`.
    @exclusivity(unchecked) private var handoff: PoolTask?
    /// Set while resuming an idle worker so that it exits.
    @exclusivity(unchecked) private var retiring = false
    /// The task each worker runs, by worker slot, so a stop can cancel them.
    @exclusivity(unchecked) private var activeTasks: [PoolTask?] = []
    @exclusivity(unchecked) private var freeSlots: [Int] = []
    /// Each live worker's slot, to take it back from a worker that died.
    @exclusivity(unchecked) private var workerSlots: [ObjectIdentifier: Int] = [:]

    init(
        index: Int,
        scheduler: Scheduler,
        queues: WorkStealingQueues<PoolTask>,
        priorityTasks: PriorityTaskQueue,
        counter: TaskCounter,
        configuration: RuntimeConfiguration
    ) {
        self.index = index
        self.counter = counter
        self.scheduler = scheduler
        self.queues = queues
        self.priorityTasks = priorityTasks
        self.configuration = configuration
        self.keepAliveNanoseconds = configuration.keepAlive.clampedNanoseconds
    }

    /// Workers running or blocked in a task.
    var busy: Int { total - idle.count }

    /// Idle workers.
    var idleCount: Int { idle.count }

    /// Starts a queued task on an idle or new worker; false when none is queued or the pool
    /// is at `maxWorkers` with every worker busy.
    func dispatch() -> Bool {
        guard yieldedBetweenTasks == 0, !idle.isEmpty || total < configuration.maxWorkers, let task = nextTask() else {
            return false
        }
        handoff = task
        let worker = idle.popLast()?.worker ?? makeWorker()
        scheduler.resume(.passRetained(worker))
        if worker.status == .failed, let unstarted = handoff.take() {
            workerFailedToStart(worker, task: unstarted)
        }
        return true
    }

    /// Takes back the slot of a new worker that never started, because the kernel refused it
    /// a stack, and fails the task handed to it with that error
    /// (`CoroutineError.stackAllocationFailed`): left waiting, the task and its joiners would
    /// hang, and the next task handed over would take its place.
    private func workerFailedToStart(_ worker: ScheduledCoroutine, task: PoolTask) {
        forget(worker)
        task.failUnstarted(because: worker.failure as? CoroutineError ?? .stackAllocationFailed(errno: ENOMEM))
    }

    /// Takes back a worker that ran out of tasks.
    func park(_ worker: ScheduledCoroutine) {
        idle.append((worker, monotonicNanoseconds()))
    }

    /// When the longest-idle worker beyond `minWorkers` is due to exit.
    var nextExpiry: UInt64? {
        guard total > configuration.minWorkers, let oldest = idle.first else { return nil }
        return expiry(ofIdleSince: oldest.since)
    }

    /// When a worker idle since `since` is due to exit; nil when never.
    private func expiry(ofIdleSince since: UInt64) -> UInt64? {
        let (expiry, overflow) = since.addingReportingOverflow(keepAliveNanoseconds)
        return overflow ? nil : expiry
    }

    /// Lets workers idle for longer than `keepAlive` exit, keeping `minWorkers`. The idle list
    /// is in idling order, so the expired ones are a prefix, taken off in one step: after a
    /// burst, thousands expire together, and taking them off one by one moved the rest of
    /// the list each time.
    func retireExpired(now: UInt64) {
        let expired = idle.prefix(max(0, total - configuration.minWorkers)).prefix { entry in
            expiry(ofIdleSince: entry.since).map { $0 <= now } ?? false
        }.map(\.worker)
        guard !expired.isEmpty else { return }
        idle.removeFirst(expired.count)
        for worker in expired {
            retire(worker)
        }
    }

    /// Lets every idle worker exit (the thread is stopping).
    func retireAll() {
        while let (worker, _) = idle.popLast() {
            retire(worker)
        }
    }

    /// Takes back the slot of a worker that overflowed its stack: its task, and any task it
    /// ran inline, fail with `CoroutineError.stackOverflow`, and the next task that needs a
    /// worker gets a new one. The other tasks of the thread are untouched.
    func workerOverflowed(_ worker: ScheduledCoroutine) {
        guard let slot = forget(worker) else { return }
        // Counted before the task fails, so a joiner that sees the failure sees the count.
        scheduler.counters.stackOverflows.increment()
        activeTasks[slot].take()?.abandon(because: .stackOverflow)
    }

    /// Takes back the place of a worker that is gone (or going): its slot, for the next new
    /// worker, and its count. Returns the slot; nil when the worker was forgotten already.
    @discardableResult
    private func forget(_ worker: ScheduledCoroutine) -> Int? {
        guard let slot = workerSlots.removeValue(forKey: ObjectIdentifier(worker)) else { return nil }
        freeSlots.append(slot)
        total -= 1
        return slot
    }

    private func retire(_ worker: ScheduledCoroutine) {
        retiring = true
        scheduler.resume(.passRetained(worker))
        retiring = false
    }

    private func nextTask() -> PoolTask? {
        if let urgent = priorityTasks.pop(before: ReadyQueue.defaultPriority) {
            return urgent
        }
        return queues.pop(worker: index) ?? priorityTasks.pop(before: .max)
    }

    /// Cancels the task of every worker that is running or blocked in one.
    func cancelRunningTasks() {
        for task in activeTasks {
            task?.cancel()
        }
    }

    private func makeWorker() -> ScheduledCoroutine {
        total += 1
        scheduler.counters.coroutinesCreated.wrappingAdd(1, ordering: .relaxed)
        let slot = freeSlots.popLast() ?? {
            activeTasks.append(nil)
            return activeTasks.count - 1
        }()
        let worker = ScheduledCoroutine(name: "pool-worker-\(index)", stackSize: configuration.stackSize) { [unowned self] _, _ in
            self.work(slot: slot)
        }
        workerSlots[ObjectIdentifier(worker)] = slot
        worker.markScheduled()
        return worker
    }

    /// The body of every worker: run tasks while there are any, then park, until retired.
    private func work(slot: Int) {
        guard let me = scheduler.directlyRunning else { return }
        while true {
            var sinceTimerCheck = 0
            while let task = handoff.take() ?? nextTask() {
                activeTasks[slot] = task
                CurrentTask.run(task)
                activeTasks[slot] = nil
                if me._withUnsafeGuaranteedRef({ $0.isCancelled }) {
                    // Cancelled as a coroutine (`Coroutine.current?.cancel()` in a task): every
                    // wait it began from now on would end cancelled, so it ends, and the next
                    // task that needs a worker gets a new one.
                    forget(me.takeUnretainedValue())
                    return
                }
                sinceTimerCheck += 1
                if othersWait(&sinceTimerCheck) {
                    yieldedBetweenTasks += 1
                    scheduler.switchOut(me, as: .yielded)
                    yieldedBetweenTasks -= 1
                }
            }
            let frame = oc_frame_current()
            WaitReason.idle.note(in: frame, deadline: nil, call: nil)
            scheduler.switchOut(me, as: .idle)
            frame.pointee.wait.kind = UInt8(OC_WAIT_NONE.rawValue)
            if retiring {
                forget(me.takeUnretainedValue())
                return
            }
        }
    }

    /// Whether a worker between two tasks should let other coroutines run first: ones made
    /// ready that are not workers between tasks (those would only take tasks too; letting
    /// each go first put every task behind a switch to a cold stack, 1 switch per task and
    /// 2.5 times the time in bench-spawn), or due timers.
    private func othersWait(_ sinceTimerCheck: inout Int) -> Bool {
        scheduler.readyCount > yieldedBetweenTasks || scheduler.hasArrivals || dueTimers(&sinceTimerCheck)
    }

    private func dueTimers(_ sinceCheck: inout Int) -> Bool {
        guard sinceCheck >= Self.timerCheckInterval else { return false }
        sinceCheck = 0
        return scheduler.hasDueTimer
    }
}
