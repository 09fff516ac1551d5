import Logging
import Synchronization

/// Where the runtime reports what it notices: failed listeners, stacks that could
/// not be allocated, fallbacks taken.
///
/// Silent by default. Assign a logger (for example `Logger(label: "OpenCoroutine")`
/// after `LoggingSystem.bootstrap`) to see the runtime's messages.
public enum CoroutineLogging {
    private static let storage = Mutex(Logger(label: "OpenCoroutine", factory: { _ in SwiftLogNoOpLogHandler() }))

    /// The logger the runtime writes to.
    public static var logger: Logger {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
