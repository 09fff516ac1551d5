import Foundation
import Testing

/// The gdb extension (Tools/gdb/open_coroutine.py), found from this file's place in the repository.
private let gdbExtension = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // IntegrationTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()
    .appendingPathComponent("Tools/gdb/open_coroutine.py")

/// gdb on PATH, or nil.
private let gdbExecutable: URL? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":")
        .map { URL(fileURLWithPath: String($0)).appendingPathComponent("gdb") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}()

/// Whether gdb, with its Python, may attach to a process this one started. Tried rather than
/// read from /proc/sys/kernel/yama/ptrace_scope: a container may forbid ptrace whatever Yama
/// says (seccomp, a missing CAP_SYS_PTRACE), and the probe is gdb's sibling, not its child.
private let debuggerCanAttach: Bool = {
    guard let gdb = gdbExecutable else { return false }
    let target = Process()
    target.executableURL = URL(fileURLWithPath: "/bin/sleep")
    target.arguments = ["30"]
    guard (try? target.run()) != nil else { return false }
    defer {
        kill(target.processIdentifier, SIGKILL)
        target.waitUntilExit()
    }
    let pid = target.processIdentifier
    let check = "python print('attached pid=%d' % gdb.selected_inferior().pid)"
    let run = try? runBounded(gdb, arguments: ["-batch", "-nx", "-p", "\(pid)", "-ex", check], timeout: 30)
    return run?.output.contains("attached pid=\(pid)") ?? false
}()

/// gdb attached to a live process, with the extension loaded: the probe's suspended tasks, their
/// states and their backtraces as `oc-coroutines` and `oc-backtrace` print them.
@Suite(.enabled(if: debuggerCanAttach, "needs gdb with Python on PATH and permission to ptrace a sibling process (kernel.yama.ptrace_scope 0, or CAP_SYS_PTRACE)"))
struct DebuggerTests {
    /// Every task of the probe is listed with its name and the state it waits in, and each
    /// backtrace reaches the probe's own function, with its source line.
    @Test func listsTheSuspendedTasksWithTheirStatesAndBacktraces() throws {
        let probe = try DumpProbe()
        defer { probe.stop() }
        let output = try gdbSession(attachingTo: probe.pid, commands: ["oc-coroutines", "oc-backtrace all"])

        #expect(output.contains("\"probe-sleeper-0\": sleeping"), "\(output)")
        #expect(output.contains("\"probe-sleeper-1\": sleeping"), "\(output)")
        #expect(output.contains("\"probe-reader\": waiting for fd \(probe.readerDescriptor) to be readable (in read)"), "\(output)")
        let readerID = try #require(taskID(named: "probe-reader", in: output), "\(output)")
        #expect(output.contains("\"probe-joiner\": joining task #\(readerID)"), "\(output)")

        let traces = backtraces(in: output)
        for (task, function) in [("probe-sleeper-0", "dumpProbeSleeper"), ("probe-sleeper-1", "dumpProbeSleeper"),
                                 ("probe-reader", "dumpProbeReader"), ("probe-joiner", "dumpProbeJoiner")] {
            let frame = traces[task]?.first { $0.contains(function) }
            #expect(frame?.contains("main.swift:") == true, "no frame of \(function) with its line in \(task)'s backtrace: \(output)")
        }
    }

    /// The offsets the extension falls back on without debug information (a release build)
    /// read the same frames as the DWARF type does: they still match oc_frame.h.
    @Test func fixedOffsetsReadWhatTheDebugInformationReads() throws {
        let probe = try DumpProbe()
        defer { probe.stop() }
        let marker = "=== fixed offsets ==="
        let output = try gdbSession(attachingTo: probe.pid, commands: [
            "oc-coroutines", "echo \(marker)\\n", "python USE_DEBUG_INFO = False", "oc-coroutines",
        ])
        let sections = output.components(separatedBy: marker)
        try #require(sections.count == 2, "\(output)")
        let typed = listing(in: sections[0])
        #expect(typed.count >= 4, "\(output)")
        #expect(listing(in: sections[1]) == typed, "\(output)")
    }
}

/// The dump probe (Tests/DumpProbe), its tasks suspended until `stop()`.
private final class DumpProbe {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    /// The descriptor its reader task waits for.
    private(set) var readerDescriptor: Int32 = -1

    var pid: Int32 { process.processIdentifier }

    /// Starts the probe and waits until its tasks are suspended.
    init() throws {
        process.executableURL = try builtExample("dump_probe")
        // Its standard input is a pipe this side holds: the probe leaves when it closes.
        process.standardInput = input
        process.standardOutput = output
        try runWithSignalsUnblocked(process)
        var printed = Data()
        let ready = try firstLine(containing: "ready ", from: output, into: &printed, of: "dump_probe", timeout: 30)
        let fields = ready.split(separator: " ").compactMap { field -> (String, Int32)? in
            let parts = field.split(separator: "=")
            return parts.count == 2 ? (String(parts[0]), Int32(parts[1]) ?? -1) : nil
        }
        readerDescriptor = Dictionary(fields, uniquingKeysWith: { $1 })["reader_fd"] ?? -1
    }

    deinit {
        stop()
    }

    /// Closes its standard input and waits for it to leave; kills it when it does not (a probe
    /// that gdb left stopped does not read its input).
    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Runs gdb in batch mode attached to `pid` with the extension loaded, then `commands`; kills it
/// after 60 s. Everything it printed, standard output and error together.
private func gdbSession(attachingTo pid: Int32, commands: [String]) throws -> String {
    let gdb = try #require(gdbExecutable)
    // -nx: no ~/.gdbinit, whose settings or output would be the machine's, not the test's.
    let arguments = ["-batch", "-nx", "-p", "\(pid)", "-x", gdbExtension.path] + commands.flatMap { ["-ex", $0] }
    let run = try runBounded(gdb, arguments: arguments, timeout: 60)
    #expect(!run.timedOut, "gdb did not finish within 60 s: \(run.output)")
    #expect(run.status == 0, "gdb failed: \(run.output)")
    #expect(!run.output.contains("Python Exception"), "\(run.output)")
    return run.output
}

/// The id of the task `name` in an `oc-coroutines` listing (`[1] task #3 "name": …`).
private func taskID(named name: String, in output: String) -> UInt64? {
    let marker = " \"\(name)\": "
    guard let line = output.split(separator: "\n").first(where: { $0.contains(marker) }),
          let hash = line.range(of: "task #")
    else { return nil }
    return UInt64(line[hash.upperBound...].prefix { $0.isNumber })
}

/// The frame lines of each task's backtrace in `oc-backtrace all` output, by task name: a
/// `[N] task #M "name": state` line followed by indented `#K …` lines.
private func backtraces(in output: String) -> [String: [String]] {
    var traces: [String: [String]] = [:]
    var current: String?
    for line in output.split(separator: "\n") {
        if isCoroutineLine(line) {
            // A coroutine outside tasks has no name: its frames belong to no task.
            let name = line.split(separator: "\"", maxSplits: 2, omittingEmptySubsequences: false)
            current = name.count == 3 ? String(name[1]) : nil
        } else if line.hasPrefix("    #"), let task = current {
            traces[task, default: []].append(String(line))
        }
    }
    return traces
}

/// Whether `line` is a coroutine's (`[N] …`), not one of gdb's own (`[New LWP …]`).
private func isCoroutineLine(_ line: Substring) -> Bool {
    line.hasPrefix("[") && line.dropFirst().first?.isNumber == true
}

/// The lines of an `oc-coroutines` listing without their times, which move between two
/// listings: ", wakes in …" and ", for …" go.
private func listing(in output: String) -> [String] {
    output.split(separator: "\n").filter(isCoroutineLine).map { line in
        line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).enumerated().map { index, part in
            guard index == 0 else { return String(part) }
            return part.components(separatedBy: ", ").filter { !$0.hasPrefix("wakes in ") && !$0.hasPrefix("for ") }
                .joined(separator: ", ")
        }.joined(separator: ";")
    }
}
