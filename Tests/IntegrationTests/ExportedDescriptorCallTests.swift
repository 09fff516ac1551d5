import CoroutineCore
import DescriptorScenarios
import Glibc
import OpenCoroutine
import Testing

extension DescriptorCalls {
    /// libc's names as the process resolves them: the hook library's exports.
    static let exported = DescriptorCalls(symbolsIn: .global)
}

extension SharedRuntimeTests {
    /// The Syscall layer's differential scenarios (see CoroutineCore's `DescriptorCallTests`)
    /// run again through the hook library's exported names, compared with libc's own functions
    /// on a plain thread.
    @Suite struct ExportedDescriptorCallTests {
        init() {
            signal(SIGPIPE, SIG_IGN)
        }

        @Test(arguments: DescriptorScenario.all)
        func behaveLikeLibcOnAPlainThread(_ scenario: DescriptorScenario) throws {
            let expected = try scenario.run(.libc)
            let observed = try scenario.run(.exported)
            #expect(observed == expected)
        }

        /// The scenario runs in a task. Its helper threads (`later`) call through the same table
        /// from plain threads, as a program's other threads would: there the hooks route only
        /// the sockets the runtime holds non-blocking to the layer.
        @Test(arguments: DescriptorScenario.all)
        func behaveLikeLibcInATask(_ scenario: DescriptorScenario) throws {
            let expected = try scenario.run(.libc)
            let observed = try withSharedRuntime { runtime in
                try runtime.spawn { try scenario.run(.exported) }.join(timeout: .seconds(30))
            }
            #expect(observed == expected)
        }

        /// Swift concurrency's pool threads are not coroutines: a hooked call made from a
        /// `Task` while the runtime runs must be libc's, blocking the pool thread as libc would.
        @Test(arguments: DescriptorScenario.all)
        func behaveLikeLibcInASwiftConcurrencyTask(_ scenario: DescriptorScenario) async throws {
            let expected = try scenario.run(.libc)
            try CoroutineRuntime.shared.start(RuntimeConfiguration(threads: 2))
            let observed = await Task.detached { try scenario.run(.exported) }.result
            #expect(CoroutineRuntime.shared.stop(timeout: .seconds(10)).isClean)
            #expect(try observed.get() == expected)
        }
    }
}
