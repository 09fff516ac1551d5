import Synchronization

/// Waits keyed by memory address: a coroutine parks on an address until another party
/// unparks it there, a deadline passes, or a check made after parking finds nothing to wait
/// for.
///
/// It is what lets a lock or condition variable that lives outside the runtime (a
/// `pthread_mutex_t`, a `pthread_cond_t`) suspend the coroutine that waits on it instead of
/// its thread: the hook library parks the waiter on the object's address and unparks it from
/// the unlock or signal. A parked plain thread blocks instead.
///
/// Addresses hash onto a fixed set of buckets, each with its own lock, so unrelated addresses
/// rarely contend. Nothing is allocated per address while nobody waits on it.
public enum ParkingLot {
    /// Parks the caller on `address` until it is unparked or `deadline` (monotonic
    /// nanoseconds) passes.
    ///
    /// `shouldPark` runs once the waiter is visible to `unpark`, before suspending: it checks
    /// the condition again (a lock that was released meanwhile), so that an unpark that came
    /// between the caller's own check and the park is never lost. When it returns false the
    /// call answers `.notParked`; if an unparker on another thread took the waiter meanwhile,
    /// the caller first waits for that wake to land (it is on its way) and passes it on to the
    /// next waiter, so that it can never resume the caller later, in the middle of another
    /// wait. The task's cancellation does not end a park, as it does not end a pthread wait:
    /// the outcome is `.unparked`, `.timedOut` or `.notParked`.
    public static func park(
        at address: UnsafeRawPointer, untilNanoseconds deadline: UInt64?, shouldPark: () -> Bool
    ) -> Parking.Outcome {
        let key = UInt(bitPattern: address)
        let bucket = bucket(for: key)
        var parked: ParkingToken?
        var neededNoWake = false
        let outcome = Parking.park(untilNanoseconds: deadline, reason: .lock(address), cancellable: false) { token in
            bucket.add(token, at: key)
            parked = token
            guard shouldPark() else {
                // An unparker on another thread may have taken the token since it was added:
                // its wake is then on its way to this coroutine, and must land on a suspended
                // one, not resume it later from some other wait. Only a token still in the
                // bucket can be withdrawn.
                if bucket.remove(token, at: key) {
                    parked = nil
                    return false
                }
                neededNoWake = true
                return true
            }
            return true
        }
        guard let parked else { return .notParked }
        if neededNoWake {
            // The wake was meant for a waiter; this one needed none: pass it on.
            unpark(at: address, all: false)
            return .notParked
        }
        guard outcome == .unparked else {
            bucket.remove(parked, at: key)
            return .timedOut
        }
        return .unparked
    }

    /// Unparks one waiter on `address` (the longest parked), or all of them; returns how
    /// many it woke.
    @discardableResult
    public static func unpark(at address: UnsafeRawPointer, all: Bool) -> Int {
        let key = UInt(bitPattern: address)
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return 0 }
        let bucket = bucket(for: key)
        var woken = 0
        while let token = bucket.takeFirst(at: key) {
            if token.unpark() {
                woken += 1
                if !all { break }
            }
        }
        return woken
    }

    /// Waiters parked across all buckets.
    fileprivate static let waiting = Atomic<Int>(0)

    private static let buckets = (0..<64).map { _ in Bucket() }

    private static func bucket(for key: UInt) -> Bucket {
        // Objects are at least 8-byte aligned: the low bits carry no information.
        buckets[Int((key >> 4) ^ (key >> 10)) & (buckets.count - 1)]
    }
}

/// The waiters of the addresses that hash to one bucket, in parking order.
private final class Bucket: Sendable {
    private let queues = Mutex<[UInt: [ParkingToken]]>([:])

    func add(_ token: ParkingToken, at key: UInt) {
        queues.withLock { $0[key, default: []].append(token) }
        ParkingLot.waiting.add(1, ordering: .sequentiallyConsistent)
    }

    /// Takes `token` out; false when it was not there (an unparker took it).
    @discardableResult
    func remove(_ token: ParkingToken, at key: UInt) -> Bool {
        let removed = queues.withLock { queues -> Bool in
            guard let index = queues[key]?.firstIndex(where: { $0 === token }) else { return false }
            queues[key]?.remove(at: index)
            if queues[key]?.isEmpty == true { queues[key] = nil }
            return true
        }
        if removed { ParkingLot.waiting.subtract(1, ordering: .sequentiallyConsistent) }
        return removed
    }

    func takeFirst(at key: UInt) -> ParkingToken? {
        let token = queues.withLock { queues -> ParkingToken? in
            guard var queue = queues[key], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            queues[key] = queue.isEmpty ? nil : queue
            return first
        }
        if token != nil { ParkingLot.waiting.subtract(1, ordering: .sequentiallyConsistent) }
        return token
    }
}
