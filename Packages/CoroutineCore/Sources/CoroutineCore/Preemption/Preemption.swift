import CCoroutineCore

/// Preemption of coroutines that run without yielding.
///
/// A runtime started with `RuntimeConfiguration.preemption` watches its scheduler threads.
/// A coroutine that runs for a whole `preemptionSlice` without a switch is suspended at the
/// instruction it is executing and put at the back of its scheduler's ready queue, so the
/// coroutines queued behind it run; it later resumes exactly where it was.
///
/// The switch happens only where it is safe: in the program's own code or a library outside
/// the runtime, libc, the Swift runtime, Foundation and the allocators. A request that finds
/// the coroutine anywhere else waits for its next safe point: a hooked call, a wait, a yield,
/// or `safePoint()`. Docs/preemption.md explains each rule.
public enum Preemption {
    /// The signal that carries preemption requests to the scheduler threads: SIGRTMIN + 8.
    ///
    /// Leave it to the runtime: a handler of your own for it replaces the runtime's, and a
    /// scheduler thread that blocks it is never preempted. The runtime's handler passes the
    /// signal on to the handler installed before it when the signal did not come from the
    /// runtime.
    public static var signal: Int32 {
        oc_preempt_signal()
    }

    /// Runs `body` with the calling coroutine safe from preemption.
    ///
    /// Wrap code that holds a lock other coroutines of the same thread may ask for (a `Mutex`
    /// of the Synchronization module, an `NSLock`): a coroutine preempted while holding it
    /// would deadlock the next one on its thread that asks. A `pthread_mutex_t` locked from
    /// the program's own code needs no wrapping where the hook library runs: the asker parks. Sections nest,
    /// and a coroutine that suspends inside one keeps it open until it resumes and leaves.
    @inlinable
    public static func withoutPreemption<Result, Failure: Error>(
        _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        oc_preempt_disable()
        defer { oc_preempt_enable() }
        return try body()
    }

    /// Yields the calling coroutine if a preemption request found it at an unsafe point
    /// since it last ran (and it is not inside `withoutPreemption`); otherwise returns at
    /// once, for the cost of one thread-local read.
    ///
    /// Hooked calls and waits are safe points already. Call this in a long loop that spends
    /// its time inside libraries the runtime never interrupts (libc, the Swift runtime), so
    /// that the loop still gives way within about one slice.
    @inlinable
    public static func safePoint() {
        if oc_preempt_take_pending() {
            Scheduler.yieldForPreemption()
        }
    }
}

extension Scheduler {
    /// Yields the calling coroutine to its scheduler after a deferred preemption request.
    @usableFromInline
    static func yieldForPreemption() {
        _ = current?.yieldRunning()
    }
}
