import CoroutineCore
import Foundation
import Logging

/// How `withCoroutines` runs the runtime.
///
/// Every field has a default, and every field can also come from an environment variable,
/// which is how an operator tunes a deployed binary without rebuilding it: `withCoroutines`
/// applies the variables on top of the configuration the program passes.
///
/// | field | default | environment variable |
/// |---|---|---|
/// | `threads` | the CPUs the process may use | `OPEN_COROUTINE_THREADS` |
/// | `stackSize` | 512 KiB | `OPEN_COROUTINE_STACK_SIZE` (bytes) |
/// | `minWorkers` | 0 | `OPEN_COROUTINE_MIN_POOL_SIZE` |
/// | `maxWorkers` | 65,536 | `OPEN_COROUTINE_MAX_POOL_SIZE` |
/// | `keepAlive` | 10 s | `OPEN_COROUTINE_KEEP_ALIVE_MS` |
/// | `hooks` | on | `OPEN_COROUTINE_HOOKS` (`1`/`0`, `true`/`false`, `on`/`off`, `yes`/`no`) |
/// | `preemption` | on | `OPEN_COROUTINE_PREEMPTION` (the same switch words) |
/// | `preemptionSlice` | 10 ms | `OPEN_COROUTINE_PREEMPTION_SLICE_MS` |
/// | `ioUring` | on | `OPEN_COROUTINE_IO_URING` (a switch) |
/// | `blockingThreads` | 256 | `OPEN_COROUTINE_BLOCKING_THREADS` |
/// | `maxThreads` | 10,000 | `OPEN_COROUTINE_MAX_THREADS` |
/// | `stopTimeout` | 30 s | `OPEN_COROUTINE_STOP_TIMEOUT_MS` |
/// | `metricsInterval` | 1 s | `OPEN_COROUTINE_METRICS_INTERVAL_MS` |
/// | `crashReport` | the crashing task | `OPEN_COROUTINE_TRACEBACK` (`all`, or `single` for the crashing task) |
/// | `dumpSignal` | none | `OPEN_COROUTINE_DUMP_SIGNAL` (a number, or a name such as `SIGUSR1`; `off`) |
/// | `blockingWarning` | 100 ms | `OPEN_COROUTINE_BLOCKING_WARNING_MS` (`0` or `off`: no watchdog) |
/// | `handoffAfter` | 2 ms | `OPEN_COROUTINE_HANDOFF_AFTER_US` (microseconds; `0` or `off`: no handoff) |
/// | `logger` | standard error, warnings and above | — |
public struct Config: Sendable, Equatable {
    /// The fields of the runtime itself, with their defaults and their validation: one source
    /// for this type and for the C API's `open_coroutine_init`.
    var runtime: RuntimeConfiguration

    /// Scheduler threads, each with its event loop.
    public var threads: Int {
        get { runtime.threads }
        set { runtime.threads = newValue }
    }
    /// Stack bytes of each coroutine that runs tasks.
    public var stackSize: Int {
        get { runtime.stackSize }
        set { runtime.stackSize = newValue }
    }
    /// Worker coroutines each thread keeps even when idle.
    public var minWorkers: Int {
        get { runtime.minWorkers }
        set { runtime.minWorkers = newValue }
    }
    /// Worker coroutines each thread may have; further tasks wait in the queues.
    public var maxWorkers: Int {
        get { runtime.maxWorkers }
        set { runtime.maxWorkers = newValue }
    }
    /// How long a worker beyond `minWorkers` may stay idle before it exits.
    public var keepAlive: Duration {
        get { runtime.keepAlive }
        set { runtime.keepAlive = newValue }
    }
    /// Whether libc's blocking calls made in tasks suspend only their task (the hook library).
    public var hooks: Bool
    /// Whether a task that runs `preemptionSlice` without a switch is preempted, so that the
    /// tasks queued behind it on its thread run.
    public var preemption: Bool {
        get { runtime.preemption }
        set { runtime.preemption = newValue }
    }
    /// How long a task may run without a switch before it is preempted (1 ms to 60 s).
    public var preemptionSlice: Duration {
        get { runtime.preemptionSlice }
        set { runtime.preemptionSlice = newValue }
    }
    /// Whether tasks do file I/O through io_uring; off (or without io_uring in the kernel),
    /// through a small pool of threads.
    public var ioUring: Bool {
        get { runtime.ioUring }
        set { runtime.ioUring = newValue }
    }
    /// The most threads that make the calls no event loop can wait for (name lookups,
    /// `waitpid`, `flock`) while their tasks wait (1 to 4,096).
    public var blockingThreads: Int {
        get { runtime.blockingThreads }
        set { runtime.blockingThreads = newValue }
    }
    /// The most OS threads the runtime runs at once (scheduler threads, spares, the preemption
    /// monitor, blocking-pool threads), as Go's `debug.SetMaxThreads`: `threads` + 2 to 100,000.
    /// At the cap a spare or a blocking-pool thread is not started and its work waits; unlike
    /// Go, nothing crashes. Docs/scheduling.md says what waits.
    public var maxThreads: Int {
        get { runtime.maxThreads }
        set { runtime.maxThreads = newValue }
    }
    /// How long `withCoroutines` waits for unfinished tasks when the body ends; the rest is cancelled.
    public var stopTimeout: Duration
    /// How often the runtime's counters are reported through swift-metrics, as these counters
    /// (totals) and gauges (values now):
    ///
    /// | label | what |
    /// |---|---|
    /// | `opencoroutine_coroutines_created` | submitted coroutines and the pools' worker coroutines |
    /// | `opencoroutine_switches` | resumes of a coroutine by a scheduler |
    /// | `opencoroutine_steals` | tasks one scheduler thread took from another's queue |
    /// | `opencoroutine_tasks_queued` | tasks submitted |
    /// | `opencoroutine_syscall_waits` | waits inside the syscall layer |
    /// | `opencoroutine_preemptions` | coroutines preempted at the instruction they were running |
    /// | `opencoroutine_deferred_preemptions` | preemption requests that found an unsafe point |
    /// | `opencoroutine_ring_operations` | file operations of tasks submitted to io_uring |
    /// | `opencoroutine_blocking_calls` | calls of tasks made on the blocking pool |
    /// | `opencoroutine_stack_overflows` | tasks that overflowed their stack (each lost its worker) |
    /// | `opencoroutine_handoffs_refused` | handoffs `maxThreads` refused (the queued tasks waited) |
    /// | `opencoroutine_threads` | gauge: the OS threads the runtime runs now |
    /// | `opencoroutine_held_threads` | gauge: scheduler threads held in one call past `handoffAfter` while tasks wait |
    ///
    /// Nothing is reported unless the program bootstraps a metrics backend
    /// (`MetricsSystem.bootstrap`).
    public var metricsInterval: Duration
    /// What a crash in a task prints besides Swift's backtrace of the crashed thread: the
    /// crashing task's line, or every coroutine with its state and backtrace (Docs/debugging.md).
    public var crashReport: CrashReport {
        get { runtime.crashReport }
        set { runtime.crashReport = newValue }
    }
    /// The signal that dumps every coroutine to standard error, or nil for none. `SIGQUIT` is
    /// Go's choice, but in a Swift program it ends the process with a core dump by default;
    /// `SIGUSR1` or `SIGUSR2` are free unless the program uses them.
    public var dumpSignal: Int32? {
        get { runtime.dumpSignal }
        set { runtime.dumpSignal = newValue }
    }
    /// How long a task may hold its scheduler thread inside one call that does not suspend
    /// before the watchdog logs a warning that names it (1 ms or more); nil: no watchdog.
    public var blockingWarning: Duration? {
        get { runtime.blockingWarning }
        set { runtime.blockingWarning = newValue }
    }
    /// How long a task may hold its scheduler thread in one call that does not suspend (or in
    /// code preemption must skip) while other tasks wait to start, before a spare thread
    /// starts them: handoff (100 µs to 10 s; nil: none). Docs/scheduling.md says what moves.
    public var handoffAfter: Duration? {
        get { runtime.handoffAfter }
        set { runtime.handoffAfter = newValue }
    }
    /// Where the runtime's warnings go, or nil for standard error at level `warning`.
    public var logger: Logger?

    /// What a crash in a task prints besides Swift's backtrace of the crashed thread.
    public typealias CrashReport = RuntimeConfiguration.CrashReport

    /// The configuration with every field at its default. The runtime's fields take the
    /// runtime's own defaults (`RuntimeConfiguration`), which the C API starts from too.
    public init(
        threads: Int = RuntimeConfiguration().threads,
        stackSize: Int = RuntimeConfiguration().stackSize,
        minWorkers: Int = RuntimeConfiguration().minWorkers,
        maxWorkers: Int = RuntimeConfiguration().maxWorkers,
        keepAlive: Duration = RuntimeConfiguration().keepAlive,
        hooks: Bool = true,
        preemption: Bool = RuntimeConfiguration().preemption,
        preemptionSlice: Duration = RuntimeConfiguration().preemptionSlice,
        ioUring: Bool = RuntimeConfiguration().ioUring,
        blockingThreads: Int = RuntimeConfiguration().blockingThreads,
        maxThreads: Int = RuntimeConfiguration().maxThreads,
        stopTimeout: Duration = .seconds(30),
        metricsInterval: Duration = .seconds(1),
        crashReport: CrashReport = RuntimeConfiguration().crashReport,
        dumpSignal: Int32? = RuntimeConfiguration().dumpSignal,
        blockingWarning: Duration? = RuntimeConfiguration().blockingWarning,
        handoffAfter: Duration? = RuntimeConfiguration().handoffAfter,
        logger: Logger? = nil
    ) {
        runtime = RuntimeConfiguration(
            threads: threads, stackSize: stackSize, minWorkers: minWorkers, maxWorkers: maxWorkers, keepAlive: keepAlive,
            preemption: preemption, preemptionSlice: preemptionSlice, ioUring: ioUring, blockingThreads: blockingThreads,
            maxThreads: maxThreads, crashReport: crashReport, dumpSignal: dumpSignal, blockingWarning: blockingWarning, handoffAfter: handoffAfter)
        self.hooks = hooks
        self.stopTimeout = stopTimeout
        self.metricsInterval = metricsInterval
        self.logger = logger
    }

    /// Whether two configurations run the runtime alike. Loggers have no identity to compare:
    /// two are alike when their labels and levels are.
    public static func == (lhs: Config, rhs: Config) -> Bool {
        lhs.runtime == rhs.runtime && lhs.hooks == rhs.hooks
            && lhs.stopTimeout == rhs.stopTimeout && lhs.metricsInterval == rhs.metricsInterval
            && lhs.logger?.label == rhs.logger?.label && lhs.logger?.logLevel == rhs.logger?.logLevel
    }

    /// Checks every field: the runtime's as the runtime checks them, then the facade's own.
    ///
    /// - Throws: `ConfigError` naming the first bad field and its allowed range.
    public func validate() throws(ConfigError) {
        try runtime.validate()
        guard stopTimeout >= .zero else {
            throw ConfigError(field: "stopTimeout", value: "\(stopTimeout)", allowed: ">= 0 seconds")
        }
        guard metricsInterval >= .milliseconds(1) else {
            throw ConfigError(field: "metricsInterval", value: "\(metricsInterval)", allowed: ">= 1 millisecond")
        }
    }

    /// This configuration with the fields that `environment` sets replaced.
    ///
    /// - Throws: `ConfigError` naming the variable when a value is not a number (or, for the
    ///   switches, not a switch), or is out of its field's range.
    public func overridden(by environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> Config {
        let config = try applying(environment)
        do {
            try config.validate()
        } catch {
            // A bad value that came from a variable is the variable's: name it, not the field.
            if let variable = Self.variables[error.field], let text = environment[variable] {
                throw ConfigError(field: variable, value: text, allowed: error.allowed)
            }
        }
        return config
    }

    /// The `OPEN_COROUTINE_` variables of `environment` that no field reads (a misspelling,
    /// most likely), sorted.
    public static func unknownVariables(in environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let known = Set(variables.values).union(["OPEN_COROUTINE_TRACEBACK"])
        return environment.keys.filter { $0.hasPrefix("OPEN_COROUTINE_") && !known.contains($0) }.sorted()
    }

    /// The variable of each field that has one.
    private static let variables = [
        "threads": "OPEN_COROUTINE_THREADS", "stackSize": "OPEN_COROUTINE_STACK_SIZE",
        "minWorkers": "OPEN_COROUTINE_MIN_POOL_SIZE", "maxWorkers": "OPEN_COROUTINE_MAX_POOL_SIZE",
        "keepAlive": "OPEN_COROUTINE_KEEP_ALIVE_MS", "stopTimeout": "OPEN_COROUTINE_STOP_TIMEOUT_MS",
        "metricsInterval": "OPEN_COROUTINE_METRICS_INTERVAL_MS", "preemptionSlice": "OPEN_COROUTINE_PREEMPTION_SLICE_MS",
        "hooks": "OPEN_COROUTINE_HOOKS", "preemption": "OPEN_COROUTINE_PREEMPTION", "ioUring": "OPEN_COROUTINE_IO_URING",
        "blockingThreads": "OPEN_COROUTINE_BLOCKING_THREADS", "maxThreads": "OPEN_COROUTINE_MAX_THREADS",
        "dumpSignal": "OPEN_COROUTINE_DUMP_SIGNAL",
        "blockingWarning": "OPEN_COROUTINE_BLOCKING_WARNING_MS", "handoffAfter": "OPEN_COROUTINE_HANDOFF_AFTER_US",
    ]

    /// This configuration with the fields `environment` sets replaced, unchecked.
    private func applying(_ environment: [String: String]) throws(ConfigError) -> Config {
        var config = self
        try Self.read("OPEN_COROUTINE_THREADS", from: environment) { config.threads = $0 }
        try Self.read("OPEN_COROUTINE_STACK_SIZE", from: environment) { config.stackSize = $0 }
        try Self.read("OPEN_COROUTINE_MIN_POOL_SIZE", from: environment) { config.minWorkers = $0 }
        try Self.read("OPEN_COROUTINE_MAX_POOL_SIZE", from: environment) { config.maxWorkers = $0 }
        try Self.read("OPEN_COROUTINE_KEEP_ALIVE_MS", from: environment) { config.keepAlive = .milliseconds($0) }
        try Self.read("OPEN_COROUTINE_STOP_TIMEOUT_MS", from: environment) { config.stopTimeout = .milliseconds($0) }
        try Self.read("OPEN_COROUTINE_METRICS_INTERVAL_MS", from: environment) { config.metricsInterval = .milliseconds($0) }
        try Self.read("OPEN_COROUTINE_PREEMPTION_SLICE_MS", from: environment) { config.preemptionSlice = .milliseconds($0) }
        try Self.readSwitch("OPEN_COROUTINE_HOOKS", from: environment) { config.hooks = $0 }
        try Self.readSwitch("OPEN_COROUTINE_PREEMPTION", from: environment) { config.preemption = $0 }
        try Self.readSwitch("OPEN_COROUTINE_IO_URING", from: environment) { config.ioUring = $0 }
        try Self.read("OPEN_COROUTINE_BLOCKING_THREADS", from: environment) { config.blockingThreads = $0 }
        try Self.read("OPEN_COROUTINE_MAX_THREADS", from: environment) { config.maxThreads = $0 }
        try Self.readTraceback(from: environment) { config.crashReport = $0 }
        try Self.readSignal("OPEN_COROUTINE_DUMP_SIGNAL", from: environment) { config.dumpSignal = $0 }
        try Self.readOptional("OPEN_COROUTINE_BLOCKING_WARNING_MS", from: environment) {
            config.blockingWarning = $0.map { .milliseconds($0) }
        }
        try Self.readOptional("OPEN_COROUTINE_HANDOFF_AFTER_US", from: environment) {
            config.handoffAfter = $0.map { .microseconds($0) }
        }
        return config
    }

    private static func read(
        _ name: String, from environment: [String: String], into apply: (Int) -> Void
    ) throws(ConfigError) {
        guard let text = environment[name] else { return }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(field: name, value: text, allowed: "a whole number")
        }
        apply(value)
    }

    /// A whole number, or `0`/`off` for nil.
    private static func readOptional(
        _ name: String, from environment: [String: String], into apply: (Int?) -> Void
    ) throws(ConfigError) {
        guard let text = environment[name] else { return }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "off" || trimmed == "0" { return apply(nil) }
        guard let value = Int(trimmed) else {
            throw ConfigError(field: name, value: text, allowed: "a whole number, or 0 or off")
        }
        apply(value)
    }

    /// A signal as a number (`10`) or a name (`SIGUSR1`, `usr1`), or `off` for nil.
    private static func readSignal(
        _ name: String, from environment: [String: String], into apply: (Int32?) -> Void
    ) throws(ConfigError) {
        guard let text = environment[name] else { return }
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        if trimmed == "OFF" || trimmed == "0" { return apply(nil) }
        let bare = trimmed.hasPrefix("SIG") ? String(trimmed.dropFirst(3)) : trimmed
        if let number = Int32(bare) { return apply(number) }
        guard let number = signalNumbers[bare] else {
            throw ConfigError(field: name, value: text, allowed: "a signal number or name (SIGUSR1), or off")
        }
        apply(number)
    }

    /// The signals a dump may sensibly answer, by name without `SIG`.
    private static let signalNumbers: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "USR1": SIGUSR1, "USR2": SIGUSR2, "PWR": SIGPWR,
        "WINCH": SIGWINCH, "URG": SIGURG, "TTIN": SIGTTIN, "TTOU": SIGTTOU,
    ]

    /// `OPEN_COROUTINE_TRACEBACK`: `all` for every coroutine, `single` (or `none`) for the
    /// crashing task only, as GOTRACEBACK's `all` and `single`.
    private static func readTraceback(
        from environment: [String: String], into apply: (CrashReport) -> Void
    ) throws(ConfigError) {
        let name = "OPEN_COROUTINE_TRACEBACK"
        guard let text = environment[name] else { return }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "all": apply(.allCoroutines)
        case "single", "none", "": apply(.crashingTask)
        default: throw ConfigError(field: name, value: text, allowed: "all, single")
        }
    }

    private static func readSwitch(
        _ name: String, from environment: [String: String], into apply: (Bool) -> Void
    ) throws(ConfigError) {
        guard let text = environment[name] else { return }
        switch text.lowercased() {
        case "1", "true", "on", "yes": apply(true)
        case "0", "false", "off", "no": apply(false)
        default: throw ConfigError(field: name, value: text, allowed: "1, 0, true, false, on, off, yes, no")
        }
    }
}

/// A configuration value outside what it allows: the field, or the environment variable that
/// set it, the rejected value and what the field accepts. The runtime's own error type, so that
/// `Config`, `RuntimeError.invalidConfiguration` and the C API name a bad value alike.
public typealias ConfigError = ConfigurationError
