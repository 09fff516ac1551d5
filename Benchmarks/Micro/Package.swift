// swift-tools-version:6.1
import PackageDescription

/// The micro benchmarks on ordo-one's package-benchmark (`make bench-micro`,
/// `make bench-micro-check`): a package of its own, so that neither the benchmark package nor its
/// malloc interposer is a dependency of the runtime's packages or of the workspace.
///
/// package-benchmark's default traits are off (`traits: []`), for two reasons.
/// `MallocInterposer` preloads an allocator whose free() reads a size header in front of every
/// pointer: in a process whose malloc is jemalloc (the runtime links it, see CoroutineCore's
/// Package.swift) it is handed jemalloc's pointers too, and it crashed (in sleep_zero, on the
/// runtime's preemption monitor thread); the malloc metrics went with it. `RuntimeInterposer`
/// (the ARC metrics, not used here) needs a package that cannot be resolved here. With both
/// off, package-benchmark on Swift 6.3 needs no jemalloc and no interposer of its own, which is
/// also all BENCHMARK_DISABLE_JEMALLOC=true would ask of it: that variable only changes its
/// default traits, and none are used.
let package = Package(
    name: "MicroBenchmarks",
    dependencies: [
        .package(path: "../../Packages/OpenCoroutine"),
        // The runtime itself (`Coroutine`, `Scheduler`, `CoroutineRuntime`), which the facade does
        // not export.
        .package(path: "../../Packages/CoroutineCore"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: []),
    ],
    targets: [
        .executableTarget(
            name: "Coroutines",
            dependencies: [
                .product(name: "OpenCoroutine", package: "OpenCoroutine"),
                .product(name: "CoroutineCore", package: "CoroutineCore"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Coroutines",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
