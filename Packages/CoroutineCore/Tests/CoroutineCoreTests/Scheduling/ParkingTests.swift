import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

/// A token handed out by a registration, for the test's waker.
private final class TokenBox: @unchecked Sendable {
    // @unchecked Sendable: written by the registration before the waker reads it (the
    // waker waits for `token` to be set through `eventually`, under the mutex).
    private let stored = Mutex<ParkingToken?>(nil)
    var token: ParkingToken? { stored.withLock { $0 } }
    func keep(_ token: ParkingToken) { stored.withLock { $0 = token } }
}

/// Parks on plain threads: the thread half of `Parking.park`.
@Suite struct ParkingTests {
    @Test func aRegistrationThatFindsItsEventReportsNotParked() {
        var registered = 0
        let outcome = Parking.park { _ in
            registered += 1
            return false
        }
        #expect(outcome == .notParked)
        #expect(registered == 1)
    }

    @Test func aDeadlineEndsAParkAndALateUnparkIsRefused() {
        let box = TokenBox()
        let started = ContinuousClock.now
        let outcome = Parking.park(until: .now + .milliseconds(50)) { token in
            box.keep(token)
            return true
        }
        #expect(outcome == .timedOut)
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        #expect(box.token?.unpark() == false)
        #expect(box.token?.claim() == false)
        #expect(box.token?.outcome == .timedOut)
    }

    @Test func anUnparkFromAnotherThreadEndsThePark() {
        let box = TokenBox()
        let unparked = onAnotherThread {
            while box.token == nil { usleep(1_000) }
            return [box.token?.unpark() == true]
        }
        let outcome = Parking.park(until: .now + .seconds(10)) { token in
            box.keep(token)
            return true
        }
        #expect(outcome == .unparked)
        #expect(unparked() == [true])
    }

    /// A claimed park belongs to its claimant: the deadline passing meanwhile does not end it,
    /// and the message the claimant left arrives with the wake.
    @Test func aClaimedParkOutlastsItsDeadlineUntilTheWakeAndCarriesTheMessage() {
        let box = TokenBox()
        let checks = onAnotherThread {
            while box.token == nil { usleep(1_000) }
            guard let token = box.token else { return [false] }
            let claimed = token.claim(message: 42)
            let stillParked = token.outcome == nil
            let othersRefused = !token.unpark() && !token.claim()
            usleep(300_000)  // well past the parked thread's deadline
            token.wake()
            return [claimed, stillParked, othersRefused]
        }
        let started = ContinuousClock.now
        let outcome = Parking.park(until: .now + .milliseconds(200)) { token in
            box.keep(token)
            return true
        }
        #expect(outcome == .unparked)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(box.token?.message == 42)
        #expect(checks() == [true, true, true])
    }

    /// `settle` sees the token the registration was handed and how the park ended, once,
    /// before `park` returns: on a plain thread and in a coroutine, for a park that never
    /// parked, one a waker claimed with a message, and one that timed out.
    @Test func settleSeesTheRegisteredTokenAndTheOutcomeOnce() throws {
        /// Parks as `kind` says; returns (outcome, message, settles, same token).
        @Sendable func parkOnce(_ kind: String) -> (Parking.Outcome?, UInt, Int, Bool) {
            var registered: ParkingToken?
            var settled: (Parking.Outcome, UInt)?
            var settles = 0
            var same = false
            Parking.park(untilNanoseconds: kind == "timeout" ? Parking.nanoseconds(at: .now + .milliseconds(20)) : nil) { token in
                registered = token
                switch kind {
                case "claimed": return !token.claim(message: 7)  // claimed before parking: never parks
                case "waker":
                    let unmanaged = Unmanaged.passRetained(token)
                    Thread {
                        usleep(10_000)
                        let token = unmanaged.takeRetainedValue()
                        _ = token.claim(message: 9)
                        token.wake()
                    }.start()
                    return true
                default: return true
                }
            } settle: { token, outcome in
                settles += 1
                same = token === registered
                settled = (outcome, token.message)
            }
            return (settled?.0, settled?.1 ?? 0, settles, same)
        }
        for kind in ["claimed", "waker", "timeout"] {
            let expected: (Parking.Outcome, UInt) = kind == "claimed" ? (.notParked, 7) : kind == "waker" ? (.unparked, 9) : (.timedOut, 0)
            let onThread = parkOnce(kind)
            #expect(onThread.0 == expected.0 && onThread.1 == expected.1 && onThread.2 == 1 && onThread.3, "\(kind) on a thread: \(onThread)")
            let scheduler = try Scheduler()
            let inCoroutine = Mutex<(Parking.Outcome?, UInt, Int, Bool)?>(nil)
            scheduler.submit { let answer = parkOnce(kind); inCoroutine.withLock { $0 = answer } }
            // A standalone scheduler's run returns while its coroutine waits for another
            // thread's wake (no timer, no descriptor): run it again until the answer comes.
            let deadline = ContinuousClock.now + .seconds(10)
            while inCoroutine.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
                scheduler.run(until: .now + .milliseconds(50))
                usleep(1_000)
            }
            let answer = inCoroutine.withLock { $0 }
            #expect(answer?.0 == expected.0 && answer?.1 == expected.1 && answer?.2 == 1 && answer?.3 == true,
                    "\(kind) in a coroutine: \(String(describing: answer))")
        }
    }

    /// Runs `body` on a new thread; the returned function waits for its answers.
    private func onAnotherThread(_ body: @escaping @Sendable () -> [Bool]) -> () -> [Bool] {
        let answers = Mutex<[Bool]?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let result = body()
            answers.withLock { $0 = result }
            done.signal()
        }.start()
        return {
            guard done.wait(timeout: .now() + 10) == .success else { return [] }
            return answers.withLock { $0 } ?? []
        }
    }

    @Test func aPollingTokenSeesItsClaimOnlyOnceWoken() {
        let token = ParkingToken.polling()
        #expect(token.outcome == nil)
        #expect(token.claim(message: 7))
        #expect(token.outcome == nil)
        token.wake()
        #expect(token.outcome == .unparked)
        #expect(token.message == 7)
    }

    @Test func tokensAreEqualOnlyToThemselves() {
        let (first, second) = (ParkingToken.polling(), ParkingToken.polling())
        #expect(first == first)
        #expect(first != second)
        #expect(Set([first, second, first]).count == 2)
    }
}

/// Parks of coroutines: part of the runtime's serialized suite.
extension CoroutineRuntimeTests {
    @Test func aParkedTaskIsCancelledOutOfItsParkAndAClaimAfterwardsFails() throws {
        try withRuntime(RuntimeConfiguration(threads: 1)) {
            let box = TokenBox()
            let task = try runtime.spawn { () -> Parking.Outcome in
                Parking.park { token in
                    box.keep(token)
                    return true
                }
            }
            #expect(eventually(within: .seconds(5)) { box.token != nil })
            task.cancel()
            #expect(try task.join(timeout: .seconds(5)) == .cancelled)
            #expect(box.token?.claim() == false)
        }
    }

    @Test func aTaskClaimedPastItsDeadlineWaitsForTheWake() throws {
        try withRuntime(RuntimeConfiguration(threads: 2)) {
            let box = TokenBox()
            let task = try runtime.spawn { () -> (Parking.Outcome, UInt) in
                var parked: ParkingToken?
                let outcome = Parking.park(until: .now + .milliseconds(200)) { token in
                    parked = token
                    box.keep(token)
                    return true
                }
                return (outcome, parked?.message ?? 0)
            }
            #expect(eventually(within: .seconds(5)) { box.token != nil })
            #expect(box.token?.claim(message: 9) == true)
            Thread.sleep(forTimeInterval: 0.3)  // well past the task's deadline
            #expect(!task.isFinished)
            box.token?.wake()
            let (outcome, message) = try task.join(timeout: .seconds(5))
            #expect(outcome == .unparked)
            #expect(message == 9)
        }
    }
}
