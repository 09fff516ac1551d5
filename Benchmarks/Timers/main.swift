// Timer-queue figures, printed as name=value lines: a binary min-heap against a hierarchical
// timing wheel on the workloads the scheduler has. One operation is one timer inserted and popped;
// each figure is the median of 5 runs on one queue, after an untimed run that grows its storage.
//
//   timer_<kind>_random_ns_per_op  100,000 timers due at random within 1 s, popped as "now"
//                                  advances in 1 ms steps
//   timer_<kind>_equal_ns_per_op   100,000 timers with one deadline, then all popped at once
//   timer_<kind>_steady_ns_per_op  10,000 live timers; 1,000,000 times the earliest is popped at
//                                  its deadline and a new one inserted 0–100 ms later
//   timer_choice                   the structure with the smaller total of the three figures
// The contenders are the runtime's own TimerQueue.swift and PriorityHeap.swift (and its
// SplitMix64.swift generator), compiled into
// this target through symbolic links, so that the figures are those of the runtime's code
// specialized as the scheduler specializes it.
import Foundation

// MARK: - The structures

/// What the scheduler asks of a timer queue; both contenders provide it.
protocol BenchmarkedTimerQueue<Element> {
    /// What waits for its deadline.
    associatedtype Element
    /// An empty queue.
    init()
    /// The earliest deadline, if any.
    var nextDeadline: UInt64? { get }
    /// Adds `element`, due at `deadline`.
    mutating func insert(_ element: Element, deadline: UInt64)
    /// Removes and passes to `body`, in deadline order, every element due at `now`.
    mutating func popDue(now: UInt64, _ body: (Element) throws -> Void) rethrows
}

/// The runtime's timer queue (the hierarchical timing wheel) as one contender.
extension TimerQueue: BenchmarkedTimerQueue {}

/// The runtime's binary heap, keyed by deadline, as the other contender.
struct HeapTimerQueue<Element>: BenchmarkedTimerQueue {
    private var heap = PriorityHeap<UInt64, Element>()

    var nextDeadline: UInt64? { heap.firstKey }

    mutating func insert(_ element: Element, deadline: UInt64) {
        heap.push(element, key: deadline)
    }

    mutating func popDue(now: UInt64, _ body: (Element) throws -> Void) rethrows {
        while let first = heap.firstKey, first <= now, let element = heap.pop() {
            try body(element)
        }
    }
}

// MARK: - The workloads

/// Nanoseconds in a millisecond.
let millisecond: UInt64 = 1_000_000
/// Nanoseconds in a second.
let second: UInt64 = 1_000 * millisecond
/// A monotonic time well past zero, as the scheduler would see after a day of uptime.
let start: UInt64 = 86_400 * second
/// Time between runs; every workload ends well within it.
let runSpacing: UInt64 = 60 * second

/// One run's time and a checksum of the order timers came out in.
struct Measurement {
    /// Wall time of the timed part.
    var nanoseconds: UInt64
    /// The order the timers came out in, folded.
    var checksum: UInt64
}

/// Folds `element` into an order-sensitive checksum.
@inline(__always)
func fold(_ checksum: inout UInt64, _ element: Int) {
    checksum = checksum &* 31 &+ UInt64(truncatingIfNeeded: element)
}

/// The monotonic clock in nanoseconds.
func now() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

/// Workload (a): timers due at `base` plus `offsets`, popped as time advances in 1 ms steps.
func random<Queue: BenchmarkedTimerQueue<Int>>(_ queue: inout Queue, base: UInt64, offsets: [UInt64]) -> Measurement {
    var checksum: UInt64 = 0
    var popped = 0
    let begin = now()
    for (element, offset) in offsets.enumerated() {
        queue.insert(element, deadline: base + offset)
    }
    var clock = base
    while popped < offsets.count {
        clock += millisecond
        queue.popDue(now: clock) { element in
            fold(&checksum, element)
            popped += 1
        }
    }
    return Measurement(nanoseconds: now() - begin, checksum: checksum)
}

/// Workload (b): `count` timers all due 100 ms after `base`, popped at once.
func equal<Queue: BenchmarkedTimerQueue<Int>>(_ queue: inout Queue, base: UInt64, count: Int) -> Measurement {
    var checksum: UInt64 = 0
    let deadline = base + 100 * millisecond
    let begin = now()
    for element in 0..<count {
        queue.insert(element, deadline: deadline)
    }
    queue.popDue(now: deadline) { fold(&checksum, $0) }
    return Measurement(nanoseconds: now() - begin, checksum: checksum)
}

/// Workload (c): `live` timers; `operations` times, the earliest is popped at its deadline and a
/// new one inserted `delays` later. The timers left at the end are popped untimed.
func steady<Queue: BenchmarkedTimerQueue<Int>>(
    _ queue: inout Queue, base: UInt64, live: Int, operations: Int, delays: [UInt64]
) -> Measurement {
    var checksum: UInt64 = 0
    for element in 0..<live {
        queue.insert(element, deadline: base + delays[element])
    }
    var next = live
    var done = 0
    let begin = now()
    while done < operations, let clock = queue.nextDeadline {
        var popped = 0
        queue.popDue(now: clock) { element in
            fold(&checksum, element)
            popped += 1
        }
        for _ in 0..<popped {
            queue.insert(next, deadline: clock + delays[next % delays.count])
            next += 1
        }
        done += popped
    }
    let end = now()
    queue.popDue(now: base + runSpacing / 2) { _ in }
    return Measurement(nanoseconds: end - begin, checksum: checksum)
}

/// The median nanoseconds per operation of 5 runs of `workload` on one queue, and the checksum
/// every run must agree on.
///
/// An untimed run comes first: it grows the queue's storage, as the scheduler's long-lived
/// queue's already is, so that page faults of fresh memory are not what is compared.
func median<Queue: BenchmarkedTimerQueue<Int>>(
    _: Queue.Type, operations: Int, _ workload: (inout Queue, UInt64) -> Measurement
) -> (nanosecondsPerOperation: Double, checksum: UInt64) {
    var queue = Queue()
    var runs: [Measurement] = []
    for run in 0...5 {
        let base = start + UInt64(run) * runSpacing
        // Brings the clock to `base`, as the scheduler's queue is brought along by every tick.
        queue.popDue(now: base) { _ in }
        let measurement = workload(&queue, base)
        if run > 0 { runs.append(measurement) }
    }
    let checksum = runs[0].checksum
    precondition(runs.allSatisfy { $0.checksum == checksum }, "runs disagree on the order")
    let times = runs.map { Double($0.nanoseconds) / Double(operations) }.sorted()
    return (times[times.count / 2], checksum)
}

/// Runs one workload on both structures and prints their figures; returns them.
func compare(
    _ name: String, operations: Int,
    heap: (inout HeapTimerQueue<Int>, UInt64) -> Measurement,
    wheel: (inout TimerQueue<Int>, UInt64) -> Measurement
) -> (heap: Double, wheel: Double) {
    let heap = median(HeapTimerQueue<Int>.self, operations: operations, heap)
    let wheel = median(TimerQueue<Int>.self, operations: operations, wheel)
    precondition(heap.checksum == wheel.checksum, "\(name): the structures popped in different orders")
    print("timer_heap_\(name)_ns_per_op=\(format(heap.nanosecondsPerOperation))")
    print("timer_wheel_\(name)_ns_per_op=\(format(wheel.nanosecondsPerOperation))")
    return (heap.nanosecondsPerOperation, wheel.nanosecondsPerOperation)
}

/// `value` with two decimals, as the other benchmarks print.
func format(_ value: Double) -> String {
    String(format: "%.2f", value)
}

/// The source of every random deadline, seeded.
var generator = SplitMix64(seed: 0x7133_E125)
/// Timers in workloads (a) and (b).
let timerCount = 100_000
/// Workload (a)'s deadlines, after the run's start.
let randomOffsets = (0..<timerCount).map { _ in UInt64.random(in: 0..<second, using: &generator) }
/// Pops (each followed by an insert) in workload (c).
let steadyOperations = 1_000_000
/// Workload (c)'s delays, from the pop to the new timer's deadline.
let steadyDelays = (0..<steadyOperations).map { _ in UInt64.random(in: 0...100 * millisecond, using: &generator) }

/// Per workload, both structures' nanoseconds per operation.
let figures = [
    compare("random", operations: timerCount,
            heap: { random(&$0, base: $1, offsets: randomOffsets) },
            wheel: { random(&$0, base: $1, offsets: randomOffsets) }),
    compare("equal", operations: timerCount,
            heap: { equal(&$0, base: $1, count: timerCount) },
            wheel: { equal(&$0, base: $1, count: timerCount) }),
    compare("steady", operations: steadyOperations,
            heap: { steady(&$0, base: $1, live: 10_000, operations: steadyOperations, delays: steadyDelays) },
            wheel: { steady(&$0, base: $1, live: 10_000, operations: steadyOperations, delays: steadyDelays) }),
]
/// The sums the choice is made by.
let heapTotal = figures.reduce(0) { $0 + $1.heap }
let wheelTotal = figures.reduce(0) { $0 + $1.wheel }
print("timer_choice=\(heapTotal <= wheelTotal ? "heap" : "wheel")")
