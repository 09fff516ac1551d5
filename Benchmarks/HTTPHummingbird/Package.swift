// swift-tools-version:6.1
import PackageDescription

// The Hummingbird 2 anchor of `make bench-http`. A package of its own so that the workspace and
// its tests never build Hummingbird and SwiftNIO.
let package = Package(
    name: "HTTPHummingbird",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "http_hummingbird_server",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
    ]
)
