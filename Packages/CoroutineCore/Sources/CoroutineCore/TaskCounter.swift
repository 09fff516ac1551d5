import Synchronization

/// Counts the tasks submitted through one thread that have not finished yet.
///
/// Each scheduler thread has its own counter, and so do all other threads together, so
/// that spawning and finishing tasks does not bounce one shared cache line between cores.
/// A task is counted up where it was spawned and down by the same counter, wherever it
/// ends; the runtime adds the counters up only when stopping.
@usableFromInline
final class TaskCounter: Sendable {
    private let outstanding = Atomic<Int>(0)
    /// Called when this counter's tasks may all have finished.
    private let drained: @Sendable () -> Void

    init(drained: @escaping @Sendable () -> Void) {
        self.drained = drained
    }

    var count: Int {
        outstanding.load(ordering: .acquiring)
    }

    func started() {
        outstanding.add(1, ordering: .relaxed)
    }

    func finished() {
        if outstanding.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            drained()
        }
    }
}
