import CoroutineCore
import Glibc


@_cdecl("sleep")
public func hookSleep(_ seconds: UInt32) -> UInt32 {
    Route.inCoroutine ? Syscall.sleep(seconds) : libc.sleep(seconds)
}

@_cdecl("usleep")
public func hookUsleep(_ microseconds: UInt32) -> Int32 {
    Route.inCoroutine ? Syscall.usleep(microseconds) : libc.usleep(microseconds)
}

@_cdecl("nanosleep")
public func hookNanosleep(_ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
    Route.inCoroutine ? Syscall.nanosleep(request, remaining) : libc.nanosleep(request, remaining)
}

@_cdecl("__nanosleep")
public func hookInternalNanosleep(_ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
    hookNanosleep(request, remaining)
}

@_cdecl("clock_nanosleep")
public func hookClockNanosleep(
    _ clock: clockid_t, _ flags: Int32, _ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?
) -> Int32 {
    Route.inCoroutine
        ? Syscall.clock_nanosleep(clock, flags, request, remaining)
        : libc.clockNanosleep(clock, flags, request, remaining)
}
