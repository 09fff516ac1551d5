import CCoroutineHook
import CoroutineCore
import Testing
@testable import CoroutineHook

/// Sums 1...n by recursion, one frame of about 1 KiB per level, growing through the C API.
private let deepSum: @convention(c) (UInt) -> UInt = { n in
    guard n > 0 else { return 0 }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer in
        buffer.initialize(repeating: 0)
        return n + maybeGrowStackForC(32 * 1024, 1024 * 1024, deepSum, n - 1) + UInt(buffer[512])
    }
}

@Suite struct StackGrowthAPITests {
    @Test func deepRecursionThroughTheCAPIInsideASmallCoroutine() throws {
        let coroutine = Coroutine<Void, Void, UInt>(stackSize: 128 * 1024) { _, _ in
            maybeGrowStackForC(32 * 1024, 1024 * 1024, deepSum, 4000)
        }
        guard case .returned(let sum) = try coroutine.resume() else {
            Issue.record("expected the coroutine to return")
            return
        }
        #expect(sum == 4000 * 4001 / 2)
    }
}
