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
        // The C entry points (the variadic calls, the pthread lock calls, open_coroutine_init)
        // and the load-time interposition check; the public header lives in include/. The lock
        // hooks read the runtime's C state (the running frame, the preemptible-code table).
        .target(
            name: "CCoroutineHook",
            dependencies: [.product(name: "CoroutineCore", package: "CoroutineCore")],
            cSettings: [.headerSearchPath("../../include")]
        ),
        .target(
            name: "CoroutineHook",
            dependencies: ["CCoroutineHook", .product(name: "CoroutineCore", package: "CoroutineCore")]
        ),
        .testTarget(name: "CoroutineHookTests", dependencies: ["CoroutineHook"]),
        // `swift package build-hook-library`: the release library in a stable folder, for
        // LD_PRELOAD and for shipping beside an executable (Docs/hooks.md).
        .plugin(
            name: "BuildHookLibrary",
            capability: .command(
                intent: .custom(
                    verb: "build-hook-library",
                    description: "Builds libopen_coroutine_hook.so in release and copies it, with the libraries it loads, into a folder"
                ),
                permissions: [
                    .writeToPackageDirectory(reason: "Copies the hook library and libCoroutineCore.so into bin, or into --output DIR")
                ]
            )
        ),
    ]
)
