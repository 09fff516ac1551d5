import CoroutineCore
import CoroutineHook
import Logging

/// Runs `body` with the runtime started, then stops the runtime however `body` ends:
/// by returning, throwing or an early return.
///
/// The runtime starts with `config`, overridden by the environment variables `Config`
/// documents. When `body` is done, `withCoroutines` waits up to `config.stopTimeout` for the
/// tasks still running and cancels the rest. `body` runs on the calling thread; submit work
/// with `co`.
///
/// ```swift
/// try withCoroutines {
///     let pages = (1...3).map { n in try co { fetch(page: n) } }
///     for page in pages { print(try page.join()) }
/// }
/// ```
///
/// An `OPEN_COROUTINE_` variable that no field reads (a misspelling, most likely) is warned
/// about on the runtime's logger.
///
/// - Throws: `ConfigError` for a bad configuration, or naming the environment variable whose
///   value is bad;
///   `RuntimeError` when the runtime cannot start (it already runs, or its threads cannot
///   be created); `HookError` when hooks are asked for and the hook library does not
///   interpose libc (set `hooks` to false to run without them); whatever `body` throws.
@available(*, noasync, message: "it blocks the calling thread until the runtime stops; start the runtime from synchronous code")
public func withCoroutines<Value>(_ config: Config = Config(), _ body: () throws -> Value) throws -> Value {
    try config.validate()
    let effective = try config.overridden()
    let previousLogger = CoroutineLogging.logger
    if let logger = effective.logger { CoroutineLogging.logger = logger }
    // The runtime logs until its stop has returned: the previous logger comes back after it.
    defer { CoroutineLogging.logger = previousLogger }
    for variable in Config.unknownVariables() {
        CoroutineLogging.logger.warning("\(variable) is not a variable OpenCoroutine reads (Config lists them); ignored")
    }
    try CoroutineRuntime.shared.start(effective.runtime)
    let metrics = RuntimeMetrics(interval: effective.metricsInterval)
    metrics.start()
    defer {
        stopRuntime(waitingUpTo: effective.stopTimeout)
        metrics.stop()
    }
    try HookLibrary.setEnabled(effective.hooks)
    return try body()
}

private func stopRuntime(waitingUpTo timeout: Duration) {
    let report = CoroutineRuntime.shared.stop(timeout: timeout)
    if !report.isClean {
        CoroutineLogging.logger.warning(
            "stopped with \(report.unfinishedTasks) tasks cancelled and \(report.threadsStillRunning) threads still running")
    }
}

/// A program type whose `run()` runs on coroutines: mark it `@main`, and the default `main()`
/// wraps `run()` in `withCoroutines` with the type's `config`.
///
/// ```swift
/// @main struct Server: CoroutineApp {
///     func run() throws {
///         for port in 8000..<8100 { try co { try listen(on: port) } }
///     }
/// }
/// ```
public protocol CoroutineApp {
    /// The configuration `main` starts the runtime with (the environment still overrides it).
    static var config: Config { get }

    /// Creates the program; `main` calls it once the runtime has started.
    init()

    /// The program; `main` stops the runtime once it returns or throws.
    func run() throws
}

extension CoroutineApp {
    /// The default configuration.
    public static var config: Config { Config() }

    /// Runs `run()` on a new instance inside `withCoroutines`.
    public static func main() throws {
        try withCoroutines(config) { try Self().run() }
    }
}

/// Submits `body` to the runtime as a task and returns its handle; smaller `priority` values
/// run sooner. Works inside tasks and on plain threads.
///
/// - Throws: `RuntimeError.notRunning` outside `withCoroutines` (or a started
///   `CoroutineRuntime`).
@discardableResult
public func co<Value: Sendable>(
    name: String? = nil, priority: Int = 0, _ body: @escaping @Sendable () throws -> Value
) throws(RuntimeError) -> JoinHandle<Value> {
    try CoroutineRuntime.shared.spawn(name: name, priority: priority, body)
}
