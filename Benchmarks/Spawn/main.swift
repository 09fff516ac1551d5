// Scheduling figures, printed as name=value lines, on a runtime of 2 scheduler threads
// (the same thread count as the Go anchor's GOMAXPROCS), or of BENCH_THREADS threads:
//
//   spawn_join_ns  per task: a root task spawns 1,000,000 trivial tasks and waits for all
//   yield_noswitch_ns  one Scheduler.yield with nothing else runnable: it returns at once
//   skynet_ms      the skynet tree: 1,000,000 leaves, each node spawning and joining 10; a
//                  join of a child not started yet runs it inline on the parent's stack
//   channel_pingpong_ns  per round trip: two tasks pass a number back and forth over two
//                  rendezvous channels (capacity 0), as Go's anchor does with unbuffered chans;
//                  as there, one task spawns the other and drives the exchange
//   channel_pingpong_unbounded_ns  the same over unbounded channels (what channel_pingpong_ns
//                  measured before rendezvous channels existed)
//   channel_pingpong_from_thread_ns  channel_pingpong_ns with both tasks spawned from the
//                  program's main thread (what channel_pingpong_ns measured before): each
//                  lands on whichever thread takes it first, and when they land apart every
//                  message wakes the other thread
//   idle_cpu_percent  CPU the scheduler threads use over 5 s with nothing to do, in % of a core
//
// then, on runtimes started for them:
//
//   skynet_noinline_ms  skynet with inline joins off (inlineJoins: false): every node gets a
//                  coroutine of its own, as every goroutine does
//   switched_yield_ns  per yield, on 1 thread: two tasks yield to each other, each yield a switch
//   channel_pingpong_1t_ns  channel_pingpong_ns on 1 thread
//
// BENCH_HANDOFF_AFTER_US sets handoffAfter in microseconds (0: no handoff; unset: the default).
// With BENCH_ONLY=switched-yield only switched_yield_ns is measured (to profile it), and with
// BENCH_ONLY=pingpong only channel_pingpong_ns, with
// BENCH_ONLY=pingpong-1t only channel_pingpong_1t_ns, with BENCH_ONLY=skynet-noinline only
// skynet_noinline_ms. With
// BENCH_ONLY=spawn only spawn_join_ns is measured (make bench-scaling times it at several
// thread counts, where the other figures would only lengthen the run), followed by
//
//   spawn_steals   steals of the work-stealing queues per spawn run, the mean over its warm-up
//                  and its samples (each steal takes half of a sibling's ring)
//
// An empty variable counts as unset; any other value the benchmark does not know ends it with
// a message on stderr and exit status 2, before anything is measured.
import BenchmarkSupport
import CoroutineCore
import Dispatch
import Glibc
import OpenCoroutine
import Synchronization

let settings = BenchmarkSettings(program: "spawn_benchmark")

/// The figure BENCH_ONLY asks for alone, or nil when it is unset.
func onlyFigure() -> String? {
    guard let only = settings.environment("BENCH_ONLY") else { return nil }
    guard ["spawn", "switched-yield", "pingpong", "pingpong-1t", "skynet-noinline"].contains(only) else {
        settings.reject(
            "BENCH_ONLY=\(only) is not a figure this benchmark can run alone (spawn, switched-yield, pingpong, pingpong-1t, skynet-noinline)")
    }
    return only
}

// All read before the runtime starts, so that a bad value costs no measurement.
let only = onlyFigure()
let threads = settings.schedulerThreads
let handoffAfter = settings.handoffAfter
let spawnOnly = only == "spawn"
let runtime = CoroutineRuntime.shared
if only == "pingpong" {
    try runtime.start(RuntimeConfiguration(threads: threads, handoffAfter: handoffAfter))
    print("channel_pingpong_ns=\(format(try median { try channelPingPongNanoseconds(rendezvous) }))")
    runtime.stop()
    exit(0)
}
if only == "switched-yield" || only == "pingpong-1t" {
    try runtime.start(RuntimeConfiguration(threads: 1, handoffAfter: handoffAfter))
    if only == "switched-yield" {
        print("switched_yield_ns=\(format(try median { try switchedYieldNanoseconds() }))")
    } else {
        print("channel_pingpong_1t_ns=\(format(try median { try channelPingPongNanoseconds(rendezvous) }))")
    }
    runtime.stop()
    exit(0)
}
if only == "skynet-noinline" {
    try runtime.start(RuntimeConfiguration(threads: threads, handoffAfter: handoffAfter, inlineJoins: false))
    print("skynet_noinline_ms=\(format(try median { try skynetMilliseconds() }))")
    runtime.stop()
    exit(0)
}
try runtime.start(RuntimeConfiguration(threads: threads, handoffAfter: handoffAfter))

/// Median of `samples` runs after one warm-up.
func median(samples: Int = 5, _ run: () throws -> Double) rethrows -> Double {
    _ = try run()
    var values: [Double] = []
    for _ in 0..<samples { values.append(try run()) }
    return values.sorted()[samples / 2]
}

func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start)
}

/// Counts finished tasks and wakes the waiting thread when the last one is done.
final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    private let done = DispatchSemaphore(value: 0)

    init(_ count: Int) { remaining = Atomic(count) }

    func finishOne() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.signal() }
    }

    func wait() { done.wait() }
}

func spawnJoinNanoseconds(tasks: Int = 1_000_000) throws -> Double {
    try nanoseconds {
        let countdown = Countdown(tasks)
        try runtime.spawn {
            for _ in 0..<tasks {
                _ = try? CoroutineRuntime.shared.spawn { countdown.finishOne() }
            }
        }
        countdown.wait()
    } / Double(tasks)
}

func yieldNanoseconds(yields: Int = 1_000_000) throws -> Double {
    try runtime.spawn {
        nanoseconds {
            for _ in 0..<yields { try? Scheduler.yield() }
        }
    }.join() / Double(yields)
}

/// Two tasks yielding to each other on a 1-thread runtime: ns per yield, each one a switch.
func switchedYieldNanoseconds(yields: Int = 1_000_000) throws -> Double {
    let started = Atomic<Int>(0)
    return try nanoseconds {
        let tasks = try (0..<2).map { _ in
            try runtime.spawn {
                // Both start before either counts: the first would otherwise yield alone.
                started.add(1, ordering: .relaxed)
                while started.load(ordering: .relaxed) < 2 { try? Scheduler.yield() }
                for _ in 0..<yields { try? Scheduler.yield() }
            }
        }
        for task in tasks { try task.join() }
        started.store(0, ordering: .relaxed)
    } / Double(2 * yields)
}

/// The skynet node at `ordinal` covering `size` leaves.
@Sendable func skynet(ordinal: Int, size: Int) throws -> Int {
    guard size > 1 else { return ordinal }
    let childSize = size / 10
    let children = try (0..<10).map { child in
        try CoroutineRuntime.shared.spawn { try skynet(ordinal: ordinal + child * childSize, size: childSize) }
    }
    return try children.reduce(0) { $0 + (try $1.join()) }
}

func skynetMilliseconds() throws -> Double {
    var sum = 0
    let elapsed = try nanoseconds {
        sum = try runtime.spawn { try skynet(ordinal: 0, size: 1_000_000) }.join()
    }
    precondition(sum == 499_999_500_000, "skynet sum \(sum)")
    return elapsed / 1e6
}

/// Nanoseconds per round trip of a number between two tasks over two channels `make` makes:
/// a driver task spawns the echo task, as the Go anchor's main goroutine does, then drives
/// the exchange.
func channelPingPongNanoseconds(roundTrips: Int = 200_000, _ make: @escaping @Sendable () throws -> Channel<Int>) throws -> Double {
    try runtime.spawn { () throws -> Double in
        let (ping, pong) = (try make(), try make())
        let echo = try runtime.spawn { try echoUntilClosed(ping, into: pong) }
        let elapsed = try nanoseconds { try drive(ping, pong, roundTrips: roundTrips) }
        ping.close()
        try echo.join()
        return elapsed / Double(roundTrips)
    }.join()
}

/// `channelPingPongNanoseconds` with both tasks spawned from the calling (main) thread.
func channelPingPongFromThreadNanoseconds(roundTrips: Int = 200_000, _ make: () throws -> Channel<Int>) throws -> Double {
    let (ping, pong) = (try make(), try make())
    let echo = try runtime.spawn { try echoUntilClosed(ping, into: pong) }
    let elapsed = try runtime.spawn { () throws -> Double in
        try nanoseconds { try drive(ping, pong, roundTrips: roundTrips) }
    }.join()
    ping.close()
    try echo.join()
    return elapsed / Double(roundTrips)
}

/// Sends back every number received on `ping`, plus one, on `pong`.
func echoUntilClosed(_ ping: Channel<Int>, into pong: Channel<Int>) throws {
    while let value = try ping.receive() { try pong.send(value + 1) }
}

/// Sends a number on `ping` and takes it back from `pong`, `roundTrips` times.
func drive(_ ping: Channel<Int>, _ pong: Channel<Int>, roundTrips: Int) throws {
    var value = 0
    for _ in 0..<roundTrips {
        try ping.send(value)
        value = try pong.receive() ?? value
    }
    precondition(value == roundTrips, "ping-pong ended at \(value)")
}

/// A rendezvous channel, as Go's unbuffered `chan`.
func rendezvous() throws -> Channel<Int> { try Channel(capacity: 0) }

func format(_ value: Double) -> String {
    String(Double(Int((value * 100).rounded())) / 100)
}

func idleCPUPercent(over seconds: Int = 5) -> Double {
    sleep(1)
    let before = runtime.threadsCPUTime()
    sleep(UInt32(seconds))
    let used = runtime.threadsCPUTime() - before
    return Double(used.components.attoseconds) / 1e16 / Double(seconds) + Double(used.components.seconds) * 100 / Double(seconds)
}

// The counters are totals since the start: the steals of the spawn runs are the difference.
let stealsBefore = runtime.counters?.steals ?? 0
var spawnRuns = 0
print("spawn_join_ns=\(format(try median { spawnRuns += 1; return try spawnJoinNanoseconds() }))")
if spawnOnly {
    let steals = (runtime.counters?.steals ?? stealsBefore) - stealsBefore
    print("spawn_steals=\(steals / UInt64(spawnRuns))")
} else {
    print("yield_noswitch_ns=\(format(try median { try yieldNanoseconds() }))")
    print("skynet_ms=\(format(try median { try skynetMilliseconds() }))")
    print("channel_pingpong_ns=\(format(try median { try channelPingPongNanoseconds(rendezvous) }))")
    print("channel_pingpong_unbounded_ns=\(format(try median { try channelPingPongNanoseconds { Channel() } }))")
    print("channel_pingpong_from_thread_ns=\(format(try median { try channelPingPongFromThreadNanoseconds(rendezvous) }))")
    print("idle_cpu_percent=\(format(idleCPUPercent()))")

    runtime.stop()
    try runtime.start(RuntimeConfiguration(threads: threads, handoffAfter: handoffAfter, inlineJoins: false))
    print("skynet_noinline_ms=\(format(try median { try skynetMilliseconds() }))")

    runtime.stop()
    try runtime.start(RuntimeConfiguration(threads: 1, handoffAfter: handoffAfter))
    print("switched_yield_ns=\(format(try median { try switchedYieldNanoseconds() }))")
    print("channel_pingpong_1t_ns=\(format(try median { try channelPingPongNanoseconds(rendezvous) }))")
}
runtime.stop()
