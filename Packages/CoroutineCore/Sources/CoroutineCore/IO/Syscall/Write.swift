import CCoroutineCore
import Glibc

extension Syscall {
    /// `write(2)`: on a blocking socket, writes everything, waiting for room as often as
    /// needed (each wait at most SO_SNDTIMEO), and returns the count written, which is less
    /// than asked only when a wait timed out or was interrupted after some progress, as
    /// libc's. A non-blocking socket writes what fits. In a coroutine, a file is written
    /// through io_uring, and a pipe or terminal waits for room on the event loop
    /// (Files.swift). Other descriptors go to the kernel.
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        switch fileRoute(fd) {
        case .storage(let call) where ringTakes(count): withVector(buffer, count) { call.writev(fd, $0, 1, at: -1, "write") }
        case .storage: oc_sys_write(fd, buffer, count)  // see `ringTakes`
        // A "negative" count fails at once (EFAULT), before any wait, where RWF_NOWAIT's
        // vector would say EINVAL.
        case .stream where count < 0: oc_sys_write(fd, buffer, count)
        case .stream: withVector(buffer, count) { streamWrite(fd, $0, 1, "write") }
        case .other:
            blockingAll(fd, .writable, "write", total: count) { done in
                oc_sys_write(fd, buffer.map { $0 + done }, count - done)
            }
        }
    }

    /// `writev(2)`, as `write`.
    public static func writev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
        switch fileRoute(fd) {
        case .storage(let call) where !ringAnswersOtherwise(vectors, count): call.writev(fd, vectors, count, at: -1, "writev")
        case .storage: oc_sys_writev(fd, vectors, count)
        case .stream: streamWrite(fd, vectors, count, "writev")
        case .other:
            blockingAll(fd, .writable, "writev", total: totalLength(vectors, count)) { done in
                withVectors(vectors, count, skipping: done) { oc_sys_writev(fd, $0, $1) }
            }
        }
    }

    /// `send(2)`, as `sendto` without an address.
    public static func send(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        sendto(fd, buffer, count, flags, nil, 0)
    }

    /// `sendto(2)`, as `write`; `MSG_DONTWAIT` never waits.
    public static func sendto(
        _ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32,
        _ address: UnsafePointer<sockaddr>?, _ length: socklen_t
    ) -> Int {
        blockingAll(fd, .writable, "sendto", total: count, dontWait: flags & Int32(MSG_DONTWAIT) != 0) { done in
            oc_sys_sendto(fd, buffer.map { $0 + done }, count - done, flags, address, length)
        }
    }

    /// `sendmsg(2)`, as `write`. Ancillary data goes with the first part sent.
    public static func sendmsg(_ fd: Int32, _ message: UnsafePointer<msghdr>?, _ flags: Int32) -> Int {
        let dontWait = flags & Int32(MSG_DONTWAIT) != 0
        guard let message else {
            return blocking(fd, .writable, "sendmsg", dontWait: dontWait) { oc_sys_sendmsg(fd, message, flags) }
        }
        let original = message.pointee
        let count = Int32(clamping: original.msg_iovlen)
        return blockingAll(fd, .writable, "sendmsg", total: totalLength(original.msg_iov, count), dontWait: dontWait) { done in
            guard done > 0 else { return oc_sys_sendmsg(fd, message, flags) }
            var rest = original
            rest.msg_control = nil
            rest.msg_controllen = 0
            return withVectors(original.msg_iov, count, skipping: done) { vectors, count in
                rest.msg_iov = UnsafeMutablePointer(mutating: vectors)
                rest.msg_iovlen = Int(count)
                return oc_sys_sendmsg(fd, &rest, flags)
            }
        }
    }

    /// `pwrite(2)`: in a coroutine, a file is written through io_uring; everything else goes
    /// to the kernel (which also refuses a negative offset, io_uring's "file position").
    public static func pwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
        guard offset >= 0, ringTakes(count), case .storage(let call) = fileRoute(fd) else { return oc_sys_pwrite(fd, buffer, count, offset) }
        return withVector(buffer, count) { call.writev(fd, $0, 1, at: Int64(offset), "pwrite") }
    }

    /// `pwritev(2)`, as `pwrite`.
    public static func pwritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
        guard offset >= 0, !ringAnswersOtherwise(vectors, count), case .storage(let call) = fileRoute(fd) else {
            return oc_sys_pwritev(fd, vectors, count, offset)
        }
        return call.writev(fd, vectors, count, at: Int64(offset), "pwritev")
    }
}
