import CCoroutineCore
import Glibc

extension Syscall {
    /// `socket(2)`. Inside a coroutine the socket is created non-blocking in the kernel (no
    /// extra call), while the user still sees the blocking socket asked for.
    public static func socket(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) -> Int32 {
        let (flags, mode) = socketCreation(type)
        let fd = oc_sys_socket(domain, flags, protocolNumber)
        if fd >= 0 {
            Descriptor(fd)?.adopt(mode)
        }
        return fd
    }

    /// `socketpair(2)`, with both ends treated as `socket` treats its socket.
    public static func socketpair(
        _ domain: Int32, _ type: Int32, _ protocolNumber: Int32, _ pair: UnsafeMutablePointer<Int32>?
    ) -> Int32 {
        let (flags, mode) = socketCreation(type)
        let result = oc_sys_socketpair(domain, flags, protocolNumber, pair)
        if result == 0, let pair {
            Descriptor(pair[0])?.adopt(mode)
            Descriptor(pair[1])?.adopt(mode)
        }
        return result
    }

    /// `connect(2)`. On a blocking socket a coroutine starts the connection, waits until the
    /// socket is writable (at most SO_SNDTIMEO, after which the result is `EINPROGRESS`, as
    /// Linux's own blocking connect reports a timeout), then asks the kernel once more, which
    /// completes the connection or reports why it failed, exactly as a blocking connect
    /// returns. A non-blocking socket returns `EINPROGRESS` at once.
    public static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
        guard let descriptor = preparedSocket(fd) else { return oc_sys_connect(fd, address, length) }
        let deadline = descriptor.deadline(for: .writable)
        var connecting = false
        while true {
            let result = oc_sys_connect(fd, address, length)
            guard result < 0, descriptor.mode.waitsForRuntime else { return result }
            switch errno {
            case EINPROGRESS where !connecting, EALREADY where connecting:
                connecting = true
                guard waitUntilReady(fd, for: .writable, until: deadline, "connect") else {
                    if errno == EAGAIN { errno = EINPROGRESS }
                    return -1
                }
            case EISCONN where connecting:
                return 0
            case EAGAIN where !connecting:
                // A Unix socket whose listener's backlog is full. Nothing on this socket
                // signals room there, so a blocking connect is retried after a short sleep.
                if let deadline, monotonicNanoseconds() >= deadline { return -1 }
                guard usleep(1_000) == 0 else { return -1 }
            default:
                return result
            }
        }
    }

    /// `listen(2)`.
    public static func listen(_ fd: Int32, _ backlog: Int32) -> Int32 {
        oc_sys_listen(fd, backlog)
    }

    /// `accept(2)`: on a blocking socket, waits for a connection (at most SO_RCVTIMEO).
    public static func accept(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?
    ) -> Int32 {
        accept4(fd, address, length, 0)
    }

    /// `accept4(2)`: as `accept`; inside a coroutine the new socket is created non-blocking
    /// in the kernel, and shows the mode `flags` asked for.
    public static func accept4(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?,
        _ flags: Int32
    ) -> Int32 {
        let (flags, mode) = creationFlags(flags)
        let accepted = blocking(fd, .readable, "accept") {
            Int(oc_sys_accept4(fd, address, length, flags))
        }
        if accepted >= 0 {
            // A connection has its listener's type.
            let stream = Descriptor.existing(fd)?.recordedMode.intersection(.stream) ?? []
            Descriptor(Int32(accepted))?.adopt(mode.union(stream))
        }
        return Int32(accepted)
    }

    /// `shutdown(2)`. Coroutines waiting on the socket wake through its hang-up event.
    public static func shutdown(_ fd: Int32, _ how: Int32) -> Int32 {
        oc_sys_shutdown(fd, how)
    }

    /// `creationFlags` for a new socket of `type`, whose mode also records a stream socket
    /// (SOCK_STREAM, whatever flags the type carries).
    private static func socketCreation(_ type: Int32) -> (Int32, Descriptor.Mode) {
        let (flags, mode) = creationFlags(type)
        let typeFlags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return (flags, type & ~typeFlags == Int32(SOCK_STREAM.rawValue) ? mode.union(.stream) : mode)
    }

    /// The flags to create a socket with, and how to record it: inside a coroutine a socket
    /// the user wants blocking is made non-blocking in the kernel from the start.
    private static func creationFlags(_ flags: Int32) -> (Int32, Descriptor.Mode) {
        let nonBlockingBit = Int32(SOCK_NONBLOCK.rawValue)
        if flags & nonBlockingBit != 0 {
            return (flags, [.socket, .userNonBlocking])
        }
        guard Scheduler.directlyScheduled() != nil else { return (flags, .socket) }
        return (flags | nonBlockingBit, [.socket, .runtimeNonBlocking])
    }
}
