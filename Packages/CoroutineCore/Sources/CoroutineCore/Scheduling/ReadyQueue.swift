import DequeModule

/// The coroutines of one scheduler that can run now, smaller priority first, FIFO within a
/// priority.
///
/// Almost everything runs at the default priority, so that path is a plain deque; other
/// priorities go to a heap. Owner-thread only.
struct ReadyQueue {
    /// The priority of everything submitted without one.
    static let defaultPriority = 0

    private var common = Deque<ScheduledCoroutine>()
    private var prioritized = PriorityHeap<Int, ScheduledCoroutine>()

    var isEmpty: Bool { common.isEmpty && prioritized.isEmpty }
    var count: Int { common.count + prioritized.count }

    mutating func push(_ coroutine: ScheduledCoroutine, priority: Int = defaultPriority) {
        if priority == Self.defaultPriority {
            common.append(coroutine)
        } else {
            prioritized.push(coroutine, key: priority)
        }
    }

    mutating func pop() -> ScheduledCoroutine? {
        if let first = prioritized.firstKey, first < Self.defaultPriority || common.isEmpty {
            return prioritized.pop()
        }
        return common.popFirst()
    }
}
