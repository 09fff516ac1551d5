import CCoroutineHook
import CoroutineCore

// The Swift half of the wait hooks (pthread mutexes and conditions, semaphores, futexes):
// their waits, on the runtime's parking lot. The hooks themselves, and why they wait as they
// do, are in waits.c, thread_locks.c, semaphores.c and futex.c.

@c(oc_hook_park)
func hookPark(
    _ address: UnsafeRawPointer, _ deadline: Int64,
    _ shouldPark: @convention(c) (UnsafeMutableRawPointer?) -> Bool, _ context: UnsafeMutableRawPointer?
) -> oc_park_outcome {
    let limit = deadline < 0 ? nil : UInt64(deadline)
    switch ParkingLot.park(at: address, untilNanoseconds: limit, shouldPark: { shouldPark(context) }) {
    case .unparked: return OC_PARK_UNPARKED
    case .timedOut: return OC_PARK_TIMED_OUT
    case .notParked: return OC_PARK_NOT_PARKED
    case .cancelled, .closed:
        // A parking-lot park is neither cancellable nor a descriptor wait; were it to end so,
        // a spurious wakeup is the answer every caller already handles (it checks again).
        return OC_PARK_UNPARKED
    }
}

@c(oc_hook_unpark)
func hookUnpark(_ address: UnsafeRawPointer, _ all: Bool) -> Int32 {
    Int32(clamping: ParkingLot.unpark(at: address, all: all))
}
