import CCoroutineHook
import CoroutineCore
import Glibc

// Files, locks, child processes and name lookups. In a coroutine, a file's calls go through
// io_uring (the layer's Files.swift), and the calls no event loop can wait for (locks, child
// processes, name lookups) run on the blocking pool while only the coroutine waits.


@c(oc_hook_fsync) @implementation
func hookFsync(_ fd: Int32) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.fsync(fd) : libc.fsync(fd)
}

@c(oc_hook_fdatasync) @implementation
func hookFdatasync(_ fd: Int32) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.fdatasync(fd) : libc.fdatasync(fd)
}

@c(oc_hook_fstat) @implementation
func hookFstat(_ fd: Int32, _ status: UnsafeMutablePointer<stat>?) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.fstat(fd, status) : libc.fstat(fd, status)
}

@c(oc_hook_fstat64) @implementation
func hookFstat64(_ fd: Int32, _ status: UnsafeMutablePointer<stat>?) -> Int32 {
    hookFstat(fd, status)
}

@c(oc_hook_statx) @implementation
func hookStatx(
    _ directory: Int32, _ path: UnsafePointer<CChar>?, _ flags: Int32, _ mask: UInt32, _ result: UnsafeMutableRawPointer?
) -> Int32 {
    guard Route.inCoroutine else { return libc.statx(directory, path, flags, mask, result) }
    return Syscall.statx(directory, path, flags, mask, result)
}

@c(oc_hook_flock) @implementation
func hookFlock(_ fd: Int32, _ operation: Int32) -> Int32 {
    Route.inCoroutine ? Syscall.flock(fd, operation) : libc.flock(fd, operation)
}

@c(oc_hook_wait4) @implementation
func hookWait4(
    _ pid: pid_t, _ status: UnsafeMutablePointer<Int32>?, _ options: Int32, _ usage: UnsafeMutablePointer<rusage>?
) -> pid_t {
    Route.inCoroutine ? Syscall.wait4(pid, status, options, usage) : libc.wait4(pid, status, options, usage)
}

@c(oc_hook_waitpid) @implementation
func hookWaitpid(_ pid: pid_t, _ status: UnsafeMutablePointer<Int32>?, _ options: Int32) -> pid_t {
    hookWait4(pid, status, options, nil)
}

@c(oc_hook___waitpid) @implementation
func hookInternalWaitpid(_ pid: pid_t, _ status: UnsafeMutablePointer<Int32>?, _ options: Int32) -> pid_t {
    hookWait4(pid, status, options, nil)
}

@c(oc_hook_wait) @implementation
func hookWait(_ status: UnsafeMutablePointer<Int32>?) -> pid_t {
    hookWait4(-1, status, 0, nil)
}

// Name lookups. glibc's resolver makes its own socket calls inside libc, which no hook sees,
// so a lookup runs whole on the blocking pool. h_errno, which the gethostbyname family sets,
// is per thread: it is carried back to the coroutine with the result.

@c(oc_hook_getaddrinfo) @implementation
func hookGetaddrinfo(
    _ node: UnsafePointer<CChar>?, _ service: UnsafePointer<CChar>?, _ hints: UnsafePointer<addrinfo>?,
    _ result: UnsafeMutablePointer<UnsafeMutablePointer<addrinfo>?>?
) -> Int32 {
    guard Route.inCoroutine else { return libc.getaddrinfo(node, service, hints, result) }
    return Syscall.runOnBlockingPool("getaddrinfo") { libc.getaddrinfo(node, service, hints, result) }
}

@c(oc_hook_getnameinfo) @implementation
func hookGetnameinfo(
    _ address: UnsafePointer<sockaddr>?, _ length: socklen_t, _ host: UnsafeMutablePointer<CChar>?, _ hostLength: socklen_t,
    _ service: UnsafeMutablePointer<CChar>?, _ serviceLength: socklen_t, _ flags: Int32
) -> Int32 {
    guard Route.inCoroutine else {
        return libc.getnameinfo(address, length, host, hostLength, service, serviceLength, flags)
    }
    return Syscall.runOnBlockingPool("getnameinfo") {
        libc.getnameinfo(address, length, host, hostLength, service, serviceLength, flags)
    }
}

@c(oc_hook_gethostbyname) @implementation
func hookGethostbyname(_ name: UnsafePointer<CChar>?) -> UnsafeMutablePointer<hostent>? {
    guard Route.inCoroutine else { return libc.gethostbyname(name) }
    return withHostErrno("gethostbyname") { libc.gethostbyname(name) }
}

@c(oc_hook_gethostbyname_r) @implementation
func hookGethostbynameR(
    _ name: UnsafePointer<CChar>?, _ entry: UnsafeMutablePointer<hostent>?, _ buffer: UnsafeMutablePointer<CChar>?,
    _ length: Int, _ result: UnsafeMutablePointer<UnsafeMutablePointer<hostent>?>?, _ error: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guard Route.inCoroutine else { return libc.gethostbynameR(name, entry, buffer, length, result, error) }
    return Syscall.runOnBlockingPool("gethostbyname_r") { libc.gethostbynameR(name, entry, buffer, length, result, error) }
}

/// Runs a lookup of the gethostbyname family on the blocking pool and sets this thread's
/// h_errno to the one the lookup left.
private func withHostErrno<Result>(_ name: String, _ lookup: @escaping () -> Result) -> Result {
    let (result, hostErrno) = Syscall.runOnBlockingPool(name) { (lookup(), __h_errno_location().pointee) }
    __h_errno_location().pointee = hostErrno
    return result
}
