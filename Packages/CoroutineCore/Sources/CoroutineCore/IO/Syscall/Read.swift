import CCoroutineCore
import Glibc

extension Syscall {
    /// `read(2)`: on a blocking socket, waits for data (at most SO_RCVTIMEO) and returns
    /// what is there, as libc's does; in a coroutine, a file is read through io_uring and a
    /// pipe or terminal waits for data on the event loop (Files.swift). Other descriptors go
    /// to the kernel.
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        switch fileRoute(fd) {
        case .storage(let call) where ringTakes(count): withVector(buffer, count) { call.readv(fd, $0, 1, at: -1, "read") }
        case .storage: oc_sys_read(fd, buffer, count)  // see `ringTakes`
        // A "negative" count fails at once (EFAULT), before any wait, where RWF_NOWAIT's
        // vector would say EINVAL.
        case .stream where count < 0: oc_sys_read(fd, buffer, count)
        case .stream: withVector(buffer, count) { streamRead(fd, $0, 1, "read") }
        case .other: blocking(fd, .readable, "read", receiving: count) { oc_sys_read(fd, buffer, count) }
        }
    }

    /// `readv(2)`, as `read`.
    public static func readv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
        switch fileRoute(fd) {
        case .storage(let call) where !ringAnswersOtherwise(vectors, count): call.readv(fd, vectors, count, at: -1, "readv")
        case .storage: oc_sys_readv(fd, vectors, count)
        case .stream: streamRead(fd, vectors, count, "readv")
        case .other:
            blocking(fd, .readable, "readv", receiving: totalLength(vectors, count)) { oc_sys_readv(fd, vectors, count) }
        }
    }

    /// `recv(2)`, as `recvfrom` without an address.
    public static func recv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        recvfrom(fd, buffer, count, flags, nil, nil)
    }

    /// `recvfrom(2)`, as `read`; `MSG_DONTWAIT` never waits, and `MSG_WAITALL` waits until
    /// the whole buffer is filled (or end of file, an error, or the timeout).
    public static func recvfrom(
        _ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32,
        _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?
    ) -> Int {
        let dontWait = flags & Int32(MSG_DONTWAIT) != 0
        guard flags & Int32(MSG_WAITALL) != 0 else {
            return blocking(fd, .readable, "recvfrom", dontWait: dontWait, receiving: consumed(count, flags)) {
                oc_sys_recvfrom(fd, buffer, count, flags, address, length)
            }
        }
        return blockingAll(fd, .readable, "recvfrom", total: count, dontWait: dontWait) { done in
            oc_sys_recvfrom(fd, buffer.map { $0 + done }, count - done, flags, address, length)
        }
    }

    /// `recvmsg(2)`, as `recvfrom`. With `MSG_WAITALL`, ancillary data and the address come
    /// from the first part received.
    public static func recvmsg(_ fd: Int32, _ message: UnsafeMutablePointer<msghdr>?, _ flags: Int32) -> Int {
        let dontWait = flags & Int32(MSG_DONTWAIT) != 0
        guard flags & Int32(MSG_WAITALL) != 0, let message else {
            let requested = message.map { totalLength($0.pointee.msg_iov, Int32(clamping: $0.pointee.msg_iovlen)) }
            return blocking(fd, .readable, "recvmsg", dontWait: dontWait, receiving: requested.flatMap { consumed($0, flags) }) {
                oc_sys_recvmsg(fd, message, flags)
            }
        }
        let original = message.pointee
        let total = totalLength(original.msg_iov, Int32(clamping: original.msg_iovlen))
        return blockingAll(fd, .readable, "recvmsg", total: total, dontWait: dontWait) { done in
            guard done > 0 else { return oc_sys_recvmsg(fd, message, flags) }
            var rest = msghdr()
            return withVectors(original.msg_iov, Int32(clamping: original.msg_iovlen), skipping: done) { vectors, count in
                rest.msg_iov = UnsafeMutablePointer(mutating: vectors)
                rest.msg_iovlen = Int(count)
                return oc_sys_recvmsg(fd, &rest, flags)
            }
        }
    }

    /// The bytes a receive asks to consume: none for a peek, which leaves the queue as it is.
    private static func consumed(_ count: Int, _ flags: Int32) -> Int? {
        flags & Int32(MSG_PEEK) != 0 ? nil : count
    }

    /// `pread(2)`: in a coroutine, a file is read through io_uring; everything else goes to
    /// the kernel (which also refuses a negative offset, io_uring's "file position").
    public static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
        guard offset >= 0, ringTakes(count), case .storage(let call) = fileRoute(fd) else { return oc_sys_pread(fd, buffer, count, offset) }
        return withVector(buffer, count) { call.readv(fd, $0, 1, at: Int64(offset), "pread") }
    }

    /// `preadv(2)`, as `pread`.
    public static func preadv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
        guard offset >= 0, !ringAnswersOtherwise(vectors, count), case .storage(let call) = fileRoute(fd) else {
            return oc_sys_preadv(fd, vectors, count, offset)
        }
        return call.readv(fd, vectors, count, at: Int64(offset), "preadv")
    }
}
