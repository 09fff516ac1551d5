import Synchronization
@testable import CoroutineCore

/// Runs `body` in a coroutine of a fresh scheduler and returns what it returned: the
/// "inside a coroutine" leg of the differential tests.
func runInCoroutine<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) throws -> Result? {
    let scheduler = try Scheduler()
    let outcome = Mutex<Result?>(nil)
    scheduler.submit {
        let value = try body()
        outcome.withLock { $0 = value }
    }
    scheduler.run(until: .now + .seconds(10))
    return outcome.withLock { $0 }
}

extension Scheduler {
    /// Submits a coroutine that announces that it runs, sleeps 10 ms, then writes `text` to
    /// the pair's right socket: the party a coroutine waiting on the left one must let run.
    func submitLateWriter(_ text: String, to pair: SocketPair, announce: @escaping @Sendable () -> Void) {
        submit {
            announce()
            try Scheduler.sleep(for: .milliseconds(10))
            pair.write(text, to: pair.right)
        }
    }
}
