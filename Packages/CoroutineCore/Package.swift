// swift-tools-version:6.1
import PackageDescription

/// jemalloc replaces malloc process-wide: tasks are allocated on one thread and freed on
/// another all the time, which glibc's arenas handle poorly (spawn+join measured 2.5x faster;
/// see Docs/benchmarks.md). Not under AddressSanitizer or ThreadSanitizer (`make test-asan`
/// sets OC_ASAN, `make test-tsan` OC_TSAN), whose own allocator would then free what jemalloc
/// allocated.
let sanitized = Context.environment["OC_ASAN"] != nil || Context.environment["OC_TSAN"] != nil
let allocator: [Target.Dependency] = sanitized ? [] : ["CJemalloc"]

let package = Package(
    name: "CoroutineCore",
    products: [
        // Dynamic, so that a process holds one runtime: the hook library and the facade both
        // link this one copy, whatever else the user imports.
        .library(name: "CoroutineCore", type: .dynamic, targets: ["CoroutineCore"]),
        // The differential scenarios of the descriptor calls, for the tests here and for the
        // root package's, which run them through the hook library's exported names.
        .library(name: "DescriptorScenarios", targets: ["DescriptorScenarios"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        // `swift package generate-documentation` (`make docs`); a command plugin, nothing is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The two system libraries, found through pkg-config; where one is missing, SwiftPM
        // names the apt package to install. liburing: file I/O from coroutines goes through
        // io_uring.
        .systemLibrary(name: "CURing", pkgConfig: "liburing", providers: [.apt(["liburing-dev"])]),
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),
        .target(name: "CCoroutineCore", dependencies: ["CURing"]),
        .target(
            name: "CoroutineCore",
            dependencies: [
                "CCoroutineCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ] + allocator
        ),
        // Not on CoroutineCore: a static copy of the runtime beside the dynamic one would break
        // the one-runtime rule in the processes that link both.
        .target(name: "DescriptorScenarios", path: "TestSupport/DescriptorScenarios"),
        // Logging: a test reads what the runtime logs (a warning that must come once).
        .testTarget(
            name: "CoroutineCoreTests",
            dependencies: ["CoroutineCore", "DescriptorScenarios", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
