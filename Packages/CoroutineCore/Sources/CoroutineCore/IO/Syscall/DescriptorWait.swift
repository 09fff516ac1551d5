import Glibc

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
    /// `deadline` passes, or the task is cancelled, with one ticket covering them all; then
    /// takes the ticket back from every descriptor, so none keeps counting it.
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
        var issued: WaitTicket?
        let outcome = scheduler.wait(
            for: coroutine, until: deadline, inSyscall: syscall, reason: .descriptors(count: descriptors.count)
        ) { ticket in
            issued = ticket
            for (fd, interest) in descriptors {
                do throws(SystemError) {
                    try scheduler.eventLoop.watch(fd: fd, for: interest, ticket: ticket)
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
