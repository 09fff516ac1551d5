import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

/// The sleep family behind one set of names: libc's or ours.
struct SleepCalls: Sendable {
    let nanosleep: @Sendable (UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32
    let clockNanosleep: @Sendable (clockid_t, Int32, UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32
    let usleep: @Sendable (useconds_t) -> Int32
    let sleep: @Sendable (UInt32) -> UInt32

    static let libc = SleepCalls(
        nanosleep: { Glibc.nanosleep($0, $1) }, clockNanosleep: { Glibc.clock_nanosleep($0, $1, $2, $3) },
        usleep: { Glibc.usleep($0) }, sleep: { Glibc.sleep($0) })
    static let ours = SleepCalls(
        nanosleep: Syscall.nanosleep, clockNanosleep: Syscall.clock_nanosleep,
        usleep: Syscall.usleep, sleep: Syscall.sleep)
}

/// What a call showed its caller: its result, errno afterwards, and the remaining-time
/// output (which starts as a sentinel, to see whether the call wrote it).
struct Observation: Equatable, CustomStringConvertible {
    let result: Int64
    let error: Int32
    let remainingSeconds: Int
    let remainingNanoseconds: Int

    var description: String {
        "result \(result), errno \(error), remaining \(remainingSeconds)s \(remainingNanoseconds)ns"
    }

    static let untouchedErrno: Int32 = 77

    /// Runs `call` with errno set to a sentinel and a sentinel remaining time.
    static func of(_ call: (UnsafeMutablePointer<timespec>) -> Int64) -> Observation {
        var remaining = timespec(tv_sec: 4242, tv_nsec: 4242)
        errno = untouchedErrno
        let result = call(&remaining)
        return Observation(result: result, error: errno, remainingSeconds: remaining.tv_sec, remainingNanoseconds: remaining.tv_nsec)
    }
}

/// One input to compare: a name and what it does with a set of calls.
struct SleepCase: Sendable, CustomStringConvertible {
    let name: String
    let run: @Sendable (SleepCalls) -> Observation

    var description: String { name }

    static func nanosleep(_ name: String, seconds: Int, nanoseconds: Int) -> SleepCase {
        SleepCase(name: name) { calls in
            Observation.of { remaining in
                var request = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
                return Int64(calls.nanosleep(&request, remaining))
            }
        }
    }

    static func clockNanosleep(_ name: String, clock: clockid_t, flags: Int32 = 0, seconds: Int, nanoseconds: Int) -> SleepCase {
        SleepCase(name: name) { calls in
            Observation.of { remaining in
                var request = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
                return Int64(calls.clockNanosleep(clock, flags, &request, remaining))
            }
        }
    }

    static let all: [SleepCase] = [
        nanosleep("nanosleep 1 ms", seconds: 0, nanoseconds: 1_000_000),
        nanosleep("nanosleep zero", seconds: 0, nanoseconds: 0),
        nanosleep("nanosleep negative nanoseconds", seconds: 0, nanoseconds: -1),
        nanosleep("nanosleep a billion nanoseconds", seconds: 0, nanoseconds: 1_000_000_000),
        nanosleep("nanosleep negative seconds", seconds: -1, nanoseconds: 0),
        SleepCase(name: "nanosleep without a request") { calls in
            Observation.of { remaining in Int64(calls.nanosleep(nil, remaining)) }
        },
        clockNanosleep("monotonic 1 ms", clock: CLOCK_MONOTONIC, seconds: 0, nanoseconds: 1_000_000),
        clockNanosleep("realtime 1 ms", clock: CLOCK_REALTIME, seconds: 0, nanoseconds: 1_000_000),
        clockNanosleep("boottime 1 ms", clock: CLOCK_BOOTTIME, seconds: 0, nanoseconds: 1_000_000),
        clockNanosleep("monotonic absolute in the past", clock: CLOCK_MONOTONIC, flags: TIMER_ABSTIME, seconds: 1, nanoseconds: 0),
        clockNanosleep("monotonic invalid nanoseconds", clock: CLOCK_MONOTONIC, seconds: 0, nanoseconds: -5),
        clockNanosleep("unknown clock", clock: 1234, seconds: 0, nanoseconds: 1_000),
        clockNanosleep("thread CPU clock", clock: CLOCK_THREAD_CPUTIME_ID, seconds: 0, nanoseconds: 1_000),
        SleepCase(name: "clock_nanosleep without a request") { calls in
            Observation.of { remaining in Int64(calls.clockNanosleep(CLOCK_MONOTONIC, 0, nil, remaining)) }
        },
        SleepCase(name: "usleep 1 ms") { calls in Observation.of { _ in Int64(calls.usleep(1_000)) } },
        SleepCase(name: "usleep zero") { calls in Observation.of { _ in Int64(calls.usleep(0)) } },
        SleepCase(name: "usleep a whole second and more") { calls in Observation.of { _ in Int64(calls.usleep(1_000_001)) } },
        SleepCase(name: "sleep zero") { calls in Observation.of { _ in Int64(calls.sleep(0)) } },
    ]
}

@Suite struct SleepTests {
    @Test(arguments: SleepCase.all)
    func behavesLikeLibcOnAPlainThread(_ sleepCase: SleepCase) {
        #expect(sleepCase.run(.ours) == sleepCase.run(.libc))
    }

    @Test(arguments: SleepCase.all)
    func behavesLikeLibcInACoroutine(_ sleepCase: SleepCase) throws {
        let expected = sleepCase.run(.libc)
        #expect(try runInCoroutine { sleepCase.run(.ours) } == expected)
    }

    @Test func sleepingCoroutinesLetOthersRun() throws {
        let scheduler = try Scheduler()
        let log = Mutex<[String]>([])
        let start = ContinuousClock.now
        for name in ["a", "b", "c"] {
            scheduler.submit {
                log.withLock { $0.append("\(name) sleeps") }
                _ = Syscall.usleep(50_000)
                log.withLock { $0.append("\(name) woke") }
            }
        }
        scheduler.run(until: .now + .seconds(5))
        #expect(log.withLock { $0 } == ["a sleeps", "b sleeps", "c sleeps", "a woke", "b woke", "c woke"])
        #expect(ContinuousClock.now - start < .milliseconds(140), "three 50 ms sleeps should overlap")
    }

    @Test func anAbsoluteSleepEndsAtItsTime() throws {
        let scheduler = try Scheduler()
        let result = Mutex<Int32?>(nil)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let target = timespec(tv_sec: now.tv_sec + (now.tv_nsec + 30_000_000) / 1_000_000_000,
                              tv_nsec: (now.tv_nsec + 30_000_000) % 1_000_000_000)
        let start = ContinuousClock.now
        scheduler.submit {
            var request = target
            result.withLock { $0 = Syscall.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &request, nil) }
        }
        scheduler.run(until: .now + .seconds(5))
        #expect(result.withLock { $0 } == 0)
        #expect(ContinuousClock.now - start >= .milliseconds(29))
    }
}
