import Foundation

extension SplitMix64 {
    /// The generator of one client slot: every slot draws its own sequence from the run's seed,
    /// so that a run can be repeated from the `soak_seed` it printed.
    init(seed: UInt64, stream: Int) {
        self.init(seed: seed &+ UInt64(stream) &* 0xD1B5_4A32_D192_ED03)
    }
}

/// A 64-bit checksum of `bytes` and their count, eight bytes at a time: a flipped, lost,
/// repeated or shifted byte changes it, and it costs little beside the copies the kernel makes.
func computeChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var sum: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(bytes.count)
    let words = bytes.count / 8
    for index in 0..<words {
        sum = (sum ^ bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) &* 0x0000_0100_0000_01B3
        sum ^= sum >> 29
    }
    for offset in (words * 8)..<bytes.count {
        sum = (sum ^ UInt64(bytes[offset])) &* 0x0000_0100_0000_01B3
    }
    return sum
}

/// Round-trip times in a log-linear histogram of microseconds: exact below 64 µs, then 32
/// buckets per power of two (each at most about 3% wide), up to 2^32 µs. A run of hours takes
/// no more memory than a run of seconds, and each client slot keeps its own (7 KiB).
struct LatencyHistogram: Sendable {
    private static let subBuckets = 32
    private var counts = [Int](repeating: 0, count: (32 - 4) * subBuckets)

    mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let micros = UInt64(clamping: max(seconds * 1_000_000 + attoseconds / 1_000_000_000_000, 0))
        counts[Self.bucket(of: min(micros, UInt64(UInt32.max)))] += 1
    }

    mutating func add(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
    }

    /// The upper edge, in milliseconds, of the bucket holding the `fraction` quantile; 0 when
    /// nothing was recorded.
    func quantileMilliseconds(_ fraction: Double) -> Double {
        let total = counts.reduce(0, +)
        guard total > 0 else { return 0 }
        let rank = Int((Double(total) * fraction).rounded(.up))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= max(rank, 1) { return Double(Self.upperEdge(of: index)) / 1_000 }
        }
        return Double(Self.upperEdge(of: counts.count - 1)) / 1_000
    }

    /// Values below 64 have a bucket each; above, bucket (top bit - 4) * 32 + the five bits
    /// after the top one, which continues the exact buckets without a gap.
    private static func bucket(of micros: UInt64) -> Int {
        guard micros >= 64 else { return Int(micros) }
        let top = 63 - micros.leadingZeroBitCount
        return (top - 4) * subBuckets + Int((micros >> (top - 5)) & 31)
    }

    private static func upperEdge(of bucket: Int) -> UInt64 {
        guard bucket >= 64 else { return UInt64(bucket + 1) }
        let top = bucket / subBuckets + 4
        return UInt64(subBuckets + bucket % subBuckets + 1) << (top - 5)
    }
}

/// The process's resident memory in MiB, from /proc/self/statm.
func residentMegabytes() -> Double {
    let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return Double(pages * sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// Sleeps the calling plain thread (the main thread, not a task) until `instant`.
func sleepThread(until instant: ContinuousClock.Instant) {
    let remaining = instant - .now
    guard remaining > .zero else { return }
    Thread.sleep(forTimeInterval: remaining.seconds)
}

/// A progress line on stderr, which the soak's caller shows while stdout carries its figures.
func progress(_ line: String) {
    FileHandle.standardError.write(Data("soak: \(line)\n".utf8))
}
