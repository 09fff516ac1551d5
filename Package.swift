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
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                .product(name: "OpenCoroutine", package: "OpenCoroutine"),
                .product(name: "CoroutineCore", package: "CoroutineCore"),
                .product(name: "open_coroutine_hook", package: "CoroutineHook"),
            ],
            path: "Tests/IntegrationTests"
        ),
    ]
)
