import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

/// Part of the runtime's serialized suite: the parks run in the one runtime of the process.
extension CoroutineRuntimeTests {
    /// An address to park on, distinct per test.
    private final class Spot: @unchecked Sendable {
        // @unchecked Sendable: only its address is used.
        let address = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        deinit { address.deallocate() }
    }

    @Test func parkedTasksWakeOneAtATimeInParkingOrder() throws {
        let spot = Spot()
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let woken = Mutex<[Int]>([])
            let parked = Atomic<Int>(0)
            let waiters = try (0..<3).map { index in
                try runtime.spawn {
                    let outcome = ParkingLot.park(at: spot.address, untilNanoseconds: nil) {
                        parked.add(1, ordering: .relaxed)
                        return true
                    }
                    #expect(outcome == .unparked)
                    woken.withLock { $0.append(index) }
                }
            }
            #expect(eventually(within: .seconds(5)) { parked.load(ordering: .relaxed) == 3 })
            for expected in 1...3 {
                #expect(ParkingLot.unpark(at: spot.address, all: false) == 1)
                #expect(eventually(within: .seconds(5)) { woken.withLock { $0.count } == expected })
            }
            #expect(ParkingLot.unpark(at: spot.address, all: false) == 0)
            for waiter in waiters { try waiter.join(timeout: .seconds(5)) }
            #expect(woken.withLock { $0 } == [0, 1, 2])
        }
    }

    @Test func unparkingAllWakesEveryWaiterOfThatAddressOnly() throws {
        let (spot, other) = (Spot(), Spot())
        try withRuntime {
            let parked = Atomic<Int>(0)
            let park = { @Sendable (address: UnsafeMutableRawPointer) in
                ParkingLot.park(at: address, untilNanoseconds: deadlineNanoseconds(after: .seconds(10))) {
                    parked.add(1, ordering: .relaxed)
                    return true
                }
            }
            let many = try (0..<50).map { _ in try runtime.spawn { park(spot.address) } }
            let bystander = try runtime.spawn { park(other.address) }
            #expect(eventually(within: .seconds(5)) { parked.load(ordering: .relaxed) == 51 })
            #expect(ParkingLot.unpark(at: spot.address, all: true) == 50)
            for waiter in many { #expect(try waiter.join(timeout: .seconds(5)) == .unparked) }
            #expect(!bystander.isFinished)
            #expect(ParkingLot.unpark(at: other.address, all: true) == 1)
            #expect(try bystander.join(timeout: .seconds(5)) == .unparked)
        }
    }

    @Test func aParkEndsAtItsDeadlineOrNeverStartsWhenTheCheckSaysSo() throws {
        let spot = Spot()
        try withRuntime {
            let timed = try runtime.spawn { () -> Parking.Outcome in
                ParkingLot.park(at: spot.address, untilNanoseconds: deadlineNanoseconds(after: .milliseconds(20))) { true }
            }
            #expect(try timed.join(timeout: .seconds(5)) == .timedOut)
            let skipped = try runtime.spawn { ParkingLot.park(at: spot.address, untilNanoseconds: nil) { false } }
            #expect(try skipped.join(timeout: .seconds(5)) == .notParked)
            // Neither left a waiter behind.
            #expect(ParkingLot.unpark(at: spot.address, all: true) == 0)
        }
    }

    /// A pthread wait is never interrupted: cancelling the task does not end its park.
    @Test func cancellingATaskDoesNotEndItsPark() throws {
        let spot = Spot()
        try withRuntime {
            let parked = Atomic<Bool>(false)
            let waiter = try runtime.spawn { () -> Parking.Outcome in
                ParkingLot.park(at: spot.address, untilNanoseconds: nil) {
                    parked.store(true, ordering: .relaxed)
                    return true
                }
            }
            #expect(eventually(within: .seconds(5)) { parked.load(ordering: .relaxed) })
            waiter.cancel()
            usleep(20_000)
            #expect(!waiter.isFinished)
            #expect(ParkingLot.unpark(at: spot.address, all: false) == 1)
            #expect(eventually(within: .seconds(5)) { waiter.isFinished })
        }
    }

    @Test func aPlainThreadParksByBlocking() throws {
        let spot = Spot()
        let unparker = Thread {
            while ParkingLot.unpark(at: spot.address, all: false) == 0 {
                usleep(1_000)
            }
        }
        unparker.start()
        #expect(ParkingLot.park(at: spot.address, untilNanoseconds: deadlineNanoseconds(after: .seconds(10))) { true } == .unparked)
    }
}
