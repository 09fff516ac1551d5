import CCoroutineHook
import CoroutineCore
import Glibc
import Synchronization

// CoreFoundation's run loop, waited on from several tasks of one thread.
//
// A run loop belongs to a thread (`RunLoop.current`, `CFRunLoopGetCurrent`), so the tasks of
// one scheduler thread share one. CoreFoundation allows runs of it to nest, as a modal loop
// runs inside a callout of an outer one, and keeps per-run state (the current mode, the stop
// flags, the run's deadline) on a stack: the inner run must end before the outer one goes on.
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
// Still per thread: the run loop's sources and timers. A source one task added may fire inside
// another task's run (Docs/coroutines.md, "What is per task, what is per thread").
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
