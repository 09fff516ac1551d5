import DequeModule

/// The coroutines of one scheduler that can run now, smaller priority first, FIFO within a
/// priority.
///
/// Almost everything runs at the default priority, so that path is a plain deque; other
/// priorities go to a heap. Within the default priority, coroutines whose wait timed out (a
/// sleep that ended) go before the others, in the order their deadlines passed: their
/// deadline is a promise, and behind hundreds of coroutines that merely yielded it would be
/// kept late. Owner-thread only.
struct ReadyQueue {
    /// The priority of everything submitted without one.
    static let defaultPriority = 0

    private var common = Deque<ScheduledCoroutine>()
    private var timedOut = Deque<ScheduledCoroutine>()
    private var prioritized = PriorityHeap<Int, ScheduledCoroutine>()

    var isEmpty: Bool { common.isEmpty && timedOut.isEmpty && prioritized.isEmpty }
    var count: Int { common.count + timedOut.count + prioritized.count }

    /// Queues `coroutine`; `afterTimeout` when its wait just timed out.
    mutating func push(_ coroutine: ScheduledCoroutine, priority: Int = defaultPriority, afterTimeout: Bool = false) {
        if priority == Self.defaultPriority {
            if afterTimeout {
                timedOut.append(coroutine)
            } else {
                common.append(coroutine)
            }
        } else {
            prioritized.push(coroutine, key: priority)
        }
    }

    mutating func pop() -> ScheduledCoroutine? {
        if let first = prioritized.firstKey, first < Self.defaultPriority || (common.isEmpty && timedOut.isEmpty) {
            return prioritized.pop()
        }
        return timedOut.popFirst() ?? common.popFirst()
    }
}
