// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CoroutineHook",
    products: [
        // The library C programs link, and later the one that interposes libc's names.
        .library(name: "open_coroutine_hook", type: .dynamic, targets: ["CoroutineHook"]),
    ],
    dependencies: [
        .package(path: "../CoroutineCore"),
    ],
    targets: [
        .target(name: "CoroutineHook", dependencies: [.product(name: "CoroutineCore", package: "CoroutineCore")]),
        .testTarget(name: "CoroutineHookTests", dependencies: ["CoroutineHook"]),
    ]
)
