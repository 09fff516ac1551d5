import CCoroutineCore

/// How the runtime runs: threads, stacks and the coroutine pool of each thread.
public struct RuntimeConfiguration: Sendable, Equatable {
    /// Scheduler threads, one event loop each. Default: the CPUs this process may use.
    public var threads: Int
    /// Whether each scheduler thread is pinned to one CPU (thread i to CPU i modulo count).
    public var pinsThreads: Bool
    /// Stack bytes of each worker coroutine.
    public var stackSize: Int
    /// Worker coroutines each thread keeps even when idle.
    public var minWorkers: Int
    /// Worker coroutines each thread runs at most; tasks beyond wait in the queues.
    public var maxWorkers: Int
    /// How long a worker beyond `minWorkers` may stay idle before it exits.
    public var keepAlive: Duration
    /// Whether a coroutine that runs `preemptionSlice` without a switch is preempted, so
    /// that the coroutines queued behind it on its thread run (see `Preemption`).
    public var preemption: Bool
    /// How long a coroutine may run without a switch before it is preempted.
    public var preemptionSlice: Duration
    /// Whether coroutines do file I/O through io_uring; when off (or where the kernel has no
    /// io_uring), through the blocking pool.
    public var ioUring: Bool
    /// The most threads of the blocking pool, which makes the calls no event loop can wait
    /// for (name lookups, `waitpid`, `flock`). File I/O without io_uring has a pool of its
    /// own, of twice the CPUs (at least 4).
    public var blockingThreads: Int
    /// The most OS threads the runtime runs at once: scheduler threads, spares, the preemption
    /// monitor and the blocking pools' threads, as Go's `debug.SetMaxThreads` bounds its own.
    /// At the cap a spare is not started (its handoff is refused, and the queued tasks wait for
    /// the held thread) and a blocking-pool thread is not started (its call waits for a running
    /// thread of the pool); where Go crashes at its limit, nothing crashes (Docs/scheduling.md
    /// says what waits, and when blocking calls that wait for one another can wait for good).
    /// At least `threads` + 2, the threads the runtime needs: the scheduler threads, the
    /// monitor, and one blocking-pool thread, without which a blocking call would hold its
    /// scheduler thread. At most 100,000.
    public var maxThreads: Int
    /// What a crash in a coroutine prints besides Swift's backtrace of the crashed thread
    /// (Docs/debugging.md). OPEN_COROUTINE_TRACEBACK=all in the environment asks for
    /// `.allCoroutines` whatever this says, as GOTRACEBACK does for Go.
    public var crashReport: CrashReport
    /// The signal that dumps every coroutine to standard error (`CoroutineDump`), or nil for
    /// none. Off by default: a signal's meaning belongs to the program.
    public var dumpSignal: Int32?
    /// How long a coroutine may hold its scheduler thread inside one call that does not
    /// suspend before the watchdog logs a warning with its backtrace; nil: no watchdog.
    public var blockingWarning: Duration?
    /// How long a scheduler thread may stay in one call that did not suspend (or in code
    /// preemption must skip) while tasks wait in the queues, before a spare thread takes up
    /// those tasks: handoff (Docs/scheduling.md). At most one spare per scheduler thread, started
    /// on first need (while `maxThreads` allows) and kept `keepAlive` after its last task. nil:
    /// no handoff.
    public var handoffAfter: Duration?
    /// Whether a task's join of a task not started yet runs it at once on the joiner's stack
    /// (`JoinHandle.join`), as fork-join pools do. Off, every task gets a coroutine of its own:
    /// what `skynet_noinline` measures (Docs/benchmarks.md).
    public var inlineJoins: Bool

    /// The configuration with every field at its default: the one place the runtime's defaults
    /// are written (the facade's `Config` and the C API's `open_coroutine_init` start from it).
    public init(
        threads: Int = Int(oc_available_cpus()),
        pinsThreads: Bool = true,
        stackSize: Int = StackSize.default,
        minWorkers: Int = 0,
        maxWorkers: Int = 65_536,
        keepAlive: Duration = .seconds(10),
        preemption: Bool = true,
        preemptionSlice: Duration = .milliseconds(10),
        ioUring: Bool = true,
        blockingThreads: Int = RuntimeConfiguration.defaultBlockingThreads,
        maxThreads: Int = RuntimeConfiguration.defaultMaxThreads,
        crashReport: CrashReport = .crashingTask,
        dumpSignal: Int32? = nil,
        blockingWarning: Duration? = .milliseconds(100),
        handoffAfter: Duration? = RuntimeConfiguration.defaultHandoffAfter,
        inlineJoins: Bool = true
    ) {
        self.threads = threads
        self.pinsThreads = pinsThreads
        self.stackSize = stackSize
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
        self.keepAlive = keepAlive
        self.preemption = preemption
        self.preemptionSlice = preemptionSlice
        self.ioUring = ioUring
        self.blockingThreads = blockingThreads
        self.maxThreads = maxThreads
        self.crashReport = crashReport
        self.dumpSignal = dumpSignal
        self.blockingWarning = blockingWarning
        self.handoffAfter = handoffAfter
        self.inlineJoins = inlineJoins
    }

    /// What a crash in a coroutine prints besides Swift's backtrace of the crashed thread.
    public enum CrashReport: Sendable, Equatable {
        /// A line naming the crashing task (id, name) and its thread.
        case crashingTask
        /// That line, then every coroutine: id, name, state, what it waits on, backtrace.
        case allCoroutines
    }

    /// The default `blockingThreads`: enough for a few hundred name lookups at once.
    public static let defaultBlockingThreads = 256

    /// The default `maxThreads`: Go's default for `debug.SetMaxThreads`.
    public static let defaultMaxThreads = 10_000

    /// The default `handoffAfter` (Docs/benchmarks.md, "Handoff", for how it was chosen).
    public static let defaultHandoffAfter: Duration? = .milliseconds(2)

    /// The shortest and longest `handoffAfter`.
    public static let handoffDelays: ClosedRange<Duration> = .microseconds(100) ... .seconds(10)

    /// The shortest and longest `preemptionSlice`.
    public static let preemptionSlices: ClosedRange<Duration> = .milliseconds(1) ... .seconds(60)

    /// The largest number of scheduler threads.
    public static let maximumThreads = 1024

    /// Checks every field; throws a `ConfigurationError` naming the first bad one.
    public func validate() throws(ConfigurationError) {
        try check("threads", threads, in: 1...Self.maximumThreads)
        try check("stackSize", stackSize, in: StackSize.minimum...StackSize.maximum)
        try check("maxWorkers", maxWorkers, in: 1...Int(Int32.max))
        try check("minWorkers", minWorkers, in: 0...maxWorkers)
        try check("blockingThreads", blockingThreads, in: 1...4096)
        // `threads` is checked above, so the range is never empty.
        try check("maxThreads", maxThreads, in: (threads + 2)...100_000)
        guard keepAlive >= .zero else {
            throw ConfigurationError(field: "keepAlive", value: "\(keepAlive)", allowed: ">= 0 seconds")
        }
        if let dumpSignal, !(1..<65).contains(dumpSignal) {
            throw ConfigurationError(field: "dumpSignal", value: "\(dumpSignal)", allowed: "a signal number, 1...64, or nil")
        }
        if let blockingWarning, blockingWarning < .milliseconds(1) {
            throw ConfigurationError(field: "blockingWarning", value: "\(blockingWarning)", allowed: ">= 1 ms, or nil")
        }
        if let handoffAfter, !Self.handoffDelays.contains(handoffAfter) {
            throw ConfigurationError(
                field: "handoffAfter", value: "\(handoffAfter)",
                allowed: "\(Self.handoffDelays.lowerBound)...\(Self.handoffDelays.upperBound), or nil")
        }
        guard Self.preemptionSlices.contains(preemptionSlice) else {
            throw ConfigurationError(
                field: "preemptionSlice", value: "\(preemptionSlice)",
                allowed: "\(Self.preemptionSlices.lowerBound)...\(Self.preemptionSlices.upperBound)")
        }
    }

    private func check(_ field: String, _ value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) {
        guard range.contains(value) else {
            throw ConfigurationError(field: field, value: "\(value)", allowed: "\(range.lowerBound)...\(range.upperBound)")
        }
    }
}

/// A configuration field outside its allowed range. The facade's `Config` throws it too, as
/// `ConfigError`, naming the environment variable instead when the value came from one.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field's name (as `RuntimeConfiguration` and `Config` spell it), or the environment
    /// variable that set it.
    public let field: String
    /// The rejected value, as text.
    public let value: String
    /// What the field accepts.
    public let allowed: String

    /// An error naming `field`, the rejected `value` and what the field `allowed`.
    public init(field: String, value: String, allowed: String) {
        self.field = field
        self.value = value
        self.allowed = allowed
    }

    public var description: String {
        "invalid \(field) \(value): allowed \(allowed)"
    }
}
