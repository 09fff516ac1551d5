import CCoroutineCore
import Glibc

extension Syscall {
    /// `poll(2)`: waits until one of `fds` is ready or `timeout` milliseconds passed
    /// (negative: no limit).
    ///
    /// The result always comes from the kernel's own `poll` with a zero timeout, so ready
    /// counts, `revents`, ignored negative descriptors, `POLLNVAL` for closed ones and the
    /// errors (`EFAULT`, `EINVAL`) are exactly libc's. A coroutine waits between such checks
    /// on its event loop, with one wait covering every descriptor; a task cancelled while it
    /// waits gets -1 with `ECANCELED` (see `Syscall`).
    public static func poll(_ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: Int32) -> Int32 {
        guard timeout != 0, let (scheduler, coroutine) = Scheduler.directlyScheduled() else {
            return oc_sys_poll(fds, count, timeout)
        }
        let deadline = timeout > 0 ? deadlineNanoseconds(afterNanoseconds: UInt64(timeout) * 1_000_000) : nil
        return poll(fds, count, until: deadline, "poll", scheduler, coroutine)
    }

    /// `ppoll(2)`: as `poll`, with a `timespec` timeout (nil: no limit) that is read and
    /// never written back, as glibc's. A call with a signal mask goes to the kernel: the mask
    /// belongs to the thread, which other coroutines share, so only the kernel can apply it
    /// atomically for the wait.
    public static func ppoll(
        _ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: UnsafePointer<timespec>?,
        _ mask: UnsafePointer<sigset_t>?
    ) -> Int32 {
        guard mask == nil, let limit = waitLimit(timeout), let (scheduler, coroutine) = Scheduler.directlyScheduled() else {
            return oc_sys_ppoll(fds, count, timeout, mask)
        }
        return poll(fds, count, until: limit.map { deadlineNanoseconds(afterNanoseconds: $0) }, "ppoll", scheduler, coroutine)
    }

    /// How long a call with a `timespec` timeout may wait: nil inside when unlimited; nil
    /// outside when it must not wait at all or its timeout is invalid (the kernel then
    /// answers, with EINVAL or at once).
    static func waitLimit(_ timeout: UnsafePointer<timespec>?) -> UInt64?? {
        guard let time = timeout?.pointee else { return .some(nil) }
        guard time.tv_sec >= 0, (0..<1_000_000_000).contains(time.tv_nsec), time.tv_sec > 0 || time.tv_nsec > 0 else {
            return nil
        }
        let (seconds, overflow) = UInt64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .some(.max) : .some(seconds &+ UInt64(time.tv_nsec))
    }

    private static func poll(
        _ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, until deadline: UInt64?, _ syscall: String,
        _ scheduler: Scheduler, _ coroutine: Unmanaged<ScheduledCoroutine>
    ) -> Int32 {
        let descriptors = fds.map { UnsafeMutableBufferPointer(start: $0, count: Int(count)) } ?? UnsafeMutableBufferPointer(start: nil, count: 0)
        while true {
            let ready = oc_sys_poll(fds, count, 0)
            guard ready == 0 else { return ready }
            if let deadline, monotonicNanoseconds() >= deadline { return 0 }
            let watchList = descriptors.filter { $0.fd >= 0 }.map { ($0.fd, interest(of: $0.events)) }
            switch waitForAny(watchList, until: deadline, inSyscall: syscall, scheduler: scheduler, coroutine: coroutine) {
            case .cancelled:
                errno = ECANCELED
                return -1
            case .unwatchable:
                // A descriptor epoll cannot watch (a regular file is always ready, but a
                // device may not be): the kernel waits, for what is left of the timeout.
                return oc_sys_poll(fds, count, pollTimeoutMilliseconds(until: deadline))
            case .woken:
                continue
            }
        }
    }

    /// What to watch for `events`: errors and hang-ups are always reported, as the readable
    /// side reports them, so a descriptor asking for nothing is watched as readable.
    private static func interest(of events: Int16) -> FileEvents {
        var interest: FileEvents = []
        if events & Int16(POLLOUT | POLLWRNORM | POLLWRBAND) != 0 {
            interest.insert(.writable)
        }
        if events & Int16(POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | Int32(OC_POLLRDHUP)) != 0 || interest.isEmpty {
            interest.insert(.readable)
        }
        return interest
    }
}
