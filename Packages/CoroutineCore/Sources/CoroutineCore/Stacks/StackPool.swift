import CCoroutineCore
import Synchronization

/// Hands out stacks and takes them back for reuse.
///
/// `takeShared` and `recycleShared` first use up to 16 idle stacks per thread in a
/// thread-local cache, with no lock; a thread that exits hands its cached stacks to the shared
/// pool's shelves. On the shelves,
/// recycled stacks keep their pages while few are idle ("warm", reused with no page faults);
/// beyond `warmLimit` idle stacks of a size, a recycled stack gives its pages back to the
/// kernel first ("cold": address space only). Thread-safe.
final class StackPool: Sendable {
    /// The pool every coroutine draws from; threads cache its stacks.
    static let shared: StackPool = {
        oc_stack_cache_set_drain { records, count in
            guard let records else { return }
            for record in UnsafeBufferPointer(start: records, count: Int(count)) {
                if let stack = Stack(record) { StackPool.shared.recycle(stack) }
            }
        }
        return StackPool()
    }()

    /// A stack from the shared pool, trying this thread's cache before touching the pool.
    static func takeShared(size: Int) throws(CoroutineError) -> Stack {
        var record = oc_stack()
        if oc_stack_cache_take(UInt(try StackAllocator.normalizedSize(size)), &record), let stack = Stack(record) {
            return stack
        }
        return try shared.take(size: size)
    }

    /// Gives a stack back to the shared pool, through this thread's cache when it has room.
    static func recycleShared(_ stack: Stack) {
        if !oc_stack_cache_put(stack.record) {
            shared.recycle(stack)
        }
    }

    /// Idle stacks per size on the shelves that keep their pages.
    let warmLimit: Int

    /// Idle stacks of one size.
    private struct Shelf {
        let size: Int
        var warm: [Stack] = []
        var cold: [Stack] = []
    }

    private struct State {
        var allocator = StackAllocator()
        // Few distinct sizes exist, so a linear search beats hashing.
        var shelves: [Shelf] = []

        mutating func shelfIndex(size: Int) -> Int {
            if let index = shelves.firstIndex(where: { $0.size == size }) { return index }
            shelves.append(Shelf(size: size))
            return shelves.count - 1
        }
    }

    private let state = Mutex(State())

    init(warmLimit: Int = 64) {
        self.warmLimit = warmLimit
    }

    /// How guard regions are installed by this pool.
    var guardMechanism: StackGuardMechanism {
        state.withLock { $0.allocator.mechanism }
    }

    /// A stack of at least `size` bytes from the shelves: an idle one if any, else a new one.
    func take(size: Int) throws(CoroutineError) -> Stack {
        let size = try StackAllocator.normalizedSize(size)
        return try state.withLock { (state) throws(CoroutineError) -> Stack in
            let index = state.shelfIndex(size: size)
            if let stack = state.shelves[index].warm.popLast() ?? state.shelves[index].cold.popLast() {
                return stack
            }
            return try state.allocator.allocate(size: size)
        }
    }

    /// Idle stacks of `size` bytes on the shelves: (keeping pages, pages given back).
    func idleCounts(size: Int) -> (warm: Int, cold: Int) {
        state.withLock { state in
            let shelf = state.shelves.first { $0.size == size }
            return (shelf?.warm.count ?? 0, shelf?.cold.count ?? 0)
        }
    }

    /// Takes back a stack nobody runs on any more.
    func recycle(_ stack: Stack) {
        state.withLock { state in
            let index = state.shelfIndex(size: stack.size)
            if state.shelves[index].warm.count < warmLimit {
                state.shelves[index].warm.append(stack)
            } else {
                state.allocator.releasePages(of: stack)
                state.shelves[index].cold.append(stack)
            }
        }
    }
}
