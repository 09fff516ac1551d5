import CoroutineCore
import Foundation
import HiredisSupport
import Testing

extension SharedRuntimeTests {
    /// hiredis, an unmodified C client, doing blocking network I/O in tasks: the hook library
    /// makes its socket, connect, poll, read and write calls suspend only the calling task.
    @Suite(.enabled(if: RedisServer.executable != nil, "redis-server is not installed (make test installs it)"))
    struct HiredisTests {
        @Test func fiveHundredBlockingRoundTripsOverlap() throws {
            let server = try RedisServer(start: runWithSignalsUnblocked)
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
            let server = try RedisServer(start: runWithSignalsUnblocked)
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
