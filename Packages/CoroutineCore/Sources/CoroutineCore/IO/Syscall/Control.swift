import CCoroutineCore
import Glibc

extension Syscall {
    /// `fcntl(2)` with an integer argument (or none).
    ///
    /// - `F_GETFL` shows the mode the user asked for: a socket the runtime keeps
    ///   non-blocking in the kernel reads as blocking unless the user made it non-blocking.
    /// - `F_SETFL` records the user's `O_NONBLOCK`, for the number and its copies (they share
    ///   it), and keeps the runtime's in the kernel.
    /// - `F_DUPFD` and `F_DUPFD_CLOEXEC` share what is known, as `dup` does.
    /// - `F_SETLKW` and `F_OFD_SETLKW`, which wait for a lock, wait on the blocking pool in a
    ///   coroutine.
    /// - Everything else goes to the kernel unchanged.
    public static func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int = 0) -> Int32 {
        switch command {
        case F_GETFL:
            let status = oc_sys_fcntl(fd, command, argument)
            guard status >= 0, let descriptor = Descriptor(fd), descriptor.mode.waitsForRuntime else { return status }
            return status & ~O_NONBLOCK
        case F_SETFL:
            guard let descriptor = Descriptor(fd), descriptor.recordsUserMode else {
                return oc_sys_fcntl(fd, command, argument)
            }
            let keepsRuntimeMode = descriptor.mode.contains(.runtimeNonBlocking)
            let result = oc_sys_fcntl(fd, command, keepsRuntimeMode ? argument | Int(O_NONBLOCK) : argument)
            if result == 0 {
                descriptor.setUserNonBlocking(argument & Int(O_NONBLOCK) != 0)
            }
            return result
        case F_DUPFD, F_DUPFD_CLOEXEC:
            let duplicate = oc_sys_fcntl(fd, command, argument)
            recordDuplicate(duplicate, of: fd)
            return duplicate
        case _ where oc_fcntl_waits_for_lock(command):
            return runOnBlockingPool("fcntl") { oc_sys_fcntl(fd, command, argument) }
        default:
            return oc_sys_fcntl(fd, command, argument)
        }
    }

    /// `ioctl(2)` with a pointer argument. `FIONBIO` on a socket records the user's mode,
    /// as `fcntl(F_SETFL)` does; every other request goes to the kernel unchanged.
    public static func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> Int32 {
        let result = oc_sys_ioctl(fd, request, argument)
        guard result == 0, request == UInt(FIONBIO), let argument,
              let descriptor = Descriptor(fd), descriptor.recordsUserMode
        else { return result }
        // The kernel read the argument, so it is readable.
        let nonBlocking = argument.load(as: Int32.self) != 0
        descriptor.setUserNonBlocking(nonBlocking)
        if !nonBlocking, descriptor.mode.contains(.runtimeNonBlocking) {
            // The kernel just turned off the runtime's O_NONBLOCK; turn it back on.
            var on: Int32 = 1
            _ = oc_sys_ioctl(fd, request, &on)
        }
        return result
    }

    /// `getsockopt(2)`. Timeouts are the kernel's own (set through `setsockopt`), rounded
    /// as the kernel rounds them.
    public static func getsockopt(
        _ fd: Int32, _ level: Int32, _ name: Int32, _ value: UnsafeMutableRawPointer?,
        _ length: UnsafeMutablePointer<socklen_t>?
    ) -> Int32 {
        oc_sys_getsockopt(fd, level, name, value, length)
    }

    /// `setsockopt(2)`. `SO_RCVTIMEO` and `SO_SNDTIMEO` also become the time limits of the
    /// runtime's waits on the socket (after which a blocking call fails with `EAGAIN`); they
    /// can be changed any number of times, and zero removes the limit.
    public static func setsockopt(
        _ fd: Int32, _ level: Int32, _ name: Int32, _ value: UnsafeRawPointer?, _ length: socklen_t
    ) -> Int32 {
        let result = oc_sys_setsockopt(fd, level, name, value, length)
        guard result == 0, level == SOL_SOCKET, let value, let direction = timeoutDirection(name),
              let descriptor = Descriptor(fd)
        else { return result }
        // The kernel read a whole timeval, so it is readable.
        let requested = value.load(as: timeval.self)
        descriptor.setTimeout(direction, nanoseconds: kernelTimeout(fd, direction, requested: requested))
        return result
    }

    private static func timeoutDirection(_ name: Int32) -> FileEvents? {
        switch name {
        case Int32(OC_SO_RCVTIMEO_OLD), Int32(OC_SO_RCVTIMEO_NEW): .readable
        case Int32(OC_SO_SNDTIMEO_OLD), Int32(OC_SO_SNDTIMEO_NEW): .writable
        default: nil
        }
    }

    /// The timeout the kernel now holds, in the descriptor table's terms: 0 for none, `.max`
    /// for a negative request (which the kernel keeps as "expire at once"), otherwise what
    /// the kernel reads back, rounded to its clock ticks.
    private static func kernelTimeout(_ fd: Int32, _ direction: FileEvents, requested: timeval) -> UInt64 {
        if requested.tv_sec < 0 { return .max }
        if requested.tv_sec == 0 && requested.tv_usec == 0 { return 0 }
        var stored = requested
        var size = socklen_t(MemoryLayout<timeval>.size)
        let name = Int32(direction == .readable ? OC_SO_RCVTIMEO_OLD : OC_SO_SNDTIMEO_OLD)
        let saved = errno
        if oc_sys_getsockopt(fd, SOL_SOCKET, name, &stored, &size) != 0 {
            stored = requested
            errno = saved
        }
        let nanoseconds = UInt64(stored.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return 0 }
        return max(1, nanoseconds.partialValue &+ UInt64(stored.tv_usec) * 1_000)
    }
}
