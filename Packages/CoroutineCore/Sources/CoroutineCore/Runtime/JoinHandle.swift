/// Why a join did not produce the task's value.
public enum JoinError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The task did not finish within the timeout; it keeps running.
    case timedOut
    /// `JoinHandle.any` was given no handles.
    case noHandles

    public var description: String {
        switch self {
        case .timedOut: return "the task did not finish within the timeout"
        case .noHandles: return "JoinHandle.any needs at least one handle"
        }
    }
}

/// The result of a task submitted to the runtime: join it, wait with a timeout, cancel it.
///
/// Joining suspends a calling coroutine and blocks a calling plain thread. An error the
/// task threw comes back from `join`; a task cancelled before it started, or that let its
/// cancellation end it, throws `CoroutineError.cancelled` there. Dropping a handle without
/// joining leaks nothing.
public struct JoinHandle<Value: Sendable>: Sendable {
    @usableFromInline let task: PoolTask

    @usableFromInline
    init(task: PoolTask) {
        self.task = task
    }

    /// The task's number, unique in this process.
    public var id: UInt64 { task.id }
    /// The name given at submission.
    public var name: String? { task.name }
    /// Whether the task has ended: returned, threw or was cancelled.
    public var isFinished: Bool { task.isFinished }
    /// Whether `cancel()` was called.
    public var isCancelled: Bool { task.isCancelled }

    /// Waits for the task and returns its value.
    ///
    /// Called from a task, a join of a task that has not started yet runs it right away on
    /// the caller's stack (when enough of it is left), as fork-join pools do. A calling task
    /// that is cancelled (before or while it waits) cancels the task it joins too, as a parent
    /// in structured concurrency cancels its children.
    ///
    /// - Throws: the task's error, `CoroutineError.cancelled` when it ended cancelled (see
    ///   `cancel()`); `CoroutineError.cancelled` when the calling task is cancelled.
    @available(*, noasync, message: "it blocks the calling thread; in async code, await the handle's value")
    public func join() throws -> Value {
        try cancellingTheTaskIfTheCallerIs { try CurrentTask.checkCancellation() }
        if !task.runInline() {
            try cancellingTheTaskIfTheCallerIs { try wait(until: nil) }
        }
        return try task.outcome(as: Value.self)
    }

    /// Runs `body`; when it throws `CoroutineError.cancelled` (the caller's own cancellation),
    /// cancels the task being joined before passing the error on.
    private func cancellingTheTaskIfTheCallerIs(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch CoroutineError.cancelled {
            task.cancel()
            throw CoroutineError.cancelled
        }
    }

    /// Waits at most `timeout` for the task and returns its value.
    ///
    /// - Throws: `JoinError.timedOut` when the task is still running after `timeout` (it is
    ///   not cancelled); otherwise as `join()`, a cancelled caller cancelling the task too.
    @available(*, noasync, message: "it blocks the calling thread; in async code, await the handle's value")
    public func join(timeout: Duration) throws -> Value {
        try cancellingTheTaskIfTheCallerIs { try wait(until: deadlineNanoseconds(after: timeout)) }
        return try task.outcome(as: Value.self)
    }

    /// Asks the task to stop. A task not yet started never runs, and its join throws
    /// `CoroutineError.cancelled`. A running one is woken from its current wait, and from then
    /// on every wait of it ends at once: a hooked blocking call with `ECANCELED`, a join, a
    /// yield or a wait of the sync toolkit by throwing `CoroutineError.cancelled`
    /// (`CurrentTask` lets code that never waits look). What the task does then is its own:
    /// `join()` returns its value if it returned one anyway, and throws what it threw
    /// otherwise (`CoroutineError.cancelled` when that is what reached its end).
    public func cancel() {
        task.cancel()
    }

    /// The task's value, for callers in Swift concurrency.
    public var value: Value {
        get async throws {
            if !task.isFinished {
                let task = self.task
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let token = ParkingToken(.callback { continuation.resume() })
                    if !task.addJoiner(token) {
                        continuation.resume()
                    }
                }
            }
            return try task.outcome(as: Value.self)
        }
    }

    /// Waits for the first of `handles` to finish, cancels the others, and returns the
    /// winner's index and value.
    ///
    /// - Throws: the winner's error; `JoinError.noHandles` for an empty array.
    @available(*, noasync, message: "it blocks the calling thread; in async code, await the handles' values in a task group")
    public static func any(_ handles: [JoinHandle<Value>]) throws -> (index: Int, value: Value) {
        guard !handles.isEmpty else { throw JoinError.noHandles }
        try waitForAny(handles.map(\.task), until: nil)
        guard let winner = handles.firstIndex(where: \.isFinished) else { throw CoroutineError.cancelled }
        for (index, handle) in handles.enumerated() where index != winner {
            handle.cancel()
        }
        return (winner, try handles[winner].task.outcome(as: Value.self))
    }

    /// Suspends (or blocks) until the task finished or `deadline` passed. The join of one task,
    /// the common case, apart from `waitForAny`: it allocates no array of one.
    private func wait(until deadline: UInt64?) throws {
        try CurrentTask.checkCancellation()
        let task = self.task
        guard !task.isFinished else { return }
        try Self.park(until: deadline, reason: .join(taskID: task.id)) { task.addJoiner($0) }
    }

    /// Suspends (or blocks) until one of `tasks` finished or `deadline` passed.
    private static func waitForAny(_ tasks: [PoolTask], until deadline: UInt64?) throws {
        try CurrentTask.checkCancellation()
        guard !tasks.contains(where: \.isFinished) else { return }
        let reason = tasks.count == 1 ? WaitReason.join(taskID: tasks[0].id) : .other
        try park(until: deadline, reason: reason) { token in tasks.allSatisfy { $0.addJoiner(token) } }
    }

    /// Parks until a task `register` added the token to finishes, or `deadline` passes.
    private static func park(until deadline: UInt64?, reason: WaitReason, register: (ParkingToken) -> Bool) throws {
        switch Parking.park(untilNanoseconds: deadline, reason: reason, register: register) {
        case .timedOut: throw JoinError.timedOut
        case .cancelled: throw CoroutineError.cancelled
        case .unparked, .notParked, .closed: return
        }
    }
}
