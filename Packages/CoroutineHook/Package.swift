// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CoroutineHook",
    products: [
        // The library C programs link, and the one that interposes libc's names.
        .library(name: "open_coroutine_hook", type: .dynamic, targets: ["CoroutineHook"]),
    ],
    dependencies: [
        .package(path: "../CoroutineCore"),
    ],
    targets: [
        // The C entry points (the variadic calls, open_coroutine_init) and the load-time
        // interposition check; the public header lives in include/.
        .target(name: "CCoroutineHook", cSettings: [.headerSearchPath("../../include")]),
        .target(
            name: "CoroutineHook",
            dependencies: ["CCoroutineHook", .product(name: "CoroutineCore", package: "CoroutineCore")]
        ),
        .testTarget(name: "CoroutineHookTests", dependencies: ["CoroutineHook"]),
    ]
)
