import Foundation
import Testing
@testable import CoroutineCore

/// The Swift runtime tracks dynamic exclusive accesses per thread; a coroutine that
/// suspends inside one must take it along, or the runtime traps (simultaneous access)
/// or crashes in swift_endAccess when the coroutine resumes elsewhere.
@Suite struct ExclusivityTests {
    final class Storage: @unchecked Sendable {
        // @unchecked Sendable: the test uses it from one thread at a time.
        var values = [Int](repeating: 0, count: 8)
        var counter = 0
    }

    @Test func suspendInsideExclusiveAccessThenResumeOnAnotherThread() throws {
        let shared = Storage()
        let first = Coroutine<Void, Void, Int> { suspender, _ in
            try shared.values.withUnsafeMutableBufferPointer { buffer in
                buffer[0] = 1
                try suspender.suspend()
                buffer[1] = 2
            }
            return shared.values.reduce(0, +)
        }
        let second = Coroutine<Void, Void, Int> { _, _ in
            shared.counter += 1
            return shared.values.count + shared.counter
        }
        #expect(try first.resume().isYield)
        #expect(try second.resume().returnValue == 9)

        let handoff = Holder(first)
        let result = Holder<CoroutineResult<Void, Int>>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result.value = try? handoff.value?.resume()
            done.signal()
        }
        thread.start()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(result.value?.returnValue == 3)
    }

    @Test func resumerInsideAnAccessKeepsIt() throws {
        let shared = Storage()
        let coroutine = Coroutine<Void, Void, Void> { suspender, _ in
            shared.counter += 1
            try suspender.suspend()
            shared.counter += 1
        }
        try shared.values.withUnsafeMutableBufferPointer { buffer in
            buffer[0] = try coroutine.resume().isYield ? 1 : 0
            _ = try coroutine.resume()
        }
        #expect(shared.values[0] == 1)
        #expect(shared.counter == 2)
    }
}
