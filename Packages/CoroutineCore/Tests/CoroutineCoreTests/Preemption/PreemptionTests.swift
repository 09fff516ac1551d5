import CCoroutineCore
import Foundation
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

    @Test func aSafePointWithNothingPendingReturnsAtOnce() {
        Preemption.safePoint()
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
