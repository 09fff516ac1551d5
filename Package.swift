// swift-tools-version:6.1
import PackageDescription

/// The runtime itself, for the code that reaches past the facade (`Coroutine`, `Scheduler`,
/// `CoroutineRuntime`, `OpenFileLimit` …): the facade exports only what an application needs.
let runtime: Target.Dependency = .product(name: "CoroutineCore", package: "CoroutineCore")

/// What an example on coroutines depends on: the facade, which links the hook library into
/// the executable, the runtime (the servers raise the open-file limit) and the shared helpers.
let coroutineExample: [Target.Dependency] = [
    "ExampleSupport", "CoroutineExampleSupport", .product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime,
]

let package = Package(
    name: "OpenCoroutineWorkspace",
    dependencies: [
        .package(path: "Packages/CoroutineCore"),
        .package(path: "Packages/CoroutineHook"),
        .package(path: "Packages/OpenCoroutine"),
    ],
    targets: [
        .executableTarget(
            name: "coroutine_basics",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime],
            path: "Examples/coroutine_basics"
        ),
        .executableTarget(
            name: "readme",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Examples/readme"
        ),
        // What the benchmarks read from their caller's environment (threads, handoff), and the
        // tick-lateness measure the file benchmark reports and the file test bounds.
        .target(
            name: "BenchmarkSupport",
            dependencies: [runtime],
            path: "Benchmarks/Support"
        ),
        .executableTarget(
            name: "echo_benchmark_server",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime, "BenchmarkSupport"],
            path: "Benchmarks/Echo/ours"
        ),
        .executableTarget(
            name: "spawn_benchmark",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime, "BenchmarkSupport"],
            path: "Benchmarks/Spawn"
        ),
        .executableTarget(
            name: "switch_benchmark",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime],
            path: "Benchmarks/Switch"
        ),
        .executableTarget(
            name: "files_benchmark",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), "BenchmarkSupport"],
            path: "Benchmarks/Files"
        ),
        .executableTarget(
            name: "preempt_benchmark",
            dependencies: [runtime],
            path: "Benchmarks/Preempt"
        ),
        .executableTarget(
            name: "sleep_benchmark",
            dependencies: [runtime],
            path: "Benchmarks/Sleep"
        ),
        .executableTarget(
            name: "million_benchmark",
            dependencies: [runtime],
            path: "Benchmarks/Million"
        ),
        // The runtime's timer queue compiled into the benchmark through symbolic links, so that
        // it is specialized as the scheduler specializes it.
        .executableTarget(name: "timer_benchmark", path: "Benchmarks/Timers"),
        // A C program on the hook library's C API; its header lives outside any target's
        // include directory, hence the search path.
        .executableTarget(
            name: "capi_demo",
            dependencies: [.product(name: "open_coroutine_hook", package: "CoroutineHook")],
            path: "Examples/capi",
            cSettings: [.headerSearchPath("../../Packages/CoroutineHook/include")]
        ),
        // hiredis, an unmodified C client doing blocking network I/O, for the hook tests and
        // redis_demo. No pkgConfig: hiredis.pc's only flag beyond -lhiredis is
        // -D_FILE_OFFSET_BITS=64, which SwiftPM rejects with a warning on every build (and which
        // 64-bit targets do not need).
        .systemLibrary(name: "CHiredis", path: "Examples/CHiredis"),
        // The examples of Docs/examples.md, `swift run NAME` each. Their shared helpers: plain
        // sockets, lines, threads and files without the runtime (so that the *_not_co examples
        // run without the hook library), the servers and clients that run on tasks, and hiredis
        // from Swift (which the hiredis tests use too).
        .target(name: "ExampleSupport", path: "Examples/ExampleSupport"),
        .target(
            name: "CoroutineExampleSupport",
            dependencies: ["ExampleSupport", .product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Examples/CoroutineExampleSupport"
        ),
        .target(name: "HiredisSupport", dependencies: ["CHiredis", "ExampleSupport"], path: "Examples/HiredisSupport"),
        .executableTarget(name: "sleep_co", dependencies: coroutineExample, path: "Examples/sleep_co"),
        .executableTarget(name: "sleep_not_co", dependencies: coroutineExample, path: "Examples/sleep_not_co"),
        .executableTarget(name: "socket_co", dependencies: coroutineExample, path: "Examples/socket_co"),
        .executableTarget(name: "socket_co_server", dependencies: coroutineExample, path: "Examples/socket_co_server"),
        .executableTarget(name: "socket_co_client", dependencies: coroutineExample, path: "Examples/socket_co_client"),
        .executableTarget(name: "socket_not_co", dependencies: ["ExampleSupport"], path: "Examples/socket_not_co"),
        .executableTarget(name: "file_co", dependencies: coroutineExample, path: "Examples/file_co"),
        .executableTarget(name: "file_not_co", dependencies: coroutineExample, path: "Examples/file_not_co"),
        .executableTarget(name: "scalable_stack", dependencies: coroutineExample, path: "Examples/scalable_stack"),
        .executableTarget(
            name: "preemptive", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Examples/preemptive"
        ),
        .executableTarget(name: "echo_server", dependencies: coroutineExample, path: "Examples/echo_server"),
        .executableTarget(name: "echo_client", dependencies: coroutineExample, path: "Examples/echo_client"),
        .executableTarget(name: "echo_demo", dependencies: coroutineExample, path: "Examples/echo_demo"),
        .executableTarget(name: "http_server", dependencies: coroutineExample, path: "Examples/http_server"),
        .executableTarget(
            name: "redis_demo", dependencies: coroutineExample + ["HiredisSupport"], path: "Examples/redis_demo"
        ),
        // The name-lookup tests' probe: a slow DNS server and a runtime that looks names up.
        .executableTarget(
            name: "dns_probe", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Tests/DNSProbe"
        ),
        // The soak of `make soak` and `make test-soak`: the echo server on the hook layer under
        // 10,000 checked connections, with its client as a second process of the same program.
        .executableTarget(
            name: "soak", dependencies: ["ExampleSupport", .product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime],
            path: "Tests/Soak"
        ),
        // What the test probes below share: their output lines, failure and clock.
        .target(name: "ProbeSupport", path: "Tests/ProbeSupport"),
        // The fault-injection tests' probe: faults that kill or limit a whole process.
        .executableTarget(
            name: "fault_probe",
            dependencies: [
                .product(name: "OpenCoroutine", package: "OpenCoroutine"),
                runtime,
                .product(name: "DescriptorScenarios", package: "CoroutineCore"),
                "ProbeSupport",
            ],
            path: "Tests/FaultProbe"
        ),
        // The crash tests' probe: a task that crashes on purpose.
        .executableTarget(
            name: "crash_probe", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime, "ProbeSupport"],
            path: "Tests/CrashProbe"
        ),
        // The debugger tests' probe: tasks suspended in known places (Tools/gdb).
        .executableTarget(
            name: "dump_probe", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime, "ProbeSupport"],
            path: "Tests/DumpProbe"
        ),
        // The thread-identity tests' probe: thread-owned locks, lazy values, semaphores and
        // groups from tasks.
        .executableTarget(
            name: "thread_identity_probe", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine"), runtime, "ProbeSupport"],
            path: "Tests/ThreadIdentityProbe"
        ),
        // The storage-engine tests' probe: the system's SQLite from tasks.
        .systemLibrary(name: "CSQLite", path: "Tests/CSQLite"),
        .executableTarget(
            name: "sqlite_probe",
            dependencies: ["CSQLite", "ProbeSupport", .product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Tests/SQLiteProbe"
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                .product(name: "OpenCoroutine", package: "OpenCoroutine"),
                .product(name: "CoroutineCore", package: "CoroutineCore"),
                .product(name: "open_coroutine_hook", package: "CoroutineHook"),
                .product(name: "DescriptorScenarios", package: "CoroutineCore"),
                "ExampleSupport",
                "HiredisSupport",
                "BenchmarkSupport",
            ],
            path: "Tests/IntegrationTests"
        ),
    ]
)
