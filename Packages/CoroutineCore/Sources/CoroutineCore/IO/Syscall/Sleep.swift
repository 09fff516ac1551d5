import CCoroutineCore
import Glibc

extension Syscall {
    /// `clock_nanosleep(2)`: sleeps on `clock` for `request` (an absolute time on that clock
    /// with `TIMER_ABSTIME`).
    ///
    /// - Returns: 0, or an error number (errno is not set): `EINVAL` for an invalid clock or
    ///   time, `EFAULT` for a missing request, `ECANCELED` in a cancelled task (then
    ///   `remaining`, if given, holds the time left of a relative sleep).
    ///
    /// A coroutine sleeps on CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_TAI,
    /// converted to the monotonic clock when it starts (so a later change of the wall clock
    /// does not move it); other clocks are the kernel's business.
    public static func clock_nanosleep(
        _ clock: clockid_t,
        _ flags: Int32,
        _ request: UnsafePointer<timespec>?,
        _ remaining: UnsafeMutablePointer<timespec>?
    ) -> Int32 {
        guard let request else { return EFAULT }
        guard let (scheduler, coroutine) = Scheduler.directlyScheduled(), Self.suspends(on: clock) else {
            return oc_sys_clock_nanosleep(clock, flags, request, remaining)
        }
        let time = request.pointee
        guard time.tv_sec >= 0, (0..<1_000_000_000).contains(time.tv_nsec) else { return EINVAL }
        let absolute = flags & TIMER_ABSTIME != 0
        let wait = absolute ? Self.nanoseconds(untilAbsolute: time, on: clock) : Self.nanoseconds(of: time)
        guard wait > 0 else { return 0 }
        let deadline = deadlineNanoseconds(afterNanoseconds: wait)
        // A task cancelled before or during the sleep ends it with ECANCELED (see `Syscall`).
        switch scheduler.park(coroutine, until: deadline, inSyscall: "clock_nanosleep", reason: .sleep, register: { _ in true }) {
        case .cancelled:
            return Self.cancelled(deadline: deadline, absolute: absolute, remaining: remaining)
        case .timedOut, .unparked, .notParked, .closed:
            return 0
        }
    }

    /// `nanosleep(2)`: sleeps for `request` on CLOCK_REALTIME, as glibc does.
    ///
    /// - Returns: 0, or -1 with errno `EINVAL`, `EFAULT` or, in a cancelled task, `ECANCELED`
    ///   (then `remaining`, if given, holds the time left).
    public static func nanosleep(_ request: UnsafePointer<timespec>?, _ remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
        let result = clock_nanosleep(CLOCK_REALTIME, 0, request, remaining)
        guard result == 0 else {
            errno = result
            return -1
        }
        return 0
    }

    /// `usleep(3)`: sleeps for `microseconds`; 0, or -1 with errno (`ECANCELED` in a
    /// cancelled task).
    public static func usleep(_ microseconds: useconds_t) -> Int32 {
        var request = timespec(tv_sec: Int(microseconds / 1_000_000), tv_nsec: Int(microseconds % 1_000_000) * 1_000)
        return nanosleep(&request, nil)
    }

    /// `sleep(3)`: sleeps for `seconds`; returns 0, or the whole seconds left when
    /// cut short (by a cancellation: errno then `ECANCELED`). errno is kept on success, as glibc
    /// keeps it.
    public static func sleep(_ seconds: UInt32) -> UInt32 {
        let saved = errno
        var request = timespec(tv_sec: Int(seconds), tv_nsec: 0)
        var left = timespec()
        guard nanosleep(&request, &left) == 0 else {
            return UInt32(clamping: left.tv_sec)
        }
        errno = saved
        return 0
    }

    // MARK: - Helpers

    /// The clocks a coroutine's sleep can be expressed on the monotonic clock.
    private static func suspends(on clock: clockid_t) -> Bool {
        clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME || clock == CLOCK_TAI
    }

    private static func nanoseconds(of time: timespec) -> UInt64 {
        let (seconds, overflow) = UInt64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, carry) = seconds.addingReportingOverflow(UInt64(time.tv_nsec))
        return carry ? .max : total
    }

    /// Nanoseconds from now on `clock` until `time`, or 0 when it passed.
    private static func nanoseconds(untilAbsolute time: timespec, on clock: clockid_t) -> UInt64 {
        var now = timespec()
        guard oc_sys_clock_gettime(clock, &now) == 0 else { return 0 }
        let target = nanoseconds(of: time)
        let current = nanoseconds(of: now)
        return target > current ? target - current : 0
    }

    /// ECANCELED, with the time left of a relative sleep written to `remaining`.
    private static func cancelled(deadline: UInt64, absolute: Bool, remaining: UnsafeMutablePointer<timespec>?) -> Int32 {
        if !absolute, let remaining {
            let now = monotonicNanoseconds()
            let left = deadline > now ? deadline - now : 0
            remaining.pointee = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        }
        return ECANCELED
    }
}
