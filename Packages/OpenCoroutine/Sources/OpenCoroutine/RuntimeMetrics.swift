import CoroutineCore
import Foundation
import Metrics
import Synchronization

/// Reports the runtime's counters (`CoroutineRuntime.counters`) through swift-metrics while
/// `withCoroutines` runs, as the counters and gauges `Config.metricsInterval` lists.
///
/// The runtime only counts (a plain store on the thread that counts); a reporter thread reads
/// the totals every `interval` and increments the metrics by the difference, and records the
/// gauges as they read, so the metrics backend is never on the scheduling path.
final class RuntimeMetrics: Sendable {
    private let metrics: [(KeyPath<RuntimeCounters, UInt64> & Sendable, Counter)]
    /// The counters that are gauges (a value now, not a total), as swift-metrics gauges.
    private let gauges: [(KeyPath<RuntimeCounters, Int> & Sendable, Gauge)]
    private let interval: Duration
    private let reported = UnpreemptedMutex(RuntimeCounters())
    private let stopping = UnpreemptedMutex<(requested: Bool, sleeper: ParkingToken?)>((false, nil))
    /// Whether the reporter thread ended, and who waits for that.
    private let finished = UnpreemptedMutex<(done: Bool, waiter: ParkingToken?)>((false, nil))

    init(interval: Duration, factory: MetricsFactory = MetricsSystem.factory) {
        self.interval = interval
        metrics = [
            (\.coroutinesCreated, Counter(label: "opencoroutine_coroutines_created", factory: factory)),
            (\.switches, Counter(label: "opencoroutine_switches", factory: factory)),
            (\.steals, Counter(label: "opencoroutine_steals", factory: factory)),
            (\.tasksQueued, Counter(label: "opencoroutine_tasks_queued", factory: factory)),
            (\.syscallWaits, Counter(label: "opencoroutine_syscall_waits", factory: factory)),
            (\.preemptions, Counter(label: "opencoroutine_preemptions", factory: factory)),
            (\.deferredPreemptions, Counter(label: "opencoroutine_deferred_preemptions", factory: factory)),
            (\.ringOperations, Counter(label: "opencoroutine_ring_operations", factory: factory)),
            (\.blockingCalls, Counter(label: "opencoroutine_blocking_calls", factory: factory)),
            (\.stackOverflows, Counter(label: "opencoroutine_stack_overflows", factory: factory)),
            (\.handoffsRefused, Counter(label: "opencoroutine_handoffs_refused", factory: factory)),
        ]
        gauges = [
            (\.threads, Gauge(label: "opencoroutine_threads", factory: factory)),
            (\.heldThreads, Gauge(label: "opencoroutine_held_threads", factory: factory)),
        ]
    }

    /// Starts the reporter thread.
    func start() {
        Thread.detachNewThread { [self] in
            while !sleep() {
                report()
            }
            report()
            let waiter = finished.withLock { state in
                state.done = true
                return state.waiter
            }
            waiter?.unpark()
        }
    }

    /// Reports what is left and ends the reporter thread; returns once it ended.
    func stop() {
        let sleeper = stopping.withLock { state in
            state.requested = true
            return state.sleeper
        }
        sleeper?.unpark()
        _ = Parking.park { token in
            finished.withLock { state in
                state.waiter = token
                return !state.done
            }
        }
    }

    /// Sleeps one interval; true when a stop was requested.
    private func sleep() -> Bool {
        _ = Parking.park(until: .now + interval) { token in
            stopping.withLock { state in
                state.sleeper = token
                return !state.requested
            }
        }
        return stopping.withLock { $0.requested }
    }

    /// Increments each counter by what it gained since the last report, and records each gauge.
    func report() {
        guard let current = CoroutineRuntime.shared.counters else { return }
        let previous = reported.withLock { reported in
            defer { reported = current }
            return reported
        }
        for (field, counter) in metrics where current[keyPath: field] > previous[keyPath: field] {
            counter.increment(by: Int64(clamping: current[keyPath: field] - previous[keyPath: field]))
        }
        for (field, gauge) in gauges {
            gauge.record(current[keyPath: field])
        }
    }
}
