import Synchronization

/// Totals of the runtime's events since it started, and two gauges of its threads now
/// (`threads`, `heldThreads`), for monitoring (the facade reports them through swift-metrics).
public struct RuntimeCounters: Sendable, Equatable {
    /// Coroutines created: submitted ones and the pools' worker coroutines.
    public var coroutinesCreated: UInt64 = 0
    /// Resumes of a coroutine by a scheduler (each is a switch in and one back out).
    public var switches: UInt64 = 0
    /// Tasks a scheduler thread took from a sibling's queue.
    public var steals: UInt64 = 0
    /// Tasks submitted.
    public var tasksQueued: UInt64 = 0
    /// Waits of coroutines inside the syscall layer (a read that found no data, a sleep, ...).
    public var syscallWaits: UInt64 = 0
    /// Coroutines switched out by preemption at the instruction they were running.
    public var preemptions: UInt64 = 0
    /// Preemption requests that found their coroutine at an unsafe point; it gave way at its
    /// next safe point instead, or at a later request.
    public var deferredPreemptions: UInt64 = 0
    /// File operations of coroutines submitted to io_uring.
    public var ringOperations: UInt64 = 0
    /// Calls of coroutines made on the blocking pool (name lookups, `waitpid`, `flock`, and
    /// file I/O where io_uring is unavailable).
    public var blockingCalls: UInt64 = 0
    /// Tasks that overflowed their stack. Each failed with `CoroutineError.stackOverflow` and
    /// took its worker coroutine with it; the pool makes a new worker when one is needed.
    public var stackOverflows: UInt64 = 0
    /// Warnings of the blocking watchdog: a coroutine held its scheduler thread in one call
    /// that did not suspend for longer than `RuntimeConfiguration.blockingWarning`.
    public var blockingWarnings: UInt64 = 0
    /// Handoffs: times a spare thread took up the queued tasks of a scheduler thread held in
    /// one call longer than `RuntimeConfiguration.handoffAfter`.
    public var handoffs: UInt64 = 0
    /// Spare threads started (a spare that exited after `keepAlive` and is needed again counts
    /// again).
    public var sparesStarted: UInt64 = 0
    /// Handoffs refused by `RuntimeConfiguration.maxThreads`: stretches in which a scheduler
    /// thread was held in one call while tasks waited, no spare was at hand, and starting one
    /// would have exceeded the cap. The tasks waited for the held thread instead. A stretch
    /// counts once, however many of the monitor's samples asked for a spare during it.
    public var handoffsRefused: UInt64 = 0
    /// A gauge, not a total: the OS threads the runtime runs now. Scheduler threads, spares at
    /// work or dormant, the preemption monitor and the blocking pools' threads; what
    /// `RuntimeConfiguration.maxThreads` bounds. The blocking pools serve every start and keep a
    /// thread 10 s after its last call, so after `stop` this is those pool threads (0 once they
    /// have ended).
    public var threads = 0
    /// A gauge, not a total: scheduler threads (spares included) that the preemption monitor
    /// found held in one call past `RuntimeConfiguration.handoffAfter` while tasks waited to
    /// start, at its last sample: the threads handoff gives (or, at `maxThreads`, would give)
    /// a spare (Docs/scheduling.md). The monitor looks only while tasks wait, so a thread held
    /// with nothing queued behind it is not counted. 0 when handoff is off, while every thread
    /// is parked, and after `stop`.
    public var heldThreads = 0

    /// Counters starting at zero.
    public init() {}
}

/// A count that one thread increments and any thread reads: the increment is a plain load
/// and store, with no locked instruction, which is why only the owner may call it.
final class EventCount: Sendable {
    private let value = Atomic<UInt64>(0)

    // Inlined: counted at every switch; a load and a store at the call site.
    @inline(__always)
    func increment() {
        value.store(value.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    var current: UInt64 {
        value.load(ordering: .relaxed)
    }
}

/// What one scheduler counts.
final class SchedulerCounters: Sendable {
    /// Written from any thread that submits, so a real atomic add (submissions are rare
    /// next to switches).
    let coroutinesCreated = Atomic<UInt64>(0)
    /// Written by the scheduler's thread alone.
    let switches = EventCount()
    /// The switches made by a hand-over from one coroutine straight to the next, which
    /// `switches` counts too. Written by the scheduler's thread alone.
    let handOvers = EventCount()
    /// Written by the scheduler's thread alone.
    let syscallWaits = EventCount()
    /// Written by the scheduler's thread alone.
    let ringOperations = EventCount()
    /// Written by the scheduler's thread alone.
    let blockingCalls = EventCount()
    /// Written by the scheduler's thread alone.
    let stackOverflows = EventCount()

    func add(to totals: inout RuntimeCounters) {
        totals.coroutinesCreated &+= coroutinesCreated.load(ordering: .relaxed)
        totals.switches &+= switches.current
        totals.syscallWaits &+= syscallWaits.current
        totals.ringOperations &+= ringOperations.current
        totals.blockingCalls &+= blockingCalls.current
        totals.stackOverflows &+= stackOverflows.current
    }
}
