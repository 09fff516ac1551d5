import Glibc
import Synchronization

/// Why an OS thread did not start.
enum ThreadStartFailure: Error {
    /// `RuntimeConfiguration.maxThreads` threads run already, and the runtime can do without
    /// this one (`startThread(refusable:)`).
    case atMaxThreads
    /// `pthread_create` failed with this error number.
    case system(errno: Int32)

    /// The error number to report: `pthread_create`'s, or EAGAIN at `maxThreads`, the number
    /// `pthread_create` gives at the system's own thread limit.
    var errno: Int32 {
        switch self {
        case .atMaxThreads: EAGAIN
        case .system(let errno): errno
        }
    }
}

/// Starts an OS thread that runs `body` and ends; returns its handle, for joining or detaching.
///
/// The one place the runtime's threads (scheduler threads and spares, the preemption monitor,
/// the blocking pools' workers) are created, and so the one place they are counted against
/// `RuntimeConfiguration.maxThreads` (`RuntimeThreads`).
///
/// - Parameter refusable: for a thread the runtime can do without (a spare, a blocking-pool
///   worker), what its refusal means, for the warning: it is not started when `maxThreads`
///   threads run already. nil for the scheduler threads and the monitor, without which the
///   runtime does not run: they are counted, never refused (validation keeps `maxThreads` above
///   them).
func startThread(
    refusable: String? = nil, _ body: @escaping @Sendable () -> Void
) throws(ThreadStartFailure) -> pthread_t {
    if let refusable {
        guard RuntimeThreads.admit(refusable) else { throw .atMaxThreads }
    } else {
        RuntimeThreads.count.add(1, ordering: .relaxed)
    }
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        // Sound: `startThread` passed a retained box, taken back here once.
        Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().run()
        RuntimeThreads.count.subtract(1, ordering: .relaxed)
        return nil
    }, box)
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        RuntimeThreads.count.subtract(1, ordering: .relaxed)
        throw .system(errno: result)
    }
    return thread
}

/// The OS threads the runtime runs now, and `RuntimeConfiguration.maxThreads`, the most it may.
///
/// Process-wide, not per start: the blocking pools serve every start of the runtime and their
/// threads outlive a stop (they end 10 s after their last call), so a count kept per start
/// would lose them, and the next start would run more threads than its cap.
enum RuntimeThreads {
    /// Threads started by `startThread` whose body has not returned yet.
    static let count = Atomic<Int>(0)
    /// The running configuration's `maxThreads`; the default while no runtime runs, so that a
    /// small cap of a runtime that stopped binds no standalone scheduler's blocking calls.
    private static let limit = Atomic<Int>(RuntimeConfiguration.defaultMaxThreads)
    /// Whether a refusal was logged since the last start: the first is news to the operator,
    /// the rest (the monitor asks for a spare every tick) would only flood the log.
    private static let warned = Atomic<Bool>(false)

    /// Takes the cap of a configuration being started, and logs its next refusal again.
    static func start(limit: Int) {
        self.limit.store(limit, ordering: .relaxed)
        warned.store(false, ordering: .relaxed)
    }

    /// The cap in force now.
    static var cap: Int {
        limit.load(ordering: .relaxed)
    }

    /// Gives the default cap back when the runtime stops.
    static func stop() {
        limit.store(RuntimeConfiguration.defaultMaxThreads, ordering: .relaxed)
    }

    /// Counts one more thread if fewer than `maxThreads` run; false if not, logging the first
    /// refusal since the start with `refusal`, what it means.
    static func admit(_ refusal: String) -> Bool {
        let cap = self.cap
        var current = count.load(ordering: .relaxed)
        // A compare-and-swap, not an add undone on overflow: racing starts must never push the
        // count past the cap, not even for a moment (the `threads` gauge shows it).
        while current < cap {
            let (exchanged, original) = count.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        if !warned.exchange(true, ordering: .relaxed) {
            CoroutineLogging.logger.warning(
                "maxThreads \(cap) reached: \(refusal) (further refusals are not logged until the next start)")
        }
        return false
    }
}

/// What a new thread runs, boxed to cross `pthread_create`'s one pointer argument.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}
