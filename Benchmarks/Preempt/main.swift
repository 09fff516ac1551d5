// Preemption figures, printed as name=value lines (Benchmarks/scripts/bench-preempt.sh runs
// Go's same program beside it and prints the ratio):
//
//   preempt_latency_p99_ms   on a runtime of ONE scheduler thread, the time from a spinning
//                            task taking the thread (it spins with no call in its loop) to the
//                            ready task it displaced getting to run again: the 99th
//                            percentile over PREEMPT_SAMPLES samples (default 200)
//   preempt_latency_p50_ms   the median of the same samples
//   cpu_bound_ms_preemption_on, cpu_bound_ms_preemption_off
//                            16 CPU-bound tasks of about 100 ms each on 2 threads, the median
//                            of 5 runs with preemption on and off, alternating
//   preempt_overhead_ratio   on / off
import CoroutineCore
import Foundation
import Synchronization

func nanosecondsNow() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}

func format(_ value: Double) -> String {
    String(format: "%.2f", value)
}

let runtime = CoroutineRuntime.shared

/// One sample: how long a spinner held the only thread before the measuring task ran again.
func preemptionLatencyMilliseconds() throws -> Double {
    let spinning = Atomic<Bool>(true)
    let tookThread = Atomic<UInt64>(0)
    return try runtime.spawn {
        let spinner = try runtime.spawn {
            tookThread.store(nanosecondsNow(), ordering: .releasing)
            while spinning.load(ordering: .relaxed) {}
        }
        // Yields until the spinner has the thread; the next return needs a preemption.
        repeat { try Scheduler.yield() } while tookThread.load(ordering: .acquiring) == 0
        let ranAgain = nanosecondsNow()
        spinning.store(false, ordering: .relaxed)
        try spinner.join()
        return Double(ranAgain - tookThread.load(ordering: .acquiring)) / 1e6
    }.join()
}

/// Work for the CPU with no call that could yield: about `rounds` multiply-adds.
@inline(never)
func crunch(_ seed: UInt64, rounds: Int) -> UInt64 {
    var state = seed
    for _ in 0..<rounds {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        state ^= state >> 29
    }
    return state
}

/// Rounds of `crunch` that take about `milliseconds` on this machine.
func calibratedRounds(milliseconds: Double) -> Int {
    let probe = 10_000_000
    let start = nanosecondsNow()
    blackHole(crunch(1, rounds: probe))
    let elapsed = Double(nanosecondsNow() - start) / 1e6
    return Int(Double(probe) * milliseconds / elapsed)
}

@inline(never)
func blackHole(_ value: UInt64) {
    if value == 42 { print("") }
}

func cpuBoundMilliseconds(preemption: Bool, rounds: Int) throws -> Double {
    try runtime.start(RuntimeConfiguration(threads: 2, preemption: preemption))
    defer { runtime.stop() }
    let start = nanosecondsNow()
    let tasks = try (0..<16).map { index in try runtime.spawn { crunch(UInt64(index), rounds: rounds) } }
    for task in tasks { blackHole(try task.join()) }
    return Double(nanosecondsNow() - start) / 1e6
}

let samples = Int(ProcessInfo.processInfo.environment["PREEMPT_SAMPLES"] ?? "") ?? 200
try runtime.start(RuntimeConfiguration(threads: 1))
var latencies: [Double] = []
for _ in 0..<samples {
    latencies.append(try preemptionLatencyMilliseconds())
}
runtime.stop()
latencies.sort()
print("preempt_latency_p99_ms=\(format(latencies[(latencies.count * 99 + 99) / 100 - 1]))")
print("preempt_latency_p50_ms=\(format(median(latencies)))")

let rounds = calibratedRounds(milliseconds: 100)
var on: [Double] = []
var off: [Double] = []
for _ in 0..<5 {
    on.append(try cpuBoundMilliseconds(preemption: true, rounds: rounds))
    off.append(try cpuBoundMilliseconds(preemption: false, rounds: rounds))
}
print("cpu_bound_ms_preemption_on=\(format(median(on)))")
print("cpu_bound_ms_preemption_off=\(format(median(off)))")
print("preempt_overhead_ratio=\(String(format: "%.3f", median(on) / median(off)))")
