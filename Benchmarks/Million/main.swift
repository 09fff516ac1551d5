// The million of `make bench-million`, ours: 1,000,000 tasks alive at once, each blocked in a
// 1-byte read on a socket, then all released; on a runtime of 2 scheduler threads. Prints
// name=value lines:
//
//   million_spawn_s                    from before the first spawn until every task sits in its read
//   million_rss_per_coroutine_bytes    the process's resident memory then, less what it was
//                                      before the first spawn, per task
//   million_release_s                  from the first byte written until every task has read its byte
//
// The descriptors: a million socket pairs would take two million, twice the kernel's limit per
// process (fs.nr_open, 1,048,576), so the tasks share 1,000 pairs (AF_UNIX stream sockets), a
// thousand readers on each pair's reading end, and the release writes a thousand bytes into
// each pair: every reader gets one. Go's anchor does the same.
//
// Stacks: 64 KiB each (as make bench-sleep), 64 GiB of address space reserved for the million;
// what a blocked task uses is the one or two pages it touched, whatever the reservation.
import CoroutineCore
import Glibc
import Synchronization

let tasks = 1_000_000
let pairs = 1_000

/// The monotonic clock in seconds.
func seconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The process's resident memory in bytes (/proc/self/statm's second field, in pages).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { size in
        withUnsafeMutablePointer(to: &resident) { resident in
            withVaList([size, resident]) { vfscanf(file, "%ld %ld", $0) }
        }
    }) == 2 else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Ends the benchmark with `what` and errno's message.
func die(_ what: String) -> Never {
    perror("million_benchmark: \(what)")
    exit(1)
}

/// Polls `condition` every millisecond until it holds, or ends the benchmark after 10 minutes.
func wait(for what: String, until condition: () -> Bool) {
    let deadline = seconds() + 600
    while !condition() {
        if seconds() > deadline { die("timed out waiting for \(what)") }
        usleep(1_000)
    }
}

// Each pair's two ends: a task reads from [0], the release writes into [1]. Through the layer,
// so that the runtime records them as its own blocking sockets.
var sockets: [[Int32]] = []
for _ in 0..<pairs {
    var pair: [Int32] = [-1, -1]
    guard Syscall.socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { die("socketpair") }
    sockets.append(pair)
}

let runtime = CoroutineRuntime.shared
try runtime.start(RuntimeConfiguration(
    threads: 2, stackSize: 64 * 1024, maxWorkers: tasks, keepAlive: .seconds(600)))

let blocked = Atomic<Int>(0)
let received = Atomic<Int>(0)
let baseline = residentBytes()
let spawnStart = seconds()
for index in 0..<tasks {
    let fd = sockets[index % pairs][0]
    // The handle is dropped: the tasks are counted, as Go's anchor counts its goroutines.
    _ = try runtime.spawn {
        var byte: UInt8 = 0
        blocked.add(1, ordering: .relaxed)
        if Syscall.read(fd, &byte, 1) == 1 { received.add(1, ordering: .relaxed) }
    }
}
// A task counts itself just before its read: wait until the last one has had time to block in
// it too, which its thread's next idle moment shows.
wait(for: "every task to block") { blocked.load(ordering: .relaxed) == tasks }
let spawnSeconds = seconds() - spawnStart
usleep(200_000)
let perCoroutine = Double(residentBytes() - baseline) / Double(tasks)
guard received.load(ordering: .relaxed) == 0 else { die("a read returned before the release") }

let releaseStart = seconds()
let bytes = [UInt8](repeating: 1, count: tasks / pairs)
for pair in sockets {
    guard write(pair[1], bytes, bytes.count) == bytes.count else { die("write") }
}
wait(for: "every task to read its byte") { received.load(ordering: .relaxed) == tasks }
let releaseSeconds = seconds() - releaseStart

/// `value` with three decimals.
func format(_ value: Double) -> String {
    String(Double(Int((value * 1000).rounded())) / 1000)
}

print("million_spawn_s=\(format(spawnSeconds))")
print("million_rss_per_coroutine_bytes=\(Int(perCoroutine.rounded()))")
print("million_release_s=\(format(releaseSeconds))")
runtime.stop()
