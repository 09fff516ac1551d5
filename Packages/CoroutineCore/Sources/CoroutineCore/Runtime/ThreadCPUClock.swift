import Glibc
import Synchronization

/// The CPU-time clock of one of the runtime's threads, readable from any thread: how much
/// CPU the thread has used, for the preemption monitor and for `threadsCPUTime()`.
final class ThreadCPUClock: Sendable {
    /// Thread CPU clocks are negative numbers (the kernel encodes the thread's id in them),
    /// so the placeholder for "no thread" is positive.
    private static let none = Int32.max
    private let clock = Atomic<Int32>(ThreadCPUClock.none)

    /// Makes this the clock of the calling thread.
    func recordCallingThread() {
        var id = clockid_t()
        if pthread_getcpuclockid(pthread_self(), &id) == 0 {
            clock.store(Int32(id), ordering: .releasing)
        }
    }

    /// Forgets the thread, which is about to exit: its clock would soon name no thread.
    func forgetThread() {
        clock.store(Self.none, ordering: .releasing)
    }

    /// Nanoseconds of CPU the thread has used; zero when there is no thread.
    var nanoseconds: UInt64 {
        let id = clock.load(ordering: .acquiring)
        var time = timespec()
        guard id != Self.none, clock_gettime(clockid_t(id), &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
