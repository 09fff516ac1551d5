import Foundation
import Testing
@testable import CoroutineCore

@Suite struct ThreadCPUClockTests {
    /// Runs `body` on a new thread recorded on `clock`, burns `milliseconds` of CPU there, and
    /// returns once the thread forgot itself and ended.
    private func runThread(on clock: ThreadCPUClock, burning milliseconds: Int) {
        let ended = DispatchSemaphore(value: 0)
        Thread {
            clock.recordCallingThread()
            let start = clock.nanoseconds
            while clock.nanoseconds - start < UInt64(milliseconds) * 1_000_000 {}
            clock.forgetThread()
            ended.signal()
        }.start()
        _ = ended.wait(timeout: .now() + 10)
    }

    /// A spare's clock outlives its threads: what an ended thread used stays counted, and the
    /// next thread's time adds to it, so that a difference of two readings is never negative.
    @Test func theTimeOfEndedThreadsStaysCounted() {
        let clock = ThreadCPUClock()
        #expect(clock.nanoseconds == 0)
        runThread(on: clock, burning: 30)
        let afterFirst = clock.nanoseconds
        #expect(afterFirst >= 30_000_000)
        runThread(on: clock, burning: 30)
        #expect(clock.nanoseconds >= afterFirst + 30_000_000)
    }
}
