import CoroutineCore
import Dispatch
import OpenCoroutine
import Synchronization
import Testing

/// A counter with no synchronization of its own, to show the mutex provides it.
private final class Tally: @unchecked Sendable {
    // @unchecked Sendable: only touched with the test's CoMutex held.
    var value = 0
}

@Suite(.timeLimit(.minutes(1))) struct CoMutexTests {
    @Test func tryLockFailsWhileTheLockIsHeld() {
        let mutex = CoMutex()
        #expect(mutex.tryLock())
        #expect(!mutex.tryLock())
        mutex.unlock()
        #expect(mutex.tryLock())
        mutex.unlock()
    }

    @Test func withLockReleasesWhenTheBodyThrows() {
        struct Failure: Error {}
        let mutex = CoMutex()
        #expect(throws: Failure.self) { try mutex.withLock { throw Failure() } }
        #expect(mutex.tryLock())
    }

    @Test func waitersGetTheLockInTheOrderTheyCame() throws {
        let scheduler = try Scheduler()
        let mutex = CoMutex()
        let order = Mutex<[Int]>([])
        try mutex.lock()
        for id in 1...5 {
            scheduler.submit {
                try mutex.lock()
                order.withLock { $0.append(id) }
                mutex.unlock()
            }
        }
        scheduler.runReady()
        mutex.unlock()
        // The lock went to the first waiter, not back to whoever asks next.
        #expect(!mutex.tryLock())
        scheduler.runReady()
        #expect(order.withLock { $0 } == [1, 2, 3, 4, 5])
        #expect(mutex.tryLock())
    }
}

extension RuntimeTests {
    @Suite(.timeLimit(.minutes(1))) struct CoMutexRuntimeTests {
        @Test func protectsACounterAcrossSuspensions() throws {
            let mutex = CoMutex()
            let tally = Tally()
            let inside = Atomic<Int>(0)
            let overlaps = Atomic<Int>(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let tasks = try (0..<1_000).map { _ in
                    try co {
                        for _ in 0..<100 {
                            try mutex.withLock {
                                if inside.add(1, ordering: .relaxed).newValue != 1 {
                                    overlaps.add(1, ordering: .relaxed)
                                }
                                let value = tally.value
                                try Scheduler.yield()
                                tally.value = value + 1
                                inside.subtract(1, ordering: .relaxed)
                            }
                        }
                    }
                }
                for task in tasks {
                    try task.join()
                }
            }
            #expect(tally.value == 100_000)
            #expect(overlaps.load(ordering: .relaxed) == 0)
        }

        @Test func tasksAndPlainThreadsShareTheLock() throws {
            let mutex = CoMutex()
            let tally = Tally()
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let tasks = try (0..<100).map { _ in
                    try co {
                        for _ in 0..<100 {
                            try mutex.withLock {
                                let value = tally.value
                                _ = Syscall.usleep(10)
                                tally.value = value + 1
                            }
                        }
                    }
                }
                DispatchQueue.concurrentPerform(iterations: 4) { _ in
                    for _ in 0..<1_000 {
                        try? mutex.withLock { tally.value += 1 }
                    }
                }
                for task in tasks {
                    try task.join()
                }
            }
            #expect(tally.value == 14_000)
        }

        @Test func aCancelledWaiterThrowsAndDoesNotKeepTheLock() throws {
            let mutex = CoMutex()
            try withCoroutines(Config(threads: 2, hooks: false)) {
                try mutex.lock()
                let waiter = try co { try mutex.lock() }
                try Scheduler.sleep(for: .milliseconds(20))
                waiter.cancel()
                #expect(throws: CoroutineError.cancelled) { try waiter.join() }
                mutex.unlock()
                #expect(mutex.tryLock())
            }
        }
    }
}
