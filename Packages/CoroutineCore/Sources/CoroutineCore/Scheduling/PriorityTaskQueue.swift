import Synchronization

/// Tasks submitted with a priority other than the default, shared by all threads, smaller
/// priority first. Workers take those below the default priority before the work-stealing
/// queues, and those above it when the queues are empty.
final class PriorityTaskQueue: Sendable {
    private let heap = Mutex(PriorityHeap<Int, PoolTask>())
    private let count = Atomic<Int>(0)

    func push(_ task: PoolTask) {
        heap.withLock { $0.push(task, key: task.priority) }
        count.add(1, ordering: .releasing)
    }

    /// The first task whose priority is below `bound`, if any.
    func pop(before bound: Int) -> PoolTask? {
        guard count.load(ordering: .acquiring) > 0 else { return nil }
        return heap.withLock { heap -> PoolTask? in
            guard let first = heap.firstKey, first < bound, let task = heap.pop() else { return nil }
            count.subtract(1, ordering: .relaxed)
            return task
        }
    }

    var isEmpty: Bool { count.load(ordering: .acquiring) == 0 }
}
