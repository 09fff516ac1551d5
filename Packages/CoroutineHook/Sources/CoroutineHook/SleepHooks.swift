import CoroutineCore
import Glibc

private let libcSleep = libcFunction("sleep", as: (@convention(c) (UInt32) -> UInt32).self)
private let libcUsleep = libcFunction("usleep", as: (@convention(c) (UInt32) -> Int32).self)
private let libcNanosleep = libcFunction(
    "nanosleep", as: (@convention(c) (UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32).self)
private let libcClockNanosleep = libcFunction(
    "clock_nanosleep",
    as: (@convention(c) (clockid_t, Int32, UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32).self)

@_cdecl("sleep")
public func hookSleep(_ seconds: UInt32) -> UInt32 {
    Route.inCoroutine ? Syscall.sleep(seconds) : libcSleep(seconds)
}

@_cdecl("usleep")
public func hookUsleep(_ microseconds: UInt32) -> Int32 {
    Route.inCoroutine ? Syscall.usleep(microseconds) : libcUsleep(microseconds)
}

@_cdecl("nanosleep")
public func hookNanosleep(_ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
    Route.inCoroutine ? Syscall.nanosleep(request, remaining) : libcNanosleep(request, remaining)
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
        : libcClockNanosleep(clock, flags, request, remaining)
}
