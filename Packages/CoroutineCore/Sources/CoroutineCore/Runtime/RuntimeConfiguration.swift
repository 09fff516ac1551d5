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

    /// The configuration with every field at its default.
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
        blockingThreads: Int = RuntimeConfiguration.defaultBlockingThreads
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
    }

    /// The default `blockingThreads`: enough for a few hundred name lookups at once.
    public static let defaultBlockingThreads = 256

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
        guard keepAlive >= .zero else {
            throw ConfigurationError(field: "keepAlive", value: "\(keepAlive)", allowed: ">= 0 seconds")
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

/// A configuration field outside its allowed range.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field's name.
    public let field: String
    /// The rejected value, as text.
    public let value: String
    /// What the field accepts.
    public let allowed: String

    public var description: String {
        "invalid \(field) \(value): allowed \(allowed)"
    }
}
