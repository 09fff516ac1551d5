import CCoroutineCore
import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

/// The scheduler's run queues: the C rings through `WorkStealingQueues`, and `GlobalQueue`.
@Suite struct WorkStealingQueueTests {
    /// Counts, per item id, how often the item came out of the queues and how often it was
    /// freed: each must come out once and be freed once. Per-id counters rather than totals,
    /// so that the threads of the stress test do not all hammer one cache line.
    final class Ledger: @unchecked Sendable {
        // @unchecked Sendable: the counter arrays are only accessed through their atomics.
        let capacity: Int
        private let sightings: UnsafeMutablePointer<Atomic<UInt32>>
        private let releases: UnsafeMutablePointer<Atomic<UInt32>>
        /// Items seen so far, as reported in batches by the stress threads.
        let consumed = Atomic<Int>(0)
        /// Set by a stress thread that gave up waiting for items that never came.
        let timedOut = Atomic<Bool>(false)

        init(capacity: Int) {
            self.capacity = capacity
            sightings = .allocate(capacity: capacity)
            releases = .allocate(capacity: capacity)
            for id in 0..<capacity {
                // Sound: within the allocations just made, each element initialized once.
                (sightings + id).initialize(to: Atomic(0))
                (releases + id).initialize(to: Atomic(0))
            }
        }

        deinit {
            sightings.deinitialize(count: capacity)
            sightings.deallocate()
            releases.deinitialize(count: capacity)
            releases.deallocate()
        }

        func see(_ item: Item) {
            // Sound: ids are below `capacity` (checked by Item's init).
            sightings[item.id].wrappingAdd(1, ordering: .relaxed)
        }

        func release(_ id: Int) {
            // Sound: ids are below `capacity` (checked by Item's init).
            releases[id].wrappingAdd(1, ordering: .relaxed)
        }

        func sightingCount(of id: Int) -> UInt32 {
            // Sound: the caller passes an id below `capacity`.
            sightings[id].load(ordering: .relaxed)
        }

        func releaseCount(of id: Int) -> UInt32 {
            // Sound: the caller passes an id below `capacity`.
            releases[id].load(ordering: .relaxed)
        }

        /// Items freed so far, whatever their ids.
        var releasedCount: Int { (0..<capacity).reduce(0) { $0 + Int(releaseCount(of: $1)) } }
        var consumedCount: Int { consumed.load(ordering: .relaxed) }
        var didTimeOut: Bool { timedOut.load(ordering: .relaxed) }
    }

    /// A unit of work, identified by `id`, that reports its deallocation to its ledger.
    final class Item: Sendable {
        let id: Int
        let ledger: Ledger

        init(_ id: Int, _ ledger: Ledger) {
            precondition(id >= 0 && id < ledger.capacity)
            self.id = id
            self.ledger = ledger
        }

        deinit {
            ledger.release(id)
        }
    }

    /// Whether the tests run under ThreadSanitizer (set by `make test-tsan`), ~10x slower.
    static var underThreadSanitizer: Bool { ProcessInfo.processInfo.environment["OC_TSAN"] != nil }

    private func popAll(_ queues: WorkStealingQueues<Item>, worker: Int) -> [Int] {
        var ids: [Int] = []
        while let item = queues.pop(worker: worker) {
            ids.append(item.id)
        }
        return ids
    }

    @Test func oneWorkerRunsItsLastPushFirstThenTheRingInOrder() {
        let ledger = Ledger(capacity: 260)
        do {
            let queues = WorkStealingQueues<Item>(workers: 1)
            // Past the 61st pop too: an empty global queue leaves the order alone.
            for id in 0..<200 {
                queues.push(Item(id, ledger), worker: 0)
            }
            #expect(queues.localCount(worker: 0) == 200)
            #expect(popAll(queues, worker: 0) == [199] + Array(0..<199))
            #expect(queues.isEmpty())
        }
        do {
            let queues = WorkStealingQueues<Item>(workers: 1)
            // Fewer than 61 pops, so the global queue is only ever looked at last.
            for id in 200..<260 {
                queues.pushGlobal(Item(id, ledger))
            }
            #expect(queues.global.count == 60)
            #expect(popAll(queues, worker: 0) == Array(200..<260))
            #expect(queues.isEmpty())
        }
        #expect(ledger.releasedCount == 260)
    }

    @Test func aPopFromTheGlobalQueueTakesAShareOntoTheRing() {
        let ledger = Ledger(capacity: 1_000)
        let queues = WorkStealingQueues<Item>(workers: 4)
        for id in 0..<1_000 {
            queues.pushGlobal(Item(id, ledger))
        }
        // An even split of the rest (999 / 4 = 249), capped at half a ring.
        #expect(queues.pop(worker: 2)?.id == 0)
        #expect(queues.localCount(worker: 2) == Int(OC_RUN_QUEUE_CAPACITY) / 2)
        #expect(queues.global.count == 1_000 - 1 - Int(OC_RUN_QUEUE_CAPACITY) / 2)
        #expect(popAll(queues, worker: 2).count == 999)
        #expect(queues.isEmpty())
        #expect(ledger.releasedCount == 1_000)
    }

    @Test func globalQueueIsFIFOAcrossGrowth() {
        let ledger = Ledger(capacity: 10_000)
        let global = GlobalQueue<Item>()
        #expect(global.isEmpty)
        #expect(global.pop() == nil)
        var expected: [Int] = []
        var popped: [Int] = []
        // Interleaved pushes and pops make the ring wrap before it grows.
        for id in 0..<10_000 {
            if id % 3 == 0 {
                global.push(contentsOf: [Item(id, ledger)])
            } else {
                global.push(Item(id, ledger))
            }
            expected.append(id)
            if id % 4 == 0, let item = global.pop() {
                popped.append(item.id)
            }
        }
        #expect(global.count == 10_000 - popped.count)
        while let item = global.pop() {
            popped.append(item.id)
        }
        #expect(popped == expected)
        #expect(global.isEmpty)
        #expect(ledger.releasedCount == 10_000)
    }

    @Test func overflowMovesTheOlderHalfToTheGlobalQueue() {
        let capacity = Int(OC_RUN_QUEUE_CAPACITY)
        let ledger = Ledger(capacity: 3 * capacity)
        do {
            let queues = WorkStealingQueues<Item>(workers: 1)
            // A full ring, and the next element beside it.
            for id in 0...capacity {
                queues.push(Item(id, ledger), worker: 0)
            }
            #expect(queues.localCount(worker: 0) == capacity + 1)
            #expect(queues.global.isEmpty)

            // The new next element displaces `capacity` into the full ring, which spills.
            queues.push(Item(capacity + 1, ledger), worker: 0)
            #expect(queues.localCount(worker: 0) == capacity / 2 + 1)
            #expect(queues.global.count == capacity / 2 + 1)
            var spilled: [Int] = []
            while let item = queues.global.pop() {
                spilled.append(item.id)
            }
            #expect(spilled == Array(0..<capacity / 2) + [capacity])

            // More overflows, then everything comes out exactly once.
            for id in capacity + 2..<3 * capacity {
                queues.push(Item(id, ledger), worker: 0)
            }
            let rest = popAll(queues, worker: 0)
            #expect(rest.count == 3 * capacity - spilled.count)
            #expect(Set(rest + spilled) == Set(0..<3 * capacity))
            #expect(queues.isEmpty())
        }
        #expect(ledger.releasedCount == 3 * capacity)
    }

    @Test func everySixtyFirstPopLooksAtTheGlobalQueueFirst() {
        let flood = 1_000
        let rounds = 10
        let ledger = Ledger(capacity: flood + rounds * 61 + 1)
        let queues = WorkStealingQueues<Item>(workers: 1)
        for id in 0..<flood {
            queues.pushGlobal(Item(id, ledger))
        }
        var nextLocal = flood
        queues.push(Item(nextLocal, ledger), worker: 0)
        nextLocal += 1
        var globalPops: [Int] = []
        for pop in 1...rounds * 61 {
            guard let item = queues.pop(worker: 0) else {
                Issue.record("ran dry at pop \(pop)")
                return
            }
            if item.id < flood {
                globalPops.append(pop)
            } else {
                // The local ring refills forever: only the 61-pop rule lets the flood through.
                queues.push(Item(nextLocal, ledger), worker: 0)
                nextLocal += 1
            }
        }
        #expect(globalPops == (1...rounds).map { $0 * 61 })
        #expect(queues.global.count == flood - rounds)
    }

    @Test(arguments: [2, 3, 8, 11, 256, 257])
    func stealTakesHalfOfTheRingRoundedUp(count: Int) {
        let ledger = Ledger(capacity: count)
        let queues = WorkStealingQueues<Item>(workers: 2)
        // The last one pushed is worker 0's next element, the rest its ring.
        for id in 0..<count {
            queues.push(Item(id, ledger), worker: 0)
        }
        let taken = count / 2
        // Worker 1's ring is empty, so its pop steals; the oldest stolen item runs at once.
        #expect(queues.pop(worker: 1)?.id == 0)
        #expect(queues.localCount(worker: 1) == taken - 1)
        #expect(queues.localCount(worker: 0) == count - taken)
        // Its own ring, then what is left of the sibling's, then the sibling's next element.
        #expect(popAll(queues, worker: 1) == Array(1..<count))
        #expect(ledger.releasedCount == count)
    }

    /// A task pushed as the next element usually talks to the task that pushed it: a thief
    /// takes it only when nothing else is left, and only after leaving it to its owner for
    /// `nextStealDelayNanoseconds`.
    @Test func aThiefTakesASiblingsNextElementLastAndOnlyAfterAMoment() {
        let ledger = Ledger(capacity: 3)
        let queues = WorkStealingQueues<Item>(workers: 2)
        queues.push(Item(0, ledger), worker: 0)
        queues.pushGlobal(Item(1, ledger))
        #expect(queues.pop(worker: 1)?.id == 1)
        let start = monotonicNanoseconds()
        #expect(queues.pop(worker: 1)?.id == 0)
        #expect(monotonicNanoseconds() - start >= WorkStealingQueues<Item>.nextStealDelayNanoseconds)
        // The owner's own next element needs no wait, and is gone once taken.
        queues.push(Item(2, ledger), worker: 1)
        #expect(queues.pop(worker: 1)?.id == 2)
        #expect(queues.pop(worker: 0) == nil)
        #expect(queues.isEmpty())
        #expect(ledger.releasedCount == 3)
    }

    /// Tasks that each push the next one (a chain) would keep the ring waiting for ever if
    /// the next element always went first: the ring goes first on every 8th pop.
    @Test func aChainOfNextElementsCannotStarveTheRing() {
        let interval = Int(WorkStealingQueues<Item>.ringFirstInterval)
        let waiting = 4
        let ledger = Ledger(capacity: waiting + 10 * interval)
        let queues = WorkStealingQueues<Item>(workers: 1)
        for id in 0..<waiting {
            queues.push(Item(id, ledger), worker: 0)
        }
        var nextChained = waiting
        var ringPops: [Int] = []
        for pop in 1...interval * waiting {
            guard let item = queues.pop(worker: 0) else {
                Issue.record("ran dry at pop \(pop)")
                return
            }
            if item.id < waiting - 1 {
                ringPops.append(pop)
            }
            // Whatever ran pushes the next link of the chain.
            queues.push(Item(nextChained, ledger), worker: 0)
            nextChained += 1
        }
        // The first pop takes the last element pushed (id 3); the three in the ring come out
        // at the ring's turns.
        #expect(ringPops == [interval, 2 * interval, 3 * interval])
    }

    @Test func stealingLooksAtEverySibling() {
        let ledger = Ledger(capacity: 64)
        let queues = WorkStealingQueues<Item>(workers: 4)
        // Whatever sibling the random start picks, the one with items is found.
        for round in 0..<16 {
            let victim = 1 + round % 3
            for index in 0..<4 {
                queues.push(Item(round * 4 + index, ledger), worker: victim)
            }
            #expect(queues.pop(worker: 0)?.id == round * 4)
            _ = popAll(queues, worker: 0)
            _ = popAll(queues, worker: victim)
        }
        #expect(queues.isEmpty())
        #expect(ledger.releasedCount == 64)
    }

    @Test func stealNeverOverfillsTheThief() {
        let capacity = Int(OC_RUN_QUEUE_CAPACITY)
        // Sound: two rings' worth of memory, set up by the C side and freed on the way out;
        // only this thread uses it.
        let rings = UnsafeMutablePointer<oc_run_queue>.allocate(capacity: 2)
        defer { rings.deallocate() }
        oc_run_queue_init(rings)
        oc_run_queue_init(rings + 1)
        var overflow = [UnsafeMutableRawPointer?](repeating: nil, count: Int(OC_RUN_QUEUE_OVERFLOW_CAPACITY))
        var spilled: UInt32 = 0
        // The rings hold plain integers disguised as pointers: the C side never dereferences them.
        func item(_ value: Int) -> UnsafeMutableRawPointer {
            // Never dereferenced, only compared.
            guard let pointer = UnsafeMutableRawPointer(bitPattern: value) else {
                preconditionFailure("values start at 1, so no item is NULL")
            }
            return pointer
        }
        for value in 1...capacity {
            #expect(oc_run_queue_push(rings + 1, item(value), &overflow, &spilled))
        }
        for value in 1...10 {
            #expect(oc_run_queue_push(rings, item(1_000 + value), &overflow, &spilled))
        }
        // The full thief still takes one to run at once, and nothing into its ring.
        #expect(oc_run_queue_steal(rings, rings + 1) == item(1_001))
        #expect(oc_run_queue_count(rings + 1) == capacity)
        #expect(oc_run_queue_count(rings) == 9)
        // With room for two more, it takes three: two queued, one to run.
        #expect(oc_run_queue_pop(rings + 1) == item(1))
        #expect(oc_run_queue_pop(rings + 1) == item(2))
        #expect(oc_run_queue_steal(rings, rings + 1) == item(1_002))
        #expect(oc_run_queue_count(rings + 1) == capacity)
        #expect(oc_run_queue_count(rings) == 6)
        var drained: [UnsafeMutableRawPointer] = []
        while let value = oc_run_queue_pop(rings + 1) {
            drained.append(value)
        }
        #expect(drained == (3...capacity).map(item) + [item(1_003), item(1_004)])
    }

    @Test func remainingElementsAreReleasedWithTheQueues() {
        let ledger = Ledger(capacity: 1_000)
        weak var sample: Item?
        do {
            let queues = WorkStealingQueues<Item>(workers: 3)
            for id in 0..<1_000 {
                let item = Item(id, ledger)
                if id == 0 { sample = item }
                queues.push(item, worker: id % 4 == 3 ? nil : id % 4)
            }
            #expect(sample != nil)
            #expect(ledger.releasedCount == 0)
        }
        #expect(sample == nil)
        #expect(ledger.releasedCount == 1_000)
    }

    /// Four owner threads push (single items and overflowing bursts, to their rings and to
    /// the global queue) and pop (their ring, stealing, the global queue) at random; every
    /// item must come out exactly once and be freed exactly once.
    @Test(.timeLimit(.minutes(1)))
    func concurrentPushPopAndStealLoseAndDuplicateNothing() {
        let workers = 4
        let total = Self.underThreadSanitizer ? 200_000 : 2_000_000
        let perWorker = total / workers
        let ledger = Ledger(capacity: total)
        let queues = WorkStealingQueues<Item>(workers: workers)
        let deadline = ContinuousClock.now + .seconds(50)
        let finished = DispatchSemaphore(value: 0)

        for worker in 0..<workers {
            let thread = Thread {
                var random = SplitMix64(seed: 0x5EED_0000 + UInt64(worker))
                // Uneven producers: the light ones run dry and steal from the heavy ones.
                let pushPercent = UInt64([70, 55, 35, 20][worker % 4])
                var next = worker * perWorker
                let end = next + perWorker
                var idleSpins = 0
                // Reported to the shared total in batches, which keeps its line from bouncing.
                var unreported = 0
                while true {
                    let roll = random.next() % 100
                    if next < end, roll < pushPercent {
                        // Now and then a burst, long enough to overflow a ring.
                        let burst = roll < 3 ? Int(random.next() % 300) + 1 : 1
                        for _ in 0..<min(burst, end - next) {
                            let item = Item(next, ledger)
                            next += 1
                            if random.next() % 64 == 0 {
                                queues.pushGlobal(item)
                            } else {
                                queues.push(item, worker: worker)
                            }
                        }
                    } else if let item = queues.pop(worker: worker) {
                        ledger.see(item)
                        idleSpins = 0
                        unreported += 1
                        if unreported == 1_024 {
                            ledger.consumed.wrappingAdd(unreported, ordering: .relaxed)
                            unreported = 0
                        }
                    } else if next == end {
                        // Nothing left anywhere for now: report, then see whether all is done.
                        if unreported > 0 {
                            ledger.consumed.wrappingAdd(unreported, ordering: .relaxed)
                            unreported = 0
                        }
                        if ledger.consumed.load(ordering: .relaxed) == total { break }
                        idleSpins += 1
                        if idleSpins % 1_024 == 0 {
                            if ContinuousClock.now > deadline {
                                ledger.timedOut.store(true, ordering: .relaxed)
                                break
                            }
                            sched_yield()
                        }
                    }
                }
                finished.signal()
            }
            thread.start()
        }
        for _ in 0..<workers {
            #expect(finished.wait(timeout: .now() + 60) == .success)
        }
        #expect(!ledger.didTimeOut)
        #expect(ledger.consumedCount == total)
        let unseen = (0..<total).filter { ledger.sightingCount(of: $0) != 1 }
        #expect(unseen.isEmpty, "items not seen exactly once: \(unseen.prefix(10)) (\(unseen.count) in all)")
        let unreleased = (0..<total).filter { ledger.releaseCount(of: $0) != 1 }
        #expect(unreleased.isEmpty, "items not freed exactly once: \(unreleased.prefix(10)) (\(unreleased.count) in all)")
        #expect(queues.isEmpty())
    }
}
