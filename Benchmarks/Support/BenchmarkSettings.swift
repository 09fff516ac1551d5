import CoroutineCore
import Glibc

/// The settings a benchmark's caller gives through the environment, read before anything is
/// measured. An empty variable counts as unset; a value the benchmark does not know ends it
/// with a message on stderr and exit status 2, so that a bad setting costs no measurement.
public struct BenchmarkSettings: Sendable {
    /// The program's name, for messages.
    public let program: String

    public init(program: String) {
        self.program = program
    }

    /// The value of the environment variable `name`, or nil when it is unset or empty.
    public func environment(_ name: String) -> String? {
        guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// Ends the process with `message` on stderr, as a bad setting of the benchmark's caller.
    public func reject(_ message: String) -> Never {
        let line = "\(program): \(message)\n"
        // Through the descriptor: Swift 6 rejects naming C's global `stderr`.
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        exit(2)
    }

    /// The scheduler threads: BENCH_THREADS, or 2 when unset.
    public var schedulerThreads: Int {
        guard let text = environment("BENCH_THREADS") else { return 2 }
        let allowed = 1...RuntimeConfiguration.maximumThreads
        guard let threads = Int(text), allowed.contains(threads) else {
            reject("BENCH_THREADS=\(text) is not a number of scheduler threads in \(allowed)")
        }
        return threads
    }

    /// `handoffAfter`: BENCH_HANDOFF_AFTER_US microseconds (0: no handoff), or the runtime's
    /// default when unset (`make bench-handoff` measures what handoff costs with it).
    public var handoffAfter: Duration? {
        guard let text = environment("BENCH_HANDOFF_AFTER_US") else { return RuntimeConfiguration.defaultHandoffAfter }
        guard let microseconds = Int(text), microseconds >= 0 else {
            reject("BENCH_HANDOFF_AFTER_US=\(text) is not a number of microseconds (0: no handoff)")
        }
        guard microseconds > 0 else { return nil }
        let delay = Duration.microseconds(microseconds)
        guard RuntimeConfiguration.handoffDelays.contains(delay) else {
            reject("BENCH_HANDOFF_AFTER_US=\(text) is outside \(RuntimeConfiguration.handoffDelays)")
        }
        return delay
    }
}
