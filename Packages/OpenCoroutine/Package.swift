// swift-tools-version:6.1
import PackageDescription

/// Under AddressSanitizer or ThreadSanitizer (`make test-asan` sets OC_ASAN, `make test-tsan`
/// OC_TSAN) jemalloc stays out, as in CoroutineCore: the sanitizer's allocator must serve malloc.
let sanitized = Context.environment["OC_ASAN"] != nil || Context.environment["OC_TSAN"] != nil

let package = Package(
    name: "OpenCoroutine",
    products: [
        .library(name: "OpenCoroutine", targets: ["OpenCoroutine"]),
    ],
    dependencies: [
        .package(path: "../CoroutineCore"),
        .package(path: "../CoroutineHook"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // `swift package generate-documentation` (`make docs`); a command plugin, nothing is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "OpenCoroutine",
            dependencies: [
                .product(name: "CoroutineCore", package: "CoroutineCore"),
                // Linking the hook library puts it before libc in every executable that uses
                // the facade: libc's blocking calls become cooperative with nothing else to do.
                .product(name: "open_coroutine_hook", package: "CoroutineHook"),
                .product(name: "Logging", package: "swift-log"),
                // The waiter queues and channel buffers of the sync primitives.
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            // jemalloc must come before libc too, to replace malloc; the runtime library's own
            // dependency on it would come after (see Docs/benchmarks.md for why jemalloc).
            linkerSettings: sanitized ? [] : [.linkedLibrary("jemalloc")]
        ),
        .testTarget(
            name: "OpenCoroutineTests",
            dependencies: [
                "OpenCoroutine", .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                // The tests reach past the facade (Scheduler.sleep, the runtime's logger), as a
                // power user does: by importing the runtime itself.
                .product(name: "CoroutineCore", package: "CoroutineCore"),
            ]
        ),
    ]
)
