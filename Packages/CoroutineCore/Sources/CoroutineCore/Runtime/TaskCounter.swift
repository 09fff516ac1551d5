import Synchronization

/// Counts task starts minus task ends on one thread.
///
/// Each scheduler thread has its own counter (and all other threads share one), written only
/// by that thread: a task counts up where it is spawned and down where it ends, so spawning
/// and finishing never bounce a shared cache line between cores. A single counter may go
/// negative; the sum over all counters is the number of unfinished tasks, which the runtime
/// computes only when stopping.
@usableFromInline
final class TaskCounter: Sendable {
    private let balance = Atomic<Int>(0)
    /// Tasks started here so far (never decreases).
    private let started = Atomic<UInt64>(0)
    /// Whether several threads may write this counter (the one for non-scheduler threads).
    private let shared: Bool

    init(shared: Bool) {
        self.shared = shared
    }

    var count: Int {
        balance.load(ordering: .acquiring)
    }

    /// Tasks started on this counter's thread(s) so far.
    var startedCount: UInt64 {
        started.load(ordering: .relaxed)
    }

    func add(_ delta: Int) {
        if shared {
            balance.add(delta, ordering: .acquiringAndReleasing)
            if delta > 0 {
                started.wrappingAdd(UInt64(delta), ordering: .relaxed)
            }
        } else {
            // Single writer: a plain read and store, no locked instruction.
            balance.store(balance.load(ordering: .relaxed) &+ delta, ordering: .releasing)
            if delta > 0 {
                started.store(started.load(ordering: .relaxed) &+ UInt64(delta), ordering: .relaxed)
            }
        }
    }
}
