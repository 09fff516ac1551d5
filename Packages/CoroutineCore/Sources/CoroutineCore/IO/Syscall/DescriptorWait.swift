import CCoroutineCore
import Glibc

// Waiting for descriptors to become ready: one descriptor (`Scheduler.waitUntilReady`, and
// `awaitReadiness` under the Syscall layer's blocking calls) or any of several (poll, select,
// epoll_wait). A coroutine parks with its token on the descriptors' watch lists in its
// scheduler's EventLoop; a plain thread, or a coroutine nested inside another, blocks in
// poll(2) as the call it stands for would.

extension Scheduler {
    /// How a wait for descriptor readiness ended.
    public enum Readiness: Sendable, Equatable {
        /// The descriptor became ready (or reported an error or hang-up: try the operation).
        case ready
        /// The deadline passed first.
        case timedOut
        /// The descriptor was closed through the runtime (or replaced through dup2) while
        /// waiting.
        case closed
    }

    /// Waits until `fd` is ready for `interest` or `deadline` passes, suspending only the
    /// calling coroutine; on a plain thread (or a nested coroutine), blocks in `poll(2)`.
    ///
    /// Readiness is edge-triggered: call this after the operation failed with `EAGAIN`.
    ///
    /// - Throws: `CoroutineError.cancelled` when the calling task is cancelled;
    ///   `SystemError` when the descriptor cannot be watched (EBADF, or EPERM for a regular
    ///   file), or when a signal interrupts the wait of a plain thread.
    public static func waitUntilReady(
        _ fd: Int32, for interest: FileEvents, deadline: ContinuousClock.Instant? = nil
    ) throws -> Readiness {
        try CurrentTask.checkCancellation()
        let end = deadline.map { deadlineNanoseconds(after: ContinuousClock.now.duration(to: $0)) }
        do throws(SystemError) {
            return try awaitReadiness(of: fd, for: interest, until: end, inSyscall: nil)
        } catch {
            // (A `catch where` clause on a typed `do` crashes Swift 6.3's SIL verifier.)
            if error.code == ECANCELED { throw CoroutineError.cancelled }
            throw error
        }
    }

    /// Waits until `fd` is ready for `interest` or `deadline` passes: parks the calling
    /// coroutine, reported to listeners as a wait inside `syscall` when one is named, or
    /// blocks a plain thread in `poll(2)`.
    ///
    /// - Throws: `SystemError` with the errno the blocking call it stands for reports: ECANCELED
    ///   when the calling task was cancelled (see `Syscall`), EINTR when a signal interrupted a
    ///   plain thread's wait and the kernel would not have restarted the call, or what
    ///   registering the descriptor failed with.
    static func awaitReadiness(
        of fd: Int32, for interest: FileEvents, until deadline: UInt64?, inSyscall syscall: String?
    ) throws(SystemError) -> Readiness {
        // poll(2) silently ignores negative descriptors; a wait on one is a caller's error.
        guard fd >= 0 else { throw SystemError(operation: "poll", code: EBADF) }
        guard let (scheduler, coroutine) = directlyScheduled() else {
            return try pollThread(fd, for: interest, until: deadline)
        }
        var failure: SystemError?
        var watched: ParkingToken?
        let outcome = scheduler.park(
            coroutine, until: deadline, inSyscall: syscall, reason: .descriptor(fd, interest)
        ) { token in
            do throws(SystemError) {
                try scheduler.eventLoop.watch(fd: fd, for: interest, token: token)
            } catch {
                failure = error
                return false
            }
            watched = token
            return true
        }
        if let failure {
            // A descriptor epoll refuses (EPERM) can still be waited for by the kernel.
            guard failure.code == EPERM else { throw failure }
            return try pollThread(fd, for: interest, until: deadline)
        }
        if let watched, outcome == .timedOut || outcome == .cancelled {
            scheduler.eventLoop.withdraw(watched, fd: fd)
        }
        switch outcome {
        case .cancelled: throw SystemError(operation: "poll", code: ECANCELED)
        case .timedOut: return .timedOut
        case .closed: return .closed
        case .unparked, .notParked: return .ready
        }
    }

    private static func pollThread(
        _ fd: Int32, for interest: FileEvents, until deadline: UInt64?
    ) throws(SystemError) -> Readiness {
        var request = pollfd(fd: fd, events: 0, revents: 0)
        if interest.contains(.readable) { request.events |= Int16(POLLIN) }
        if interest.contains(.writable) { request.events |= Int16(POLLOUT) }
        while true {
            let result = oc_sys_poll(&request, 1, pollTimeoutMilliseconds(until: deadline))
            if result > 0 {
                guard request.revents & Int16(POLLNVAL) == 0 else {
                    throw SystemError(operation: "poll", code: EBADF)
                }
                return .ready
            }
            if result == 0 { return .timedOut }
            guard errno == EINTR else { throw SystemError(operation: "poll", code: errno) }
            // The blocking call this wait stands in for would have been restarted only under
            // SA_RESTART, and never with a timeout (signal(7)).
            guard deadline == nil, oc_signals_restart() else { throw SystemError(operation: "poll", code: EINTR) }
        }
    }
}

extension Syscall {
    /// How a wait on several descriptors ended.
    enum DescriptorWait {
        /// A descriptor reported, or the deadline passed: check again.
        case woken
        /// The calling task was cancelled.
        case cancelled
        /// A descriptor cannot be watched by epoll: the kernel must wait instead.
        case unwatchable
    }

    /// Suspends the running coroutine until any of `descriptors` reports for its interest,
    /// `deadline` passes, or the task is cancelled, with one token covering them all; then
    /// takes the token back from every descriptor, so none keeps counting it.
    static func waitForAny(
        _ descriptors: [(fd: Int32, interest: FileEvents)],
        until deadline: UInt64?,
        inSyscall syscall: String,
        scheduler: Scheduler,
        coroutine: Unmanaged<ScheduledCoroutine>
    ) -> DescriptorWait {
        // A refused registration sets errno; the caller's errno is libc's business alone.
        let savedErrno = errno
        defer { errno = savedErrno }
        var watched: [Int32] = []
        var unwatchable = false
        var issued: ParkingToken?
        let outcome = scheduler.park(
            coroutine, until: deadline, inSyscall: syscall, reason: .descriptors(count: descriptors.count)
        ) { token in
            issued = token
            for (fd, interest) in descriptors {
                do throws(SystemError) {
                    try scheduler.eventLoop.watch(fd: fd, for: interest, token: token)
                    watched.append(fd)
                } catch {
                    unwatchable = true
                    return false
                }
            }
            return true
        }
        if let issued {
            for fd in watched {
                scheduler.eventLoop.withdraw(issued, fd: fd)
            }
        }
        if unwatchable { return .unwatchable }
        return outcome == .cancelled ? .cancelled : .woken
    }
}
