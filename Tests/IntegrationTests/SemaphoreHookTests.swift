import CoroutineCore
import Foundation
import Glibc
import Testing

/// A `sem_t` at a stable address, as C code keeps one.
private final class Semaphore: @unchecked Sendable {
    // @unchecked Sendable: the semaphore is shared through libc's own calls.
    let pointer = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init(value: UInt32) {
        sem_init(pointer, 0, value)
    }

    var value: Int32 {
        var value: Int32 = 0
        sem_getvalue(pointer, &value)
        return value
    }

    deinit {
        sem_destroy(pointer)
        pointer.deallocate()
    }
}

/// glibc's `sem_clockwait`, which Swift's Glibc does not import: found as the process resolves
/// it (the hook library's).
private let semClockwait = unsafeBitCast(
    dlsym(nil, "sem_clockwait"),
    to: (@convention(c) (UnsafeMutablePointer<sem_t>, clockid_t, UnsafePointer<timespec>) -> Int32).self)

/// `time` from now on `clock` (negative for the past), as the timed calls take it.
private func deadline(after milliseconds: Int, on clock: clockid_t = CLOCK_REALTIME) -> timespec {
    var now = timespec()
    clock_gettime(clock, &now)
    let total = now.tv_sec * 1_000_000_000 + now.tv_nsec + milliseconds * 1_000_000
    return timespec(tv_sec: total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
}

/// One semaphore call as C code makes it, on a semaphore of a given start value: what it
/// returned, its errno, and the value left.
private struct SemaphoreScenario: Sendable, CustomStringConvertible {
    let name: String
    let start: UInt32
    let call: @Sendable (UnsafeMutablePointer<sem_t>) -> Int32

    var description: String { name }

    /// The call's result, errno (0 on success) and the semaphore's value afterwards.
    func run() -> [Int32] {
        let semaphore = Semaphore(value: start)
        errno = 0
        let result = call(semaphore.pointer)
        let error = result == 0 ? 0 : errno
        return [result, error, semaphore.value]
    }
}

private let scenarios: [SemaphoreScenario] = [
    SemaphoreScenario(name: "trywait on empty", start: 0) { sem_trywait($0) },
    SemaphoreScenario(name: "trywait on one", start: 1) { sem_trywait($0) },
    SemaphoreScenario(name: "wait on two", start: 2) { sem_wait($0) },
    SemaphoreScenario(name: "post", start: 0) { sem_post($0) },
    SemaphoreScenario(name: "timedwait, past deadline, empty", start: 0) { semaphore in
        var past = deadline(after: -10)
        return sem_timedwait(semaphore, &past)
    },
    SemaphoreScenario(name: "timedwait, 30 ms, empty", start: 0) { semaphore in
        var soon = deadline(after: 30)
        return sem_timedwait(semaphore, &soon)
    },
    SemaphoreScenario(name: "timedwait, bad nanoseconds, empty", start: 0) { semaphore in
        var bad = timespec(tv_sec: 0, tv_nsec: 1_000_000_000)
        return sem_timedwait(semaphore, &bad)
    },
    SemaphoreScenario(name: "timedwait, negative nanoseconds, empty", start: 0) { semaphore in
        var bad = timespec(tv_sec: 0, tv_nsec: -1)
        return sem_timedwait(semaphore, &bad)
    },
    SemaphoreScenario(name: "timedwait, bad nanoseconds, one", start: 1) { semaphore in
        var bad = timespec(tv_sec: 0, tv_nsec: -1)
        return sem_timedwait(semaphore, &bad)
    },
    SemaphoreScenario(name: "clockwait monotonic, 30 ms, empty", start: 0) { semaphore in
        var soon = deadline(after: 30, on: CLOCK_MONOTONIC)
        return semClockwait(semaphore, CLOCK_MONOTONIC, &soon)
    },
    SemaphoreScenario(name: "clockwait, CPU clock, empty", start: 0) { semaphore in
        var soon = deadline(after: 30)
        return semClockwait(semaphore, CLOCK_PROCESS_CPUTIME_ID, &soon)
    },
    SemaphoreScenario(name: "clockwait, CPU clock, one", start: 1) { semaphore in
        var soon = deadline(after: 30)
        return semClockwait(semaphore, CLOCK_PROCESS_CPUTIME_ID, &soon)
    },
]

extension SharedRuntimeTests {
    /// The semaphore hooks (semaphores.c): the same results, errno and values in a task as
    /// libc gives a thread, and waits that suspend only their task.
    @Suite struct SemaphoreHookTests {
        @Test(arguments: scenarios)
        fileprivate func aTaskGetsWhatLibcGivesAThread(_ scenario: SemaphoreScenario) throws {
            let onThread = scenario.run()
            let inTask = try withSharedRuntime(RuntimeConfiguration(threads: 1)) { runtime in
                try runtime.spawn { scenario.run() }.join(timeout: .seconds(10))
            }
            #expect(inTask == onThread, "\(scenario): task \(inTask), thread \(onThread)")
        }

        /// A task waiting on an empty semaphore lets the others of its one thread run, and the
        /// post of one of them wakes it.
        @Test func aWaitingTaskLeavesItsThreadToThePoster() throws {
            let semaphore = Semaphore(value: 0)
            let woken = try withSharedRuntime(RuntimeConfiguration(threads: 1)) { runtime in
                let waiters = try (0..<10).map { _ in try runtime.spawn { sem_wait(semaphore.pointer) } }
                let poster = try runtime.spawn {
                    usleep(20_000)
                    for _ in 0..<10 { sem_post(semaphore.pointer) }
                }
                try poster.join(timeout: .seconds(10))
                return try waiters.map { try $0.join(timeout: .seconds(10)) }
            }
            #expect(woken == Array(repeating: 0, count: 10))
            #expect(semaphore.value == 0)
        }
    }
}
