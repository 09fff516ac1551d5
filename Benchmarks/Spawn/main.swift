// Scheduling figures, printed as name=value lines, on a runtime of 2 scheduler threads
// (the same thread count as the Go anchor's GOMAXPROCS):
//
//   spawn_join_ns  per task: a root task spawns 1,000,000 trivial tasks and waits for all
//   yield_ns       one Scheduler.yield and reschedule, with nothing else runnable
//   skynet_ms      the skynet tree: 1,000,000 leaves, each node spawning and joining 10
//   channel_pingpong_ns  per round trip: two tasks pass a number back and forth over two
//                  unbuffered channels (Go's anchor does the same with unbuffered chans)
//   idle_cpu_percent  CPU the scheduler threads use over 5 s with nothing to do, in % of a core
import Dispatch
import Glibc
import OpenCoroutine
import Synchronization

let runtime = CoroutineRuntime.shared
try runtime.start(RuntimeConfiguration(threads: 2))

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

/// Round trips of one number between two tasks over unbuffered channels, ns per round trip.
func channelPingPongNanoseconds(roundTrips: Int = 200_000) throws -> Double {
    let (ping, pong) = (Channel<Int>(), Channel<Int>())
    let echo = try runtime.spawn {
        while let value = try ping.receive() { try pong.send(value + 1) }
    }
    let elapsed = try runtime.spawn { () throws -> Double in
        try nanoseconds {
            var value = 0
            for _ in 0..<roundTrips {
                try ping.send(value)
                value = try pong.receive() ?? value
            }
            precondition(value == roundTrips, "ping-pong ended at \(value)")
        }
    }.join()
    ping.close()
    try echo.join()
    return elapsed / Double(roundTrips)
}

func format(_ value: Double) -> String {
    String(Double(Int((value * 100).rounded())) / 100)
}

print("spawn_join_ns=\(format(try median { try spawnJoinNanoseconds() }))")
print("yield_ns=\(format(try median { try yieldNanoseconds() }))")
print("skynet_ms=\(format(try median { try skynetMilliseconds() }))")
print("channel_pingpong_ns=\(format(try median { try channelPingPongNanoseconds() }))")

func idleCPUPercent(over seconds: Int = 5) -> Double {
    sleep(1)
    let before = runtime.threadsCPUTime()
    sleep(UInt32(seconds))
    let used = runtime.threadsCPUTime() - before
    return Double(used.components.attoseconds) / 1e16 / Double(seconds) + Double(used.components.seconds) * 100 / Double(seconds)
}

print("idle_cpu_percent=\(format(idleCPUPercent()))")
runtime.stop()
