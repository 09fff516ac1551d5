import CCoroutineCore
import Glibc
import Synchronization

/// The thread that watches one runtime generation's scheduler threads and asks a thread to
/// preempt its coroutine once that coroutine has run a whole slice without a switch.
///
/// It samples each thread's switch count every quarter slice: a count unchanged for a
/// slice means one coroutine has held the thread all that time. The request is a signal
/// (preempt.c), sent only when the thread also spent at least half of that time on the CPU
/// (a coroutine blocked in the kernel, in a file read say, would only be interrupted), and
/// only when the previous request to the thread has been handled, so requests never pile
/// up. A request that found its coroutine at an unsafe point (inside malloc, say) is
/// repeated every 50 µs until one lands at a safe point: the coroutine has overstayed its
/// slice already.
///
/// The same samples feed the blocking watchdog: a thread whose coroutine has not switched
/// for `blockingWarning` while it spent less than half of that time on the CPU, used none
/// since the previous sample, and sits in a system call, is stuck in one call that did not
/// suspend (a wait no hook sees: a raw futex, a `syscall()`, a C library's internal call). A
/// thread that waits often but briefly (a contended lock, a loop of short sleeps) uses some
/// CPU between any two samples, and is not stuck in one call; nor is one waiting for the
/// runtime's own lock (`isRuntimeLockWait`). The monitor logs one warning per such stretch,
/// naming the task, the thread and the system call it sits in
/// (/proc/self/task/TID/syscall), and counts it.
/// A busy loop is preemption's business, not the watchdog's. The monitor only copies the
/// stuck coroutine's return addresses; naming them (symbolication reads debug information,
/// tens of milliseconds and far more under a sanitizer) and logging happen on a blocking-pool
/// thread, so that a warning never delays the next sample, preemption or handoff. One writer
/// writes them in turn: a burst of warnings takes at most one core from the program, as it did
/// when the monitor wrote them itself; and it makes way for any call queued on the pool behind
/// it, so that a backlog of warnings never holds a pool thread from other calls
/// (`writeUnwritten`).
///
/// And they decide handoff: a thread held in one call for `handoffAfter` (off the CPU in one
/// wait since the previous sample, not the runtime's own, or on it in code preemption skips,
/// for a slice beyond its preemption) while tasks wait in the queues gets a spare thread to
/// take those tasks up (`RuntimeGeneration.handOff`), asked each tick while the thread stays
/// held and tasks wait. The held threads of each sample are the `heldThreads` gauge; a stretch
/// whose spare `maxThreads` kept from starting counts once in `handoffsRefused`.
///
/// While every scheduler thread is parked the monitor sleeps until one wakes: an idle runtime
/// costs it no CPU.
final class PreemptionMonitor: @unchecked Sendable {
    // @unchecked Sendable: `watches` and `thread` belong to the monitor's own thread (and to
    // `start`/`stop`, which run before it starts and after it ended); the rest is atomics.

    /// What the monitor last saw of one scheduler thread.
    private struct Watch {
        /// The thread's switch count when it was last seen to change.
        var switches: UInt64 = 0
        /// When that was.
        var since: UInt64 = 0
        /// The thread's CPU time then.
        var cpuSince: UInt64 = 0
        /// Requests sent to the thread so far.
        var sent: UInt64 = 0
        /// Whether a request went to the coroutine running since `since`.
        var overdue = false
        /// Whether the watchdog warned about the stretch that began at `since`.
        var warned = false
        /// Whether `maxThreads` refused a spare for the stretch that began at `since`.
        var refused = false
        /// The thread's CPU time at the previous sample.
        var cpuAtSample: UInt64 = 0
        /// Whether the thread used no CPU at all between the previous sample and this one: it
        /// sat in one wait throughout, where a thread that waits often but briefly (for a
        /// contended lock, in a loop of short sleeps) was scheduled in between.
        var blockedThroughout = false
    }

    /// How soon a request that found its coroutine at an unsafe point is repeated.
    private static let retryNanoseconds: UInt64 = 50_000

    /// The generation watched, set by `start`.
    @exclusivity(unchecked) private unowned(unsafe) var generation: RuntimeGeneration?
    /// The preemption slice; nil when only the watchdog runs.
    private let sliceNanoseconds: UInt64?
    private let blockingWarningNanoseconds: UInt64?
    private let handoffNanoseconds: UInt64?
    private let tickNanoseconds: UInt64
    /// Warnings the watchdog gave.
    let blockingWarnings = Atomic<UInt64>(0)
    /// Held stretches whose handoff `maxThreads` refused (`RuntimeCounters.handoffsRefused`).
    let handoffsRefused = Atomic<UInt64>(0)
    /// Scheduler threads held in one call at the last sample (`RuntimeCounters.heldThreads`).
    let heldThreads = Atomic<Int>(0)
    /// Warnings waiting to be named and logged, and whether a pool thread is writing them.
    private let unwritten = Mutex<(warnings: [(text: String, addresses: [UInt])], writing: Bool)>(([], false))
    private let parker = Parker()
    private let sleeping = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    @exclusivity(unchecked) private var watches: [Watch] = []
    @exclusivity(unchecked) private var thread: pthread_t?
    /// The CPU the monitor's own thread has used.
    let cpuClock = ThreadCPUClock()

    init(slice: Duration?, blockingWarning: Duration?, handoffAfter: Duration?) {
        self.sliceNanoseconds = slice?.clampedNanoseconds
        self.blockingWarningNanoseconds = blockingWarning?.clampedNanoseconds
        self.handoffNanoseconds = handoffAfter?.clampedNanoseconds
        let shortest = [sliceNanoseconds, blockingWarningNanoseconds, handoffNanoseconds].compactMap { $0 }.min()
            ?? 10_000_000
        self.tickNanoseconds = max(shortest / 4, 1)
    }

    /// Installs the signal handler and starts the monitor's thread, watching the threads of
    /// `generation` (which outlives the monitor's thread: its `stop` ends it).
    func start(watching generation: RuntimeGeneration) throws(RuntimeError) {
        self.generation = generation
        if sliceNanoseconds != nil {
            let installed = oc_preempt_install()
            guard installed == 0 else { throw .preemptionUnavailable(errno: installed) }
        }
        do {
            thread = try startThread { [self] in run() }
        } catch {
            throw .threadCreationFailed(errno: error.errno)
        }
    }

    /// Ends the monitor's thread and waits for it, and for its warnings to be logged (at most
    /// a second, so that a pool thread stuck elsewhere cannot hold up the stop).
    func stop() {
        stopping.store(true, ordering: .releasing)
        parker.unpark()
        if let thread = thread.take() {
            pthread_join(thread, nil)
        }
        let deadline = deadlineNanoseconds(afterNanoseconds: 1_000_000_000)
        while unwritten.withLock({ $0.writing }), monotonicNanoseconds() < deadline {
            parker.park(timeoutNanoseconds: 1_000_000)
        }
    }

    /// Tells a sleeping monitor that a scheduler thread left its park.
    func schedulerThreadWoke() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .relaxed) {
            parker.unpark()
        }
    }

    private func run() {
        guard let generation else { return }
        oc_thread_set_name("oc-preempt")
        cpuClock.recordCallingThread()
        defer { cpuClock.forgetThread() }
        oc_preempt_refresh_code()
        if !oc_preempt_runtime_is_shared() {
            CoroutineLogging.logger.debug(
                "the runtime is linked into the program: coroutines give way only at safe points (hooked calls, waits)")
        }
        watches = Array(repeating: Watch(), count: generation.threads.count)
        // A stopped run holds no thread.
        defer { heldThreads.store(0, ordering: .relaxed) }
        while !stopping.load(ordering: .acquiring) {
            if generation.allThreadsIdle {
                sleepWhileIdle(generation)
                continue
            }
            oc_preempt_refresh_code()
            let now = monotonicNanoseconds()
            var held = 0
            for index in watches.indices {
                let thread = generation.threads[index]
                guard thread.isActive else {
                    watches[index] = Watch()
                    continue
                }
                watch(thread, with: &watches[index], now: now)
                if handOffIfHeld(thread, with: &watches[index], now: now, generation: generation) {
                    held += 1
                }
            }
            heldThreads.store(held, ordering: .relaxed)
            let retrying = watches.contains { $0.overdue }
            parker.park(timeoutNanoseconds: retrying ? min(Self.retryNanoseconds, tickNanoseconds) : tickNanoseconds)
        }
    }

    private func watch(_ thread: SchedulerThread, with watch: inout Watch, now: UInt64) {
        let switches = thread.scheduler.counters.switches.current
        guard switches == watch.switches else {
            watch.switches = switches
            watch.since = now
            watch.cpuSince = thread.cpuClock.nanoseconds
            watch.cpuAtSample = watch.cpuSince
            watch.blockedThroughout = false
            watch.overdue = false
            watch.warned = false
            watch.refused = false
            return
        }
        let held = now &- watch.since
        let cpu = thread.cpuClock.nanoseconds
        watch.blockedThroughout = cpu == watch.cpuAtSample
        watch.cpuAtSample = cpu
        if let warning = blockingWarningNanoseconds, held >= warning, !watch.warned, watch.blockedThroughout {
            watch.warned = warnIfBlocked(thread, held: held, cpu: cpu &- watch.cpuSince)
        }
        guard let slice = sliceNanoseconds, held >= slice,
              cpu &- watch.cpuSince >= held / 2,
              oc_preempt_load(&thread.preemptionCounts.pointee.delivered) == watch.sent,
              thread.requestPreemption() else { return }
        watch.sent += 1
        watch.overdue = true
    }

    /// Whether `thread`'s coroutine has held it in one call for `handoffAfter` while tasks
    /// wait in the queues: off the CPU since the previous sample, in a system call (a call no
    /// hook suspends), or mostly on the CPU and past its preemption slice by `handoffAfter`
    /// (code preemption must skip; with preemption off, any code). Then hands the waiting
    /// tasks to a spare (on the CPU, only while fewer threads run tasks than the process has
    /// CPUs).
    private func handOffIfHeld(
        _ thread: SchedulerThread, with watch: inout Watch, now: UInt64, generation: RuntimeGeneration
    ) -> Bool {
        guard let handoff = handoffNanoseconds, watch.since != 0 else { return false }
        let held = now &- watch.since
        // Only while tasks wait: the closer look below reads the thread's /proc file, and on a
        // busy server a stretch of 2 ms without a switch is common, and harmless when nothing
        // waits behind it; the monitor pays that read only when a spare could help.
        guard held >= handoff, generation.hasQueuedTasks,
              thread.scheduler.runningFrame.load(ordering: .relaxed) != 0 else { return false }
        // Off the CPU counts only in one wait, a system call the thread sat in since the
        // previous sample: a thread the kernel merely left waiting for a core (a loaded
        // machine) is not held, nor one that waits often but briefly (a contended lock: the
        // runtime's own global queue under a burst of spawns was one), and a spare would only
        // add to the load, and to the contention.
        let offCPU = watch.blockedThroughout
        let mostlyOnCPU = watch.cpuAtSample &- watch.cpuSince >= held / 2
        guard offCPU
            ? thread.currentSystemCall().map({ !isRuntimeLockWait($0, on: thread) }) ?? false
            : mostlyOnCPU && held >= (sliceNanoseconds ?? 0) &+ handoff else {
            return false
        }
        // On the CPU, a spare competes with the held thread for the cores: only while one is
        // free.
        guard offCPU || generation.hasFreeCore else { return true }
        // Every tick, not once per stretch: a spare that ran out of tasks and went dormant
        // while the thread stayed held is woken for the tasks queued since. (A worker runs
        // tasks back to back without a switch, so one stretch may hold several calls.)
        if generation.handOff() == .refused && !watch.refused {
            watch.refused = true
            handoffsRefused.add(1, ordering: .relaxed)
        }
        return true
    }

    /// Warns when `thread`'s coroutine spent the `held` nanoseconds mostly off the CPU (in
    /// the kernel); returns whether it did, so that one stretch gets one warning.
    private func warnIfBlocked(_ thread: SchedulerThread, held: UInt64, cpu: UInt64) -> Bool {
        // Off the CPU in user code is the machine's load, not a blocking call.
        guard cpu < held / 2, let call = thread.currentSystemCall(),
              let (identity, addresses) = stack(in: call, on: thread),
              !Self.isRuntimeLockWait(call, from: addresses) else { return false }
        let name = withUnsafeBytes(of: identity.task_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let task = identity.task_id == 0 ? "a coroutine" : "task #\(identity.task_id)" + (name.isEmpty ? "" : " \"\(name)\"")
        blockingWarnings.add(1, ordering: .relaxed)
        let warning = """
            \(task) has blocked scheduler thread oc-scheduler-\(thread.index) for \(held / 1_000_000) ms \
            in \(call.name) without suspending; the coroutines queued on that thread wait \
            (a call no hook sees: give it to `Syscall`'s blocking pool, or run it on a thread of its own)
            """
        write(warning, backtrace: addresses)
        return true
    }

    /// Whether `call` is a wait for one of the runtime's own locks: a futex wait whose nearest
    /// caller outside the system libraries (libc, the Swift runtime, the allocators, the hook
    /// library) is the runtime's own code. Such a lock is held for microseconds; a wait for it
    /// that lasts is contention (many threads, or the machine's load), which a spare would
    /// only add to, and no call a user's task made. False when the runtime is linked into the
    /// program, where its code cannot be told from the program's.
    private func isRuntimeLockWait(_ call: SchedulerThread.SystemCall, on thread: SchedulerThread) -> Bool {
        // Walked for a futex wait only: no other call can be one.
        call.isFutex && stack(in: call, on: thread).map { Self.isRuntimeLockWait(call, from: $0.addresses) } == true
    }

    /// `isRuntimeLockWait(_:on:)` for the return addresses `addresses` of the call's stack.
    private static func isRuntimeLockWait(_ call: SchedulerThread.SystemCall, from addresses: [UInt]) -> Bool {
        guard call.isFutex else { return false }
        // The first address is where the call sits (the system call instruction, in libc or
        // in the runtime's own wrapper, whoever made the call); its callers decide.
        for caller in addresses.dropFirst() {
            if oc_preempt_code_is_runtime(caller) { return true }
            if oc_preempt_code_may_wait(caller) { return false }
        }
        return false
    }

    /// The identity of `thread`'s running coroutine and the return addresses of its stack from
    /// `call`, which it sits in; nil when no coroutine runs there, or it ended meanwhile.
    private func stack(
        in call: SchedulerThread.SystemCall, on thread: SchedulerThread
    ) -> (identity: oc_frame_identity, addresses: [UInt])? {
        let address = thread.scheduler.runningFrame.load(ordering: .relaxed)
        guard let frame = UnsafePointer<oc_frame>(bitPattern: address) else { return nil }
        // The coroutine may end meanwhile, its stack unmapped and its name freed: its
        // identity is copied where a vanished page answers false instead of crashing.
        var identity = oc_frame_identity()
        guard oc_frame_read_identity(frame, &identity) else { return nil }
        let addresses = CoroutineDump.walk(
            fromStackPointer: call.stackPointer, programCounter: call.programCounter,
            inStack: identity.stack_low, identity.stack_high)
        return (identity, addresses)
    }

    /// Queues a warning for the writer, starting one on the blocking pool when none runs.
    private func write(_ text: String, backtrace addresses: [UInt]) {
        let startsWriter = unwritten.withLock { state -> Bool in
            state.warnings.append((text, addresses))
            defer { state.writing = true }
            return !state.writing
        }
        if startsWriter {
            BlockingPool.waits.submit { [self] in writeUnwritten() }
        }
    }

    /// Names and logs the queued warnings one at a time, until none is left or a call waits
    /// in the pool's queue: then the writer goes behind it, submitted again.
    ///
    /// Naming a warning takes about a second under AddressSanitizer, and the monitor queues
    /// new ones meanwhile (this writer even outlives its runtime's stop, which waits for it a
    /// second at most), so a writer that wrote the whole queue in one job held its pool thread
    /// for tens of seconds. Where the pool may start no other thread, every call queued behind
    /// it waited that long: with `maxThreads` refusing pool threads, 16 calls made at the cap
    /// under AddressSanitizer waited beyond their test's 10 s while the writer of an earlier
    /// test's runtime wrote its backlog on the one pool thread the cap admitted.
    private func writeUnwritten() {
        while let next = unwritten.withLock({ state -> (text: String, addresses: [UInt])? in
            guard !state.warnings.isEmpty else {
                state.writing = false
                return nil
            }
            return state.warnings.removeFirst()
        }) {
            let backtrace = CoroutineDump.symbolicate(next.addresses).enumerated()
                .map { "\n    \($0.offset) \($0.element)" }.joined()
            CoroutineLogging.logger.warning("\(next.text)\(backtrace)")
            // A call queued only where the pool has a thread (this one, when this runs on the
            // pool), so the writer is queued behind it, not run here again.
            if BlockingPool.waits.hasQueuedCalls {
                BlockingPool.waits.submit { [self] in writeUnwritten() }
                return
            }
        }
    }

    /// Sleeps until a scheduler thread leaves its park (or the monitor stops).
    private func sleepWhileIdle(_ generation: RuntimeGeneration) {
        // Every thread parked: none is held.
        heldThreads.store(0, ordering: .relaxed)
        sleeping.store(true, ordering: .relaxed)
        // Pairs with `schedulerThreadWoke`: either it sees `sleeping`, or this sees the
        // thread busy.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if generation.allThreadsIdle && !stopping.load(ordering: .acquiring) {
            parker.park()
        }
        sleeping.store(false, ordering: .relaxed)
    }
}
