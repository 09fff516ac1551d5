// A probe for the debugger tests (Tests/IntegrationTests/DebuggerTests.swift): tasks that stay
// suspended in known places while a debugger looks at the process.
//
//   dump_probe
//       Starts the runtime on 2 scheduler threads with these tasks:
//         probe-sleeper-0, probe-sleeper-1  sleeping in usleep, in `dumpProbeSleeper`
//         probe-reader                      blocked in read on an empty pipe, in `dumpProbeReader`
//         probe-joiner                      joining probe-reader, in `dumpProbeJoiner`
//       Prints `ready pid=PID reader_fd=FD` once they are all suspended (FD is the descriptor the
//       reader waits for), then exits when its standard input closes or after 60 s, whichever
//       comes first.
import Glibc
import OpenCoroutine
import Synchronization

/// Prints `line` at once.
func emit(_ line: String) {
    print(line)
    fflush(nil)
}

/// How long the tasks stay suspended at most, in seconds: longer than any debugger session
/// of the tests, short enough that a forgotten probe goes away by itself.
let lifetime: UInt32 = 60

/// Sleeps out the probe's lifetime; returns the seconds slept, so that the call to usleep is no
/// tail call and this function keeps its frame in a release build too.
@inline(never)
func dumpProbeSleeper() -> Int {
    let start = time(nil)
    usleep(lifetime * 1_000_000)
    return time(nil) - start
}

/// Set once the reader runs: a join of a task that has not started runs it inline, on the
/// joiner's own coroutine, which would leave no joiner to see.
let readerStarted = Atomic<Bool>(false)

/// Reads `fd`, which nobody writes: the task stays suspended in `read`.
@inline(never)
func dumpProbeReader(_ fd: Int32) -> Int {
    readerStarted.store(true, ordering: .releasing)
    var byte: UInt8 = 0
    return read(fd, &byte, 1)
}

/// Joins the reader, which never ends: the task stays suspended in the join.
@inline(never)
func dumpProbeJoiner(_ reader: JoinHandle<Int>) throws -> Int {
    try reader.join()
}

/// Waits until standard input closes (the test is done) or `lifetime` passes.
func waitForStandardInputToClose() {
    let deadline = time(nil) + time_t(lifetime)
    var byte: UInt8 = 0
    while time(nil) < deadline {
        var input = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&input, 1, 1_000) >= 0 || errno == EINTR else { return }
        if input.revents != 0 && read(STDIN_FILENO, &byte, 1) <= 0 { return }
    }
}

var pipeEnds: [Int32] = [0, 0]
guard pipe(&pipeEnds) == 0 else {
    emit("pipe failed: errno \(errno)")
    exit(1)
}
let readEnd = pipeEnds[0]
try withCoroutines(Config(threads: 2)) {
    for index in 0..<2 {
        try co(name: "probe-sleeper-\(index)") { dumpProbeSleeper() }
    }
    let reader = try co(name: "probe-reader") { dumpProbeReader(readEnd) }
    while !readerStarted.load(ordering: .acquiring) { usleep(1_000) }
    try co(name: "probe-joiner") { try dumpProbeJoiner(reader) }
    // Time for every task to reach its wait: the debugger should find them suspended.
    usleep(200_000)
    emit("ready pid=\(getpid()) reader_fd=\(readEnd)")
    waitForStandardInputToClose()
    // The tasks are parked on purpose and would hold the runtime's stop up: leave at once.
    exit(0)
}
