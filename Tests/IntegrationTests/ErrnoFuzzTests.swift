import CoroutineCore
import DescriptorScenarios
import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

extension SharedRuntimeTests {
    /// The errno fuzz (Docs/syscalls.md): random sequences of descriptor calls with bad and
    /// good arguments (`ErrnoFuzzSequence`), each run through libc's own functions on a plain
    /// thread and through the hook library's exported names in a task; every transcript must
    /// match libc's. It prints how many ran, how long libc's runs and ours took, and each
    /// difference with its seed.
    ///
    /// FUZZ_SEQUENCES sets how many (10,000 by default) and FUZZ_SEED the first seed (decimal
    /// or 0x-hex); sequence i has seed FUZZ_SEED + i, so FUZZ_SEED=that FUZZ_SEQUENCES=1
    /// replays one (`make fuzz`).
    @Suite struct ErrnoFuzzTests {
        init() {
            signal(SIGPIPE, SIG_IGN)
        }

        /// How many sequences, and the first seed.
        static func settings() -> (count: Int, seed: UInt64) {
            let environment = ProcessInfo.processInfo.environment
            let count = environment["FUZZ_SEQUENCES"].flatMap { Int($0) } ?? 10_000
            let seed = environment["FUZZ_SEED"].flatMap { text in
                text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            } ?? 0x0C0F_0022
            return (count, seed)
        }

        @Test func randomCallSequencesAnswerAsLibc() throws {
            let (count, firstSeed) = Self.settings()
            let environment = try ErrnoFuzzEnvironment()
            defer { environment.remove() }
            let exported = FuzzCalls(.exported, scope: .global)
            var differences: [String] = []
            var ran = 0
            let start = ContinuousClock.now
            var (libcTime, oursTime, oursStart) = (Duration.zero, Duration.zero, start)
            try withSharedRuntime { runtime in
                for index in 0..<count {
                    let sequence = ErrnoFuzzSequence(seed: firstSeed &+ UInt64(index))
                    let libcStart = ContinuousClock.now
                    defer { libcTime += oursStart - libcStart; oursTime += .now - oursStart }
                    guard let expected = Self.runOnThread(sequence, environment) else {
                        differences.append("\(sequence) (seed \(firstSeed) + \(index)): libc waited (the generator's fault)")
                        break
                    }
                    oursStart = .now
                    let observed = try Self.runInTask(sequence, exported, environment, on: runtime)
                    ran += 1
                    if let observed, observed == expected { continue }
                    differences.append(Self.report(sequence, index: index, firstSeed: firstSeed, expected, observed))
                    // A task that never ended still holds the environment; ten differences tell enough.
                    if observed == nil || differences.count == 10 { break }
                }
            }
            print("errno fuzz: \(ran) sequences from seed \(firstSeed) in \(ContinuousClock.now - start), "
                + "\(differences.count) with differences (libc's runs \(libcTime), ours \(oursTime))")
            #expect(differences.isEmpty, "\(differences.joined(separator: "\n\n"))")
        }

        /// The sequence's transcript through libc on a plain thread; nil when it did not end
        /// in 10 s (a call waited, which the generator must never let happen), after which
        /// its descriptors are shut down and closed to end the wait.
        static func runOnThread(_ sequence: ErrnoFuzzSequence, _ environment: ErrnoFuzzEnvironment) -> [String]? {
            let transcript = Mutex<[String]?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let lines = sequence.run(.libc, in: environment)
                transcript.withLock { $0 = lines }
                done.signal()
            }
            guard done.wait(timeout: .now() + 10) == .success else {
                environment.wake()
                _ = done.wait(timeout: .now() + 10)
                return nil
            }
            return transcript.withLock { $0 }
        }

        /// The sequence's transcript through `calls` in a task; nil when the task did not end
        /// (a call waited where libc's would not have): it is cancelled, which ends a wait
        /// with EINTR, so that usually it does end, and its transcript shows where it waited.
        static func runInTask(
            _ sequence: ErrnoFuzzSequence, _ calls: FuzzCalls, _ environment: ErrnoFuzzEnvironment,
            on runtime: CoroutineRuntime
        ) throws -> [String]? {
            let handle = try runtime.spawn { sequence.run(calls, in: environment) }
            do {
                return try handle.join(timeout: .seconds(2))
            } catch JoinError.timedOut {
                handle.cancel()
                return (try? handle.join(timeout: .seconds(5))).map { $0 + ["(waited 2 s, then cancelled)"] }
            }
        }

        /// The first line that differs, the calls before it, and how to replay the sequence.
        static func report(
            _ sequence: ErrnoFuzzSequence, index: Int, firstSeed: UInt64, _ expected: [String], _ observed: [String]?
        ) -> String {
            guard let observed else {
                return "\(sequence) (seed \(firstSeed) + \(index)): the task never ended; libc's transcript:\n"
                    + expected.joined(separator: "\n")
            }
            let common = min(expected.count, observed.count)
            let first = (0..<common).first { expected[$0] != observed[$0] } ?? common
            let line = { (lines: [String]) in first < lines.count ? lines[first] : "(nothing)" }
            return """
                \(sequence) (seed \(firstSeed) + \(index)) differs at line \(first):
                  libc: \(line(expected))
                  ours: \(line(observed))
                the lines before it:
                \(expected.prefix(first).map { "  " + $0 }.joined(separator: "\n"))
                replay: make fuzz FUZZ_SEED=\(sequence.seed) FUZZ_SEQUENCES=1
                """
        }
    }
}
