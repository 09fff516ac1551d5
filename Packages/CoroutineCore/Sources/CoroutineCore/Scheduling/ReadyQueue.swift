import DequeModule

/// The coroutines of one scheduler that can run now, smaller priority first, FIFO within a
/// priority.
///
/// Almost everything runs at the default priority, so that path is a plain deque; other
/// priorities go to a heap. Within the default priority, coroutines whose wait timed out (a
/// sleep that ended) go before the others, in the order their deadlines passed: their
/// deadline is a promise, and behind hundreds of coroutines that merely yielded it would be
/// kept late. Owner-thread only.
///
/// The queue owns one reference to each coroutine in it, as an `Unmanaged` value: `push`
/// takes it over and `pop` hands it on. A scheduled coroutine's one reference travels from the
/// queue to the round that resumes it, back to the queue when it yields, or to its park when
/// it parks and from there to the queue again when it is woken (`Scheduler.settle`), so that
/// a switch costs no reference counting. What is still queued when the queue goes is let go.
struct ReadyQueue: ~Copyable {
    /// The priority of everything submitted without one.
    static let defaultPriority = 0

    private var common = Deque<Unmanaged<ScheduledCoroutine>>()
    private var timedOut = Deque<Unmanaged<ScheduledCoroutine>>()
    private var prioritized = PriorityHeap<Int, Unmanaged<ScheduledCoroutine>>()

    var isEmpty: Bool { common.isEmpty && timedOut.isEmpty && prioritized.isEmpty }
    var count: Int { common.count + timedOut.count + prioritized.count }

    /// Queues `coroutine`, taking over the reference the caller owns; `afterTimeout` when its
    /// wait just timed out.
    mutating func push(
        _ coroutine: Unmanaged<ScheduledCoroutine>, priority: Int = defaultPriority, afterTimeout: Bool = false
    ) {
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

    /// The next coroutine to run, with the reference the queue owned.
    mutating func pop() -> Unmanaged<ScheduledCoroutine>? {
        if nextIsPrioritized {
            return prioritized.pop()
        }
        return timedOut.popFirst() ?? common.popFirst()
    }

    /// The coroutine `pop` would return, left in the queue.
    var first: Unmanaged<ScheduledCoroutine>? {
        nextIsPrioritized ? prioritized.first : timedOut.first ?? common.first
    }

    private var nextIsPrioritized: Bool {
        guard let first = prioritized.firstKey else { return false }
        return first < Self.defaultPriority || (common.isEmpty && timedOut.isEmpty)
    }

    deinit {
        for coroutine in Array(common) + Array(timedOut) + Array(prioritized.elements) {
            coroutine.release()
        }
    }
}
