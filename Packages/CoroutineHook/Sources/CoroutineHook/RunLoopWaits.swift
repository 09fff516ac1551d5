import CCoroutineHook
import CoroutineCore
import Glibc
import Synchronization

// CoreFoundation's run loop, waited on from several tasks of one thread.
//
// Each task has a run loop of its own (TaskRunLoops.swift), but one can still be shared:
// `RunLoop.main`, or a task's run loop handed to another task, run by tasks of one thread at
// once (and every task's, when CoreFoundation is not the one TaskRunLoops was written against).
// CoreFoundation allows runs of one run loop to nest, as a modal loop runs inside a callout of
// an outer one, and keeps per-run state (the current mode, the stop flags, the run's deadline)
// on a stack: the inner run must end before the outer one goes on.
// Two tasks that both run it (two `Process.waitUntilExit`s, which spin it in 50 ms slices) nest
// without knowing: the second enters while the first waits in the run loop's poll. When the
// first woke before the second left, it went on with the second's state on top of its own, and
// the second was left waiting for a wakeup that had been taken: it never ended.
//
// So the waits CoreFoundation makes in a task (its polls, found by their caller's address in
// Foundation) keep CoreFoundation's order: a task may return from the poll of a run loop only
// when no task that entered that run loop after it on this thread is still waiting in it. An
// outer run that woke early waits, suspended, for the inner ones to return, then looks at the
// descriptors again without waiting (what it saw may have been taken meanwhile), as a poll
// that woke spuriously. The inner runs are not held up at all, and each child process or timer
// still wakes its run loop; they only end innermost first, as CoreFoundation needs.
//
// Nested runs also lose wakeups, and no hook sees them go. CoreFoundation ignores a
// `CFRunLoopWakeUp` while the run loop is awake, and asks the innermost run whether it is: an
// outer run's deadline or its child's end, signalled while an inner run of another task was
// awake, writes nothing to the wakeup descriptor, and the outer run would sleep until some
// later event (tasks of two threads at once hung so, 3 runs in 15). So a run loop's wait in a
// task never sleeps longer than `backstop`: it then returns as a poll that found nothing, which
// CoreFoundation takes as a wakeup for nothing, and its run looks at its deadline, its stop
// flag and its sources before it sleeps again. A lost wakeup costs at most that long.
enum RunLoopWaits {
    /// The waits in one run loop of one thread, in the order they entered; a run loop is known
    /// by the first descriptor its poll watches (its wakeup descriptor).
    private struct Key: Hashable {
        let thread: UInt
        let descriptor: Int32
    }

    /// One task's wait, parked on its own address while it is not the innermost.
    private final class Wait: Sendable {}

    private static let waits = Mutex<[Key: [Wait]]>([:])

    /// The longest a run loop's wait in a task sleeps before it looks again (see above): short
    /// beside the 50 ms slices `Process.waitUntilExit` runs its run loop in.
    static let backstopMilliseconds: Int32 = 10

    /// A `poll` timeout in milliseconds (negative: none) capped at the backstop.
    static func cappedMilliseconds(_ timeout: Int32) -> Int32 {
        timeout < 0 ? backstopMilliseconds : min(timeout, backstopMilliseconds)
    }

    /// A `ppoll` timeout (nil: none) capped at the backstop. A negative or malformed one is
    /// passed on as it is, for the kernel's EINVAL.
    static func capped(_ timeout: timespec?) -> timespec {
        let backstop = timespec(tv_sec: 0, tv_nsec: Int(backstopMilliseconds) * 1_000_000)
        guard let timeout else { return backstop }
        let isValid = timeout.tv_sec >= 0 && (0..<1_000_000_000).contains(timeout.tv_nsec)
        let isShorter = timeout.tv_sec == 0 && timeout.tv_nsec < backstop.tv_nsec
        return !isValid || isShorter ? timeout : backstop
    }

    /// Whether the calling hook serves CoreFoundation's run loop wait.
    static var isRunLoopWait: Bool {
        oc_hook_called_from_run_loop()
    }

    /// Runs `poll` (a poll of `fds` in a task) as a wait of the run loop whose wakeup is
    /// `fds[0]`, keeping CoreFoundation's nesting order; `pollNow` looks again without waiting.
    static func wait(
        on fds: UnsafeMutablePointer<pollfd>, _ poll: () -> Int32, pollNow: () -> Int32
    ) -> Int32 {
        let key = Key(thread: UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))), descriptor: fds[0].fd)
        let wait = Wait()
        waits.withLock { $0[key, default: []].append(wait) }
        var result = poll()
        let address = UnsafeRawPointer(Unmanaged.passUnretained(wait).toOpaque())
        var heldBack = false
        while !isInnermost(wait, in: key) {
            heldBack = true
            _ = ParkingLot.park(at: address, untilNanoseconds: nil) { !isInnermost(wait, in: key) }
        }
        if heldBack {
            let saved = errno
            result = pollNow()
            if result < 0 { errno = saved }
        }
        leave(wait, key: key)
        return result
    }

    private static func isInnermost(_ wait: Wait, in key: Key) -> Bool {
        waits.withLock { $0[key]?.last === wait }
    }

    /// Takes `wait` out and wakes the wait that is innermost now.
    private static func leave(_ wait: Wait, key: Key) {
        let next = waits.withLock { waits -> Wait? in
            waits[key]?.removeAll { $0 === wait }
            if waits[key]?.isEmpty == true { waits[key] = nil }
            return waits[key]?.last
        }
        if let next {
            ParkingLot.unpark(at: UnsafeRawPointer(Unmanaged.passUnretained(next).toOpaque()), all: false)
        }
    }
}
