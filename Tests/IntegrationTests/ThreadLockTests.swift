import CoroutineCore
import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

/// A `pthread_mutex_t` of a given type at a stable address, as C code keeps one.
private final class PthreadMutex: @unchecked Sendable {
    // @unchecked Sendable: the mutex is what the tests share, through libc's own calls.
    let pointer = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(type: Int32 = Int32(PTHREAD_MUTEX_NORMAL)) {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, type)
        pthread_mutex_init(pointer, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(pointer)
        pointer.deallocate()
    }
}

/// A `pthread_cond_t` at a stable address, on the monotonic clock when asked.
private final class PthreadCondition: @unchecked Sendable {
    // @unchecked Sendable: as PthreadMutex.
    let pointer = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(clock: clockid_t = CLOCK_REALTIME) {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, clock)
        pthread_cond_init(pointer, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(pointer)
        pointer.deallocate()
    }
}

/// State the tests change only while holding a pthread mutex: plain, unsynchronized fields,
/// so that two holders at once would show.
private final class Guarded: @unchecked Sendable {
    // @unchecked Sendable: every access is under the mutex under test.
    var inside = 0
    var mostInside = 0
    var count = 0
    var ready = false
}

/// `time` from now on `clock`, as the timed calls take it.
private func absoluteTime(after time: Duration, on clock: clockid_t = CLOCK_REALTIME) -> timespec {
    var now = timespec()
    clock_gettime(clock, &now)
    let total = Int(now.tv_nsec) + Int(time.components.attoseconds / 1_000_000_000)
    return timespec(tv_sec: now.tv_sec + Int(time.components.seconds) + total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
}

/// glibc's GNU extensions with an explicit clock, which Swift's Glibc does not import: found as
/// the process resolves them (the hook library's).
private let pthreadMutexClocklock = unsafeBitCast(
    dlsym(nil, "pthread_mutex_clocklock"),
    to: (@convention(c) (UnsafeMutablePointer<pthread_mutex_t>, clockid_t, UnsafePointer<timespec>) -> Int32).self)
private let pthreadCondClockwait = unsafeBitCast(
    dlsym(nil, "pthread_cond_clockwait"),
    to: (@convention(c) (UnsafeMutablePointer<pthread_cond_t>, UnsafeMutablePointer<pthread_mutex_t>, clockid_t,
        UnsafePointer<timespec>) -> Int32).self)

/// One scheduler thread: a holder and its waiters share it, so a waiter that blocked the
/// thread would never let the holder release.
private let oneThread = RuntimeConfiguration(threads: 1)

extension SharedRuntimeTests {
    /// The pthread lock hooks: waits on mutexes and condition variables suspend the task.
    @Suite struct ThreadLockTests {
        @Test(arguments: [PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK].map(Int32.init))
        func aMutexHeldAcrossASleepMakesOnlyTasksWait(type: Int32) throws {
            let mutex = PthreadMutex(type: type)
            let state = Guarded()
            let ticks = Atomic<Int>(0)
            try withSharedRuntime(oneThread) { runtime in
                let holder = try runtime.spawn {
                    pthread_mutex_lock(mutex.pointer)
                    usleep(100_000)
                    state.count += 1
                    pthread_mutex_unlock(mutex.pointer)
                }
                let ticker = try runtime.spawn {
                    for _ in 0..<5 {
                        usleep(10_000)
                        ticks.add(1, ordering: .relaxed)
                    }
                }
                let contenders = try (0..<100).map { _ in
                    try runtime.spawn {
                        #expect(pthread_mutex_lock(mutex.pointer) == 0)
                        state.inside += 1
                        state.mostInside = max(state.mostInside, state.inside)
                        usleep(100)
                        state.count += 1
                        state.inside -= 1
                        #expect(pthread_mutex_unlock(mutex.pointer) == 0)
                    }
                }
                try holder.join(timeout: .seconds(10))
                try ticker.join(timeout: .seconds(10))
                for contender in contenders { try contender.join(timeout: .seconds(10)) }
            }
            #expect(state.count == 101)
            #expect(state.mostInside == 1)
            #expect(ticks.load(ordering: .relaxed) == 5)
        }

        /// glibc would let any code of the owning thread into a recursive mutex: another task
        /// of that thread must still wait, while the owner recurses.
        @Test func aRecursiveMutexAdmitsOnlyTheTaskThatHoldsIt() throws {
            let mutex = PthreadMutex(type: Int32(PTHREAD_MUTEX_RECURSIVE))
            let order = Mutex<[String]>([])
            try withSharedRuntime(oneThread) { runtime in
                let owner = try runtime.spawn {
                    #expect(pthread_mutex_lock(mutex.pointer) == 0)
                    #expect(pthread_mutex_lock(mutex.pointer) == 0)
                    #expect(pthread_mutex_trylock(mutex.pointer) == 0)
                    usleep(50_000)
                    order.withLock { $0.append("owner done") }
                    for _ in 0..<3 { #expect(pthread_mutex_unlock(mutex.pointer) == 0) }
                }
                let other = try runtime.spawn {
                    #expect(pthread_mutex_trylock(mutex.pointer) == EBUSY)
                    #expect(pthread_mutex_unlock(mutex.pointer) == EPERM)
                    #expect(pthread_mutex_lock(mutex.pointer) == 0)
                    order.withLock { $0.append("other in") }
                    #expect(pthread_mutex_unlock(mutex.pointer) == 0)
                }
                try owner.join(timeout: .seconds(10))
                try other.join(timeout: .seconds(10))
            }
            #expect(order.withLock { $0 } == ["owner done", "other in"])
        }

        @Test func anErrorCheckingMutexAnswersAsLibcDoesItsThread() throws {
            let mutex = PthreadMutex(type: Int32(PTHREAD_MUTEX_ERRORCHECK))
            try withSharedRuntime(oneThread) { runtime in
                let owner = try runtime.spawn {
                    #expect(pthread_mutex_lock(mutex.pointer) == 0)
                    #expect(pthread_mutex_lock(mutex.pointer) == EDEADLK)
                    #expect(pthread_mutex_trylock(mutex.pointer) == EBUSY)
                    usleep(30_000)
                    #expect(pthread_mutex_unlock(mutex.pointer) == 0)
                    #expect(pthread_mutex_unlock(mutex.pointer) == EPERM)
                }
                let other = try runtime.spawn {
                    #expect(pthread_mutex_unlock(mutex.pointer) == EPERM)
                }
                try owner.join(timeout: .seconds(10))
                try other.join(timeout: .seconds(10))
            }
        }

        @Test func timedLocksTimeOutAndCheckTheirTimeAsLibc() throws {
            let mutex = PthreadMutex()
            try withSharedRuntime(oneThread) { runtime in
                let holder = try runtime.spawn {
                    pthread_mutex_lock(mutex.pointer)
                    usleep(200_000)
                    pthread_mutex_unlock(mutex.pointer)
                }
                let waiter = try runtime.spawn { () -> [Int32] in
                    var soon = absoluteTime(after: .milliseconds(30))
                    let start = ContinuousClock.now
                    let timedOut = pthread_mutex_timedlock(mutex.pointer, &soon)
                    let waited = ContinuousClock.now - start
                    #expect(waited >= .milliseconds(25) && waited < .milliseconds(150), "waited \(waited)")
                    var invalid = timespec(tv_sec: 0, tv_nsec: 2_000_000_000)
                    let rejected = pthread_mutex_timedlock(mutex.pointer, &invalid)
                    var later = absoluteTime(after: .seconds(5), on: CLOCK_MONOTONIC)
                    let acquired = pthreadMutexClocklock(mutex.pointer, CLOCK_MONOTONIC, &later)
                    pthread_mutex_unlock(mutex.pointer)
                    return [timedOut, rejected, acquired]
                }
                try holder.join(timeout: .seconds(10))
                #expect(try waiter.join(timeout: .seconds(10)) == [ETIMEDOUT, EINVAL, 0])
            }
        }

        @Test func aBroadcastWakesEveryTaskWaitingOnTheCondition() throws {
            let mutex = PthreadMutex()
            let condition = PthreadCondition()
            let state = Guarded()
            try withSharedRuntime(oneThread) { runtime in
                let start = ContinuousClock.now
                let waiters = try (0..<200).map { _ in
                    try runtime.spawn {
                        pthread_mutex_lock(mutex.pointer)
                        while !state.ready {
                            #expect(pthread_cond_wait(condition.pointer, mutex.pointer) == 0)
                        }
                        state.count += 1
                        pthread_mutex_unlock(mutex.pointer)
                    }
                }
                try runtime.spawn {
                    usleep(100_000)
                    pthread_mutex_lock(mutex.pointer)
                    state.ready = true
                    pthread_cond_broadcast(condition.pointer)
                    pthread_mutex_unlock(mutex.pointer)
                }
                for waiter in waiters { try waiter.join(timeout: .seconds(10)) }
                let elapsed = ContinuousClock.now - start
                #expect(elapsed < .seconds(1), "200 condition waiters took \(elapsed)")
            }
            #expect(state.count == 200)
        }

        /// Each signal, from a plain thread, hands one item to one of the waiting tasks.
        @Test func signalsFromAPlainThreadReachTasks() throws {
            let mutex = PthreadMutex()
            let condition = PthreadCondition()
            let queue = Mutex<Int>(0)
            let state = Guarded()
            try withSharedRuntime(oneThread) { runtime in
                let consumers = try (0..<20).map { _ in
                    try runtime.spawn {
                        pthread_mutex_lock(mutex.pointer)
                        while state.count == 0 {
                            pthread_cond_wait(condition.pointer, mutex.pointer)
                        }
                        state.count -= 1
                        pthread_mutex_unlock(mutex.pointer)
                        queue.withLock { $0 += 1 }
                    }
                }
                let producer = Thread {
                    for _ in 0..<20 {
                        usleep(2_000)
                        pthread_mutex_lock(mutex.pointer)
                        state.count += 1
                        pthread_cond_signal(condition.pointer)
                        pthread_mutex_unlock(mutex.pointer)
                    }
                }
                producer.start()
                for consumer in consumers { try consumer.join(timeout: .seconds(10)) }
            }
            #expect(queue.withLock { $0 } == 20)
            #expect(state.count == 0)
        }

        @Test(arguments: [CLOCK_REALTIME, CLOCK_MONOTONIC])
        func aTimedConditionWaitTimesOutOnItsClockWithTheMutexHeld(clock: clockid_t) throws {
            let mutex = PthreadMutex(type: Int32(PTHREAD_MUTEX_ERRORCHECK))
            let condition = PthreadCondition(clock: clock)
            try withSharedRuntime(oneThread) { runtime in
                let ticks = Atomic<Int>(0)
                let ticker = try runtime.spawn {
                    for _ in 0..<3 {
                        usleep(10_000)
                        ticks.add(1, ordering: .relaxed)
                    }
                }
                let waiter = try runtime.spawn { () -> [Int32] in
                    pthread_mutex_lock(mutex.pointer)
                    var deadline = absoluteTime(after: .milliseconds(60), on: clock)
                    let start = ContinuousClock.now
                    let timed = pthread_cond_timedwait(condition.pointer, mutex.pointer, &deadline)
                    let waited = ContinuousClock.now - start
                    #expect(waited >= .milliseconds(55) && waited < .milliseconds(500), "waited \(waited)")
                    var invalid = timespec(tv_sec: 0, tv_nsec: -1)
                    let rejected = pthread_cond_timedwait(condition.pointer, mutex.pointer, &invalid)
                    var past = absoluteTime(after: .zero, on: CLOCK_MONOTONIC)
                    let clocked = pthreadCondClockwait(condition.pointer, mutex.pointer, CLOCK_MONOTONIC, &past)
                    // Held still: the error-checking mutex lets its owner unlock it.
                    let unlocked = pthread_mutex_unlock(mutex.pointer)
                    return [timed, rejected, clocked, unlocked]
                }
                #expect(try waiter.join(timeout: .seconds(10)) == [ETIMEDOUT, EINVAL, ETIMEDOUT, 0])
                try ticker.join(timeout: .seconds(10))
                #expect(ticks.load(ordering: .relaxed) == 3)
            }
        }

        /// Outside tasks the calls are libc's: a plain thread's timed lock and wait answer as
        /// libc's own functions do.
        @Test func onAPlainThreadTheCallsAreLibcs() throws {
            let mutex = PthreadMutex(type: Int32(PTHREAD_MUTEX_ERRORCHECK))
            let condition = PthreadCondition()
            try withSharedRuntime { _ in
                #expect(pthread_mutex_lock(mutex.pointer) == 0)
                #expect(pthread_mutex_lock(mutex.pointer) == EDEADLK)
                var soon = absoluteTime(after: .milliseconds(20))
                #expect(pthread_cond_timedwait(condition.pointer, mutex.pointer, &soon) == ETIMEDOUT)
                #expect(pthread_mutex_unlock(mutex.pointer) == 0)
                #expect(pthread_mutex_unlock(mutex.pointer) == EPERM)
            }
        }
    }
}
