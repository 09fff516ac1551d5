import Synchronization

/// A typed key for a value stored per coroutine (`Coroutine.current?[key]`) or per task
/// (`CurrentTask[key]`).
///
/// ```swift
/// let requestID = CoroutineLocal<Int>()
/// Coroutine.current?[requestID] = 42
/// CurrentTask[requestID] = 42
/// ```
public struct CoroutineLocal<Value: Sendable>: Sendable, Hashable {
    let id: Int

    /// Creates a key distinct from every other key.
    public init() {
        id = nextLocalKey.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}

private let nextLocalKey = Atomic<Int>(0)
