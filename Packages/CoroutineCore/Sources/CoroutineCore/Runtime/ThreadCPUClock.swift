import Glibc
import Synchronization

/// The CPU-time clock of one of the runtime's threads, readable from any thread: how much
/// CPU the thread has used, for the preemption monitor and for `threadsCPUTime()`.
///
/// A spare scheduler thread ends after `keepAlive` of dormancy and a new one takes its place
/// on the next handoff, with the same clock: the time of the threads that ended is kept, so
/// that the clock never goes back (a reader subtracting two readings would otherwise find a
/// negative time across a spare's exit).
final class ThreadCPUClock: Sendable {
    private struct State {
        /// The running thread's clock; nil when no thread is recorded.
        var clock: clockid_t?
        /// CPU nanoseconds of the threads this clock recorded before, which have ended.
        var ended: UInt64 = 0
    }

    // A lock rather than atomics: a thread's exit moves its final time into `ended` and clears
    // `clock` in one step, so no reader counts that time twice or not at all. Readers are the
    // monitor, once a tick per thread, and `threadsCPUTime()`: never contended for long.
    private let state = Mutex(State())

    /// Makes this the clock of the calling thread.
    func recordCallingThread() {
        var id = clockid_t()
        guard pthread_getcpuclockid(pthread_self(), &id) == 0 else { return }
        state.withLock { $0.clock = id }
    }

    /// Forgets the thread, which is about to exit, keeping the CPU time it used: its clock
    /// would soon name no thread.
    func forgetThread() {
        state.withLock { state in
            state.ended += state.clock.map(Self.nanoseconds(of:)) ?? 0
            state.clock = nil
        }
    }

    /// Nanoseconds of CPU the threads of this clock have used: the running one's, and those
    /// that ended.
    var nanoseconds: UInt64 {
        state.withLock { state in
            state.ended + (state.clock.map(Self.nanoseconds(of:)) ?? 0)
        }
    }

    private static func nanoseconds(of clock: clockid_t) -> UInt64 {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
