/// Why a coroutine operation did not do what was asked.
public enum CoroutineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The coroutine was cancelled; thrown from a suspension point once `cancel()` was called.
    case cancelled
    /// The coroutine ran past the end of its stack into the guard region and was stopped there.
    case stackOverflow
    /// `resume` was called on a coroutine that is running, finished or cancelled.
    case notResumable(CoroutineStatus)
    /// `resume` was called on a coroutine submitted to a `Scheduler`, which alone resumes it.
    case resumedOutsideScheduler
    /// `suspend` was called from outside the coroutine it belongs to.
    case suspendedOutsideCoroutine
    /// A stack size outside `StackSize.minimum ... StackSize.maximum` was asked for.
    case invalidStackSize(Int)
    /// The kernel refused memory for a stack; the payload is errno.
    case stackAllocationFailed(errno: Int32)

    public var description: String {
        switch self {
        case .cancelled:
            return "the coroutine was cancelled"
        case .stackOverflow:
            return "the coroutine overflowed its stack"
        case .notResumable(let status):
            return "a \(status) coroutine cannot be resumed"
        case .resumedOutsideScheduler:
            return "a coroutine submitted to a scheduler is resumed by that scheduler only"
        case .suspendedOutsideCoroutine:
            return "suspend(with:) was called outside the coroutine it belongs to"
        case .invalidStackSize(let size):
            return "stack size \(size) is outside \(StackSize.minimum)...\(StackSize.maximum) bytes"
        case .stackAllocationFailed(let code):
            return "the kernel refused memory for a stack (errno \(code))"
        }
    }
}
