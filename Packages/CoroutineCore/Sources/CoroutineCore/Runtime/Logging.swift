import Logging
import Synchronization

/// Where the runtime reports what it notices.
///
/// The levels it uses:
/// - `warning`: something a person must act on, written to standard error by default: a
///   task still running when the runtime stops, a task's error nobody joined, a coroutine
///   that blocked its scheduler thread (the blocking watchdog), a listener that failed;
/// - `notice`: a fallback the runtime took on its own (no madvise guard regions, say);
/// - `debug`: details of the runtime's work (io_uring setup, the preemption monitor).
///
/// By default a `StreamLogHandler` on standard error at level `warning`. Assign your own
/// logger (the facade's `Config.logger` does) to send the messages elsewhere or change the
/// level.
public enum CoroutineLogging {
    private static let storage = Mutex(defaultLogger())

    /// The logger the runtime writes to.
    public static var logger: Logger {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    /// Standard error, warnings and above.
    public static func defaultLogger() -> Logger {
        var logger = Logger(label: "OpenCoroutine", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        return logger
    }
}
