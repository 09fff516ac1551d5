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
    /// task cancelled while it waits gets -1 with `ECANCELED`.
    public static func epoll_wait(_ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: Int32) -> Int32 {
        guard timeout != 0, Scheduler.directlyScheduled() != nil else {
            return oc_sys_epoll_wait(epoll, events, maxEvents, timeout)
        }
        let deadline = timeout > 0 ? deadlineNanoseconds(afterNanoseconds: UInt64(timeout) * 1_000_000) : nil
        return waitForEvents(epoll, events, maxEvents, until: deadline, "epoll_wait")
    }

    /// `epoll_pwait(2)`, as `epoll_wait`. `mask` is the signal mask of a thread that blocks
    /// in the call; a coroutine blocks no thread, so in one the mask does not apply.
    public static func epoll_pwait(
        _ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: Int32,
        _ mask: UnsafePointer<sigset_t>?
    ) -> Int32 {
        guard timeout != 0, Scheduler.directlyScheduled() != nil else {
            return oc_sys_epoll_pwait(epoll, events, maxEvents, timeout, mask)
        }
        return epoll_wait(epoll, events, maxEvents, timeout)
    }

    /// `epoll_pwait2(2)`, as `epoll_pwait` with a timeout to the nanosecond (nil: no limit).
    public static func epoll_pwait2(
        _ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: UnsafePointer<timespec>?,
        _ mask: UnsafePointer<sigset_t>?
    ) -> Int32 {
        let isPoll = timeout.map { $0.pointee.tv_sec == 0 && $0.pointee.tv_nsec == 0 } ?? false
        guard !isPoll, Scheduler.directlyScheduled() != nil,
              let deadline = timeout.map({ pwait2Deadline(of: $0.pointee) }) ?? .some(nil)
        else {
            return oc_sys_epoll_pwait2(epoll, events, maxEvents, timeout, mask)
        }
        return waitForEvents(epoll, events, maxEvents, until: deadline, "epoll_pwait2")
    }

    /// When a relative `timeout` starting now ends; nil for one the kernel refuses (negative
    /// or malformed), which the kernel's own call then reports.
    private static func pwait2Deadline(of timeout: timespec) -> UInt64?? {
        guard timeout.tv_sec >= 0, timeout.tv_nsec >= 0, timeout.tv_nsec < 1_000_000_000 else { return nil }
        let (total, overflow) = UInt64(timeout.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        return .some(deadlineNanoseconds(afterNanoseconds: overflow ? .max : total &+ UInt64(timeout.tv_nsec)))
    }

    /// Waits, suspending the calling coroutine, until `epoll` has events or `deadline` passes.
    private static func waitForEvents(
        _ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, until deadline: UInt64?, _ name: String
    ) -> Int32 {
        while true {
            let ready = oc_sys_epoll_wait(epoll, events, maxEvents, 0)
            guard ready == 0 else { return ready }
            if let deadline, monotonicNanoseconds() >= deadline { return 0 }
            do throws(SystemError) {
                // Ready or timed out: look again (the loop ends at the deadline).
                guard try Scheduler.awaitReadiness(of: epoll, for: .readable, until: deadline, inSyscall: name) == .closed
                else { continue }
                errno = EBADF
            } catch {
                errno = error.code
            }
            return -1
        }
    }
}
