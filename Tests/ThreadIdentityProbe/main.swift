// A probe for the thread-identity tests (Tests/IntegrationTests/ThreadIdentityTests.swift): code
// that relies on its thread, run from tasks. Every case prints one line of `name=value` fields
// and exits 0; a trap or a hang is the failure the test bounds.
//
//   thread_identity_probe lock KIND HOLD THREADS TASKS
//       TASKS tasks on THREADS scheduler threads each take the lock KIND (mutex: Swift's
//       Synchronization.Mutex; nslock; pthread-normal, pthread-recursive, pthread-errorcheck)
//       and hold it across HOLD (sleep: a hooked usleep of 50 ms; preempt: 50 ms of work, which
//       preemption interrupts). Prints `most_inside=N count=N elapsed_ms=N`.
//   thread_identity_probe once KIND HOLD THREADS TASKS
//       TASKS tasks read one lazy value whose initializer takes 50 ms (KIND global: a lazy
//       global; static: a `static let`) across HOLD as above. Prints
//       `initialized=N readers=N elapsed_ms=N`.
//   thread_identity_probe semaphore THREADS TASKS
//       TASKS tasks each wait 0.2 s on their own DispatchSemaphore, which nobody signals, and
//       TASKS more wait without a deadline on one that a plain thread signals TASKS times after
//       0.1 s. Prints `timed_out=N signalled=N elapsed_ms=N`.
//   thread_identity_probe raw-sleep
//       One scheduler thread: a task sleeps 1 s in `syscall(SYS_nanosleep)` (libc's `syscall`,
//       not its `nanosleep`), a ticker task sleeps 10 ms 50 times, and 1,000 tasks are queued
//       behind them. Prints `ticker_worst_ms=N queued_done_ms=N elapsed_ms=N`.
//   thread_identity_probe raw-storm
//       2 scheduler threads: 1,000 tasks each make 10 sleeps of 1 ms through
//       `syscall(SYS_nanosleep)`. Prints `finished=N calls=N threads_before=N threads_after=N
//       elapsed_ms=N` (threads: the process's, counted in /proc/self/task).
//   thread_identity_probe children
//       2 scheduler threads: 100 tasks each run `/bin/sleep 0.3`, half through `system`, half
//       through `posix_spawn` and `waitpid`, and one more runs `system("exit 3")`. Prints
//       `succeeded=N exit_status=N elapsed_ms=N`.
//   thread_identity_probe process THREADS TASKS
//       TASKS tasks on THREADS threads each run `/bin/sleep 0.3` with Foundation's `Process`
//       and wait with `waitUntilExit`, which spins the thread's run loop. Prints
//       `succeeded=N elapsed_ms=N`.
//   thread_identity_probe process-output THREADS TASKS
//       The same, each child a shell that sleeps 0.3 s and writes `out-N` to stdout and
//       `err-N` to stderr, both read through pipes with `FileHandle`, and a
//       `terminationHandler` counting ends. Prints `succeeded=N handled=N elapsed_ms=N`
//       (succeeded: status 0 and both outputs exact).
//   thread_identity_probe run-loops THREADS TASKS
//       Three waves of tasks on THREADS threads (TASKS, TASKS, TASKS + 1). Each task reads
//       `RunLoop.current` before and after waiting for its wave's tasks to read theirs, schedules a repeating 5 ms `Timer` on
//       it and runs it for 100 ms (the tasks of a thread run theirs at the same time), then
//       invalidates the timer, except the first task of the first wave, which ends with its
//       timer still scheduled; a plain thread invalidates that one after the second wave.
//       Prints `distinct_loops=N stable=N fires=N foreign_fires=N leaked_fires_after_end=N
//       loops_two_waves=N loops_three_waves=N descriptors_grown=N elapsed_ms=N`
//       (distinct_loops: in the first wave; stable: tasks whose run loop stayed the same;
//       foreign_fires: timer fires inside a task other than the timer's; leaked_fires_after_end:
//       fires of the timer left behind during the second wave; loops_*: distinct run loops
//       over the first waves; descriptors_grown: open descriptors after the waves less before).
//   thread_identity_probe handoff HOLD HANDOFF_US
//       One scheduler thread (handoff after HANDOFF_US microseconds, 0 for none): a task holds
//       the thread in one call that does not suspend (HOLD unhooked: 1 s in `sigtimedwait`,
//       which no hook sees; excluded: decoding a large JSON array, all of it in Foundation and
//       the Swift runtime, where preemption must not stop), right after queueing 1,000 tasks
//       on it, while a ticker started before sleeps 10 ms 50 times. queued_done_ms: from the
//       queueing to the last of the 1,000 done. Prints `held_ms=N queued_done_ms=N ticker_worst_ms=N
//       handoffs=N spares=N elapsed_ms=N`.
//   thread_identity_probe held-storm
//       2 scheduler threads (spares dormant 300 ms end): 1,000 tasks each hold their thread in
//       10 calls of 1 ms that no hook sees (`sigtimedwait`), then 1,000 more. Prints
//       `finished=N calls=N handoffs=N threads_before=N threads_after=N rss_before_kib=N
//       rss_after_first_kib=N rss_after_second_kib=N elapsed_ms=N` (threads: the process's,
//       the last counted once the spares had time to end; rss: VmRSS before the storms and
//       after each, once its spares ended).
//   thread_identity_probe spawn-storm
//       2 scheduler threads, handoff and the watchdog as by default: five times, 300 tasks
//       each spawn 1,000 tasks and join them; the spawns spill full rings to the global queue
//       and contend for its lock. No task runs for long (about half a millisecond), so none
//       holds a thread on the CPU long enough for a spare either. Prints `spares=N
//       warnings=N elapsed_ms=N`.
//   thread_identity_probe group THREADS TASKS
//       TASKS tasks each wait 0.2 s on a DispatchGroup nobody leaves, and TASKS more wait
//       without a deadline on one a plain thread leaves after 0.1 s. Prints
//       `timed_out=N woken=N elapsed_ms=N`.
import CoroutineCore
import Dispatch
import Foundation
import Glibc
import OpenCoroutine
import ProbeSupport
import Synchronization

/// How a lock holder spends its 50 ms.
enum Hold: String {
    case sleep, preempt

    /// Holds the caller for 50 ms: a hooked sleep, or work that preemption interrupts.
    @inline(never)
    func hold() {
        switch self {
        case .sleep:
            usleep(50_000)
        case .preempt:
            let end = milliseconds() + 50
            var spins = 0
            while milliseconds() < end { spins = opaque(spins &+ 1) }
        }
    }
}

@inline(never)
func opaque<T>(_ value: T) -> T { value }

/// What the holders count, changed only under the lock under test: plain fields, so that two
/// holders at once would show.
final class Guarded: @unchecked Sendable {
    // @unchecked Sendable: every access is under the lock under test.
    var inside = 0
    var mostInside = 0
    var count = 0

    func enter(_ hold: Hold) {
        inside += 1
        mostInside = max(mostInside, inside)
        hold.hold()
        count += 1
        inside -= 1
    }
}

/// One of the thread-owned locks, behind one interface.
protocol ThreadLock: Sendable {
    func withLocked(_ body: () -> Void)
}

final class SwiftMutex: ThreadLock {
    let mutex = Mutex<Void>(())
    func withLocked(_ body: () -> Void) { mutex.withLock { _ in body() } }
}

final class FoundationLock: ThreadLock {
    let lock = NSLock()
    func withLocked(_ body: () -> Void) { lock.withLock(body) }
}

final class PthreadLock: ThreadLock, @unchecked Sendable {
    // @unchecked Sendable: the mutex is shared through libc's own calls.
    let pointer = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(type: Int32) {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, type)
        pthread_mutex_init(pointer, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    func withLocked(_ body: () -> Void) {
        guard pthread_mutex_lock(pointer) == 0 else { fail("pthread_mutex_lock failed") }
        body()
        guard pthread_mutex_unlock(pointer) == 0 else { fail("pthread_mutex_unlock failed") }
    }
}

func makeLock(_ kind: String) -> any ThreadLock {
    switch kind {
    case "mutex": return SwiftMutex()
    case "nslock": return FoundationLock()
    case "pthread-normal": return PthreadLock(type: Int32(PTHREAD_MUTEX_NORMAL))
    case "pthread-recursive": return PthreadLock(type: Int32(PTHREAD_MUTEX_RECURSIVE))
    case "pthread-errorcheck": return PthreadLock(type: Int32(PTHREAD_MUTEX_ERRORCHECK))
    default: fail("unknown lock \(kind)")
    }
}

func runLocks(kind: String, hold: Hold, threads: Int, tasks: Int) throws {
    let lock = makeLock(kind)
    let guarded = Guarded()
    let start = milliseconds()
    try withCoroutines(Config(threads: threads)) {
        let handles = try (0..<tasks).map { index in
            try co(name: "holder-\(index)") { lock.withLocked { guarded.enter(hold) } }
        }
        for handle in handles { try handle.join() }
    }
    emit("most_inside=\(guarded.mostInside) count=\(guarded.count) elapsed_ms=\(milliseconds() - start)")
}

func runOnce(kind: String, hold: Hold, threads: Int, tasks: Int) throws {
    initializerHold = hold
    let global = kind == "global"
    let readers = Atomic<Int>(0)
    let start = milliseconds()
    try withCoroutines(Config(threads: threads)) {
        let handles = try (0..<tasks).map { index in
            try co(name: "reader-\(index)") {
                if (global ? slowGlobal : SlowStatic.value) == 42 { readers.add(1, ordering: .relaxed) }
            }
        }
        for handle in handles { try handle.join() }
    }
    emit("initialized=\(initializations.load(ordering: .relaxed)) readers=\(readers.load(ordering: .relaxed)) "
        + "elapsed_ms=\(milliseconds() - start)")
}

func runSemaphores(threads: Int, tasks: Int) throws {
    let timedOut = Atomic<Int>(0)
    let signalled = Atomic<Int>(0)
    let shared = DispatchSemaphore(value: 0)
    let start = milliseconds()
    try withCoroutines(Config(threads: threads)) {
        var handles: [JoinHandle<Void>] = []
        for index in 0..<tasks {
            handles.append(try co(name: "timed-\(index)") {
                let own = DispatchSemaphore(value: 0)
                if own.wait(timeout: .now() + .milliseconds(200)) == .timedOut { timedOut.add(1, ordering: .relaxed) }
            })
            handles.append(try co(name: "waiter-\(index)") {
                shared.wait()
                signalled.add(1, ordering: .relaxed)
            })
        }
        let signaller = Thread {
            usleep(100_000)
            for _ in 0..<tasks { shared.signal() }
        }
        signaller.start()
        for handle in handles { try handle.join() }
    }
    emit("timed_out=\(timedOut.load(ordering: .relaxed)) signalled=\(signalled.load(ordering: .relaxed)) "
        + "elapsed_ms=\(milliseconds() - start)")
}

func runGroups(threads: Int, tasks: Int) throws {
    let timedOut = Atomic<Int>(0)
    let woken = Atomic<Int>(0)
    let never = DispatchGroup()
    never.enter()
    let later = DispatchGroup()
    later.enter()
    let start = milliseconds()
    try withCoroutines(Config(threads: threads)) {
        var handles: [JoinHandle<Void>] = []
        for index in 0..<tasks {
            handles.append(try co(name: "timed-\(index)") {
                if never.wait(timeout: .now() + .milliseconds(200)) == .timedOut { timedOut.add(1, ordering: .relaxed) }
            })
            handles.append(try co(name: "waiter-\(index)") {
                later.wait()
                woken.add(1, ordering: .relaxed)
            })
        }
        let leaver = Thread {
            usleep(100_000)
            later.leave()
        }
        leaver.start()
        for handle in handles { try handle.join() }
    }
    never.leave()
    emit("timed_out=\(timedOut.load(ordering: .relaxed)) woken=\(woken.load(ordering: .relaxed)) "
        + "elapsed_ms=\(milliseconds() - start)")
}

/// libc's `syscall`, as C code calls it: Swift cannot call a variadic C function, so it is
/// looked up and called with the three arguments nanosleep takes (the registers a variadic
/// callee reads first).
let rawSyscall = unsafeBitCast(
    dlsym(nil, "syscall"),  // RTLD_DEFAULT: the process's, the hook library's
    to: (@convention(c) (Int, UnsafeRawPointer?, UnsafeRawPointer?) -> Int).self)

/// SYS_nanosleep, which Swift's Glibc does not import.
#if arch(x86_64)
let sysNanosleep = 35
#else
let sysNanosleep = 101
#endif

func runRawSleep() throws {
    let start = milliseconds()
    let worstGap = Atomic<Int>(0)
    let queuedDone = Atomic<Int>(0)
    try withCoroutines(Config(threads: 1)) {
        let sleeper = try co(name: "raw-sleeper") {
            var second = timespec(tv_sec: 1, tv_nsec: 0)
            _ = rawSyscall(sysNanosleep, &second, nil)
        }
        let ticker = try co(name: "ticker") {
            var last = milliseconds()
            for _ in 0..<50 {
                usleep(10_000)
                let now = milliseconds()
                worstGap.max(now - last, ordering: .relaxed)
                last = now
            }
        }
        let queued = try (0..<1_000).map { index in try co(name: "queued-\(index)") { index } }
        for handle in queued { _ = try handle.join() }
        queuedDone.store(milliseconds() - start, ordering: .relaxed)
        try ticker.join()
        try sleeper.join()
    }
    emit("ticker_worst_ms=\(worstGap.load(ordering: .relaxed)) queued_done_ms=\(queuedDone.load(ordering: .relaxed)) "
        + "elapsed_ms=\(milliseconds() - start)")
}

/// The process's threads, as /proc/self/task lists them.
func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

func runRawStorm() throws {
    let finished = Atomic<Int>(0)
    let calls = Atomic<Int>(0)
    var before = 0
    let start = milliseconds()
    try withCoroutines(Config(threads: 2)) {
        // Once the runtime's own threads exist: what the storm must not add to.
        usleep(100_000)
        before = threadCount()
        let tasks = try (0..<1_000).map { index in
            try co(name: "storm-\(index)") {
                for _ in 0..<10 {
                    var millisecond = timespec(tv_sec: 0, tv_nsec: 1_000_000)
                    if rawSyscall(sysNanosleep, &millisecond, nil) == 0 { calls.add(1, ordering: .relaxed) }
                }
                finished.add(1, ordering: .relaxed)
            }
        }
        for task in tasks { try task.join() }
        emit("finished=\(finished.load(ordering: .relaxed)) calls=\(calls.load(ordering: .relaxed)) "
            + "threads_before=\(before) threads_after=\(threadCount()) elapsed_ms=\(milliseconds() - start)")
    }
}

/// libc's `system`, which Swift marks unavailable: looked up as C code would link it.
let cSystem = unsafeBitCast(dlsym(nil, "system"), to: (@convention(c) (UnsafePointer<CChar>) -> Int32).self)

/// Runs `/bin/sleep 0.3` through posix_spawn and waits with waitpid; its wait status.
func spawnAndWait() -> Int32 {
    var child: pid_t = 0
    let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("0.3"), nil]
    defer { arguments.forEach { free($0) } }
    guard posix_spawn(&child, "/bin/sleep", nil, nil, arguments, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 {
        guard errno == EINTR else { return -1 }
    }
    return status
}

func runChildren() throws {
    let succeeded = Atomic<Int>(0)
    let start = milliseconds()
    var exitStatus: Int32 = -1
    try withCoroutines(Config(threads: 2)) {
        let tasks = try (0..<100).map { index in
            try co(name: "child-\(index)") {
                let status = index % 2 == 0 ? cSystem("/bin/sleep 0.3") : spawnAndWait()
                if status == 0 { succeeded.add(1, ordering: .relaxed) }
            }
        }
        let failing = try co(name: "exit-3") { cSystem("exit 3") }
        for task in tasks { try task.join() }
        let status = try failing.join()
        // WEXITSTATUS, which Swift's Glibc does not import.
        exitStatus = (status >> 8) & 0xff
    }
    emit("succeeded=\(succeeded.load(ordering: .relaxed)) exit_status=\(exitStatus) elapsed_ms=\(milliseconds() - start)")
}

/// Runs `body(index)` in `tasks` tasks named `process-index` on a runtime of `threads`
/// threads, and joins them all.
func inProcessTasks(threads: Int, tasks: Int, _ body: @escaping @Sendable (Int) -> Void) throws {
    try withCoroutines(Config(threads: threads)) {
        let handles = try (0..<tasks).map { index in try co(name: "process-\(index)") { body(index) } }
        for handle in handles { try handle.join() }
    }
}

func runProcesses(threads: Int, tasks: Int) throws {
    let succeeded = Atomic<Int>(0)
    let start = milliseconds()
    try inProcessTasks(threads: threads, tasks: tasks) { _ in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["0.3"]
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
        if process.terminationStatus == 0 { succeeded.add(1, ordering: .relaxed) }
    }
    emit("succeeded=\(succeeded.load(ordering: .relaxed)) elapsed_ms=\(milliseconds() - start)")
}

func runProcessesWithOutput(threads: Int, tasks: Int) throws {
    let succeeded = Atomic<Int>(0)
    let handled = Atomic<Int>(0)
    let start = milliseconds()
    try inProcessTasks(threads: threads, tasks: tasks) { index in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "sleep 0.3; echo out-\(index); echo err-\(index) >&2"]
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        process.terminationHandler = { _ in handled.add(1, ordering: .relaxed) }
        guard (try? process.run()) != nil else { return }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let reported = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let exact = printed == Data("out-\(index)\n".utf8) && reported == Data("err-\(index)\n".utf8)
        if process.terminationStatus == 0 && exact { succeeded.add(1, ordering: .relaxed) }
    }
    // The handlers run on Foundation's own queue, after the ends waitUntilExit saw: give the
    // last of them a moment.
    for _ in 0..<100 where handled.load(ordering: .relaxed) < tasks { usleep(10_000) }
    emit("succeeded=\(succeeded.load(ordering: .relaxed)) handled=\(handled.load(ordering: .relaxed)) elapsed_ms=\(milliseconds() - start)")
}

/// What the run-loop waves saw.
final class RunLoopWaves: Sendable {
    let loops = Mutex<Set<ObjectIdentifier>>([])
    let stable = Atomic<Int>(0)
    let fires = Atomic<Int>(0)
    let foreignFires = Atomic<Int>(0)
    let leakedFires = Atomic<Int>(0)
    /// The timer a task left scheduled.
    let leftBehind = Mutex<LeftTimer?>(nil)

    /// A timer handed to the plain thread that invalidates it.
    // @unchecked Sendable: `invalidate` may be called from any thread (CoreFoundation locks).
    struct LeftTimer: @unchecked Sendable {
        let timer: Timer
    }

    /// Tasks of the wave that hold their run loop.
    let arrived = Atomic<Int>(0)

    /// One task of a wave: its own run loop, a timer on it, 100 ms of running it. It waits for
    /// the wave's `size` tasks to hold theirs first, so that no run loop is handed on inside a
    /// wave, however late a loaded machine starts its tasks.
    func visit(leavingTimer: Bool, size: Int) {
        let loop = RunLoop.current
        arrived.add(1, ordering: .relaxed)
        while arrived.load(ordering: .relaxed) < size { usleep(1_000) }
        if RunLoop.current === loop { stable.add(1, ordering: .relaxed) }
        loops.withLock { _ = $0.insert(ObjectIdentifier(loop)) }
        let owner = CurrentTask.id
        let timer = Timer(timeInterval: 0.005, repeats: true) { [self] _ in
            fires.add(1, ordering: .relaxed)
            if leavingTimer { leakedFires.add(1, ordering: .relaxed) }
            if CurrentTask.id != owner { foreignFires.add(1, ordering: .relaxed) }
        }
        loop.add(timer, forMode: .default)
        loop.run(until: Date(timeIntervalSinceNow: 0.1))
        if leavingTimer { leftBehind.withLock { $0 = LeftTimer(timer: timer) } } else { timer.invalidate() }
    }

    var loopCount: Int { loops.withLock { $0.count } }
}

/// The number of open descriptors.
func openDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

func runRunLoops(threads: Int, tasks: Int) throws {
    let waves = RunLoopWaves()
    let start = milliseconds()
    let descriptorsBefore = openDescriptors()
    var counts: [Int] = []
    var leakedFires = 0
    try withCoroutines(Config(threads: threads)) {
        for (wave, size) in [tasks, tasks, tasks + 1].enumerated() {
            waves.arrived.store(0, ordering: .relaxed)
            let handles = try (0..<size).map { index in
                try co(name: "run-loop-\(wave)-\(index)") { waves.visit(leavingTimer: wave == 0 && index == 0, size: size) }
            }
            let firesBefore = waves.leakedFires.load(ordering: .relaxed)
            for handle in handles { try handle.join() }
            counts.append(waves.loopCount)
            if wave == 1 {
                leakedFires = waves.leakedFires.load(ordering: .relaxed) - firesBefore
                waves.leftBehind.withLock { $0?.timer.invalidate() }
            }
        }
    }
    emit("distinct_loops=\(counts[0]) stable=\(waves.stable.load(ordering: .relaxed)) "
        + "fires=\(waves.fires.load(ordering: .relaxed)) foreign_fires=\(waves.foreignFires.load(ordering: .relaxed)) "
        + "leaked_fires_after_end=\(leakedFires) loops_two_waves=\(counts[1]) loops_three_waves=\(counts[2]) "
        + "descriptors_grown=\(openDescriptors() - descriptorsBefore) elapsed_ms=\(milliseconds() - start)")
}

/// Waits `nanoseconds` in `sigtimedwait`, a call no hook sees; true when it timed out.
func waitUnhooked(nanoseconds: Int) -> Bool {
    var signals = sigset_t()
    sigemptyset(&signals)
    // A signal nobody sends here: the wait ends at its timeout.
    sigaddset(&signals, SIGSYS)
    var timeout = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
    return sigtimedwait(&signals, nil, &timeout) == -1 && errno == EAGAIN
}

/// Holds the calling task's thread in one call that does not suspend; how long, in ms.
func holdThread(_ hold: String) -> Int {
    let start = milliseconds()
    if hold == "unhooked" {
        _ = waitUnhooked(nanoseconds: 1_000_000_000)
    } else {
        let document = Data(("[" + repeatElement("123456", count: 3_000_000).joined(separator: ",") + "]").utf8)
        let decodeStart = milliseconds()
        let numbers = try? JSONDecoder().decode([Int].self, from: document)
        if numbers?.count != 3_000_000 { fail("the JSON document did not decode") }
        return milliseconds() - decodeStart
    }
    return milliseconds() - start
}

func runHandoff(hold: String, handoffMicroseconds: Int) throws {
    let start = milliseconds()
    let worstGap = Atomic<Int>(0)
    let queuedDone = Atomic<Int>(0)
    let held = Atomic<Int>(0)
    var counters: RuntimeCounters?
    let handoff: Duration? = handoffMicroseconds == 0 ? nil : .microseconds(handoffMicroseconds)
    try withCoroutines(Config(threads: 1, handoffAfter: handoff)) {
        let ticker = try co(name: "ticker") {
            var last = milliseconds()
            for _ in 0..<50 {
                usleep(10_000)
                let now = milliseconds()
                worstGap.max(now - last, ordering: .relaxed)
                last = now
            }
        }
        // The ticker starts first, so that the holder holds up a task already running.
        usleep(20_000)
        // The holder queues the tasks on its own thread, then holds it: the handoff's delay
        // is part of what they wait.
        let holder = try co(name: "holder") {
            let queuedAt = milliseconds()
            let finished = Atomic<Int>(0)
            for _ in 0..<1_000 {
                try co {
                    if finished.add(1, ordering: .relaxed).newValue == 1_000 {
                        queuedDone.store(milliseconds() - queuedAt, ordering: .relaxed)
                    }
                }
            }
            held.store(holdThread(hold), ordering: .relaxed)
        }
        try holder.join()
        try ticker.join()
        counters = CoroutineRuntime.shared.counters
    }
    emit("held_ms=\(held.load(ordering: .relaxed)) queued_done_ms=\(queuedDone.load(ordering: .relaxed)) "
        + "ticker_worst_ms=\(worstGap.load(ordering: .relaxed)) handoffs=\(counters?.handoffs ?? 0) "
        + "spares=\(counters?.sparesStarted ?? 0) elapsed_ms=\(milliseconds() - start)")
}

/// The process's resident memory in KiB (VmRSS), or -1 when /proc does not say.
func residentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return -1 }
    return kib
}

func runHeldStorm() throws {
    let finished = Atomic<Int>(0)
    let calls = Atomic<Int>(0)
    var (before, after) = (0, 0)
    var resident: [Int] = []
    var counters: RuntimeCounters?
    let start = milliseconds()
    try withCoroutines(Config(threads: 2, keepAlive: .milliseconds(300), blockingWarning: nil)) {
        // Once the runtime's own threads exist: what the storm must not add to for good.
        usleep(100_000)
        before = threadCount()
        resident.append(residentKiB())
        // Twice: what the first storm leaves resident (pooled stacks, grown queues) the second
        // must reuse, not add to.
        for round in 0..<2 {
            let tasks = try (0..<1_000).map { index in
                try co(name: "storm-\(round)-\(index)") {
                    for _ in 0..<10 where waitUnhooked(nanoseconds: 1_000_000) { calls.add(1, ordering: .relaxed) }
                    finished.add(1, ordering: .relaxed)
                }
            }
            for task in tasks { try task.join() }
            // Dormant spares end after keepAlive.
            for _ in 0..<200 where threadCount() > before { usleep(10_000) }
            resident.append(residentKiB())
        }
        counters = CoroutineRuntime.shared.counters
        after = threadCount()
    }
    emit("finished=\(finished.load(ordering: .relaxed)) calls=\(calls.load(ordering: .relaxed)) "
        + "handoffs=\(counters?.handoffs ?? 0) threads_before=\(before) threads_after=\(after) "
        + "rss_before_kib=\(resident[0]) rss_after_first_kib=\(resident[1]) rss_after_second_kib=\(resident[2]) "
        + "elapsed_ms=\(milliseconds() - start)")
}

func runSpawnStorm() throws {
    var counters: RuntimeCounters?
    let start = milliseconds()
    try withCoroutines(Config(threads: 2)) {
        for _ in 0..<5 {
            let spawners = try (0..<300).map { _ in
                try co {
                    let tasks = try (0..<1_000).map { _ in try co {} }
                    for task in tasks { try task.join() }
                }
            }
            for spawner in spawners { try spawner.join() }
        }
        counters = CoroutineRuntime.shared.counters
    }
    emit("spares=\(counters?.sparesStarted ?? 0) warnings=\(counters?.blockingWarnings ?? 0) "
        + "elapsed_ms=\(milliseconds() - start)")
}

let arguments = Array(CommandLine.arguments.dropFirst())
func number(_ index: Int) -> Int {
    guard arguments.count > index, let value = Int(arguments[index]), value > 0 else { fail("expected a count at \(index + 1)") }
    return value
}
func hold(_ index: Int) -> Hold {
    guard arguments.count > index, let hold = Hold(rawValue: arguments[index]) else { fail("expected sleep or preempt") }
    return hold
}

switch arguments.first {
case "lock": try runLocks(kind: arguments.count > 1 ? arguments[1] : "", hold: hold(2), threads: number(3), tasks: number(4))
case "once": try runOnce(kind: arguments.count > 1 ? arguments[1] : "", hold: hold(2), threads: number(3), tasks: number(4))
case "semaphore": try runSemaphores(threads: number(1), tasks: number(2))
case "group": try runGroups(threads: number(1), tasks: number(2))
case "raw-sleep": try runRawSleep()
case "raw-storm": try runRawStorm()
case "children": try runChildren()
case "process": try runProcesses(threads: number(1), tasks: number(2))
case "process-output": try runProcessesWithOutput(threads: number(1), tasks: number(2))
case "held-storm": try runHeldStorm()
case "spawn-storm": try runSpawnStorm()
case "run-loops": try runRunLoops(threads: number(1), tasks: number(2))
case "handoff":
    guard arguments.count == 3, ["unhooked", "excluded"].contains(arguments[1]), let delay = Int(arguments[2]) else {
        fail("usage: thread_identity_probe handoff unhooked|excluded HANDOFF_US")
    }
    try runHandoff(hold: arguments[1], handoffMicroseconds: delay)
default: fail("usage: thread_identity_probe lock|once|semaphore|group …")
}
