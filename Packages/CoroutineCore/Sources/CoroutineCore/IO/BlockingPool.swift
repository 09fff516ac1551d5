import CCoroutineCore
import DequeModule
import Glibc
import Synchronization

/// Threads that make blocking calls on behalf of coroutines: the calls no event loop can wait
/// for (name lookups, `waitpid`, `flock`) and file I/O where io_uring is unavailable. The
/// coroutine suspends meanwhile, so its scheduler thread keeps running the others.
///
/// There are two pools. `waits` serves calls that mostly wait (a lookup waits for a DNS
/// server), so it may run many at once; `files` serves file I/O, which mostly copies data and
/// so keeps the CPU busy, so it runs only a few (`filesLimit`) at once.
///
/// Threads are created on demand, up to `limit`, and exit after 10 s idle. A call beyond the
/// limit waits in a queue for the first free thread, and so does a call whose thread
/// `RuntimeConfiguration.maxThreads` refused; one that finds the pool without any thread runs
/// where it was made, as when the system refuses a thread. A queued call waits for whatever
/// the running calls wait for (the monitor's warning writer makes way for it after each
/// warning). The pool is process-wide: it serves
/// every runtime start, and an idle process has no pool threads. Its threads run at a lower
/// CPU priority (nice +10) than the scheduler threads: hundreds of them copying file data
/// would otherwise take the CPU from the coroutines they serve.
final class BlockingPool: @unchecked Sendable {
    // @unchecked Sendable: the mutable state is behind `state`; each worker's `job` slot is
    // written under that lock too.

    /// The pool for calls that wait.
    static let waits = BlockingPool(limit: RuntimeConfiguration.defaultBlockingThreads, threadName: "oc-blocking")
    /// The pool for file I/O without io_uring.
    static let files = BlockingPool(limit: filesLimit, threadName: "oc-files")
    /// Threads of `files`: enough to keep a disk's queue full, few enough that copying file
    /// data never crowds the scheduler threads off the CPUs.
    static let filesLimit = max(4, 2 * Int(oc_available_cpus()))

    /// What the pool's threads are called.
    private let threadName: String

    private init(limit: Int, threadName: String) {
        state = Mutex(State(limit: limit))
        self.threadName = threadName
    }

    /// How long an idle pool thread stays.
    private static let keepAliveNanoseconds: UInt64 = 10_000_000_000

    /// A call to make, with whatever it captured: its arguments live in the waiting
    /// coroutine's frame, which stays suspended until the call returns.
    private struct Job: @unchecked Sendable {
        let run: () -> Void
    }

    private final class Worker: @unchecked Sendable {
        let parker = Parker()
        /// The job handed to this idle worker; written and taken under the pool's lock.
        var job: Job?
    }

    private struct State {
        var queue = Deque<Job>()
        var idle: [Worker] = []
        var threads = 0
        var limit: Int
    }

    private let state: Mutex<State>

    /// The most threads the pool runs at once.
    var limit: Int {
        get { state.withLock { $0.limit } }
        set { state.withLock { $0.limit = newValue } }
    }

    /// Whether a call waits in the queue for a thread (the monitor's warning writer then
    /// makes way for it).
    var hasQueuedCalls: Bool {
        state.withLock { !$0.queue.isEmpty }
    }

    /// Where a job goes.
    private enum Placement {
        /// To this idle worker.
        case handed(Worker)
        /// To a thread to start.
        case newThread
        /// Into the queue, for the first worker to finish its job.
        case queued
        /// Nowhere: the submitter runs these, oldest first (the pool has no thread and may
        /// start none).
        case runHere([Job])
    }

    /// Runs `job` on a pool thread, now or once one is free.
    func submit(_ call: @escaping () -> Void) {
        let job = Job(run: call)
        let placement = state.withLock { state -> Placement in
            if let worker = state.idle.popLast() {
                worker.job = job
                return .handed(worker)
            }
            guard state.threads < state.limit else {
                state.queue.append(job)
                return .queued
            }
            state.threads += 1
            return .newThread
        }
        place(job, placement)
    }

    private func place(_ job: Job, _ placement: Placement) {
        switch placement {
        case .handed(let worker):
            worker.parker.unpark()
        case .newThread:
            startWorker(with: job)
        case .queued:
            break
        case .runHere(let jobs):
            for job in jobs {
                job.run()
            }
        }
    }

    private func startWorker(with job: Job) {
        let refusable = "a blocking-pool thread (\(threadName)) was not started; its call waits for a running one"
        do {
            pthread_detach(try startThread(refusable: refusable) { [self] in
                oc_thread_set_name(threadName)
                work(first: job)
            })
        } catch {
            // A refusal at `maxThreads` was logged once already; the system's every time.
            if case .system(let errno) = error {
                CoroutineLogging.logger.warning("blocking pool: no new thread (errno \(errno))")
            }
            // No thread: the job goes to a worker that went idle since `submit` looked (a
            // worker goes idle only where the queue is empty, so a job queued now would wait
            // for its keep-alive), else waits for a busy one, or runs here when there are none.
            // A busy worker may run a long call: the monitor's warning writer makes way after
            // each warning (a backlog written in one job kept 16 calls waiting beyond 10 s at
            // `maxThreads` under AddressSanitizer); a long call of the program's does not.
            // `threads` also counts starts still under way, which may fail too: a job queued
            // for one of those would wait for no thread, so the last start to fail runs every
            // job queued meanwhile here as well.
            let placement = state.withLock { state -> Placement in
                state.threads -= 1
                if let worker = state.idle.popLast() {
                    worker.job = job
                    return .handed(worker)
                }
                guard state.threads == 0 else {
                    state.queue.append(job)
                    return .queued
                }
                defer { state.queue.removeAll() }
                return .runHere(Array(state.queue) + [job])
            }
            place(job, placement)
        }
    }

    /// A pool thread's life: its first job, then queued or handed jobs until it idles out.
    private func work(first: Job) {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(oc_thread_id()), 10)
        let me = Worker()
        var job: Job? = first
        while let current = job {
            current.run()
            job = nextJob(for: me)
        }
    }

    /// The next job: a queued one, or one handed over while idle; nil when the thread should
    /// exit (idle for the keep-alive time).
    private func nextJob(for worker: Worker) -> Job? {
        let queued = state.withLock { state -> Job? in
            if let job = state.queue.popFirst() { return job }
            state.idle.append(worker)
            return nil
        }
        if let queued { return queued }
        let deadline = monotonicNanoseconds() + Self.keepAliveNanoseconds
        while true {
            let now = monotonicNanoseconds()
            if now < deadline {
                worker.parker.park(timeoutNanoseconds: deadline - now)
            }
            let (job, exits) = state.withLock { state -> (Job?, Bool) in
                if let job = worker.job.take() { return (job, false) }
                guard monotonicNanoseconds() >= deadline else { return (nil, false) }
                state.idle.removeAll { $0 === worker }
                state.threads -= 1
                return (nil, true)
            }
            if let job { return job }
            if exits { return nil }
        }
    }
}

/// What a call made on the blocking pool left: its result and errno.
private final class OffloadedCall<Result>: @unchecked Sendable {
    // @unchecked Sendable: `result` and `error` are written by the pool thread before
    // `finished` is set under the lock, and read by the coroutine only after it saw it set.
    var result: Result?
    var error: Int32 = 0
    /// Whether the call finished, and the park to end when it does.
    let progress = Mutex<(finished: Bool, waiting: ParkingToken?)>((false, nil))

    func finish(_ result: Result, error: Int32) {
        self.result = result
        self.error = error
        let waiting = progress.withLock { progress -> ParkingToken? in
            progress.finished = true
            return progress.waiting.take()
        }
        waiting?.unpark()
    }

    /// Hands `token` the call's end; false when it already ended.
    func await(with token: ParkingToken) -> Bool {
        progress.withLock { progress in
            guard !progress.finished else { return false }
            progress.waiting = token
            return true
        }
    }
}

extension Syscall {
    /// Runs `call`, a blocking call no event loop can wait for (a name lookup, `waitpid`), on
    /// the blocking pool while the calling coroutine waits, and returns its result with its
    /// errno in place; anywhere but in a scheduled coroutine, runs it here. `name` names the
    /// call for scheduler listeners.
    ///
    /// The wait outlasts a cancellation of the calling task: the call keeps its arguments
    /// (the caller's buffers) until it returns, so the caller must wait for it.
    public static func runOnBlockingPool<Result>(_ name: String, _ call: @escaping () -> Result) -> Result {
        run(name, on: BlockingPool.waits, call)
    }

    /// Runs `call` on `pool` while the calling coroutine waits (see `runOnBlockingPool`).
    static func run<Result>(_ name: String, on pool: BlockingPool, _ call: @escaping () -> Result) -> Result {
        guard let (scheduler, coroutine) = Scheduler.directlyScheduled() else { return call() }
        scheduler.counters.blockingCalls.increment()
        let offloaded = OffloadedCall<Result>()
        pool.submit {
            let result = call()
            offloaded.finish(result, error: errno)
        }
        scheduler.pooledCalls += 1
        // A cancellation does not end the wait: the call holds the caller's arguments.
        while scheduler.park(coroutine, until: nil, inSyscall: name, reason: .blockingPool, register: offloaded.await)
            == .cancelled {}
        scheduler.pooledCalls -= 1
        errno = offloaded.error
        // Sound: without a deadline, a park that was not cancelled ends only once the call
        // finished and stored its result (unparked by `finish`, or not parked at all).
        return offloaded.result!
    }
}
