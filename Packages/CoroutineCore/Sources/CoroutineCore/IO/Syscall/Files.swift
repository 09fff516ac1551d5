import CCoroutineCore
import Glibc

// How calls on descriptors that are not sockets work in a coroutine. Anywhere else they go to
// the kernel, as libc's do.
//
//   storage   (regular files, directories, block devices) never wait for readiness but may
//             wait for the disk: the call goes to the thread's io_uring and the coroutine
//             suspends until it completes, or, where io_uring is off, missing or refuses the
//             operation, to the blocking pool.
//   streams   (pipes, FIFOs, terminals, eventfd, timerfd, signalfd, inotify) wait for
//             readiness like sockets, but the runtime never sets O_NONBLOCK on them: their
//             file description is often shared with other processes (a terminal with the
//             shell, a pipe with the process at its other end), which would see the change.
//             Each try passes RWF_NOWAIT instead (preadv2/pwritev2), which makes that one call
//             non-blocking; a kind that does not take it (a terminal) is checked for readiness
//             with poll(2) before a plain call. A stream the user made non-blocking goes to
//             the kernel as it is.

extension Syscall {
    /// Where a call on `fd` made here goes.
    enum FileRoute {
        /// Storage, from a scheduled coroutine.
        case storage(StorageCall)
        /// A stream the user sees blocking, from a scheduled coroutine.
        case stream
        /// Everything else: sockets (which `blocking` handles) and calls made outside
        /// coroutines.
        case other
    }

    // Inlined: decides every file call's route; the usual answer outside a coroutine,
    // `.other`, costs the check alone.
    @inline(__always)
    static func fileRoute(_ fd: Int32) -> FileRoute {
        guard let (scheduler, coroutine) = Scheduler.directlyScheduled(), let descriptor = Descriptor(fd) else {
            return .other
        }
        let mode = descriptor.mode
        if mode.contains(.storage) {
            return .storage(StorageCall(scheduler: scheduler, coroutine: coroutine))
        }
        if mode.contains(.pollable), !mode.contains(.userNonBlocking) {
            return .stream
        }
        return .other
    }

    /// A call on storage from a scheduled coroutine.
    struct StorageCall {
        let scheduler: Scheduler
        let coroutine: Unmanaged<ScheduledCoroutine>

        /// For calls that name no descriptor (open, statx): from a scheduled coroutine only.
        static var current: StorageCall? {
            Scheduler.directlyScheduled().map { StorageCall(scheduler: $0.0, coroutine: $0.1) }
        }

        /// Runs the call on the thread's io_uring when it has one that supports `operation`
        /// (`submit` queues it), else on the blocking pool (`call` makes it there). Returns
        /// the result, or -1 with errno set. `poolDecidesInvalid`: the ring's EINVAL is
        /// checked by the plain call on the pool (the call moved nothing, so making it again
        /// is safe).
        func run(
            _ name: String, _ operation: oc_ring_opcode, submit: (OpaquePointer, UInt64) -> Int32,
            poolDecidesInvalid: Bool = false, orOnPool call: @escaping () -> Int
        ) -> Int {
            if let ring = scheduler.ring, ring.supports(operation) {
                let result = ring.perform(name, in: scheduler, coroutine: coroutine, submit: submit)
                // Where the file's filesystem refuses the operation through io_uring, the
                // blocking pool makes the plain call.
                if result != -EOPNOTSUPP, result != -EINVAL || !poolDecidesInvalid {
                    guard result >= 0 else {
                        errno = -result
                        return -1
                    }
                    return Int(result)
                }
            }
            return Syscall.run(name, on: BlockingPool.files, call)
        }

        /// Two O_DIRECT cases go to the plain call on the pool. A read at the file position
        /// (`offset` -1): the ring reads there but leaves the position where it was (Linux
        /// 6.18), so the next read would read the same bytes again. A read the ring refuses
        /// with EINVAL: at the end of the file, with buffers out of alignment, the kernel's
        /// call returns 0.
        func readv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, at offset: Int64, _ name: String) -> Int {
            let plain = { offset < 0 ? oc_sys_readv(fd, vectors, count) : oc_sys_preadv(fd, vectors, count, off_t(offset)) }
            if offset < 0, oc_sys_fcntl(fd, F_GETFL, 0) & oc_open_direct != 0 {
                return Syscall.run(name, on: BlockingPool.files, plain)
            }
            return run(name, OC_RING_READV, submit: { oc_ring_readv($0, fd, vectors, UInt32(clamping: count), offset, $1) },
                       poolDecidesInvalid: true, orOnPool: plain)
        }

        func writev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, at offset: Int64, _ name: String) -> Int {
            run(name, OC_RING_WRITEV, submit: { oc_ring_writev($0, fd, vectors, UInt32(clamping: count), offset, $1) }) {
                offset < 0 ? oc_sys_writev(fd, vectors, count) : oc_sys_pwritev(fd, vectors, count, off_t(offset))
            }
        }
    }

    /// Whether io_uring would answer a read or write of these vectors otherwise than the
    /// kernel's own call, which such a call then goes to. The ring checks the vectors before
    /// the descriptor's mode (EINVAL or EFAULT where libc says EBADF) and takes a negative
    /// count as none (0 where libc says EINVAL), and a transfer that faults partway on a
    /// vector with no buffer leaves the file position where it was (the kernel's call moves
    /// it past what it wrote). The shapes sent to the kernel: no vectors, a count out of
    /// range, a length beyond 2 GiB (which no transfer reaches: the kernel stops each at
    /// MAX_RW_COUNT), a NULL buffer with a length.
    static func ringAnswersOtherwise(_ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Bool {
        guard let vectors, count > 0, count <= 1_024 else { return true }
        return (0..<Int(count)).contains { index in
            let vector = vectors[index]
            return !(0...Int(Int32.max)).contains(vector.iov_len) || (vector.iov_base == nil && vector.iov_len > 0)
        }
    }

    /// Whether the ring takes a single buffer's transfer of `count` bytes as the kernel's own
    /// call does: not beyond 2 GiB (as above), and not 0, which the kernel's read and pread
    /// still check against the file (a directory's `EISDIR`) where the ring answers 0.
    static func ringTakes(_ count: Int) -> Bool {
        (1...Int(Int32.max)).contains(count)
    }

    /// Calls `body` with `buffer` as one vector.
    static func withVector<Result>(
        _ buffer: UnsafeRawPointer?, _ count: Int, _ body: (UnsafePointer<iovec>) -> Result
    ) -> Result {
        var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer), iov_len: count)
        return withUnsafePointer(to: &vector, body)
    }

    // MARK: - Streams

    /// A read on a stream the user sees blocking: waits until some data (or the end) is
    /// there and returns what a blocking read returns.
    static func streamRead(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ name: String) -> Int {
        while true {
            let result = oc_sys_readv_nowait(fd, vectors, count)
            if result >= 0 { return result }
            switch errno {
            case EAGAIN:
                guard waitUntilReady(fd, for: .readable, until: nil, name) else { return -1 }
            case EOPNOTSUPP:
                guard waitUntilNowReady(fd, for: .readable, name) else { return -1 }
                return oc_sys_readv(fd, vectors, count)
            default:
                return -1
            }
        }
    }

    /// A write on a stream the user sees blocking: writes everything, waiting for room as
    /// often as needed; less only when an error follows some progress, as a blocking write.
    static func streamWrite(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ name: String) -> Int {
        let total = totalLength(vectors, count)
        var done = 0
        repeat {
            let result = withVectors(vectors, count, skipping: done) { oc_sys_writev_nowait(fd, $0, $1) }
            if result >= 0 {
                done += result
                continue
            }
            let failed: Bool
            switch errno {
            case EAGAIN:
                failed = !waitUntilReady(fd, for: .writable, until: nil, name)
            case EOPNOTSUPP:
                guard waitUntilNowReady(fd, for: .writable, name) else { return done > 0 ? done : -1 }
                return withVectors(vectors, count, skipping: done) { vectors, count in
                    let result = oc_sys_writev(fd, vectors, count)
                    return result < 0 ? (done > 0 ? done : -1) : done + result
                }
            default:
                failed = true
            }
            if failed { return done > 0 ? done : -1 }
        } while done < total
        return done
    }

    /// For kinds that take no RWF_NOWAIT: returns at once when `fd` is ready now, else waits
    /// for its next readiness (an edge that comes after this check is never missed: the
    /// event loop's registration outlives the check).
    private static func waitUntilNowReady(_ fd: Int32, for direction: FileEvents, _ name: String) -> Bool {
        var request = pollfd(fd: fd, events: Int16(direction == .readable ? POLLIN : POLLOUT), revents: 0)
        if oc_sys_poll(&request, 1, 0) > 0 { return true }
        return waitUntilReady(fd, for: direction, until: nil, name)
    }
}
