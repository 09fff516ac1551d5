/// Where a coroutine is in its life, without its result: cheap to read from any thread.
public enum CoroutineStatus: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Created, never resumed.
    case ready
    /// Executing on some thread right now.
    case running
    /// Waiting to be resumed.
    case suspended
    /// The body returned.
    case complete
    /// The body threw, or the coroutine overflowed its stack.
    case failed
    /// Cancelled before it started, or ended by its cancellation.
    case cancelled

    /// Whether the coroutine has ended for good.
    public var isFinished: Bool {
        switch self {
        case .complete, .failed, .cancelled: return true
        case .ready, .running, .suspended: return false
        }
    }

    public var description: String {
        switch self {
        case .ready: return "ready"
        case .running: return "running"
        case .suspended: return "suspended"
        case .complete: return "complete"
        case .failed: return "failed"
        case .cancelled: return "cancelled"
        }
    }
}

/// How a coroutine ended: with the value it returned, the error it failed with, or its
/// cancellation. (`CoroutineStatus` says where in its life it is; this, once it is over, how.)
public enum CoroutineEnd<Return> {
    /// The body returned this value.
    case returned(Return)
    /// The body threw this error, or the coroutine overflowed its stack (`CoroutineError.stackOverflow`).
    case failed(any Error)
    /// Cancelled before it started, or ended by its cancellation.
    case cancelled
}

/// What one `resume(with:)` produced.
public enum CoroutineResult<Yield, Return> {
    /// The coroutine suspended, handing out this value.
    case yielded(Yield)
    /// The coroutine's body returned this value; the coroutine is complete.
    case returned(Return)
}

extension CoroutineResult: Equatable where Yield: Equatable, Return: Equatable {}
extension CoroutineResult: Sendable where Yield: Sendable, Return: Sendable {}
