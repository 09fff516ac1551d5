import CoroutineCore
import OpenCoroutine
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct WaitGroupTests {
    @Test func anEmptyGroupDoesNotWait() throws {
        let group = WaitGroup()
        try group.wait()
        #expect(try group.wait(timeout: .zero))
    }

    @Test func aWaitWithATimeoutGivesUpWhileMembersRemain() throws {
        let group = WaitGroup()
        group.add(2)
        group.done()
        let start = ContinuousClock.now
        #expect(try !group.wait(timeout: .milliseconds(30)))
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        group.done()
        #expect(try group.wait(timeout: .milliseconds(30)))
    }
}

extension RuntimeTests {
    @Suite(.timeLimit(.minutes(1))) struct WaitGroupRuntimeTests {
        @Test func waitReturnsOnceEveryMemberIsDone() throws {
            let group = WaitGroup()
            let finished = Atomic<Int>(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                group.add(100)
                // One waiter in a task, one on this plain thread.
                let waiter = try co { () -> Int in
                    try group.wait()
                    return finished.load(ordering: .relaxed)
                }
                for n in 0..<100 {
                    try co {
                        defer { group.done() }
                        try Scheduler.sleep(for: .milliseconds(n % 10))
                        finished.add(1, ordering: .relaxed)
                    }
                }
                try group.wait()
                #expect(finished.load(ordering: .relaxed) == 100)
                #expect(try waiter.join() == 100)
            }
        }

        @Test func aCancelledWaiterThrows() throws {
            let group = WaitGroup()
            group.add()
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiter = try co { try group.wait() }
                try Scheduler.sleep(for: .milliseconds(20))
                waiter.cancel()
                #expect(throws: CoroutineError.cancelled) { try waiter.join() }
            }
            group.done()
        }
    }
}
