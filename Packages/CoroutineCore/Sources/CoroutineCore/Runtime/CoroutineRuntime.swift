import CCoroutineCore
import Synchronization

/// Why the runtime refused a request.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `start` was called while the runtime runs.
    case alreadyRunning
    /// Work was submitted while the runtime is not running (never started, or stopping).
    case notRunning
    /// The configuration was rejected.
    case invalidConfiguration(ConfigurationError)
    /// The system refused a scheduler thread; the payload is the error number.
    case threadCreationFailed(errno: Int32)
    /// The system refused a scheduler thread's event loop (epoll or eventfd).
    case eventLoopUnavailable(SystemError)
    /// The system refused the preemption signal's handler; the payload is the error number.
    case preemptionUnavailable(errno: Int32)
    /// The system refused the dump signal's handler or thread; the payload is the error number.
    case dumpSignalUnavailable(errno: Int32)

    public var description: String {
        switch self {
        case .alreadyRunning:
            return "the runtime is already running: withCoroutines and CoroutineRuntime.start do not nest; "
                + "submit tasks to the running runtime (co, spawn) instead, or stop it first"
        case .notRunning: return "the runtime is not running"
        case .invalidConfiguration(let error): return "\(error)"
        case .threadCreationFailed(let code): return "a scheduler thread could not be created (errno \(code))"
        case .eventLoopUnavailable(let error): return "a scheduler thread's event loop could not be created: \(error)"
        case .preemptionUnavailable(let code): return "the preemption signal's handler could not be installed (errno \(code))"
        case .dumpSignalUnavailable(let code): return "the dump signal's handler could not be installed (errno \(code))"
        }
    }
}

/// What a stop left behind.
public struct StopReport: Sendable, Equatable {
    /// Tasks that had not finished when the stop's timeout passed; they were cancelled.
    public let unfinishedTasks: Int
    /// Scheduler threads still running when `stop` returned (a task that ignores its
    /// cancellation keeps its thread until it ends).
    public let threadsStillRunning: Int

    /// Whether everything finished in time and every thread exited.
    public var isClean: Bool { unfinishedTasks == 0 && threadsStillRunning == 0 }
}

/// A snapshot of the runtime's pools.
public struct RuntimeStatistics: Sendable, Equatable {
    /// One scheduler thread's pool.
    public struct Thread: Sendable, Equatable {
        /// Worker coroutines alive: running, blocked in a task, or idle.
        public let workers: Int
        /// Worker coroutines waiting for a task.
        public let idleWorkers: Int
    }

    /// Per scheduler thread, in thread order.
    public let threads: [Thread]
}

/// The process's coroutine runtime: scheduler threads with their pools of worker
/// coroutines, fed by work-stealing task queues.
///
/// ```swift
/// try CoroutineRuntime.shared.start()
/// let handle = try CoroutineRuntime.shared.spawn { 6 * 7 }
/// print(try handle.join())            // 42
/// _ = CoroutineRuntime.shared.stop()
/// ```
///
/// Tasks submitted from a scheduler thread go to that thread's local queue; others go to
/// the global queue. Idle threads park in their event loop's `epoll_wait` and use no CPU
/// until work arrives.
public final class CoroutineRuntime: Sendable {
    /// The runtime of this process.
    public static let shared = CoroutineRuntime()

    private let running = Mutex<RuntimeGeneration?>(nil)
    /// The running generation, readable without the lock on the spawn path.
    private let published = Atomic<Unmanaged<RuntimeGeneration>?>(nil)
    /// Every generation ever started. A racing `spawn` may still hold an unretained pointer
    /// to a stopped one, so generations (a few hundred bytes each) are never freed.
    private let generations = Mutex<[RuntimeGeneration]>([])

    private init() {}

    /// Whether the runtime runs.
    public var isRunning: Bool {
        running.withLock { $0 != nil }
    }

    /// The configuration of the running runtime.
    public var configuration: RuntimeConfiguration? {
        running.withLock { $0?.configuration }
    }

    /// Worker coroutines per scheduler thread right now, or nil when not running.
    public var statistics: RuntimeStatistics? {
        running.withLock { generation in
            generation.map { generation in
                RuntimeStatistics(threads: generation.threads.map {
                    RuntimeStatistics.Thread(
                        workers: $0.pool.publishedTotal.load(ordering: .relaxed),
                        idleWorkers: $0.pool.publishedIdle.load(ordering: .relaxed))
                })
            }
        }
    }

    /// Totals of the runtime's events since it last started (once it stopped, that run's
    /// final totals) and the gauges as they read now, or nil before its first start.
    public var counters: RuntimeCounters? {
        generations.withLock { $0.last?.counters }
    }

    /// CPU time used so far by the runtime's own threads, the scheduler threads and the
    /// preemption monitor (to check that an idle runtime idles).
    public func threadsCPUTime() -> Duration {
        running.withLock { generation in
            generation.map { .nanoseconds($0.threadsCPUNanoseconds) } ?? .zero
        }
    }

    /// Starts the scheduler threads.
    ///
    /// - Throws: `RuntimeError.invalidConfiguration` naming the bad field,
    ///   `RuntimeError.alreadyRunning`, or `RuntimeError.threadCreationFailed`.
    public func start(_ configuration: RuntimeConfiguration = RuntimeConfiguration()) throws(RuntimeError) {
        do {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        try running.withLock { (running) throws(RuntimeError) in
            guard running == nil else { throw .alreadyRunning }
            BlockingPool.waits.limit = configuration.blockingThreads
            RuntimeThreads.start(limit: configuration.maxThreads)
            // Which code is the program's: preemption and the hook library's lock hooks ask.
            oc_preempt_refresh_code()
            try Diagnostics.install(configuration)
            let generation = RuntimeGeneration(configuration: configuration)
            generations.withLock { $0.append(generation) }
            try generation.startThreads()
            running = generation
            published.store(Unmanaged.passUnretained(generation), ordering: .releasing)
        }
    }

    /// Stops the runtime: no new work is accepted, running and queued work gets up to
    /// `timeout` to finish, then what is left is cancelled and the threads exit.
    @discardableResult
    public func stop(timeout: Duration = .seconds(30)) -> StopReport {
        guard let generation = running.withLock({ $0 }) else {
            return StopReport(unfinishedTasks: 0, threadsStillRunning: 0)
        }
        let report = generation.stop(deadline: deadlineNanoseconds(after: timeout))
        running.withLock { running in
            running = nil
            published.store(nil, ordering: .releasing)
            RuntimeThreads.stop()
        }
        return report
    }

    /// Submits `body` as a task; returns its handle.
    ///
    /// - Throws: `RuntimeError.notRunning` when the runtime is not running.
    @inlinable
    @discardableResult
    public func spawn<Value: Sendable>(
        name: String? = nil,
        priority: Int = 0,
        _ body: @escaping @Sendable () throws -> Value
    ) throws(RuntimeError) -> JoinHandle<Value> {
        let task = try submitTask(name: name, priority: priority) { task in
            do {
                task.value = try body()
            } catch {
                task.error = error
            }
        }
        return JoinHandle(task: task)
    }

    /// Makes a task of `job` and queues it on the running generation.
    @usableFromInline
    func submitTask(
        name: String?, priority: Int, job: @escaping (PoolTask) -> Void
    ) throws(RuntimeError) -> PoolTask {
        guard let published = published.load(ordering: .acquiring) else { throw .notRunning }
        // Sound: generations are never freed (see `published`). Borrowed, because every thread
        // that spawns would otherwise retain and release the one generation object per task.
        let task: PoolTask? = published._withUnsafeGuaranteedRef { generation in
            guard generation.phase == .running else { return nil }
            let task = generation.makeTask(name: name, priority: priority, job: job)
            generation.submit(task)
            return task
        }
        guard let task else { throw .notRunning }
        return task
    }
}
