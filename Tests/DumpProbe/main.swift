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
//
//   dump_probe hundred
//       Starts 100 tasks on 2 threads, 25 in each state: probe-sleeper-N in usleep
//       (`dumpProbeSleeper`), probe-socket-N reading a socket nobody writes (`dumpProbeSocketReader`,
//       printed as `socket N fd=FD`), probe-joiner-N joining probe-socket-N (`dumpProbeJoiner`),
//       probe-locker-N waiting for a CoMutex the main thread holds (`dumpProbeLocker`); once all
//       are suspended, prints `CoroutineDump.dump` and exits.
import CoroutineCore
import Glibc
import OpenCoroutine
import ProbeSupport
import Synchronization

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

/// How many socket readers run: their joiners must find them started (see `readerStarted`).
let socketReadersStarted = Atomic<Int>(0)

/// Reads `fd`, a socket nobody writes: the task stays suspended in `read`.
@inline(never)
func dumpProbeSocketReader(_ fd: Int32) -> Int {
    socketReadersStarted.add(1, ordering: .releasing)
    var byte: UInt8 = 0
    return read(fd, &byte, 1)
}

/// Waits for `mutex`, which the main thread holds: the task stays parked on it.
@inline(never)
func dumpProbeLocker(_ mutex: CoMutex) throws -> Int {
    try mutex.lock()
    mutex.unlock()
    return 1
}

/// The `hundred` case: see the top of the file.
func dumpHundredTasks() throws {
    let each = 25
    let mutex = CoMutex()
    try mutex.lock()
    try withCoroutines(Config(threads: 2)) {
        var readers: [JoinHandle<Int>] = []
        for index in 0..<each {
            try co(name: "probe-sleeper-\(index)") { dumpProbeSleeper() }
            var ends: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else {
                emit("socketpair failed: errno \(errno)")
                exit(1)
            }
            emit("socket \(index) fd=\(ends[0])")
            let fd = ends[0]
            readers.append(try co(name: "probe-socket-\(index)") { dumpProbeSocketReader(fd) })
            try co(name: "probe-locker-\(index)") { try dumpProbeLocker(mutex) }
        }
        while socketReadersStarted.load(ordering: .acquiring) < each { usleep(1_000) }
        for (index, reader) in readers.enumerated() {
            try co(name: "probe-joiner-\(index)") { try dumpProbeJoiner(reader) }
        }
        // Time for every task to reach its wait.
        usleep(300_000)
        var text = ""
        CoroutineDump.dump(to: &text)
        emit(text)
        emit("dump done")
        // The tasks are parked on purpose and would hold the runtime's stop up: leave at once.
        exit(0)
    }
}

if CommandLine.arguments.dropFirst().first == "hundred" {
    try dumpHundredTasks()
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
