import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

/// Part of the runtime's serialized suite: the runtime is one per process.
extension CoroutineRuntimeTests {
    /// Small stacks, so that a runaway recursion reaches the guard quickly.
    private var smallStacks: RuntimeConfiguration {
        RuntimeConfiguration(threads: 2, stackSize: 128 * 1024)
    }

    @Test func anOverflowingTaskFailsAloneAndItsWorkerIsReplaced() throws {
        try withRuntime(smallStacks) {
            let before = runtime.counters?.stackOverflows ?? 0
            // Load: tasks that sleep and compute, interleaved with runaway recursions.
            let workers = try (0..<1_000).map { n in
                try runtime.spawn { () -> Int in
                    try Scheduler.sleep(for: .milliseconds(1 + n % 5))
                    return (1...100).reduce(n, +)
                }
            }
            let runaways = try (0..<10).map { _ in try runtime.spawn { recurseForever(1) } }
            for runaway in runaways {
                #expect(throws: CoroutineError.stackOverflow) { try runaway.join(timeout: .seconds(10)) }
            }
            for (n, worker) in workers.enumerated() {
                #expect(try worker.join(timeout: .seconds(10)) == n + 5_050)
            }
            #expect((runtime.counters?.stackOverflows ?? 0) - before == 10)
            // The pool still serves, on new workers.
            let after = try (0..<100).map { n in try runtime.spawn { n * 2 } }
            #expect(try after.map { try $0.join(timeout: .seconds(10)) } == (0..<100).map { $0 * 2 })
        }
    }

    /// A child joined before it started runs inline on its parent's stack: an overflow there
    /// ends both, each with the error, and nothing waits forever.
    @Test func anOverflowInATaskRunInlineFailsItAndItsParent() throws {
        // Default stacks: room for the inline run's reserve. One thread: no other thread can
        // steal the child before its parent joins it.
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let parent = try runtime.spawn { () -> Int in
                let child = try CoroutineRuntime.shared.spawn { recurseForever(1) }
                // Reached only if the child ran on a worker of its own, not inline.
                do { return try child.join() } catch { return -1 }
            }
            #expect(throws: CoroutineError.stackOverflow) { try parent.join(timeout: .seconds(10)) }
            #expect(try runtime.spawn { 7 }.join(timeout: .seconds(10)) == 7)
        }
    }
}
