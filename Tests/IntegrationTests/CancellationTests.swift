import CoroutineCore
import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

/// A file of `count` bytes in the temporary folder, removed with the value.
private final class TemporaryFile: @unchecked Sendable {
    // @unchecked Sendable: only the path is shared, and the file is read, never written.
    let path: String

    init(bytes count: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("oc-cancel-\(UUID().uuidString)").path
        try Data(repeating: 7, count: count).write(to: URL(fileURLWithPath: path))
    }

    deinit { unlink(path) }
}

/// Waits until `flag` is set, or 5 s.
private func waitUntil(_ flag: borrowing Atomic<Bool>) {
    let deadline = ContinuousClock.now + .seconds(5)
    while !flag.load(ordering: .acquiring) && ContinuousClock.now < deadline { usleep(1_000) }
}

extension SharedRuntimeTests {
    /// What a cancelled task meets in each kind of wait (`JoinHandle.cancel`, `CurrentTask`,
    /// `Syscall`): hooked calls end with ECANCELED, the toolkit's waits and joins throw, lock
    /// waits are not cut short, and join reports what the task did with it.
    @Suite struct CancellationTests {
        /// A hooked sleep ends at once with ECANCELED; a task that returns a value anyway is
        /// joined with that value.
        @Test func aSleepEndsWithECANCELEDAndTheValueStillComesBack() throws {
            let asleep = Atomic<Bool>(false)
            let (value, elapsed) = try withSharedRuntime { runtime in
                let start = ContinuousClock.now
                let sleeper = try runtime.spawn { () -> [Int32] in
                    asleep.store(true, ordering: .releasing)
                    let result = usleep(2_000_000)
                    return [result, errno, CurrentTask.isCancelled ? 1 : 0]
                }
                waitUntil(asleep)
                usleep(20_000)
                sleeper.cancel()
                return (try sleeper.join(timeout: .seconds(5)), ContinuousClock.now - start)
            }
            #expect(value == [-1, ECANCELED, 1])
            #expect(elapsed < .seconds(1))
        }

        /// A task that lets its cancellation end it is joined with `CoroutineError.cancelled`.
        @Test func aTaskThatChecksIsJoinedAsCancelled() throws {
            let started = Atomic<Bool>(false)
            let outcome = try withSharedRuntime { runtime in
                let worker = try runtime.spawn { () throws -> Int in
                    started.store(true, ordering: .releasing)
                    // Work that never waits, looking now and then.
                    var spins = 0
                    while true {
                        try CurrentTask.checkCancellation()
                        spins &+= 1
                    }
                }
                waitUntil(started)
                worker.cancel()
                return Result { try worker.join(timeout: .seconds(5)) }
            }
            #expect(throws: CoroutineError.cancelled) { try outcome.get() }
        }

        /// A blocking socket read ends with ECANCELED.
        @Test func aSocketReadEndsWithECANCELED() throws {
            var ends: [Int32] = [0, 0]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
            defer { close(ends[0]); close(ends[1]) }
            let fd = ends[0]
            let reading = Atomic<Bool>(false)
            let value = try withSharedRuntime { runtime in
                let reader = try runtime.spawn { () -> [Int] in
                    reading.store(true, ordering: .releasing)
                    var byte: UInt8 = 0
                    let result = read(fd, &byte, 1)
                    return [result, Int(errno)]
                }
                waitUntil(reading)
                usleep(20_000)
                reader.cancel()
                return try reader.join(timeout: .seconds(5))
            }
            #expect(value == [-1, Int(ECANCELED)])
        }

        /// A file read through io_uring, in a task already cancelled: the kernel either
        /// finished it first (the bytes) or cancelled it (ECANCELED); nothing hangs.
        @Test func aFileReadOnTheRingEndsEitherWay() throws {
            let file = try TemporaryFile(bytes: 1 << 20)
            let value = try withSharedRuntime { runtime in
                let reader = try runtime.spawn { () -> [Int] in
                    while !CurrentTask.isCancelled { usleep(1_000) }
                    let fd = open(file.path, O_RDONLY)
                    defer { close(fd) }
                    var buffer = [UInt8](repeating: 0, count: 1 << 20)
                    let result = pread(fd, &buffer, buffer.count, 0)
                    return [result, result < 0 ? Int(errno) : 0]
                }
                usleep(20_000)
                reader.cancel()
                return try reader.join(timeout: .seconds(5))
            }
            #expect(value == [1 << 20, 0] || value == [-1, Int(ECANCELED)], "\(value)")
        }

        /// A pthread mutex wait is not cut short (pthread_mutex_lock cannot fail that way, and
        /// C code does not expect it to): the task gets the lock when its holder lets go.
        @Test func aLockWaitOutlastsTheCancellation() throws {
            let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            defer {
                pthread_mutex_destroy(mutex)
                mutex.deallocate()
            }
            let address = UInt(bitPattern: mutex)
            pthread_mutex_lock(mutex)
            let waiting = Atomic<Bool>(false)
            let value = try withSharedRuntime { runtime in
                let locker = try runtime.spawn { () -> [Int32] in
                    let mutex = UnsafeMutablePointer<pthread_mutex_t>(bitPattern: address)!
                    waiting.store(true, ordering: .releasing)
                    let result = pthread_mutex_lock(mutex)
                    if result == 0 { pthread_mutex_unlock(mutex) }
                    return [result, CurrentTask.isCancelled ? 1 : 0]
                }
                waitUntil(waiting)
                usleep(20_000)
                locker.cancel()
                usleep(50_000)
                #expect(!locker.isFinished)
                pthread_mutex_unlock(mutex)
                return try locker.join(timeout: .seconds(5))
            }
            #expect(value == [0, 1])
        }

        /// A channel receive throws `CoroutineError.cancelled`.
        @Test func aChannelReceiveThrows() throws {
            let channel = try Channel<Int>(capacity: 1)
            let receiving = Atomic<Bool>(false)
            let outcome = try withSharedRuntime { runtime in
                let receiver = try runtime.spawn { () throws -> Int? in
                    receiving.store(true, ordering: .releasing)
                    return try channel.receive()
                }
                waitUntil(receiving)
                usleep(20_000)
                receiver.cancel()
                return Result { try receiver.join(timeout: .seconds(5)) }
            }
            #expect(throws: CoroutineError.cancelled) { try outcome.get() }
        }

        /// Cancelling a parent that joins a child cancels the child too: the parent's join
        /// throws, and the child's sleep ends with ECANCELED.
        @Test func cancellingAParentCancelsTheChildItJoins() throws {
            let childAsleep = Atomic<Bool>(false)
            let (parentOutcome, childValue, elapsed) = try withSharedRuntime { runtime in
                let start = ContinuousClock.now
                let child = try runtime.spawn { () -> [Int32] in
                    childAsleep.store(true, ordering: .releasing)
                    let result = usleep(5_000_000)
                    return [result, errno]
                }
                let parent = try runtime.spawn { () throws -> [Int32] in try child.join() }
                waitUntil(childAsleep)
                usleep(20_000)
                parent.cancel()
                let parentOutcome = Result { try parent.join(timeout: .seconds(5)) }
                let childValue = try child.join(timeout: .seconds(5))
                return (parentOutcome, childValue, ContinuousClock.now - start)
            }
            #expect(throws: CoroutineError.cancelled) { try parentOutcome.get() }
            #expect(childValue == [-1, ECANCELED])
            #expect(elapsed < .seconds(2))
        }
    }
}
