// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "OpenCoroutine",
    products: [
        .library(name: "OpenCoroutine", targets: ["OpenCoroutine"]),
    ],
    dependencies: [
        .package(path: "../CoroutineCore"),
    ],
    targets: [
        .target(name: "OpenCoroutine", dependencies: [.product(name: "CoroutineCore", package: "CoroutineCore")]),
        .testTarget(name: "OpenCoroutineTests", dependencies: ["OpenCoroutine"]),
    ]
)
