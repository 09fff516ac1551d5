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
//       `crashProbe…` so that a test finds them in the report.
import Glibc
import OpenCoroutine

/// Prints `line` at once.
func emit(_ line: String) {
    print(line)
    fflush(nil)
}

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

let arguments = Array(CommandLine.arguments.dropFirst())
let kinds: [String: @Sendable () -> Int] = [
    "fatal": crashProbeFatalError, "unwrap": crashProbeForceUnwrap, "overflow": crashProbeOverflow,
    "segv": crashProbeWildWrite, "bus": crashProbeBusError, "ill": { crashProbeRaise(SIGILL) },
    "fpe": { crashProbeRaise(SIGFPE) }, "abort": crashProbeAbort,
]
guard let kind = arguments.first, let crash = kinds[kind] else {
    emit("usage: crash_probe \(kinds.keys.sorted().joined(separator: "|")) [THREADS]")
    exit(2)
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
    for sleeper in sleepers { try sleeper.join() }
}
