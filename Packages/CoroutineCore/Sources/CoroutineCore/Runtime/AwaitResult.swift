import Synchronization

/// Runs `operation` in Swift concurrency and returns its result: a calling task suspends
/// (its thread goes on running other tasks), a calling plain thread blocks.
///
/// This is how code on coroutines calls `async` APIs, the mirror image of awaiting
/// `JoinHandle.value` from a Swift `Task`:
///
/// ```swift
/// let page = try co {
///     try awaitResult { try await client.fetch(url) }
/// }
/// ```
///
/// The operation runs as an unstructured `Task` on Swift concurrency's own threads, never on
/// a scheduler thread. When the calling task is cancelled while it waits, the `Task` is
/// cancelled too and `awaitResult` throws at once, without waiting for the operation to
/// notice.
///
/// Do not call it from async code: it would block a thread of Swift concurrency's
/// fixed-width pool while another job of that pool runs the operation.
///
/// - Throws: what `operation` throws; `CoroutineError.cancelled` when the calling task is
///   cancelled before or while it waits.
@available(*, noasync, message: "in async code, await the operation itself")
public func awaitResult<Value: Sendable>(
    priority: TaskPriority? = nil, _ operation: @escaping @Sendable () async throws -> Value
) throws -> Value {
    try CurrentTask.checkCancellation()
    let slot = ResultSlot<Value>()
    var task: Task<Void, Never>?
    let outcome = Parking.park(untilNanoseconds: nil) { token in
        task = Task(priority: priority) {
            do {
                slot.fill(.success(try await operation()))
            } catch {
                slot.fill(.failure(error))
            }
            token.unpark()
        }
        return true
    }
    if outcome == .cancelled {
        task?.cancel()
        throw CoroutineError.cancelled
    }
    guard let result = slot.taken() else {
        preconditionFailure("a wait for an async operation ended \(outcome) without its result")
    }
    return try result.get()
}

/// Where the `Task` leaves the operation's result for the waiter, which reads it after the
/// token's unpark.
private final class ResultSlot<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)

    func fill(_ value: Result<Value, any Error>) {
        result.withLock { $0 = value }
    }

    func taken() -> Result<Value, any Error>? {
        result.withLock { $0.take() }
    }
}
