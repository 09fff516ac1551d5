import Synchronization
import Testing
@testable import CoroutineCore

/// Outside `make test-tsan`'s filter: TSan cannot see the hand-over of the blocking pool's
/// contended Mutexes (scripts/tsan-suppressions.txt) and reports the state they guard.
@Suite struct BlockingPoolTests {
    @Test func aCallOnTheBlockingPoolRunsOnANamedThread() throws {
        let scheduler = try Scheduler()
        let name = Mutex<String?>(nil)
        scheduler.submit {
            let poolThread = Syscall.runOnBlockingPool("test") { threadName() }
            name.withLock { $0 = poolThread }
        }
        scheduler.run(until: .now + .seconds(10))
        #expect(name.withLock { $0 } == "oc-blocking")
    }
}
