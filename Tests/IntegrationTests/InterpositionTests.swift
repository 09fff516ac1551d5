import CoroutineCore
import DescriptorScenarios
import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

/// The tests of this package that use `CoroutineRuntime.shared`, the process's one runtime, or
/// that time their work (the examples, run as processes, load both cores). Suites of them nest
/// in here (`extension SharedRuntimeTests { @Suite struct ... }`), so that they run one at a
/// time: two would otherwise start the runtime at once, or skew each other's timings.
@Suite(.serialized) enum SharedRuntimeTests {}

/// Runs `body` on the shared runtime started with `configuration` (2 threads unless told),
/// and stops it afterwards.
func withSharedRuntime<Result>(
    _ configuration: RuntimeConfiguration = RuntimeConfiguration(threads: 2), _ body: (CoroutineRuntime) throws -> Result
) throws -> Result {
    let runtime = CoroutineRuntime.shared
    try runtime.start(configuration)
    defer {
        let report = runtime.stop(timeout: .seconds(10))
        #expect(report.isClean, "the runtime stopped with \(report)")
    }
    return try body(runtime)
}

/// Runs `count` tasks of `body` on `runtime` and joins them (within 10 s in all); how long
/// that took from the first spawn.
func batch(
    of count: Int = 1_000, on runtime: CoroutineRuntime, _ body: @escaping @Sendable (Int) throws -> Void
) throws -> Duration {
    let start = ContinuousClock.now
    let handles = try (0..<count).map { index in try runtime.spawn { try body(index) } }
    for handle in handles {
        try handle.join(timeout: max(start + .seconds(10) - .now, .zero))
    }
    return .now - start
}

/// A sleep that a batch task makes.
struct Sleeper: Sendable, CustomStringConvertible {
    let description: String
    /// Sleeps 200 ms; the call's result, 0 when it succeeded.
    let sleep: @Sendable () -> Int64
}

/// What a call showed its caller: its result, errno afterwards and the remaining-time output.
struct Observation: Equatable, Sendable, CustomStringConvertible {
    let result: Int64
    let error: Int32
    let remaining: [Int]

    var description: String {
        "result \(result), errno \(error), remaining \(remaining)"
    }

    /// Runs `call` with sentinels in errno and in the remaining time, to see what it wrote.
    static func of(_ call: (UnsafeMutablePointer<timespec>) -> Int64) -> Observation {
        var remaining = timespec(tv_sec: 4242, tv_nsec: 4242)
        errno = 77
        let result = call(&remaining)
        return Observation(result: result, error: errno, remaining: [remaining.tv_sec, remaining.tv_nsec])
    }
}

/// The sleep and multiplexing calls, looked up by name in one scope: libc's own, or the
/// process's global names (the hook library's exports).
struct WaitingCalls: Sendable {
    let nanosleep: @convention(c) (UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32
    let clockNanosleep: @convention(c) (clockid_t, Int32, UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32
    let usleep: @convention(c) (UInt32) -> Int32
    let sleep: @convention(c) (UInt32) -> UInt32
    let poll: @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, Int32) -> Int32
    let select: @convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?,
                                UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<timeval>?) -> Int32
    let epollWait: @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    init(symbolsIn scope: SymbolScope) {
        nanosleep = scope.function("nanosleep")
        clockNanosleep = scope.function("clock_nanosleep")
        usleep = scope.function("usleep")
        sleep = scope.function("sleep")
        poll = scope.function("poll")
        select = scope.function("select")
        epollWait = scope.function("epoll_wait")
    }

    static let libc = WaitingCalls(symbolsIn: .libc)
    static let exported = WaitingCalls(symbolsIn: .global)
}

/// A call with input libc answers at once, mostly with an error.
struct WaitingCase: Sendable, CustomStringConvertible {
    let description: String
    let call: @Sendable (WaitingCalls, UnsafeMutablePointer<timespec>) -> Int64

    static func nanosleep(_ name: String, seconds: Int, nanoseconds: Int) -> WaitingCase {
        WaitingCase(description: name) { calls, remaining in
            var request = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
            return Int64(calls.nanosleep(&request, remaining))
        }
    }

    static func clockNanosleep(_ name: String, clock: clockid_t, flags: Int32 = 0, seconds: Int, nanoseconds: Int) -> WaitingCase {
        WaitingCase(description: name) { calls, remaining in
            var request = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
            return Int64(calls.clockNanosleep(clock, flags, &request, remaining))
        }
    }

    static let all: [WaitingCase] = [
        .nanosleep("nanosleep with tv_nsec of 2e9", seconds: 0, nanoseconds: 2_000_000_000),
        .nanosleep("nanosleep with a negative tv_sec", seconds: -1, nanoseconds: 0),
        .nanosleep("nanosleep with a negative tv_nsec", seconds: 0, nanoseconds: -1),
        .nanosleep("nanosleep for zero", seconds: 0, nanoseconds: 0),
        WaitingCase(description: "nanosleep without a request") { calls, remaining in
            Int64(calls.nanosleep(nil, remaining))
        },
        .clockNanosleep("clock_nanosleep with tv_nsec of 2e9", clock: CLOCK_MONOTONIC, seconds: 0, nanoseconds: 2_000_000_000),
        .clockNanosleep("clock_nanosleep on an unknown clock", clock: 12_345, seconds: 0, nanoseconds: 1_000),
        .clockNanosleep("clock_nanosleep on the thread's CPU clock", clock: CLOCK_THREAD_CPUTIME_ID, seconds: 0, nanoseconds: 1_000),
        .clockNanosleep("clock_nanosleep until a past time", clock: CLOCK_MONOTONIC, flags: TIMER_ABSTIME, seconds: 0, nanoseconds: 1),
        WaitingCase(description: "usleep(0)") { calls, _ in Int64(calls.usleep(0)) },
        WaitingCase(description: "sleep(0)") { calls, _ in Int64(calls.sleep(0)) },
        WaitingCase(description: "poll without an array") { calls, _ in Int64(calls.poll(nil, 1, 0)) },
        WaitingCase(description: "poll on nothing for 10 ms") { calls, _ in Int64(calls.poll(nil, 0, 10)) },
        WaitingCase(description: "select with a negative count") { calls, _ in
            var timeout = timeval(tv_sec: 0, tv_usec: 0)
            return Int64(calls.select(-1, nil, nil, nil, &timeout))
        },
        WaitingCase(description: "select with a negative timeout") { calls, _ in
            var timeout = timeval(tv_sec: -1, tv_usec: 0)
            return Int64(calls.select(0, nil, nil, nil, &timeout))
        },
        WaitingCase(description: "epoll_wait on a bad descriptor") { calls, _ in
            var events = [UInt8](repeating: 0, count: 16)
            return Int64(calls.epollWait(-1, &events, 1, 0))
        },
    ]
}

extension SharedRuntimeTests {
    /// libc's names as the hook library exports them: inside tasks a blocking call suspends
    /// only its task, whoever makes it (Foundation, glibc's callers, Swift code); elsewhere it
    /// is libc's call.
    @Suite struct InterpositionTests {
        static let sleepers = [
            Sleeper(description: "Foundation's Thread.sleep(forTimeInterval: 0.2)") {
                Thread.sleep(forTimeInterval: 0.2)
                return 0
            },
            Sleeper(description: "usleep(200_000)") { Int64(usleep(200_000)) },
            Sleeper(description: "nanosleep(200 ms)") {
                var request = timespec(tv_sec: 0, tv_nsec: 200_000_000)
                return Int64(nanosleep(&request, nil))
            },
        ]

        @Test(arguments: sleepers)
        func aThousandTasksSleepTogether(_ sleeper: Sleeper) throws {
            try withSharedRuntime { runtime in
                let failures = Atomic<Int>(0)
                let elapsed = try batch(on: runtime) { _ in
                    if sleeper.sleep() != 0 { failures.add(1, ordering: .relaxed) }
                }
                #expect(failures.load(ordering: .relaxed) == 0)
                // One after another on 2 threads, the sleeps would take 100 s.
                #expect(elapsed < .seconds(1), "1,000 tasks in \(sleeper) took \(elapsed)")
            }
        }

        @Test func aThousandTasksSleepOneSecondTogether() throws {
            try withSharedRuntime { runtime in
                let failures = Atomic<Int>(0)
                let elapsed = try batch(on: runtime) { _ in
                    if sleep(1) != 0 { failures.add(1, ordering: .relaxed) }
                }
                #expect(failures.load(ordering: .relaxed) == 0)
                #expect(elapsed < .seconds(2), "1,000 tasks in sleep(1) took \(elapsed)")
            }
        }

        /// Each task asks for its data to be written 200 ms later, then reads with
        /// `FileHandle`: only when reads suspend do all 1,000 tasks get to ask in time.
        @Test func aThousandFileHandleReadsWaitTogether() throws {
            try OpenFileLimit.raise(toAtLeast: 2_500)
            let pairs = try (0..<1_000).map { _ in try DescriptorCalls.libc.pair() }
            try withSharedRuntime { runtime in
                let wrong = Atomic<Int>(0)
                let elapsed = try batch(on: runtime) { index in
                    let (reader, writer) = pairs[index]
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                        _ = write(writer, "x", 1)
                        _ = close(writer)
                    }
                    let handle = FileHandle(fileDescriptor: reader, closeOnDealloc: true)
                    let data = index.isMultiple(of: 2) ? handle.availableData : handle.readData(ofLength: 1)
                    if data != Data("x".utf8) { wrong.add(1, ordering: .relaxed) }
                }
                #expect(wrong.load(ordering: .relaxed) == 0)
                #expect(elapsed < .seconds(1), "1,000 FileHandle reads of data written 200 ms later took \(elapsed)")
            }
        }

        /// Outside coroutines, with the runtime running and hooking on, the calls block the
        /// thread as libc's do.
        @Test func onAPlainThreadTheSleepsBlock() throws {
            try withSharedRuntime { _ in
                var request = timespec(tv_sec: 0, tv_nsec: 200_000_000)
                let sleepers: [(String, () -> Int64)] = [
                    ("usleep", { Int64(usleep(200_000)) }),
                    ("nanosleep", { Int64(nanosleep(&request, nil)) }),
                    ("Thread.sleep", {
                        Thread.sleep(forTimeInterval: 0.2)
                        return 0
                    }),
                ]
                for (name, sleeper) in sleepers {
                    let (result, elapsed) = timed(sleeper)
                    #expect(result == 0, "\(name)")
                    #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(1), "\(name) blocked for \(elapsed)")
                }
            }
        }

        @Test(arguments: WaitingCase.all)
        func exportedNamesAnswerAsLibc(_ waitingCase: WaitingCase) throws {
            let expected = Observation.of { waitingCase.call(.libc, $0) }
            #expect(Observation.of { waitingCase.call(.exported, $0) } == expected, "on a plain thread")
            let inTask = try withSharedRuntime { runtime in
                try runtime.spawn { Observation.of { waitingCase.call(.exported, $0) } }.join(timeout: .seconds(5))
            }
            #expect(inTask == expected, "in a task")
        }
    }
}
