import CHiredis
import ExampleSupport
import Foundation

/// A reply of the Redis protocol, decoded from hiredis's `redisReply`.
public enum RedisReply: Equatable, Sendable {
    case status(String)
    case error(String)
    case integer(Int64)
    case string(String)
    case null
    case array([RedisReply])

    init(_ reply: redisReply) {
        func text() -> String {
            String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STATUS: self = .status(text())
        case REDIS_REPLY_ERROR: self = .error(text())
        case REDIS_REPLY_INTEGER: self = .integer(reply.integer)
        case REDIS_REPLY_STRING: self = .string(text())
        case REDIS_REPLY_ARRAY: self = .array((0..<reply.elements).map { reply.element[$0].map { RedisReply($0.pointee) } ?? .null })
        default: self = .null
        }
    }
}

/// What went wrong with Redis: a failed connection or command, or a wrong reply.
public struct RedisError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

/// A blocking hiredis connection to 127.0.0.1, closed when released.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects to `port`; connecting and every later read and write give up after 10 s, so a
    /// server that stops answering fails the caller instead of hanging it.
    public init(port: UInt16) throws {
        let limit = timeval(tv_sec: 10, tv_usec: 0)
        guard let context = redisConnectWithTimeout("127.0.0.1", Int32(port), limit) else {
            throw RedisError(description: "redisConnectWithTimeout could not allocate a context")
        }
        self.context = context
        guard context.pointee.err == 0, redisSetTimeout(context, limit) == REDIS_OK else {
            throw RedisError(description: "connecting to port \(port): \(errorText)")
        }
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command and waits for its reply.
    public func command(_ arguments: String...) throws -> RedisReply {
        try command(arguments)
    }

    /// Sends one command and waits for its reply. redisCommandArgv rather than redisCommand,
    /// whose C variadic arguments Swift cannot pass.
    public func command(_ arguments: [String]) throws -> RedisReply {
        let copies = arguments.map { UnsafePointer(strdup($0)) }
        defer { copies.forEach { free(UnsafeMutableRawPointer(mutating: $0)) } }
        let lengths = arguments.map { $0.utf8.count }
        var argv = copies
        guard let reply = redisCommandArgv(context, Int32(arguments.count), &argv, lengths) else {
            throw RedisError(description: "\(arguments.joined(separator: " ")): \(errorText)")
        }
        defer { freeReplyObject(reply) }
        return RedisReply(reply.assumingMemoryBound(to: redisReply.self).pointee)
    }

    private var errorText: String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// A redis-server of its own on a free port of 127.0.0.1, without persistence, stopped by
/// `stop()`.
public final class RedisServer {
    /// The redis-server on the PATH, or nil.
    public static let executable: URL? = ProcessInfo.processInfo.environment["PATH", default: "/usr/bin"]
        .split(separator: ":")
        .map { URL(fileURLWithPath: String($0)).appendingPathComponent("redis-server") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    public let port: UInt16
    private let process = Process()
    private let output = Pipe()

    /// Starts the server and waits until it answers PING.
    ///
    /// `start` launches the prepared process: `Process.run`, unless the caller's thread blocks
    /// the SIGTERM that `stop()` sends (a child inherits the mask) and must unblock it first.
    public init(start: (Process) throws -> Void = { try $0.run() }) throws {
        guard let executable = Self.executable else {
            throw RedisError(description: "redis-server is not on the PATH (make test installs it)")
        }
        // The kernel picks a port that is free now; the server binds it a moment later.
        let probe = try listenOnLoopback()
        close(probe.fd)
        port = probe.port
        // Under timeout(1): a server left behind by a process that crashed still exits.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "120", executable.path, "--port", "\(port)", "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        ]
        process.standardOutput = output
        process.standardError = output
        try start(process)
        let deadline = ContinuousClock.now + .seconds(10)
        while (try? RedisConnection(port: port).command("PING")) != .status("PONG") {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw RedisError(description: "redis-server on port \(port) did not answer PING: \(log)")
            }
            usleep(20_000)
        }
    }

    /// Stops the server (timeout(1) passes the SIGTERM on) and waits for it to exit.
    public func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
