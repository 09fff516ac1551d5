/// One change of a coroutine's status, as delivered to its listeners.
public struct CoroutineEvent: Sendable {
    /// The coroutine that changed.
    public let coroutine: AnyCoroutine
    /// The status it left.
    public let previous: CoroutineStatus
    /// The status it entered.
    public let current: CoroutineStatus
}

/// Observes a coroutine's status changes, on the thread where each change happens.
///
/// A listener that throws is reported to `CoroutineLogging.logger` and otherwise ignored:
/// it never breaks the coroutine it observes.
public typealias CoroutineListener = @Sendable (CoroutineEvent) throws -> Void
