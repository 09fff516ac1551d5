import CoroutineCore
import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

/// A flag that tasks spin on and clear.
private final class Flag: Sendable {
    private let raised = Atomic<Bool>(true)
    var isRaised: Bool { raised.load(ordering: .relaxed) }
    func lower() { raised.store(false, ordering: .relaxed) }
}

/// One scheduler thread, so that a coroutine that never yields holds the only thread there is.
private func oneThread(slice: Duration = .milliseconds(10)) -> RuntimeConfiguration {
    RuntimeConfiguration(threads: 1, preemptionSlice: slice)
}

/// Preemptions since the runtime started.
private func preemptions(_ runtime: CoroutineRuntime) -> UInt64 {
    runtime.counters?.preemptions ?? 0
}

extension SharedRuntimeTests {
    /// Preemption, with the runtime in its own shared library as every program has it.
    @Suite struct PreemptionTests {
        @Test func aCoroutineThatNeverYieldsGivesWayOnItsThread() throws {
            try withSharedRuntime(oneThread()) { runtime in
                let spinning = Flag()
                let spinner = try runtime.spawn { while spinning.isRaised {} }
                let stopper = try runtime.spawn { spinning.lower() }
                try stopper.join(timeout: .seconds(5))
                try spinner.join(timeout: .seconds(5))
                #expect(preemptions(runtime) >= 1)
            }
        }

        @Test func thePreemptiveExamplePrintsAsTheOriginal() throws {
            let output = try runExample("preemptive", timeout: 10)
            let lines = output.split(separator: "\n").map(String.init)
            #expect(Array(lines.prefix(3)) == ["coroutine1 launched", "coroutine2 launched", "coroutine3 launched"])
            #expect(Set(lines.dropFirst(3)) == ["loop1 end", "loop2 end"])
        }

        /// The proof that the monitor is what lets the example end.
        @Test func withoutPreemptionThePreemptiveExampleNeverEnds() throws {
            let example = try BackgroundExample("preemptive", environment: ["OPEN_COROUTINE_PREEMPTION": "0"])
            _ = try example.line(containing: "coroutine1 launched")
            #expect(!example.exits(within: 3), "the first spinner gave its only thread away without preemption")
        }

        @Test func preemptedFloatingPointAndSIMDWorkIsBitIdentical() throws {
            // Two coroutines on one thread with different rounding modes, preempted every
            // millisecond: each must see only its own registers and FP control state.
            let expected = (nearest: FloatWork.run(rounding: FE_TONEAREST), towardZero: FloatWork.run(rounding: FE_TOWARDZERO))
            #expect(expected.nearest != expected.towardZero, "the rounding mode does not show in the work")
            try withSharedRuntime(oneThread(slice: .milliseconds(1))) { runtime in
                let mismatches = Atomic<Int>(0)
                let target: UInt64 = 1_000
                let tasks = try [(FE_TONEAREST, expected.nearest), (FE_TOWARDZERO, expected.towardZero)].map { rounding, value in
                    try runtime.spawn {
                        var rounds = 0
                        while preemptions(runtime) < target || rounds == 0 {
                            if FloatWork.run(rounding: rounding) != value { mismatches.add(1, ordering: .relaxed) }
                            rounds += 1
                        }
                        return rounds
                    }
                }
                let rounds = try tasks.map { try $0.join(timeout: .seconds(60)) }
                #expect(preemptions(runtime) >= target)
                #expect(mismatches.load(ordering: .relaxed) == 0, "over \(rounds) rounds")
            }
        }

        @Test func allocatingCodeSurvivesAPreemptionStorm() throws {
            try withSharedRuntime(oneThread(slice: .milliseconds(1))) { runtime in
                let warmUp = try AllocationWork.run(on: runtime, until: 100)
                let before = residentBytes()
                let results = try AllocationWork.run(on: runtime, until: preemptions(runtime) + 2_000)
                let growth = residentBytes() - before
                #expect(warmUp.allSatisfy { $0.isExact })
                #expect(results.allSatisfy { $0.isExact })
                #expect(growth < 16 << 20, "resident memory grew by \(growth >> 20) MiB over 2,000 preemptions")
            }
        }

        /// A coroutine the monitor switched out waits in the signal handler, whose return leads
        /// to the code it interrupted: a yield beside it never hands the thread straight to it
        /// (Scheduler.handOver), it lets the round resume it. Two spinners preempted every
        /// millisecond and two tasks yielding to each other on one thread: every yield that
        /// finds a preempted spinner next must go through the round, and all four finish.
        @Test func aYieldNeverHandsTheThreadToAPreemptedCoroutine() throws {
            try withSharedRuntime(oneThread(slice: .milliseconds(1))) { runtime in
                let spinning = Flag()
                let spinners = try (0..<2).map { _ in try runtime.spawn { while spinning.isRaised {} } }
                let yielders = try (0..<2).map { _ in
                    try runtime.spawn { () -> Int in
                        let start = ContinuousClock.now
                        var yields = 0
                        while ContinuousClock.now - start < .milliseconds(300) {
                            try Scheduler.yield()
                            yields += 1
                        }
                        return yields
                    }
                }
                let yields = try yielders.map { try $0.join(timeout: .seconds(20)) }
                spinning.lower()
                for spinner in spinners {
                    try spinner.join(timeout: .seconds(5))
                }
                #expect(yields.allSatisfy { $0 > 0 })
                #expect(preemptions(runtime) > 10)
            }
        }

        @Test func blockingCallsBesideASpinnerNeverSeeEINTR() throws {
            try withSharedRuntime(oneThread(slice: .milliseconds(1))) { runtime in
                let spinning = Flag()
                let spinner = try runtime.spawn { while spinning.isRaised {} }
                var ends: [Int32] = [0, 0]
                #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
                defer { close(ends[0]); close(ends[1]) }
                let (reader, writer) = (ends[0], ends[1])
                let sleeper = try runtime.spawn {
                    for _ in 0..<20 {
                        guard usleep(5_000) == 0 else { return errno }
                    }
                    return 0
                }
                let readerTask = try runtime.spawn {
                    var received = [UInt8](repeating: 0, count: 5)
                    let count = received.withUnsafeMutableBytes { read(reader, $0.baseAddress, 5) }
                    return count == 5 ? String(decoding: received, as: UTF8.self) : "read \(count), errno \(errno)"
                }
                let writerTask = try runtime.spawn {
                    usleep(50_000)
                    return write(writer, "hello", 5)
                }
                #expect(try sleeper.join(timeout: .seconds(10)) == 0)
                #expect(try writerTask.join(timeout: .seconds(10)) == 5)
                #expect(try readerTask.join(timeout: .seconds(10)) == "hello")
                spinning.lower()
                try spinner.join(timeout: .seconds(5))
                #expect(preemptions(runtime) > 10)
            }
        }

        /// A request that lands while the coroutine is blocked in a system call the hooks do
        /// not cover (waitid): SA_RESTART restarts the call, as if no signal came.
        @Test func aSystemCallThatARequestInterruptsIsRestarted() throws {
            let child = try spawnChild("/bin/sleep", "0.3")
            try withSharedRuntime(oneThread()) { runtime in
                let thread = Atomic<UInt>(0)
                let blocked = try runtime.spawn {
                    thread.store(UInt(pthread_self()), ordering: .releasing)
                    var info = siginfo_t()
                    return waitid(P_PID, id_t(child), &info, WEXITED) == 0 ? 0 : errno
                }
                while thread.load(ordering: .acquiring) == 0 { usleep(1_000) }
                let deferred = runtime.counters?.deferredPreemptions ?? 0
                for _ in 0..<5 {
                    usleep(20_000)
                    #expect(pthread_kill(pthread_t(thread.load(ordering: .acquiring)), Preemption.signal) == 0)
                }
                #expect(try blocked.join(timeout: .seconds(5)) == 0)
                #expect((runtime.counters?.deferredPreemptions ?? 0) - deferred == 5, "the requests reached the thread")
            }
        }
    }
}

/// Starts `path` with `arguments` as a child process; its pid.
func spawnChild(_ path: String, _ arguments: String...) throws -> pid_t {
    var pid: pid_t = 0
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let result = posix_spawn(&pid, path, nil, nil, argv, environ)
    guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO) }
    return pid
}

/// Floating-point and SIMD work whose result depends on every bit of the state it runs in.
private enum FloatWork {
    struct Result: Equatable {
        let scalar: UInt64
        let vector: SIMD8<UInt32>
    }

    static func run(rounding: Int32) -> Result {
        let previous = fegetround()
        fesetround(rounding)
        defer { fesetround(previous) }
        var scalar = 1.0
        var vector = SIMD8<Float>(1, 2, 3, 4, 5, 6, 7, 8)
        let step = SIMD8<Float>(repeating: 1.000_001)
        for index in 0..<20_000 {
            scalar = scalar * 1.000_000_3 + 1.0 / Double(index + 3)
            vector = vector * step + SIMD8<Float>(repeating: 1 / Float(index + 7))
        }
        return Result(scalar: scalar.bitPattern, vector: SIMD8<UInt32>(vector.indices.map { vector[$0].bitPattern }))
    }
}

/// Work that allocates and frees all the time: malloc, arrays, class instances.
private enum AllocationWork {
    final class Node {
        let value: Int
        let next: Node?
        init(value: Int, next: Node?) { self.value = value; self.next = next }
    }

    struct Result: Sendable {
        let sum: Int
        let expected: Int
        var isExact: Bool { sum == expected }
    }

    /// One round: a linked list, an array and malloc'd blocks, all freed again.
    static func round(_ seed: Int) -> Result {
        var list: Node?
        var array: [Int] = []
        var sum = 0
        for index in 0..<200 {
            list = Node(value: index &+ seed, next: list)
            array.append(index &* seed)
            if let block = malloc(64 + index) {
                block.storeBytes(of: index, as: Int.self)
                sum &+= block.load(as: Int.self)
                free(block)
            }
        }
        while let node = list {
            sum &+= node.value
            list = node.next
        }
        sum &+= array.reduce(0, &+)
        let expected = (0..<200).reduce(0) { $0 &+ $1 &+ ($1 &+ seed) &+ ($1 &* seed) }
        return Result(sum: sum, expected: expected)
    }

    /// Rounds in two coroutines on the runtime's thread until `target` preemptions happened.
    static func run(on runtime: CoroutineRuntime, until target: UInt64) throws -> [Result] {
        let tasks = try (0..<2).map { worker in
            try runtime.spawn {
                var results: [Result] = []
                var seed = worker
                while preemptions(runtime) < target || results.isEmpty {
                    let result = round(seed)
                    if !result.isExact || results.isEmpty { results.append(result) }
                    seed &+= 1
                }
                return results
            }
        }
        return try tasks.flatMap { try $0.join(timeout: .seconds(60)) }
    }
}

/// The process's resident memory in bytes.
private func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
