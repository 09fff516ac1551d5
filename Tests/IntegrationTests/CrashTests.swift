import Foundation
import Glibc
import Testing

/// Runs `crash_probe` with `arguments`, killing it after `limit` seconds.
private func runProbe(_ arguments: [String], environment: [String: String] = [:], limit: Double = 30) throws -> BoundedRun {
    try runBounded(builtExample("crash_probe"), arguments: arguments, environment: environment, timeout: limit)
}

/// Crashes in tasks end the process promptly, by the signal Swift gives without the runtime,
/// with the task named and its frames in Swift's backtrace (Docs/debugging.md).
@Suite(.serialized) struct CrashTests {
    /// The crash kinds of the probe and the function each crashes in.
    static let kinds: [(kind: String, function: String)] = [
        ("fatal", "crashProbeFatalError"), ("unwrap", "crashProbeForceUnwrap"), ("overflow", "crashProbeOverflow"),
        ("segv", "crashProbeWildWrite"), ("bus", "crashProbeBusError"), ("ill", "crashProbeRaise"),
        ("fpe", "crashProbeRaise"), ("abort", "crashProbeAbort"),
    ]

    /// Runs of each kind; CRASH_RUNS overrides (make test-crash runs more).
    static let runs = ProcessInfo.processInfo.environment["CRASH_RUNS"].flatMap { Int($0) } ?? 20

    @Test(arguments: kinds.map(\.kind))
    func aCrashInATaskEndsTheProcessLegibly(kind: String) throws {
        let function = try #require(Self.kinds.first { $0.kind == kind }?.function)
        // How the same crash ends without the runtime (Swift's handler lets a raised SIGILL or
        // SIGFPE return to its raiser, so the program goes on).
        let plain = try runProbe([kind, "plain"])
        for run in 0..<Self.runs {
            let threads = run % 2 == 0 ? "2" : (run % 4 == 1 ? "1" : "8")
            let environment = run % 3 == 0 ? ["OPEN_COROUTINE_IO_URING": "0"] : [:]
            let crashed = try runProbe([kind, threads], environment: environment, limit: 20)
            #expect(crashed.signal == plain.signal && crashed.status == plain.status,
                    "run \(run): \(kind) ended by signal \(String(describing: crashed.signal)), status \(crashed.status); without the runtime \(String(describing: plain.signal)), \(plain.status)")
            #expect(crashed.seconds < 5, "run \(run): \(kind) took \(crashed.seconds) s")
            #expect(crashed.output.contains("task #") && crashed.output.contains("\"crashing-task\" crashed"),
                    "run \(run): \(kind) did not name the task:\n\(crashed.output.prefix(2000))")
            // Swift's backtracer shows no frames for a thread whose signal was raised (abort,
            // raise), with the runtime or without: there the task's line is all there is.
            #expect(["abort", "ill", "fpe"].contains(kind) || crashed.output.contains(function),
                    "run \(run): \(kind): no \(function) in:\n\(crashed.output.prefix(4000))")
            if crashed.signal != plain.signal || crashed.seconds >= 5 { break }
        }
    }

    @Test func tracebackAllDumpsTheOtherTasks() throws {
        let crashed = try runProbe(["fatal", "2"], environment: ["OPEN_COROUTINE_TRACEBACK": "all"])
        #expect(crashed.signal == SIGILL || crashed.signal == SIGTRAP)
        for index in 0..<4 {
            #expect(crashed.output.contains("\"sleeper-\(index)\": sleeping"), "\(crashed.output.prefix(4000))")
        }
        #expect(crashed.output.contains("Syscall.usleep"))
    }

    @Test func aStragglerAtShutdownIsNamedWithinASecond() throws {
        let run = try runProbe(["straggler"])
        #expect(run.status == 0)
        let lines = run.output.split(separator: "\n")
        let waiting = try #require(lines.firstIndex { $0.contains("waits up to") }, "\(run.output)")
        #expect(lines[waiting + 1].contains("task #") && lines[waiting + 1].contains("\"straggler-task\": sleeping"))
        #expect(run.output.contains("leaveAStraggler"), "the straggler's own frame")
        #expect(run.output.contains("cancels 1 unfinished task"))
        #expect(run.seconds < 6)
    }

    @Test func theWatchdogWarnsOfAWaitNoHookSeesAndNotOfAHookedOne() throws {
        let run = try runProbe(["watchdog"])
        #expect(run.status == 0)
        #expect(run.output.contains("warnings=1 after_hooked=1"), "\(run.output)")
        #expect(run.output.contains("\"raw-sleeper\" has blocked scheduler thread"))
        #expect(run.output.contains("rt_sigtimedwait"))
        // The warning's backtrace reaches the function that made the call.
        #expect(run.output.contains("watchdogProbeRawWait"), "\(run.output)")
        #expect(!run.output.contains("\"hooked-sleeper\" has blocked"))
    }
}
