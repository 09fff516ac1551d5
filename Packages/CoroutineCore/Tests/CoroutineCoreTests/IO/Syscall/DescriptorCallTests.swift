import DescriptorScenarios
import Glibc
import Testing
@testable import CoroutineCore

/// The scenarios (in DescriptorScenarios, shared with the root package's tests, which run them
/// through the hook library's exported names) through libc and through the Syscall layer.
@Suite struct DescriptorCallTests {
    init() {
        signal(SIGPIPE, SIG_IGN)
    }

    @Test(arguments: DescriptorScenario.all)
    func behavesLikeLibcOnAPlainThread(_ scenario: DescriptorScenario) throws {
        let expected = try scenario.run(.libc)
        let observed = try scenario.run(.ours)
        #expect(observed == expected)
    }

    @Test(arguments: DescriptorScenario.all)
    func behavesLikeLibcInACoroutine(_ scenario: DescriptorScenario) throws {
        let expected = try scenario.run(.libc)
        let observed = try runInCoroutine { try scenario.run(.ours) }
        #expect(observed == expected)
    }
}
