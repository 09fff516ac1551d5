import CCoroutineCore
import Synchronization

/// One start-to-stop run of the runtime: its threads, queues and counters.
@usableFromInline
final class RuntimeGeneration: @unchecked Sendable {
    // @unchecked Sendable: `threads` is written once before any thread starts; everything
    // else is atomics, mutexes, or Sendable.

    enum Phase: UInt8 {
        case running, draining, terminating
    }

    let configuration: RuntimeConfiguration
    let queues: WorkStealingQueues<PoolTask>
    let priorityTasks = PriorityTaskQueue()
    private(set) var threads: [SchedulerThread] = []

    private let phaseValue = Atomic<UInt8>(Phase.running.rawValue)
    /// Counts tasks spawned from threads that are not this generation's scheduler threads.
    private(set) var externalCounter: TaskCounter!
    private let liveThreads = Atomic<Int>(0)
    private let idleThreads = Mutex<[Int]>([])
    private let idleCount = Atomic<Int>(0)
    private let stopParker = Parker()
    /// Preempts coroutines that hold their thread too long and warns of those blocked in a
    /// call; nil when preemption and the blocking watchdog are both off.
    private let monitor: PreemptionMonitor?

    init(configuration: RuntimeConfiguration) {
        self.configuration = configuration
        self.spareCount = configuration.handoffAfter == nil ? 0 : configuration.threads
        self.queues = WorkStealingQueues(workers: configuration.threads + spareCount)
        self.externalCounter = TaskCounter(shared: true)
        self.activeThreads = Atomic(configuration.threads)
        self.monitor = configuration.preemption || configuration.blockingWarning != nil || configuration.handoffAfter != nil
            ? PreemptionMonitor(
                slice: configuration.preemption ? configuration.preemptionSlice : nil,
                blockingWarning: configuration.blockingWarning,
                handoffAfter: configuration.handoffAfter)
            : nil
    }

    // MARK: - Spares

    /// Spare threads, after the scheduler threads in `threads`: one per scheduler thread when
    /// handoff is on, none otherwise.
    let spareCount: Int
    /// Scheduler threads plus spares at work: what `allThreadsIdle` compares with.
    private let activeThreads: Atomic<Int>
    private let handoffCount = Atomic<UInt64>(0)
    private let sparesStartedCount = Atomic<UInt64>(0)

    /// The CPUs the process may use, when the generation started.
    private let availableCPUs = Int(oc_available_cpus())

    /// Whether fewer threads run tasks (scheduler threads and spares at work) than the process
    /// has CPUs: a spare for a thread busy on the CPU then gets a core of its own.
    var hasFreeCore: Bool {
        activeThreads.load(ordering: .relaxed) < availableCPUs
    }

    /// Whether tasks wait in the queues for a thread to start them.
    var hasQueuedTasks: Bool {
        !queues.isEmpty() || !priorityTasks.isEmpty
    }

    /// What `handOff` did.
    enum Handoff {
        /// A spare was put to work.
        case handedOff
        /// Every spare is at work already (or the system refused a spare's thread).
        case noSpare
        /// No spare was at hand, and `maxThreads` kept one from starting.
        case refused
    }

    /// Puts a spare to work for a scheduler thread held in one call (the monitor's call).
    func handOff() -> Handoff {
        var refused = false
        // On past a refused spare: a later one may be dormant, and waking it needs no thread.
        for spare in threads.dropFirst(configuration.threads) {
            let activation = spare.activate()
            switch activation {
            case .unavailable:
                continue
            case .refused:
                refused = true
                continue
            case .started, .woke:
                activeThreads.add(1, ordering: .relaxed)
                handoffCount.add(1, ordering: .relaxed)
                if activation == .started {
                    sparesStartedCount.add(1, ordering: .relaxed)
                }
                return .handedOff
            }
        }
        return refused ? .refused : .noSpare
    }

    /// Uncounts a spare that has gone dormant.
    func spareWentDormant() {
        activeThreads.subtract(1, ordering: .relaxed)
    }

    /// Counts a thread about to start (a spare; the scheduler threads are counted by
    /// `startThreads`).
    func threadStarting() {
        liveThreads.add(1, ordering: .relaxed)
    }


    /// Totals of the events of this run, and the gauges as they read now.
    var counters: RuntimeCounters {
        var totals = RuntimeCounters()
        totals.tasksQueued = externalCounter.startedCount
        for thread in threads {
            thread.scheduler.counters.add(to: &totals)
            totals.tasksQueued &+= thread.counter.startedCount
            totals.preemptions &+= oc_preempt_load(&thread.preemptionCounts.pointee.preempted)
            totals.deferredPreemptions &+= oc_preempt_load(&thread.preemptionCounts.pointee.deferred)
        }
        totals.steals = queues.steals
        totals.blockingWarnings = monitor?.blockingWarnings.load(ordering: .relaxed) ?? 0
        totals.handoffs = handoffCount.load(ordering: .relaxed)
        totals.sparesStarted = sparesStartedCount.load(ordering: .relaxed)
        totals.handoffsRefused = monitor?.handoffsRefused.load(ordering: .relaxed) ?? 0
        totals.threads = RuntimeThreads.count.load(ordering: .relaxed)
        totals.heldThreads = monitor?.heldThreads.load(ordering: .relaxed) ?? 0
        return totals
    }

    /// Tasks not finished yet, over all counters.
    private var outstanding: Int {
        threads.reduce(externalCounter.count) { $0 + $1.counter.count }
    }

    var phase: Phase {
        Phase(rawValue: phaseValue.load(ordering: .acquiring)) ?? .terminating
    }

    func startThreads() throws(RuntimeError) {
        do {
            threads = try (0..<(configuration.threads + spareCount)).map { index throws(SystemError) in
                try SchedulerThread(index: index, isSpare: index >= configuration.threads, generation: self)
            }
        } catch {
            throw .eventLoopUnavailable(error)
        }
        // Spares start when the monitor first needs them.
        for thread in threads.prefix(configuration.threads) {
            liveThreads.add(1, ordering: .relaxed)
            do {
                try thread.start()
            } catch {
                liveThreads.subtract(1, ordering: .relaxed)
                _ = stop(deadline: 0)
                throw .threadCreationFailed(errno: error.errno)
            }
        }
        do {
            try monitor?.start(watching: self)
        } catch {
            _ = stop(deadline: 0)
            throw error
        }
    }

    // MARK: - Tasks

    /// A new task, counted as started by the calling thread.
    func makeTask(name: String?, priority: Int, job: @escaping (PoolTask) -> Void) -> PoolTask {
        callingThreadCounter().add(1)
        return PoolTask(name: name, priority: priority, generation: self, job: job)
    }

    /// Counts a task's end on the calling thread, and wakes a stop waiting for the last one.
    func taskEnded() {
        callingThreadCounter().add(-1)
        if phase != .running {
            stopParker.unpark()
        }
    }

    private func callingThreadCounter() -> TaskCounter {
        localPool()?.counter ?? externalCounter
    }

    /// Queues a task: on the calling scheduler thread's own queue when there is one.
    func submit(_ task: PoolTask) {
        if task.priority != 0 {
            priorityTasks.push(task)
        } else if let pool = localPool() {
            queues.push(task, worker: pool.index)
        } else {
            queues.pushGlobal(task)
        }
        wakeIdleThread()
    }

    /// The pool of the calling thread when it is one of this generation's threads.
    private func localPool() -> CoroutinePool? {
        guard let scheduler = oc_scheduler_get() else { return nil }
        // Sound: the slot holds the scheduler running this thread's loop (see
        // `Scheduler.current`); borrowed to keep reference counting off the spawn path.
        return Unmanaged<Scheduler>.fromOpaque(scheduler)._withUnsafeGuaranteedRef { scheduler in
            guard let pool = scheduler.pool, pool.queues === queues else { return nil }
            return pool
        }
    }

    // MARK: - Idle threads

    /// Unparks one idle thread, if any, to take the work just submitted.
    func wakeIdleThread() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard idleCount.load(ordering: .relaxed) > 0,
              let index = idleThreads.withLock({ $0.popLast() }) else { return }
        leftIdle()
        threads[index].scheduler.eventLoop.unpark()
    }

    /// CPU time used by the scheduler threads and the preemption monitor so far.
    var threadsCPUNanoseconds: UInt64 {
        threads.reduce(monitor?.cpuClock.nanoseconds ?? 0) { $0 + $1.cpuClock.nanoseconds }
    }

    /// Whether every scheduler thread is parked with nothing to do.
    var allThreadsIdle: Bool {
        idleCount.load(ordering: .relaxed) == activeThreads.load(ordering: .relaxed)
    }

    /// Uncounts a thread that is no longer idle, and wakes the monitor for it.
    private func leftIdle() {
        idleCount.subtract(1, ordering: .relaxed)
        monitor?.schedulerThreadWoke()
    }

    func markIdle(_ index: Int) {
        idleThreads.withLock { $0.append(index) }
        idleCount.add(1, ordering: .relaxed)
    }

    func markBusy(_ index: Int) {
        let removed = idleThreads.withLock { idle -> Bool in
            guard let position = idle.lastIndex(of: index) else { return false }
            idle.remove(at: position)
            return true
        }
        if removed {
            leftIdle()
        }
    }

    func threadExited() {
        if liveThreads.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            stopParker.unpark()
        }
    }

    // MARK: - Stopping

    /// Drains until `deadline`, then cancels what is left and lets the threads exit.
    func stop(deadline: UInt64) -> StopReport {
        phaseValue.store(Phase.draining.rawValue, ordering: .releasing)
        // A stop that waits says so within a second, and names what it waits for.
        wait(until: min(deadline, monotonicNanoseconds() + 1_000_000_000)) { outstanding == 0 }
        if outstanding > 0 && monotonicNanoseconds() < deadline {
            Self.report("the runtime is stopping and waits up to \(Self.format(deadline)) for", tasks: outstanding)
        }
        wait(until: deadline) { outstanding == 0 }
        let unfinished = outstanding
        if unfinished > 0 {
            Self.report("the runtime stopped waiting and cancels", tasks: unfinished)
        }
        phaseValue.store(Phase.terminating.rawValue, ordering: .releasing)
        threads.forEach { $0.wakeForStop() }
        // Cancelled tasks get a moment to unwind before the report counts the threads.
        wait(until: max(deadline, monotonicNanoseconds()) + 1_000_000_000) {
            liveThreads.load(ordering: .acquiring) == 0
        }
        monitor?.stop()
        return StopReport(unfinishedTasks: unfinished, threadsStillRunning: liveThreads.load(ordering: .acquiring))
    }

    /// Logs a warning naming the tasks still running: id, name, state and innermost frames.
    private static func report(_ what: String, tasks count: Int) {
        let tasks = CoroutineDump.snapshot().filter { $0.taskID != nil }
        let listed = tasks.map { task -> String in
            let frames = task.backtrace.lazy.filter { $0.function.map(isUserFrame) ?? false }.prefix(3)
            let head = task.description.split(separator: "\n").first.map(String.init) ?? ""
            return ([head] + frames.map { "    at \($0)" }).joined(separator: "\n")
        }
        CoroutineLogging.logger.warning(
            "\(what) \(count) unfinished task\(count == 1 ? "" : "s"):\n\(listed.joined(separator: "\n"))")
    }

    /// Whether a frame is the program's rather than the runtime's own machinery.
    private static func isUserFrame(_ function: String) -> Bool {
        !["Scheduler.", "Suspender", "Parking", "Syscall.", "hook", "PoolTask", "CoroutinePool", "CurrentTask",
          "thunk for", "CoroutineRuntime.spawn", "JoinHandle.", "usleep", "sleep", "nanosleep", "read", "write"]
            .contains { function.hasPrefix($0) || function.hasPrefix("static " + $0) }
    }

    /// How long from now until `deadline`, as a person reads it.
    private static func format(_ deadline: UInt64) -> String {
        let left = deadline &- min(deadline, monotonicNanoseconds())
        return left >= 1_000_000_000 ? "\(left / 1_000_000_000) s" : "\(left / 1_000_000) ms"
    }

    private func wait(until deadline: UInt64, for condition: () -> Bool) {
        while !condition() {
            let now = monotonicNanoseconds()
            guard now < deadline else { return }
            stopParker.park(timeoutNanoseconds: min(deadline - now, 10_000_000))
        }
    }
}
