import CCoroutineCore
import Foundation
import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

@Suite struct SchedulerTests {
    @Test func runsSubmittedClosuresInOrder() throws {
        let scheduler = try Scheduler()
        let log = Mutex<[Int]>([])
        for value in 0..<5 {
            scheduler.submit { log.withLock { $0.append(value) } }
        }
        scheduler.runReady()
        #expect(log.withLock { $0 } == [0, 1, 2, 3, 4])
    }

    /// The ready queue, the parks and the round pass one reference to each coroutine among
    /// them (`ReadyQueue`): a coroutine that ended, yielded or parked on the way is let go
    /// exactly once, and one still queued when its scheduler goes is let go with it.
    @Test func aSchedulerLetsGoOfItsCoroutinesOnceTheyEndOrItGoes() throws {
        weak var ended: ScheduledCoroutine?
        weak var parkedThenEnded: ScheduledCoroutine?
        weak var neverRun: ScheduledCoroutine?
        weak var neverRunPrioritized: ScheduledCoroutine?
        do {
            let scheduler = try Scheduler()
            ended = scheduler.submit { try Scheduler.yield() }
            parkedThenEnded = scheduler.submit {
                _ = Parking.park(untilNanoseconds: nil) { token in
                    token.unpark()  // claimed before the switch: the park ends at once
                    return true
                }
                try Scheduler.sleep(for: .milliseconds(1))
            }
            scheduler.run(until: .now + .seconds(5))
            #expect(ended == nil)
            #expect(parkedThenEnded == nil)
            let later = try Scheduler()
            later.submit {}
            neverRun = later.submit {}
            neverRunPrioritized = later.submit(priority: 3) {}
            // One resume: the round moves all three from the arrivals to the ready queue.
            #expect(later.withCurrent { later.runRound(limit: 1) } == 1)
            #expect(later.readyCount == 2)
            #expect(neverRun != nil)
        }
        #expect(neverRun == nil)
        #expect(neverRunPrioritized == nil)
    }

    /// The scheduler claims the coroutines it runs without a compare-and-swap
    /// (`AnyCoroutine.claimScheduledSuspended`): that holds only while nothing else resumes
    /// them, so `resume` refuses a submitted coroutine, before it starts and while it waits.
    @Test func aSubmittedCoroutineIsResumedByItsSchedulerOnly() throws {
        let scheduler = try Scheduler()
        let steps = Mutex(0)
        let coroutine = scheduler.submit {
            steps.withLock { $0 += 1 }
            try Scheduler.sleep(for: .milliseconds(20))
            steps.withLock { $0 += 1 }
        }
        #expect(throws: CoroutineError.resumedOutsideScheduler) { try coroutine.resume() }
        scheduler.run(until: .now + .milliseconds(5))
        #expect(coroutine.status == .suspended)
        #expect(throws: CoroutineError.resumedOutsideScheduler) { try coroutine.resume() }
        #expect(steps.withLock { $0 } == 1)
        scheduler.run(until: .now + .seconds(5))
        #expect(coroutine.status == .complete)
        #expect(steps.withLock { $0 } == 2)
    }

    @Test func smallerPriorityRunsSooner() throws {
        let scheduler = try Scheduler()
        let log = Mutex<[String]>([])
        scheduler.submit(priority: 5) { log.withLock { $0.append("late") } }
        scheduler.submit { log.withLock { $0.append("default") } }
        scheduler.submit(priority: -3) { log.withLock { $0.append("urgent") } }
        scheduler.submit(priority: -3) { log.withLock { $0.append("urgent too") } }
        scheduler.runReady()
        #expect(log.withLock { $0 } == ["urgent", "urgent too", "default", "late"])
    }

    @Test func yieldInterleavesCoroutines() throws {
        let scheduler = try Scheduler()
        let log = Mutex<[String]>([])
        for name in ["a", "b"] {
            scheduler.submit {
                for step in 0..<3 {
                    log.withLock { $0.append("\(name)\(step)") }
                    try Scheduler.yield()
                }
            }
        }
        scheduler.runReady()
        #expect(log.withLock { $0 } == ["a0", "b0", "a1", "b1", "a2", "b2"])
    }

    /// A yield with others ready switches straight to the next one (`Scheduler.handOver`),
    /// in the order the round would have run them: here every yield after each coroutine's
    /// first (the round starts a coroutine that never ran) is a hand-over.
    @Test func aYieldHandsTheThreadStraightToTheNextReadyCoroutineInRoundOrder() throws {
        let scheduler = try Scheduler()
        let log = Mutex<[String]>([])
        for name in ["a", "b", "c"] {
            scheduler.submit {
                for step in 0..<100 {
                    log.withLock { $0.append("\(name)\(step)") }
                    try Scheduler.yield()
                }
            }
        }
        scheduler.runReady()
        let expected = (0..<100).flatMap { step in ["a", "b", "c"].map { "\($0)\(step)" } }
        #expect(log.withLock { $0 } == expected)
        #expect(scheduler.counters.switches.current == 303)
        // The round starts a, b and c (a's and b's first yields find only coroutines that never
        // ran), and resumes b and c for their ends once a has ended; the other 298 are
        // hand-overs.
        #expect(scheduler.counters.handOvers.current == (oc_frame_hands_over() ? 298 : 0))
    }

    /// errno and the Swift runtime's exclusivity accesses are per coroutine: a hand-over
    /// swaps them as a suspension and a resume by the round do.
    @Test func aHandOverKeepsEachCoroutinesErrnoAndOpenAccesses() throws {
        final class Storage: @unchecked Sendable {
            // @unchecked Sendable: the coroutines of one thread use it, one at a time.
            var values = [Int](repeating: 0, count: 4)
        }
        let scheduler = try Scheduler()
        let mismatches = Atomic<Int>(0)
        for index in 0..<3 {
            let storage = Storage()
            scheduler.submit {
                try storage.values.withUnsafeMutableBufferPointer { buffer in
                    for step in 0..<200 {
                        errno = Int32(100 + index)
                        buffer[step % 4] = index
                        try Scheduler.yield()
                        if errno != Int32(100 + index) || buffer[step % 4] != index {
                            mismatches.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
        }
        scheduler.runReady()
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(!oc_frame_hands_over() || scheduler.counters.handOvers.current > 500)
    }

    /// A coroutine a hand-over reaches may end there in every way one the round resumed may:
    /// the round settles whichever coroutine comes back to it.
    @Test func aCoroutineReachedByAHandOverEndsFailsOrOverflowsAsFromTheRound() throws {
        struct Broken: Error {}
        let scheduler = try Scheduler()
        let outcomes = Mutex<[String]>([])
        scheduler.addListener { event in
            switch event {
            case .completed(let coroutine): outcomes.withLock { $0.append("\(coroutine.name ?? "") completed") }
            case .failed(let coroutine, let error): outcomes.withLock { $0.append("\(coroutine.name ?? "") failed: \(error)") }
            default: break
            }
        }
        // Each yielder's second yield hands over to the coroutine after it, which has yielded
        // once and ends when it runs again.
        scheduler.submit(name: "y1") { for _ in 0..<3 { try Scheduler.yield() } }
        scheduler.submit(name: "returns") { try Scheduler.yield() }
        scheduler.submit(name: "y2") { for _ in 0..<3 { try Scheduler.yield() } }
        scheduler.submit(name: "throws") {
            try Scheduler.yield()
            throw Broken()
        }
        scheduler.submit(name: "y3") { for _ in 0..<3 { try Scheduler.yield() } }
        scheduler.submit(name: "overflows", stackSize: 64 * 1024) {
            try Scheduler.yield()
            _ = recurseForever(1)
        }
        scheduler.runReady()
        #expect(outcomes.withLock { $0 } == [
            "returns completed", "throws failed: Broken()", "overflows failed: \(CoroutineError.stackOverflow)",
            "y1 completed", "y2 completed", "y3 completed",
        ])
        #expect(scheduler.counters.handOvers.current >= (oc_frame_hands_over() ? 3 : 0))
    }

    /// A hand-over is a switch the round would have made: a timer that falls due is not kept
    /// waiting by coroutines that keep yielding to each other.
    @Test func yieldingCoroutinesLetADueTimerFire() throws {
        let scheduler = try Scheduler()
        let timerWoke = Atomic<Bool>(false)
        let yields = Atomic<Int>(0)
        for _ in 0..<2 {
            scheduler.submit {
                // Bounded: that many yields would mean the sleeper never woke.
                while !timerWoke.load(ordering: .relaxed), yields.add(1, ordering: .relaxed).newValue < 100_000_000 {
                    try Scheduler.yield()
                }
            }
        }
        scheduler.submit {
            try Scheduler.sleep(for: .milliseconds(5))
            timerWoke.store(true, ordering: .relaxed)
        }
        let start = ContinuousClock.now
        scheduler.run(until: start + .seconds(10))
        let woke = timerWoke.load(ordering: .relaxed)
        #expect(woke)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(!oc_frame_hands_over() || scheduler.counters.handOvers.current > 0)
    }

    /// `AnyCoroutine.cancel()` from another thread never resumes a scheduled coroutine there
    /// (a resume on the canceller's thread once ended its park with no outcome, and the
    /// process with a precondition failure): the wait in progress ends as it would have, and
    /// the next one ends at once, cancelled. Also cancelled while it parks over and over, so
    /// that the cancel lands between a wait's check and its switch.
    @Test func aScheduledCoroutineCancelledFromAnotherThreadEndsAtItsNextWait() throws {
        let scheduler = try Scheduler()
        let schedulerThread = pthread_self()
        let log = Mutex<[String]>([])
        let sleeper = scheduler.submit {
            do {
                try Scheduler.sleep(for: .milliseconds(100))
                log.withLock { $0.append(pthread_equal(pthread_self(), schedulerThread) != 0 ? "slept here" : "slept elsewhere") }
                try Scheduler.sleep(for: .seconds(10))
                log.withLock { $0.append("second sleep ended") }
            } catch {
                log.withLock { $0.append("\(error)") }
                throw error
            }
        }
        let spins = Atomic<Int>(0)
        let spinner = scheduler.submit {
            while true {
                spins.add(1, ordering: .relaxed)
                try Scheduler.sleep(for: .microseconds(50))
            }
        }
        let canceller = Thread {
            usleep(20_000)
            sleeper.cancel()
            spinner.cancel()
        }
        canceller.start()
        let start = ContinuousClock.now
        while (sleeper.status != .cancelled || spinner.status != .cancelled), ContinuousClock.now - start < .seconds(5) {
            scheduler.run(until: .now + .milliseconds(10))
        }
        #expect(log.withLock { $0 } == ["slept here", "\(CoroutineError.cancelled)"])
        #expect(sleeper.status == .cancelled)
        #expect(spinner.status == .cancelled)
        #expect(spins.load(ordering: .relaxed) > 1)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aYieldWithNothingElseReadyGoesOnWithoutSwitching() throws {
        let scheduler = try Scheduler()
        let yields = Atomic<Int>(0)
        scheduler.submit {
            for _ in 0..<1_000 {
                try Scheduler.yield()
                yields.add(1, ordering: .relaxed)
            }
        }
        scheduler.runReady()
        #expect(yields.load(ordering: .relaxed) == 1_000)
        #expect(scheduler.counters.switches.current == 1)
    }

    @Test func sleepersWakeAtOrAfterTheirDeadlineInOrder() throws {
        let scheduler = try Scheduler()
        let log = Mutex<[(Int, ContinuousClock.Instant)]>([])
        let start = ContinuousClock.now
        for milliseconds in [30, 10, 20] {
            scheduler.submit {
                try Scheduler.sleep(for: .milliseconds(milliseconds))
                log.withLock { $0.append((milliseconds, .now)) }
            }
        }
        scheduler.run(until: start + .seconds(5))
        let woken = log.withLock { $0 }
        #expect(woken.map(\.0) == [10, 20, 30])
        for (milliseconds, instant) in woken {
            #expect(instant - start >= .milliseconds(milliseconds))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func tenThousandEqualDeadlinesAllWake() throws {
        let scheduler = try Scheduler()
        let woken = Atomic<Int>(0)
        let start = ContinuousClock.now
        for _ in 0..<10_000 {
            scheduler.submit(stackSize: 64 * 1024) {
                try Scheduler.sleep(for: .milliseconds(50))
                woken.add(1, ordering: .relaxed)
            }
        }
        scheduler.run(until: start + .seconds(10))
        let wokenValue = woken.load(ordering: .relaxed)
        #expect(wokenValue == 10_000)
        // Waking them a timer tick apart would take 10 s. Under AddressSanitizer the test
        // takes 0.8 s alone, and beside the suite's other 10,000-task tests on 2 cores once
        // took 3.3 s (a fresh-clone CI run).
        #expect(ContinuousClock.now - start < (runsUnderSanitizer ? .seconds(6) : .seconds(3)))
    }

    @Test func runUntilADeadlineReturnsAtItWithoutWaitingForLaterTimers() throws {
        let scheduler = try Scheduler()
        let woke = Atomic<Bool>(false)
        scheduler.submit {
            try Scheduler.sleep(for: .seconds(30))
            woke.store(true, ordering: .relaxed)
        }
        let start = ContinuousClock.now
        scheduler.run(until: start + .milliseconds(50))
        #expect(ContinuousClock.now - start < .seconds(5))
        let wokeEarly = woke.load(ordering: .relaxed)
        #expect(!wokeEarly)
    }

    @Test func listenersSeeTheLifeOfACoroutine() throws {
        let scheduler = try Scheduler()
        let events = Mutex<[String]>([])
        scheduler.addListener { event in
            let name: String
            switch event {
            case .created: name = "created"
            case .ready: name = "ready"
            case .running: name = "running"
            case .suspended: name = "suspended"
            case .inSyscall(_, let call): name = "in \(call)"
            case .completed: name = "completed"
            case .failed: name = "failed"
            case .cancelled: name = "cancelled"
            }
            events.withLock { $0.append(name) }
        }
        scheduler.submit { try Scheduler.sleep(for: .milliseconds(1)) }
        scheduler.run(until: .now + .seconds(5))
        #expect(events.withLock { $0 } == ["created", "ready", "running", "suspended", "ready", "running", "completed"])
    }

    @Test func listenersSeeWaitsInsideTheSyscallLayer() throws {
        let scheduler = try Scheduler()
        let calls = Mutex<[String]>([])
        scheduler.addListener { event in
            if case .inSyscall(_, let call) = event { calls.withLock { $0.append(call) } }
        }
        scheduler.submit {
            _ = Syscall.usleep(1_000)
            var nothing = pollfd(fd: -1, events: 0, revents: 0)
            _ = Syscall.poll(&nothing, 1, 1)
            try Scheduler.sleep(for: .milliseconds(1))
        }
        scheduler.run(until: .now + .seconds(5))
        // Scheduler.sleep is the scheduler's own wait, not a system call.
        #expect(calls.withLock { $0 } == ["clock_nanosleep", "poll"])
    }

    @Test func failingCoroutineIsReportedAndOthersContinue() throws {
        struct Broken: Error {}
        let scheduler = try Scheduler()
        let failures = Atomic<Int>(0)
        let ran = Atomic<Bool>(false)
        scheduler.addListener { event in
            if case .failed(_, let error) = event, error is Broken { failures.add(1, ordering: .relaxed) }
        }
        scheduler.submit { throw Broken() }
        scheduler.submit { ran.store(true, ordering: .relaxed) }
        scheduler.runReady()
        let failuresValue = failures.load(ordering: .relaxed)
        #expect(failuresValue == 1)
        let ranValue = ran.load(ordering: .relaxed)
        #expect(ranValue)
    }

    @Test func submissionsFromOtherThreadsArrive() async throws {
        let scheduler = try Scheduler()
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<100 { scheduler.submit { counter.increment() } }
                }
            }
        }
        scheduler.runReady()
        #expect(counter.value == 400)
    }

    @Test func sleepOnAPlainThreadBlocks() throws {
        let start = ContinuousClock.now
        try Scheduler.sleep(for: .milliseconds(20))
        #expect(ContinuousClock.now - start >= .milliseconds(20))
    }
}

/// A counter closures on several threads can share.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func increment() {
        count.add(1, ordering: .relaxed)
    }
}
