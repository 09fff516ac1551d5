import Foundation
import Testing

/// Runs the example executables as a user would and checks what they print.
@Suite struct ExamplesTests {
    @Test func coroutineBasicsPrintsTheGeneratorAndTheRally() throws {
        let output = try runExample("coroutine_basics")
        #expect(output.contains("generator: collatz(6) = 6 3 10 5 16 8 4 2 1"))
        #expect(output.contains("ping hits 0"))
        #expect(output.contains("pong hits 1"))
        #expect(output.contains("ping ends the rally at 6"))
    }
}

extension ExamplesTests {
    @Test func readmeExamplePrintsWhatTheReadmeSays() throws {
        let start = Date()
        let output = try runExample("readme")
        #expect(output == "500500\nping\n[1, 4, 9, 16]\n")
        #expect(Date().timeIntervalSince(start) < 5, "1,000 concurrent 100 ms sleeps should take about 100 ms")
    }
}

/// The built example `name`, which SwiftPM puts beside the test bundle.
func builtExample(_ name: String) throws -> URL {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = products.appendingPathComponent(name)
    try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build \(name) first")
    return executable
}

/// Runs a built example with `arguments` and a time limit; returns its stdout.
func runExample(_ name: String, arguments: [String] = [], timeout: TimeInterval = 30) throws -> String {
    let (status, output) = try BackgroundExample(name, arguments: arguments).finish(timeout: timeout)
    #expect(status == 0)
    return output
}

/// How a process that `runBounded` ran ended.
struct BoundedRun {
    /// The exit status, or the signal's number when `signal` is set.
    let status: Int32
    /// The signal that ended it, or nil when it exited.
    let signal: Int32?
    /// Whether it was still running at the limit (and was killed).
    let timedOut: Bool
    /// Its standard output and error together.
    let output: String
    /// How long it ran.
    let seconds: Double
}

/// Runs `executable` with `arguments` and `environment` added to this process's, its standard
/// input empty, killing it after `timeout` seconds. Its output goes to a file, so that nothing
/// it writes can block it on a full pipe.
func runBounded(
    _ executable: URL, arguments: [String], environment: [String: String] = [:], timeout: TimeInterval
) throws -> BoundedRun {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("oc-run-\(getpid())-\(UUID().uuidString).log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = handle
    process.standardError = handle
    let start = Date()
    try runWithSignalsUnblocked(process)
    let deadline = start.addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    let timedOut = process.isRunning
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    let seconds = Date().timeIntervalSince(start)
    try handle.close()
    return BoundedRun(
        status: process.terminationStatus,
        signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil,
        timedOut: timedOut, output: String(decoding: try Data(contentsOf: log), as: UTF8.self), seconds: seconds)
}

/// Starts `process` with no signal blocked. Swift Testing runs tests on threads that block
/// most signals (SIGTERM among them) and a child inherits the mask of the thread that starts
/// it: started from there, it would never see `terminate()`.
func runWithSignalsUnblocked(_ process: Process) throws {
    var none = sigset_t()
    var previous = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    try process.run()
}

/// The first line containing `text` that `name` printed into `pipe`, reading what comes into
/// `printed` (which keeps what was read before) for up to `timeout` seconds.
func firstLine(
    containing text: String, from pipe: Pipe, into printed: inout Data, of name: String, timeout: TimeInterval
) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let lines = String(decoding: printed, as: UTF8.self).split(separator: "\n")
        if let line = lines.first(where: { $0.contains(text) }) { return String(line) }
        var ready = pollfd(fd: pipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let left = deadline.timeIntervalSinceNow
        guard left > 0, poll(&ready, 1, Int32(left * 1000)) > 0 else {
            throw BackgroundExampleError(description: "\(name) printed no line with \"\(text)\" within \(timeout) s")
        }
        let chunk = pipe.fileHandleForReading.availableData
        guard !chunk.isEmpty else {
            throw BackgroundExampleError(description: "\(name) closed its output without a line with \"\(text)\"")
        }
        printed.append(chunk)
    }
}

/// What a background example failed to do.
struct BackgroundExampleError: Error, CustomStringConvertible {
    let description: String
}

/// A built example running in the background, such as a server that a test talks to while it
/// runs; its output is read as it comes.
final class BackgroundExample {
    let name: String
    private let process = Process()
    private let pipe = Pipe()
    /// What it printed so far.
    private var printed = Data()

    /// Starts the built example `name`, or `executable` when given (a system tool that
    /// starts an example, as `unshare` does).
    init(_ name: String, arguments: [String] = [], environment: [String: String] = [:], executable: URL? = nil) throws {
        self.name = name
        process.executableURL = try executable ?? builtExample(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = pipe
        try runWithSignalsUnblocked(process)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// The first line it printed that contains `text`, waiting up to `timeout` seconds for it.
    func line(containing text: String, timeout: TimeInterval = 10) throws -> String {
        try firstLine(containing: text, from: pipe, into: &printed, of: name, timeout: timeout)
    }

    /// Waits up to `timeout` seconds for it to exit by itself, terminating it (and recording an
    /// issue) when it does not; its exit status and everything it printed.
    func finish(timeout: TimeInterval) -> (status: Int32, output: String) {
        if !exits(within: timeout) {
            process.terminate()
            Issue.record("\(name) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        printed.append(pipe.fileHandleForReading.readDataToEndOfFile())
        return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
    }

    /// Waits up to `timeout` seconds for it to exit by itself; false when it still runs.
    func exits(within timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return !process.isRunning
    }
}
