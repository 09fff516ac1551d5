import Testing
@testable import CoroutineCore

@Suite struct TimerQueueTests {
    /// Nanoseconds in a millisecond.
    private static let millisecond: UInt64 = 1_000_000
    /// A clock well past zero, as after a day of uptime.
    private static let day: UInt64 = 86_400_000 * millisecond

    @Test func emptyQueueHasNothing() {
        var queue = TimerQueue<Int>()
        #expect(queue.isEmpty)
        #expect(queue.count == 0)
        #expect(queue.nextDeadline == nil)
        #expect(popDue(&queue, now: .max).isEmpty)
        #expect(queue.removeAll().isEmpty)
    }

    @Test func popsInDeadlineOrder() {
        var queue = TimerQueue<Int>()
        let deadlines: [UInt64] = [50, 10, 3_000_000_000, 30, 20, 7 * Self.day, 40, 1 << 40]
        for (element, deadline) in deadlines.enumerated() {
            queue.insert(element, deadline: deadline)
        }
        #expect(queue.count == deadlines.count)
        let popped = popDue(&queue, now: .max)
        #expect(popped.map { deadlines[$0] } == deadlines.sorted())
        #expect(queue.isEmpty)
    }

    @Test func equalDeadlinesComeOutInInsertionOrder() {
        var queue = TimerQueue<Int>()
        for element in 0..<1_000 {
            // Three deadlines, interleaved: within each, insertion order must survive.
            queue.insert(element, deadline: Self.day + UInt64(element % 3) * Self.millisecond)
        }
        let popped = popDue(&queue, now: Self.day + 2 * Self.millisecond)
        let expected = (0..<3).flatMap { remainder in (0..<1_000).filter { $0 % 3 == remainder } }
        #expect(popped == expected)
    }

    @Test func nothingFiresEarly() {
        var queue = TimerQueue<Int>()
        #expect(popDue(&queue, now: Self.day).isEmpty)
        // Deadlines nanoseconds apart share a tick of the wheel: only exact deadlines decide.
        queue.insert(1, deadline: Self.day + 100)
        queue.insert(2, deadline: Self.day + 200)
        queue.insert(3, deadline: Self.day + 100 * Self.millisecond)
        #expect(popDue(&queue, now: Self.day + 99).isEmpty)
        #expect(popDue(&queue, now: Self.day + 100) == [1])
        #expect(popDue(&queue, now: Self.day + 199).isEmpty)
        #expect(popDue(&queue, now: Self.day + 200) == [2])
        #expect(popDue(&queue, now: Self.day + 100 * Self.millisecond - 1).isEmpty)
        #expect(popDue(&queue, now: Self.day + 100 * Self.millisecond) == [3])
        #expect(queue.isEmpty)
    }

    @Test func deadlinesAlreadyPassedAreDue() {
        var queue = TimerQueue<Int>()
        #expect(popDue(&queue, now: Self.day).isEmpty)
        queue.insert(1, deadline: Self.day - Self.millisecond)
        queue.insert(2, deadline: 5)
        #expect(queue.nextDeadline == 5)
        // `now` behind the time the queue has already seen still pops what is due by it.
        #expect(popDue(&queue, now: 10) == [2])
        #expect(popDue(&queue, now: Self.day) == [1])
    }

    @Test func nextDeadlineIsExact() {
        var queue = TimerQueue<Int>()
        #expect(popDue(&queue, now: Self.day).isEmpty)
        let far = Self.day + 3_600_000 * Self.millisecond + 123_457
        queue.insert(1, deadline: far)
        #expect(queue.nextDeadline == far)
        queue.insert(2, deadline: Self.day + 123_456_789)
        #expect(queue.nextDeadline == Self.day + 123_456_789)
        queue.insert(3, deadline: Self.day + 123_456_790)
        #expect(popDue(&queue, now: Self.day + 123_456_789) == [2])
        #expect(queue.nextDeadline == Self.day + 123_456_790)
        #expect(popDue(&queue, now: Self.day + 123_456_790) == [3])
        #expect(queue.nextDeadline == far)
        #expect(popDue(&queue, now: far - 1).isEmpty)
        #expect(queue.nextDeadline == far)
        #expect(popDue(&queue, now: far) == [1])
        #expect(queue.nextDeadline == nil)
    }

    @Test func removeAllReturnsEverythingInOrder() {
        var queue = TimerQueue<Int>()
        #expect(popDue(&queue, now: Self.day).isEmpty)
        let deadlines: [UInt64] = [Self.day + 9, Self.day - 1, Self.day + 9, Self.day + 1 << 40, Self.day + 3]
        for (element, deadline) in deadlines.enumerated() {
            queue.insert(element, deadline: deadline)
        }
        #expect(queue.removeAll() == [1, 4, 0, 2, 3])
        #expect(queue.isEmpty)
        #expect(queue.nextDeadline == nil)
        queue.insert(7, deadline: Self.day + 5)
        #expect(queue.count == 1)
        #expect(popDue(&queue, now: Self.day + 5) == [7])
    }

    @Test func removingByPredicateKeepsTheRestInOrder() {
        var random = SplitMix64(seed: 0xD15C_A2D5)
        var queue = TimerQueue<Int>()
        var model: [(deadline: UInt64, element: Int)] = []
        let now = Self.day
        #expect(popDue(&queue, now: now).isEmpty)
        for element in 0..<5_000 {
            let deadline = randomDeadline(around: now, using: &random)
            queue.insert(element, deadline: deadline)
            model.insert((deadline, element), at: insertionIndex(in: model, for: deadline))
        }
        #expect(queue.removeAll { $0 % 3 != 0 } == model.count { $0.element % 3 != 0 })
        model.removeAll { $0.element % 3 != 0 }
        #expect(queue.count == model.count)
        #expect(queue.nextDeadline == model.first?.deadline)
        #expect(queue.removeAll { _ in false } == 0)
        #expect(popDue(&queue, now: .max) == model.map(\.element))
        #expect(queue.isEmpty)
    }

    @Test func aThrowingBodyKeepsTheRest() {
        struct Stop: Error {}
        var queue = TimerQueue<Int>()
        for element in 0..<5 {
            queue.insert(element, deadline: UInt64(element))
        }
        var seen: [Int] = []
        #expect(throws: Stop.self) {
            try queue.popDue(now: 10) { element in
                seen.append(element)
                if element == 2 { throw Stop() }
            }
        }
        #expect(seen == [0, 1, 2])
        #expect(queue.count == 2)
        #expect(queue.nextDeadline == 3)
        #expect(popDue(&queue, now: 10) == [3, 4])
    }

    @Test func matchesASortedArrayModel() {
        var random = SplitMix64(seed: 0x5EED_7133)
        var queue = TimerQueue<Int>()
        var model: [(deadline: UInt64, element: Int)] = []
        var now = Self.day
        for step in 0..<20_000 {
            switch random.next() % 8 {
            case 0..<4:
                let deadline = randomDeadline(around: now, using: &random)
                queue.insert(step, deadline: deadline)
                model.insert((deadline, step), at: insertionIndex(in: model, for: deadline))
            case 4..<7:
                now += random.next() % (1 << (random.next() % 32))
                let due = model.prefix { $0.deadline <= now }
                model.removeFirst(due.count)
                #expect(popDue(&queue, now: now) == due.map(\.element), "step \(step)")
            default:
                // Behind the clock: still exact.
                let earlier = now - random.next() % (1 << 24)
                let due = model.prefix { $0.deadline <= earlier }
                model.removeFirst(due.count)
                #expect(popDue(&queue, now: earlier) == due.map(\.element), "step \(step)")
            }
            #expect(queue.count == model.count)
            #expect(queue.nextDeadline == model.first?.deadline, "step \(step)")
        }
        #expect(queue.removeAll() == model.map(\.element))
    }

    @Test func hundredThousandEqualDeadlines() {
        var queue = TimerQueue<Int>()
        #expect(popDue(&queue, now: Self.day).isEmpty)
        let deadline = Self.day + 100 * Self.millisecond
        for element in 0..<100_000 {
            queue.insert(element, deadline: deadline)
        }
        #expect(queue.count == 100_000)
        #expect(queue.nextDeadline == deadline)
        #expect(popDue(&queue, now: deadline - 1).isEmpty)
        #expect(popDue(&queue, now: deadline) == Array(0..<100_000))
        #expect(queue.isEmpty)
    }

    /// Pops everything due at `now`, in the order it came out.
    private func popDue(_ queue: inout TimerQueue<Int>, now: UInt64) -> [Int] {
        var popped: [Int] = []
        queue.popDue(now: now) { popped.append($0) }
        return popped
    }

    /// Where `deadline` goes in `model`: after every equal deadline, for insertion order.
    private func insertionIndex(in model: [(deadline: UInt64, element: Int)], for deadline: UInt64) -> Int {
        var range = 0..<model.count
        while !range.isEmpty {
            let middle = range.lowerBound + range.count / 2
            if model[middle].deadline <= deadline {
                range = (middle + 1)..<range.upperBound
            } else {
                range = range.lowerBound..<middle
            }
        }
        return range.lowerBound
    }

    /// A deadline from far in the past to hours ahead, often exactly one already used.
    private func randomDeadline(around now: UInt64, using random: inout SplitMix64) -> UInt64 {
        let distance = random.next() % (1 << (random.next() % 44))
        switch random.next() % 4 {
        case 0: return now - min(distance, now)
        case 1: return now + (distance & ~0xFFFFF)  // coarse: many equal deadlines
        default: return now + distance
        }
    }
}
