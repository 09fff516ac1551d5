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

/// Elements ordered by deadline in a binary min-heap; equal deadlines come out in insertion order.
struct HeapTimerQueue<Element>: BenchmarkedTimerQueue {
    /// An element with the key it is ordered by.
    private struct Entry {
        let deadline: UInt64
        // Breaks ties between equal deadlines, which a heap alone would leave in any order.
        let sequence: UInt64
        let element: Element

        /// Whether this entry is due before `other`.
        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            deadline == other.deadline ? sequence < other.sequence : deadline < other.deadline
        }
    }

    /// The heap: every entry precedes its children at 2i+1 and 2i+2.
    private var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    /// An empty queue.
    init() {}

    /// How many elements are waiting.
    var count: Int { entries.count }

    /// Whether no element is waiting.
    var isEmpty: Bool { entries.isEmpty }

    /// The earliest deadline, if any.
    var nextDeadline: UInt64? { entries.first?.deadline }

    /// Adds `element`, due at `deadline` (nanoseconds on the monotonic clock).
    mutating func insert(_ element: Element, deadline: UInt64) {
        let entry = Entry(deadline: deadline, sequence: nextSequence, element: element)
        nextSequence &+= 1
        entries.append(entry)
        siftUp(entry, from: entries.count - 1)
    }

    /// Removes and passes to `body`, in deadline order, every element due at `now` (deadline <= now).
    mutating func popDue(now: UInt64, _ body: (Element) throws -> Void) rethrows {
        while let first = entries.first, first.deadline <= now {
            try body(removeFirst())
        }
    }

    /// Removes everything, in deadline order.
    mutating func removeAll() -> [Element] {
        let sorted = entries.sorted { $0.precedes($1) }
        entries.removeAll()
        return sorted.map(\.element)
    }

    /// Removes the earliest entry; the heap must not be empty.
    private mutating func removeFirst() -> Element {
        let last = entries.removeLast()
        guard let first = entries.first else { return last.element }
        siftDown(last)
        return first.element
    }

    /// Moves `entry` from the hole at `index` up to where it belongs.
    private mutating func siftUp(_ entry: Entry, from index: Int) {
        entries.withUnsafeMutableBufferPointer { heap in
            var hole = index
            while hole > 0 {
                let parent = (hole - 1) / 2
                guard entry.precedes(heap[parent]) else { break }
                heap[hole] = heap[parent]
                hole = parent
            }
            heap[hole] = entry
        }
    }

    /// Fills the hole at the root with `entry`, the former last entry.
    ///
    /// The hole goes all the way down first and `entry` climbs back up (Floyd): the last entry
    /// is usually among the latest, so it belongs near the bottom, and this needs one comparison
    /// per level instead of two.
    private mutating func siftDown(_ entry: Entry) {
        let hole = entries.withUnsafeMutableBufferPointer { heap in
            var hole = 0
            while true {
                var child = 2 * hole + 1
                guard child < heap.count else { break }
                if child + 1 < heap.count, heap[child + 1].precedes(heap[child]) { child += 1 }
                heap[hole] = heap[child]
                hole = child
            }
            return hole
        }
        siftUp(entry, from: hole)
    }
}

/// Elements ordered by deadline in a hierarchical timing wheel; equal deadlines come out in
/// insertion order.
///
/// The same code as `TimerQueue` in CoroutineCore, which documents how it works.
struct WheelTimerQueue<Element>: BenchmarkedTimerQueue {
    /// An element with the key it is ordered by.
    private struct Entry {
        let deadline: UInt64
        // Breaks ties between equal deadlines.
        let sequence: UInt64
        let element: Element

        /// Whether this entry is due before `other`.
        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            deadline == other.deadline ? sequence < other.sequence : deadline < other.deadline
        }
    }

    /// The timers of one slot: in order on level 0, in any order above.
    private struct Slot {
        var entries: [Entry] = []
        /// The earliest deadline in the slot, `UInt64.max` when empty.
        var minimum = UInt64.max

        /// Adds `entry` at the end.
        mutating func append(_ entry: Entry) {
            entries.append(entry)
            minimum = min(minimum, entry.deadline)
        }

        /// Adds `entry` where it belongs in order.
        ///
        /// A tick holds few timers, and a later one (the common case: equal deadlines, or
        /// a cascade of timers inserted in order) goes to the end without moving any.
        mutating func insertInOrder(_ entry: Entry) {
            var index = entries.count
            entries.append(entry)
            while index > 0, entry.precedes(entries[index - 1]) {
                entries[index] = entries[index - 1]
                index -= 1
            }
            if index < entries.count - 1 { entries[index] = entry }
            minimum = min(minimum, entry.deadline)
        }

        /// Drops the first `popped` entries, keeping the storage for the next timers.
        mutating func removeFirst(_ popped: Int) {
            entries.removeSubrange(0..<popped)
            minimum = entries.first?.deadline ?? .max
        }
    }

    /// log2 of the nanoseconds in a tick: few enough timers share a tick to keep it in order
    /// by insertion, and 100 ms still fits in the first two levels.
    private static var tickShift: UInt64 { 16 }
    /// log2 of the slots per level: a level's occupancy is one 64-bit word.
    private static var slotBits: Int { 6 }
    /// The slots of one level.
    private static var slotsPerLevel: Int { 1 << slotBits }
    /// Enough levels for every tick a 64-bit deadline can have.
    private static var levelCount: Int { (64 - Int(tickShift) + slotBits - 1) / slotBits }

    /// Slot `s` of level `l` is at `l * slotsPerLevel + s`.
    private var slots: [Slot]
    /// Per level, bit `s` set when slot `s` holds timers.
    private var occupied: [UInt64]
    /// The tick time has reached.
    private var elapsed: UInt64 = 0
    /// Reused by every cascade so that draining a slot does not allocate.
    private var spare = Slot()
    /// The sequence number of the next insertion.
    private var nextSequence: UInt64 = 0
    /// How many elements are waiting.
    private(set) var count = 0

    /// An empty queue.
    init() {
        slots = Array(repeating: Slot(), count: Self.levelCount * Self.slotsPerLevel)
        occupied = Array(repeating: 0, count: Self.levelCount)
    }

    /// Whether no element is waiting.
    var isEmpty: Bool { count == 0 }

    /// The earliest deadline, if any.
    var nextDeadline: UInt64? {
        guard let (level, slot) = firstOccupied() else { return nil }
        return slots[level * Self.slotsPerLevel + slot].minimum
    }

    /// Adds `element`, due at `deadline` (nanoseconds on the monotonic clock).
    mutating func insert(_ element: Element, deadline: UInt64) {
        place(Entry(deadline: deadline, sequence: nextSequence, element: element))
        nextSequence &+= 1
        count += 1
    }

    /// Removes and passes to `body`, in deadline order, every element due at `now` (deadline <= now).
    ///
    /// When `body` throws, the element it was given is already removed; later ones stay.
    mutating func popDue(now: UInt64, _ body: (Element) throws -> Void) rethrows {
        let nowTick = now >> Self.tickShift
        while let (level, slot) = firstOccupied() {
            if level == 0 {
                // Exact deadlines, not ticks: timers inserted late sit in the current slot and
                // may be due even when `now` is behind `elapsed`.
                guard slots[slot].minimum <= now else { break }
                // Timers left in the slot are later than `now` and the earliest of all.
                guard try drain(slot: slot, now: now, body) else { break }
            } else {
                // Every slot that time reaches cascades, due or not: a slot of a higher level
                // must never cover `elapsed`, or lower levels would stop being earlier.
                let start = slotStart(level: level, slot: slot)
                guard start <= nowTick else { break }
                elapsed = max(elapsed, start)
                cascade(slot: level * Self.slotsPerLevel + slot, level: level)
            }
        }
        elapsed = max(elapsed, nowTick)
    }

    /// Removes everything, in deadline order.
    mutating func removeAll() -> [Element] {
        var all = slots.flatMap(\.entries)
        all.sort { $0.precedes($1) }
        // The clock stays where it was: only the timers go.
        let elapsed = self.elapsed
        self = WheelTimerQueue()
        self.elapsed = elapsed
        return all.map(\.element)
    }

    /// Puts `entry` into the slot of the lowest level that tells its tick apart from `elapsed`.
    private mutating func place(_ entry: Entry) {
        let tick = entry.deadline >> Self.tickShift
        guard tick > elapsed else {
            // Already due: the current slot, which the next `popDue` drains.
            let slot = Int(truncatingIfNeeded: elapsed) & (Self.slotsPerLevel - 1)
            slots[slot].insertInOrder(entry)
            occupied[0] |= 1 << UInt64(slot)
            return
        }
        let level = (63 - (tick ^ elapsed).leadingZeroBitCount) / Self.slotBits
        let slot = Int(truncatingIfNeeded: tick >> UInt64(level * Self.slotBits)) & (Self.slotsPerLevel - 1)
        if level == 0 {
            slots[slot].insertInOrder(entry)
        } else {
            slots[level * Self.slotsPerLevel + slot].append(entry)
        }
        occupied[level] |= 1 << UInt64(slot)
    }

    /// The lowest level holding timers and its first occupied slot: where the earliest timer is.
    private func firstOccupied() -> (level: Int, slot: Int)? {
        for level in 0..<Self.levelCount where occupied[level] != 0 {
            return (level, occupied[level].trailingZeroBitCount)
        }
        return nil
    }

    /// The first tick of `slot` of `level`, in the window of `elapsed`.
    private func slotStart(level: Int, slot: Int) -> UInt64 {
        let width = UInt64(level * Self.slotBits)
        let window = elapsed & (UInt64.max << (width + UInt64(Self.slotBits)))
        return window | (UInt64(slot) << width)
    }

    /// Moves the timers of a higher-level slot, now reached, to lower levels.
    private mutating func cascade(slot index: Int, level: Int) {
        swap(&spare, &slots[index])
        occupied[level] &= ~(1 << UInt64(index - level * Self.slotsPerLevel))
        for entry in spare.entries { place(entry) }
        spare.removeFirst(spare.entries.count)
    }

    /// Pops the timers of level-0 `slot` due at `now`; returns whether the slot is now empty.
    private mutating func drain(slot: Int, now: UInt64, _ body: (Element) throws -> Void) rethrows -> Bool {
        var popped = 0
        // Popped entries go in one move, also when `body` throws.
        defer {
            slots[slot].removeFirst(popped)
            if slots[slot].entries.isEmpty { occupied[0] &= ~(1 << UInt64(slot)) }
        }
        while popped < slots[slot].entries.count, slots[slot].entries[popped].deadline <= now {
            let element = slots[slot].entries[popped].element
            popped += 1
            count -= 1
            try body(element)
        }
        return popped == slots[slot].entries.count
    }
}

// MARK: - The workloads

/// A small seeded generator (SplitMix64), so every run and both structures see the same timers.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
    wheel: (inout WheelTimerQueue<Int>, UInt64) -> Measurement
) -> (heap: Double, wheel: Double) {
    let heap = median(HeapTimerQueue<Int>.self, operations: operations, heap)
    let wheel = median(WheelTimerQueue<Int>.self, operations: operations, wheel)
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
