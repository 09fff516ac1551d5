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
    let executable = try builtExample(name)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try runWithSignalsUnblocked(process)
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        Issue.record("\(name) did not finish within \(timeout) s")
    }
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
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
