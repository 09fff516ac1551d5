import Foundation
import PackagePlugin

/// `swift package build-hook-library [--output DIR]`: builds `libopen_coroutine_hook.so` in
/// release and copies it into DIR (default: `bin` in this package's directory; a relative DIR is
/// taken from the package directory), together with every dynamic library of the packages it
/// depends on (`libCoroutineCore.so`).
///
/// Those travel with it because the library finds them through the `$ORIGIN` entry of its
/// RUNPATH, which names the folder it is loaded from; its other entry names the Swift runtime of
/// the toolchain that built it. DIR then works for LD_PRELOAD and can ship beside an executable
/// (Docs/hooks.md).
@main
struct BuildHookLibrary: CommandPlugin {
    /// The product the plugin builds, the library that interposes libc.
    static let product = "open_coroutine_hook"

    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        let outputs = extractor.extractOption(named: "output")
        guard outputs.count <= 1, extractor.remainingArguments.isEmpty else {
            throw PluginError("usage: swift package build-hook-library [--output DIR]")
        }
        let output = URL(
            fileURLWithPath: outputs.first ?? "bin", relativeTo: context.package.directoryURL
        ).standardizedFileURL

        let result = try packageManager.build(
            .product(Self.product), parameters: .init(configuration: .release, logging: .concise, echoLogs: true)
        )
        guard result.succeeded else {
            throw PluginError("building \(Self.product) failed:\n\(result.logText)")
        }
        let fileName = "lib\(Self.product).so"
        guard let hook = result.builtArtifacts.first(where: { $0.url.lastPathComponent == fileName }) else {
            throw PluginError("the build reported no \(fileName)")
        }
        // The build puts every library it links into the one products folder.
        let productsFolder = hook.url.deletingLastPathComponent()
        let libraries = [fileName] + Self.dynamicLibraries(of: context.package.dependencies).map { "lib\($0).so" }

        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        for library in libraries {
            let destination = output.appendingPathComponent(library)
            try Self.replace(destination, with: productsFolder.appendingPathComponent(library))
            print(destination.path)
        }
    }

    /// The names of the dynamic library products of `dependencies` and of everything they
    /// depend on, each once.
    static func dynamicLibraries(of dependencies: [PackageDependency]) -> [String] {
        var names: [String] = []
        var visited: Set<String> = []
        var pending = dependencies.map(\.package)
        while let package = pending.popLast() {
            guard visited.insert(package.id).inserted else { continue }
            for case let library as LibraryProduct in package.products where library.kind == .dynamic {
                if !names.contains(library.name) { names.append(library.name) }
            }
            pending += package.dependencies.map(\.package)
        }
        return names
    }

    /// Puts a copy of `source` at `destination` with a rename, so a process that has the old
    /// library mapped keeps a whole file rather than one rewritten under it.
    static func replace(_ destination: URL, with source: URL) throws {
        let staging = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.copyItem(at: source, to: staging)
        guard rename(staging.path, destination.path) == 0 else {
            let cause = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: staging)
            throw PluginError("cannot move \(staging.path) to \(destination.path): \(cause)")
        }
    }
}

/// A failure the plugin reports as its error message.
struct PluginError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
