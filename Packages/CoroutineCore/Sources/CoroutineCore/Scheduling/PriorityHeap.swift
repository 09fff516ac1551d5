/// A binary min-heap keyed by `Key`, first-in first-out among equal keys.
struct PriorityHeap<Key: Comparable, Element> {
    private var entries: [(key: Key, arrival: UInt64, element: Element)] = []
    private var arrivals: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// The smallest key, if any.
    var firstKey: Key? { entries.first?.key }
    /// The element `pop` would return, left in the heap.
    var first: Element? { entries.first?.element }

    /// Every element, in no particular order.
    var elements: some Sequence<Element> { entries.lazy.map(\.element) }

    mutating func push(_ element: Element, key: Key) {
        arrivals &+= 1
        entries.append((key, arrivals, element))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes the element with the smallest key (the earliest among equals).
    mutating func pop() -> Element? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast().element
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { break }
            let right = left + 1
            let smaller = right < entries.count && precedes(right, left) ? right : left
            guard precedes(smaller, parent) else { break }
            entries.swapAt(parent, smaller)
            parent = smaller
        }
        return first
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        entries[a].key < entries[b].key || (entries[a].key == entries[b].key && entries[a].arrival < entries[b].arrival)
    }
}
