import CCoroutineCore
import Glibc

extension Syscall {
    /// `select(2)`: waits until a descriptor of the sets is ready or `timeout` passed (nil:
    /// no limit), then leaves only the ready ones in the sets and, as Linux does, the time
    /// left in `timeout`.
    ///
    /// The result always comes from the kernel's own select with a zero timeout, over the
    /// caller's original sets, so counts, sets and errors (`EBADF`, `EINVAL`, `EFAULT`) are
    /// exactly libc's. A coroutine waits between such checks on its event loop, with one
    /// wait covering every descriptor of the sets (the except set waits for readability,
    /// which includes errors; urgent data alone wakes it only at the timeout). A task
    /// cancelled while it waits gets -1 with `EINTR`.
    public static func select(
        _ count: Int32,
        _ readSet: UnsafeMutablePointer<fd_set>?,
        _ writeSet: UnsafeMutablePointer<fd_set>?,
        _ exceptSet: UnsafeMutablePointer<fd_set>?,
        _ timeout: UnsafeMutablePointer<timeval>?
    ) -> Int32 {
        guard let (scheduler, coroutine) = Scheduler.directlyScheduled(), let limit = waitLimit(timeout) else {
            return oc_sys_select(count, readSet, writeSet, exceptSet, timeout)
        }
        let deadline = limit.map { deadlineNanoseconds(afterNanoseconds: $0) }
        let original = (readSet?.pointee, writeSet?.pointee, exceptSet?.pointee)
        while true {
            restore(original, readSet, writeSet, exceptSet)
            var immediately = timeval(tv_sec: 0, tv_usec: 0)
            let ready = oc_sys_select(count, readSet, writeSet, exceptSet, &immediately)
            if ready != 0 || deadline.map({ monotonicNanoseconds() >= $0 }) == true {
                writeTimeLeft(until: deadline, into: timeout)
                return ready
            }
            let descriptors = watchList(count, original)
            switch waitForAny(descriptors, until: deadline, inSyscall: "select", scheduler: scheduler, coroutine: coroutine) {
            case .cancelled:
                writeTimeLeft(until: deadline, into: timeout)
                errno = EINTR
                return -1
            case .unwatchable:
                restore(original, readSet, writeSet, exceptSet)
                writeTimeLeft(until: deadline, into: timeout)
                return oc_sys_select(count, readSet, writeSet, exceptSet, timeout)
            case .woken:
                continue
            }
        }
    }

    /// How long a select may wait: nil inside when unlimited; nil outside when it must not
    /// wait at all or its timeout is invalid (the kernel then answers, with EINVAL or at once).
    /// Microseconds of a second or more count, as glibc carries them into the seconds.
    private static func waitLimit(_ timeout: UnsafeMutablePointer<timeval>?) -> UInt64?? {
        guard let time = timeout?.pointee else { return .some(nil) }
        guard time.tv_sec >= 0, time.tv_usec >= 0, time.tv_sec > 0 || time.tv_usec > 0 else {
            return nil
        }
        let (seconds, overflow) = UInt64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = seconds.addingReportingOverflow(UInt64(time.tv_usec) * 1_000)
        return overflow || carry ? .some(.max) : .some(total)
    }

    private static func restore(
        _ original: (fd_set?, fd_set?, fd_set?),
        _ readSet: UnsafeMutablePointer<fd_set>?,
        _ writeSet: UnsafeMutablePointer<fd_set>?,
        _ exceptSet: UnsafeMutablePointer<fd_set>?
    ) {
        if let set = original.0 { readSet?.pointee = set }
        if let set = original.1 { writeSet?.pointee = set }
        if let set = original.2 { exceptSet?.pointee = set }
    }

    /// The descriptors below `count` in the sets, with what to wait for on each.
    private static func watchList(_ count: Int32, _ sets: (fd_set?, fd_set?, fd_set?)) -> [(Int32, FileEvents)] {
        let limit = min(Int(count), MemoryLayout<fd_set>.size * 8)
        guard limit > 0 else { return [] }
        return (0..<Int32(limit)).compactMap { fd in
            var interest: FileEvents = []
            if contains(sets.0, fd) || contains(sets.2, fd) { interest.insert(.readable) }
            if contains(sets.1, fd) { interest.insert(.writable) }
            return interest.isEmpty ? nil : (fd, interest)
        }
    }

    /// Whether `fd` is in `set` (the FD_ISSET macro, which Swift does not import; a set is a
    /// little-endian bit array on the architectures this runs on).
    private static func contains(_ set: fd_set?, _ fd: Int32) -> Bool {
        guard var set else { return false }
        return withUnsafeBytes(of: &set) { bytes in
            bytes[Int(fd) / 8] & (1 << UInt8(fd % 8)) != 0
        }
    }

    private static func writeTimeLeft(until deadline: UInt64?, into timeout: UnsafeMutablePointer<timeval>?) {
        guard let deadline, let timeout else { return }
        let now = monotonicNanoseconds()
        let left = deadline > now ? deadline - now : 0
        timeout.pointee = timeval(tv_sec: Int(left / 1_000_000_000), tv_usec: Int(left % 1_000_000_000) / 1_000)
    }
}
