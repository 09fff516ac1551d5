import CCoroutineHook
import CoroutineCore
import Glibc

// The C API of include/open_coroutine.h: start and stop the runtime, submit tasks and join
// them, from C. Errors are returned as errno values; the last error's text is kept per thread.

/// Tasks handed to C: a retained box per handle, released when the task is joined.
private final class TaskBox {
    let handle: JoinHandle<UInt>

    init(_ handle: JoinHandle<UInt>) {
        self.handle = handle
    }
}

/// The description of the last failure on this thread, for `open_coroutine_last_error`.
private let lastError = ThreadLocalMessage()

/// A per-thread C string that stays valid until the thread's next failure.
private final class ThreadLocalMessage: Sendable {
    private let key: pthread_key_t

    init() {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        self.key = key
    }

    func set(_ message: String) {
        free(pthread_getspecific(key))
        pthread_setspecific(key, strdup(message))
    }

    var current: UnsafePointer<CChar>? {
        pthread_getspecific(key).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
    }
}

/// Records `message` as this thread's last error and returns `code`.
private func fail(_ code: Int32, _ message: String) -> Int32 {
    lastError.set(message)
    return code
}

/// `open_coroutine_init`: starts the runtime with the C configuration (nil: defaults) and
/// switches hooking as asked. 0 on success; EINVAL for a bad configuration, EALREADY when the
/// runtime already runs, EAGAIN when its threads or event loops cannot be created;
/// `OPEN_COROUTINE_HOOKS_INACTIVE` when the runtime started but hooking was asked for and the
/// library does not interpose libc.
@c(oc_api_init)
func openCoroutineInit(
    _ threads: UInt, _ stackSize: UInt, _ minWorkers: UInt, _ maxWorkers: UInt, _ keepAliveNanoseconds: UInt64, _ hook: Bool,
    _ preemptionSliceNanoseconds: UInt64, _ preemption: Bool
) -> Int32 {
    // Clamping keeps an absurd size absurd (and refused by validation) instead of wrapping.
    var configuration = RuntimeConfiguration()
    if threads > 0 { configuration.threads = Int(clamping: threads) }
    if stackSize > 0 { configuration.stackSize = Int(clamping: stackSize) }
    configuration.minWorkers = Int(clamping: minWorkers)
    if maxWorkers > 0 { configuration.maxWorkers = Int(clamping: maxWorkers) }
    if keepAliveNanoseconds > 0 { configuration.keepAlive = .nanoseconds(Int64(clamping: keepAliveNanoseconds)) }
    if preemptionSliceNanoseconds > 0 { configuration.preemptionSlice = .nanoseconds(Int64(clamping: preemptionSliceNanoseconds)) }
    configuration.preemption = preemption
    do {
        try CoroutineRuntime.shared.start(configuration)
    } catch {
        switch error {
        case .invalidConfiguration(let invalid): return fail(EINVAL, describe(invalid))
        case .alreadyRunning: return fail(EALREADY, error.description)
        case .notRunning, .threadCreationFailed, .eventLoopUnavailable, .preemptionUnavailable, .dumpSignalUnavailable:
            return fail(EAGAIN, error.description)
        }
    }
    do {
        try HookLibrary.setEnabled(hook)
    } catch {
        return fail(openCoroutineHooksInactive, error.description)
    }
    return 0
}

/// `invalid` in the C API's words: the field of `open_coroutine_config` it names.
private func describe(_ invalid: ConfigurationError) -> String {
    let fields = [
        "threads": "event_loop_size", "stackSize": "stack_size", "minWorkers": "min_size",
        "maxWorkers": "max_size", "keepAlive": "keep_alive_time", "preemptionSlice": "preemption_slice",
    ]
    return "invalid \(fields[invalid.field] ?? invalid.field) \(invalid.value): allowed \(invalid.allowed)"
}

/// `OPEN_COROUTINE_HOOKS_INACTIVE` of the header.
let openCoroutineHooksInactive: Int32 = 1

/// `open_coroutine_stop`: stops the runtime, waiting up to `seconds` for running tasks. 0 when
/// everything finished; ETIMEDOUT when tasks had to be cancelled or threads were still running.
@c(oc_hook_open_coroutine_stop) @implementation
func openCoroutineStop(_ seconds: UInt64) -> Int32 {
    let report = CoroutineRuntime.shared.stop(timeout: .seconds(Int64(clamping: seconds)))
    guard report.isClean else {
        return fail(ETIMEDOUT, "stop left \(report.unfinishedTasks) tasks unfinished and \(report.threadsStillRunning) threads running")
    }
    return 0
}

/// `task_crate`: submits `function(parameter)` with `priority` (smaller runs sooner); a handle
/// to join, or NULL with the reason in `open_coroutine_last_error` (the runtime is not running).
@c(oc_hook_task_crate) @implementation
func taskCreate(
    _ function: @convention(c) (UInt) -> UInt, _ parameter: UInt, _ priority: Int32
) -> UnsafeMutableRawPointer? {
    do {
        let handle = try CoroutineRuntime.shared.spawn(priority: Int(priority)) { function(parameter) }
        return Unmanaged.passRetained(TaskBox(handle)).toOpaque()
    } catch {
        _ = fail(EAGAIN, error.description)
        return nil
    }
}

/// `task_join`: waits for the task, stores what it returned in `result` (when not NULL) and
/// releases the handle. 0, or ECANCELED when the task was cancelled, even if its function
/// still returned a value (the handle is released too).
@c(oc_hook_task_join) @implementation
func taskJoin(_ task: UnsafeMutableRawPointer, _ result: UnsafeMutablePointer<UInt>?) -> Int32 {
    join(task, result) { try $0.join() }
}

/// `task_timeout_join`: as `task_join`, waiting at most `nanoseconds`; ETIMEDOUT when the task
/// is still running, and the handle stays valid.
@c(oc_hook_task_timeout_join) @implementation
func taskTimeoutJoin(_ task: UnsafeMutableRawPointer, _ nanoseconds: UInt64, _ result: UnsafeMutablePointer<UInt>?) -> Int32 {
    join(task, result) { try $0.join(timeout: .nanoseconds(Int64(clamping: nanoseconds))) }
}

/// `task_cancel`: cancels the task (a task not started never runs; a running one ends at its
/// next suspension). The handle stays valid and must still be joined.
@c(oc_hook_task_cancel) @implementation
func taskCancel(_ task: UnsafeMutableRawPointer) -> Int32 {
    // Sound: the pointer is a handle from task_crate that was not joined yet (the C contract).
    Unmanaged<TaskBox>.fromOpaque(task).takeUnretainedValue().handle.cancel()
    return 0
}

/// `open_coroutine_last_error`: the text of this thread's last failure, or NULL.
@c(oc_hook_open_coroutine_last_error) @implementation
func openCoroutineLastError() -> UnsafePointer<CChar>? {
    lastError.current
}

private func join(
    _ task: UnsafeMutableRawPointer, _ result: UnsafeMutablePointer<UInt>?, _ wait: (JoinHandle<UInt>) throws -> UInt
) -> Int32 {
    // Sound: the pointer is a handle from task_crate that was not joined yet (the C contract).
    let box = Unmanaged<TaskBox>.fromOpaque(task)
    let handle = box.takeUnretainedValue().handle
    let value: UInt
    do {
        value = try wait(handle)
    } catch JoinError.timedOut {
        return fail(ETIMEDOUT, "the task did not finish within the timeout")
    } catch {
        box.release()
        return fail(ECANCELED, "the task was cancelled")
    }
    box.release()
    // A C function cannot be unwound: one that was cancelled sees its blocking calls fail
    // with EINTR and returns, and its value is not the task's result.
    guard !handle.isCancelled else { return fail(ECANCELED, "the task was cancelled") }
    result?.pointee = value
    return 0
}
