import CCoroutineCore
import Glibc
import Synchronization

/// One scheduler thread of the runtime: its scheduler, its pool of workers, and the loop
/// that alternates between them and parks when there is nothing to do.
final class SchedulerThread: @unchecked Sendable {
    // @unchecked Sendable: after start, everything but `exited` is touched only by the
    // thread itself; other threads reach the scheduler's arrivals list and event loop's unpark,
    // which are safe.

    let index: Int
    /// Whether this is a spare: a thread the monitor puts to work when a scheduler thread is
    /// held in one call past `handoffAfter` while tasks wait (handoff, Docs/scheduling.md).
    let isSpare: Bool
    let scheduler: Scheduler
    private(set) var pool: CoroutinePool!

    /// Counts the tasks spawned on this thread.
    var counter: TaskCounter { pool.counter }
    private unowned let generation: RuntimeGeneration
    private let exited = Atomic<Bool>(false)
    @exclusivity(unchecked) private var cancelledAtTermination = false
    /// The CPU the thread has used, once it runs.
    let cpuClock = ThreadCPUClock()
    /// The kernel's id of the thread, set once it runs; where preemption requests go.
    private let kernelID = Atomic<Int32>(0)
    /// The thread's /proc/self/task/TID/syscall, open while it runs (-1 otherwise).
    private let systemCallFile = Atomic<Int32>(-1)
    /// What the thread's preemption handler did; written by the handler on this thread.
    let preemptionCounts: UnsafeMutablePointer<oc_preempt_counts>
    /// Where a spare is in its life; scheduler threads stay `.active` from their start.
    private let spareState = Mutex(SpareState.unstarted)
    /// Where a dormant spare waits to be put to work again.
    private let dormancy = Parker()

    /// A spare's life: started on first need, dormant once it has nothing left to run, woken
    /// when needed again, and ended after `keepAlive` of dormancy (started again on need).
    private enum SpareState {
        case unstarted, active, dormant, exiting, exited
    }

    init(index: Int, isSpare: Bool = false, generation: RuntimeGeneration) throws(SystemError) {
        self.index = index
        self.isSpare = isSpare
        self.generation = generation
        self.scheduler = try Scheduler()
        self.preemptionCounts = .allocate(capacity: 1)
        preemptionCounts.initialize(to: oc_preempt_counts())
        self.pool = CoroutinePool(
            index: index, scheduler: scheduler, queues: generation.queues,
            priorityTasks: generation.priorityTasks, counter: TaskCounter(shared: false),
            configuration: generation.configuration)
        scheduler.pool = pool
        scheduler.usesRing = generation.configuration.ioUring
    }

    deinit {
        preemptionCounts.deallocate()
    }

    /// Whether the thread's loop has ended.
    var hasExited: Bool { exited.load(ordering: .acquiring) }

    /// Starts the OS thread. A spare's start is refused at `maxThreads`: the runtime runs
    /// without it, as it did before handoff.
    func start() throws(ThreadStartFailure) {
        let refusable = isSpare
            ? "a spare thread for handoff was not started; the tasks queued behind a held scheduler thread wait for it"
            : nil
        pthread_detach(try startThread(refusable: refusable) { [self] in run() })
    }

    /// What `activate` did.
    enum Activation {
        /// The spare's thread started.
        case started
        /// The dormant spare woke.
        case woke
        /// The spare was at work already, or still ending; or the system refused its thread.
        case unavailable
        /// The spare's thread was not started: `maxThreads` threads run already.
        case refused
    }

    /// Puts a spare to work: starts its thread, or wakes it from dormancy.
    func activate() -> Activation {
        let previous = spareState.withLock { state -> SpareState in
            defer { if state != .exiting { state = .active } }
            return state
        }
        switch previous {
        case .active, .exiting:
            return .unavailable
        case .dormant:
            dormancy.unpark()
            return .woke
        case .unstarted, .exited:
            exited.store(false, ordering: .releasing)
            generation.threadStarting()
            do {
                try start()
                return .started
            } catch {
                spareState.withLock { $0 = .exited }
                exited.store(true, ordering: .releasing)
                generation.threadExited()
                if case .atMaxThreads = error { return .refused }
                return .unavailable
            }
        }
    }

    /// Whether a spare is at work (scheduler threads always are, once started).
    var isActive: Bool {
        !isSpare || spareState.withLock { $0 == .active }
    }

    /// Wakes a dormant spare so that it sees the runtime stop.
    func wakeForStop() {
        scheduler.eventLoop.unpark()
        dormancy.unpark()
    }

    /// Asks the thread to preempt its running coroutine; false when the thread is not running
    /// (not started yet, or exited).
    func requestPreemption() -> Bool {
        let id = kernelID.load(ordering: .acquiring)
        return id != 0 && !hasExited && oc_preempt_request(id) == 0
    }

    /// A system call a thread sits in, as /proc/self/task/TID/syscall shows it.
    struct SystemCall {
        /// Its name where known ("nanosleep"), else its number ("system call 202").
        var name: String
        /// The thread's stack pointer in the call, 0 when the kernel did not say.
        var stackPointer: UInt
        /// The thread's program counter in the call (in the libc wrapper), 0 when not known.
        var programCounter: UInt
        /// Whether the call is a futex operation: a lock's or a condition's wait.
        var isFutex: Bool
    }

    /// The system call the thread sits in, read from its /proc/self/task/TID/syscall; nil when
    /// the thread runs in user code (or is not running). The file is opened once, when the
    /// thread starts, and read again from its start each time: opening descriptors at random
    /// moments would race with a program that reuses descriptor numbers (the errno fuzz does,
    /// on purpose).
    func currentSystemCall() -> SystemCall? {
        let fd = systemCallFile.load(ordering: .acquiring)
        guard fd >= 0 else { return nil }
        // "NR ARG1 … ARG6 SP PC": nine fields of at most 18 characters.
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { oc_sys_pread(fd, $0.baseAddress, $0.count, 0) }
        let fields = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let first = fields.first, let number = Int(first), number >= 0 else { return nil }
        func address(_ index: Int) -> UInt {
            fields.count > index ? UInt(fields[index].dropFirst(2), radix: 16) ?? 0 : 0
        }
        let name = Self.systemCallNames[number]
        return SystemCall(
            name: name ?? "system call \(number)", stackPointer: address(7), programCounter: address(8),
            isFutex: name == "futex")
    }

    /// The names of the system calls a stuck coroutine usually sits in.
    #if arch(x86_64)
    private static let systemCallNames: [Int: String] = [
        0: "read", 1: "write", 7: "poll", 23: "select", 35: "nanosleep", 42: "connect", 43: "accept",
        44: "sendto", 45: "recvfrom", 61: "wait4", 73: "flock", 74: "fsync", 128: "rt_sigtimedwait", 202: "futex",
        230: "clock_nanosleep",
        232: "epoll_wait", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
    ]
    #else
    private static let systemCallNames: [Int: String] = [
        63: "read", 64: "write", 72: "pselect6", 73: "ppoll", 98: "futex", 101: "nanosleep", 115: "clock_nanosleep",
        202: "accept", 203: "connect", 206: "sendto", 207: "recvfrom", 260: "wait4", 32: "flock", 82: "fsync",
        22: "epoll_pwait",
    ]
    #endif

    private func run() {
        oc_thread_set_name(isSpare ? "oc-spare-\(index - generation.configuration.threads)" : "oc-scheduler-\(index)")
        cpuClock.recordCallingThread()
        // Spares come and go, and run where the kernel finds room.
        if generation.configuration.pinsThreads && !isSpare {
            _ = oc_thread_pin(Int32(index) % oc_available_cpus())
        }
        if generation.configuration.preemption {
            oc_preempt_attach(preemptionCounts)
        }
        kernelID.store(oc_thread_id(), ordering: .releasing)
        systemCallFile.store(
            oc_sys_openat(AT_FDCWD, "/proc/self/task/\(oc_thread_id())/syscall", O_RDONLY | O_CLOEXEC, 0),
            ordering: .releasing)
        scheduler.withCurrent { loop() }
        let file = systemCallFile.exchange(-1, ordering: .acquiringAndReleasing)
        if file >= 0 { _ = oc_sys_close(file) }
        oc_preempt_attach(nil)
        cpuClock.forgetThread()
        exited.store(true, ordering: .releasing)
        // Last: from here a new activation may start the spare's thread again.
        if isSpare { spareState.withLock { $0 = .exited } }
        generation.threadExited()
    }

    private func loop() {
        while true {
            let resumed = scheduler.runRound(limit: 64)
            if pool.dispatch() || resumed > 0 {
                continue
            }
            if generation.phase == .terminating {
                cancelOutstandingWork()
                // Timers may still hold tokens of cancelled parks; they wake nobody.
                if pool.busy == 0 && !scheduler.hasReadyWork { break }
            }
            pool.retireExpired(now: monotonicNanoseconds())
            if isSpare && pool.busy == 0 && !scheduler.hasReadyWork && !spinForWork() {
                guard restDormant() else { break }
                continue
            }
            idle()
        }
        pool.retireAll()
    }

    /// A spare with no task left goes dormant until the monitor needs it again; false when it
    /// should end instead (dormant for `keepAlive`, or the runtime stops).
    private func restDormant() -> Bool {
        pool.retireAll()
        let becameDormant = spareState.withLock { state -> Bool in
            guard state == .active else { return false }
            state = .dormant
            return true
        }
        guard becameDormant else { return true }
        generation.spareWentDormant()
        let until = monotonicNanoseconds() &+ generation.configuration.keepAlive.clampedNanoseconds
        while true {
            let woken = spareState.withLock { state -> Bool? in
                if state == .active { return true }
                if generation.phase == .terminating || monotonicNanoseconds() >= until {
                    state = .exiting
                    return false
                }
                return nil
            }
            if let woken { return woken }
            let now = monotonicNanoseconds()
            dormancy.park(timeoutNanoseconds: until > now ? until - now : 0)
        }
    }

    /// How long a thread that ran out of work keeps looking before it parks. Parking and
    /// being woken cost two system calls (epoll_wait, the waker's eventfd write), far more than a task; a burst of spawns usually
    /// refills the queues within this window.
    private static let spinNanoseconds: UInt64 = 50_000

    /// Parks until work arrives, the next timer or keep-alive expiry, or a stop.
    private func idle() {
        if spinForWork() { return }
        generation.markIdle(index)
        // Announcing idleness before the last look pairs with submitters, which push before
        // looking for idle threads: one side always sees the other.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if !hasWork() {
            scheduler.eventLoop.park(timeoutNanoseconds: parkTimeout())
        }
        generation.markBusy(index)
    }

    /// Looks for work for a short while without parking; true when some arrived.
    private func spinForWork() -> Bool {
        let end = monotonicNanoseconds() + Self.spinNanoseconds
        repeat {
            for _ in 0..<32 { oc_cpu_relax() }
            if hasWork() { return true }
        } while monotonicNanoseconds() < end
        return false
    }

    private func hasWork() -> Bool {
        if scheduler.hasReadyWork { return true }
        guard pool.idleCount > 0 || pool.total < generation.configuration.maxWorkers else { return false }
        return !generation.queues.isEmpty() || !generation.priorityTasks.isEmpty
    }

    private func parkTimeout() -> UInt64? {
        let now = monotonicNanoseconds()
        var wake = [scheduler.nextDeadline, pool.nextExpiry].compactMap { $0 }.min()
        if generation.phase == .terminating {
            // Blocked tasks may still be ending after their cancellation: look again soon.
            wake = min(wake ?? .max, now + 10_000_000)
        }
        return wake.map { $0 > now ? $0 - now : 0 }
    }

    /// At termination: cancels every queued task and the tasks of this thread's workers.
    private func cancelOutstandingWork() {
        while let task = generation.priorityTasks.pop(before: .max) ?? generation.queues.pop(worker: index) {
            task.cancel()
        }
        guard !cancelledAtTermination else { return }
        cancelledAtTermination = true
        pool.cancelRunningTasks()
    }
}
