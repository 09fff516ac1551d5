import CCoroutineCore
import Foundation
import Logging
import Synchronization
import Testing
@testable import CoroutineCore

/// The runtime is one per process, so these tests run one at a time.
@Suite(.serialized) struct CoroutineRuntimeTests {
    let runtime = CoroutineRuntime.shared

    func withRuntime(
        _ configuration: RuntimeConfiguration = RuntimeConfiguration(threads: 2),
        _ body: () throws -> Void
    ) throws {
        try runtime.start(configuration)
        defer {
            let report = runtime.stop(timeout: .seconds(10))
            #expect(report.isClean, "stop left \(report)")
        }
        try body()
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    func eventually(within timeout: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            usleep(1_000)
        }
        return true
    }

    /// Spawns a task that queues 100 tasks running `queued` on its own thread, then holds that
    /// thread in `hold` (which never suspends: a plain computation, or the kernel's `usleep`,
    /// since these tests link no hook library) and returns what `hold` returns.
    func spawnHolder<Value: Sendable>(
        queuing queued: @escaping @Sendable () -> Void, holding hold: @escaping @Sendable () -> Value
    ) throws -> JoinHandle<Value> {
        try runtime.spawn {
            for _ in 0..<100 {
                _ = try? CoroutineRuntime.shared.spawn(queued)
            }
            return hold()
        }
    }

    @Test func aMillionTasksCompleteExactlyOnceAcrossThreads() throws {
        try withRuntime {
            let count = Atomic<Int>(0)
            let sum = Atomic<Int>(0)
            let squares = Atomic<Int>(0)
            let total = 1_000_000
            let record = { @Sendable (value: Int) in
                count.add(1, ordering: .relaxed)
                sum.wrappingAdd(value, ordering: .relaxed)
                squares.wrappingAdd(value &* value, ordering: .relaxed)
            }
            // Half from outside (the global queue), half from inside tasks (local queues).
            for batch in 0..<(total / 2 / 1_000) {
                try runtime.spawn {
                    for offset in 0..<1_000 {
                        let value = total / 2 + batch * 1_000 + offset
                        _ = try? CoroutineRuntime.shared.spawn { record(value) }
                    }
                }
                for offset in 0..<1_000 {
                    let value = batch * 1_000 + offset
                    try runtime.spawn { record(value) }
                }
            }
            #expect(eventually(within: .seconds(120)) { count.load(ordering: .relaxed) == total })
            let expectedSum = (0..<total).reduce(0, &+)
            let expectedSquares = (0..<total).reduce(0) { $0 &+ $1 &* $1 }
            let (finalCount, finalSum, finalSquares) = (
                count.load(ordering: .relaxed), sum.load(ordering: .relaxed), squares.load(ordering: .relaxed))
            #expect(finalCount == total)
            #expect(finalSum == expectedSum)
            #expect(finalSquares == expectedSquares)
        }
    }

    /// Yields that go on without switching still end the round as often as switching ones:
    /// on one thread, a coroutine spinning on yield lets a descriptor wait end and a task it
    /// queued start.
    /// A task's values (`CurrentTask[key]`) are its own, though one pool coroutine runs the
    /// tasks one after another, and they are released when its body ends, before `join`
    /// returns; outside a task there are none.
    @Test func aTasksValuesAreItsOwnAndReleasedBeforeItsJoinReturns() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let key = CoroutineLocal<Tracked>()
            let number = CoroutineLocal<Int>()
            let releases = Tracked.Releases()
            for round in 0..<3 {
                let seenBefore = try runtime.spawn { () -> Int? in
                    let before = CurrentTask[number]
                    CurrentTask[number] = round
                    CurrentTask[key] = Tracked(releases)
                    try Scheduler.yield()
                    return CurrentTask[number] == round ? before : -1
                }.join()
                #expect(seenBefore == nil, "round \(round) saw \(String(describing: seenBefore))")
                #expect(releases.count == round + 1)
            }
            CurrentTask[number] = 1
            #expect(CurrentTask[number] == nil)
        }
    }

    /// A task a join runs inline, on its joiner's coroutine, sees none of the joiner's values,
    /// and its own go with it: the joiner finds its own again.
    @Test func aTaskRunInlineByAJoinHasValuesApartFromItsJoiners() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let number = CoroutineLocal<Int>()
            let (seen, inline) = try runtime.spawn { () -> ([Int?], Bool) in
                CurrentTask[number] = 1
                let joiner = AnyCoroutine.current.map(ObjectIdentifier.init)
                let child = try CoroutineRuntime.shared.spawn { () -> (Int?, ObjectIdentifier?) in
                    let inherited = CurrentTask[number]
                    CurrentTask[number] = 2
                    return (inherited, AnyCoroutine.current.map(ObjectIdentifier.init))
                }
                let (childSaw, childCoroutine) = try child.join()
                return ([childSaw, CurrentTask[number]], childCoroutine == joiner)
            }.join()
            #expect(inline, "the join did not run the child inline: this test then tells nothing")
            #expect(seen == [nil, 1])
        }
    }

    /// A spinner that yields lets a descriptor wait and a queued task run on its thread: one
    /// spinner alone goes on in place at each yield, two switch at each, straight to each
    /// other (`Scheduler.handOver`), as long as the round's budget lasts.
    @Test(arguments: [1, 2])
    func yieldingSpinnersLetDescriptorWaitsAndQueuedTasksRun(spinners: Int) throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            defer { close(ends[0]) }
            let (readEnd, writeEnd) = (ends[0], ends[1])
            let readerWoke = Atomic<Bool>(false)
            let childRan = Atomic<Bool>(false)
            let reader = try runtime.spawn { () -> Scheduler.Readiness in
                defer { readerWoke.store(true, ordering: .releasing) }
                return try Scheduler.waitUntilReady(readEnd, for: .readable, deadline: .now + .seconds(10))
            }
            let spinning = try (0..<spinners).map { index in
                try runtime.spawn { () -> Bool in
                    if index == 0 {
                        _ = try CoroutineRuntime.shared.spawn { childRan.store(true, ordering: .releasing) }
                    }
                    let deadline = ContinuousClock.now + .seconds(10)
                    while !(readerWoke.load(ordering: .acquiring) && childRan.load(ordering: .acquiring)) {
                        guard ContinuousClock.now < deadline else { return false }
                        try Scheduler.yield()
                    }
                    return true
                }
            }
            let writer = Thread {
                usleep(20_000)
                _ = write(writeEnd, "x", 1)
                close(writeEnd)
            }
            writer.start()
            #expect(try reader.join(timeout: .seconds(20)) == .ready)
            for spinner in spinning {
                #expect(try spinner.join(timeout: .seconds(20)))
            }
        }
    }

    /// A cancel of a task that runs a child inline (its join of a child that had not started)
    /// reaches the child's wait too: the waits are the worker's now. On one thread the child
    /// is still queued when the parent joins it, so the join runs it inline.
    @Test func cancellingATaskCancelsTheChildItRunsInline() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let childStarted = Atomic<Bool>(false)
            let ranInline = Atomic<Bool>(false)
            let parent = try runtime.spawn { () -> Bool in
                let parentFrame = UInt(bitPattern: oc_frame_peek())
                let child = try CoroutineRuntime.shared.spawn { () -> Bool in
                    ranInline.store(UInt(bitPattern: oc_frame_peek()) == parentFrame, ordering: .relaxed)
                    childStarted.store(true, ordering: .releasing)
                    try Scheduler.sleep(for: .seconds(10))
                    return true
                }
                return try child.join()
            }
            while !childStarted.load(ordering: .acquiring) { usleep(1_000) }
            usleep(20_000)
            let start = ContinuousClock.now
            parent.cancel()
            #expect(throws: CoroutineError.cancelled) { try parent.join(timeout: .seconds(5)) }
            #expect(ContinuousClock.now - start < .seconds(2))
            let inline = ranInline.load(ordering: .relaxed)
            #expect(inline, "the join did not run the child inline: this test then tells nothing")
        }
    }

    /// A task that cancels the coroutine it runs on (`Coroutine.current?.cancel()`) cancels
    /// its own later waits, and nobody else's: the worker ends after the task, and the tasks
    /// after it sleep on other workers, uncancelled.
    @Test func aTaskThatCancelsItsWorkerLeavesLaterTasksUncancelled() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let own = try runtime.spawn { () -> String in
                Coroutine.current?.cancel()
                do {
                    try Scheduler.sleep(for: .milliseconds(1))
                    return "slept"
                } catch {
                    return "\(error)"
                }
            }
            #expect(try own.join(timeout: .seconds(10)) == "\(CoroutineError.cancelled)")
            let later = try (0..<10).map { _ in
                try runtime.spawn { () -> Bool in
                    try Scheduler.sleep(for: .milliseconds(1))
                    return true
                }
            }
            for task in later {
                #expect(try task.join(timeout: .seconds(10)))
            }
        }
    }

    /// The runtime's threads carry names that `top -H`, `perf` and debuggers show.
    @Test func theRuntimesThreadsAreNamed() throws {
        // No handoff, so that every task runs on a scheduler thread: a thread slowed past the
        // 2 ms of handoff (ThreadSanitizer on a loaded machine) would pass its tasks to a spare,
        // whose name, oc-spare-N, aThreadHeldInACallHandsItsQueuedTasksToASpare checks.
        try withRuntime(RuntimeConfiguration(threads: 2, handoffAfter: nil)) {
            let names = try (0..<8).map { _ in
                try runtime.spawn { threadName() }
            }.map { try $0.join(timeout: .seconds(10)) }
            for name in names {
                #expect(["oc-scheduler-0", "oc-scheduler-1"].contains(name))
            }
            // The monitor names itself once it runs, which a loaded machine may delay.
            #expect(eventually(within: .seconds(10)) {
                let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
                return tasks.contains { threadName(at: "/proc/self/task/\($0)/comm") == "oc-preempt" }
            })
        }
    }

    @Test func aThreadBlockedInComputationDoesNotHoldItsQueuedWork() throws {
        try withRuntime {
            let done = Atomic<Int>(0)
            let blocker = try spawnHolder(queuing: { done.add(1, ordering: .relaxed) }) { () -> Int in
                // A long plain computation: never suspends, so this thread is stuck here.
                let end = ContinuousClock.now + .seconds(2)
                var spins = 0
                while ContinuousClock.now < end { spins &+= 1 }
                return spins
            }
            #expect(eventually(within: .seconds(1)) { done.load(ordering: .relaxed) == 100 })
            _ = try blocker.join()
        }
    }

    /// Handoff: a task that holds its only scheduler thread in a call no hook suspends (the
    /// kernel's usleep: these tests link no hook library) leaves the 100 tasks it queued to a
    /// spare, which runs them meanwhile.
    @Test func aThreadHeldInACallHandsItsQueuedTasksToASpare() throws {
        try withRuntime(RuntimeConfiguration(threads: 1, handoffAfter: .milliseconds(2))) {
            let done = Atomic<Int>(0)
            let onSpare = Atomic<Int>(0)
            let queued: @Sendable () -> Void = {
                if threadName() == "oc-spare-0" { onSpare.add(1, ordering: .relaxed) }
                done.add(1, ordering: .relaxed)
            }
            let holder = try spawnHolder(queuing: queued) {
                usleep(600_000)
                return done.load(ordering: .relaxed)
            }
            // Done while the holder still holds the thread.
            #expect(try holder.join() == 100)
            #expect(onSpare.load(ordering: .relaxed) == 100)
            let counters = try #require(runtime.counters)
            #expect(counters.handoffs >= 1)
            #expect(counters.sparesStarted == 1)
        }
    }

    /// The same without handoff: the queued tasks wait for the holder (what the test above
    /// would see if the spare never came).
    @Test func withoutHandoffAThreadHeldInACallHoldsItsQueue() throws {
        try withRuntime(RuntimeConfiguration(threads: 1, handoffAfter: nil)) {
            let done = Atomic<Int>(0)
            let holder = try spawnHolder(queuing: { done.add(1, ordering: .relaxed) }) {
                usleep(300_000)
                return done.load(ordering: .relaxed)
            }
            #expect(try holder.join() == 0)
            #expect(eventually(within: .seconds(5)) { done.load(ordering: .relaxed) == 100 })
            #expect(runtime.counters?.handoffs == 0)
        }
    }

    /// A thread that waits often but briefly (here 100 µs sleeps back to back for 300 ms, as a
    /// thread queueing on a contended lock does) is not held in a call: it runs between the
    /// waits, so the monitor starts no spare and the watchdog stays quiet, while its queued
    /// tasks wait as a busy thread's do. Before, a stretch spent mostly off the CPU counted,
    /// and a burst of spawns contending for the global queue's lock started spares.
    @Test func aThreadThatWaitsOftenButBrieflyIsNotHeld() throws {
        // The monitor samples every 2.5 ms (a quarter of the 10 ms slice): a loaded machine
        // would have to keep the thread from running for that long to make one wait look whole.
        let configuration = RuntimeConfiguration(
            threads: 1, blockingWarning: .milliseconds(100), handoffAfter: .milliseconds(20))
        try withRuntime(configuration) {
            let done = Atomic<Int>(0)
            let holder = try spawnHolder(queuing: { done.add(1, ordering: .relaxed) }) {
                let end = ContinuousClock.now + .milliseconds(300)
                var waits = 0
                while ContinuousClock.now < end {
                    usleep(100)
                    waits += 1
                }
                return waits
            }
            #expect(try holder.join() > 100)
            #expect(eventually(within: .seconds(5)) { done.load(ordering: .relaxed) == 100 })
            let counters = try #require(runtime.counters)
            #expect(counters.handoffs == 0)
            #expect(counters.sparesStarted == 0)
            #expect(counters.blockingWarnings == 0)
        }
    }

    /// A spare with nothing left to run goes dormant, wakes for the next handoff, and ends
    /// after `keepAlive` of dormancy; the next handoff starts it again.
    @Test func aSpareRestsThenEndsAfterKeepAliveAndComesBackOnNeed() throws {
        // No watchdog: the 100 ms holds would each get a warning, whose symbolication (on a
        // blocking-pool thread, seconds of CPU under a sanitizer) competes for the 2 cores with
        // the threads this test times, and a dormant spare could outlive its keepAlive before
        // the next hold's handoff woke it (seen once under AddressSanitizer).
        let configuration = RuntimeConfiguration(
            threads: 1, keepAlive: .milliseconds(500), blockingWarning: nil, handoffAfter: .milliseconds(2))
        try withRuntime(configuration) {
            func holdAndQueue() throws {
                let done = Atomic<Int>(0)
                let holder = try runtime.spawn {
                    for _ in 0..<10 { _ = try? CoroutineRuntime.shared.spawn { done.add(1, ordering: .relaxed) } }
                    usleep(100_000)
                    return (done.load(ordering: .relaxed), threadName())
                }
                let (finished, holderThread) = try holder.join()
                #expect(finished == 10, "holder on \(holderThread), spares \(spareThreads()), \(String(describing: runtime.counters))")
            }
            try holdAndQueue()
            #expect(spareThreads() == 1)
            // Dormant: woken again, not started again.
            try holdAndQueue()
            #expect(runtime.counters?.sparesStarted == 1)
            #expect(eventually(within: .seconds(5)) { spareThreads() == 0 })
            try holdAndQueue()
            #expect(runtime.counters?.sparesStarted == 2)
            #expect((runtime.counters?.handoffs ?? 0) >= 3)
        }
    }

    @Test func globalSubmissionsAreNotStarvedByLocalWork() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let stop = Atomic<Bool>(false)
            let chain = Atomic<Int>(0)
            @Sendable func relay() {
                chain.add(1, ordering: .relaxed)
                if !stop.load(ordering: .relaxed) {
                    _ = try? CoroutineRuntime.shared.spawn { relay() }
                }
            }
            try runtime.spawn { relay() }
            // The chain's length as the first and the last of the flood ran.
            let chainAtFirst = Atomic<Int>(-1)
            let chainAtLast = Atomic<Int>(-1)
            let flood = Atomic<Int>(0)
            for _ in 0..<1_000 {
                try runtime.spawn {
                    let length = chain.load(ordering: .relaxed)
                    _ = chainAtFirst.compareExchange(expected: -1, desired: length, ordering: .relaxed)
                    if flood.add(1, ordering: .relaxed).newValue == 1_000 {
                        chainAtLast.store(length, ordering: .relaxed)
                    }
                }
            }
            // The chain keeps the thread's own queue busy for ever, so the flood runs only
            // through the global queue's turns...
            #expect(
                eventually(within: .seconds(5)) { chainAtLast.load(ordering: .relaxed) >= 0 },
                "\(flood.load(ordering: .relaxed)) of the flood ran"
            )
            stop.store(true, ordering: .relaxed)
            // ...between links of the chain, which the flood does not starve in turn: were the
            // global queue always first, the thousand would run back to back. At least a link
            // per flooding task on average (runs made 4,700 to 9,000 in all); under
            // AddressSanitizer, whose allocations slow each spawn of the chain more than a
            // flooding task's run, 801 in a fresh-clone run, so one link per 2.5 tasks there.
            let links = chainAtLast.load(ordering: .relaxed) - chainAtFirst.load(ordering: .relaxed)
            #expect(links >= (runsUnderSanitizer ? 400 : 999), "the chain made \(links) links while the flood ran")
        }
    }

    @Test func keepAliveShrinksThePoolToMinWorkers() throws {
        // One thread, so that every task lands in the same pool.
        let configuration = RuntimeConfiguration(threads: 1, minWorkers: 2, keepAlive: .milliseconds(100))
        try withRuntime(configuration) {
            let handles = try (0..<40).map { _ in
                try runtime.spawn { try Scheduler.sleep(for: .milliseconds(50)) }
            }
            for handle in handles { try handle.join() }
            let grown = runtime.statistics?.threads.first?.workers ?? 0
            #expect(grown == 40, "each blocked task should have grown the pool")
            #expect(eventually(within: .seconds(5)) {
                runtime.statistics?.threads.first == RuntimeStatistics.Thread(workers: 2, idleWorkers: 2)
            }, "pool is \(String(describing: runtime.statistics))")
        }
    }

    @Test func joinReturnsValuesAndErrors() throws {
        struct Refused: Error {}
        try withRuntime {
            let answer = try runtime.spawn { 6 * 7 }.join()
            #expect(answer == 42)
            let nothing = try runtime.spawn { () -> String? in nil }.join()
            #expect(nothing == nil)
            let something = try runtime.spawn { () -> String? in "x" }.join()
            #expect(something == "x")
            #expect(throws: Refused.self) { try runtime.spawn { () throws -> Int in throw Refused() }.join() }
        }
    }

    @Test func joinFromInsideATaskSuspendsOnlyThatTask() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let outer = try runtime.spawn { () -> Int in
                let inner = try CoroutineRuntime.shared.spawn { () -> Int in
                    try Scheduler.sleep(for: .milliseconds(20))
                    return 20
                }
                return try inner.join() + 1
            }
            #expect(try outer.join(timeout: .seconds(5)) == 21)
        }
    }

    @Test func joiningAnUnstartedTaskRunsItInline() throws {
        // One worker only: the child could never get a worker of its own while the parent
        // holds the only one, so the join completes only by running the child inline.
        try withRuntime(RuntimeConfiguration(threads: 1, maxWorkers: 1)) {
            let parent = try runtime.spawn { () -> Bool in
                let parentCoroutine = AnyCoroutine.current
                let child = try CoroutineRuntime.shared.spawn { AnyCoroutine.current === parentCoroutine }
                return try child.join()
            }
            #expect(try parent.join(timeout: .seconds(5)))
        }
    }

    @Test func withoutInlineJoinsAJoinedChildRunsOnItsOwnCoroutine() throws {
        try withRuntime(RuntimeConfiguration(threads: 1, inlineJoins: false)) {
            let parent = try runtime.spawn { () -> Bool in
                let parentCoroutine = AnyCoroutine.current
                let child = try CoroutineRuntime.shared.spawn { AnyCoroutine.current === parentCoroutine }
                return try child.join()
            }
            #expect(try parent.join(timeout: .seconds(5)) == false)
        }
    }

    @Test func joinTimesOut() throws {
        try withRuntime {
            let slow = try runtime.spawn { try Scheduler.sleep(for: .seconds(2)) }
            let start = ContinuousClock.now
            #expect(throws: JoinError.timedOut) { try slow.join(timeout: .milliseconds(50)) }
            #expect(ContinuousClock.now - start < .seconds(1))
            slow.cancel()
        }
    }

    @Test func cancelledQueuedTaskNeverRuns() throws {
        try withRuntime(RuntimeConfiguration(threads: 1, maxWorkers: 1)) {
            let ran = Atomic<Bool>(false)
            let occupier = try runtime.spawn { try Scheduler.sleep(for: .milliseconds(200)) }
            let queued = try runtime.spawn { ran.store(true, ordering: .relaxed) }
            queued.cancel()
            #expect(throws: CoroutineError.cancelled) { try queued.join() }
            try occupier.join()
            usleep(20_000)
            let didRun = ran.load(ordering: .relaxed)
            #expect(!didRun)
        }
    }

    @Test func runningTaskIsCancelledAtItsNextSuspension() throws {
        try withRuntime {
            let sleeps = Atomic<Int>(0)
            let looping = try runtime.spawn {
                while true {
                    try Scheduler.sleep(for: .milliseconds(5))
                    sleeps.add(1, ordering: .relaxed)
                }
            }
            #expect(eventually(within: .seconds(5)) { sleeps.load(ordering: .relaxed) >= 3 })
            looping.cancel()
            #expect(throws: CoroutineError.cancelled) { try looping.join(timeout: .seconds(5)) }
            #expect(looping.task.state == .cancelled)
        }
    }

    /// Several joiners of one task, from tasks and from a plain thread, all wake when it ends
    /// (the first joiner is kept apart from the others).
    @Test func everyJoinerOfATaskWakesWhenItEnds() throws {
        try withRuntime {
            let released = Atomic<Bool>(false)
            let started = Atomic<Bool>(false)
            let joined = try runtime.spawn { () -> Int in
                started.store(true, ordering: .releasing)
                while !released.load(ordering: .acquiring) { try Scheduler.sleep(for: .milliseconds(1)) }
                return 7
            }
            // Started first: a join of a task not started yet runs it inline instead of waiting.
            #expect(eventually(within: .seconds(5)) { started.load(ordering: .acquiring) })
            let joiners = try (0..<4).map { _ in try runtime.spawn { try joined.join() } }
            #expect(eventually(within: .seconds(5)) { joined.task.joinerCount == 4 })
            released.store(true, ordering: .releasing)
            #expect(try joined.join(timeout: .seconds(5)) == 7)
            for joiner in joiners {
                #expect(try joiner.join(timeout: .seconds(5)) == 7)
            }
        }
    }

    @Test func anyReturnsTheFirstAndCancelsTheRest() throws {
        try withRuntime {
            let handles = try [300, 20, 200].map { milliseconds in
                try runtime.spawn { () -> Int in
                    try Scheduler.sleep(for: .milliseconds(milliseconds))
                    return milliseconds
                }
            }
            let (index, value) = try JoinHandle.any(handles)
            #expect(index == 1)
            #expect(value == 20)
            #expect(handles[0].isCancelled && handles[2].isCancelled)
            #expect(throws: CoroutineError.cancelled) { try handles[0].join(timeout: .seconds(5)) }
        }
    }

    @Test func asyncCallersAwaitTheValue() async throws {
        try runtime.start(RuntimeConfiguration(threads: 2))
        let handle = try runtime.spawn { () -> String in
            try Scheduler.sleep(for: .milliseconds(10))
            return "done"
        }
        let value = try await handle.value
        #expect(value == "done")
        #expect(runtime.stop(timeout: .seconds(5)).isClean)
    }

    @Test func stopReportsUnfinishedWorkAndTheRuntimeStartsAgain() throws {
        try runtime.start(RuntimeConfiguration(threads: 2))
        let sleeper = try runtime.spawn { try Scheduler.sleep(for: .seconds(30)) }
        let report = runtime.stop(timeout: .milliseconds(100))
        #expect(report.unfinishedTasks == 1)
        #expect(report.threadsStillRunning == 0)
        #expect(throws: CoroutineError.cancelled) { try sleeper.join() }
        #expect(throws: RuntimeError.notRunning) { try runtime.spawn { 1 } }

        try withRuntime {
            let again = try runtime.spawn { "again" }.join()
            #expect(again == "again")
        }
    }

    @Test func startTwiceIsRefused() throws {
        try withRuntime {
            #expect(throws: RuntimeError.alreadyRunning) { try runtime.start() }
        }
    }

    @Test func invalidConfigurationNamesTheField() {
        #expect(throws: RuntimeError.invalidConfiguration(
            ConfigurationError(field: "threads", value: "0", allowed: "1...1024"))) {
            try runtime.start(RuntimeConfiguration(threads: 0))
        }
        #expect(throws: RuntimeError.invalidConfiguration(
            ConfigurationError(field: "minWorkers", value: "5", allowed: "0...2"))) {
            try runtime.start(RuntimeConfiguration(minWorkers: 5, maxWorkers: 2))
        }
        #expect(throws: RuntimeError.invalidConfiguration(
            ConfigurationError(field: "preemptionSlice", value: "0.0005 seconds", allowed: "0.001 seconds...60.0 seconds"))) {
            try runtime.start(RuntimeConfiguration(preemptionSlice: .microseconds(500)))
        }
        #expect(!runtime.isRunning)
    }

    @Test(.disabled(if: runsUnderThreadSanitizer, "ThreadSanitizer slows every access several times over, so 10,000 tasks cannot finish within the bound this test allows"))
    func tenThousandSleepingTasksFinishTogether() throws {
        try withRuntime(RuntimeConfiguration(threads: 2, stackSize: 64 * 1024)) {
            let start = ContinuousClock.now
            let handles = try (0..<10_000).map { _ in
                try runtime.spawn { try Scheduler.sleep(for: .milliseconds(100)) }
            }
            for handle in handles { try handle.join() }
            #expect(ContinuousClock.now - start < tenThousandTasksBound)
        }
    }

    @Test func theRuntimesThreadsCPUTimeIsMeasured() throws {
        try withRuntime {
            let before = runtime.threadsCPUTime()
            _ = try runtime.spawn {
                let end = ContinuousClock.now + .milliseconds(100)
                while ContinuousClock.now < end {}
            }.join()
            let used = runtime.threadsCPUTime() - before
            // On a loaded machine the thread gets less than the 100 ms; a clock that reads
            // nothing would say zero.
            #expect(used >= .milliseconds(5), "a task spinning 100 ms was measured at \(used) of CPU")
        }
    }

    @Test func anIdleRuntimeUsesNoCPU() throws {
        try withRuntime {
            _ = try runtime.spawn { 1 }.join()
            usleep(100_000)
            let before = runtime.threadsCPUTime()
            usleep(5_000_000)
            let used = runtime.threadsCPUTime() - before
            // 1% of one core over 5 s is 50 ms.
            #expect(used < .milliseconds(50), "idle scheduler threads used \(used) of CPU in 5 s")
        }
    }
}

extension CoroutineRuntimeTests {
    @Test func hundredsOfTasksWaitOnSocketsAcrossThreads() throws {
        try runtime.start(RuntimeConfiguration(threads: 2))
        defer { runtime.stop(timeout: .seconds(5)) }
        let pairs = try (0..<200).map { _ in try SocketPair() }
        let handles = try pairs.map { pair in
            try runtime.spawn { () -> String in
                while true {
                    if let text = pair.read(from: pair.left) { return text }
                    guard try Scheduler.waitUntilReady(pair.left, for: .readable, deadline: .now + .seconds(10)) == .ready else {
                        return "timed out"
                    }
                }
            }
        }
        usleep(20_000)
        for (index, pair) in pairs.enumerated() {
            pair.write("message \(index)", to: pair.right)
        }
        for (index, handle) in handles.enumerated() {
            #expect(try handle.join(timeout: .seconds(10)) == "message \(index)")
        }
    }
}

/// How long 10,000 tasks that each wait 100 ms may take in all: 1 s, ten waits' worth, where
/// waits one after another would take 1,000 s. Under AddressSanitizer every spawn costs several
/// times more (1.05 to 1.12 s seen for the sleeping tasks), so it allows 2 s there.
let tenThousandTasksBound: Duration = runsUnderSanitizer ? .seconds(2) : .seconds(1)

extension CoroutineRuntimeTests {
    @Test(.disabled(if: runsUnderThreadSanitizer, "ThreadSanitizer slows every access several times over, so 10,000 tasks cannot finish within the bound this test allows"))
    func tenThousandTasksInUsleepFinishTogether() throws {
        try withRuntime(RuntimeConfiguration(threads: 2, stackSize: 64 * 1024)) {
            let start = ContinuousClock.now
            let handles = try (0..<10_000).map { _ in try runtime.spawn { Syscall.usleep(100_000) } }
            for handle in handles {
                #expect(try handle.join() == 0)
            }
            #expect(ContinuousClock.now - start < tenThousandTasksBound)
        }
    }

    /// The sleep ends with ECANCELED, not EINTR, which C code would retry (Syscall), and says
    /// how much was left.
    @Test func cancellingATaskInNanosleepEndsItWithECANCELED() throws {
        try withRuntime {
            let sleeper = try runtime.spawn { () -> (Int32, Int32, Int) in
                var request = timespec(tv_sec: 5, tv_nsec: 0)
                var remaining = timespec()
                let result = Syscall.nanosleep(&request, &remaining)
                return (result, errno, remaining.tv_sec)
            }
            usleep(50_000)
            sleeper.cancel()
            let (result, error, secondsLeft) = try sleeper.join(timeout: .seconds(5))
            #expect(result == -1)
            #expect(error == ECANCELED)
            #expect((4...5).contains(secondsLeft))
        }
    }
}

extension CoroutineRuntimeTests {
    @Test func countersAddUpTheRunsEvents() throws {
        try runtime.start(RuntimeConfiguration(threads: 2))
        defer { runtime.stop(timeout: .seconds(10)) }
        let before = try #require(runtime.counters)
        // Spawned from inside a task, the children land on that thread's queue: the idle
        // sibling has to steal to help.
        let children = try runtime.spawn {
            try (0..<2_000).map { _ in
                try runtime.spawn {
                    _ = Syscall.usleep(1_000)
                }
            }
        }.join(timeout: .seconds(10))
        for child in children {
            try child.join(timeout: .seconds(10))
        }
        let after = try #require(runtime.counters)
        #expect(after.tasksQueued - before.tasksQueued == 2_001)
        #expect(after.syscallWaits - before.syscallWaits == 2_000)
        // Each sleep ends with a resume of its worker; starting a task costs another only when
        // no worker takes it straight after its previous task.
        #expect(after.switches - before.switches >= 2_000)
        #expect(after.coroutinesCreated > before.coroutinesCreated)
        #expect(after.steals > before.steals)
    }
}

/// `maxThreads` and the thread gauges.
extension CoroutineRuntimeTests {
    /// `maxThreads` leaves room for the threads the runtime needs: the scheduler threads, the
    /// monitor and one blocking-pool thread.
    @Test func maxThreadsBelowThreadsPlusTwoIsRefused() throws {
        #expect(throws: RuntimeError.invalidConfiguration(
            ConfigurationError(field: "maxThreads", value: "3", allowed: "4...100000"))) {
            try runtime.start(RuntimeConfiguration(threads: 2, maxThreads: 3))
        }
        #expect(throws: RuntimeError.invalidConfiguration(
            ConfigurationError(field: "maxThreads", value: "100001", allowed: "3...100000"))) {
            try runtime.start(RuntimeConfiguration(threads: 1, maxThreads: 100_001))
        }
        #expect(!runtime.isRunning)
        try RuntimeConfiguration(threads: 2, maxThreads: 4).validate()
        #expect(RuntimeConfiguration().maxThreads == 10_000)
    }

    /// At the cap a held thread gets no spare: the handoff is refused and counted, the tasks
    /// queued behind the call wait for it and then all run, and the cap is logged once
    /// however often the monitor asks.
    @Test func atMaxThreadsAHeldCallGetsNoSpareAndItsQueuedTasksRunAfterIt() throws {
        let log = LogCapture()
        let previousLogger = CoroutineLogging.logger
        CoroutineLogging.logger = Logger(label: "test") { _ in log }
        defer { CoroutineLogging.logger = previousLogger }
        // The cap: one scheduler thread, the monitor and one blocking-pool thread. No watchdog,
        // whose warnings a pool thread would write.
        let configuration = RuntimeConfiguration(threads: 1, maxThreads: 3, blockingWarning: nil, handoffAfter: .milliseconds(2))
        try withRuntime(configuration) {
            // A pool thread busy until the end takes the cap's last place (blocking-pool
            // threads earlier tests left count too: the cap is then reached without it).
            let released = Atomic<Bool>(false)
            defer { released.store(true, ordering: .releasing) }
            // From a thread of its own: where the cap leaves the pool no thread at all, the
            // call runs where it was submitted.
            Thread {
                BlockingPool.waits.submit {
                    while !released.load(ordering: .acquiring) { usleep(1_000) }
                }
            }.start()
            #expect(eventually(within: .seconds(5)) { (runtime.counters?.threads ?? 0) >= 3 })
            let done = Atomic<Int>(0)
            let holder = try spawnHolder(queuing: { done.add(1, ordering: .relaxed) }) {
                usleep(600_000)
                return done.load(ordering: .relaxed)
            }
            #expect(eventually(within: .seconds(5)) { runtime.counters?.heldThreads == 1 })
            #expect(try holder.join(timeout: .seconds(10)) == 0)
            #expect(eventually(within: .seconds(5)) { done.load(ordering: .relaxed) == 100 })
            let counters = try #require(runtime.counters)
            #expect(counters.handoffsRefused >= 1)
            #expect(counters.handoffs == 0)
            #expect(counters.sparesStarted == 0)
            #expect(spareThreads() == 0)
            #expect(eventually(within: .seconds(5)) { runtime.counters?.heldThreads == 0 })
        }
        let warnings = log.messages.filter { $0.hasPrefix("maxThreads 3 reached") }
        #expect(warnings.count == 1, "\(warnings)")
    }

    /// A runtime's cap ends with it: the blocking pools serve standalone schedulers too, and
    /// a small `maxThreads` of a runtime that stopped must not refuse their threads.
    @Test func aStoppedRuntimesCapNoLongerApplies() throws {
        try withRuntime(RuntimeConfiguration(threads: 1, maxThreads: 3, blockingWarning: nil, handoffAfter: nil)) {
            #expect(RuntimeThreads.cap == 3)
        }
        #expect(RuntimeThreads.cap == RuntimeConfiguration.defaultMaxThreads)
    }

    /// The `threads` gauge counts what the system shows: the runtime's named threads, the
    /// scheduler threads and the monitor while it runs, and after a stop the blocking-pool
    /// threads (process-wide, kept 10 s after their last call) that earlier tests left.
    @Test func theThreadsGaugeCountsTheRuntimesThreadsNow() throws {
        try runtime.start(RuntimeConfiguration(threads: 2, handoffAfter: nil))
        #expect(eventually(within: .seconds(5)) {
            runtime.counters?.threads == runtimeThreads() && runtimeThreads(named: ["oc-scheduler-"]) == 2
                && runtimeThreads(named: ["oc-preempt"]) == 1
        }, "threads \(String(describing: runtime.counters?.threads)), named \(runtimeThreads())")
        #expect(runtime.stop(timeout: .seconds(10)).isClean)
        #expect(eventually(within: .seconds(5)) {
            runtime.counters?.threads == runtimeThreads(named: ["oc-blocking", "oc-files"]) && runtimeThreads() == runtimeThreads(named: ["oc-blocking", "oc-files"])
        }, "threads \(String(describing: runtime.counters?.threads)), named \(runtimeThreads())")
        #expect(runtime.counters?.heldThreads == 0)
    }

    /// At the cap, blocking calls wait for a pool thread: 16 calls of 20 ms at once all finish,
    /// and the runtime never runs more threads than its cap.
    @Test func atMaxThreadsBlockingCallsWaitForAPoolThreadAndAllFinish() throws {
        // Two scheduler threads and the monitor leave the pools one thread of the cap.
        let configuration = RuntimeConfiguration(threads: 2, maxThreads: 4, blockingWarning: nil, handoffAfter: nil)
        try withRuntime(configuration) {
            // Pool threads earlier tests left (process-wide, kept 10 s) may hold more than the
            // cap already: then it admits no new one, and the count only falls.
            let bound = max(4, try #require(runtime.counters).threads)
            let most = Atomic<Int>(0)
            let sampling = Atomic<Bool>(true)
            let sampler = Thread {
                while sampling.load(ordering: .acquiring) {
                    most.max(CoroutineRuntime.shared.counters?.threads ?? 0, ordering: .relaxed)
                    usleep(200)
                }
            }
            sampler.start()
            defer { sampling.store(false, ordering: .releasing) }
            let handles = try (0..<16).map { _ in
                try runtime.spawn { Syscall.runOnBlockingPool("test") { usleep(20_000) } }
            }
            for handle in handles {
                #expect(try handle.join(timeout: .seconds(10)) == 0)
            }
            #expect(most.load(ordering: .relaxed) <= bound, "bound \(bound)")
            #expect(runtime.counters?.blockingCalls == 16)
        }
    }

    /// The watchdog's writer, which names and logs its warnings on the blocking pool, makes
    /// way after each warning for a call queued behind it: a backlog of warnings (each takes a
    /// second under AddressSanitizer) once held the one pool thread `maxThreads` admitted, when
    /// it refused pool threads, beyond the 10 s a test gave 16 calls. Here the pool may run one thread
    /// (`blockingThreads`; idle pool threads earlier tests left would serve the call at once,
    /// and the test then passes without telling).
    @Test func theWatchdogsWriterMakesWayForACallQueuedOnThePool() throws {
        // Each warning takes 300 ms to log: the writer holds the pool for seconds.
        let log = LogCapture(delayMicroseconds: 300_000)
        let previousLogger = CoroutineLogging.logger
        CoroutineLogging.logger = Logger(label: "test") { _ in log }
        defer { CoroutineLogging.logger = previousLogger }
        // Only this test's warnings: a writer of an earlier test's runtime may still write.
        @Sendable func written() -> Int {
            log.messages.filter { $0.contains("\"writer-test-holder\" has blocked scheduler thread") }.count
        }
        let configuration = RuntimeConfiguration(
            threads: 1, blockingThreads: 1, blockingWarning: .milliseconds(20), handoffAfter: nil)
        try withRuntime(configuration) {
            // Stretches held in the kernel's usleep, each a warning of its own (the first
            // ones of a start may go unwarned: seen under AddressSanitizer).
            let holder = try runtime.spawn(name: "writer-test-holder") {
                for _ in 0..<8 {
                    usleep(100_000)
                    try? Scheduler.sleep(for: .milliseconds(20))
                }
            }
            try holder.join(timeout: .seconds(10))
            let warnings = Int(try #require(runtime.counters).blockingWarnings)
            #expect(warnings >= 3)
            // The call waits at most for the warning being written when it is queued.
            let writtenBefore = written()
            let call = try runtime.spawn { Syscall.runOnBlockingPool("test") { written() } }
            let writtenFirst = try call.join(timeout: .seconds(30))
            #expect(writtenFirst <= writtenBefore + 1, "\(warnings) warnings, \(writtenBefore) written before the call")
            #expect(eventually(within: .seconds(60)) { written() == warnings })
        }
    }
}

/// The process's threads whose names begin with one of `prefixes`: by default, every thread
/// the runtime names (what the `threads` gauge counts).
func runtimeThreads(named prefixes: [String] = ["oc-scheduler-", "oc-spare-", "oc-preempt", "oc-blocking", "oc-files"]) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        let name = threadName(at: "/proc/self/task/\(task)/comm")
        return prefixes.contains { name.hasPrefix($0) }
    }.count
}

/// A log handler that keeps the messages it is given.
final class LogCapture: LogHandler, Sendable {
    private let logged = Mutex<[String]>([])
    /// How long each message takes to log.
    private let delayMicroseconds: UInt32

    init(delayMicroseconds: UInt32 = 0) {
        self.delayMicroseconds = delayMicroseconds
    }

    /// The messages so far, oldest first.
    var messages: [String] { logged.withLock { $0 } }

    func log(event: LogEvent) {
        if delayMicroseconds > 0 {
            usleep(delayMicroseconds)
        }
        logged.withLock { $0.append(event.message.description) }
    }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
}

/// The name of the thread whose `comm` file is at `path`.
/// The process's threads named as spares.
func spareThreads() -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { threadName(at: "/proc/self/task/\($0)/comm").hasPrefix("oc-spare-") }.count
}

func threadName(at path: String = "/proc/thread-self/comm") -> String {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
}
