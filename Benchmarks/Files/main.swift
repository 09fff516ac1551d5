// File-read figures, printed as name=value lines (Benchmarks/scripts/bench-files.sh adds fio's
// beside them):
//
//   file_read_mbps_ours      1,000 tasks on a runtime of 2 threads, each making 4 KiB preads at
//                            random page-aligned offsets of one 1 GiB file, for FILES_SECONDS
//                            (default 5) seconds: MB/s (10^6 bytes)
//   file_read_mbps_threads   the same reads from 64 plain threads with libc's pread
//   file_ours_vs_threads     ours / threads
//   file_read_mbps_threads_per_core
//                            the same reads from 2 plain threads, one per core: the threads
//                            ours runs on, blocking in each read as code without the runtime
//                            would
//   file_ours_vs_threads_per_core
//                            ours / threads per core
//   tick_lateness_p99_ms     during ours, how late a task on the same 2 threads wakes from
//                            10 ms sleeps: the 99th percentile
//
// The file's cached pages are dropped (posix_fadvise) before each contender, so that both
// start from the disk. The file is made once, at FILES_PATH (default .build-bench/files/data).
import BenchmarkSupport
import Foundation
import Glibc
import OpenCoroutine
import Synchronization

let environment = ProcessInfo.processInfo.environment
let path = environment["FILES_PATH"] ?? ".build-bench/files/data"
let seconds = Double(environment["FILES_SECONDS"] ?? "") ?? 5
let fileSize = 1 << 30
let blockSize = 4_096

func makeFile() throws {
    if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
       (attributes[.size] as? Int) == fileSize { return }
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
    for offset in stride(from: 0, to: fileSize, by: chunk.count) {
        guard pwrite(fd, chunk, chunk.count, off_t(offset)) == chunk.count else { throw POSIXError(.EIO) }
    }
    fsync(fd)
}

func dropCache() {
    let fd = open(path, O_RDONLY)
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    close(fd)
}

/// Reads random blocks of `fd` until `deadline`; the bytes read.
func readRandomly(_ fd: Int32, seed: UInt64, until deadline: ContinuousClock.Instant) -> Int {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: blockSize)
    defer { buffer.deallocate() }
    var total = 0
    var sinceClock = 0
    while true {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let offset = off_t(Int(state % UInt64(fileSize / blockSize)) * blockSize)
        let count = pread(fd, buffer, blockSize, offset)
        guard count > 0 else { return total }
        total += count
        sinceClock += 1
        if sinceClock == 16 {
            sinceClock = 0
            if ContinuousClock.now >= deadline { return total }
        }
    }
}

func megabytesPerSecond(_ bytes: Int, _ elapsed: Duration) -> Double {
    Double(bytes) / 1e6 / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func format(_ value: Double) -> String {
    String(format: "%.2f", value)
}

func ours() throws -> (mbps: Double, lateness: Double) {
    dropCache()
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    return try withCoroutines(Config(threads: 2)) {
        let reading = Atomic<Bool>(true)
        let ticker = try co { TickLateness { reading.load(ordering: .relaxed) } }
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        let readers = try (0..<1_000).map { index in try co { readRandomly(fd, seed: UInt64(index + 1), until: deadline) } }
        let bytes = try readers.reduce(0) { $0 + (try $1.join()) }
        let elapsed = ContinuousClock.now - start
        reading.store(false, ordering: .relaxed)
        let lateness = try ticker.join()
        // No tick at all (readers done before the ticker first ran) prints nan, not a figure.
        return (megabytesPerSecond(bytes, elapsed), lateness.percentile(99) ?? .nan)
    }
}

/// The reads from `count` plain threads.
func threads(_ count: Int) -> Double {
    dropCache()
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    let start = ContinuousClock.now
    let deadline = start + .seconds(seconds)
    let total = Atomic<Int>(0)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread.detachNewThread {
            total.add(readRandomly(fd, seed: UInt64(index + 10_001), until: deadline), ordering: .relaxed)
            group.leave()
        }
    }
    group.wait()
    return megabytesPerSecond(total.load(ordering: .relaxed), ContinuousClock.now - start)
}

try makeFile()
let (oursMBps, lateness) = try ours()
let threadsMBps = threads(64)
let perCoreMBps = threads(2)
print("file_read_mbps_ours=\(format(oursMBps))")
print("file_read_mbps_threads=\(format(threadsMBps))")
print("file_ours_vs_threads=\(format(oursMBps / threadsMBps))")
print("file_read_mbps_threads_per_core=\(format(perCoreMBps))")
print("file_ours_vs_threads_per_core=\(format(oursMBps / perCoreMBps))")
print("tick_lateness_p99_ms=\(format(lateness))")
