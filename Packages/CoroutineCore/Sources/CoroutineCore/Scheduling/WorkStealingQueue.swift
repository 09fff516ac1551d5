import CCoroutineCore
import DequeModule
import Synchronization

/// The global queue's elements, oldest first: a `Deque` that gives its memory back once it
/// drains after a flood. Not thread-safe; `GlobalQueue` locks around it.
///
/// A `Deque` keeps its storage when emptied and has no public capacity, so the most elements
/// held since the backlog was last empty stands for it: a million tasks queued at once must
/// not keep their storage after they ran.
private struct Backlog<Element> {
    private var elements = Deque<Element>()
    /// The most elements held since the backlog was last empty.
    private var peak = 0

    /// Storage kept once the backlog drains; a flood beyond it gives its memory back when over.
    private static var retainedCapacity: Int { 4096 }

    var count: Int { elements.count }

    mutating func append(_ element: Element) {
        elements.append(element)
        peak = max(peak, elements.count)
    }

    mutating func append(contentsOf newElements: [Element]) {
        elements.append(contentsOf: newElements)
        peak = max(peak, elements.count)
    }

    mutating func popFirst() -> Element? {
        guard let element = elements.popFirst() else { return nil }
        if elements.isEmpty {
            if peak > Self.retainedCapacity {
                elements = []
            }
            peak = 0
        }
        return element
    }
}

/// An unbounded FIFO that any thread pushes to and pops from: where work goes that is not
/// bound to a worker, and where a full worker ring spills half of its items.
///
/// A lock guards the elements; the count is mirrored in an atomic so that workers can skip
/// an empty queue without taking the lock.
final class GlobalQueue<Element: AnyObject>: @unchecked Sendable {
    // @unchecked: the elements are only touched under `elements`' lock; what callers do with
    // a popped element is theirs to make safe, as for any hand-off queue.
    private let elements = Mutex(Backlog<Element>())
    /// The number of elements: stored at the end of every critical section, read without the
    /// lock, and also the hand-over point between critical sections for ThreadSanitizer.
    private let atomicCount = Atomic<Int>(0)

    init() {}

    /// The number of elements; may be stale by the time it is used.
    var count: Int {
        // Relaxed: a hint only; whoever acts on it takes the lock, which orders the elements.
        atomicCount.load(ordering: .relaxed)
    }

    /// Whether the queue looks empty; may be stale by the time it is used.
    var isEmpty: Bool { count == 0 }

    /// Runs `body` on the elements under the lock and mirrors their count.
    private func withElements<Result>(_ body: (inout Backlog<Element>) -> Result) -> Result {
        let result = elements.withLock { backlog in
            // Acquire, pairing with the release below in the previous critical section. The
            // lock already orders them, but Mutex hands a contended lock over in the kernel
            // (FUTEX_LOCK_PI), where ThreadSanitizer cannot see it; this edge it can see. A
            // plain load on x86-64, and the line is the lock's, already owned.
            _ = atomicCount.load(ordering: .acquiring)
            let result = body(&backlog)
            // Release: see the acquire above.
            atomicCount.store(backlog.count, ordering: .releasing)
            return UnsafeTransfer(result)
        }
        return result.value
    }

    /// Appends `element` at the back.
    func push(_ element: Element) {
        withElements { $0.append(element) }
    }

    /// Appends `newElements` at the back, in order, under one acquisition of the lock.
    func push(contentsOf newElements: some Sequence<Element>) {
        let batch = Array(newElements)
        guard !batch.isEmpty else { return }
        withElements { $0.append(contentsOf: batch) }
    }

    /// Takes the front element, or nil when the queue is (or just looked) empty.
    func pop() -> Element? {
        // The point of the mirrored count: idle workers poll here, and must not queue on the lock.
        guard !isEmpty else { return nil }
        return withElements { $0.popFirst() }
    }

    /// Takes the front element and hands up to `extra` of those after it, in order, to `move`,
    /// all under one acquisition of the lock; nil when the queue is (or just looked) empty.
    ///
    /// `move` runs under the lock, so it must not use this queue.
    func pop(movingUpTo extra: Int, to move: (Element) -> Void) -> Element? {
        guard !isEmpty else { return nil }
        return withElements { backlog in
            guard let first = backlog.popFirst() else { return nil }
            for _ in 0..<extra {
                guard let element = backlog.popFirst() else { break }
                move(element)
            }
            return first
        }
    }
}

/// Carries a non-Sendable value into or out of a lock's closure.
///
/// The region checker cannot see that a value handed to a queue, or taken out of one, is no
/// longer used by the side that gave it up; the queue's contract is exactly that.
private struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// The run queues of a scheduler with a fixed set of workers (threads): one bounded
/// `oc_run_queue` ring per worker, and one `GlobalQueue` for the rest.
///
/// A worker pushes to and pops from its own ring without a lock; the element it pushed last
/// waits apart, as the ring's next element, and runs first (Go's runnext: a spawned task
/// usually talks to its spawner, and runs best on its thread); when its ring is empty it
/// steals half of a sibling's ring; the global queue is the fallback, and is looked at first
/// on every 61st pop so that a worker whose ring keeps refilling cannot starve it (61, as in
/// Go's scheduler: a prime, so the checks do not fall into step with periodic workloads).
/// A sibling's next element is stolen last, after a moment left to its owner.
///
/// Elements travel through the C rings as +1 `Unmanaged` references: retained on the way
/// in, taken (the retain handed over to the caller) on the way out, so each is released
/// exactly once, by its final owner, or by `deinit` for those still queued.
///
/// Thread-safe with one rule: `push(_:worker:)` with a worker index, and `pop(worker:)`, must
/// run on the thread that owns that worker, one thread per worker at a time.
final class WorkStealingQueues<Element: AnyObject>: @unchecked Sendable {
    // @unchecked: rings are shared only through oc_run_queue's atomics, worker state only by
    // its owner thread (the rule above), and the global queue is itself thread-safe.

    /// State only the worker's owner thread touches.
    private struct WorkerState {
        /// Pops so far, to look at the global queue first on every 61st.
        var ticks: UInt64 = 0
        /// Picks the first sibling to steal from. Not shared, so no lock or atomic on the
        /// hot path.
        var random: SplitMix64
    }

    /// How often a pop looks at the global queue before the worker's own ring.
    static var globalCheckInterval: UInt64 { 61 }

    /// The number of workers; valid worker indices are `0..<workerCount`.
    let workerCount: Int

    /// Where pushes without a worker go and where full rings spill.
    let global = GlobalQueue<Element>()

    /// Successful steals per worker, each written by its worker alone.
    private let stealCounts: [EventCount]

    /// Successful steals by all workers so far.
    var steals: UInt64 {
        stealCounts.reduce(0) { $0 &+ $1.current }
    }

    /// Per worker: its ring, its state, then the buffer its ring spills into, each on whole
    /// cache lines so that no two workers' hot fields share a line.
    private let memory: UnsafeMutableRawPointer

    private static var overflowCapacity: Int { Int(OC_RUN_QUEUE_OVERFLOW_CAPACITY) }
    private static var ringBytes: Int { roundedToLines(MemoryLayout<oc_run_queue>.stride) }
    private static var stateBytes: Int { roundedToLines(MemoryLayout<WorkerState>.stride) }
    private static var overflowBytes: Int {
        roundedToLines(overflowCapacity * MemoryLayout<UnsafeMutableRawPointer?>.stride)
    }
    private static var workerBytes: Int { ringBytes + stateBytes + overflowBytes }

    private static func roundedToLines(_ bytes: Int) -> Int {
        let line = Int(OC_RUN_QUEUE_LINE)
        return (bytes + line - 1) / line * line
    }

    /// Creates empty queues for `workers` workers (at least one).
    init(workers: Int) {
        precondition(workers > 0, "a scheduler needs at least one worker")
        workerCount = workers
        stealCounts = (0..<workers).map { _ in EventCount() }
        // Line-aligned, so that each ring's head and tail get a line of their own.
        memory = UnsafeMutableRawPointer.allocate(
            byteCount: workers * Self.workerBytes,
            alignment: max(Int(OC_RUN_QUEUE_LINE), MemoryLayout<WorkerState>.alignment)
        )
        for worker in 0..<workers {
            let block = memory + worker * Self.workerBytes
            // Sound: the block is fresh memory of workerBytes, nothing bound there yet, with
            // each of the three regions big enough and suitably aligned for what it holds.
            let ring = block.bindMemory(to: oc_run_queue.self, capacity: 1)
            // Zeroed so the memory counts as initialized for Swift; the C side then sets it up.
            ring.initialize(to: oc_run_queue())
            oc_run_queue_init(ring)
            let state = (block + Self.ringBytes).bindMemory(to: WorkerState.self, capacity: 1)
            // Distinct per worker (SplitMix64 takes any seed, zero included), and the same on
            // every run so that a schedule is reproducible.
            state.initialize(to: WorkerState(random: SplitMix64(seed: UInt64(worker))))
            let overflow = (block + Self.ringBytes + Self.stateBytes)
                .bindMemory(to: UnsafeMutableRawPointer?.self, capacity: Self.overflowCapacity)
            overflow.initialize(repeating: nil, count: Self.overflowCapacity)
        }
    }

    deinit {
        for worker in 0..<workerCount {
            // Nobody else can reach the rings once deinit runs, so this thread may act as owner.
            while let item = oc_run_queue_take_next(ring(worker)) ?? oc_run_queue_pop(ring(worker)) {
                Self.release(item)
            }
            // Sound: the regions init initialized, each deinitialized once; all trivial types.
            ring(worker).deinitialize(count: 1)
            state(worker).deinitialize(count: 1)
            overflow(worker).deinitialize(count: Self.overflowCapacity)
        }
        // Sound: allocated in init and reachable only through this object, which is going away.
        memory.deallocate()
    }

    private func ring(_ worker: Int) -> UnsafeMutablePointer<oc_run_queue> {
        // Sound: init bound this offset to oc_run_queue for the queues' lifetime.
        (memory + worker * Self.workerBytes).assumingMemoryBound(to: oc_run_queue.self)
    }

    private func state(_ worker: Int) -> UnsafeMutablePointer<WorkerState> {
        // Sound: init bound this offset to WorkerState for the queues' lifetime.
        (memory + worker * Self.workerBytes + Self.ringBytes).assumingMemoryBound(to: WorkerState.self)
    }

    /// The buffer `worker`'s ring spills into when full; owner thread only.
    private func overflow(_ worker: Int) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        // Sound: init bound this offset to overflowCapacity optional pointers for the queues' lifetime.
        (memory + worker * Self.workerBytes + Self.ringBytes + Self.stateBytes)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    /// A +1 reference to travel through a C ring.
    private static func retained(_ element: Element) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(element).toOpaque()
    }

    /// The element behind a pointer from a ring, taking over its +1.
    private static func take(_ item: UnsafeMutableRawPointer) -> Element {
        // Sound: every pointer in a ring came from `retained` and leaves a ring exactly once
        // (the claim on the ring's head is what hands it out).
        Unmanaged<Element>.fromOpaque(item).takeRetainedValue()
    }

    /// Drops the +1 of a pointer that leaves a ring with nobody to take it.
    private static func release(_ item: UnsafeMutableRawPointer) {
        // Sound: as in `take`; this is the item's one way out of the ring.
        Unmanaged<Element>.fromOpaque(item).release()
    }

    /// Queues `element` as `worker`'s next element, or on the global queue when `worker` is nil.
    ///
    /// With a worker, the caller must be that worker's owner thread. The element it replaces as
    /// the next goes to the back of the ring; when the ring is full, its older half and that
    /// element move to the global queue, where every worker can find them.
    func push(_ element: Element, worker: Int?) {
        guard let worker else {
            global.push(element)
            return
        }
        precondition(worker >= 0 && worker < workerCount, "no worker \(worker)")
        // A buffer kept per worker, not a temporary one: at 129 pointers a temporary would be
        // just over the size Swift stack-allocates without asking the runtime first.
        let overflow = overflow(worker)
        var spilled: UInt32 = 0
        // Sound: the buffer holds OC_RUN_QUEUE_OVERFLOW_CAPACITY pointers, all the C side ever
        // writes, and only this (the owner) thread uses it.
        if oc_run_queue_push_next(ring(worker), Self.retained(element), overflow, &spilled) { return }
        // Sound: the C side wrote the first `spilled` entries, each a +1 reference it gave up.
        let spill = UnsafeBufferPointer(start: overflow, count: Int(spilled))
        global.push(contentsOf: spill.lazy.map { item in
            // Nil would mean a hole in the ring; the C side never hands one out.
            guard let item else { preconditionFailure("a ring spilled an empty slot") }
            return Self.take(item)
        })
    }

    /// Queues `element` on the global queue; any thread may call this.
    func pushGlobal(_ element: Element) {
        global.push(element)
    }

    /// The next element for `worker` to run, or nil when no queue had one; owner thread only.
    ///
    /// Looks in this order: on every 61st call the global queue first; then the worker's next
    /// element and its ring (the ring first on every 8th call, so that a chain of tasks each
    /// pushing the next cannot starve the ring); then a steal of half of one sibling's ring
    /// (trying each sibling once, from a random one on); then the global queue, taking a share
    /// of it onto the (empty) ring along with the element returned, so that the next pops
    /// need no lock; last a sibling's next element, after giving its owner a moment to take
    /// it (`stealNext`).
    func pop(worker: Int) -> Element? {
        precondition(worker >= 0 && worker < workerCount, "no worker \(worker)")
        let state = state(worker)
        state.pointee.ticks &+= 1
        if state.pointee.ticks % Self.globalCheckInterval == 0, let element = global.pop() {
            return element
        }
        let ring = ring(worker)
        let own = state.pointee.ticks % Self.ringFirstInterval == 0
            ? oc_run_queue_pop(ring) ?? oc_run_queue_take_next(ring)
            : oc_run_queue_take_next(ring) ?? oc_run_queue_pop(ring)
        if let own {
            return Self.take(own)
        }
        if let element = steal(into: worker, state: state) {
            return element
        }
        return popGlobalShare(worker: worker) ?? stealNext(into: worker, state: state)
    }

    /// How often a pop looks at the ring before the next element.
    static var ringFirstInterval: UInt64 { 8 }

    /// How long a thief leaves a sibling's next element to its owner before taking it. A task
    /// pushed as the next one was usually just spawned by the task running there, which is
    /// about to wait for it (a join, a channel): run there, the two share a thread and talk
    /// without waking another (Go's runnext). Go's thieves wait 3 µs; here the owner may first
    /// have to make a worker coroutine (a new stack) for the task, and with 3 µs an idle sibling
    /// woken by the spawn still took it now and then. Where the owner is held in a long call,
    /// the element waits this long more than the ring's.
    static var nextStealDelayNanoseconds: UInt64 { 20_000 }

    /// Takes the next element of the first sibling that has one once `nextStealDelayNanoseconds`
    /// passed without its owner taking it; nil when no sibling has one.
    private func stealNext(into worker: Int, state: UnsafeMutablePointer<WorkerState>) -> Element? {
        for sibling in siblings(of: worker, state: state) {
            let victim = ring(sibling)
            guard oc_run_queue_has_next(victim) else { continue }
            let until = monotonicNanoseconds() &+ Self.nextStealDelayNanoseconds
            while oc_run_queue_has_next(victim) && monotonicNanoseconds() < until {
                for _ in 0..<16 { oc_cpu_relax() }
            }
            if let item = oc_run_queue_steal_next(victim) {
                stealCounts[worker].increment()
                return Self.take(item)
            }
        }
        return nil
    }

    /// The global queue's front element, with up to an even split of what follows (at most half
    /// a ring) moved onto `worker`'s ring: taking items one lock acquisition at a time would
    /// have every idle worker queue on the lock whenever a ring spills.
    private func popGlobalShare(worker: Int) -> Element? {
        guard !global.isEmpty else { return nil }
        let ring = ring(worker)
        let capacity = Int(OC_RUN_QUEUE_CAPACITY)
        // Only this thread pushes to the ring and others only take from it, so the room seen
        // here can only grow before the moves below: they all fit.
        let room = capacity - Int(oc_run_queue_count(ring))
        let extra = min(global.count / workerCount, capacity / 2, room)
        guard extra > 0 else { return global.pop() }
        let overflow = overflow(worker)
        return global.pop(movingUpTo: extra) { element in
            var spilled: UInt32 = 0
            // Sound: the owner's overflow buffer has room for all the C side may write; it
            // writes nothing here, since the ring has room.
            let fitted = oc_run_queue_push(ring, Self.retained(element), overflow, &spilled)
            precondition(fitted, "a share of the global queue overflowed the ring it was measured for")
        }
    }

    /// Takes half of the first sibling's ring that has anything, returning its oldest element.
    private func steal(into worker: Int, state: UnsafeMutablePointer<WorkerState>) -> Element? {
        for victim in siblings(of: worker, state: state) {
            if let item = oc_run_queue_steal(ring(victim), ring(worker)) {
                stealCounts[worker].increment()
                return Self.take(item)
            }
        }
        return nil
    }

    /// Every worker but `worker`, each once, from a random one on: the order a thief looks in.
    private func siblings(of worker: Int, state: UnsafeMutablePointer<WorkerState>) -> some Sequence<Int> {
        let siblings = workerCount - 1
        let start = siblings > 0 ? Int(state.pointee.random.next() % UInt64(siblings)) : 0
        // Skips `worker` itself: siblings are the next `siblings` indices after it, cyclically.
        return (0..<siblings).lazy.map { [workerCount] offset in (worker + 1 + (start + offset) % siblings) % workerCount }
    }

    /// The number of elements on `worker`'s ring; may be stale by the time it is used.
    func localCount(worker: Int) -> Int {
        precondition(worker >= 0 && worker < workerCount, "no worker \(worker)")
        return Int(oc_run_queue_count(ring(worker)))
    }

    /// Whether every queue looks empty; may be stale by the time it is used.
    func isEmpty() -> Bool {
        global.isEmpty && (0..<workerCount).allSatisfy { oc_run_queue_count(ring($0)) == 0 }
    }
}
