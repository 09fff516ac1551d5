import CCoroutineCore
import Glibc

// How every blocking socket call works: the descriptor table says whether the socket is one
// the runtime holds non-blocking for a user who sees it blocking. If so, the call is tried
// once and, on EAGAIN, waits for readiness (suspending the coroutine, or in poll(2) on a
// plain thread) and tries again, until it succeeds, fails otherwise, or the socket's timeout
// (SO_RCVTIMEO / SO_SNDTIMEO) passes. A socket the user made non-blocking, or a call with
// MSG_DONTWAIT, goes to the kernel once, as libc would. Files and streams have their own path
// (Files.swift).

extension Syscall {
    /// Whether a call made here waits by suspending a coroutine: the caller runs directly in
    /// a coroutine that a scheduler resumed.
    public static var waitsCooperatively: Bool {
        Scheduler.directlyScheduled() != nil
    }

    /// Whether the runtime holds `fd` non-blocking in the kernel on the user's behalf, so that
    /// only this layer gives the blocking behaviour the user expects of it.
    public static func managesDescriptor(_ fd: Int32) -> Bool {
        Descriptor.existing(fd)?.recordedMode.contains(.runtimeNonBlocking) == true
    }

    /// Runs `operation` on `fd` with the blocking semantics the user asked for; the
    /// operation returns what the kernel returned (-1 with errno on error).
    ///
    /// - Parameters:
    ///   - direction: `.readable` for calls that take data in (and accept), `.writable` for
    ///     those that send it (and connect); it picks the readiness and the timeout.
    ///   - syscall: the call's name, for scheduler listeners.
    ///   - dontWait: the call asked not to block (MSG_DONTWAIT).
    ///   - receiving: for a call that consumes data, the bytes asked for. On a stream socket a
    ///     shorter result means the receive queue is now empty, so the next such call waits
    ///     for the socket's readable edge before it tries: it saves the read that would only
    ///     have returned EAGAIN (in a request-response exchange, every other read).
    ///   - afterProgress: the user's call already moved data. A wait that ends in an error (or,
    ///     for a send, a hang-up) then returns -1 without trying again: the kernel's blocking
    ///     call returns its count there and leaves the error (ECONNRESET, say) and SIGPIPE for
    ///     the next call, and a try would consume the error, or raise SIGPIPE a call early.
    // Inlined into each read and write wrapper, so that `operation` (the system call) is
    // inlined too rather than called through a closure on the path of every socket call: a
    // read of a ready socket costs about what libc's does (`ready_read_overhead_ratio`,
    // make bench-sleep). The loop is long for an inlined function; it is the hot path.
    @inline(__always)
    static func blocking(
        _ fd: Int32, _ direction: FileEvents, _ syscall: String, dontWait: Bool = false, receiving requested: Int? = nil,
        afterProgress: Bool = false, _ operation: () -> Int
    ) -> Int {
        guard !dontWait, let descriptor = preparedSocket(fd) else { return operation() }
        var deadline: UInt64??
        var mode = descriptor.mode
        // A short read leaves the end of the stream (or an error) to be read when it came with
        // the data: no edge follows it, so a socket whose peer hung up never waits here.
        if let requested, requested > 0, mode.contains(.drained), !mode.contains(.hungUp), mode.waitsForRuntime {
            deadline = descriptor.deadline(for: direction)
            guard waitUntilReady(fd, for: direction, until: deadline ?? nil, syscall) else { return -1 }
        }
        while true {
            let result = operation()
            // The end of the stream (0) is no sign of a drained queue: the next read returns 0
            // at once too, with no edge to wait for.
            if let requested, result > 0, result < requested, mode.contains(.stream) {
                descriptor.noteDrained()
            }
            guard result < 0, errno == EAGAIN else { return result }
            mode = descriptor.mode
            guard mode.waitsForRuntime else { return result }
            if direction == .readable, isShutDownForReading(fd) { return inKernelBlockingMode(fd, operation) }
            let end = deadline ?? descriptor.deadline(for: direction)
            deadline = end
            guard waitUntilReady(fd, for: direction, until: end, syscall) else { return -1 }
            if afterProgress, hasPendingFailure(fd, for: direction) { return -1 }
        }
    }

    /// Runs `operation` with `fd` blocking in the kernel, for a socket whose reading side is
    /// shut down with nothing left to take. Datagram and listening sockets answer a
    /// non-blocking call EAGAIN there, and no readiness edge would ever end a wait, but a
    /// blocking call returns at once (a receive 0 with its address and message fields set, an
    /// accept EINVAL): only the kernel's blocking path gives that answer exactly, and with the
    /// reading side shut it cannot wait.
    private static func inKernelBlockingMode(_ fd: Int32, _ operation: () -> Int) -> Int {
        let status = oc_sys_fcntl(fd, F_GETFL, 0)
        guard status >= 0, oc_sys_fcntl(fd, F_SETFL, Int(status & ~O_NONBLOCK)) == 0 else { return operation() }
        let result = operation()
        let error = errno
        _ = oc_sys_fcntl(fd, F_SETFL, Int(status))
        errno = error
        return result
    }

    /// Whether `fd`'s reading side is shut down (by either end), as poll reports it.
    private static func isShutDownForReading(_ fd: Int32) -> Bool {
        // POLLRDHUP, a GNU extension that Swift's Glibc does not import.
        let readHangUp: Int16 = 0x2000
        var request = pollfd(fd: fd, events: readHangUp, revents: 0)
        return oc_sys_poll(&request, 1, 0) > 0 && request.revents & readHangUp != 0
    }

    /// Whether `fd` holds an error, or for a send a hang-up, without consuming the error. (A
    /// receive goes on after a hang-up: data may still be queued before the end of file.)
    private static func hasPendingFailure(_ fd: Int32, for direction: FileEvents) -> Bool {
        var request = pollfd(fd: fd, events: 0, revents: 0)
        let failures = Int16(direction == .writable ? POLLERR | POLLHUP : POLLERR)
        return oc_sys_poll(&request, 1, 0) > 0 && request.revents & failures != 0
    }

    /// Repeats `step` until `total` bytes moved, for the calls that block until all of it
    /// did (a blocking send, a receive with MSG_WAITALL); `step` gets the count moved so far.
    /// A call that must not wait moves what it can at once. Stops early at end of file, and
    /// at an error after some progress, returning the count (libc's partial result).
    static func blockingAll(
        _ fd: Int32, _ direction: FileEvents, _ syscall: String, total: Int, dontWait: Bool = false,
        _ step: (_ done: Int) -> Int
    ) -> Int {
        var done = 0
        repeat {
            let result = blocking(fd, direction, syscall, dontWait: dontWait, afterProgress: done > 0) { step(done) }
            guard result > 0 else { return result < 0 && done == 0 ? -1 : done }
            done += result
        } while done < total && !dontWait && Descriptor.existing(fd)?.mode.waitsForRuntime == true
        return done
    }

    /// The descriptor of a socket, made non-blocking in the kernel when a coroutine is about
    /// to block on it; nil when the call should simply go to the kernel (not a socket, not
    /// in the table).
    // Inlined: the first step of every socket call; a call that goes straight to the kernel
    // pays the table lookup alone.
    @inline(__always)
    static func preparedSocket(_ fd: Int32) -> Descriptor? {
        guard let descriptor = Descriptor(fd) else { return nil }
        let mode = descriptor.mode
        guard mode.contains(.socket) else { return nil }
        if !mode.contains(.runtimeNonBlocking), !mode.contains(.userNonBlocking), Scheduler.directlyScheduled() != nil {
            _ = descriptor.makeNonBlockingForRuntime()
        }
        return descriptor
    }

    /// Waits for `fd` as a blocking call would; false with errno set as libc's call would
    /// fail: EAGAIN when the socket's timeout passed, EBADF when the descriptor was closed
    /// meanwhile, ECANCELED when the task was cancelled, EINTR when a signal interrupted the wait.
    static func waitUntilReady(_ fd: Int32, for direction: FileEvents, until deadline: UInt64?, _ syscall: String) -> Bool {
        if let deadline, monotonicNanoseconds() >= deadline {
            errno = EAGAIN
            return false
        }
        do throws(SystemError) {
            switch try Scheduler.awaitReadiness(of: fd, for: direction, until: deadline, inSyscall: syscall) {
            case .ready: return true
            case .timedOut: errno = EAGAIN
            case .closed: errno = EBADF
            }
        } catch {
            errno = error.code
        }
        return false
    }
}

extension Descriptor {
    /// When a blocking call in `direction` starting now times out: nil without a timeout.
    func deadline(for direction: FileEvents) -> UInt64? {
        switch timeout(direction) {
        case 0: nil
        case .max: monotonicNanoseconds()
        case let timeout: deadlineNanoseconds(afterNanoseconds: timeout)
        }
    }
}
