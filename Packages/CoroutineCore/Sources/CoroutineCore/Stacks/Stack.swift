import CCoroutineCore

/// Sizes of coroutine stacks.
///
/// Stacks are reserved, not committed: only the pages a coroutine touches cost memory,
/// so a generous size is cheap. Swift frames are large, several times larger in debug
/// builds, which is why the default is well above what C coroutine libraries use.
public enum StackSize {
    /// The size a coroutine gets when none is given: 512 KiB.
    public static let `default` = 512 * 1024
    /// The smallest stack a coroutine may have: 16 KiB.
    public static let minimum = 16 * 1024
    /// The largest stack a coroutine may have: 1 GiB.
    public static let maximum = 1 << 30
    /// The guard region below every stack: 64 KiB, so that a large frame cannot step over it.
    public static let guardSize = 64 * 1024
}

/// One stack: the usable range `[low, high)` and the guard region `[guardLow, low)` below it.
struct Stack: @unchecked Sendable {
    // Sendable: a stack is plain addresses of memory handed between threads by the pool,
    // and only one owner uses it at a time.
    let guardLow: UnsafeMutableRawPointer
    let low: UnsafeMutableRawPointer
    let high: UnsafeMutableRawPointer

    var size: Int { low.distance(to: high) }

    init(guardLow: UnsafeMutableRawPointer, low: UnsafeMutableRawPointer, high: UnsafeMutableRawPointer) {
        self.guardLow = guardLow
        self.low = low
        self.high = high
    }

    /// The stack a C record describes; nil for a record of null addresses.
    init?(_ record: oc_stack) {
        guard let guardLow = UnsafeMutableRawPointer(bitPattern: record.guard_low),
              let low = UnsafeMutableRawPointer(bitPattern: record.low),
              let high = UnsafeMutableRawPointer(bitPattern: record.high) else { return nil }
        self.init(guardLow: guardLow, low: low, high: high)
    }

    /// The C record of this stack, for the per-thread cache.
    var record: oc_stack {
        oc_stack(guard_low: UInt(bitPattern: guardLow), low: UInt(bitPattern: low), high: UInt(bitPattern: high))
    }
}
