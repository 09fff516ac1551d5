/// What happened to a coroutine on a scheduler, as delivered to the scheduler's listeners.
public enum SchedulerEvent: Sendable {
    /// A coroutine was submitted to the scheduler.
    case created(AnyCoroutine)
    /// A coroutine became ready to run: submitted, woken, or yielded.
    case ready(AnyCoroutine)
    /// The scheduler is about to resume a coroutine.
    case running(AnyCoroutine)
    /// A coroutine suspended to wait (sleep, join, an event).
    case suspended(AnyCoroutine)
    /// A coroutine suspended inside a blocking call of the `Syscall` layer; the payload is the
    /// system call it waits in (`clock_nanosleep` for the whole sleep family).
    case inSyscall(AnyCoroutine, String)
    /// A coroutine's body returned.
    case completed(AnyCoroutine)
    /// A coroutine's body threw, or the coroutine overflowed its stack.
    case failed(AnyCoroutine, any Error)
    /// A coroutine ended by its cancellation.
    case cancelled(AnyCoroutine)
}

/// Observes a scheduler, on the scheduler's thread. A listener that throws is logged and
/// otherwise ignored: it never breaks the scheduler.
public typealias SchedulerListener = @Sendable (SchedulerEvent) throws -> Void
