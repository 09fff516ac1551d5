import CCoroutineCore
import Foundation
import Synchronization
import Testing
@testable import CoroutineCore

// Preemption itself is tested from the root package (Tests/IntegrationTests/PreemptionTests),
// where the runtime is the shared library every program loads. Here the runtime is linked
// into the test bundle, so no code of the bundle is preemptible: these tests check what holds
// either way.
@Suite struct PreemptionTests {
    @Test func theDefaultsPreemptAfterTenMilliseconds() {
        let configuration = RuntimeConfiguration()
        #expect(configuration.preemption)
        #expect(configuration.preemptionSlice == .milliseconds(10))
    }

    @Test func withoutPreemptionReturnsAndRethrowsWhatItsBodyDoes() throws {
        struct Refusal: Error {}
        #expect(Preemption.withoutPreemption { Preemption.withoutPreemption { 42 } } == 42)
        #expect(throws: Refusal.self) { try Preemption.withoutPreemption { throw Refusal() } }
    }

    @Test func theRuntimeInTheTestBundleLeavesTheBundlesCodeAlone() {
        #expect(!oc_preempt_runtime_is_shared())
        oc_preempt_refresh_code()
        let runtimeCode = unsafeBitCast(oc_preempt_refresh_code as @convention(c) () -> Void, to: UInt.self)
        let libcCode = unsafeBitCast(getpid as @convention(c) () -> pid_t, to: UInt.self)
        #expect(!oc_preempt_code_is_preemptible(runtimeCode))
        #expect(!oc_preempt_code_is_preemptible(libcCode))
    }

    @Test func theSignalIsARealTimeOne() {
        // SIGRTMIN and SIGRTMAX are functions in glibc, which Swift does not import.
        #expect(Preemption.signal == __libc_current_sigrtmin() + 8)
        #expect(Preemption.signal <= __libc_current_sigrtmax())
    }
}

extension CoroutineRuntimeTests {
    /// A safe point gives the thread away only when a request is pending. On one thread whose
    /// monitor never asks (a 60 s slice) and that never hands off, a task queued by the caller
    /// runs only once the caller gives way. A thousand safe points with nothing pending do not;
    /// a safe point after a request of the caller's own does: the handler deferred the request
    /// (it landed in libc, where no coroutine is switched out) and the safe point yields. A
    /// yield with nothing else ready goes on in place, spending one of the 64 resumptions of the
    /// thread's round, and queued tasks start between rounds: the queued task runs within two
    /// rounds' worth of requests (one round may have begun before the caller).
    @Test func aSafePointYieldsOnlyWhenARequestIsPending() throws {
        let configuration = RuntimeConfiguration(threads: 1, preemptionSlice: .seconds(60), handoffAfter: nil)
        try withRuntime(configuration) {
            let caller = try runtime.spawn { () -> (ranWhileIdle: Bool, requests: Int) in
                let queuedRan = Atomic<Bool>(false)
                _ = try CoroutineRuntime.shared.spawn { queuedRan.store(true, ordering: .relaxed) }
                for _ in 0..<1_000 {
                    Preemption.safePoint()
                }
                let ranWhileIdle = queuedRan.load(ordering: .relaxed)
                var requests = 0
                while !queuedRan.load(ordering: .relaxed), requests < 1_000 {
                    #expect(oc_preempt_request(oc_thread_id()) == 0)
                    Preemption.safePoint()
                    requests += 1
                }
                return (ranWhileIdle, requests)
            }
            let outcome = try caller.join()
            #expect(!outcome.ranWhileIdle, "a safe point with nothing pending let the queued task run")
            #expect((1...128).contains(outcome.requests), "the queued task ran after \(outcome.requests) requests")
            let counters = try #require(runtime.counters)
            #expect(counters.deferredPreemptions == UInt64(outcome.requests))
            #expect(counters.preemptions == 0)
        }
    }
}
