import Foundation
import Testing
@testable import CoroutineCore

@Suite struct StackGrowthTests {
    @Test func deepRecursionSucceedsInsideASmallCoroutine() throws {
        let coroutine = Coroutine<Void, Void, Int>(stackSize: 256 * 1024) { _, _ in
            deepRecursion(4096)
        }
        #expect(try coroutine.resume().returnValue == 4096 * 1024)
    }

    @Test func coroutineMaySuspendOnAGrownStack() throws {
        let coroutine = Coroutine<Void, Int, Int>(stackSize: 64 * 1024) { suspender, _ in
            try maybeGrowStack(redZone: .max) { () throws(CoroutineError) -> Int in
                let inner = remainingStack()
                _ = try suspender.suspend(with: inner)
                return remainingStack()
            }
        }
        guard case .yielded(let onGrownStack) = try coroutine.resume() else {
            Issue.record("expected a yield")
            return
        }
        // Near the top of a fresh 1 MiB stack, which the 64 KiB coroutine stack cannot be.
        let grownStack = (StackGrowth.defaultStackSize - 16 * 1024)...StackGrowth.defaultStackSize
        #expect(grownStack.contains(onGrownStack), "\(onGrownStack) bytes left")
        // Resumed, it is back on that same stack at the same depth: the same bytes are left.
        let afterResume = try coroutine.resume().returnValue
        #expect(afterResume == onGrownStack)
    }

    @Test func growthWorksOnPlainThreads() {
        #expect(deepRecursion(2048) == 2048 * 1024)
    }

    @Test func errorsComeBackFromTheGrownStack() {
        struct Deep: Error {}
        #expect(throws: Deep.self) {
            try maybeGrowStack(redZone: .max) { () throws(Deep) -> Int in throw Deep() }
        }
    }

    @Test func plentyOfStackRunsInPlace() {
        let before = remainingStack()
        let inside = maybeGrowStack(redZone: 1024) { remainingStack() }
        #expect(abs(before - inside) < 64 * 1024)
    }
}

/// Recursion whose frames hold about 1 KiB each, so depth n needs about n KiB of stack;
/// returns 1024 per level.
@inline(never)
func deepRecursion(_ depth: Int) -> Int {
    guard depth > 0 else { return 0 }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer in
        buffer.initialize(repeating: 1)
        let below = maybeGrowStack(redZone: 32 * 1024, stackSize: 1024 * 1024) { deepRecursion(depth - 1) }
        return below + buffer.reduce(0) { $0 + Int($1) }
    }
}
