// What the facade brings along from the runtime: the declarations an application touches,
// one by one, and nothing else. The rest of CoroutineCore (the `Syscall` layer, `Scheduler`,
// the parking and stack machinery) stays out of a user's namespace, so a user's own `Config`
// or `Scheduler` never collides with it; code that needs those imports CoroutineCore itself.
//
// Types come as typealiases, so that this module's documentation has a page for each; a file
// that imports both modules sees one type under each name. Functions come as scoped
// re-exports, which bring exactly that declaration (a wrapper would be ambiguous beside the
// original); their references live in CoroutineCore's documentation.
import CoroutineCore
import CoroutineHook

@_exported import func CoroutineCore.awaitResult
@_exported import func CoroutineCore.maybeGrowStack
@_exported import func CoroutineCore.remainingStack

/// The result of a task `co` submitted: join it, await it, or cancel it.
///
/// `join()` waits for the task and returns its value or throws its error: a calling task
/// suspends, a calling plain thread blocks. `join(timeout:)` gives up after a timeout with
/// `JoinError.timedOut`; `JoinHandle.any(_:)` waits for the first of several tasks and
/// cancels the others; `cancel()` asks the task to stop; async code awaits `value` instead of
/// joining (the joins are `noasync`). The handle also tells the task's `id`, `name`,
/// `isFinished` and `isCancelled`. The runtime's documentation (CoroutineCore) details each.
public typealias JoinHandle<Value: Sendable> = CoroutineCore.JoinHandle<Value>

/// Why a join did not produce the task's value: it timed out (`timedOut`), or
/// `JoinHandle.any(_:)` was given no handles (`noHandles`).
public typealias JoinError = CoroutineCore.JoinError

/// The calling task's identity, cancellation and values: `CurrentTask.id` and `name`,
/// `isCancelled` or `checkCancellation()` for code that runs long without waiting, and
/// `CurrentTask[key]` for a value of the task's own, released when it ends. Outside a task,
/// `id` is nil, nothing is cancelled and there are no values.
public typealias CurrentTask = CoroutineCore.CurrentTask

/// A typed key for a task's own value: `CurrentTask[key]`.
///
/// ```swift
/// let requestID = CoroutineLocal<Int>()
/// CurrentTask[requestID] = 42
/// ```
public typealias CoroutineLocal<Value: Sendable> = CoroutineCore.CoroutineLocal<Value>

/// Why a coroutine operation did not do what was asked. What the facade's waits throw is
/// `cancelled`: the calling task was cancelled, before or while it waited.
public typealias CoroutineError = CoroutineCore.CoroutineError

/// Why the runtime refused: `co` outside a running runtime (`notRunning`), or
/// ``withCoroutines(_:_:)`` while one runs (`alreadyRunning`: submit with `co` instead) or when
/// its threads cannot be created.
public typealias RuntimeError = CoroutineCore.RuntimeError

/// Why hooking cannot be switched on: the hook library does not interpose libc
/// (`notInterposing`, with the cause). ``withCoroutines(_:_:)`` throws it when ``Config/hooks``
/// is on.
public typealias HookError = CoroutineHook.HookError
