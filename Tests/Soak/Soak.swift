import CoroutineCore
import ExampleSupport
import Foundation
import OpenCoroutine

/// What a soak run was asked for.
struct SoakSettings {
    let seconds: Int
    let warmup: Int
    let connections: Int
    let seed: Int

    /// The same settings on the client's command line.
    func clientArguments(port: UInt16) -> [String] {
        [
            "client", "\(port)", "--seconds", "\(seconds)", "--warmup", "\(warmup)",
            "--connections", "\(connections)", "--seed", "\(seed)",
        ]
    }
}

/// Runs the server, the client in a child process against it, and prints the figures;
/// returns whether nothing was lost and nothing failed.
func runSoak(_ settings: SoakSettings) throws -> Bool {
    try OpenFileLimit.raise(toAtLeast: settings.connections + 256)
    let figures = try withCoroutines(Config(stopTimeout: .seconds(5))) { () throws -> [(String, String)] in
        let server = try SoakServer()
        progress("server on 127.0.0.1:\(server.port); \(settings.connections) connections for \(settings.seconds) s "
            + "(warm-up \(settings.warmup) s), seed \(settings.seed)")
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        client.arguments = settings.clientArguments(port: server.port)
        let output = Pipe()
        client.standardOutput = output
        try client.run()

        // The client's phase marks say when to sample the server's memory: after the warm-up
        // and at the end of the load, both with every connection open and busy.
        var reported: [String: String] = [:]
        var warmRSS = 0.0
        var endRSS = 0.0
        forEachLine(of: output.fileHandleForReading) { line in
            switch line {
            // Beside the client's progress line, so that a growth shows when it happened.
            case "tick": progress(String(format: "server RSS %.1f MiB", residentMegabytes()))
            case "warmed": warmRSS = residentMegabytes()
            case "loaded": endRSS = residentMegabytes()
            default:
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { reported[parts[0]] = parts[1] }
            }
        }
        client.waitUntilExit()
        server.stop(grace: .seconds(10))

        var errors = server.errors
        // A client with stuck connections prints its figures and then exits with status 1;
        // one that printed none failed before the end.
        guard let sent = reported["sent"].flatMap(Int.init), let clientErrors = reported["errors"].flatMap(Int.init) else {
            progress("the client exited with status \(client.terminationStatus) before reporting")
            return [("soak_errors", "\(errors + 1)")]
        }
        errors += clientErrors
        if server.bytes != sent {
            progress("the server echoed \(server.bytes) bytes; the client sent \(sent)")
            errors += 1
        }
        return [
            ("soak_connects", reported["connects"] ?? ""),
            ("soak_half_closes", reported["half_closes"] ?? ""),
            ("soak_messages", reported["messages"] ?? ""),
            ("soak_bytes", reported["bytes"] ?? ""),
            ("soak_bytes_lost", reported["bytes_lost"] ?? ""),
            ("soak_errors", "\(errors)"),
            ("soak_rss_mb", String(format: "%.1f", endRSS)),
            ("soak_rss_growth_mb", String(format: "%.1f", endRSS - warmRSS)),
            ("soak_p99_ms", reported["p99_ms"] ?? ""),
        ]
    }
    let lines = [
        ("soak_seconds", "\(settings.seconds)"), ("soak_warmup_seconds", "\(settings.warmup)"),
        ("soak_seed", "\(settings.seed)"), ("soak_connections", "\(settings.connections)"),
    ] + figures
    for (name, value) in lines { print("\(name)=\(value)") }
    let failures = ["soak_bytes_lost", "soak_errors"].map { name in lines.first { $0.0 == name }?.1 ?? "" }
    // A figure that is missing (the client died before reporting) is a failure too.
    return failures.allSatisfy { $0 == "0" }
}

/// Calls `body` with each line `handle` delivers, as soon as the line is complete, until the
/// end of the stream.
private func forEachLine(of handle: FileHandle, _ body: (String) -> Void) {
    var pending = Data()
    while case let data = handle.availableData, !data.isEmpty {
        pending.append(data)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            body(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
    }
}
