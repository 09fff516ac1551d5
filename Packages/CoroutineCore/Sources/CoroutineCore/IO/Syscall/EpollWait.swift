import CCoroutineCore
import Glibc

extension Syscall {
    /// `epoll_wait(2)` on the caller's own epoll instance: waits until it has events or
    /// `timeout` milliseconds passed (negative: no limit).
    ///
    /// `events` points at `maxEvents` `struct epoll_event` (untyped: the struct is packed
    /// on x86_64 and cannot be imported). The result always comes from the kernel's own
    /// `epoll_wait` with a zero timeout, so events and errors (`EBADF`, `EINVAL`, `EFAULT`)
    /// are exactly libc's. A coroutine waits between such checks on its event loop, which
    /// watches the caller's epoll descriptor (epoll descriptors are themselves pollable); a
    /// task cancelled while it waits gets -1 with `EINTR`.
    public static func epoll_wait(_ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: Int32) -> Int32 {
        guard timeout != 0, Scheduler.directlyScheduled() != nil else {
            return oc_sys_epoll_wait(epoll, events, maxEvents, timeout)
        }
        let deadline = timeout > 0 ? deadlineNanoseconds(afterNanoseconds: UInt64(timeout) * 1_000_000) : nil
        while true {
            let ready = oc_sys_epoll_wait(epoll, events, maxEvents, 0)
            guard ready == 0 else { return ready }
            if let deadline, monotonicNanoseconds() >= deadline { return 0 }
            let outcome = Scheduler.awaitReadiness(of: epoll, for: .readable, until: deadline, inSyscall: "epoll_wait")
            guard let failure = outcome.failureErrno else { continue }
            errno = failure
            return -1
        }
    }
}
