import CCoroutineHook
import CoroutineCore
import Glibc


// These change what the runtime knows about a descriptor, so they go to the layer wherever
// they are called: a close on a plain thread must still wake the coroutines waiting on it.

@c(oc_hook_close) @implementation
func hookClose(_ fd: Int32) -> Int32 {
    Route.always ? Syscall.close(fd) : libc.close(fd)
}

@c(oc_hook___close) @implementation
func hookInternalClose(_ fd: Int32) -> Int32 {
    hookClose(fd)
}

@c(oc_hook_dup) @implementation
func hookDup(_ fd: Int32) -> Int32 {
    Route.always ? Syscall.dup(fd) : libc.dup(fd)
}

@c(oc_hook_dup2) @implementation
func hookDup2(_ fd: Int32, _ target: Int32) -> Int32 {
    Route.always ? Syscall.dup2(fd, target) : libc.dup2(fd, target)
}

@c(oc_hook___dup2) @implementation
func hookInternalDup2(_ fd: Int32, _ target: Int32) -> Int32 {
    hookDup2(fd, target)
}

@c(oc_hook_dup3) @implementation
func hookDup3(_ fd: Int32, _ target: Int32, _ flags: Int32) -> Int32 {
    Route.always ? Syscall.dup3(fd, target, flags) : libc.dup3(fd, target, flags)
}

/// The target of the C entry points `fcntl`, `fcntl64` and `__fcntl` (variadic, so in C).
@c(oc_hook_fcntl)
func hookFcntl(_ fd: Int32, _ command: Int32, _ argument: Int) -> Int32 {
    Route.always ? Syscall.fcntl(fd, command, argument) : libc.fcntl(fd, command, argument)
}

/// The target of the C entry points `open`, `openat` and their other names (variadic, so in C)
/// while hooking is on.
@c(oc_hook_openat)
func hookOpenat(_ directory: Int32, _ path: UnsafePointer<CChar>?, _ flags: Int32, _ mode: UInt32) -> Int32 {
    Syscall.openat(directory, path, flags, mode_t(mode))
}

/// The target of the C entry point `ioctl` (variadic, so in C).
@c(oc_hook_ioctl)
func hookIoctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    Route.always ? Syscall.ioctl(fd, request, argument) : libc.ioctl(fd, request, argument)
}

@c(oc_hook_getsockopt) @implementation
func hookGetsockopt(
    _ fd: Int32, _ level: Int32, _ name: Int32, _ value: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>?
) -> Int32 {
    Route.always ? Syscall.getsockopt(fd, level, name, value, length) : libc.getsockopt(fd, level, name, value, length)
}

@c(oc_hook_setsockopt) @implementation
func hookSetsockopt(
    _ fd: Int32, _ level: Int32, _ name: Int32, _ value: UnsafeRawPointer?, _ length: socklen_t
) -> Int32 {
    Route.always ? Syscall.setsockopt(fd, level, name, value, length) : libc.setsockopt(fd, level, name, value, length)
}
