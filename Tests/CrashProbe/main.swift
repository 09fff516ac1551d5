// A probe for the crash tests (Tests/IntegrationTests/CrashTests.swift): a task that crashes
// on purpose, in a process of its own.
//
//   crash_probe KIND [THREADS]
//       Starts the runtime on THREADS scheduler threads (2 by default), with a few tasks
//       sleeping beside it, then runs a task named "crashing-task" that crashes as KIND says:
//         fatal     fatalError("boom")
//         unwrap    a force-unwrap of nil
//         overflow  an arithmetic overflow (a Swift trap)
//         segv      a write through a wild pointer (SIGSEGV)
//         bus       a read of a mapped file's page past its end (SIGBUS)
//         ill       raise(SIGILL)
//         fpe       raise(SIGFPE)
//         abort     abort()
//       Prints `started` once the crashing task runs. The crashing functions are named
//       `crashProbe…` so that a test finds them in the report. THREADS `plain` crashes the
//       same way on the main thread without the runtime, for the status to compare with.
//   crash_probe straggler
//       Returns from `withCoroutines`' body while a task named "straggler-task" sleeps 60 s,
//       with a 3 s stop timeout: the stop names it on standard error.
//   crash_probe watchdog
//       A task named "raw-sleeper" waits 300 ms in `sigtimedwait` for no signal, a call no hook
//       sees, and one named "hooked-sleeper" in `usleep`; prints `warnings=N`, the watchdog's
//       count.
import CoroutineCore
import Glibc
import OpenCoroutine
import ProbeSupport

/// Keeps the optimizer from folding the crash away.
@inline(never)
func opaque<T>(_ value: T) -> T {
    value
}

@inline(never)
func crashProbeFatalError() -> Int {
    fatalError("boom")
}

@inline(never)
func crashProbeForceUnwrap() -> Int {
    let missing: Int? = opaque(nil)
    return missing!
}

@inline(never)
func crashProbeOverflow() -> Int {
    opaque(Int.max) + opaque(1)
}

@inline(never)
func crashProbeWildWrite() -> Int {
    let wild = UnsafeMutablePointer<Int>(bitPattern: opaque(16))
    wild?.pointee = 42
    return 0
}

@inline(never)
func crashProbeBusError() -> Int {
    var template = Array("/tmp/crash_probe_XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let mapping = mmap(nil, page, PROT_READ, MAP_SHARED, fd, 0)
    // The file is empty: its first page lies past its end.
    return Int(mapping!.load(as: UInt8.self))
}

@inline(never)
func crashProbeRaise(_ signal: Int32) -> Int {
    raise(signal)
    return 0
}

@inline(never)
func crashProbeAbort() -> Int {
    abort()
}

/// The `straggler` case: see the top of the file.
func leaveAStraggler() throws {
    var config = Config(threads: 2)
    config.stopTimeout = .seconds(3)
    try withCoroutines(config) {
        try co(name: "straggler-task") { sleep(60) }
        emit("returning")
    }
    emit("stopped")
}

/// Waits 300 ms in `sigtimedwait` for no signal: a call no hook sees. Returns what it
/// returned, so that the call is no tail call and this function keeps its frame.
@inline(never)
func watchdogProbeRawWait() -> Int32 {
    var pause = timespec(tv_sec: 0, tv_nsec: 300_000_000)
    var none = sigset_t()
    sigemptyset(&none)
    return opaque(sigtimedwait(&none, nil, &pause))
}

/// The `watchdog` case: see the top of the file.
func blockWhereNoHookSees() throws {
    try withCoroutines(Config(threads: 2)) {
        let raw = try co(name: "raw-sleeper") { _ = watchdogProbeRawWait() }
        try raw.join()
        let warnedAfterRaw = CoroutineRuntime.shared.counters?.blockingWarnings ?? 0
        try co(name: "hooked-sleeper") { _ = usleep(300_000) }.join()
        let warnedAfterHooked = CoroutineRuntime.shared.counters?.blockingWarnings ?? 0
        emit("warnings=\(warnedAfterRaw) after_hooked=\(warnedAfterHooked)")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "straggler":
    try leaveAStraggler()
    exit(0)
case "watchdog":
    try blockWhereNoHookSees()
    exit(0)
default:
    break
}
let kinds: [String: @Sendable () -> Int] = [
    "fatal": crashProbeFatalError, "unwrap": crashProbeForceUnwrap, "overflow": crashProbeOverflow,
    "segv": crashProbeWildWrite, "bus": crashProbeBusError, "ill": { crashProbeRaise(SIGILL) },
    "fpe": { crashProbeRaise(SIGFPE) }, "abort": crashProbeAbort,
]
guard let kind = arguments.first, let crash = kinds[kind] else {
    emit("usage: crash_probe \(kinds.keys.sorted().joined(separator: "|")) [THREADS]")
    exit(2)
}
if arguments.dropFirst().first == "plain" {
    emit("started")
    emit("value=\(crash())")
    exit(0)
}
let threads = arguments.dropFirst().first.flatMap { Int($0) } ?? 2
try withCoroutines(Config(threads: threads)) {
    let sleepers = try (0..<4).map { index in try co(name: "sleeper-\(index)") { usleep(2_000_000) } }
    let crashing = try co(name: "crashing-task") { () -> Int in
        emit("started")
        usleep(10_000)
        return crash()
    }
    emit("value=\(try crashing.join())")
    for sleeper in sleepers { _ = try sleeper.join() }
}
