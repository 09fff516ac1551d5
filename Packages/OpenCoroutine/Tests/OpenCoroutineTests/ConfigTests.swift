import Testing
@testable import OpenCoroutine

@Suite struct ConfigTests {
    @Test func theDefaultsAreValid() throws {
        try Config().validate()
    }

    @Test(arguments: [
        (Config(threads: 0), "threads"),
        (Config(stackSize: 1), "stackSize"),
        (Config(maxPoolSize: 0), "maxPoolSize"),
        (Config(minPoolSize: 10, maxPoolSize: 5), "minPoolSize"),
        (Config(keepAlive: .seconds(-1)), "keepAlive"),
        (Config(stopTimeout: .seconds(-1)), "stopTimeout"),
        (Config(preemptionSlice: .microseconds(999)), "preemptionSlice"),
        (Config(preemptionSlice: .seconds(61)), "preemptionSlice"),
    ])
    func aBadFieldIsNamedWithItsRange(_ config: Config, _ field: String) {
        #expect {
            try config.validate()
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.field == field && !error.allowed.isEmpty && error.description.hasPrefix("invalid \(field) ")
        }
    }

    @Test func theEnvironmentOverridesTheProgram() throws {
        let environment = [
            "OPEN_COROUTINE_THREADS": "3", "OPEN_COROUTINE_STACK_SIZE": "65536", "OPEN_COROUTINE_MIN_POOL_SIZE": "2",
            "OPEN_COROUTINE_MAX_POOL_SIZE": "100", "OPEN_COROUTINE_KEEP_ALIVE_MS": "1500", "OPEN_COROUTINE_HOOKS": "off",
            "OPEN_COROUTINE_STOP_TIMEOUT_MS": "250", "OPEN_COROUTINE_PREEMPTION": "0",
            "OPEN_COROUTINE_PREEMPTION_SLICE_MS": "20",
        ]
        let config = try Config(threads: 8).overridden(by: environment)
        #expect(config == Config(
            threads: 3, stackSize: 65_536, minPoolSize: 2, maxPoolSize: 100, keepAlive: .milliseconds(1_500), hooks: false,
            preemption: false, preemptionSlice: .milliseconds(20), stopTimeout: .milliseconds(250)))
        #expect(try Config(threads: 8).overridden(by: [:]) == Config(threads: 8))
    }

    @Test(arguments: [
        ("OPEN_COROUTINE_THREADS", "many"),
        ("OPEN_COROUTINE_KEEP_ALIVE_MS", "1.5"),
        ("OPEN_COROUTINE_HOOKS", "maybe"),
        ("OPEN_COROUTINE_PREEMPTION", "sometimes"),
        ("OPEN_COROUTINE_PREEMPTION_SLICE_MS", "10ms"),
    ])
    func aMalformedVariableIsNamed(_ name: String, _ value: String) {
        #expect(throws: ConfigError.self) {
            try Config().overridden(by: [name: value])
        }
        #expect((try? Config().overridden(by: [name: value])) == nil)
        let error = #expect(throws: ConfigError.self) { try Config().overridden(by: [name: value]) }
        #expect(error?.field == name)
        #expect(error?.value == value)
    }
}
