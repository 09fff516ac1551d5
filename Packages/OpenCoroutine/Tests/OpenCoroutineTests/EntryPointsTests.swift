import CoroutineCore
import Glibc
import Synchronization
import Testing
@testable import OpenCoroutine

private struct Failure: Error, Equatable {}

extension RuntimeTests {
    @Suite struct EntryPointsTests {
        private let runtime = CoroutineRuntime.shared

        @Test func withCoroutinesRunsTheBodyWithTheRuntimeAndStopsIt() throws {
            let sum = try withCoroutines(Config(threads: 2, hooks: false)) {
                #expect(runtime.isRunning)
                let handles = try (1...100).map { n in try co { n } }
                return try handles.reduce(0) { $0 + (try $1.join()) }
            }
            #expect(sum == 5_050)
            #expect(!runtime.isRunning)
        }

        @Test func withCoroutinesStopsTheRuntimeWhenTheBodyThrows() {
            #expect(throws: Failure.self) {
                try withCoroutines(Config(threads: 2, hooks: false)) { throw Failure() }
            }
            #expect(!runtime.isRunning)
        }

        @Test func withCoroutinesWaitsForUnfinishedTasks() throws {
            let finished = Atomic<Int>(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                for _ in 0..<10 {
                    try co {
                        try Scheduler.sleep(for: .milliseconds(50))
                        finished.add(1, ordering: .relaxed)
                    }
                }
            }
            let count = finished.load(ordering: .relaxed)
            #expect(count == 10)
        }

        @Test func withCoroutinesCancelsWhatOutlivesTheStopTimeout() throws {
            let start = ContinuousClock.now
            let handle = try withCoroutines(Config(threads: 2, hooks: false, stopTimeout: .milliseconds(100))) {
                try co { try Scheduler.sleep(for: .seconds(30)) }
            }
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(throws: CoroutineError.cancelled) { try handle.join() }
        }

        @Test func aBadConfigThrowsBeforeAnythingStarts() {
            #expect(throws: ConfigError.self) {
                try withCoroutines(Config(threads: 0)) { Issue.record("the body ran") }
            }
            #expect(!runtime.isRunning)
        }

        @Test func coNeedsARunningRuntime() {
            #expect(throws: RuntimeError.notRunning) { try co { 1 } }
        }

        @Test func coWorksInsideTasks() throws {
            let value = try withCoroutines(Config(threads: 2, hooks: false)) {
                try co { try co { 21 }.join() * 2 }.join()
            }
            #expect(value == 42)
        }

        /// No type is named like the module, so a module-qualified name reaches the facade's
        /// own declarations and those it exports from the runtime alike.
        @Test func moduleQualifiedNamesResolve() throws {
            let config: OpenCoroutine.Config = OpenCoroutine.Config(threads: 1, hooks: false)
            let key = OpenCoroutine.CoroutineLocal<Int>()
            let value = try OpenCoroutine.withCoroutines(config) {
                let handle: OpenCoroutine.JoinHandle<Int> = try OpenCoroutine.co {
                    OpenCoroutine.CurrentTask[key] = 7
                    return OpenCoroutine.CurrentTask[key] ?? 0
                }
                return try handle.join()
            }
            #expect(value == 7)
            #expect(throws: OpenCoroutine.RuntimeError.notRunning) { try OpenCoroutine.co { 1 } }
        }

        @Test func aCoroutineAppRunsInsideMain() throws {
            try Counter.main()
            let ran = Counter.ran.load(ordering: .relaxed)
            #expect(ran)
            #expect(!runtime.isRunning)
        }
    }
}

/// A `CoroutineApp` for the test: its default `main` must run `run` with the runtime started.
private struct Counter: CoroutineApp {
    static let ran = Atomic<Bool>(false)
    static var config: Config { Config(threads: 2, hooks: false) }

    func run() throws {
        Self.ran.store(try co { CoroutineRuntime.shared.isRunning }.join(), ordering: .relaxed)
    }
}
