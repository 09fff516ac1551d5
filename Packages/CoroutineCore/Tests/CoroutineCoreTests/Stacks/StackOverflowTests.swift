import Foundation
import Testing
@testable import CoroutineCore

@Suite struct StackOverflowTests {
    @Test func overflowEndsTheCoroutineFailedAndTheProcessLivesOn() throws {
        let coroutine = Coroutine<Void, Void, Int>(stackSize: 64 * 1024) { _, _ in
            recurseForever(1)
        }
        #expect(throws: CoroutineError.stackOverflow) { try coroutine.resume() }
        #expect(coroutine.status == .failed)
        guard case .failed(let error)? = coroutine.end else {
            Issue.record("expected failed, got \(String(describing: coroutine.end))")
            return
        }
        #expect(error as? CoroutineError == .stackOverflow)

        let next = Coroutine<Void, Void, Int>(stackSize: 64 * 1024) { _, _ in 42 }
        #expect(try next.resume().returnValue == 42)
    }

    @Test func overflowOnAnotherThreadIsCaughtToo() throws {
        let outcome = Holder<String>()
        let thread = Thread {
            let coroutine = Coroutine<Void, Void, Int>(stackSize: 64 * 1024) { _, _ in recurseForever(1) }
            do {
                _ = try coroutine.resume()
                outcome.value = "returned"
            } catch {
                outcome.value = "\(error)"
            }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(10)
        while !thread.isFinished && Date() < deadline { usleep(1_000) }
        #expect(outcome.value == "\(CoroutineError.stackOverflow)")
    }

    @Test(.disabled(
        if: runsUnderSanitizer,
        "the sanitizer's fault handler, which ours forwards to, reports the fault and exits with status 1 instead of dying by the signal"
    ))
    func otherFaultsStillKillTheProcess() throws {
        let child = fork()
        if child == 0 {
            let coroutine = Coroutine<Void, Void, Void> { _, _ in
                UnsafeMutablePointer<Int>(bitPattern: 64)?.pointee = 1
            }
            _ = try? coroutine.resume()
            _exit(0)
        }
        #expect(child > 0)
        var status: Int32 = 0
        // The Swift runtime's backtracer symbolicates before the child dies, which took over
        // 20 s once while the other suites loaded both cores.
        let deadline = Date().addingTimeInterval(90)
        while waitpid(child, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(child, SIGKILL)
                Issue.record("the faulting child did not die")
                return
            }
            usleep(5_000)
        }
        // The fault is forwarded to the handler installed before ours: the Swift runtime's
        // backtracer, which ends the process with the fault's signal or its own trap. Either
        // way the process must die by a crash signal, not carry on to `_exit(0)`.
        let signal = status & 0x7f
        #expect([SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT].contains(signal), "child ended with status \(status)")
    }
}

@inline(never)
func recurseForever(_ depth: Int) -> Int {
    var padding = (depth, depth, depth, depth, depth, depth, depth, depth)
    withUnsafeMutablePointer(to: &padding) { _ in }
    return recurseForever(depth + 1) + padding.0
}
