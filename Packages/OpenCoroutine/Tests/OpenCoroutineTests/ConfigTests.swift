import CoroutineCore
import Glibc
import Logging
import Testing
@testable import OpenCoroutine

@Suite struct ConfigTests {
    @Test func theDefaultsAreValid() throws {
        try Config().validate()
    }

    /// The runtime's fields have one set of defaults, the runtime's, which the C API's
    /// `open_coroutine_init(NULL)` starts from too (a 0 s keep-alive there once differed).
    @Test func theRuntimesFieldsDefaultToTheRuntimesDefaults() {
        #expect(Config().runtime == RuntimeConfiguration())
        #expect(Config().keepAlive == .seconds(10))
    }

    /// The runtime's validation names the field in `Config`'s words: they are the same words.
    @Test func aBadRuntimeFieldIsNamedAsTheRuntimeNamesIt() {
        let error = #expect(throws: ConfigError.self) { try Config(minWorkers: 5, maxWorkers: 2).validate() }
        #expect(error == ConfigurationError(field: "minWorkers", value: "5", allowed: "0...2"))
    }

    @Test(arguments: [
        (Config(threads: 0), "threads"),
        (Config(stackSize: 1), "stackSize"),
        (Config(maxWorkers: 0), "maxWorkers"),
        (Config(minWorkers: 10, maxWorkers: 5), "minWorkers"),
        (Config(keepAlive: .seconds(-1)), "keepAlive"),
        (Config(stopTimeout: .seconds(-1)), "stopTimeout"),
        (Config(preemptionSlice: .microseconds(999)), "preemptionSlice"),
        (Config(preemptionSlice: .seconds(61)), "preemptionSlice"),
        (Config(dumpSignal: 0), "dumpSignal"),
        (Config(dumpSignal: 65), "dumpSignal"),
        (Config(blockingWarning: .microseconds(10)), "blockingWarning"),
        (Config(threads: 2, maxThreads: 3), "maxThreads"),
        (Config(maxThreads: 100_001), "maxThreads"),
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
            threads: 3, stackSize: 65_536, minWorkers: 2, maxWorkers: 100, keepAlive: .milliseconds(1_500), hooks: false,
            preemption: false, preemptionSlice: .milliseconds(20), stopTimeout: .milliseconds(250)))
        #expect(try Config(threads: 8).overridden(by: [:]) == Config(threads: 8))
    }

    /// `OPEN_COROUTINE_MAX_THREADS` sets `maxThreads`, checked against the `threads` it comes with.
    @Test func theEnvironmentSetsMaxThreads() throws {
        let config = try Config(threads: 2).overridden(by: ["OPEN_COROUTINE_MAX_THREADS": "64"])
        #expect(config.maxThreads == 64)
        #expect(config.runtime.maxThreads == 64)
        #expect(Config().maxThreads == RuntimeConfiguration.defaultMaxThreads)
        let error = #expect(throws: ConfigError.self) {
            try Config(threads: 8).overridden(by: ["OPEN_COROUTINE_MAX_THREADS": "9"])
        }
        #expect(error == ConfigurationError(field: "OPEN_COROUTINE_MAX_THREADS", value: "9", allowed: "10...100000"))
    }

    @Test func theEnvironmentSetsTheDiagnostics() throws {
        let environment = [
            "OPEN_COROUTINE_TRACEBACK": "all", "OPEN_COROUTINE_DUMP_SIGNAL": "SIGUSR2",
            "OPEN_COROUTINE_BLOCKING_WARNING_MS": "250",
        ]
        let config = try Config().overridden(by: environment)
        #expect(config.crashReport == .allCoroutines)
        #expect(config.dumpSignal == SIGUSR2)
        #expect(config.blockingWarning == .milliseconds(250))
        #expect(config.runtime.dumpSignal == SIGUSR2)
        #expect(config.runtime.blockingWarning == .milliseconds(250))

        let quiet = try Config(crashReport: .allCoroutines, dumpSignal: SIGUSR1).overridden(by: [
            "OPEN_COROUTINE_TRACEBACK": "single", "OPEN_COROUTINE_DUMP_SIGNAL": "off",
            "OPEN_COROUTINE_BLOCKING_WARNING_MS": "off",
        ])
        #expect(quiet.crashReport == .crashingTask)
        #expect(quiet.dumpSignal == nil)
        #expect(quiet.blockingWarning == nil)
        #expect(try Config().overridden(by: ["OPEN_COROUTINE_DUMP_SIGNAL": "12"]).dumpSignal == 12)
        #expect(try Config().overridden(by: ["OPEN_COROUTINE_DUMP_SIGNAL": "usr1"]).dumpSignal == SIGUSR1)
    }

    @Test(arguments: [
        ("OPEN_COROUTINE_THREADS", "-2"), ("OPEN_COROUTINE_STACK_SIZE", "1"), ("OPEN_COROUTINE_MAX_POOL_SIZE", "0"),
        ("OPEN_COROUTINE_PREEMPTION_SLICE_MS", "0"), ("OPEN_COROUTINE_DUMP_SIGNAL", "99"),
        ("OPEN_COROUTINE_STOP_TIMEOUT_MS", "-1"), ("OPEN_COROUTINE_MAX_THREADS", "2"),
        ("OPEN_COROUTINE_MAX_THREADS", "100001"),
    ])
    func aVariableOutOfRangeIsNamed(_ name: String, _ value: String) {
        let error = #expect(throws: ConfigError.self) { try Config().overridden(by: [name: value]) }
        #expect(error?.field == name)
        #expect(error?.value == value)
        #expect(error?.description.hasPrefix("invalid \(name) \(value): allowed ") == true)
    }

    @Test func unknownVariablesAreListed() {
        let environment = [
            "OPEN_COROUTINE_THREAD": "2", "OPEN_COROUTINE_THREADS": "2", "OPEN_COROUTINE_TRACEBACK": "all",
            "OPEN_COROUTINE_PREEMTION": "off", "PATH": "/bin",
        ]
        #expect(Config.unknownVariables(in: environment) == ["OPEN_COROUTINE_PREEMTION", "OPEN_COROUTINE_THREAD"])
    }

    @Test(arguments: [
        ("OPEN_COROUTINE_THREADS", "many"),
        ("OPEN_COROUTINE_KEEP_ALIVE_MS", "1.5"),
        ("OPEN_COROUTINE_HOOKS", "maybe"),
        ("OPEN_COROUTINE_PREEMPTION", "sometimes"),
        ("OPEN_COROUTINE_PREEMPTION_SLICE_MS", "10ms"),
        ("OPEN_COROUTINE_TRACEBACK", "everything"),
        ("OPEN_COROUTINE_DUMP_SIGNAL", "SIGNOPE"),
        ("OPEN_COROUTINE_BLOCKING_WARNING_MS", "soon"),
        ("OPEN_COROUTINE_MAX_THREADS", "lots"),
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

extension RuntimeTests {
    /// The configuration as `withCoroutines` applies it: with the runtime, one test at a time.
    @Suite struct ConfigRuntimeTests {
        @Test func theUsersLoggerReceivesTheRuntimesWarnings() throws {
            var logger = Logger(label: "app.coroutines")
            logger.logLevel = .error
            let previous = CoroutineLogging.logger.label
            try withCoroutines(Config(threads: 1, hooks: false, logger: logger)) {
                #expect(CoroutineLogging.logger.label == "app.coroutines")
                #expect(CoroutineLogging.logger.logLevel == .error)
            }
            #expect(CoroutineLogging.logger.label == previous)
        }
    }
}
