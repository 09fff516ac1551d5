import CCoroutineCore

/// A thread's parking spot: `park` sleeps until `unpark` or a timeout, and an `unpark` that
/// comes first is remembered, so a wakeup is never lost between checking for work and sleeping.
final class Parker: @unchecked Sendable {
    // @unchecked Sendable: the state is one futex word changed only through C11 atomics.
    private let spot: UnsafeMutablePointer<oc_parker>

    init() {
        spot = .allocate(capacity: 1)
        spot.initialize(to: oc_parker())
    }

    deinit {
        spot.deallocate()
    }

    /// Sleeps until unparked, or until `timeout` nanoseconds passed when given.
    func park(timeoutNanoseconds timeout: UInt64? = nil) {
        oc_parker_park(spot, timeout.map { Int64(clamping: $0) } ?? -1)
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    func unpark() {
        oc_parker_unpark(spot)
    }
}
