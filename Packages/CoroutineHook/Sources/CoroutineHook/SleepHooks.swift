import CCoroutineHook
import CoroutineCore
import Glibc


@c(oc_hook_sleep) @implementation
func hookSleep(_ seconds: UInt32) -> UInt32 {
    Route.inCoroutine ? Syscall.sleep(seconds) : libc.sleep(seconds)
}

@c(oc_hook_usleep) @implementation
func hookUsleep(_ microseconds: UInt32) -> Int32 {
    Route.inCoroutine ? Syscall.usleep(microseconds) : libc.usleep(microseconds)
}

@c(oc_hook_nanosleep) @implementation
func hookNanosleep(_ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
    Route.inCoroutine ? Syscall.nanosleep(request, remaining) : libc.nanosleep(request, remaining)
}

@c(oc_hook___nanosleep) @implementation
func hookInternalNanosleep(_ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
    hookNanosleep(request, remaining)
}

@c(oc_hook_clock_nanosleep) @implementation
func hookClockNanosleep(
    _ clock: clockid_t, _ flags: Int32, _ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?
) -> Int32 {
    Route.inCoroutine
        ? Syscall.clock_nanosleep(clock, flags, request, remaining)
        : libc.clockNanosleep(clock, flags, request, remaining)
}
