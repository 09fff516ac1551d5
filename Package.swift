// swift-tools-version:6.1
import PackageDescription

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
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Examples/coroutine_basics"
        ),
        .executableTarget(
            name: "readme",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Examples/readme"
        ),
        .executableTarget(
            name: "echo_benchmark_server",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Benchmarks/Echo/ours"
        ),
        .executableTarget(
            name: "spawn_benchmark",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Benchmarks/Spawn"
        ),
        .executableTarget(
            name: "switch_benchmark",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")],
            path: "Benchmarks/Switch"
        ),
        // A C program on the hook library's C API; its header lives outside any target's
        // include directory, hence the search path.
        .executableTarget(
            name: "capi_demo",
            dependencies: [.product(name: "open_coroutine_hook", package: "CoroutineHook")],
            path: "Examples/capi",
            cSettings: [.headerSearchPath("../../Packages/CoroutineHook/include")]
        ),
        // hiredis, an unmodified C client doing blocking network I/O, for the hook tests.
        // No pkgConfig: hiredis.pc's only flag beyond -lhiredis is -D_FILE_OFFSET_BITS=64, which
        // SwiftPM rejects with a warning on every build (and which 64-bit targets do not need).
        .systemLibrary(name: "CHiredis", path: "Tests/CHiredis"),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                .product(name: "OpenCoroutine", package: "OpenCoroutine"),
                .product(name: "CoroutineCore", package: "CoroutineCore"),
                .product(name: "open_coroutine_hook", package: "CoroutineHook"),
                .product(name: "DescriptorScenarios", package: "CoroutineCore"),
                "CHiredis",
            ],
            path: "Tests/IntegrationTests"
        ),
    ]
)
