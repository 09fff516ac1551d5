// Sleep and ready-read figures, printed as name=value lines, on a runtime of 2 scheduler
// threads. Every call goes through the Syscall layer as user code would write it.
//
//   ready_read_ns_ours         one 1-byte Syscall.read on a blocking socket that already holds
//                              data, inside a task (the fastest of 200 batches of 1,000 reads)
//   ready_read_ns_raw          the same read through Glibc.read, same socket, same task, in
//                              batches interleaved with the others
//   ready_read_overhead_ratio  ours / raw
//   sleep_100k_wall_ms         100,000 tasks spawned at once, each calling Syscall.sleep(1): from
//                              before the first spawn to after the last join
//   sleep_100k_rss_mb          the process's peak resident memory (getrusage), in MiB, after them
//   sleep_100k_warm_wall_ms    the same again at once, when the first round's 100,000 worker
//                              coroutines wait idle in the pools: what is left without creating them
import CoroutineCore
import Glibc

/// Tasks that sleep at once.
let sleepers = 100_000

let runtime = CoroutineRuntime.shared
// Every sleeper holds a worker coroutine for the whole second, and nothing says how the tasks
// split between the threads, so each thread may run all of them. A sleeping task's stack holds
// only its closure, the sleep and the scheduler's wait, within one 4 KiB page in a release
// build (the peak RSS comes to under 5 KiB per sleeper, everything included): 64 KiB leaves a
// wide margin for a change in the call path, and 100,000 such stacks reserve 12 GiB of address
// space where the default 512 KiB would reserve 55 GiB and measured 20–40 ms slower
// (only touched pages cost memory either way). The long keep-alive keeps the first round's
// workers for the warm round, however slow the machine.
try runtime.start(RuntimeConfiguration(
    threads: 2, stackSize: 64 * 1024, maxWorkers: sleepers, keepAlive: .seconds(60)))

/// The monotonic clock in nanoseconds.
func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// `value` with two decimals, as the other benchmarks print.
func format(_ value: Double) -> String {
    String(Double(Int((value * 100).rounded())) / 100)
}

// MARK: - Ready reads

/// Reads timed together: long enough that the clock reads around them do not count, short
/// enough that many batches fit between two preemptions.
let readsPerBatch = 1_000
/// Batches of each kind.
let batchesPerKind = 200

/// Nanoseconds per read of the fastest batch, through the layer and through libc.
///
/// Noise only ever adds time (another process or thread on the 2 cores, an interrupt, a
/// frequency dip), so the fastest batch is the closest to what the read itself costs; a median
/// would move with how busy the machine happened to be. Interleaving the two kinds (and
/// swapping which goes first each round) gives both the same quiet moments to be measured in.
func readyReadNanoseconds() -> (ours: Double, raw: Double) {
    var pair: [Int32] = [-1, -1]
    // Through the layer, so that the runtime records the pair as its own blocking sockets
    // (held non-blocking in the kernel), as user code in a task would get them.
    precondition(Syscall.socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0, "socketpair: errno \(errno)")
    defer {
        _ = Syscall.close(pair[0])
        _ = Syscall.close(pair[1])
    }
    let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
    defer { byte.deallocate() }
    let refill = [UInt8](repeating: 0x5A, count: readsPerBatch)

    /// Nanoseconds per read of one batch; the batch's bytes are written first, untimed, so
    /// that every read finds one waiting.
    @inline(__always)
    func batch(_ read: (Int32, UnsafeMutableRawPointer?, Int) -> Int) -> Double {
        let written = refill.withUnsafeBytes { Syscall.write(pair[1], $0.baseAddress, $0.count) }
        precondition(written == readsPerBatch, "refill wrote \(written) bytes")
        let start = now()
        for _ in 0..<readsPerBatch {
            guard read(pair[0], byte, 1) == 1 else { fatalError("a read found no byte: errno \(errno)") }
        }
        return Double(now() - start) / Double(readsPerBatch)
    }

    var ours = Double.infinity
    var raw = Double.infinity
    for round in 0...batchesPerKind {
        let oursBatch, rawBatch: Double
        if round.isMultiple(of: 2) {
            oursBatch = batch(Syscall.read)
            rawBatch = batch(Glibc.read)
        } else {
            rawBatch = batch(Glibc.read)
            oursBatch = batch(Syscall.read)
        }
        // Round 0 warms both paths (the descriptor table, the caches) and is not counted.
        guard round > 0 else { continue }
        ours = min(ours, oursBatch)
        raw = min(raw, rawBatch)
    }
    return (ours, raw)
}

let reads = try runtime.spawn { readyReadNanoseconds() }.join()
print("ready_read_ns_ours=\(format(reads.ours))")
print("ready_read_ns_raw=\(format(reads.raw))")
print("ready_read_overhead_ratio=\(format(reads.ours / reads.raw))")

// MARK: - 100,000 sleepers

/// Wall time from before the first spawn to after the last join, in milliseconds.
func sleepWallMilliseconds() throws -> Double {
    let start = now()
    let handles = try (0..<sleepers).map { _ in try runtime.spawn { Syscall.sleep(1) } }
    for handle in handles {
        let left = try handle.join()
        precondition(left == 0, "a sleep was interrupted")
    }
    return Double(now() - start) / 1e6
}

/// The process's peak resident memory so far, in MiB.
func peakResidentMebibytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    // Linux reports ru_maxrss in KiB.
    return Double(usage.ru_maxrss) / 1024
}

print("sleep_100k_wall_ms=\(format(try sleepWallMilliseconds()))")
print("sleep_100k_rss_mb=\(format(peakResidentMebibytes()))")
print("sleep_100k_warm_wall_ms=\(format(try sleepWallMilliseconds()))")
runtime.stop()
