import CoroutineCore
import MetricsTestKit
import Testing
@testable import OpenCoroutine

extension RuntimeTests {
    @Suite struct RuntimeMetricsTests {
        @Test func theRuntimesCountersReachTheMetricsBackend() throws {
            let backend = TestMetrics()
            let reporter = RuntimeMetrics(interval: .milliseconds(5), factory: backend)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                reporter.start()
                let handles = try (0..<500).map { _ in try co { _ = Syscall.usleep(1_000) } }
                for handle in handles {
                    try handle.join()
                }
            }
            // Stopped as main stops it, after the runtime: its final report has the run's
            // final totals.
            reporter.stop()
            let totals = try #require(CoroutineRuntime.shared.counters)
            #expect(totals.tasksQueued == 500)
            #expect(totals.syscallWaits == 500)
            let expected: [(String, UInt64)] = [
                ("opencoroutine_tasks_queued", totals.tasksQueued),
                ("opencoroutine_syscall_waits", totals.syscallWaits),
                ("opencoroutine_switches", totals.switches),
                ("opencoroutine_coroutines_created", totals.coroutinesCreated),
                ("opencoroutine_steals", totals.steals),
                ("opencoroutine_preemptions", totals.preemptions),
                ("opencoroutine_deferred_preemptions", totals.deferredPreemptions),
                ("opencoroutine_ring_operations", totals.ringOperations),
                ("opencoroutine_blocking_calls", totals.blockingCalls),
                ("opencoroutine_stack_overflows", totals.stackOverflows),
                ("opencoroutine_handoffs_refused", totals.handoffsRefused),
            ]
            for (label, total) in expected {
                #expect(backend.counterTotal(label: label) == Int64(total), "\(label)")
            }
            // Gauges hold the value of the last report, made after the stop: no thread held,
            // and the threads still counted (the blocking pools' threads, which outlive a stop
            // by 10 s and may end between that report and the totals read above, so the two
            // are not compared).
            #expect(try backend.expectGauge("opencoroutine_held_threads").lastValue == 0)
            #expect(try backend.expectGauge("opencoroutine_threads").lastValue.map { $0 >= 0 } == true)
        }
    }
}
