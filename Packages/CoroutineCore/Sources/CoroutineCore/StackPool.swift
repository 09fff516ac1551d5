import Synchronization

/// Hands out stacks and takes them back for reuse.
///
/// Recycled stacks keep their pages while few are idle ("warm", reused with no page
/// faults); beyond `warmLimit` idle stacks of a size, a recycled stack gives its pages back
/// to the kernel first ("cold": address space only). Thread-safe.
final class StackPool: Sendable {
    /// The pool every coroutine draws from.
    static let shared = StackPool()

    /// Idle stacks per size that keep their pages.
    let warmLimit: Int

    private struct Shelf {
        var warm: [Stack] = []
        var cold: [Stack] = []
    }

    private struct State {
        var allocator = StackAllocator()
        var shelves: [Int: Shelf] = [:]
    }

    private let state = Mutex(State())

    init(warmLimit: Int = 64) {
        self.warmLimit = warmLimit
    }

    /// How guard regions are installed by this pool.
    var guardMechanism: StackGuardMechanism {
        state.withLock { $0.allocator.mechanism }
    }

    /// A stack of at least `size` bytes: an idle one if any, else a new one.
    func take(size: Int) throws(CoroutineError) -> Stack {
        try state.withLock { (state) throws(CoroutineError) -> Stack in
            let size = try state.allocator.normalizedSize(size)
            if let stack = state.shelves[size]?.warm.popLast() ?? state.shelves[size]?.cold.popLast() {
                return stack
            }
            return try state.allocator.allocate(size: size)
        }
    }

    /// Takes back a stack nobody runs on any more.
    func recycle(_ stack: Stack) {
        state.withLock { state in
            var shelf = state.shelves[stack.size, default: Shelf()]
            state.shelves[stack.size] = nil
            if shelf.warm.count < warmLimit {
                shelf.warm.append(stack)
            } else {
                state.allocator.releasePages(of: stack)
                shelf.cold.append(stack)
            }
            state.shelves[stack.size] = shelf
        }
    }

    /// Idle stacks of `size` bytes: (keeping pages, pages given back).
    func idleCounts(size: Int) -> (warm: Int, cold: Int) {
        state.withLock { state in
            let shelf = state.shelves[size] ?? Shelf()
            return (shelf.warm.count, shelf.cold.count)
        }
    }
}
