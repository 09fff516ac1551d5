import CHiredis
import CoroutineCore
import DescriptorScenarios
import Foundation
import Testing

extension SharedRuntimeTests {
    /// hiredis, an unmodified C client, doing blocking network I/O in tasks: the hook library
    /// makes its socket, connect, poll, read and write calls suspend only the calling task.
    @Suite(.enabled(if: RedisServer.executable != nil, "redis-server is not installed (make test installs it)"))
    struct HiredisTests {
        @Test func fiveHundredBlockingRoundTripsOverlap() throws {
            let server = try RedisServer()
            defer { server.stop() }
            let port = server.port
            try withSharedRuntime { runtime in
                let start = ContinuousClock.now
                let deadline = start + .seconds(10)
                // Each BLPOP waits 0.2 s in the server for a list nobody pushes to, then returns
                // nil: on 2 threads, 500 of them take 50 s one after another and 0.2 s at once.
                let handles = try (0..<500).map { i in
                    try runtime.spawn { () throws -> [RedisReply] in
                        let redis = try RedisConnection(port: port)
                        return [
                            try redis.command("SET", "oc:value:\(i)", "value \(i)"),
                            try redis.command("GET", "oc:value:\(i)"),
                            try redis.command("BLPOP", "oc:key:\(i)", "0.2"),
                        ]
                    }
                }
                for (i, handle) in handles.enumerated() {
                    let replies = try handle.join(timeout: max(deadline - .now, .zero))
                    #expect(replies == [.status("OK"), .string("value \(i)"), .null])
                }
                let elapsed = ContinuousClock.now - start
                #expect(elapsed < .milliseconds(1500), "500 overlapping 0.2 s BLPOPs took \(elapsed)")
            }
        }

        @Test func rpushFromAnotherTaskWakesBLPOP() throws {
            let server = try RedisServer()
            defer { server.stop() }
            let port = server.port
            try withSharedRuntime { runtime in
                let start = ContinuousClock.now
                let deadline = start + .seconds(10)
                // More waiters than threads: blocked in the kernel, they would hold both threads
                // and the pushers would run only after the 10 s BLPOP timeouts, too late.
                let waiters = try (0..<50).map { i in
                    try runtime.spawn { () throws -> RedisReply in
                        try RedisConnection(port: port).command("BLPOP", "oc:wake:\(i)", "10")
                    }
                }
                let pushers = try (0..<50).map { i in
                    try runtime.spawn { () throws -> RedisReply in
                        // usleep suspends only this task: the waiters reach their BLPOP first.
                        usleep(100_000)
                        let redis = try RedisConnection(port: port)
                        return try redis.command("RPUSH", "oc:wake:\(i)", "pushed \(i)")
                    }
                }
                for pusher in pushers {
                    #expect(try pusher.join(timeout: max(deadline - .now, .zero)) == .integer(1))
                }
                for (i, waiter) in waiters.enumerated() {
                    let reply = try waiter.join(timeout: max(deadline - .now, .zero))
                    #expect(reply == .array([.string("oc:wake:\(i)"), .string("pushed \(i)")]))
                }
                let elapsed = ContinuousClock.now - start
                #expect(elapsed < .seconds(2), "50 BLPOPs woken by RPUSHes after 0.1 s took \(elapsed)")
            }
        }
    }
}

/// A reply of the Redis protocol, decoded from hiredis's `redisReply`.
enum RedisReply: Equatable, Sendable {
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
        case REDIS_REPLY_ARRAY: self = .array((0..<reply.elements).map { RedisReply(reply.element[$0]!.pointee) })
        default: self = .null
        }
    }
}

/// What hiredis reported: a failed connection or command.
struct RedisError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking hiredis connection to 127.0.0.1, closed when released.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects to `port`; connecting and every later read and write give up after 10 s, so a
    /// server that stops answering fails the test instead of hanging it.
    init(port: UInt16) throws {
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

    /// Sends one command and waits for its reply. redisCommandArgv rather than redisCommand,
    /// whose C variadic arguments Swift cannot pass.
    func command(_ arguments: String...) throws -> RedisReply {
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
final class RedisServer {
    /// The redis-server on the PATH, or nil.
    static let executable: URL? = ProcessInfo.processInfo.environment["PATH", default: "/usr/bin"]
        .split(separator: ":")
        .map { URL(fileURLWithPath: String($0)).appendingPathComponent("redis-server") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    let port: UInt16
    private let process = Process()
    private let output = Pipe()

    /// Starts the server and waits until it answers PING.
    init() throws {
        let executable = try #require(Self.executable)
        port = try freeLoopbackPort()
        // Under timeout(1): a server left behind by a test process that crashed still exits.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "120", executable.path, "--port", "\(port)", "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        ]
        process.standardOutput = output
        process.standardError = output
        try runWithSignalsUnblocked(process)
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
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}


/// A TCP port of 127.0.0.1 that was free a moment ago: the kernel picks it for a socket
/// bound to port 0, which is then closed.
private func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw RedisError(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    return UInt16(bigEndian: try bindToLoopback(fd).sin_port)
}
