import CoroutineCore
import OpenCoroutine
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct CoSemaphoreTests {
    @Test func aNegativeValueIsRefused() {
        #expect(throws: CoSemaphoreError.negativeValue(-1)) { try CoSemaphore(value: -1) }
    }

    @Test func countsPermits() throws {
        let semaphore = try CoSemaphore(value: 2)
        try semaphore.wait()
        #expect(semaphore.tryWait())
        #expect(!semaphore.tryWait())
        semaphore.signal()
        #expect(semaphore.tryWait())
    }

    @Test func aWaitWithATimeoutGivesUpOnAPlainThread() throws {
        let semaphore = try CoSemaphore(value: 0)
        let start = ContinuousClock.now
        #expect(try !semaphore.wait(timeout: .milliseconds(30)))
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        semaphore.signal()
        #expect(try semaphore.wait(timeout: .milliseconds(30)))
    }
}

extension RuntimeTests {
    @Suite(.timeLimit(.minutes(1))) struct CoSemaphoreRuntimeTests {
        @Test func limitsHowManyTasksRunAtOnce() throws {
            let semaphore = try CoSemaphore(value: 3)
            let running = Atomic<Int>(0)
            let mostRunning = Atomic<Int>(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let tasks = try (0..<200).map { _ in
                    try co {
                        try semaphore.wait()
                        defer { semaphore.signal() }
                        let now = running.add(1, ordering: .relaxed).newValue
                        mostRunning.max(now, ordering: .relaxed)
                        try Scheduler.sleep(for: .milliseconds(1))
                        running.subtract(1, ordering: .relaxed)
                    }
                }
                for task in tasks {
                    try task.join()
                }
            }
            #expect(mostRunning.load(ordering: .relaxed) == 3)
        }

        @Test func aWaitWithATimeoutGivesUpInATask() throws {
            let semaphore = try CoSemaphore(value: 0)
            let waited = try withCoroutines(Config(threads: 2, hooks: false)) {
                try co { () throws -> Duration in
                    let start = ContinuousClock.now
                    #expect(try !semaphore.wait(timeout: .milliseconds(30)))
                    return ContinuousClock.now - start
                }.join()
            }
            #expect(waited >= .milliseconds(30))
        }

        @Test func aSignalFromAPlainThreadWakesAWaitingTask() throws {
            let semaphore = try CoSemaphore(value: 0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiter = try co { try semaphore.wait() }
                try Scheduler.sleep(for: .milliseconds(20))
                #expect(!waiter.isFinished)
                semaphore.signal()
                try waiter.join(timeout: .seconds(10))
            }
        }

        @Test func aCancelledWaiterThrowsAndTheNextSignalIsKept() throws {
            let semaphore = try CoSemaphore(value: 0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiter = try co { try semaphore.wait() }
                try Scheduler.sleep(for: .milliseconds(20))
                waiter.cancel()
                #expect(throws: CoroutineError.cancelled) { try waiter.join() }
                semaphore.signal()
                #expect(semaphore.tryWait())
            }
        }
    }
}
