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
    /// cancelled while it waits gets -1 with `ECANCELED`.
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
        let result = select(count, (readSet, writeSet, exceptSet), until: deadline, "select", scheduler, coroutine) {
            writeTimeLeft(until: deadline, into: timeout)
            return oc_sys_select(count, readSet, writeSet, exceptSet, timeout)
        }
        writeTimeLeft(until: deadline, into: timeout)
        return result
    }

    /// `pselect(2)`: as `select`, with a `timespec` timeout (nil: no limit) that is read and
    /// never written back, as glibc's. A call with a signal mask goes to the kernel, as
    /// `ppoll` explains.
    public static func pselect(
        _ count: Int32,
        _ readSet: UnsafeMutablePointer<fd_set>?,
        _ writeSet: UnsafeMutablePointer<fd_set>?,
        _ exceptSet: UnsafeMutablePointer<fd_set>?,
        _ timeout: UnsafePointer<timespec>?,
        _ mask: UnsafePointer<sigset_t>?
    ) -> Int32 {
        guard mask == nil, let limit = waitLimit(timeout), let (scheduler, coroutine) = Scheduler.directlyScheduled() else {
            return oc_sys_pselect(count, readSet, writeSet, exceptSet, timeout, mask)
        }
        let deadline = limit.map { deadlineNanoseconds(afterNanoseconds: $0) }
        return select(count, (readSet, writeSet, exceptSet), until: deadline, "pselect", scheduler, coroutine) {
            guard let deadline else { return oc_sys_pselect(count, readSet, writeSet, exceptSet, nil, nil) }
            let now = monotonicNanoseconds()
            let rest = deadline > now ? deadline - now : 0
            var left = timespec(tv_sec: Int(rest / 1_000_000_000), tv_nsec: Int(rest % 1_000_000_000))
            return oc_sys_pselect(count, readSet, writeSet, exceptSet, &left, nil)
        }
    }

    private typealias DescriptorSets = (
        read: UnsafeMutablePointer<fd_set>?, write: UnsafeMutablePointer<fd_set>?, except: UnsafeMutablePointer<fd_set>?
    )

    /// The coroutine's select: zero-timeout kernel checks over the original sets, with waits
    /// on the event loop between them; `kernelWait` takes over, with the sets restored, when
    /// a descriptor cannot be watched.
    private static func select(
        _ count: Int32, _ sets: DescriptorSets, until deadline: UInt64?, _ syscall: String,
        _ scheduler: Scheduler, _ coroutine: Unmanaged<ScheduledCoroutine>, kernelWait: () -> Int32
    ) -> Int32 {
        let original = (sets.read?.pointee, sets.write?.pointee, sets.except?.pointee)
        while true {
            restore(original, sets.read, sets.write, sets.except)
            var immediately = timeval(tv_sec: 0, tv_usec: 0)
            let ready = oc_sys_select(count, sets.read, sets.write, sets.except, &immediately)
            if ready != 0 || deadline.map({ monotonicNanoseconds() >= $0 }) == true {
                return ready
            }
            let descriptors = watchList(count, original)
            switch waitForAny(descriptors, until: deadline, inSyscall: syscall, scheduler: scheduler, coroutine: coroutine) {
            case .cancelled:
                errno = ECANCELED
                return -1
            case .unwatchable:
                restore(original, sets.read, sets.write, sets.except)
                return kernelWait()
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
