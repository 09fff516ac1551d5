import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

/// Part of the runtime's serialized suite: the runtime is one per process.
///
/// The operations run on Swift concurrency's pool, which has one thread per CPU and which the
/// tests' own bodies run on: these tests await instead of blocking, so that they never hold a
/// pool thread the operation they wait for needs (other suites' synchronous tests may hold
/// the rest for seconds, hence the generous limits).
extension CoroutineRuntimeTests {
    private struct Refused: Error, Equatable {}

    /// Runs `body` on a started runtime of `threads` threads and stops it afterwards.
    private func withRuntime(threads: Int, _ body: () async throws -> Void) async throws {
        try runtime.start(RuntimeConfiguration(threads: threads))
        defer { #expect(runtime.stop(timeout: .seconds(10)).isClean) }
        try await body()
    }

    @Test(.timeLimit(.minutes(1)))
    func awaitingSuspendsOnlyTheTaskNotItsThread() async throws {
        try await withRuntime(threads: 1) {
            let ticks = Atomic<Int>(0)
            let ticker = try runtime.spawn {
                for _ in 0..<5 {
                    try Scheduler.sleep(for: .milliseconds(10))
                    ticks.add(1, ordering: .relaxed)
                }
            }
            let awaiting = try runtime.spawn { () -> [Int] in
                let started = ticks.load(ordering: .relaxed)
                // The operation ends once the ticker has ticked five times, which it can do only
                // if this task's wait leaves the thread to it; 10 s bounds a regression. (It
                // used to sleep 200 ms, which a loaded test run's ticker sometimes outlasted.)
                let value = try awaitResult { () async throws -> String in
                    let giveUp = ContinuousClock.now + .seconds(10)
                    while ticks.load(ordering: .relaxed) < 5 {
                        guard ContinuousClock.now < giveUp else { return "ticker stalled" }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return "late"
                }
                return [started, ticks.load(ordering: .relaxed), value.count]
            }
            let seen = try await awaiting.value
            try await ticker.value
            // The only scheduler thread kept ticking while the task waited for the Task.
            #expect(seen[0] < 5 && seen[1] == 5)
            #expect(seen[2] == 4)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func awaitingRethrowsTheOperationsError() async throws {
        try await withRuntime(threads: 2) {
            let failing = try runtime.spawn {
                try awaitResult { () async throws -> Int in
                    await Task.yield()
                    throw Refused()
                }
            }
            await #expect(throws: Refused()) { try await failing.value }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellingTheWaiterCancelsTheOperation() async throws {
        try await withRuntime(threads: 2) {
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
            while !started.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(1)) }
            waiter.cancel()
            await #expect(throws: CoroutineError.cancelled) { try await waiter.value }
            while !sawCancellation.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(1)) }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aPlainThreadBlocksUntilTheResult() async throws {
        let value = await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
            Thread.detachNewThread {
                continuation.resume(returning: try? awaitResult { () async throws -> Int in
                    try await Task.sleep(for: .milliseconds(20))
                    return 42
                })
            }
        }
        #expect(value == 42)
    }
}
