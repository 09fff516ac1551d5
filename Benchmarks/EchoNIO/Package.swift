// swift-tools-version:6.1
import PackageDescription

// The SwiftNIO anchor of `make bench-echo`. A package of its own so that the workspace and
// its tests never build swift-nio.
let package = Package(
    name: "EchoNIO",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "echo_nio_server",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
