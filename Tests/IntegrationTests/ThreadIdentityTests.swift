import Foundation
import Testing

/// Runs the thread-identity probe (Tests/ThreadIdentityProbe) and returns its `name=value`
/// fields; a trap, a hang (killed after 30 s) or a missing field fails the test.
private func probeFields(_ arguments: [String], timeout: TimeInterval = 30) throws -> [String: Int] {
    try probeRun(arguments, timeout: timeout).fields
}

/// `probeFields`, with the probe's whole output (its standard error included), for a test
/// whose failure the output explains.
private func probeRun(_ arguments: [String], timeout: TimeInterval = 30) throws -> (fields: [String: Int], output: String) {
    let run = try runBounded(builtExample("thread_identity_probe"), arguments: arguments, timeout: timeout)
    try #require(!run.timedOut, "\(arguments.joined(separator: " ")) still ran after \(timeout) s: \(run.output)")
    try #require(run.signal == nil && run.status == 0, "\(arguments.joined(separator: " ")): \(run.output)")
    let line = try #require(run.output.split(separator: "\n").last { $0.contains("elapsed_ms=") }, "\(run.output)")
    let fields = Dictionary(line.split(separator: " ").compactMap { field -> (String, Int)? in
        let parts = field.split(separator: "=")
        guard parts.count == 2, let value = Int(parts[1]) else { return nil }
        return (String(parts[0]), value)
    }, uniquingKeysWith: { $1 })
    return (fields, run.output)
}

/// Code that relies on its thread, from tasks (Docs/preemption.md, "Locks a thread owns"):
/// thread-owned locks held across a suspension, Swift's once-lock, and the semaphores and
/// futexes libdispatch waits on.
@Suite struct ThreadIdentityTests {
    static let holds = ["sleep", "preempt"]
    static let threads = ["1", "2"]

    /// Eight tasks take one lock and hold it 50 ms across a hooked sleep or a preemption: no
    /// trap, no deadlock, one holder at a time.
    @Test(arguments: ["mutex", "nslock", "pthread-normal", "pthread-recursive", "pthread-errorcheck"], holds)
    func aThreadOwnedLockHeldAcrossASuspensionExcludesAndFinishes(lock: String, hold: String) throws {
        for threads in Self.threads {
            let fields = try probeFields(["lock", lock, hold, threads, "8"])
            #expect(fields["most_inside"] == 1, "\(lock) \(hold) on \(threads) threads: \(fields)")
            #expect(fields["count"] == 8, "\(lock) \(hold) on \(threads) threads: \(fields)")
            // Eight holds of 50 ms one after the other, with room for a loaded machine.
            #expect((fields["elapsed_ms"] ?? .max) < 5_000, "\(lock) \(hold) on \(threads) threads: \(fields)")
        }
    }

    /// Sixteen tasks read a lazy value whose initializer takes 50 ms across a hooked sleep or a
    /// preemption: it is initialized once, every reader gets it, nothing traps or hangs.
    @Test(arguments: ["global", "static"], holds)
    func aLazyValueInitializedAcrossASuspensionIsInitializedOnce(kind: String, hold: String) throws {
        for threads in Self.threads {
            let fields = try probeFields(["once", kind, hold, threads, "16"])
            #expect(fields["initialized"] == 1, "\(kind) \(hold) on \(threads) threads: \(fields)")
            #expect(fields["readers"] == 16, "\(kind) \(hold) on \(threads) threads: \(fields)")
            #expect((fields["elapsed_ms"] ?? .max) < 2_000, "\(kind) \(hold) on \(threads) threads: \(fields)")
        }
    }

    /// 100 DispatchSemaphore waits of 0.2 s on 2 threads end together, and 100 waits without
    /// a deadline end when a plain thread signals: libdispatch's sem_timedwait and sem_wait
    /// suspend only their task.
    @Test func dispatchSemaphoreWaitsSuspendOnlyTheirTask() throws {
        let fields = try probeFields(["semaphore", "2", "100"])
        #expect(fields["timed_out"] == 100, "\(fields)")
        #expect(fields["signalled"] == 100, "\(fields)")
        #expect((fields["elapsed_ms"] ?? .max) < 600, "\(fields)")
    }

    /// A sleep made through libc's `syscall` suspends its task: on one thread, a 10 ms ticker
    /// keeps its period and 1,000 queued tasks finish while it sleeps 1 s.
    @Test func aSleepThroughSyscallSuspendsOnlyItsTask() throws {
        let fields = try probeFields(["raw-sleep"])
        #expect((fields["ticker_worst_ms"] ?? .max) < 60, "\(fields)")
        #expect((fields["queued_done_ms"] ?? .max) < 500, "\(fields)")
        #expect((fields["elapsed_ms"] ?? .max) < 2_000, "\(fields)")
    }

    /// A storm of 10,000 sleeps of 1 ms through `syscall` from 1,000 tasks on 2 threads: every
    /// task and call finishes, together, and the process gains no thread.
    @Test func aStormOfSleepsThroughSyscallLosesNothing() throws {
        let fields = try probeFields(["raw-storm"])
        #expect(fields["finished"] == 1_000, "\(fields)")
        #expect(fields["calls"] == 10_000, "\(fields)")
        #expect(fields["threads_after"] == fields["threads_before"], "\(fields)")
        // 10 sleeps of 1 ms one after the other per task, all tasks at once; serial would be 5 s.
        #expect((fields["elapsed_ms"] ?? .max) < 2_500, "\(fields)")
    }

    /// 100 children of 0.3 s from 100 tasks on 2 threads, through `system` and through
    /// `posix_spawn` and `waitpid`, end together, and `system` returns the shell's status.
    @Test func childrenOfTasksRunTogether() throws {
        let fields = try probeFields(["children"])
        #expect(fields["succeeded"] == 100, "\(fields)")
        #expect(fields["exit_status"] == 3, "\(fields)")
        #expect((fields["elapsed_ms"] ?? .max) < 1_000, "\(fields)")
    }

    /// `Process.waitUntilExit` from 50 tasks of one thread, each spinning its own run loop
    /// (TaskRunLoops.swift): every child's end is seen, together. (Two tasks of one thread never
    /// finished when they shared the thread's.)
    @Test func processesWaitedForByTasksOfOneThreadAllEnd() throws {
        let fields = try probeFields(["process", "1", "50"])
        #expect(fields["succeeded"] == 50, "\(fields)")
        #expect((fields["elapsed_ms"] ?? .max) < 1_500, "\(fields)")
    }

    /// Two tasks on each of two threads, each waiting for its child in its run loop. When the
    /// tasks of a thread shared its run loop, an outer run's wakeup signalled while the inner
    /// run of the other task was awake was lost (3 runs in 15 hung). Twelve runs, each bounded.
    @Test func processesWaitedForByTasksOfTwoThreadsAllEnd() throws {
        for run in 1...12 {
            let fields = try probeFields(["process", "2", "4"], timeout: 10)
            #expect(fields["succeeded"] == 4, "run \(run): \(fields)")
            #expect((fields["elapsed_ms"] ?? .max) < 1_000, "run \(run): \(fields)")
        }
    }

    /// Each task has a run loop of its own (TaskRunLoops.swift): the same across its
    /// suspensions, another than every other task's, and a timer one task schedules fires only
    /// in that task's runs, while the tasks of a thread run theirs at once. A task that ends
    /// with a timer still scheduled leaves its run loop aside: the timer never fires again, in
    /// any task (the second wave makes one run loop more, the aside one's replacement). Once
    /// the timer is invalidated the run loop is reused (a third wave of one task more makes
    /// none), so descriptors grow with the tasks alive at once, about three a run loop.
    @Test(arguments: [("1", 20), ("2", 100)])
    func everyTaskRunsARunLoopOfItsOwn(threads: String, tasks: Int) throws {
        let fields = try probeFields(["run-loops", threads, "\(tasks)"])
        #expect(fields["distinct_loops"] == tasks, "\(fields)")
        #expect(fields["stable"] == 3 * tasks + 1, "\(fields)")
        #expect(fields["foreign_fires"] == 0, "\(fields)")
        // 100 ms of a 5 ms timer in each of the 3 × TASKS + 1 runs: up to 20 fires each, 12
        // to 17 on average on this machine; at least one each however loaded it is.
        #expect((fields["fires"] ?? 0) >= 3 * tasks + 1, "\(fields)")
        #expect(fields["leaked_fires_after_end"] == 0, "\(fields)")
        #expect(fields["loops_two_waves"] == tasks + 1, "\(fields)")
        #expect(fields["loops_three_waves"] == tasks + 1, "\(fields)")
        // Three a run loop; and the runtime's own, counted from before it started: the thread
        // run loop the first task's check makes, each scheduler thread's event loop and ring
        // (303 + 14 to 17 seen for 100 tasks on 2 threads).
        #expect((fields["descriptors_grown"] ?? .max) <= 3 * (tasks + 1) + 32, "\(fields)")
        // Three waves of 100 ms runs take 0.4 s on an idle machine; making descriptors can
        // stall a thread for 100 ms at a time while the kernel grows the descriptor table of a
        // process with many threads, and a loaded one took 6 s once.
        #expect((fields["elapsed_ms"] ?? .max) < 10_000, "\(fields)")
    }

    /// The issue's figure: 100 children of 0.3 s from 100 tasks on 2 threads, each through
    /// `Process` with its stdout and stderr read through pipes with `FileHandle` and a
    /// `terminationHandler`, all end within 1 s with their outputs exact.
    @Test func aHundredProcessesWithPipesFromTwoThreadsFinishTogether() throws {
        let plain = try probeFields(["process", "2", "100"], timeout: 20)
        #expect(plain["succeeded"] == 100, "\(plain)")
        #expect((plain["elapsed_ms"] ?? .max) < 1_000, "\(plain)")
        let piped = try probeFields(["process-output", "2", "100"], timeout: 20)
        #expect(piped["succeeded"] == 100, "\(piped)")
        #expect(piped["handled"] == 100, "\(piped)")
        #expect((piped["elapsed_ms"] ?? .max) < 1_000, "\(piped)")
    }

    /// Handoff, on a 1-thread runtime: a task holds the thread 1 s in `sigtimedwait` (no hook
    /// sees it) or in 0.5 s or more of JSON decoding inside Foundation (where preemption must
    /// not stop it); the 1,000 tasks queued meanwhile run on a spare. Without handoff they wait
    /// for the holder. The ticker beside them, a task already started on the held thread,
    /// stays there (Docs/scheduling.md says why).
    @Test(arguments: ["unhooked", "excluded"])
    func queuedTasksRunOnASpareWhileTheirThreadIsHeld(_ hold: String) throws {
        let handedOff = try probeFields(["handoff", hold, "2000"], timeout: 30)
        #expect((handedOff["held_ms"] ?? 0) >= 500, "\(handedOff)")
        #expect((handedOff["queued_done_ms"] ?? .max) < 200, "\(handedOff)")
        #expect((handedOff["handoffs"] ?? 0) >= 1, "\(handedOff)")
        #expect(handedOff["spares"] == 1, "\(handedOff)")
        let held = try probeFields(["handoff", hold, "0"], timeout: 30)
        #expect((held["queued_done_ms"] ?? 0) >= (held["held_ms"] ?? .max) / 2, "\(held)")
        #expect(held["handoffs"] == 0, "\(held)")
    }

    /// 10,000 calls of 1 ms that no hook sees, from 1,000 tasks on 2 threads, twice: every
    /// task and call finishes, spares share the load, and once they have been dormant for
    /// `keepAlive` the process has the threads it had before, and its resident memory is back
    /// near where it was (here +1.4 MiB after the first storm, +0.2 MiB more after the second:
    /// pooled stacks and grown queues, reused the second time).
    @Test func aStormOfHeldCallsLosesNoTaskAndLeavesNoThreadNorMemory() throws {
        let fields = try probeFields(["held-storm"], timeout: 60)
        #expect(fields["finished"] == 2_000, "\(fields)")
        #expect(fields["calls"] == 20_000, "\(fields)")
        #expect((fields["handoffs"] ?? 0) >= 1, "\(fields)")
        #expect(fields["threads_after"] == fields["threads_before"], "\(fields)")
        let before = try #require(fields["rss_before_kib"]), first = try #require(fields["rss_after_first_kib"])
        let second = try #require(fields["rss_after_second_kib"])
        #expect(before > 0 && first - before < 8 * 1_024, "\(fields)")
        #expect(second - first < 2 * 1_024, "a second storm added to what the first left: \(fields)")
        #expect((fields["elapsed_ms"] ?? .max) < 20_000, "\(fields)")
    }

    /// Bursts of spawns make the scheduler threads wait for the runtime's own locks (the global
    /// queue's, where full rings spill), at times for longer than the monitor's sampling
    /// period on this 2-core machine. Such a wait is no call a task made: the watchdog names no
    /// task for it, and it starts no spare (the same test of the wait decides both). Before, the
    /// probe logged 8-12 warnings "in futex" in 3 of 4 runs, and a full bench-spawn run about
    /// 20. Spares are not counted here: a worker that runs task after task without a switch is
    /// held on the CPU in the runtime's code, where preemption must skip, and gets a spare
    /// while a core is free (1 of 3 runs here); that rule is the handoff tests' business. It
    /// runs on its own (`make test-workspace`): beside the other tests, in a fresh-clone run,
    /// one of the probe's waits drew a warning all the same; a failure prints the probe's
    /// output, the warning and its backtrace with it.
    @Test func waitsForTheRuntimesOwnLocksAreNamedByNoWarning() throws {
        let run = try probeRun(["spawn-storm"], timeout: 120)
        #expect(run.fields["warnings"] == 0, "\(run.fields)\n\(run.output)")
    }

    /// The same for DispatchGroup.wait, which libdispatch makes on a futex through `syscall`.
    @Test func dispatchGroupWaitsSuspendOnlyTheirTask() throws {
        let fields = try probeFields(["group", "2", "100"])
        #expect(fields["timed_out"] == 100, "\(fields)")
        #expect(fields["woken"] == 100, "\(fields)")
        #expect((fields["elapsed_ms"] ?? .max) < 600, "\(fields)")
    }
}
