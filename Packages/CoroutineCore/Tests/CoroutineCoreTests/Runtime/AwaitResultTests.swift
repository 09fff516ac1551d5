import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

/// Part of the runtime's serialized suite: the runtime is one per process.
extension CoroutineRuntimeTests {
    private struct Refused: Error, Equatable {}

    @Test func awaitingSuspendsOnlyTheTaskNotItsThread() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let ticks = Atomic<Int>(0)
            let ticker = try runtime.spawn {
                for _ in 0..<5 {
                    try Scheduler.sleep(for: .milliseconds(10))
                    ticks.add(1, ordering: .relaxed)
                }
            }
            let awaiting = try runtime.spawn { () -> [Int] in
                let started = ticks.load(ordering: .relaxed)
                let value = try awaitResult { () async throws -> String in
                    try await Task.sleep(for: .milliseconds(200))
                    return "late"
                }
                return [started, ticks.load(ordering: .relaxed), value.count]
            }
            let seen = try awaiting.join(timeout: .seconds(10))
            try ticker.join(timeout: .seconds(10))
            // The only scheduler thread kept ticking while the task waited for the Task.
            #expect(seen[0] < 5 && seen[1] == 5)
            #expect(seen[2] == 4)
        }
    }

    @Test func awaitingRethrowsTheOperationsError() throws {
        try withRuntime {
            let failing = try runtime.spawn {
                try awaitResult { () async throws -> Int in
                    await Task.yield()
                    throw Refused()
                }
            }
            #expect(throws: Refused()) { try failing.join(timeout: .seconds(10)) }
        }
    }

    @Test func cancellingTheWaiterCancelsTheOperation() throws {
        try withRuntime {
            let sawCancellation = Atomic<Bool>(false)
            let started = Atomic<Bool>(false)
            let waiter = try runtime.spawn {
                try awaitResult { () async -> Void in
                    started.store(true, ordering: .relaxed)
                    do {
                        try await Task.sleep(for: .seconds(60))
                    } catch {
                        sawCancellation.store(true, ordering: .relaxed)
                    }
                }
            }
            #expect(eventually(within: .seconds(10)) { started.load(ordering: .relaxed) })
            waiter.cancel()
            #expect(throws: CoroutineError.cancelled) { try waiter.join(timeout: .seconds(10)) }
            #expect(eventually(within: .seconds(10)) { sawCancellation.load(ordering: .relaxed) })
        }
    }

    @Test func aPlainThreadBlocksUntilTheResult() throws {
        let value = try awaitResult { () async throws -> Int in
            try await Task.sleep(for: .milliseconds(20))
            return 42
        }
        #expect(value == 42)
    }
}
