import CoroutineCore
import OpenCoroutine
import Synchronization
import Testing

/// State guarded by the test's CoMutex.
private final class Guarded: @unchecked Sendable {
    // @unchecked Sendable: only touched with the test's CoMutex held.
    var waiting = 0
    var tickets = 0
    var woken = 0
}

@Suite(.timeLimit(.minutes(1))) struct CoConditionTests {
    @Test func aWaitUntilADeadlineGivesUpAndHoldsTheMutexAgain() throws {
        let mutex = CoMutex()
        let condition = CoCondition()
        try mutex.lock()
        let start = ContinuousClock.now
        #expect(try !condition.wait(on: mutex, until: .now + .milliseconds(30)))
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        #expect(!mutex.tryLock())
        mutex.unlock()
    }

    @Test func aSignalWithNobodyWaitingIsNotKept() throws {
        let mutex = CoMutex()
        let condition = CoCondition()
        condition.signal()
        try mutex.lock()
        #expect(try !condition.wait(on: mutex, until: .now + .milliseconds(10)))
        mutex.unlock()
    }
}

extension RuntimeTests {
    @Suite(.timeLimit(.minutes(1))) struct CoConditionRuntimeTests {
        @Test func signalWakesOneWaiterAndBroadcastWakesTheRest() throws {
            let mutex = CoMutex()
            let condition = CoCondition()
            let state = Guarded()
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiters = try (0..<10).map { _ in
                    try co {
                        try mutex.withLock {
                            state.waiting += 1
                            while state.tickets == 0 {
                                try condition.wait(on: mutex)
                            }
                            state.tickets -= 1
                            state.woken += 1
                        }
                    }
                }
                try waitUntil { state.waiting == 10 }
                try mutex.withLock {
                    state.tickets = 3
                    for _ in 0..<3 {
                        condition.signal()
                    }
                }
                try waitUntil { state.woken == 3 }
                try Scheduler.sleep(for: .milliseconds(20))
                #expect(try mutex.withLock { state.woken } == 3)
                try mutex.withLock {
                    state.tickets = 7
                    condition.broadcast()
                }
                for waiter in waiters {
                    try waiter.join()
                }
                #expect(state.woken == 10)
            }

            /// Polls `condition` under the mutex: true once every waiter is parked in the
            /// condition, since each counts itself with the mutex held.
            func waitUntil(_ condition: () -> Bool) throws {
                while try !mutex.withLock(condition) {
                    try Scheduler.sleep(for: .milliseconds(1))
                }
            }
        }

        @Test func aQueueOfTasksAndAPlainThreadThroughOneCondition() throws {
            let mutex = CoMutex()
            let notEmpty = CoCondition()
            let queue = Mutex<[Int]>([])
            let received = Atomic<Int>(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let consumers = try (0..<8).map { _ in
                    try co {
                        while true {
                            let item = try mutex.withLock { () -> Int in
                                while queue.withLock(\.isEmpty) {
                                    try notEmpty.wait(on: mutex)
                                }
                                return queue.withLock { $0.removeFirst() }
                            }
                            guard item >= 0 else { return }
                            received.add(item, ordering: .relaxed)
                        }
                    }
                }
                for item in Array(1...1_000) + Array(repeating: -1, count: 8) {
                    try mutex.withLock {
                        queue.withLock { $0.append(item) }
                        notEmpty.signal()
                    }
                }
                for consumer in consumers {
                    try consumer.join()
                }
            }
            #expect(received.load(ordering: .relaxed) == 500_500)
        }

        @Test func aCancelledWaiterThrowsHoldingTheMutex() throws {
            let mutex = CoMutex()
            let condition = CoCondition()
            let heldAfterCancel = Atomic<Bool>(false)
            let waiting = Atomic<Bool>(false)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiter = try co {
                    try mutex.withLock {
                        waiting.store(true, ordering: .releasing)
                        do {
                            try condition.wait(on: mutex)
                        } catch {
                            heldAfterCancel.store(!mutex.tryLock(), ordering: .relaxed)
                            throw error
                        }
                    }
                }
                // Once the waiter holds the mutex, this thread gets it only when the wait
                // released it, with the waiter queued: a sleep of a fixed length was sometimes
                // too short under ThreadSanitizer, and the cancel then hit the first lock.
                while !waiting.load(ordering: .acquiring) {
                    try Scheduler.sleep(for: .milliseconds(1))
                }
                // Held by this thread while the cancel lands: the waiter takes it back after.
                try mutex.withLock { waiter.cancel() }
                #expect(throws: CoroutineError.cancelled) { try waiter.join() }
                #expect(mutex.tryLock())
            }
            let held = heldAfterCancel.load(ordering: .relaxed)
            #expect(held)
        }
    }
}
