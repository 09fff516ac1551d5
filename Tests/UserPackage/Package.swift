// swift-tools-version:6.1
// A user's own package: it depends on the facade by path, as the README tells a user to, and
// builds a program of plain blocking code. `make test` builds a scratch copy of it
// (scripts/test-user-package.sh), so nothing here knows it lives inside the repository.
import PackageDescription

let package = Package(
    name: "UserPackage",
    dependencies: [
        .package(path: "../../Packages/OpenCoroutine"),
    ],
    targets: [
        .executableTarget(
            name: "UserApp",
            dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")]
        ),
    ]
)
