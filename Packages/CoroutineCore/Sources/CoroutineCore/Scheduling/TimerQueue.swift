/// Elements ordered by deadline; equal deadlines come out in insertion order.
///
/// Deadlines are nanoseconds on the monotonic clock. The queue is a hierarchical timing wheel,
/// chosen over a binary heap by the `timer_benchmark` target (see `Docs/timers.md`): time is counted in
/// ticks of 2^16 ns (about 66 µs), and level `l` has 64 slots of 64^l ticks each. A timer sits
/// on the lowest level whose slot can tell its tick apart from `elapsed`, the tick time has last
/// reached, so a lower level always holds earlier timers than a higher one, and within a level
/// the first occupied slot holds the earliest. When time reaches a slot of a higher level, its
/// timers cascade down. A slot of level 0 holds a single tick and is kept in exact (deadline,
/// insertion) order: ticks only decide where a timer waits, never when it fires, so nothing is
/// popped early and `nextDeadline` is exact.
struct TimerQueue<Element> {
    /// An element with the key it is ordered by.
    private struct Entry {
        let deadline: UInt64
        // Breaks ties between equal deadlines.
        let sequence: UInt64
        let element: Element

        /// Whether this entry is due before `other`.
        // Inlined: the wheel's inserts and the heap's sift loops compare at every step, and a
        // call per step would cost more than the two comparisons.
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

        /// Drops the entries `shouldRemove` picks, keeping the others in order; returns how
        /// many went.
        mutating func removeAll(where shouldRemove: (Element) -> Bool) -> Int {
            let before = entries.count
            entries.removeAll { shouldRemove($0.element) }
            minimum = entries.lazy.map(\.deadline).min() ?? .max
            return before - entries.count
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
        // The scheduler asks after every resume; most threads have no timer at all, and the
        // scan of every level's bitmap cost 8% of a yield round trip (perf).
        guard count > 0, let (level, slot) = firstOccupied() else { return nil }
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
        self = TimerQueue()
        self.elapsed = elapsed
        return all.map(\.element)
    }

    /// Removes the elements `shouldRemove` picks, wherever they wait; returns how many.
    @discardableResult
    mutating func removeAll(where shouldRemove: (Element) -> Bool) -> Int {
        var removed = 0
        for level in 0..<Self.levelCount {
            var slotsLeft = occupied[level]
            while slotsLeft != 0 {
                let slot = slotsLeft.trailingZeroBitCount
                slotsLeft &= slotsLeft - 1
                let index = level * Self.slotsPerLevel + slot
                removed += slots[index].removeAll(where: shouldRemove)
                if slots[index].entries.isEmpty {
                    occupied[level] &= ~(1 << UInt64(slot))
                }
            }
        }
        count -= removed
        return removed
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
